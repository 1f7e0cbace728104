-- Every model_pattern is a usable matcher for match(lower(model), pattern):
-- it compiles (re2 rejects a broken pattern and the test errors), starts with
-- ^ and ends with $ with no top-level | (alternatives sit inside a group),
-- is lower-case, escapes every literal dot outside a [...] class (a bare .
-- matches any character: gpt-4.1 would match gpt-401), and does not match
-- the empty string.
with

prices as (

    select * from {{ ref('model_prices') }}

),

patterns as (

    select
        provider,
        model_pattern,
        valid_from,
        -- The pattern with its (...) groups removed, innermost first (5 levels).
        replaceRegexpAll(
            replaceRegexpAll(
                replaceRegexpAll(
                    replaceRegexpAll(
                        replaceRegexpAll(model_pattern, '\\([^()]*\\)', ''),
                        '\\([^()]*\\)', ''
                    ),
                    '\\([^()]*\\)', ''
                ),
                '\\([^()]*\\)', ''
            ),
            '\\([^()]*\\)', ''
        ) as top_level,
        -- The pattern without its [...] character classes, where a dot is literal.
        replaceRegexpAll(model_pattern, '\\[[^\\]]*\\]', '') as outside_classes
    from prices

)

select
    provider,
    model_pattern,
    valid_from,
    top_level,
    outside_classes
from patterns
where
    not startsWith(model_pattern, '^')
    or not endsWith(model_pattern, '$')
    or match(top_level, '[|()]')
    or model_pattern != lower(model_pattern)
    or match(outside_classes, '(^|[^\\\\])\\.')
    or match('', model_pattern)
