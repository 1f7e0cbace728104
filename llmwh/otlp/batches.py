"""Exporter rows -> Arrow record batches, inserted with `FORMAT ArrowStream`.

Arrow rather than JSONEachRow text: building typed columns from the rows costs
a few C calls per column instead of encoding every value as JSON, and the engine
reads Arrow about twice as fast as it parses JSONEachRow (bench/bench_load_otlp.py).
Values are typed as the exporter's Go values are (uint64 durations, int64
nanosecond timestamps, uint32 seconds for the metrics' DateTime columns), and
the engine casts them to the column types as it does for the exporter's inserts.
pyarrow comes with chdb, the embedded engine.
"""

from itertools import chain, repeat
from typing import BinaryIO, List, Tuple

import pyarrow as pa

from llmwh.otlp.fast import HEADS, ROWS, Group

_STR, _TS, _U32, _U64, _F64, _I32 = pa.string(), pa.timestamp('ns'), pa.uint32(), pa.uint64(), pa.float64(), pa.int32()
_MAP = pa.map_(_STR, _STR)
TYPES = {
    'Timestamp': _TS, 'Events.Timestamp': pa.list_(_TS), 'Duration': _U64,
    'ResourceAttributes': _MAP, 'ScopeAttributes': _MAP, 'SpanAttributes': _MAP, 'LogAttributes': _MAP,
    'Attributes': _MAP, 'Events.Attributes': pa.list_(_MAP), 'Links.Attributes': pa.list_(_MAP),
    'Exemplars.FilteredAttributes': pa.list_(_MAP),
    'Events.Name': pa.list_(_STR), 'Links.TraceId': pa.list_(_STR), 'Links.SpanId': pa.list_(_STR),
    'Links.TraceState': pa.list_(_STR), 'Exemplars.SpanId': pa.list_(_STR), 'Exemplars.TraceId': pa.list_(_STR),
    'TraceFlags': pa.uint8(), 'SeverityNumber': pa.uint8(),
    'ScopeDroppedAttrCount': _U32, 'Flags': _U32, 'StartTimeUnix': _U32, 'TimeUnix': _U32,
    'Exemplars.TimeUnix': pa.list_(_U32), 'Exemplars.Value': pa.list_(_F64),
    'Value': _F64, 'Sum': _F64, 'Min': _F64, 'Max': _F64, 'Count': _U64, 'ZeroCount': _U64,
    'AggregationTemporality': _I32, 'IsMonotonic': pa.bool_(), 'Scale': _I32,
    'PositiveOffset': _I32, 'NegativeOffset': _I32,
    'BucketCounts': pa.list_(_U64), 'PositiveBucketCounts': pa.list_(_U64),
    'NegativeBucketCounts': pa.list_(_U64), 'ExplicitBounds': pa.list_(_F64),
    'ValueAtQuantiles.Quantile': pa.list_(_F64), 'ValueAtQuantiles.Value': pa.list_(_F64),
}   # every other column is a String


def _type(column: str):
    return TYPES.get(column, _STR)


def record_batch(table: str, groups: List[Group]) -> Tuple[pa.RecordBatch, int]:
    """(batch of all rows of `groups`, earliest row time in epoch seconds)."""
    head_columns, row_columns = HEADS[table], ROWS[table]
    columns = list(zip(*chain.from_iterable(rows for _, rows in groups)))
    arrays = [pa.array(values, _type(name)) for name, values in zip(row_columns, columns)]
    # A group's head values are built once and repeated by index, in C.
    index = pa.array(list(chain.from_iterable(repeat(i, len(rows)) for i, (_, rows) in enumerate(groups))),
                     pa.int32())
    heads = [head for head, _ in groups]
    for j, name in enumerate(head_columns):
        arrays.append(pa.array([head[j] for head in heads], _type(name)).take(index))
    times = columns[row_columns.index('Timestamp' if 'Timestamp' in row_columns else 'TimeUnix')]
    oldest = min(times) // 1_000_000_000 if 'Timestamp' in row_columns else min(times)
    return pa.RecordBatch.from_arrays(arrays, names=[*row_columns, *head_columns]), oldest


class StreamSpool:
    """One table's batches as one Arrow IPC stream in a file (the insert's body)."""

    def __init__(self, fh: BinaryIO):
        self.fh = fh
        self.writer = None

    def write(self, batch: pa.RecordBatch):
        if self.writer is None:
            self.writer = pa.ipc.new_stream(self.fh, batch.schema)
        self.writer.write_batch(batch)

    def finish(self):
        """Write the end of the stream; the file then holds the whole insert."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None
