"""Rows to and from PostgreSQL in bulk, packed and unpacked by numpy (no per-row Python).

The binary ``COPY`` format the writer sends (:func:`pack_copy`), the column specs of the tables
and of the queries' answers, the ``*send`` functions that queries aggregate into one ``bytea``
per column (:data:`SEND`), and the per-block aggregates of one flush's rows
(:func:`blocks_of`). Pure numpy: apart from :mod:`twinviewer.history.postgres`, which sends
and receives these bytes over a connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]

_PGCOPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8
_TRAILER = b"\xff\xff"

# -- binary COPY in, packed by numpy -----------------------------------------------------------


def copy_dtype(fields: Sequence[tuple[str, str]]) -> np.dtype:
    """The packed big-endian row of a binary COPY with fixed-width, non-NULL fields."""
    spec: list[tuple[str, str]] = [("_n", ">i2")]
    for name, code in fields:
        spec += [(f"_l_{name}", ">i4"), (name, ">" + code)]
    return np.dtype(spec)


def pack_copy(fields: Sequence[tuple[str, str]], columns: dict[str, np.ndarray]) -> bytes:
    dt = copy_dtype(fields)
    n = len(next(iter(columns.values())))
    rows = np.empty(n, dt)
    rows["_n"] = len(fields)
    for name, code in fields:
        rows[f"_l_{name}"] = np.dtype(code).itemsize
        rows[name] = columns[name]
    return _PGCOPY_HEADER + rows.tobytes() + _TRAILER


SEND = {
    "i2": "int2send",
    "i4": "int4send",
    "i8": "int8send",
    "f4": "float4send",
    "f8": "float8send",
}
SAMPLE_FIELDS = [
    ("time", "f8"),
    ("seq", "i8"),
    ("value", "f8"),
    ("sensor", "i4"),
    ("delay", "f4"),
    ("quality", "i2"),
]
STATE_FIELDS = [("sensor", "i4"), ("value", "f8"), ("time", "f8")]
SERIES_FIELDS = [("time", "f8"), ("value", "f8")]
BLOCK_FIELDS = [
    ("level", "i2"),
    ("sensor", "i4"),
    ("b", "i8"),
    ("n", "i8"),
    ("t_first", "f8"),
    ("t_last", "f8"),
    ("vmin", "f8"),
    ("vmax", "f8"),
    ("vlast", "f8"),
    ("vsum", "f8"),
    ("nfin", "i8"),
]


def send_copy(conn: Any, stmt: Any, data: bytes) -> None:
    """Run the ``COPY ... FROM STDIN`` ``stmt`` on ``conn`` with ``data``, in 8 MB writes."""
    step = 8 << 20
    with conn.cursor() as cur, cur.copy(stmt) as cp:
        for i in range(0, len(data), step):
            cp.write(data[i : i + step])


def block_runs(
    s: NDArray[Any], b: NDArray[np.int64], v: F64
) -> tuple[NDArray[np.intp], NDArray[np.intp], F64, F64]:
    """The runs of equal (sensor, block) in rows sorted by them: first and last row of each,
    and the run's min and max value (NaN ignored)."""
    n = len(s)
    new = np.ones(n, bool)
    new[1:] = (s[1:] != s[:-1]) | (b[1:] != b[:-1])
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], n) - 1
    with np.errstate(invalid="ignore"):
        vmin = np.fmin.reduceat(v, starts)
        vmax = np.fmax.reduceat(v, starts)
    return starts, ends, vmin, vmax


def blocks_of(level: int, width: float, s: NDArray[Any], t: F64, v: F64) -> dict[str, np.ndarray]:
    """Per (sensor, block) aggregates of rows sorted by sensor, then time, then append order
    (so a block's rows are consecutive and its last row is last). ``vsum`` and ``nfin`` are
    the sum and the count of the *finite* values (a block's mean is ``vsum / nfin``): NaN (and
    an infinite value) leaves the mean alone as it leaves min and max (NaN) alone."""
    b = np.floor(t / width).astype(np.int64)
    n = len(s)
    starts, ends, vmin, vmax = block_runs(s, b, v)
    fin = np.isfinite(v)
    return {
        "level": np.full(len(starts), level, np.int16),
        "sensor": s[starts].astype(np.int32),
        "b": b[starts],
        "n": np.diff(np.append(starts, n)).astype(np.int64),
        "t_first": t[starts],
        "t_last": t[ends],
        "vmin": vmin,
        "vmax": vmax,
        "vlast": v[ends],
        "vsum": np.add.reduceat(np.where(fin, v, 0.0), starts) if n else np.zeros(0),
        "nfin": np.add.reduceat(fin.astype(np.int64), starts) if n else np.zeros(0, np.int64),
    }
