-- Every model_pattern and model_exclude_pattern of both price seeds is a
-- usable matcher for match(key, pattern): it compiles (re2 rejects a broken
-- pattern and the test errors), starts with ^ and ends with $ with no
-- top-level | (alternatives sit inside a group), is lower-case, escapes
-- every literal dot outside a [...] class (a bare . matches any character:
-- gpt-4.1 would match gpt-401; the only bare dots allowed are `.*` runs,
-- which starts-with / contains clauses need), and does not match the empty
-- string.
with

prices as (

    select
        'model_prices' as seed,
        provider,
        model_pattern,
        model_exclude_pattern,
        valid_from
    from {{ ref('model_prices') }}
    union all
    select
        'model_price_overrides' as seed,
        provider,
        model_pattern,
        model_exclude_pattern,
        valid_from
    from {{ ref('model_price_overrides') }}

),

all_patterns as (

    select
        seed,
        provider,
        valid_from,
        model_pattern as pattern
    from prices
    union all
    select
        seed,
        provider,
        valid_from,
        model_exclude_pattern as pattern
    from prices
    where model_exclude_pattern is not null

),

patterns as (

    select
        seed,
        provider,
        pattern,
        valid_from,
        -- The pattern with its (...) groups removed, innermost first (5 levels).
        replaceRegexpAll(
            replaceRegexpAll(
                replaceRegexpAll(
                    replaceRegexpAll(
                        replaceRegexpAll(pattern, '\\([^()]*\\)', ''),
                        '\\([^()]*\\)', ''
                    ),
                    '\\([^()]*\\)', ''
                ),
                '\\([^()]*\\)', ''
            ),
            '\\([^()]*\\)', ''
        ) as top_level,
        -- The pattern without its [...] character classes (where a dot is
        -- literal), its escaped characters and its `.*` runs.
        replaceRegexpAll(
            replaceRegexpAll(replaceRegexpAll(pattern, '\\[[^\\]]*\\]', ''), '\\\\.', ''),
            '\\.\\*', ''
        ) as outside_classes
    from all_patterns

)

select
    seed,
    provider,
    pattern,
    valid_from,
    top_level,
    outside_classes
from patterns
where
    not startsWith(pattern, '^')
    or not endsWith(pattern, '$')
    or match(top_level, '[|()]')
    or pattern != lower(pattern)
    or position(outside_classes, '.') > 0
    or match('', pattern)
