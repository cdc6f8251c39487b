"""Fleet: the units of a fleet twin in a dock, sorted by health; selecting one shows it.

Only fleet projects (``fleet:``) show the dock. Twice a second the table takes the session's
roll-up (:meth:`~twinviewer.session.fleet.FleetState.health`, computed with the colours) and
updates its rows in place. Clicking a unit selects it in the session: the 3D colours, the
component tree's states, the inspector, the charts and the timeline then show that unit (they
read the session's binding, which is the selected unit's); the 3D caption and the window title
name it. *Compare with…* opens a second 3D view beside the first with the other unit, on one
camera (as a scenario's side-by-side view does). When the sources discover units, the alarm
list is started again over every sensor (it keeps one array per sensor).
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt

from twinviewer.session import TwinSession
from twinviewer.ui.feature import DockSpec, Feature
from twinviewer.ui.fleet.table import QtFleetTable

if TYPE_CHECKING:
    from twinviewer.ui.main_window import QtMainWindow
    from twinviewer.ui.view3d import QtView3D

TITLE = "Fleet"


class FleetFeature(Feature):
    name = "fleet"

    def __init__(self, host: QtMainWindow) -> None:
        super().__init__(host)
        self.table = QtFleetTable()
        self.table.unitSelected.connect(self.select)
        self.table.compareRequested.connect(self.compare)
        self.compare_view: QtView3D | None = None
        self.compared: str | None = None
        self._camera_observer = 0
        self._version = -1
        self.refresh_ms = 0.0  # the last refresh's duration (the benchmark reads it)

    def docks(self) -> list[DockSpec]:
        return [
            DockSpec(
                TITLE,
                self.table,
                Qt.DockWidgetArea.RightDockWidgetArea,
                tab_with="Charts",
                size=(460, 320),
                minimum=(320, 160),
                raised=True,
            )
        ]

    # -- the twin --------------------------------------------------------------------------------
    def opened(self, session: TwinSession) -> None:
        dock = self.host.dock(TITLE)
        fleet = session.fleet
        if fleet is None:
            dock.hide()
            return
        dock.show()
        dock.raise_()
        self._version = fleet.version
        self.refresh()
        self._show_caption()

    def closed(self) -> None:
        self.stop_comparing()
        self.table.model.clear()
        self.table.caption.setText("")

    def refresh(self) -> None:
        s = self.session
        if s is None or s.fleet is None:
            return
        t0 = time.perf_counter()
        fleet = s.fleet
        if fleet.version != self._version:  # units discovered: the alarms see them too
            self._version = fleet.version
            alarms = self.host.features.get("alarms")
            if alarms is not None:
                alarms.closed()
                alarms.opened(s)
        fh = fleet.health()
        units = fleet.units
        worst_text = self._worst_texts(s, fh.worst[: fh.n])
        now = s.shown_now
        self.table.model.update(units, fh, worst_text, now - fh.last_time)
        if fleet.selected is not None:  # the shown unit stays highlighted as rows move
            self.table.select_unit(fleet.selected)
        self.table.caption.setText(
            f"{len(units)} {fleet.label.lower()}{'s' if len(units) != 1 else ''} · "
            f"showing {fleet.selected or '—'}"
        )
        self.refresh_ms = (time.perf_counter() - t0) * 1e3

    @staticmethod
    def _worst_texts(s: TwinSession, worst: np.ndarray) -> list[str]:
        value = s.shown_value
        out = []
        sensors = s.sensors
        for w in worst.tolist():
            if w < 0 or w >= len(sensors):
                out.append("—")
                continue
            x = sensors[w]
            v = float(value[w])
            label = (x.name or x.id).split(" ", 1)[-1]  # without the unit's id in front
            out.append(f"{label}: {v:.4g} {x.unit}" if math.isfinite(v) else f"{label}: no data")
        return out

    # -- selecting -------------------------------------------------------------------------------
    def select(self, unit: str) -> None:
        """Show ``unit``: the 3D view and every panel follow."""
        s = self.session
        if s is None or s.fleet is None:
            return
        s.fleet.select(unit)
        self.table.select_unit(unit)
        self.host.view.scene.show_markers(s.sensor_positions()[1])
        sel = self.workbench.selection  # the panels that follow the selection read it again
        self.workbench.selection = ()
        self.workbench.selection = sel
        self._show_caption()
        self.host.redraw()
        self.host.refresh_panels()

    def _show_caption(self) -> None:
        s = self.session
        if s is None or s.fleet is None:
            return
        label = f"{s.fleet.label} {s.fleet.selected or '—'}"
        self.host.view.scene.set_caption("title", f"{s.project.name}: {label}", "upper_left", 16)
        self.host.setWindowTitle(f"{s.project.name} — {label} — TwinViewer")

    # -- comparing two units -----------------------------------------------------------------------
    def compare(self, unit: str, other: str) -> None:
        """Show ``unit`` in the main view and ``other`` beside it, on one camera."""
        from twinviewer.ui.view3d import QtView3D

        s = self.session
        if s is None or s.fleet is None:
            return
        self.select(unit)
        self.stop_comparing()
        main = self.host.view
        view = QtView3D(self.host)
        self.compare_view, self.compared = view, other
        self.host.add_central(view)
        view.scene.show_model(s.model)
        view.scene.set_caption("title", f"{s.fleet.label} {other}", "upper_left", 16)
        view.scene.set_hidden(main.scene.hidden.copy())
        camera = main.interactor.renderer.GetActiveCamera()
        view.interactor.renderer.SetActiveCamera(camera)
        self._camera_observer = camera.AddObserver(
            "ModifiedEvent", lambda *_: view.request_render()
        )
        self.host.split.setSizes([1, 1])
        self.host.redraw()

    def stop_comparing(self) -> None:
        view, self.compare_view, self.compared = self.compare_view, None, None
        if view is not None:
            camera = self.host.view.interactor.renderer.GetActiveCamera()
            camera.RemoveObserver(self._camera_observer)
            view.close_view()
            view.setParent(None)
            view.deleteLater()

    def frame(self, t: float, live: bool) -> None:
        s = self.session
        view, other = self.compare_view, self.compared
        if s is None or s.fleet is None or view is None or other is None:
            return
        view.scene.set_component_colours(s.fleet.unit_colours(s, other))
        view.request_render()
