"""Expand a panel's rawSql the way Grafana and the ClickHouse plugin do, so the
panels can run without Grafana (tests, benchmarks).

A query goes through three steps, in this order:

1. the plugin's frontend replaces `$__conditionalAll(condition, $var)` with
   `1=1` when the variable's current value is All (`$__all`) or empty, else
   with the condition (CHDatasource.applyConditionalAll: scanned from the last
   occurrence backwards, arguments split at the commas of bracket depth 1);
2. Grafana's template service replaces variables: `$var`, `${var}`,
   `${var:format}` and `[[var]]`; multi-value variables with the `singlequote`
   format become `'a','b'` (a `'` inside a value is escaped as `\\'`), and All
   stands for every option of the variable (no custom all value here);
3. the plugin's backend (pkg/macros/macros.go, through sqlds) expands the time
   macros with the query's time range (UTC) and interval:

   | macro | expansion |
   |---|---|
   | `$__timeFilter(c)` | `c >= toDateTime(<from s>) AND c <= toDateTime(<to s>)` |
   | `$__timeFilter_ms(c)` | the same with `fromUnixTimestamp64Milli(<ms>)` |
   | `$__dateFilter(c)` | `c >= toDate('<from day>') AND c <= toDate('<to day>')` |
   | `$__dateTimeFilter(d, t)`, `$__dt(d, t)` | `(<dateFilter on d>) AND (<timeFilter on t>)` |
   | `$__fromTime`, `$__toTime` | `toDateTime(<s>)` |
   | `$__fromTime_ms`, `$__toTime_ms` | `fromUnixTimestamp64Milli(<ms>)` |
   | `$__timeInterval(c)` | `toStartOfInterval(toDateTime(c), INTERVAL <interval s> second)` |
   | `$__timeInterval_ms(c)` | `toStartOfInterval(toDateTime64(c, 3), INTERVAL <interval ms> millisecond)` |
   | `$__interval_s` | `<interval s>` |

The interval is Grafana's: the time range over the panel's max data points,
rounded to a "nice" step, and never below the panel's min interval.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

ALL = '$__all'


@dataclass
class Variable:
    name: str
    value: object = ''          # str, or list of str for multi-value variables
    options: list = field(default_factory=list)   # every value the variable can take (for All)

    def values(self) -> list:
        value = self.value if isinstance(self.value, list) else [self.value]
        if ALL in value:
            return list(self.options)
        return value

    def current_text(self) -> str:
        """JavaScript's `current.value.toString()`: arrays join with ','."""
        return ','.join(self.value) if isinstance(self.value, list) else str(self.value)


# ------------------------------------------------------------------ step 1: $__conditionalAll

CONDITIONAL_ALL = '$__conditionalAll('


def _macro_args(query: str, args_index: int) -> list:
    """CHDatasource.getMacroArgs: the arguments of the call whose '(' is at args_index."""
    args, depth, last_end = [], 0, 1
    sub = query[args_index:]
    for match in re.finditer(r'\(|\)|,', sub):
        token, end = match.group(0), match.end()
        if token == '(':
            depth += 1
        elif token == ')':
            depth -= 1
        if token == ',' and depth == 1:
            args.append(sub[last_end:end - 1])
            last_end = end
        if depth == 0:
            args.append(sub[last_end:end - 1])
            return args
    return []


def apply_conditional_all(sql: str, variables: dict) -> str:
    index = sql.rfind(CONDITIONAL_ALL)
    while index != -1:
        params = _macro_args(sql, index + len(CONDITIONAL_ALL) - 1)
        if len(params) != 2:
            return sql
        phrase = params[0]
        match = re.search(r'(?<=\$\{)\w+(?=\})|(?<=\$)\w+', params[1].strip())
        if match:
            var = variables.get(match.group(0))
            value = var.current_text() if var is not None else None
            if value in ('', ALL):
                phrase = '1=1'
        sql = sql.replace(f'{CONDITIONAL_ALL}{params[0]},{params[1]})', phrase, 1)
        index = sql.rfind(CONDITIONAL_ALL)
    return sql


# ------------------------------------------------------------------ step 2: template variables

def _format(values: list, fmt: str, multi: bool) -> str:
    if fmt == 'singlequote':
        return ','.join("'" + v.replace("'", "\\'") + "'" for v in values)
    if fmt == 'doublequote':
        return ','.join('"' + v.replace('"', '\\"') + '"' for v in values)
    if fmt in ('csv', 'raw', 'text', ''):
        if not multi:
            return values[0] if values else ''
        # The plugin formats a bare multi-value variable as a quoted list.
        return ','.join("'" + v + "'" for v in values) if fmt == '' else ','.join(values)
    raise ValueError(f'variable format {fmt!r} is not implemented here')


VARIABLE = re.compile(r'\$(\w+)|\$\{(\w+)(?::(\w+))?\}|\[\[(\w+)(?::(\w+))?\]\]')


def replace_variables(sql: str, variables: dict) -> str:
    def sub(match):
        name = match.group(1) or match.group(2) or match.group(4)
        fmt = match.group(3) or match.group(5) or ''
        var = variables.get(name)
        if var is None:         # not a dashboard variable: $__macros are left for the backend
            return match.group(0)
        return _format(var.values(), fmt, isinstance(var.value, list))
    return VARIABLE.sub(sub, sql)


# ------------------------------------------------------------------ step 3: backend macros

def date_time(t: datetime) -> str:
    return f'toDateTime({int(t.timestamp())})'


def _dt64(t: datetime) -> str:
    return f'fromUnixTimestamp64Milli({int(t.timestamp() * 1000)})'


def _date(t: datetime) -> str:
    return f"toDate('{t.astimezone(timezone.utc):%Y-%m-%d}')"


def _backend_macros(time_from: datetime, time_to: datetime, interval_ms: int) -> dict:
    seconds = max(interval_ms // 1000, 1)
    millis = max(interval_ms, 1)

    def one(fn):
        def wrapped(args):
            if len(args) != 1:
                raise ValueError(f'expected 1 argument, received {len(args)}')
            return fn(args[0])
        return wrapped

    def date_time_filter(args):
        if len(args) != 2:
            raise ValueError(f'expected 2 arguments, received {len(args)}')
        d, t = args
        return (f'({d} >= {_date(time_from)} AND {d} <= {_date(time_to)}) AND '
                f'({t} >= {date_time(time_from)} AND {t} <= {date_time(time_to)})')

    return {
        'fromTime': lambda args: date_time(time_from),
        'toTime': lambda args: date_time(time_to),
        'fromTime_ms': lambda args: _dt64(time_from),
        'toTime_ms': lambda args: _dt64(time_to),
        'timeFilter': one(lambda c: f'{c} >= {date_time(time_from)} AND {c} <= {date_time(time_to)}'),
        'timeFilter_ms': one(lambda c: f'{c} >= {_dt64(time_from)} AND {c} <= {_dt64(time_to)}'),
        'dateFilter': one(lambda c: f'{c} >= {_date(time_from)} AND {c} <= {_date(time_to)}'),
        'dateTimeFilter': date_time_filter,
        'dt': date_time_filter,
        'timeInterval': one(lambda c: f'toStartOfInterval(toDateTime({c}), INTERVAL {seconds} second)'),
        'timeInterval_ms': one(lambda c: f'toStartOfInterval(toDateTime64({c}, 3), INTERVAL {millis} millisecond)'),
        'interval_s': lambda args: str(seconds),
    }


def _closing_paren(sql: str, open_index: int) -> int:
    depth = 0
    for i in range(open_index, len(sql)):
        if sql[i] == '(':
            depth += 1
        elif sql[i] == ')':
            depth -= 1
            if depth == 0:
                return i
    raise ValueError(f'unbalanced parentheses after position {open_index}')


def expand_backend_macros(sql: str, time_from: datetime, time_to: datetime, interval_ms: int) -> str:
    macros = _backend_macros(time_from, time_to, interval_ms)
    out, pos = [], 0
    for match in re.finditer(r'\$__(\w+)\b', sql):
        if match.start() < pos:
            continue
        name = match.group(1)
        if name not in macros:
            raise ValueError(f'unknown macro $__{name}')
        out.append(sql[pos:match.start()])
        end = match.end()
        args = []
        if end < len(sql) and sql[end] == '(':
            close = _closing_paren(sql, end)
            inner = sql[end + 1:close]
            args = [a.strip() for a in _split_top_level(inner)] if inner.strip() else []
            end = close + 1
        out.append(macros[name](args))
        pos = end
    out.append(sql[pos:])
    return ''.join(out)


def _split_top_level(text: str) -> list:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == '(':
            depth += 1
        elif ch == ')':
            depth -= 1
        elif ch == ',' and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


# ------------------------------------------------------------------ interval

# Grafana's rangeutil.roundInterval: (upper bound ms, interval ms).
_ROUNDING = [
    (15, 10), (35, 20), (75, 50), (150, 100), (350, 200), (750, 500), (1500, 1000), (3500, 2000),
    (7500, 5000), (12500, 10000), (17500, 15000), (25000, 20000), (45000, 30000), (90000, 60000),
    (210000, 120000), (450000, 300000), (1050000, 600000), (2100000, 1200000), (2700000, 1800000),
    (5400000, 3600000), (9000000, 7200000), (16200000, 10800000), (32400000, 21600000),
    (86400000, 43200000), (604800000, 86400000), (1814400000, 604800000), (3628800000, 2592000000),
]

_UNITS = {'ms': 1, 's': 1000, 'm': 60000, 'h': 3600000, 'd': 86400000, 'w': 604800000}


def parse_interval(text: str) -> int:
    match = re.fullmatch(r'(\d+)(ms|s|m|h|d|w)', text.strip())
    if not match:
        raise ValueError(f'cannot parse interval {text!r}')
    return int(match.group(1)) * _UNITS[match.group(2)]


def interval_ms(time_from: datetime, time_to: datetime, max_data_points: int = 1000,
                min_interval: str = '') -> int:
    raw = (time_to - time_from).total_seconds() * 1000 / max(max_data_points, 1)
    nice = next((step for bound, step in _ROUNDING if raw <= bound), 31536000000)
    low = parse_interval(min_interval) if min_interval else 1
    return max(nice, low)


# ------------------------------------------------------------------ all together

def expand(sql: str, variables: dict, time_from: datetime, time_to: datetime,
           interval: int = 60000) -> str:
    """The SQL the plugin sends to ClickHouse for this rawSql, variables and range (interval in ms)."""
    sql = apply_conditional_all(sql, variables)
    sql = replace_variables(sql, variables)
    return expand_backend_macros(sql, time_from, time_to, interval)
