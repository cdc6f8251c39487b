"""What the charts show, without Qt: the selected component's sensors on the main panel, the
sensors dragged onto extra panels, all fed from the history on the workbench's timeline.

The panels are passed in (``QtChartPanel`` in the window, mocks in the controller tests).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import tzinfo
from typing import Any, Protocol

from twinviewer.core.project import Sensor
from twinviewer.core.timeline import Timeline
from twinviewer.core.workbench import Workbench
from twinviewer.ui.timeline.predictions import predicted_crossings


class ChartView(Protocol):
    def bind(self, timeline: Timeline) -> None: ...
    def set_time_zone(self, tz: tzinfo | None) -> None: ...
    def set_catalogue(self, sensors: Sequence[Sensor]) -> None: ...
    def set_sensors(self, sensors: Sequence[tuple[int, Sensor]]) -> None: ...
    def set_source(self, fetch: Any) -> None: ...
    def set_gap_source(self, fetch: Any, version: Callable[[], int] = ...) -> None: ...
    def refresh(self) -> None: ...
    def show_all(self) -> None: ...
    def set_live_available(self, on: bool) -> None: ...
    def set_forecast(self, state: Any, crossings: Sequence[Any], horizon: float) -> None: ...


class ChartsController:
    """Keeps every chart panel on the open twin's history and the selection."""

    def __init__(
        self, workbench: Workbench, main: ChartView, make_panel: Callable[[], ChartView]
    ) -> None:
        self.workbench = workbench
        self.main = main
        self.extra: list[ChartView] = []
        self._make_panel = make_panel
        self._tz: tzinfo | None = None
        main.bind(workbench.timeline)
        workbench.events.selection.connect(self._on_selection)
        workbench.events.health.connect(self._on_health)

    @property
    def panels(self) -> list[ChartView]:
        return [self.main, *self.extra]

    def _feed(self, panel: ChartView) -> None:
        s = self.workbench.twin
        panel.set_time_zone(self._tz)
        if s is None:
            return
        panel.set_live_available(bool(s.sources))
        panel.set_catalogue(s.sensors)
        panel.set_gap_source(s.gaps, lambda: len(s.live_gaps))  # hatched where data is missing
        panel.set_source(s.history.series if s.history is not None else None)
        self._forecast(panel)

    def opened(self, tz: tzinfo | None) -> None:
        self._tz = tz
        for panel in self.panels:
            self._feed(panel)
        s = self.workbench.twin
        if s is not None and not s.sources and s.history is not None:
            self.main.show_all()  # a recorded or imported history: all of it, not 10 minutes

    def _on_selection(self, selection: tuple[int, ...]) -> None:
        s = self.workbench.twin
        if s is None:
            return
        sensors = s.binding.sensors_of(selection[0]) if selection else []
        self.main.set_sensors([(k, s.sensors[k]) for k in sensors])

    def _forecast(self, panel: ChartView) -> None:
        """The models' forecast and its predicted crossings (none without a health state)."""
        s, state = self.workbench.twin, self.workbench.health
        service = s.prediction if s is not None else None
        if s is None or service is None or state is None:
            panel.set_forecast(None, [], math.inf)
            return
        horizon = float(service.horizon)
        panel.set_forecast(state, predicted_crossings(state, s.sensors, s.rules, horizon), horizon)

    def _on_health(self, _state: Any) -> None:
        for panel in self.panels:
            self._forecast(panel)

    def new_panel(self) -> ChartView:
        """Another panel on the same timeline, for sensors dragged onto it."""
        panel = self._make_panel()
        panel.bind(self.workbench.timeline)
        self.extra.append(panel)
        self._feed(panel)
        return panel

    def refresh(self) -> None:
        s = self.workbench.twin
        if s is not None and s.history is not None:
            for panel in self.panels:
                panel.refresh()

    def closed(self) -> None:
        for panel in self.panels:
            panel.set_source(None)
            panel.set_gap_source(None)
            panel.set_catalogue([])
            panel.set_forecast(None, [], math.inf)
