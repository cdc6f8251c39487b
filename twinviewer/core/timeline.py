"""The current time of the workbench: the one model that every time-aware view follows.

ParaView's vocabulary keeps three things apart: *which times exist* (the history store), *the
current time* (this model) and *how time advances* (the player in ``ui/player.py``). Like
napari's ``Dims``, the position is held in world units (seconds since the Unix epoch) and a
slider index is derived from it, never stored; like f3d's ``load_time``, a requested time is
clamped to the range held instead of being refused.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from psygnal import Signal

#: Times closer than this (seconds) count as the same instant when stepping: a time that went
#: through a slider or a float round trip must not make "previous sample" land on itself.
TIME_EPS = 1e-6


def _finite(name: str, value: float) -> float:
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite time, got {value!r}")
    return v


class Timeline:
    """The current time, the range held, whether to follow the live edge, and a loop range.

    Parameters
    ----------
    start, end
        The range held: the store's time range, extended by live data as it arrives.
    live
        Follow the live edge: while on, ``current`` is ``end`` and moves with it.

    Examples
    --------
    >>> tl = Timeline(0.0, 100.0)
    >>> tl.current, tl.live
    (100.0, True)
    >>> tl.current = 250.0  # clamped, like f3d's load_time
    >>> tl.current
    100.0
    >>> tl.current = 40.0  # any move before the end leaves the live edge
    >>> tl.live
    False
    >>> tl.set_range(0.0, 120.0)  # new data: the range grows, the current time stays
    >>> tl.current
    40.0
    >>> tl.go_live()
    >>> tl.current
    120.0
    """

    changed = Signal(float)
    """The current time changed (its new value)."""
    range_changed = Signal(float, float)
    """The range held changed (start, end)."""
    live_changed = Signal(bool)
    """Following the live edge was switched on or off."""
    loop_changed = Signal(object)
    """The loop range changed: a ``(low, high)`` tuple or ``None``."""

    def __init__(self, start: float = 0.0, end: float = 0.0, live: bool = True) -> None:
        start, end = _finite("start", start), _finite("end", end)
        if end < start:
            raise ValueError(f"end {end} is before start {start}")
        self._start = start
        self._end = end
        self._live = bool(live)
        self._current = end
        self._loop: tuple[float, float] | None = None

    def __repr__(self) -> str:
        return (
            f"Timeline(start={self._start}, end={self._end}, current={self._current}, "
            f"live={self._live}, loop={self._loop})"
        )

    # -- state ---------------------------------------------------------------------------------
    @property
    def start(self) -> float:
        return self._start

    @property
    def end(self) -> float:
        return self._end

    @property
    def span(self) -> float:
        """``end - start`` in seconds (0 for an empty or single-instant range)."""
        return self._end - self._start

    @property
    def current(self) -> float:
        return self._current

    @current.setter
    def current(self, t: float) -> None:
        """Move to ``t``, clamped to the range. A time before the end ends live following."""
        t = min(max(_finite("current", t), self._start), self._end)
        live_off = self._live and t < self._end
        moved = t != self._current
        self._current = t
        if live_off:
            self._live = False
            self.live_changed.emit(False)
        if moved:
            self.changed.emit(t)

    @property
    def live(self) -> bool:
        return self._live

    @live.setter
    def live(self, on: bool) -> None:
        if on:
            self.go_live()
        elif self._live:
            self._live = False
            self.live_changed.emit(False)

    @property
    def behind(self) -> float:
        """How far the current time is behind the live edge (seconds, >= 0)."""
        return self._end - self._current

    @property
    def loop(self) -> tuple[float, float] | None:
        return self._loop

    @loop.setter
    def loop(self, bounds: tuple[float, float] | None) -> None:
        """Set the range to loop over (ordered and clamped to the range held) or ``None``.

        A range that is empty after clamping is refused with ``ValueError``: looping over a
        single instant would spin the player on one frame.
        """
        new: tuple[float, float] | None = None
        if bounds is not None:
            a, b = (_finite("loop", x) for x in bounds)
            lo, hi = sorted((a, b))
            lo, hi = max(lo, self._start), min(hi, self._end)
            if not hi > lo:
                raise ValueError(
                    f"loop {bounds} leaves no time inside the range [{self._start}, {self._end}]"
                )
            new = (lo, hi)
        if new != self._loop:
            self._loop = new
            self.loop_changed.emit(new)

    # -- changes -------------------------------------------------------------------------------
    def set_range(self, start: float, end: float) -> None:
        """The range held changed (new data, an import, retention).

        While live, the current time follows ``end``; otherwise it stays where it is, clamped
        into the new range. A loop range is clamped too, and dropped if nothing of it remains.
        """
        start, end = _finite("start", start), _finite("end", end)
        if end < start:
            raise ValueError(f"end {end} is before start {start}")
        if start == self._start and end == self._end:
            return
        self._start, self._end = start, end
        old = self._current
        self._current = end if self._live else min(max(old, start), end)
        loop = self._loop
        if loop is not None:
            lo, hi = max(loop[0], start), min(loop[1], end)
            new_loop = (lo, hi) if hi > lo else None
        self.range_changed.emit(start, end)
        if loop is not None and new_loop != loop:
            self._loop = new_loop
            self.loop_changed.emit(new_loop)
        if self._current != old:
            self.changed.emit(self._current)

    def extend(self, t: float) -> None:
        """Grow the range to include ``t`` (a live sample's time); never shrinks it."""
        t = _finite("t", t)
        if t > self._end or t < self._start:
            self.set_range(min(self._start, t), max(self._end, t))

    def fit(self, start: float, end: float, current: float | None = None) -> None:
        """Hold exactly ``[start, end]`` and leave live, at ``current`` (default: ``end``).

        For history with no live source behind it (an import, a recording replayed): its last
        sample is not a live edge, and "now" may be years after it, so the range must not reach
        to now and the time must not follow the end. Emits ``live_changed`` (if it was live),
        ``range_changed`` and ``changed`` as needed, in that order.

        Examples
        --------
        >>> tl = Timeline(0.0, 2_000_000_000.0)  # opened live, up to "now"
        >>> tl.fit(1_386_000_000.0, 1_393_000_000.0)  # the data held: Dec 2013 - Feb 2014
        >>> tl.live, tl.current == tl.end == 1_393_000_000.0
        (False, True)
        """
        start, end = _finite("start", start), _finite("end", end)
        if end < start:
            raise ValueError(f"end {end} is before start {start}")
        self.live = False
        self.set_range(start, end)
        self.current = end if current is None else current

    def go_live(self) -> None:
        """Follow the live edge again: jump to the end and track it as the range grows."""
        was_live = self._live
        moved = self._current != self._end
        self._live = True
        self._current = self._end
        if not was_live:
            self.live_changed.emit(True)
        if moved:
            self.changed.emit(self._current)

    def step(self, times: ArrayLike, direction: int) -> float | None:
        """Move to the previous (``direction < 0``) or next candidate time inside the range.

        ``times`` are candidate instants, for example one sensor's sample times or the start
        times of alarms; sorted ascending is fastest, any order works. Returns the new current
        time, or ``None`` (and stays) when there is no candidate in that direction.
        """
        if direction == 0:
            return None
        arr = np.asarray(times, dtype=np.float64).ravel()
        if arr.size == 0:
            return None
        if arr.size > 1 and not bool(np.all(arr[1:] >= arr[:-1])):
            arr = np.sort(arr)
        if direction > 0:
            i = int(np.searchsorted(arr, self._current + TIME_EPS, side="right"))
            if i >= arr.size or arr[i] > self._end:
                return None
            target = float(arr[i])
        else:
            i = int(np.searchsorted(arr, self._current - TIME_EPS, side="left")) - 1
            if i < 0 or arr[i] < self._start:
                return None
            target = float(arr[i])
        self.current = target
        return self._current

    # -- slider mapping ------------------------------------------------------------------------
    def fraction(self, t: float | None = None) -> float:
        """Where ``t`` (default: the current time) lies in the range, from 0 to 1."""
        t = self._current if t is None else float(t)
        span = self.span
        if span <= 0:
            return 1.0
        return min(max((t - self._start) / span, 0.0), 1.0)

    def time_at(self, fraction: float) -> float:
        """The time at ``fraction`` (clamped to 0..1) of the range; inverse of :meth:`fraction`."""
        f = min(max(float(fraction), 0.0), 1.0)
        if f >= 1.0:
            return self._end  # exactly the end, so a slider at its right stop can stay live
        return self._start + f * self.span
