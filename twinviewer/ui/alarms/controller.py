"""The alarm list's logic, without Qt: who its rows are, following the history, acting on a
click. The list and the watcher are passed in (mocks in the controller tests)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo
from typing import Any, Protocol

import numpy as np

from twinviewer.core.alarms import AlarmLog
from twinviewer.core.workbench import Workbench
from twinviewer.session.control_room import ACKS_FILE as ACKS_FILE
from twinviewer.session.control_room import acknowledgements_for
from twinviewer.ui.alarms.rows import ANOMALY, PREDICTED, ROW_DTYPE, as_rows


class AlarmListView(Protocol):
    def set_time_zone(self, tz: tzinfo | None) -> None: ...
    def set_context(self, *args: Any) -> None: ...
    def set_intervals(self, intervals: Any) -> None: ...
    def set_predictions(self, rows: Any) -> None: ...
    def clear(self) -> None: ...


class WatcherView(Protocol):
    def start(self, alarms: AlarmLog, store: Any, project_ids: Any) -> None: ...
    def stop(self) -> None: ...


class AlarmsController:
    """Names the list's rows, follows the store on the watcher, publishes the intervals."""

    def __init__(
        self,
        workbench: Workbench,
        view: AlarmListView,
        watcher: WatcherView,
        jump: Callable[[float], None],
    ) -> None:
        self.workbench = workbench
        self.view = view
        self.watcher = watcher
        self._jump = jump

    def opened(self, tz: tzinfo | None) -> None:
        s = self.workbench.twin
        if s is None:
            return
        self.view.set_time_zone(tz)
        comps = []
        for sensor in s.sensors:
            nodes = s.binding.component_nodes.get(sensor.component or "", [])
            comps.append(nodes[0] if nodes else -1)
        ids = [x.id for x in s.sensors]
        labels = [x.name or x.id for x in s.sensors]
        units = [x.unit for x in s.sensors]
        if s.prediction is not None:  # anomaly events name a model's group, after the sensors
            index = {x.id: i for i, x in enumerate(s.sensors)}
            for g in s.prediction.models.groups:
                first = index.get(g.sensors[0], -1) if g.sensors else -1
                ids.append(f"anomaly/{g.id}")
                labels.append(f"{g.id} (anomaly score)")
                units.append("")
                comps.append(comps[first] if first >= 0 else -1)
        acks = acknowledgements_for(s)  # the history folder's file, or the control room's
        names = [c.name or c.id for c in s.model.components]  # an unnamed node: its path
        self.view.set_context(ids, labels, units, comps, names, acks)
        if s.history is not None:
            self.watcher.start(AlarmLog(s.rules), s.history, [x.id for x in s.sensors])

    def intervals_changed(self, intervals: Any) -> None:
        """The watcher computed the intervals again: to the list, and to the workbench."""
        if self.workbench.twin is None:
            return
        self.view.set_intervals(intervals)
        self.workbench.alarms = intervals

    def health_changed(self, state: Any) -> None:
        """What the models say changed (live, or the time shown): the predicted alarms of
        that moment and every anomaly event, to the list."""
        s = self.workbench.twin
        if s is None:
            return
        service = s.prediction
        if service is None or state is None:
            self.view.set_predictions(np.zeros(0, ROW_DTYPE))
            return
        crossings = state.crossings(s.rules, service.horizon)
        pred = np.zeros(len(crossings), ROW_DTYPE)
        for k, c in enumerate(crossings):
            pred[k] = (
                c.sensor, c.level, state.time + c.expected, np.nan, c.limit,
                PREDICTED, state.time + c.early, state.time + c.late, state.time,
            )  # fmt: skip
        events = as_rows(service.anomaly_events(), ANOMALY)
        events["sensor"] += len(s.sensors)
        self.view.set_predictions(np.concatenate([pred, events]))

    def jump(self, t: float, component: int = -1) -> None:
        """A row was clicked: the timeline to its start, its component selected."""
        self._jump(t)
        if component >= 0:
            self.workbench.selection = (component,)

    def closed(self) -> None:
        self.watcher.stop()
        self.view.clear()
        self.workbench.alarms = None
