"""Charts: the selected component's sensors over time, and panels of dragged-in sensors."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt

from twinviewer.session import TwinSession
from twinviewer.ui.charts.controller import ChartsController
from twinviewer.ui.charts.panel import QtChartPanel
from twinviewer.ui.feature import ActionSpec, DockSpec, Feature

if TYPE_CHECKING:
    from twinviewer.ui.main_window import QtMainWindow


class ChartsFeature(Feature):
    name = "charts"

    def __init__(self, host: QtMainWindow) -> None:
        super().__init__(host)
        self.panel = QtChartPanel()
        self.controller = ChartsController(self.workbench, self.panel, self._make_panel)

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
        return panel

    def new_chart_panel(self) -> QtChartPanel:
        """A chart dock of its own: sensors dragged onto it, on the same timeline."""
        panel = self.controller.new_panel()
        assert isinstance(panel, QtChartPanel)
        title = f"Chart {len(self.controller.extra) + 1}"
        dock = self.host.add_dock(
            DockSpec(title, panel, split_from="Charts", size=(470, 300), shown_with_twin=False)
        )
        dock.show()
        return panel

    def opened(self, session: TwinSession) -> None:
        self.controller.opened(self.host.time_zone)

    def refresh(self) -> None:
        self.controller.refresh()

    def closed(self) -> None:
        self.controller.closed()
