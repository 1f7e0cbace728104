{{ config(severity='warn') }}

-- Bad values never stop the build: they are nulled or dropped and counted in
-- fct_data_quality_issues. This test warns (never fails) when there are any.
select *
from {{ ref('fct_data_quality_issues') }}
