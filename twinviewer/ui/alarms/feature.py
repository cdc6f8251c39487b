"""Alarms and events: every warning and alarm interval from the history, listed and marked."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt

from twinviewer.session import TwinSession
from twinviewer.ui.alarms.alarm_list import QtAlarmList
from twinviewer.ui.alarms.controller import AlarmsController
from twinviewer.ui.alarms.watcher import QtAlarmWatcher
from twinviewer.ui.feature import DockSpec, Feature
from twinviewer.ui.timeline.feature import TimelineFeature

if TYPE_CHECKING:
    from twinviewer.ui.main_window import QtMainWindow


class AlarmsFeature(Feature):
    name = "alarms"

    def __init__(self, host: QtMainWindow) -> None:
        super().__init__(host)
        self.alarm_list = QtAlarmList()
        self.watcher = QtAlarmWatcher(host)
        timeline = host.feature(TimelineFeature).controller
        self.controller = AlarmsController(
            self.workbench, self.alarm_list, self.watcher, timeline.jump_to
        )
        self.watcher.changed.connect(self.controller.intervals_changed)
        self.alarm_list.jumpRequested.connect(self.controller.jump)
        self.workbench.events.health.connect(self.controller.health_changed)

    def docks(self) -> list[DockSpec]:
        return [
            DockSpec(
                "Alarms and events",
                self.alarm_list,
                Qt.DockWidgetArea.BottomDockWidgetArea,
                tab_with="Data sources",
                size=(600, 110),
                minimum=(240, 90),
                raised=True,
            )
        ]

    def opened(self, session: TwinSession) -> None:
        self.controller.opened(self.host.time_zone)

    def closed(self) -> None:
        self.controller.closed()

    def shutdown(self) -> None:
        self.watcher.stop()
