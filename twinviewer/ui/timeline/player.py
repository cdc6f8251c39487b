"""How time advances: replay of the history at a chosen speed, on a Qt timer.

The player only ever sets :attr:`Timeline.current` (napari's playback does the same with its
``Dims``); it holds no time of its own. Each tick advances by the *wall* time elapsed since the
previous tick times the speed, read from a monotonic clock, so a slow frame makes the next step
larger: playback drops frames instead of falling behind.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from twinviewer.core.timeline import Timeline

#: Speeds offered by the timeline bar: real time up to about a week in a minute.
SPEEDS: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 60.0, 600.0, 3600.0, 10000.0, 86400.0)
TICK_MS = 33  # ~30 Hz: smoother would not be seen, the frame timer draws at 20 Hz
MAX_STEP_S = 0.5  # wall seconds: after a stall (debugger, suspend) do not leap across the range


class QtPlayer(QObject):
    """Play/pause and speed for a :class:`Timeline`.

    Reaching the end stops playback; inside a loop range it wraps to the loop's start. Playing
    at 1x into the live edge switches the timeline back to live, which is what "catching up"
    means to an operator; without a live source (:meth:`set_live_available`) there is no live
    edge to catch up with, and playback just stops at the end.
    """

    playing_changed = Signal(bool)
    speed_changed = Signal(float)

    def __init__(
        self,
        timeline: Timeline,
        parent: QObject | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(parent)
        self.timeline = timeline
        self._clock = clock
        self._speed = 1.0
        self._last = 0.0
        self._live_available = True
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self.advance)

    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def live_available(self) -> bool:
        return self._live_available

    def set_live_available(self, on: bool) -> None:
        """Whether a live source feeds the timeline; without one, the end of the data is not a
        live edge, so reaching it at 1x must not switch the timeline to live."""
        self._live_available = bool(on)

    def set_speed(self, speed: float) -> None:
        speed = float(speed)
        if not speed > 0:
            raise ValueError(f"speed must be positive, got {speed}")
        if speed != self._speed:
            self._speed = speed
            self.speed_changed.emit(speed)

    def play(self) -> None:
        """Start replaying from the current time (from the start when already at the end)."""
        if self.playing:
            return
        tl = self.timeline
        if tl.span <= 0:
            return
        loop = tl.loop
        if loop is not None and not loop[0] <= tl.current < loop[1]:
            tl.current = loop[0]
        elif loop is None and tl.current >= tl.end:
            tl.current = tl.start  # like a media player: play at the end replays from the start
        self._last = self._clock()
        self._timer.start()
        self.playing_changed.emit(True)

    def pause(self) -> None:
        if not self.playing:
            return
        self._timer.stop()
        self.playing_changed.emit(False)

    def toggle(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    def advance(self) -> None:
        """One tick: move by wall-elapsed x speed (called by the timer; tests may call it)."""
        now = self._clock()
        elapsed = min(max(now - self._last, 0.0), MAX_STEP_S)
        self._last = now
        tl = self.timeline
        t = tl.current + elapsed * self._speed
        loop = tl.loop
        if loop is not None:
            lo, hi = loop
            if t >= hi:
                t = lo + (t - hi) % (hi - lo)
            tl.current = max(t, lo)
            return
        if t < tl.end:
            tl.current = t
            return
        if self._speed == 1.0 and self._live_available:
            tl.go_live()
        else:
            tl.current = tl.end
        self.pause()
