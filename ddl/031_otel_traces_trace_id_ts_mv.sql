{#- Fills the lookup table from every insert into the (local) traces table. -#}
create materialized view if not exists {{ object('otel_traces_trace_id_ts_mv') }} {{ on_cluster }}
to {{ table('otel_traces_trace_id_ts') }}
as
select
    TraceId,
    min(Timestamp) as Start,
    max(Timestamp) as End
from {{ table('otel_traces') }}
where TraceId != ''
group by TraceId
