"""File > Add simulation result…: a result put on the open twin as an overlay.

The dialog (:mod:`twinviewer.ui.overlays.add_result_dialog`) reads the result, shows what it
is and sets the overlay's placement and clock; its OK writes the ``overlays:`` entry into the
project file (:func:`~twinviewer.core.project_edit.add_overlay`: comments kept, checked before
writing) as an undoable command on the window's Edit > Undo (Ctrl+Z takes the entry out
again, Ctrl+Shift+Z puts it back). After each write the twin is opened again from its file,
with the camera kept, so the Simulation dock lists the overlay (shown at once when it is
*visible on open*).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QUndoCommand, QUndoStack

from twinviewer.core.project import Overlay, ProjectError
from twinviewer.core.project_edit import ProjectEditError, add_overlay, remove_overlay
from twinviewer.session import TwinSession
from twinviewer.session.twin import is_project_file
from twinviewer.ui.feature import ActionSpec, Feature
from twinviewer.ui.overlays.add_result_dialog import QtAddResultDialog
from twinviewer.ui.overlays.feature import OverlaysFeature
from twinviewer.ui.undo import UndoFeature

if TYPE_CHECKING:
    from twinviewer.ui.main_window import QtMainWindow

log = logging.getLogger(__name__)


class AddResultFeature(Feature):
    name = "add-result"

    def __init__(self, host: QtMainWindow) -> None:
        super().__init__(host)
        self.undo_stack = QUndoStack(host)
        self.dialog: QtAddResultDialog | None = None
        self._keep: tuple[tuple[tuple[float, ...], ...], str] | None = None
        host.sessionOpened.connect(self._restore_view)

    def actions(self) -> list[ActionSpec]:
        return [
            ActionSpec(
                "file.add_result",
                "Add &simulation result…",
                lambda _=False: self.open_dialog(),
                "File",
                "result",
                "Ctrl+Shift+A",
                "Put a simulation result (a VTK, Exodus, XDMF, EnSight or CGNS file, or an "
                "OpenFOAM case) on the twin as an overlay, placed and on its clock",
            )
        ]

    def hosted(self) -> None:
        self.host.feature(UndoFeature).register(self.undo_stack)

    def closed(self) -> None:
        if self.dialog is not None:
            self.dialog.reject()

    # -- the dialog ------------------------------------------------------------------------------
    def open_dialog(self, result: Path | None = None) -> QtAddResultDialog | None:
        """Open the dialog (not modal) on the open twin; with ``result``, start reading it."""
        s = self.session
        if s is None:
            return None
        if not is_project_file(s.path):
            self.host.error(
                "Add simulation result needs a twin project",
                f"{s.path.name} is not a twin project file (.twin.yaml), so there is nowhere to "
                "write the overlay. File > New twin from model… writes a project for a model.",
            )
            return None
        if self.dialog is not None:
            self.dialog.reject()
        dialog = QtAddResultDialog(
            s.path,
            s.model.bounds(),
            s.model.units,
            [o.name for o in s.project.overlays],
            self.host,
        )
        self.dialog = dialog
        dialog.accepted.connect(lambda d=dialog: self._dialog_done(d))
        dialog.finished.connect(lambda _r, d=dialog: self._forget(d))
        dialog.open()
        if result is not None:
            dialog.read(result)
        return dialog

    def _forget(self, dialog: QtAddResultDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()

    def _dialog_done(self, dialog: QtAddResultDialog) -> None:
        s = self.session
        if s is None:
            return
        try:
            overlay = dialog.overlay()
        except ValueError as exc:  # the dialog checked it: only a race gets here
            self.host.error("The overlay was not added", str(exc))
            return
        command = OverlayCommand(self, s.path, overlay, f"add overlay {overlay.name}")
        if command.apply(undo=False):  # written: only then is there something to undo
            command.done = True
            self.undo_stack.push(command)

    # -- after a write ---------------------------------------------------------------------------
    def written(self, path: Path, name: str) -> None:
        """The project file changed: open it again, keeping the camera; ``name`` becomes the
        Simulation dock's current overlay (when it is still there)."""
        s = self.session
        if s is None or s.path != path:
            return
        self._keep = (tuple(tuple(v) for v in self.host.view.scene.camera()), name)
        self.host.reopen()

    def _restore_view(self, session: TwinSession) -> None:
        if self._keep is None:
            return
        (position, focal, up), name = self._keep
        self._keep = None
        self.host.view.scene.set_camera(position, focal, up)
        self.host.view.request_render()
        if any(o.name == name for o in session.project.overlays):
            overlays = self.host.feature(OverlaysFeature)
            overlays.panel.overlay_combo.setCurrentText(name)
            self.host.dock("Simulation").raise_()


class OverlayCommand(QUndoCommand):
    """One overlay added to the project file; undo takes it out again."""

    def __init__(self, feature: AddResultFeature, path: Path, overlay: Overlay, text: str) -> None:
        super().__init__(text)
        self.feature = feature
        self.path = path
        self.overlay = overlay
        self.done = False  # the first redo (QUndoStack.push) finds the overlay already written

    def redo(self) -> None:
        if self.done:
            self.done = False
            return
        self.apply(undo=False)

    def undo(self) -> None:
        self.apply(undo=True)

    def apply(self, undo: bool) -> bool:
        """Add the overlay (take it out when undoing); whether the file was written."""
        try:
            if undo:
                remove_overlay(self.path, self.overlay.name)
            else:
                add_overlay(self.path, self.overlay)
        except (ProjectEditError, ProjectError, OSError) as exc:
            log.warning("%s: %s", self.path, exc)
            self.feature.host.error("The project file was not changed", str(exc))
            return False
        self.feature.written(self.path, "" if undo else self.overlay.name)
        return True
