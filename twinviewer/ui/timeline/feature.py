"""Timeline: the bar along the bottom, playback, stepping by sample and by alarm."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolBar

from twinviewer.session import TwinSession
from twinviewer.ui.feature import Feature
from twinviewer.ui.timeline.bar import QtTimelineBar
from twinviewer.ui.timeline.controller import TimelineController
from twinviewer.ui.timeline.player import SPEEDS, QtPlayer

if TYPE_CHECKING:
    from twinviewer.ui.main_window import QtMainWindow

STEPS_PLAY_S = 20.0
"""A result's steps play in about this many wall seconds."""


class TimelineFeature(Feature):
    name = "timeline"

    def __init__(self, host: QtMainWindow) -> None:
        super().__init__(host)
        tl = self.workbench.timeline
        self.player = QtPlayer(tl, host)
        self.bar = QtTimelineBar(tl, self.player, parent=host)
        self.controller = TimelineController(
            self.workbench,
            self.bar,
            self.player,
            lambda text: host.statusBar().showMessage(text, 3000),
        )
        self.bar.stepRequested.connect(self.controller.step_sample)
        self.bar.alarmStepRequested.connect(self.controller.step_alarm)
        self.bar.viewChanged.connect(lambda _t0, _t1: self.controller.update_gaps())
        self.toolbar = QToolBar("Timeline", host)
        self.toolbar.setObjectName("timeline-toolbar")
        self.toolbar.setMovable(False)
        self.toolbar.addWidget(self.bar)
        host.addToolBar(Qt.ToolBarArea.BottomToolBarArea, self.toolbar)
        self.toolbar.hide()

    def opened(self, session: TwinSession) -> None:
        self.toolbar.show()
        self.toolbar.setEnabled(session.history is not None)
        self.controller.opened(self.host.time_zone)
        self.controller.update_gaps()

    def show_steps(self, times: object) -> None:
        """The timeline holds these step times (no live feed, no history; see
        :meth:`TimelineController.show_steps`), played at the slowest speed that shows them
        all in about :data:`STEPS_PLAY_S` seconds."""
        self.toolbar.setEnabled(True)
        self.controller.show_steps(times)
        span = self.workbench.timeline.span
        self.player.set_speed(next((v for v in SPEEDS if span / v <= STEPS_PLAY_S), SPEEDS[-1]))

    def refresh(self) -> None:
        self.controller.update_gaps()  # a source may have reported a gap

    def closed(self) -> None:
        self.controller.closed()
        self.toolbar.hide()

    def shutdown(self) -> None:
        self.player.pause()
