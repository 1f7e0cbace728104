"""Run every Grafana panel query (and, with --cookbook, every queries/*.sql) on a
warehouse, the way Grafana and `llmwh sql` would, and report rows and latency.

    python -m dashboards.run_queries                      # the last 7 days, defaults, median of 5 runs
    python -m dashboards.run_queries --repeat 1 --json    # one JSON object per query (used by the tests)
    python -m dashboards.run_queries --cookbook queries   # the analyst cookbook too

The warehouse is the `llm_otel` profile's target (LLMWH_TARGET, LLMWH_PATH,
DBT_PROFILES_DIR), as for `llmwh sql`. Panel SQL is expanded by
dashboards.plugin_macros. Three passes:

- `default`: the dashboards as they open (All selected, text boxes empty);
- `selected`: each filter variable set to the option with the most rows,
  to exercise the non-All branch of `$__conditionalAll`;
- `link`: for each panel data link that sets variables (`var-x=${__data.fields.y}`),
  the variables taken from the first row of the panel that carries the link,
  and the dashboard's panels run again with them.
"""

import argparse
import json
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from dashboards import plugin_macros
from dashboards.plugin_macros import ALL, Variable

ROOT = Path(__file__).resolve().parents[1]
JSON_DIR = ROOT / 'dashboards' / 'grafana' / 'json'


def load_dashboards(json_dir: Path = JSON_DIR) -> list:
    return [json.loads(p.read_text()) for p in sorted(json_dir.glob('*.json'))]


def panels(dashboard: dict):
    """Every panel with targets, rows' children included."""
    for panel in dashboard.get('panels', []):
        if panel.get('type') == 'row':
            yield from (p for p in panel.get('panels', []) if p.get('targets'))
        elif panel.get('targets'):
            yield panel


def panel_queries(dashboard: dict):
    """(panel, target) for every query target of the dashboard."""
    for panel in panels(dashboard):
        for target in panel['targets']:
            yield panel, target


def variable_models(dashboard: dict) -> list:
    return dashboard.get('templating', {}).get('list', [])


def data_links(panel: dict) -> list:
    """(column, url) of the panel's per-column data links."""
    out = []
    for override in panel.get('fieldConfig', {}).get('overrides', []):
        for prop in override.get('properties', []):
            if prop.get('id') == 'links':
                out += [(override['matcher']['options'], link['url']) for link in prop['value']]
    return out


class Runner:
    def __init__(self, wh, time_from: datetime, time_to: datetime, repeat: int = 1):
        self.wh, self.time_from, self.time_to, self.repeat = wh, time_from, time_to, repeat

    def run(self, sql: str) -> dict:
        """Run like `llmwh sql -f json`: rows, columns, latency."""
        from llmwh.warehouse.query import run_sql

        timings, out = [], b''
        for _ in range(self.repeat):
            started = time.perf_counter()
            out = run_sql(self.wh, sql, 'json')
            timings.append((time.perf_counter() - started) * 1000)
        rows = [json.loads(line) for line in out.decode().splitlines() if line.strip()]
        return {'rows': len(rows), 'first_row': rows[0] if rows else None,
                'non_null_values': sum(v is not None for r in rows for v in r.values()),
                'median_ms': round(statistics.median(timings), 2), 'result': rows}

    def expand(self, sql: str, variables: dict, min_interval: str = '') -> str:
        interval = plugin_macros.interval_ms(self.time_from, self.time_to, min_interval=min_interval)
        return plugin_macros.expand(sql, variables, self.time_from, self.time_to, interval)

    def resolve_variables(self, dashboard: dict, chosen: dict = None) -> dict:
        """Variables as the dashboard opens, with `chosen` values (name -> value) set, options queried."""
        chosen = chosen or {}
        variables = {}
        for model in variable_models(dashboard):
            name, kind = model['name'], model['type']
            if kind == 'query':
                var = Variable(name, value=[ALL])
                variables[name] = var      # later variables' queries may refer to it
                result = self.run(self.expand(model['query'], variables))
                var.options = [str(next(iter(r.values()))) for r in result['result']]
                if name in chosen:
                    var.value = chosen[name]
            elif kind == 'textbox':
                variables[name] = Variable(name, value=chosen.get(name, model.get('query', '')))
            elif kind == 'datasource':
                continue
            else:
                raise ValueError(f'{dashboard["uid"]}: variable type {kind} is not handled here')
        return variables

    def run_dashboard(self, dashboard: dict, variables: dict, pass_name: str) -> list:
        results = []
        for panel, target in panel_queries(dashboard):
            sql = self.expand(target['rawSql'], variables, panel.get('interval', ''))
            record = {'pass': pass_name, 'dashboard': dashboard['uid'], 'panel': panel['title'],
                      'ref_id': target['refId'], 'sql': sql,
                      'variables': {k: v.value for k, v in variables.items()}}
            try:
                record.update(self.run(sql))
            except Exception as ex:     # reported, not raised: one bad panel must not hide the others
                record.update(error=str(ex), rows=0)
            results.append(record)
        return results


def selected_values(runner: Runner, dashboard: dict) -> dict:
    """The filter variables set to the (provider, model, service) with the most calls: a non-All selection."""
    top = runner.run(f"SELECT coalesce(provider, '') AS provider, coalesce(model_family, '') AS model, "
                     f"service_name AS service, count() AS n FROM llm.fct_llm_calls "
                     f"WHERE started_at >= {plugin_macros.date_time(runner.time_from)} "
                     f"GROUP BY provider, model, service ORDER BY n DESC, provider, model, service LIMIT 1")
    names = {v['name'] for v in variable_models(dashboard)}
    row = top['first_row'] or {}
    return {name: [row[name]] for name in ('provider', 'model', 'service') if name in names and name in row}


def link_passes(runner: Runner, dashboard: dict, default_results: list) -> list:
    """Follow each variable-setting data link from the first row of its panel."""
    by_panel = {(r['panel']): r for r in default_results if r['dashboard'] == dashboard['uid']}
    results = []
    for panel in panels(dashboard):
        first = (by_panel.get(panel['title']) or {}).get('first_row')
        for column, url in data_links(panel):
            parts = urlsplit(url)
            if f'/d/{dashboard["uid"]}/' not in parts.path or not first:
                continue        # links to other dashboards are followed from there
            chosen = {}
            for key, value in parse_qsl(parts.query):
                if key.startswith('var-') and value.startswith('${__data.fields.'):
                    field = value[len('${__data.fields.'):-1]
                    chosen[key[4:]] = '' if first.get(field) is None else str(first[field])
            if not chosen:
                continue
            variables = runner.resolve_variables(dashboard, chosen)
            name = f'link:{panel["title"]}.{column}'
            results += runner.run_dashboard(dashboard, variables, name)
    return results


def cookbook(runner: Runner, directory: Path) -> list:
    results = []
    for path in sorted(directory.glob('*.sql')):
        record = {'pass': 'cookbook', 'dashboard': 'queries', 'panel': path.name, 'ref_id': '',
                  'sql': path.read_text()}
        try:
            record.update(runner.run(record['sql']))
        except Exception as ex:
            record.update(error=str(ex), rows=0)
        results.append(record)
    return results


def run_all(wh, days: int = 7, repeat: int = 1, cookbook_dir: Path = None, now: datetime = None) -> list:
    time_to = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    runner = Runner(wh, time_to - timedelta(days=days), time_to, repeat)
    results = []
    for dashboard in load_dashboards():
        default = runner.run_dashboard(dashboard, runner.resolve_variables(dashboard), 'default')
        results += default
        selected = runner.resolve_variables(dashboard, selected_values(runner, dashboard))
        results += runner.run_dashboard(dashboard, selected, 'selected')
        results += link_passes(runner, dashboard, default)
    if cookbook_dir:
        results += cookbook(runner, cookbook_dir)
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--days', type=int, default=7, help='time range: the last N days (default 7)')
    parser.add_argument('--repeat', type=int, default=5, help='runs per query; the median is reported')
    parser.add_argument('--json', action='store_true', help='one JSON object per query on stdout')
    parser.add_argument('--cookbook', type=Path, help='also run every *.sql in this directory')
    parser.add_argument('--all-passes', action='store_true',
                        help='report the selected and link passes too (default: only with --json)')
    args = parser.parse_args(argv)

    from llmwh.config import load_target
    from llmwh.warehouse import connect

    wh = connect(load_target())
    results = run_all(wh, args.days, args.repeat, args.cookbook)
    if args.json:
        for r in results:
            r.pop('result', None)
            print(json.dumps(r, default=str))
        return 0
    shown = [r for r in results if args.all_passes or r['pass'] in ('default', 'cookbook')]
    width = max(len(f"{r['dashboard']} / {r['panel']}") for r in shown)
    print(f"{'panel':<{width}}  {'median ms':>9}  {'rows':>6}")
    for r in shown:
        label = f"{r['dashboard']} / {r['panel']}"
        if 'error' in r:
            print(f"{label:<{width}}  {'ERROR':>9}  {r['error'][:80]}")
        else:
            print(f"{label:<{width}}  {r['median_ms']:>9.1f}  {r['rows']:>6}")
    failed = [r for r in results if 'error' in r]
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
