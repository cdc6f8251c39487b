"""Health: the trained models scored live and on history, shown on the twin.

The feature opens the session's :class:`~twinviewer.session.prediction.PredictionService`,
keeps it scored on a worker thread, and publishes what the models say at the shown time as
``workbench.health`` (live: the newest scores; scrubbing: the stored ones), which the
inspector, the charts, the timeline and the alarm list read. With ``workbench.health_colours``
(*Colour by > Health index*) it paints every component by the health of its sensors' groups,
the worst one winning, over the live colours.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING

import numpy as np

from twinviewer.core.colour import component_colours
from twinviewer.predict.health import HealthState, health_rgba
from twinviewer.session import TwinSession
from twinviewer.ui.feature import Feature
from twinviewer.ui.health.watcher import QtHealthWatcher

if TYPE_CHECKING:
    from twinviewer.session.prediction import PredictionService
    from twinviewer.ui.main_window import QtMainWindow

log = logging.getLogger(__name__)


class HealthFeature(Feature):
    name = "health"

    def __init__(self, host: QtMainWindow) -> None:
        super().__init__(host)
        self.watcher = QtHealthWatcher(host)
        self.watcher.scored.connect(self._on_scored)
        self.workbench.events.health_colours.connect(lambda _on: self.host.redraw())
        self.workbench.timeline.changed.connect(lambda _t: self._publish())
        self.scored = 0  # passes that scored something (tests wait on it)
        self._open = False  # between opened() and closed(): publish nothing outside

    @property
    def service(self) -> PredictionService | None:
        s = self.session
        return s.prediction if s is not None else None

    def opened(self, session: TwinSession) -> None:
        """The host opened the prediction with the history (a broken model set was reported
        there): keep it scored."""
        self._open = True
        if session.prediction is not None:
            self.watcher.start(session.prediction)
            self._publish()

    def _on_scored(self) -> None:
        self.scored += 1
        self._publish()

    def _publish(self) -> None:
        """``workbench.health``: the models' view at the shown time."""
        service = self.service
        wb = self.workbench
        if not self._open:
            return
        if service is None:
            if wb.health is not None:
                wb.health = None
            return
        tl = wb.timeline
        state: HealthState | None
        if tl.live:
            state = service.latest
        else:
            try:
                state = service.state_at(tl.current)
            except Exception:  # a damaged predictions store must not break scrubbing
                log.exception("prediction: reading the stored scores failed")
                state = None
        if state is not wb.health:
            wb.health = state
            if wb.health_colours:
                self.host.redraw()

    def refresh(self) -> None:
        wb = self.workbench
        if wb.timeline.live or (wb.health is None and self.service is not None):
            self._publish()

    def frame(self, t: float, live: bool) -> None:
        s = self.session
        wb = self.workbench
        if s is None or not wb.health_colours:
            return
        scene = self.host.view.scene
        state: HealthState | None = wb.health
        if state is None:
            colours = s.base_colours.copy()
        else:
            colours = self.component_colours(s, state)
        scene.set_component_colours(colours)

    @staticmethod
    def component_colours(s: TwinSession, state: HealthState) -> np.ndarray:
        """Each component by the lowest health among the groups of its sensors."""
        health = state.sensor_health()
        rank = np.where(np.isnan(health), -np.inf, -health)
        colours, _ = component_colours(
            s.binding.colouring, health_rgba(health), rank, s.base_colours
        )
        return colours

    def component_health(self, component: int) -> float:
        """The health shown on a component (NaN: no model covers it)."""
        s = self.session
        state: HealthState | None = self.workbench.health
        if s is None or state is None:
            return math.nan
        sensors = s.binding.sensors_of(component)
        h = state.sensor_health()[sensors] if sensors else np.zeros(0)
        h = h[np.isfinite(h)]
        return float(h.min()) if len(h) else math.nan

    def closed(self) -> None:
        self._open = False
        self.watcher.stop()
        self.workbench.health = None
        self.workbench.health_colours = False

    def shutdown(self) -> None:
        self.watcher.stop()
