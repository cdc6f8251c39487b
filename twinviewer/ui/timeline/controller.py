"""How the timeline is driven, without Qt: where it starts when a twin opens, stepping to the
previous/next sample or alarm, jumping to an instant, the alarm markers along the bar and the
data-quality gaps hatched over it.

The bar and the player are passed in (``QtTimelineBar``/``QtPlayer`` in the window, mocks in
the controller tests); the time itself is the workbench's :class:`~twinviewer.core.timeline.
Timeline`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import tzinfo
from typing import Any, Protocol

import numpy as np

from twinviewer.core.colour import STATUS_COLOURS, Status
from twinviewer.core.workbench import Workbench
from twinviewer.ui.timeline.predictions import predicted_crossings
from twinviewer.ui.timeline.ticks import SIM_TIME
from twinviewer.ui.widgets.gaps import GapQuery


class TimelineView(Protocol):
    def set_time_zone(self, tz: tzinfo | None) -> None: ...
    def set_markers(self, times: Any, colours: Any = ...) -> None: ...
    def set_live_available(self, on: bool) -> None: ...
    def set_gaps(self, gaps: Any) -> None: ...
    def set_predictions(self, items: Any) -> None: ...
    def view_range(self) -> tuple[float, float]: ...
    def setEnabled(self, on: bool) -> None: ...  # noqa: N802 (Qt's name)
    def setToolTip(self, text: str) -> None: ...  # noqa: N802


class PlayerView(Protocol):
    def pause(self) -> None: ...


class TimelineController:
    """Keeps the timeline on the open twin's history and its live sources."""

    def __init__(
        self,
        workbench: Workbench,
        bar: TimelineView,
        player: PlayerView,
        message: Callable[[str], None] = lambda _text: None,
    ) -> None:
        self.workbench = workbench
        self.bar = bar
        self.player = player
        self.message = message
        self._gap_query: GapQuery | None = None
        self._gap_twin: object = None  # the twin the query asks
        self.step_times: np.ndarray | None = None  # a result's steps, when they are the time
        workbench.events.alarms.connect(self._on_alarms)
        workbench.events.health.connect(self._on_health)

    @property
    def timeline(self):  # noqa: ANN201 (the workbench's Timeline)
        return self.workbench.timeline

    def opened(self, tz: tzinfo | None, now: float | None = None) -> None:
        """Span what the store holds. With a live source: up to now, following live. Without
        one (an imported history): exactly the data held, at its end, not at "now"."""
        s = self.workbench.twin
        if s is None:
            return
        self.player.pause()
        now = time.time() if now is None else now
        tl = self.timeline
        held = s.history.time_range() if s.history is not None else None
        live = bool(s.sources) or held is None
        if live:
            tl.set_range(min(held[0], now) if held else now, now)
            tl.go_live()
        else:
            assert held is not None
            tl.fit(held[0], max(held[1], held[0]))
        self.bar.set_time_zone(tz)
        self.bar.set_live_available(live)
        self.bar.setEnabled(s.history is not None)
        self.bar.setToolTip(
            "" if s.history is not None else "No history for this model (open a project)"
        )

    def show_steps(self, times: Any) -> None:
        """No live feed and no history: the timeline holds a simulation result's step times
        (twin seconds), at its first step, with no live edge; the step buttons go from step to
        step."""
        steps = np.unique(np.asarray(times, np.float64))
        if not len(steps):
            return
        self.player.pause()
        self.step_times = steps
        self.bar.set_live_available(False)
        self.bar.setEnabled(True)
        self.bar.setToolTip("")
        if getattr(self.workbench.twin, "simulation_time", False):  # a result by itself
            self.bar.set_time_zone(SIM_TIME)
        self.timeline.fit(float(steps[0]), float(steps[-1]), current=float(steps[0]))

    def closed(self) -> None:
        self.step_times = None
        self.player.pause()
        self.bar.set_markers([])
        self.bar.set_gaps([])
        self.bar.set_predictions([])
        self._gap_query = None

    def update_gaps(self) -> None:
        """Hand the bar the gaps (of any sensor) in its visible window. Cheap to call often
        (each frame, each view change): the store is asked again only when the window leaves
        what was fetched or a source reported a gap."""
        s = self.workbench.twin
        if s is None:
            self._gap_query = None
            self.bar.set_gaps([])
            return
        if self._gap_query is None or self._gap_twin is not s:
            self._gap_query = GapQuery(s.gaps, lambda: len(s.live_gaps))
            self._gap_twin = s
        v0, v1 = self.bar.view_range()
        self.bar.set_gaps(self._gap_query.get(v0, v1))

    def _on_alarms(self, intervals: Any) -> None:
        if intervals is None or len(intervals) == 0:
            self.bar.set_markers([])
            return
        colours = np.array(
            [STATUS_COLOURS[Status(int(level))][:3] for level in intervals["level"]], np.uint8
        )
        self.bar.set_markers(intervals["start"], colours)

    def _on_health(self, state: Any) -> None:
        """Predicted crossings of the models' view at the shown time, for the bar."""
        s = self.workbench.twin
        service = s.prediction if s is not None else None
        if s is None or service is None or state is None:
            self.bar.set_predictions([])
            return
        self.bar.set_predictions(
            predicted_crossings(state, s.sensors, s.rules, float(service.horizon))
        )

    def jump_to(self, t: float) -> None:
        """Move the timeline to ``t``, leaving live (and stopping a replay)."""
        self.player.pause()
        tl = self.timeline
        if t > tl.end:  # the store may hold a little more than the bar's range so far
            tl.extend(t)
        tl.live = False
        tl.current = t

    def step_alarm(self, direction: int) -> None:
        """Previous/next alarm or warning start (of every sensor)."""
        rec = self.workbench.alarms
        if rec is None or len(rec) == 0:
            self.message("No alarms or warnings recorded")
            return
        self.player.pause()
        if self.timeline.step(np.sort(rec["start"]), direction) is None:
            self.message(f"No {'later' if direction > 0 else 'earlier'} alarm")

    def step_sample(self, direction: int) -> None:
        """Previous/next recorded sample of the selected component's sensors (or any sensor)."""
        s = self.workbench.twin
        held = s.history.time_range() if s is not None and s.history is not None else None
        if s is not None and held is None and self.step_times is not None:
            self.player.pause()
            if self.timeline.step(self.step_times, direction) is None:
                self.message(f"No {'later' if direction > 0 else 'earlier'} step")
            return
        if s is None or s.history is None:
            return
        self.player.pause()
        selection = self.workbench.selection
        sensors = s.binding.sensors_of(selection[0]) if selection else None
        t = s.history.neighbour(self.timeline.current, direction, sensors or None)
        if t is None:
            self.message(f"No {'later' if direction > 0 else 'earlier'} sample nearby")
            return
        self.timeline.current = t
