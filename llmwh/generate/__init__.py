"""`llmwh generate`: realistic LLM telemetry as OTLP/JSON, produced by the OpenTelemetry SDK.

Modules: catalog (models, services, faults), scenarios (the instrumentation
flavours), sdk_emit (SDK providers and OTLP/JSON encoding), replicate (unit
templates: re-render with new ids and times for scale), manifest (the ground
truth and manifest.json's documentation), billing_exports (provider usage exports),
run (planning, the sweep, writing).
"""

from llmwh.generate.catalog import FAULTS
from llmwh.generate.run import GenerateOptions, generate, parse_faults, units_from

__all__ = ['FAULTS', 'GenerateOptions', 'generate', 'parse_faults', 'units_from']
