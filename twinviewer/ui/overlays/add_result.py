"""File > Add simulation result…: a result put on the open twin as an overlay.

The dialog (:mod:`twinviewer.ui.overlays.add_result_dialog`) reads the result, shows what it
is and sets the overlay's placement and clock; its OK writes the ``overlays:`` entry into the
project file (:func:`~twinviewer.core.project_edit.add_overlay`: comments kept, checked before
writing) as an undoable command on the window's Edit > Undo (Ctrl+Z takes the entry out
again, Ctrl+Shift+Z puts it back; :mod:`twinviewer.ui.project_edits`). After each write the
twin is opened again from its file as the user left it, so the Simulation dock lists the
overlay (shown at once when it is *visible on open*).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QUndoStack

from twinviewer.core.project_edit import add_overlay, remove_overlay
from twinviewer.session import TwinSession
from twinviewer.session.twin import is_project_file
from twinviewer.ui.feature import ActionSpec, Feature
from twinviewer.ui.overlays.add_result_dialog import QtAddResultDialog
from twinviewer.ui.overlays.feature import OverlaysFeature
from twinviewer.ui.project_edits import edit_project
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
        self._show: str | None = None  # the overlay to bring forward once the twin reopened
        host.sessionOpened.connect(self._show_added)

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
        path = Path(s.path)
        self._show = overlay.name
        written = edit_project(
            self.host,
            self.undo_stack,
            f"add overlay {overlay.name}",
            lambda: add_overlay(path, overlay),
            lambda: remove_overlay(path, overlay.name),
            f"Overlay {overlay.name} added to {path.name}",
        )
        if not written:
            self._show = None

    # -- after a write ---------------------------------------------------------------------------
    def _show_added(self, session: TwinSession) -> None:
        """The twin opened again with the overlay just added: it is the Simulation dock's."""
        name, self._show = self._show, None
        if name is not None and any(o.name == name for o in session.project.overlays):
            overlays = self.host.feature(OverlaysFeature)
            overlays.panel.overlay_combo.setCurrentText(name)
            self.host.dock("Simulation").raise_()
