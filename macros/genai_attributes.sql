{#- Attribute names per canonical field, in coalesce priority order, across
    OTel GenAI semconv versions, OpenLLMetry, OpenInference, LiteLLM,
    Vercel AI SDK and LibreChat's parsed JSON logs. The single source of
    these lists: models call genai_attr / genai_attr_int, never a literal list. -#}
{% macro genai_attribute_keys() %}
    {{ return({
        'provider': [
            'gen_ai.provider.name', 'gen_ai.system', 'llm.provider', 'llm.system',
            'error.llm_provider',
        ],
        'operation': [
            'gen_ai.operation.name', 'llm.request.type', 'openinference.span.kind',
            'traceloop.span.kind',
        ],
        'request_model': [
            'gen_ai.request.model', 'llm.request.model_name', 'llm.model_name',
            'embedding.model_name', 'ai.model.id', 'langfuse.observation.model.name', 'model',
        ],
        'response_model': [
            'gen_ai.response.model', 'llm.response.model_name', 'llm.model_name',
            'ai.response.model', 'langfuse.observation.model.name',
        ],
        'input_tokens': [
            'gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens', 'llm.token_count.prompt',
            'ai.usage.inputTokens', 'ai.usage.promptTokens', 'promptTokens',
        ],
        'output_tokens': [
            'gen_ai.usage.output_tokens', 'gen_ai.usage.completion_tokens',
            'llm.token_count.completion', 'ai.usage.outputTokens', 'ai.usage.completionTokens',
            'completionTokens',
        ],
        'cache_read_tokens': [
            'gen_ai.usage.cache_read.input_tokens', 'gen_ai.usage.cache_read_input_tokens',
            'llm.token_count.prompt_details.cache_read', 'ai.usage.cachedInputTokens',
        ],
        'cache_write_tokens': [
            'gen_ai.usage.cache_write.input_tokens', 'gen_ai.usage.cache_creation.input_tokens',
            'gen_ai.usage.cache_creation_input_tokens',
            'llm.token_count.prompt_details.cache_write',
        ],
        'reasoning_tokens': [
            'gen_ai.usage.reasoning.output_tokens', 'gen_ai.usage.reasoning_tokens',
            'llm.usage.reasoning_tokens', 'llm.token_count.completion_details.reasoning',
            'ai.usage.reasoningTokens',
        ],
        'total_tokens': [
            'gen_ai.usage.total_tokens', 'llm.usage.total_tokens', 'llm.token_count.total',
            'ai.usage.totalTokens', 'ai.usage.tokens', 'tokenCount',
        ],
        'conversation_id': [
            'gen_ai.conversation.id', 'traceloop.association.properties.conversation_id',
            'traceloop.association.properties.chat_id', 'langfuse.session.id', 'session.id',
            'traceloop.association.properties.session_id', 'ai.telemetry.metadata.sessionId',
            'conversationId',
        ],
        'session_id': [
            'session.id', 'langfuse.session.id', 'traceloop.association.properties.session_id',
            'ai.telemetry.metadata.sessionId', 'gen_ai.conversation.id',
        ],
        'user_id': [
            'user.id', 'langfuse.user.id', 'enduser.id',
            'traceloop.association.properties.user_id', 'gen_ai.user', 'llm.user',
            'metadata.user_api_key_end_user_id', 'metadata.user_api_key_user_id',
            'ai.telemetry.metadata.userId', 'userId', 'user',
        ],
        'api_key': ['metadata.user_api_key_alias', 'metadata.user_api_key_hash'],
        'team': ['metadata.user_api_key_team_alias', 'metadata.user_api_key_team_id'],
        'tool_name': ['gen_ai.tool.name', 'tool.name', 'ai.toolCall.name'],
        'finish_reason': [
            'gen_ai.response.finish_reason', 'llm.response.finish_reason',
            'gen_ai.completion.0.finish_reason', 'llm.finish_reason', 'ai.response.finishReason',
        ],
        'error_type': ['error.type', 'error.code', 'rpc.response.status_code'],
        'streaming': ['gen_ai.request.stream', 'gen_ai.is_streaming', 'llm.is_streaming'],
        'ttft_seconds': [
            'gen_ai.response.time_to_first_chunk', 'gen_ai.latency.time_to_first_token',
        ],
        'reported_cost_usd': [
            'gen_ai.cost.total_cost', 'llm.cost.total', 'gen_ai.usage.cost',
        ],
        'evaluation_name': [
            'gen_ai.evaluation.name', 'metadata.evaluator_name', 'eval.name',
        ],
        'evaluation_score': [
            'gen_ai.evaluation.score.value', 'metadata.score', 'eval.score',
        ],
        'evaluation_label': [
            'gen_ai.evaluation.score.label', 'metadata.label', 'eval.label',
        ],
        'evaluation_explanation': [
            'gen_ai.evaluation.explanation', 'metadata.explanation', 'eval.explanation',
        ],
    }) }}
{% endmacro %}


{#- coalesce(nullIf(<map>['k1'], ''), ...) over the keys of one canonical field:
    a missing map key reads as '' in ClickHouse, which must not win the coalesce. -#}
{% macro genai_attr(map_column, field) -%}
    {%- set keys = genai_attribute_keys()[field] -%}
    coalesce(
    {%- for key in keys %}
        nullIf({{ map_column }}['{{ key }}'], ''){{ ',' if not loop.last }}
    {%- endfor %}
    )
{%- endmacro %}


{#- The field as a token count, Nullable(Int64): NULL when absent, never 0. -#}
{% macro genai_attr_int(map_column, field) -%}
    {{ parse_token_count(genai_attr(map_column, field)) }}
{%- endmacro %}


{#- The one parse of a token count from text, Nullable(Int64): the value only
    when the whole text is a non-negative integer below 10^12 (leading zeros
    allowed); NULL for anything else (negative, fractional, non-numeric,
    overflowing, empty, padded), so a bad value never becomes 0, a negative
    count or an error. No call uses 10^12 tokens, and the bound keeps sums of
    millions of calls inside Int64. -#}
{% macro parse_token_count(text) -%}
    if(match({{ text }}, '^0*[0-9]{1,12}$'), toInt64OrNull({{ text }}), null)
{%- endmacro %}


{#- Array(String): the token-count fields whose attribute is present but not
    a valid count, i.e. nulled by genai_attr_int; fct_data_quality_issues
    counts them. -#}
{% macro genai_invalid_int_fields(map_column, fields) -%}
    arrayFilter(f -> f != '', [
    {%- for field in fields %}
        if(
            {{ genai_attr(map_column, field) }} is not null
            and {{ genai_attr_int(map_column, field) }} is null,
            '{{ field }}', ''
        ){{ ',' if not loop.last }}
    {%- endfor %}
    ])
{%- endmacro %}


{#- The field as Nullable(Float64). -#}
{% macro genai_attr_float(map_column, field) -%}
    toFloat64OrNull({{ genai_attr(map_column, field) }})
{%- endmacro %}


{#- Booleans arrive as true/false (OTel), True/False (LiteLLM) or 1/0. -#}
{% macro genai_attr_bool(map_column, field) -%}
    lower({{ genai_attr(map_column, field) }}) in ('true', '1')
{%- endmacro %}


{#- An evaluation score from text, Nullable(Float64): NULL when absent, not a
    number, NaN or infinite, so a bad score never averages in as 0. -#}
{% macro parse_evaluation_score(text) -%}
    if(isFinite(toFloat64OrNull({{ text }})), toFloat64OrNull({{ text }}), null)
{%- endmacro %}


{#- Bool expression: the (label) expression is one of the labels listed under
    `kind` ('pass' or 'hallucinated') in var evaluation_labels, compared in
    lower case; NULL for a NULL label. -#}
{% macro evaluation_label_is(label, kind) -%}
    lower({{ label }}) in (
    {%- for value in var('evaluation_labels')[kind] %}
        '{{ value | lower }}'{{ ',' if not loop.last }}
    {%- endfor %}
    )
{%- endmacro %}
