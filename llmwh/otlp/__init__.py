"""OTLP/JSON in: the mapping to the exporter's rows (mapping), reading files
(files), converting work units (rows) and the file loader (loader)."""
