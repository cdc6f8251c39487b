"""Source timestamps in payloads, whatever they are called and however they are written.

Keys: ``time_field: auto`` (the default) takes the first of :data:`TIME_KEYS` that a payload
has (``ts``, ``timestamp``, ``time``, ``t``); a project may name its own key, or ``null`` for
"use the arrival time".

Formats (``time_unit``):

``auto``
    numbers by magnitude (seconds, milliseconds, microseconds or nanoseconds since the epoch;
    1e11 seconds is the year 5138, 1e11 ms is March 1973), strings as ISO 8601 (numeric
    strings as numbers). Without a zone, UTC.
``s``, ``ms``, ``us``, ``ns``
    numbers in that unit.
``iso``
    as ``auto`` (ISO 8601 strings; numbers by magnitude).
a ``strftime`` pattern (anything with ``%``)
    e.g. ``%d/%m/%Y %H:%M:%S``; UTC unless the pattern has ``%z``.

A time that is given but cannot be read is never replaced by the arrival time: the decoder
rejects the sample as ``bad_timestamp``. Zero, negative and non-finite times are invalid.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

import numpy as np
from numpy.typing import NDArray

# ``NAME as NAME``: the project validates the format, so it is defined there
from twinviewer.core.project import TIME_UNITS as TIME_UNITS
from twinviewer.core.project import check_time_unit as check_time_unit

__all__ = ["TIME_KEYS", "TIME_UNITS", "check_time_unit", "parse_time", "scale_times"]

TIME_KEYS = ("ts", "timestamp", "time", "t")
_DIVISOR = {"s": 1.0, "ms": 1e3, "us": 1e6, "ns": 1e9}
_F64 = np.float64


def _parse_iso(text: str) -> float | None:
    try:
        dt = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def _parse_pattern(text: str, pattern: str) -> float | None:
    try:
        dt = datetime.strptime(text.strip(), pattern)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def _auto_scale(x: float) -> float:
    """Seconds from a number that is seconds, ms, us or ns since the epoch, by magnitude."""
    if x < 1e11:
        return x
    if x < 1e14:
        return x / 1e3
    if x < 1e17:
        return x / 1e6
    return x / 1e9


def parse_time(x: Any, unit: str = "auto") -> float | None:
    """A source timestamp in seconds since the epoch, or None if it cannot be one (see the
    module docstring for ``unit``)."""
    t = type(x)
    if t is float or t is int:
        f = float(x)
    elif t is str:
        if "%" in unit:
            parsed = _parse_pattern(x, unit)
        else:
            parsed = _parse_iso(x)
        if parsed is not None:
            return parsed if math.isfinite(parsed) and parsed > 0 else None
        try:
            f = float(x)
        except ValueError:
            return None
    else:
        return None
    if not math.isfinite(f) or f <= 0:
        return None
    divisor = _DIVISOR.get(unit)
    if divisor is not None:
        return f / divisor
    return _auto_scale(f)


def scale_times(t: NDArray[np.float64], unit: str) -> NDArray[np.float64]:
    """Numeric times (an array) to seconds."""
    divisor = _DIVISOR.get(unit)
    if divisor is not None:
        return t if divisor == 1.0 else t / divisor
    return np.select([t < 1e11, t < 1e14, t < 1e17], [t, t / 1e3, t / 1e6], t / 1e9).astype(
        _F64, copy=False
    )
