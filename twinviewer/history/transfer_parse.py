"""Columnar parsing for history import: whole pyarrow columns of times and values to numpy.

Times: ISO 8601 text (with or without a zone offset, the latter in the mapping's time zone),
epoch numbers (the unit from their magnitude, or as given), Parquet timestamps and dates;
values: numbers or text. A column whose conversion fails is split until the failing cells are
found, so bad cells cost per-cell work and good ones do not. The parsers return masks of the
missing and the bad cells, which :mod:`twinviewer.history.transfer_import` reports by line (its
docstring lists the accepted forms). Separate from it: this part knows pyarrow's compute
kernels and nothing of layouts, stores or reports.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

log = logging.getLogger(__name__)

F64 = NDArray[np.float64]

_NUMERIC = r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$"
_HAS_ZONE = r"[T ]\d\d:\d\d(:\d\d(\.\d+)?)?\s*(Z|z|[+-]\d\d(:?\d\d)?)$"
_UNIT_SCALE = {"s": 1.0, "ms": 1e3, "us": 1e6, "ns": 1e9}


def _cast_where_possible(arr: pa.Array, typ: pa.DataType) -> tuple[pa.Array, NDArray[np.bool_]]:
    """Cast ``arr`` to ``typ``; cells that do not convert become null and are flagged. One cast
    when all convert; otherwise the array is split until the failing cells are isolated."""
    n = len(arr)
    try:
        return pc.cast(arr, typ), np.zeros(n, bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    if n == 1:
        return pa.nulls(1, typ), np.ones(1, bool)
    parts, fails = [], []
    step = max(1, n // 16)
    for i in range(0, n, step):
        out, bad = _cast_where_possible(arr.slice(i, step), typ)
        parts.append(out)
        fails.append(bad)
    return pa.concat_arrays(parts), np.concatenate(fails)


def utf8(col: pa.Array) -> tuple[pa.Array, NDArray[np.bool_]]:
    """A CSV string column (read unchecked) with its cells of invalid UTF-8 made null and
    flagged (one validating cast when all are valid)."""
    return _cast_where_possible(col.cast(pa.binary()), pa.string())


def _to_seconds(ts: pa.Array) -> F64:
    """A timestamp array (any unit, UTC or naive-as-UTC) as float64 epoch seconds, exact for
    times on a microsecond grid."""
    unit = ts.type.unit
    ints = pc.cast(ts, pa.timestamp(unit)).cast(pa.int64()).to_numpy(zero_copy_only=False)
    ints = np.asarray(ints, np.int64)
    if unit == "s":
        return ints.astype(np.float64)
    if unit == "ms":
        return ints / 1e3
    if unit == "us":
        return ints / 1e6
    us, rest = np.divmod(ints, 1000)
    return us / 1e6 + rest / 1e9


@dataclass
class TimeState:
    fmt: str
    zone: str
    unit: str | None = None  # epoch unit, decided once per file in auto mode


def _epoch_seconds(v: F64, state: TimeState) -> F64:
    if state.unit is None:
        finite = v[np.isfinite(v)]
        if not len(finite):
            return v
        m = float(np.median(np.abs(finite)))
        state.unit = "s" if m < 1e11 else "ms" if m < 1e14 else "us" if m < 1e17 else "ns"
        log.debug("import: epoch times in %s", state.unit)
    scale = _UNIT_SCALE[state.unit]
    return v if scale == 1.0 else v / scale


def _localise(naive: pa.Array, zone: str) -> pa.Array:
    if zone == "UTC":
        return naive
    return pc.assume_timezone(naive, zone, ambiguous="earliest", nonexistent="earliest")


def parse_times(
    col: pa.Array, state: TimeState
) -> tuple[F64, NDArray[np.bool_], NDArray[np.bool_]]:
    """``(seconds, missing, bad)`` of one time column."""
    n = len(col)
    typ = col.type
    out = np.full(n, np.nan)
    if pa.types.is_dictionary(typ):
        col = col.cast(typ.value_type)
        typ = col.type
    missing = np.asarray(col.is_null().to_numpy(zero_copy_only=False), bool)
    if pa.types.is_timestamp(typ):
        ts = col if typ.tz is not None else _localise(col, state.zone)
        out = _to_seconds(ts.fill_null(0))
        out[missing] = np.nan
        return out, missing, np.zeros(n, bool)
    if pa.types.is_date(typ):
        col = col.cast(pa.timestamp("s"))
        out = _to_seconds(_localise(col, state.zone).fill_null(0))
        out[missing] = np.nan
        return out, missing, np.zeros(n, bool)
    if pa.types.is_integer(typ) or pa.types.is_floating(typ):
        if state.fmt == "iso":
            return out, missing, ~missing
        if state.fmt != "auto":
            state.unit = state.fmt
        v = np.array(col.cast(pa.float64(), safe=False).to_numpy(zero_copy_only=False), np.float64)
        v[missing] = np.nan
        out = _epoch_seconds(v, state)
        if pa.types.is_integer(typ) and state.unit in ("us", "ns"):  # exact: integer division
            ints = np.asarray(col.fill_null(0).cast(pa.int64()).to_numpy(), np.int64)
            per_us = 1 if state.unit == "us" else 1000
            us, rest = np.divmod(ints, per_us)
            out = np.where(missing, np.nan, us / 1e6 + rest / (per_us * 1e6))
        bad = ~missing & ~np.isfinite(out)
        return out, missing, bad
    if not (pa.types.is_string(typ) or pa.types.is_large_string(typ)):
        return out, missing, ~missing
    col, bad = utf8(col)
    text = pc.utf8_trim_whitespace(col)
    missing |= np.asarray(pc.equal(pc.utf8_length(text), 0).fill_null(True), bool)
    missing &= ~bad
    numeric = np.asarray(pc.match_substring_regex(text, _NUMERIC).fill_null(False), bool)
    numeric &= ~missing
    iso = ~missing & ~numeric
    if state.fmt == "iso":
        bad |= numeric
        numeric[:] = False
    elif state.fmt != "auto":
        bad |= iso
        iso[:] = False
        state.unit = state.fmt
    if numeric.any():
        idx = np.flatnonzero(numeric)
        vals, failed = _cast_where_possible(text.take(pa.array(idx)), pa.float64())
        v = np.asarray(vals.to_numpy(zero_copy_only=False), np.float64)
        sec = _epoch_seconds(v, state)
        failed |= ~np.isfinite(sec)
        out[idx] = sec
        bad[idx[failed]] = True
    if iso.any():
        zoned = np.asarray(pc.match_substring_regex(text, _HAS_ZONE).fill_null(False), bool)
        for mask, target in (
            (iso & zoned, pa.timestamp("ns", tz="UTC")),
            (iso & ~zoned, pa.timestamp("ns")),
        ):
            if not mask.any():
                continue
            idx = np.flatnonzero(mask)
            ts, failed = _cast_where_possible(text.take(pa.array(idx)), target)
            if target.tz is None:
                ts = _localise(ts, state.zone)
            sec = _to_seconds(ts.fill_null(0))
            out[idx] = sec
            bad[idx[failed]] = True
    out[missing | bad] = np.nan
    return out, missing, bad


def parse_values(
    col: pa.Array,
) -> tuple[F64, NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_]]:
    """``(value, missing, not_a_number, non_finite)`` of one value column."""
    n = len(col)
    typ = col.type
    if pa.types.is_dictionary(typ):
        col = col.cast(typ.value_type)
        typ = col.type
    missing = np.asarray(col.is_null().to_numpy(zero_copy_only=False), bool)
    nan_ = np.zeros(n, bool)
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        col, broken = utf8(col)
        text = pc.utf8_trim_whitespace(col)
        missing |= np.asarray(pc.equal(pc.utf8_length(text), 0).fill_null(True), bool)
        missing &= ~broken
        vals, nan_ = _cast_where_possible(text, pa.float64())
        nan_ = (nan_ & ~missing) | broken
    elif pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_boolean(typ):
        vals = col.cast(pa.float64(), safe=False)
    else:
        vals = pa.nulls(n, pa.float64())
        nan_ = ~missing
    v = np.asarray(vals.to_numpy(zero_copy_only=False), np.float64)
    non_finite = ~np.isfinite(v) & ~missing & ~nan_
    return v, missing, nan_, non_finite


def cell_text(col: pa.Array, i: int) -> str:
    cell = col.slice(i, 1)
    if pa.types.is_string(cell.type) or pa.types.is_large_string(cell.type):
        raw = cell.cast(pa.binary())[0].as_py()  # the text may not be valid UTF-8
        text = raw.decode("utf-8", "replace") if raw is not None else ""
    else:
        value = cell[0].as_py()
        text = str(value) if value is not None else ""
    return text if len(text) <= 40 else text[:37] + "..."
