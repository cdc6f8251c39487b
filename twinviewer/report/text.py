"""How the report writes times, durations and values (for the page and the snapshots)."""

from __future__ import annotations

import math
from datetime import datetime, timezone, tzinfo
from html import escape


def fmt_time(t: float, tz: tzinfo | None, utc: bool = False) -> str:
    """``2026-11-24 11:12:00 AWST`` in the project's zone (``utc``: with UTC beside it)."""
    if not math.isfinite(t):
        return "–"
    when = datetime.fromtimestamp(t, tz or timezone.utc)
    text = f"{when:%Y-%m-%d %H:%M:%S} {when.tzname() or ''}".rstrip()
    if utc and tz is not None:
        text += f" ({datetime.fromtimestamp(t, timezone.utc):%H:%M:%S} UTC)"
    return text


def fmt_clock(t: float, day_of: float, tz: tzinfo | None) -> str:
    """``14:43:41.2`` when ``t`` falls on the day of ``day_of``, else the whole time."""
    if not math.isfinite(t):
        return "–"
    zone = tz or timezone.utc
    when = datetime.fromtimestamp(t, zone)
    if when.date() != datetime.fromtimestamp(day_of, zone).date():
        return fmt_time(t, tz)
    return f"{when:%H:%M:%S}.{when.microsecond // 100_000}"


def fmt_duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "–"
    s = int(round(seconds))
    if s < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    return f"{s // 86400} d {s % 86400 // 3600:02d} h"


def fmt_value(v: float, unit: str = "") -> str:
    if not math.isfinite(v):
        return "–"
    return f"{v:.4g} {escape(unit)}".rstrip()
