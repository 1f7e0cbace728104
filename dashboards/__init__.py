"""Consumers of the marts: Grafana dashboards as code, the plugin's macro
expansion (to run panel queries without Grafana) and the panel/cookbook
query runner. Run from the repository root:

    python -m dashboards.build            # regenerate dashboards/grafana/json/*.json
    python -m dashboards.build --check    # exit 1 if the committed JSON is stale
    python -m dashboards.run_queries      # run every panel query, median latency per panel
"""
