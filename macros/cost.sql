{#- USD cost of one call from disjoint token buckets. Semconv counts are
    inclusive (input includes cache reads and writes, output includes
    reasoning), so each bucket is priced once:
      (input - cache_read - cache_write) * input_rate
      + cache_read * cached_input_rate + cache_write * cache_write_rate
      + (output - reasoning) * output_rate + reasoning * reasoning_rate
      + request_rate / 1000
    Rates are USD per 1M tokens; request_rate is USD per 1,000 requests (a
    per-call fee, e.g. Perplexity's sonar models). A missing bucket count is
    0; a missing cached/cache-write rate falls back to the input rate, a
    missing reasoning rate to the output rate (the provider bills them as
    such) and a missing request rate is no fee. NULL when neither input nor
    output usage is known. -#}
{% macro llm_cost_usd(
    input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
    input_rate, cached_input_rate, cache_write_rate, output_rate, reasoning_rate, request_rate='null'
) -%}
    if(
        {{ input_tokens }} is null and {{ output_tokens }} is null,
        null,
        (
            greatest(
                coalesce({{ input_tokens }}, 0)
                - coalesce({{ cache_read_tokens }}, 0)
                - coalesce({{ cache_write_tokens }}, 0),
                0
            ) * {{ input_rate }}
            + coalesce({{ cache_read_tokens }}, 0) * coalesce({{ cached_input_rate }}, {{ input_rate }})
            + coalesce({{ cache_write_tokens }}, 0) * coalesce({{ cache_write_rate }}, {{ input_rate }})
            + greatest(coalesce({{ output_tokens }}, 0) - coalesce({{ reasoning_tokens }}, 0), 0)
            * {{ output_rate }}
            + coalesce({{ reasoning_tokens }}, 0) * coalesce({{ reasoning_rate }}, {{ output_rate }})
        ) / 1e6
        + coalesce({{ request_rate }}, 0) / 1e3
    )
{%- endmacro %}


{#- Reconciliation verdict of an observed token count against a counterpart. -#}
{% macro reconciliation_status(observed, counterpart, has_counterpart) -%}
    multiIf(
        not {{ has_counterpart }}, 'no_counterpart',
        {{ observed }} is null, 'missing_usage',
        {{ counterpart }} is null, 'no_counterpart',
        {{ observed }} = {{ counterpart }}, 'match',
        abs({{ observed }} - {{ counterpart }})
            <= {{ var('reconciliation_tolerance') }} * greatest(abs({{ counterpart }}), 1), 'within_tolerance',
        'mismatch'
    )
{%- endmacro %}


{#- One verdict for a pair of comparisons (input and output tokens): the
    most telling of the two, in this order. -#}
{% macro combined_reconciliation_status(observed_in, counterpart_in, observed_out, counterpart_out, has_counterpart) -%}
    arrayFirst(
        s -> has([
            {{ reconciliation_status(observed_in, counterpart_in, has_counterpart) }},
            {{ reconciliation_status(observed_out, counterpart_out, has_counterpart) }}
        ], s),
        ['no_counterpart', 'missing_usage', 'mismatch', 'within_tolerance', 'match']
    )
{%- endmacro %}


{#- Aggregates over fct_llm_calls rows (`calls`) that reconciliation needs:
    tokens the spans themselves reported, and whether any successful call
    lacked span usage (its group's span total is then partial). -#}
{% macro span_usage_rollup() -%}
    sumIf(calls.input_tokens, calls.usage_source = 'span') as span_input_tokens,
    sumIf(calls.output_tokens, calls.usage_source = 'span') as span_output_tokens,
    countIf(calls.usage_source = 'span') as calls_with_span_usage,
    countIf(calls.usage_source != 'span' and not calls.is_error) as calls_missing_span_usage
{%- endmacro %}


{#- A span_usage_rollup() total, or NULL when it is partial or empty. -#}
{% macro complete_span_usage(rollup, column) -%}
    if(
        coalesce({{ rollup }}.calls_with_span_usage, 0) = 0 or {{ rollup }}.calls_missing_span_usage > 0,
        null,
        {{ rollup }}.{{ column }}
    )
{%- endmacro %}


{#- Completeness of a rollup over fct_llm_calls rows (`calls`): successful
    calls whose usage is unknown, and whether every successful call has a cost
    (failed calls rarely carry usage and are left out of both). -#}
{% macro completeness_rollup() -%}
    countIf(calls.usage_source = 'none' and not calls.is_error) as calls_without_usage,
    countIf(not calls.is_priced and not calls.is_error) = 0 as cost_complete
{%- endmacro %}
