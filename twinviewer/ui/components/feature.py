"""Components: the model's tree, picking in 3D, selection, hide/isolate/show, X-ray, find.

The selection and the hidden set live in the workbench model; the tree and the 3D view only
show them and report what the user asked for. A sensor row dropped onto a component (a row of
the tree, or the component under the cursor in the 3D view) is bound to it by the inspector,
which keeps the sensor edits and their undo.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from twinviewer.session import TwinSession
from twinviewer.ui.components.tree import QtComponentTree
from twinviewer.ui.feature import ActionSpec, DockSpec, Feature
from twinviewer.ui.inspector.feature import InspectorFeature

if TYPE_CHECKING:
    from twinviewer.ui.main_window import QtMainWindow


class ComponentsFeature(Feature):
    name = "components"

    def __init__(self, host: QtMainWindow) -> None:
        super().__init__(host)
        self.tree = QtComponentTree()
        self._picked = False
        wb = self.workbench
        self.tree.selectionChanged.connect(self.select)
        self.tree.visibilityChanged.connect(self._on_tree_visibility)
        self.tree.zoomRequested.connect(self.zoom_to)
        host.view.componentPicked.connect(self.pick)
        self.tree.sensorsDropped.connect(self.bind_sensors)
        host.view.sensorsDropped.connect(self.bind_sensors)
        wb.events.selection.connect(self._show_selection)
        wb.events.hidden.connect(self._show_hidden)
        wb.events.covered.connect(self._show_hidden)
        wb.events.xray.connect(self._show_xray)

    def docks(self) -> list[DockSpec]:
        return [
            DockSpec(
                "Components",
                self.tree,
                Qt.DockWidgetArea.LeftDockWidgetArea,
                size=(290, 600),
                minimum=(180, 120),
            )
        ]

    def actions(self) -> list[ActionSpec]:
        return [
            ActionSpec(
                "components.zoom_selection", "&Zoom to selection", self.zoom_to_selection,
                "View", "camera", "Z", "Frame the selected components",
            ),
            ActionSpec("components.hide", "&Hide selected", self.tree.hide_selected,
                       "View", "visibility", "H"),
            ActionSpec("components.isolate", "&Isolate selected", self.tree.isolate_selected,
                       "View", "visibility", "I"),
            ActionSpec("components.hide_own", "Hide own geometry only",
                       lambda: self.tree.hide_selected(own_only=True), "View", "visibility",
                       "Alt+H", "Hide the selected node's own mesh, keep its children"),
            ActionSpec("components.isolate_own", "Isolate own geometry only",
                       lambda: self.tree.isolate_selected(own_only=True), "View", "visibility",
                       "Alt+I", "Show only the selected node's own mesh, not its children"),
            ActionSpec("components.show_all", "Show &all", self.tree.show_all,
                       "View", "visibility", "Shift+H"),
            ActionSpec(
                "components.xray", "&X-ray", self.set_xray, "View", "visibility", "X",
                "Draw the parts that are not selected translucent, to see parts inside others",
                checkable=True,
            ),
            ActionSpec("components.find", "&Find component", self.focus_search,
                       "View", "visibility", QKeySequence.StandardKey.Find),
        ]  # fmt: skip

    # -- intent from the views -------------------------------------------------------------------
    def select(self, indices: list[int]) -> None:
        self.workbench.selection = tuple(indices)

    def pick(self, index: int) -> None:
        self._picked = True  # a click lands on a node's own triangles, not on its children
        self.workbench.selection = () if index < 0 else (index,)

    def bind_sensors(self, sensor_ids: list[str], index: int) -> None:
        """Sensors dropped onto component ``index`` (-1: onto nothing) are bound to it."""
        self.host.feature(InspectorFeature).rebind(list(sensor_ids), index)

    def _on_tree_visibility(self, hidden: np.ndarray) -> None:
        self.workbench.hidden = tuple(int(i) for i in np.flatnonzero(np.asarray(hidden, bool)))

    def set_xray(self, on: bool) -> None:
        self.workbench.xray = bool(on)

    def focus_search(self) -> None:
        self.host.dock("Components").show()
        self.tree.search.setFocus()
        self.tree.search.selectAll()

    def zoom_to(self, indices: list[int] | tuple[int, ...]) -> None:
        s = self.session
        if s is None or not indices:
            return
        comps: list[int] = []
        for i in indices:
            comps.extend(s.model.subtree(i))
        self.host.view.scene.fit_components(comps)
        self.host.view.request_render()

    def zoom_to_selection(self) -> None:
        self.zoom_to(self.workbench.selection)

    # -- the model shown -------------------------------------------------------------------------
    def _show_selection(self, selection: tuple[int, ...]) -> None:
        picked, self._picked = self._picked, False
        if list(selection) != self.tree.selected():
            self.tree.select(list(selection), own_geometry=picked)
        for view in self.host.central_views():
            view.scene.highlight(list(selection))
            view.request_render()

    def _show_hidden(self, *_: object) -> None:
        s = self.session
        if s is None:
            return
        n = s.model.n_components
        user = self.workbench.hidden_mask(n, covered=False)
        if not np.array_equal(user, self.tree.hidden):
            self.tree.set_hidden(user)
        scene = self.host.view.scene
        scene.set_hidden(self.workbench.hidden_mask(n))
        scene.highlight(list(self.workbench.selection))
        self.host.view.request_render()

    def _show_xray(self, on: bool) -> None:
        self.host.action("components.xray").setChecked(on)
        for view in self.host.central_views():
            view.scene.set_xray(on)
            view.request_render()

    # -- hooks -----------------------------------------------------------------------------------
    def opened(self, session: TwinSession) -> None:
        model = session.model
        counts = np.bincount(session.binding.colouring.pair_component, minlength=model.n_components)
        self.tree.set_model(model, counts)
        self.tree.search.clear()
        self._show_hidden()

    def refresh(self) -> None:
        if self.session is not None:
            self.tree.set_states(self.session.component_state)

    def closed(self) -> None:
        self.tree.tree.clear()
        self.host.action("components.xray").setChecked(False)
