"""The built-in sample telemetry: a small, fixed set of exporter rows (telemetry)
and `llmwh load sample` (loader)."""
