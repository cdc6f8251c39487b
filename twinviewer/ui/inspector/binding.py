"""Binding sensors to components in the window: a pick for the sensor dialog, the outline of
what its component field matches, and a sensor dropped onto another component.

*Pick in 3D* uses the window's own selection, not a picker of its own: the dialog steps aside,
the selection is cleared, and the next component the user selects (a click in the 3D view or a
row of the Components tree, both of which set the workbench's selection) fills the dialog's
component field; Escape brings the dialog back unchanged. While the dialog is open, the nodes
its component field matches are outlined in the 3D view; the selection's outline comes back
when it closes.

A sensor row dropped onto a component (in the tree or the 3D view) binds the sensor to that
component: one undoable command on the inspector's stack, written with
:func:`~twinviewer.core.project_edit.add_sensors` (the entry rewritten in place, comments
kept). A sensor bound by a pattern that matches several components is only rebound once the
user agrees to replace the pattern.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QMessageBox

from twinviewer.core.binding import match_reference, reference_to
from twinviewer.core.project_edit import add_sensors
from twinviewer.session.twin import is_project_file
from twinviewer.ui.project_edits import edit_project

if TYPE_CHECKING:
    from twinviewer.core.project import Sensor
    from twinviewer.ui.inspector.feature import InspectorFeature
    from twinviewer.ui.inspector.sensor_dialog import SensorDialog

log = logging.getLogger(__name__)

PICK_HINT = (
    "Pick the component for {what}: click it in the 3D view or in the Components tree "
    "(Esc: back to the dialog)"
)


class BindingTool:
    """The binding gestures of the inspector feature (see the module's docstring)."""

    def __init__(self, feature: InspectorFeature) -> None:
        self.feature = feature
        self.host = feature.host
        self.picking: SensorDialog | None = None
        self._before: tuple[int, ...] = ()
        self._outlined = False
        self.cancel_key = QShortcut(QKeySequence(Qt.Key.Key_Escape), self.host)
        self.cancel_key.setContext(Qt.ShortcutContext.WindowShortcut)
        self.cancel_key.setEnabled(False)
        self.cancel_key.activated.connect(self.cancel_pick)
        feature.workbench.events.selection.connect(self._on_selection)

    # -- the dialog's component field --------------------------------------------------------
    def attach(self, dialog: SensorDialog) -> None:
        """Serve ``dialog``'s *Pick in 3D* and outline what its component matches."""
        dialog.pickRequested.connect(lambda d=dialog: self.start_pick(d))
        dialog.matchesChanged.connect(self.outline)
        dialog.finished.connect(lambda _r, d=dialog: self._dialog_closed(d))
        if dialog.matches:
            self.outline(dialog.matches)

    def outline(self, nodes: list[int]) -> None:
        """Outline ``nodes`` in the 3D view (the selection's outline when there are none)."""
        view = self.host.view
        self._outlined = bool(nodes)
        view.scene.highlight(nodes if nodes else list(self.feature.workbench.selection))
        view.request_render()

    def _dialog_closed(self, dialog: SensorDialog) -> None:
        if self.picking is dialog:
            self._end_pick()
        if self._outlined:  # the selection's outline back
            self.outline([])

    # -- picking -------------------------------------------------------------------------------
    def start_pick(self, dialog: SensorDialog) -> None:
        """Step the dialog aside until a component is selected (or Escape)."""
        if self.feature.session is None:
            return
        self.picking = dialog
        wb = self.feature.workbench
        self._before = wb.selection
        dialog.hide()
        self.cancel_key.setEnabled(True)
        wb.selection = ()  # so that selecting the component selected before counts as a pick
        what = f"sensor {dialog.original.id}" if dialog.original else "the new sensor"
        self.host.statusBar().showMessage(PICK_HINT.format(what=what))

    def cancel_pick(self) -> None:
        """Escape: the dialog comes back as it was, the selection too."""
        dialog = self.picking
        if dialog is None:
            return
        self._end_pick()
        self.feature.workbench.selection = self._before
        self.host.statusBar().clearMessage()
        self._show(dialog)
        if dialog.matches:
            self.outline(dialog.matches)

    def _end_pick(self) -> None:
        self.picking = None
        self.cancel_key.setEnabled(False)

    def _on_selection(self, selection: tuple[int, ...]) -> None:
        dialog, s = self.picking, self.feature.session
        if dialog is None or s is None or not selection:
            return  # a click on nothing: still picking
        self._end_pick()
        ref = reference_to(s.project, s.model, selection[0])
        dialog.set_component(ref)
        self.host.statusBar().showMessage(f"Component: {ref}", 5000)
        self._show(dialog)

    @staticmethod
    def _show(dialog: SensorDialog) -> None:
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    # -- a sensor dropped onto a component ------------------------------------------------------
    def rebind(self, sensor_ids: list[str], index: int, confirm: bool = True) -> bool:
        """Bind the sensors ``sensor_ids`` to model node ``index`` (undoable); whether the
        project file was written. A sensor bound by a pattern that matches several components
        is rebound only if the user agrees (unless ``confirm`` is False)."""
        s = self.feature.session
        status = self.host.statusBar()
        if s is None:
            return False
        if not is_project_file(s.path):
            status.showMessage("Sensors are bound in a twin project: open or make one", 8000)
            return False
        if not 0 <= index < s.model.n_components:
            status.showMessage("Drop the sensor onto a component", 5000)
            return False
        target = reference_to(s.project, s.model, index)
        before: list[Sensor] = []
        after: list[Sensor] = []
        for sid in sensor_ids:
            k = s.sensor_index.get(sid)
            if k is None:
                continue
            old = s.sensors[k]
            if old.component == target:
                continue
            m = match_reference(s.project, s.model, old.component)
            if (
                confirm
                and m.pattern
                and len(m.nodes) > 1
                and not self._replace_pattern(sid, old.component or "", len(m.nodes), target)
            ):
                continue
            before.append(old)
            after.append(old.model_copy(update={"component": target}))
        if not after:
            if all(s.sensors[s.sensor_index[x]].component == target
                   for x in sensor_ids if x in s.sensor_index):  # fmt: skip
                status.showMessage(f"{', '.join(sensor_ids)} already bound to {target}", 5000)
            return False
        ids = ", ".join(x.id for x in after)
        path = Path(s.path)
        return edit_project(
            self.host,
            self.feature.undo_stack,
            f"bind {ids} to {target}",
            lambda: add_sensors(path, after),
            lambda: add_sensors(path, before),
            f"{ids} → {target}",
        )

    def _replace_pattern(self, sensor: str, pattern: str, n: int, target: str) -> bool:
        answer = QMessageBox.question(
            self.host,
            "Replace the pattern?",
            f"{sensor} is bound to {pattern!r}, which matches {n} components.\n"
            f"Bind it to {target} alone instead? (Edit > Undo puts the pattern back)",
        )
        return answer == QMessageBox.StandardButton.Yes
