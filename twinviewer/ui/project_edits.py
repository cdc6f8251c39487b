"""Edits of the open twin's project file, each one undoable step: one command for them all.

Every authoring gesture (a sensor added, edited, removed or dragged onto another component, a
limit dragged on a chart, a tag list imported, a simulation result added) writes the project
file through :mod:`twinviewer.core.project_edit` and opens the twin again as the user left it
(:meth:`~twinviewer.ui.main_window.QtMainWindow.reopen`: docks, camera, selection). What they
share is here: :func:`edit_project` runs the edit, says why when it fails (nothing is written,
nothing to undo), and pushes a :class:`ProjectFileEdit` on the feature's stack.

Undo puts back the file's very bytes as long as the file still holds what the edit wrote (a
sensor written on one ``{…}`` line comes back so, with every comment). When something else
changed the file since (an edit from another feature's stack, or an editor), the edit's
``undo`` function reverses it by meaning instead (the old sensor written back, the overlay
taken out); without one, undo refuses and says why rather than lose the later change. Redo is
the same the other way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QUndoCommand, QUndoStack

from twinviewer.core.project import ProjectError
from twinviewer.core.project_edit import ProjectEditError, write_file

if TYPE_CHECKING:
    from twinviewer.ui.main_window import QtMainWindow

log = logging.getLogger(__name__)

Edit = Callable[[], object]
#: What an edit may raise for a user to read (nothing was written).
EDIT_ERRORS = (ProjectEditError, ProjectError, OSError, ValueError)


class ProjectFileEdit(QUndoCommand):
    """The project file from ``before`` to ``after`` (bytes), written by ``redo_edit``;
    ``undo_edit`` (optional) reverses it when the file changed in between."""

    def __init__(
        self,
        host: QtMainWindow,
        path: Path,
        before: bytes,
        after: bytes,
        text: str,
        redo_edit: Edit,
        undo_edit: Edit | None = None,
        message: str = "",
    ) -> None:
        super().__init__(text)
        self.host = host
        self.path = path
        self.before = before
        self.after = after
        self.redo_edit = redo_edit
        self.undo_edit = undo_edit
        self.message = message
        self._written = True  # pushed after the edit was made: the first redo has nothing to do

    def redo(self) -> None:
        if self._written:
            self._written = False
            return
        self._apply(self.before, self.after, self.redo_edit, f"Redone: {self.text()}")

    def undo(self) -> None:
        self._apply(self.after, self.before, self.undo_edit, f"Undone: {self.text()}")

    def _apply(self, expect: bytes, target: bytes, edit: Edit | None, message: str) -> None:
        try:
            now = self.path.read_bytes()
            if now == expect:
                write_file(self.path, target)
            elif now != target:
                if edit is None:
                    raise ProjectEditError(
                        f"{self.path} changed since '{self.text()}'; undo the later edits "
                        "first (or edit the file by hand)"
                    )
                edit()
        except EDIT_ERRORS as exc:
            log.warning("%s: %s", self.path, exc)
            self.host.error("The project file was not changed", str(exc))
            return
        reopen(self.host, self.path, message)


def edit_project(
    host: QtMainWindow,
    stack: QUndoStack,
    text: str,
    edit: Edit,
    undo: Edit | None = None,
    message: str = "",
) -> bool:
    """Make ``edit`` (a write of the open twin's project file) one undoable step on ``stack``,
    named ``text`` ("add sensor T1"), then open the twin again with ``message`` in the status
    bar. False, and an error dialog, when the edit failed; False too when it changed nothing
    (then there is nothing to undo)."""
    s = host.session
    if s is None:
        return False
    path = Path(s.path)
    try:
        before = path.read_bytes()
        edit()
        after = path.read_bytes()
    except EDIT_ERRORS as exc:
        log.warning("%s: %s", path, exc)
        host.error("The project file was not changed", str(exc))
        return False
    if after == before:
        host.statusBar().showMessage(f"{text}: nothing to change", 5000)
        return False
    stack.push(ProjectFileEdit(host, path, before, after, text, edit, undo, message))
    reopen(host, path, message)
    return True


def reopen(host: QtMainWindow, path: Path, message: str) -> None:
    """Open the twin again after its file changed (as the user left it)."""
    s = host.session
    if s is not None and Path(s.path) == path:
        host.reopen(message)
    else:
        host.open_project(path)
