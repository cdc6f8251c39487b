"""Charts: the selected component's sensors over time, and panels of dragged-in sensors.

A limit line dragged on a chart (:mod:`.limit_drag`) is written to the project file as the
inspector's sensor edits are (:meth:`InspectorFeature.write`, on the same undo stack: Ctrl+Z
undoes either); the twin then reopens with the new limits.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt

from twinviewer.core.project import Sensor
from twinviewer.session import TwinSession
from twinviewer.session.twin import is_project_file
from twinviewer.ui.charts.controller import ChartsController
from twinviewer.ui.charts.limit_drag import LEVELS, SIDES, format_limit
from twinviewer.ui.charts.panel import QtChartPanel
from twinviewer.ui.feature import ActionSpec, DockSpec, Feature
from twinviewer.ui.inspector.feature import InspectorFeature
from twinviewer.ui.undo import UndoFeature

if TYPE_CHECKING:
    from twinviewer.ui.main_window import QtMainWindow


class ChartsFeature(Feature):
    name = "charts"

    def __init__(self, host: QtMainWindow) -> None:
        super().__init__(host)
        self.panel = QtChartPanel()
        self._hook(self.panel)
        self.controller = ChartsController(self.workbench, self.panel, self._make_panel)
        self._pinned: tuple[Path, list[list[str]]] | None = None  # kept across a reopen

    def hosted(self) -> None:
        self._undo_with(self.panel)

    def _undo_with(self, panel: QtChartPanel) -> None:
        """Ctrl+Z in a chart undoes the limits dragged there (the inspector's sensor edits)."""
        stack = self.host.feature(InspectorFeature).undo_stack
        self.host.feature(UndoFeature).register(stack, panel)

    def docks(self) -> list[DockSpec]:
        return [
            DockSpec(
                "Charts",
                self.panel,
                Qt.DockWidgetArea.RightDockWidgetArea,
                split_from="Inspector",
                size=(470, 560),
                minimum=(220, 140),
            )
        ]

    def actions(self) -> list[ActionSpec]:
        return [
            ActionSpec(
                "charts.new_panel",
                "New &chart panel",
                self.new_chart_panel,
                "View/Panels",
                "new",
                "Ctrl+Shift+C",
                "Another chart panel: drag sensors onto it from the inspector or the alarm list",
                needs_twin=False,
                at_end=True,
            )
        ]

    @property
    def panels(self) -> list[QtChartPanel]:
        return [p for p in self.controller.panels if isinstance(p, QtChartPanel)]

    def _make_panel(self) -> QtChartPanel:
        panel = QtChartPanel(tz=self.host.time_zone)
        panel.empty_label.setText("Drag sensors here from the inspector or the alarm list")
        self._hook(panel)
        s = self.session
        panel.limit_drag.set_editable(s is not None and is_project_file(s.path))
        return panel

    def new_chart_panel(self) -> QtChartPanel:
        """A chart dock of its own: sensors dragged onto it, on the same timeline."""
        panel = self.controller.new_panel()
        assert isinstance(panel, QtChartPanel)
        self._undo_with(panel)
        title = f"Chart {len(self.controller.extra) + 1}"
        dock = self.host.add_dock(
            DockSpec(title, panel, split_from="Charts", size=(470, 300), shown_with_twin=False)
        )
        dock.show()
        return panel

    def opened(self, session: TwinSession) -> None:
        self.controller.opened(self.host.time_zone)
        editable = is_project_file(session.path)
        for panel in self.panels:
            panel.limit_drag.set_editable(editable)
        kept, self._pinned = self._pinned, None
        if kept is not None and kept[0] == session.path:  # reopened after an edit
            for panel, ids in zip(self.panels, kept[1], strict=False):
                panel.add_sensors(ids)

    def refresh(self) -> None:
        self.controller.refresh()

    def closed(self) -> None:
        s = self.session
        if s is not None:
            pinned = [[x.id for _, x in panel.pinned] for panel in self.panels]
            self._pinned = (s.path, pinned)
        self.controller.closed()
        for panel in self.panels:
            panel.limit_drag.set_editable(False)

    # -- limits dragged on a chart -------------------------------------------------------------
    def _hook(self, panel: QtChartPanel) -> None:
        panel.limit_drag.edited.connect(self.write_limits)
        panel.limit_drag.rejected.connect(self._rejected)

    def write_limits(self, before: Sensor, after: Sensor) -> bool:
        """Write ``after`` (``before`` with a limit dragged) to the project file, undoably, with
        the inspector's sensor command; whether it was written (the twin then reopens)."""
        s = self.session
        if s is None or not is_project_file(s.path):
            return False
        changed = [
            (level, side, getattr(getattr(after, level), side))
            for level in LEVELS
            for side in SIDES
            if getattr(getattr(before, level), side, None)
            != getattr(getattr(after, level), side, None)
        ]
        what = ", ".join(f"{level} {side}" for level, side, _ in changed) or "limits"
        values = ", ".join(
            f"{level} {side} {format_limit(v, after.unit)}" for level, side, v in changed
        )
        return self.host.feature(InspectorFeature).write(
            before,
            after,
            f"{what} limit of {after.id}",
            f"{after.id}: {values} written to {s.path.name}",
        )

    def _rejected(self, message: str) -> None:
        self.host.statusBar().showMessage(message, 10000)
