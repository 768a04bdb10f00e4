"""Python lists to Arrow arrays without pa.array().

pa.array() on Python objects imports pandas on first use (to check for pandas inputs), which costs
half a second on every run; these builders take the same lists without it (measured by tools/bench).
"""

from __future__ import annotations

import array

import numpy as np
import pyarrow as pa

_INT_CODES = {pa.int16(): "h", pa.int32(): "i", pa.int64(): "q"}


def _validity(values: list) -> tuple[pa.Buffer, int]:
    valid = np.fromiter((v is not None for v in values), dtype=bool, count=len(values))
    return pa.py_buffer(np.packbits(valid, bitorder="little")), int(len(values) - valid.sum())


def column(values: list, typ: pa.DataType) -> pa.Array:
    """An Arrow array of `typ` (string, bool, int16/32/64 or a timestamp of int64 micros) from a list
    that may hold None."""
    if pa.types.is_string(typ):
        b = pa.lib.StringBuilder()
        b.append_values(values)
        return b.finish()
    validity, nulls = _validity(values)
    if pa.types.is_boolean(typ):
        bits = np.packbits(np.fromiter((bool(v) for v in values), dtype=bool, count=len(values)), bitorder="little")
        return pa.Array.from_buffers(typ, len(values), [validity, pa.py_buffer(bits)], null_count=nulls)
    code = "q" if pa.types.is_timestamp(typ) else _INT_CODES[typ]
    data = array.array(code, [0 if v is None else v for v in values])
    return pa.Array.from_buffers(typ, len(values), [validity, pa.py_buffer(data)], null_count=nulls)
