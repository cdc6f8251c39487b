"""The alarm list's logic, without Qt: who its rows are, following the history, acting on a
click. The list and the watcher are passed in (mocks in the controller tests)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo
from pathlib import Path
from typing import Any, Protocol

from twinviewer.core.alarms import Acknowledgements, AlarmLog
from twinviewer.core.workbench import Workbench

ACKS_FILE = "acknowledged.json"  # in the history folder: acknowledged alarms survive a restart


class AlarmListView(Protocol):
    def set_time_zone(self, tz: tzinfo | None) -> None: ...
    def set_context(self, *args: Any) -> None: ...
    def set_intervals(self, intervals: Any) -> None: ...
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
        folder = getattr(s.history, "folder", None)
        acks = Acknowledgements(Path(folder) / ACKS_FILE if folder is not None else None)
        self.view.set_context(
            [x.id for x in s.sensors],
            [x.name or x.id for x in s.sensors],
            [x.unit for x in s.sensors],
            comps,
            [c.name for c in s.model.components],
            acks,
        )
        if s.history is not None:
            self.watcher.start(AlarmLog(s.rules), s.history, [x.id for x in s.sensors])

    def intervals_changed(self, intervals: Any) -> None:
        """The watcher computed the intervals again: to the list, and to the workbench."""
        if self.workbench.twin is None:
            return
        self.view.set_intervals(intervals)
        self.workbench.alarms = intervals

    def jump(self, t: float, component: int = -1) -> None:
        """A row was clicked: the timeline to its start, its component selected."""
        self._jump(t)
        if component >= 0:
            self.workbench.selection = (component,)

    def closed(self) -> None:
        self.watcher.stop()
        self.view.clear()
        self.workbench.alarms = None
