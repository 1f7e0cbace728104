"""OTLP/JSON in: the mapping to the exporter's rows (fast, on protojson's reading rules
and shortcuts' short paths; mapping is the protobuf reference), reading files (files),
converting work units to Arrow batches (rows, batches) and the file loader (loader)."""
