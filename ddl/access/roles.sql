-- Roles for a ClickHouse server running this warehouse (not applied by
-- `llmwh init`, and not for embedded chDB). Review, adjust database names if
-- yours differ from the defaults (otel raw, llm marts, llm_staging and
-- llm_intermediate for dbt), then apply as an admin:
--     clickhouse-client --multiquery < ddl/access/roles.sql
-- Then create users and grant them a role, e.g.
--     create user grafana identified with sha256_password by '...'
--         default role llm_dashboard settings profile 'llm_dashboard_profile';
--     grant llm_dashboard to grafana;

---------- llm_ingest: the collector's ClickHouse exporter and `llmwh load`
create role if not exists llm_ingest;
grant insert, select on otel.* to llm_ingest;
-- `llmwh init` creates the raw tables; drop this grant once they exist.
grant create table, create view on otel.* to llm_ingest;

---------- llm_transform: dbt builds staging, intermediate and marts from the raw tables
create role if not exists llm_transform;
grant select on otel.* to llm_transform;
grant select, insert, alter, create table, create view, drop table, drop view, truncate on llm.* to llm_transform;
grant select, insert, alter, create table, create view, drop table, drop view, truncate on llm_staging.* to llm_transform;
grant select, insert, alter, create table, create view, drop table, drop view, truncate on llm_intermediate.* to llm_transform;
grant create database on *.* to llm_transform;

---------- llm_analyst: reads the marts (public interface) and the raw telemetry
create role if not exists llm_analyst;
grant select on llm.* to llm_analyst;
grant select on otel.* to llm_analyst;

---------- llm_dashboard: Grafana / ClickStack; marts only, bounded queries
create role if not exists llm_dashboard;
grant select on llm.* to llm_dashboard;

create settings profile if not exists llm_dashboard_profile
settings
    readonly = 2,
    max_execution_time = 30,
    max_memory_usage = 4000000000,
    max_result_rows = 1000000,
    max_threads = 4
to llm_dashboard;

create quota if not exists llm_dashboard_quota
for interval 1 hour max queries = 5000, max read_rows = 50000000000, max execution_time = 1800
to llm_dashboard;

---------- row policy example: a team's analysts see only their services' calls.
-- A row policy filters for the roles it names; other roles see no rows of the
-- table unless a policy also grants them (hence the second, permissive policy).
create role if not exists llm_analyst_support;
grant llm_analyst to llm_analyst_support;
create row policy if not exists support_services on llm.fct_llm_calls
for select using service_name in ('support-bot', 'chat-api') to llm_analyst_support;
create row policy if not exists everyone_else on llm.fct_llm_calls
for select using 1 to all except llm_analyst_support;
