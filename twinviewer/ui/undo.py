"""One Undo and one Redo for the whole window: *Edit > Undo* (Ctrl+Z) and *Redo* (Ctrl+Shift+Z).

Two features cannot both bind Ctrl+Z (Qt fires neither of two actions sharing a shortcut), so
the features that keep an undo history hand their :class:`QUndoStack` to this one
(:meth:`UndoFeature.register`), which puts them in a :class:`QUndoGroup`. The stack of the
feature last used is the active one: a stack becomes active when something is done on it (a
push, an undo or a redo) or when a widget of its feature (its dock) gets the keyboard focus.
The menu entries name what they undo (*Undo add step*).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtGui import QUndoGroup, QUndoStack
from PySide6.QtWidgets import QApplication, QWidget

from twinviewer.ui.feature import ActionSpec, Feature

if TYPE_CHECKING:
    from twinviewer.ui.main_window import QtMainWindow


class UndoFeature(Feature):
    name = "undo"

    def __init__(self, host: QtMainWindow) -> None:
        super().__init__(host)
        self.group = QUndoGroup(host)
        self._owners: list[tuple[QWidget, QUndoStack]] = []
        self.group.activeStackChanged.connect(self._update)
        self.group.canUndoChanged.connect(self._update)
        self.group.canRedoChanged.connect(self._update)
        self.group.undoTextChanged.connect(self._update)
        self.group.redoTextChanged.connect(self._update)
        self._app = QApplication.instance()
        if isinstance(self._app, QApplication):
            self._app.focusChanged.connect(self._on_focus)

    def actions(self) -> list[ActionSpec]:
        return [
            ActionSpec("edit.undo", "&Undo", lambda _=False: self.undo(), "Edit", "undo",
                       "Ctrl+Z", "Undo the last change of the panel last used", needs_twin=False),
            ActionSpec("edit.redo", "&Redo", lambda _=False: self.redo(), "Edit", "undo",
                       "Ctrl+Shift+Z", "Redo what was undone", needs_twin=False),
        ]  # fmt: skip

    def hosted(self) -> None:
        self._update()

    def shutdown(self) -> None:
        if isinstance(self._app, QApplication):
            self._app.focusChanged.disconnect(self._on_focus)
        self._owners = []

    # -- the stacks ------------------------------------------------------------------------------
    def register(self, stack: QUndoStack, widget: QWidget | None = None) -> None:
        """Undo and redo ``stack`` from the Edit menu; it becomes the active stack when it
        changes, or when ``widget`` (or a widget inside it) gets the focus."""
        self.group.addStack(stack)
        stack.indexChanged.connect(lambda _i, s=stack: self.activate(s))
        if widget is not None:
            self._owners.append((widget, stack))
        if self.group.activeStack() is None:
            self.activate(stack)

    def activate(self, stack: QUndoStack) -> None:
        # a stack that outlives the window (a feature's, cleared as the window goes) may still
        # signal after the group is gone
        if not shiboken6.isValid(self.group) or not shiboken6.isValid(stack):
            return
        if self.group.activeStack() is not stack:
            self.group.setActiveStack(stack)

    @property
    def active(self) -> QUndoStack | None:
        return self.group.activeStack()

    def undo(self) -> None:
        self.group.undo()

    def redo(self) -> None:
        self.group.redo()

    def _on_focus(self, _old: QWidget | None, new: QWidget | None) -> None:
        if new is None or not shiboken6.isValid(self.group):
            return
        for widget, stack in self._owners:
            if not shiboken6.isValid(widget):
                continue
            if widget is new or widget.isAncestorOf(new):
                self.activate(stack)
                return

    def _update(self, *_: object) -> None:
        g = self.group
        undo, redo = self.host.action("edit.undo"), self.host.action("edit.redo")
        undo.setEnabled(g.canUndo())
        redo.setEnabled(g.canRedo())
        undo.setText(f"&Undo {g.undoText()}" if g.canUndo() else "&Undo")
        redo.setText(f"&Redo {g.redoText()}" if g.canRedo() else "&Redo")
