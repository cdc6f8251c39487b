"""Tick marks for a time axis: where to put them and what to write, in a given time zone.

Qt-free and pure, so the choice can be tested directly and shared by any view that draws a time
axis (the timeline bar paints these under its slider).

Why not fixed multiples of seconds: a person reads time in calendar units, so ticks fall on
round *wall-clock* instants of the display zone (midnight, the first of a month, New Year),
which are not evenly spaced in seconds (months differ in length, daylight saving shifts local
hours). Candidates are therefore generated in wall time and converted back to Unix seconds, and
every label is written from the instant it marks, so it is right even across a DST change.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

#: Nominal lengths (seconds) used only to *choose* a step; ticks themselves follow the calendar.
_UNIT_SECONDS = {
    "second": 1.0,
    "minute": 60.0,
    "hour": 3600.0,
    "day": 86400.0,
    "month": 30.436875 * 86400.0,
    "year": 365.2425 * 86400.0,
}
#: The widest label of each unit, to know how far apart its ticks must be to stay readable.
_EXAMPLE = {
    "second": "00:00:00",
    "minute": "Sep 00",
    "hour": "Sep 00",
    "day": "Sep 00",
    "month": "0000",
    "year": "0000",
}
_COUNTS = {
    "second": (1, 2, 5, 10, 15, 30),
    "minute": (1, 2, 5, 10, 15, 30),
    "hour": (1, 2, 3, 6, 12),
    "day": (1, 2, 7, 14),
    "month": (1, 2, 3, 6),
    "year": (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
}
LABEL_GAP_PX = 14.0
"""Free pixels wanted between two neighbouring labels."""
MAX_TICKS = 400  # a guard: no sensible axis has more (the step is chosen for ~10)


@dataclass(frozen=True)
class TickStep:
    """A calendar step: ``count`` of ``unit`` (``"second"`` ... ``"year"``)."""

    unit: str
    count: int

    @property
    def seconds(self) -> float:
        """The nominal length in seconds (a month counts as an average month)."""
        return _UNIT_SECONDS[self.unit] * self.count


STEPS: tuple[TickStep, ...] = tuple(
    TickStep(unit, n) for unit in _UNIT_SECONDS for n in _COUNTS[unit]
)
"""Every step offered, finest first."""


@dataclass(frozen=True)
class Tick:
    """One tick: its instant, its label and whether it opens a coarser unit.

    ``major`` ticks (midnight on an hour axis, the first of January on a month axis) carry the
    coarser context in their label ("Feb 04", "2014"), so a reader knows which day or year the
    fine labels belong to; a view draws them more prominently.
    """

    t: float
    label: str
    major: bool


def _default_measure(text: str) -> float:
    return 7.0 * len(text)  # about a 9 pt sans serif digit


def choose_step(
    span: float, width_px: float, measure: Callable[[str], float] | None = None
) -> TickStep:
    """The finest step whose labels fit side by side when ``span`` seconds take ``width_px``.

    ``measure(text)`` is the label's width in pixels (the view's font metrics); by default
    7 px a character. A step is accepted when one step is at least as wide as its widest label
    plus :data:`LABEL_GAP_PX`.
    """
    measure = measure or _default_measure
    if not span > 0 or not width_px > 0:
        return STEPS[-1]
    px_per_s = width_px / span
    for step in STEPS:
        if step.seconds * px_per_s >= measure(_EXAMPLE[step.unit]) + LABEL_GAP_PX:
            return step
    return STEPS[-1]


def wall_time(t: float, tz: tzinfo | None) -> datetime:
    """The naive wall-clock time of ``t`` in ``tz`` (``None``: the computer's zone)."""
    aware = datetime.fromtimestamp(t, tz) if tz is not None else datetime.fromtimestamp(t)
    return aware.replace(tzinfo=None)


def from_wall_time(wall: datetime, tz: tzinfo | None) -> float:
    """Unix seconds of a naive wall-clock time in ``tz``; inverse of :func:`wall_time`.

    A time skipped by a daylight saving change, or shown twice, is read with the offset in
    force before the change (``fold=0``), as :mod:`zoneinfo` does.
    """
    return wall.replace(tzinfo=tz).timestamp() if tz is not None else wall.timestamp()


def _floor(wall: datetime, step: TickStep) -> datetime:
    n, w = step.count, wall.replace(microsecond=0)
    if step.unit == "second":
        return w.replace(second=w.second - w.second % n)
    w = w.replace(second=0)
    if step.unit == "minute":
        return w.replace(minute=w.minute - w.minute % n)
    w = w.replace(minute=0)
    if step.unit == "hour":
        return w.replace(hour=w.hour - w.hour % n)
    w = w.replace(hour=0)
    if step.unit == "day":
        return w.replace(day=w.day - (w.day - 1) % n)
    w = w.replace(day=1)
    if step.unit == "month":
        return w.replace(month=w.month - (w.month - 1) % n)
    return w.replace(month=1, year=max(1, w.year - w.year % n))


def _next(wall: datetime, step: TickStep) -> datetime:
    n = step.count
    if step.unit in ("second", "minute", "hour"):
        return wall + timedelta(**{f"{step.unit}s": n})  # every count divides its next unit
    if step.unit == "day":
        # n-day ticks restart on the 1st of each month; a tick too close to the next 1st is
        # skipped (29 and 1 would be two days apart on a weekly axis)
        dim = calendar.monthrange(wall.year, wall.month)[1]
        day = wall.day + n
        if day + n // 2 <= dim:
            return wall.replace(day=day)
        month, year = (wall.month + 1, wall.year) if wall.month < 12 else (1, wall.year + 1)
        return wall.replace(year=year, month=month, day=1)
    if step.unit == "month":
        m = wall.month - 1 + n
        return wall.replace(year=wall.year + m // 12, month=m % 12 + 1)
    return wall.replace(year=wall.year + n)


def tick_label(t: float, step: TickStep, tz: tzinfo | None) -> tuple[str, bool]:
    """The label of the tick at ``t`` for ``step``, and whether it is a major tick."""
    w = wall_time(t, tz)
    if step.unit == "year":
        return f"{w:%Y}", False
    if step.unit == "month":
        return (f"{w:%Y}", True) if w.month == 1 else (f"{w:%b}", False)
    if step.unit == "day":
        if w.month == 1 and w.day == 1:
            return f"{w:%Y}", True
        return f"{w:%b %d}", w.day == 1
    if w.hour == 0 and w.minute == 0 and w.second == 0:
        return f"{w:%b %d}", True
    return (f"{w:%H:%M:%S}" if step.unit == "second" else f"{w:%H:%M}"), False


class SimulationTime(tzinfo):
    """The "zone" of a simulation result shown by itself: its times are solution seconds from
    0, not instants, so they are written as seconds (``t = 0.4 s``) and ticked at round numbers
    of seconds. Behaves as UTC where a ``tzinfo`` is needed."""

    def utcoffset(self, dt: datetime | None) -> timedelta:
        return timedelta(0)

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)

    def tzname(self, dt: datetime | None) -> str:
        return "simulation time"


SIM_TIME = SimulationTime()


def format_seconds(t: float) -> str:
    """A solution time in seconds, with as many digits as it needs (at most 6 significant)."""
    return f"{t:.6g} s"


def seconds_ticks(
    t0: float, t1: float, width_px: float, measure: Callable[[str], float] | None = None
) -> list[Tick]:
    """Ticks at round numbers of seconds (1, 2 or 5 x 10^k apart) for ``[t0, t1]``, as many as
    fit ``width_px`` with readable labels; every fifth (a multiple of 5 steps) major."""
    if not t1 > t0:
        return []
    import math

    measure = measure or _default_measure
    widest = max(measure(format_seconds(t)) for t in (t0, t1))
    room = widest + measure(".00") + LABEL_GAP_PX  # a step's own digits
    fit = max(1, int(width_px // room))
    raw = (t1 - t0) / fit
    k = 10.0 ** math.floor(math.log10(raw))
    step = next((m * k for m in (1, 2, 5, 10) if m * k >= raw), 10 * k)
    first = math.ceil(t0 / step)
    out = []
    for i in range(first, first + MAX_TICKS):
        t = i * step
        if t > t1 + step * 1e-9:
            break
        t = round(t, 12)
        out.append(Tick(t, format_seconds(t), i % 5 == 0))
    return out


def time_ticks(
    t0: float,
    t1: float,
    width_px: float,
    tz: tzinfo | None = None,
    measure: Callable[[str], float] | None = None,
) -> list[Tick]:
    """Labelled ticks for the time range ``[t0, t1]`` drawn ``width_px`` wide, in zone ``tz``.

    The step is :func:`choose_step`'s; ticks fall on round wall-clock instants of ``tz``
    (``None``: the computer's zone, with its daylight saving rules) and are sorted. An empty
    or reversed range, or one outside what ``datetime`` can hold, gives no ticks.

    Examples
    --------
    >>> from datetime import timezone
    >>> [k.label for k in time_ticks(0.0, 60.0, 600, timezone.utc)][:3]
    ['Jan 01', '00:00:10', '00:00:20']
    """
    if isinstance(tz, SimulationTime):
        return seconds_ticks(t0, t1, width_px, measure)
    if not t1 > t0:
        return []
    step = choose_step(t1 - t0, width_px, measure)
    out: list[Tick] = []
    try:
        wall = _floor(wall_time(t0, tz), step)
        last = -float("inf")
        for _ in range(MAX_TICKS * 2):
            t = from_wall_time(wall, tz)
            if t > t1:
                break
            if t >= t0 and t > last:  # a DST fold can map two wall times to one instant
                label, major = tick_label(t, step, tz)
                out.append(Tick(t, label, major))
                last = t
                if len(out) >= MAX_TICKS:
                    break
            wall = _next(wall, step)
    except (OverflowError, ValueError, OSError):
        pass  # beyond year 1..9999 or the platform's time functions: keep what was made
    return out


__all__ = [
    "STEPS",
    "Tick",
    "TickStep",
    "choose_step",
    "from_wall_time",
    "tick_label",
    "time_ticks",
    "wall_time",
]
