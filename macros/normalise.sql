{#- Canonical provider names (OTel gen_ai.provider.name values) from the
    spellings instrumentations send: old semconv, OpenLLMetry's capitalised
    vendor names, LiteLLM slugs. Input is expected lower-cased. -#}
{% macro normalise_provider(expr) -%}
    multiIf(
        {{ expr }} in ('az.ai.openai', 'azure', 'azure_openai', 'azure.openai'), 'azure.ai.openai',
        {{ expr }} = 'az.ai.inference', 'azure.ai.inference',
        {{ expr }} in ('bedrock', 'aws', 'aws_bedrock', 'bedrock_converse'), 'aws.bedrock',
        {{ expr }} in ('vertex_ai', 'vertexai', 'vertex_ai_beta', 'vertex'), 'gcp.vertex_ai',
        {{ expr }} in ('gemini', 'google_ai_studio'), 'gcp.gemini',
        {{ expr }} = 'google', 'gcp.gen_ai',
        {{ expr }} in ('mistralai', 'mistral'), 'mistral_ai',
        {{ expr }} = 'xai', 'x_ai',
        {{ expr }} = 'watsonx', 'ibm.watsonx.ai',
        {{ expr }} = 'moonshot', 'moonshot_ai',
        {{ expr }}
    )
{%- endmacro %}


{#- Canonical operation names (gen_ai.operation.name values) from LiteLLM,
    OpenLLMetry (llm.request.type, traceloop.span.kind) and OpenInference
    span kinds; NULL stays NULL. `completion` is a chat call for LiteLLM but
    a text completion for OpenLLMetry, hence the instrumentation argument. -#}
{% macro normalise_operation(expr, instrumentation) -%}
    multiIf(
        {{ expr }} in ('acompletion', 'responses', 'aresponses', 'LLM', 'chat'), 'chat',
        {{ expr }} = 'completion' and {{ instrumentation }} = 'litellm', 'chat',
        {{ expr }} = 'completion', 'text_completion',
        {{ expr }} in ('embedding', 'aembedding', 'EMBEDDING', 'embeddings'), 'embeddings',
        {{ expr }} in ('TOOL', 'tool', 'execute_tool'), 'execute_tool',
        {{ expr }} in ('AGENT', 'agent', 'invoke_agent'), 'invoke_agent',
        {{ expr }} in ('RETRIEVER', 'retrieval'), 'retrieval',
        {{ expr }} in ('CHAIN', 'workflow', 'task', 'invoke_workflow'), 'invoke_workflow',
        {{ expr }}
    )
{%- endmacro %}


{#- One spelling per finish reason across providers. -#}
{% macro normalise_finish_reason(expr) -%}
    multiIf(
        lower({{ expr }}) in ('tool_calls', 'tool_call', 'tool_use', 'function_call'), 'tool_call',
        lower({{ expr }}) in ('end_turn', 'stop', 'stop_sequence', 'complete'), 'stop',
        lower({{ expr }}) in ('max_tokens', 'length', 'max_output_tokens'), 'length',
        lower({{ expr }})
    )
{%- endmacro %}


{#- Operations whose spans are model inference calls (what is priced). -#}
{% macro inference_operations() -%}
    ('chat', 'text_completion', 'generate_content', 'embeddings')
{%- endmacro %}


{#- Which instrumentation emitted a span, from its scope and attribute names. -#}
{% macro instrumentation_of(scope_name, attributes) -%}
    multiIf(
        startsWith({{ scope_name }}, 'openinference'), 'openinference',
        {{ scope_name }} = 'litellm' or mapContains({{ attributes }}, 'metadata.user_api_key_alias'), 'litellm',
        startsWith({{ scope_name }}, 'traceloop')
            or mapContains({{ attributes }}, 'llm.request.type')
            or mapContains({{ attributes }}, 'traceloop.span.kind'), 'openllmetry',
        mapContains({{ attributes }}, 'mcp.method.name'), 'mcp',
        startsWith({{ scope_name }}, 'opentelemetry.instrumentation.'), 'otel_genai',
        startsWith({{ scope_name }}, 'ai'), 'vercel_ai',
        nullIf({{ scope_name }}, '')
    )
{%- endmacro %}


{#- The model family used to line up spans, metrics and billing exports:
    lower-cased, gateway prefix (openai/, bedrock/ ...) and dated snapshot
    suffix (-2024-08-06, -20250929) removed. -#}
{% macro canonical_model(expr) -%}
    nullIf(
        replaceRegexpOne(
            replaceRegexpOne(lower({{ expr }}), '^[a-z0-9_.-]+/', ''),
            '-(\\d{4}-\\d{2}-\\d{2}|\\d{8})$',
            ''
        ),
        ''
    )
{%- endmacro %}


{#- The model id a price pattern is also tried on when the id as sent
    (lower-cased) matches none: without a Vertex resource path
    (`projects/.../publishers/anthropic/models/`, `models/`) and without one
    route prefix (`bedrock/`, `openai/`, `vertex_ai/` ...), which gateways
    and SDKs put before the provider's own id. -#}
{% macro price_model_key(expr) -%}
    replaceRegexpOne(
        replaceRegexpOne({{ expr }}, '^(projects/[^/]+/locations/[^/]+/)?(publishers/[^/]+/)?models/', ''),
        '^[a-z0-9_.-]+/',
        ''
    )
{%- endmacro %}


{#- A model id with a compact date (-20251211, as LiteLLM and OpenRouter
    write snapshots) in the dashed form the catalogue lists (-2025-12-11). -#}
{% macro dashed_date_model_key(expr) -%}
    replaceRegexpOne(
        {{ expr }},
        '-(20\\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\\d|3[01])(-|:|$)',
        '-\\1-\\2-\\3\\4'
    )
{%- endmacro %}
