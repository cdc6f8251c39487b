"""Turning the features' :class:`~twinviewer.ui.feature.ActionSpec` data into QActions in the
menu bar, the main toolbar and the window's shortcuts."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar

from twinviewer.ui.feature import MENUS, ActionSpec


class QtActions:
    """The window's actions by id, its menus by path, and which need an open twin."""

    def __init__(self, window: QMainWindow, toolbar: QToolBar) -> None:
        self.window = window
        self.toolbar = toolbar
        self.by_id: dict[str, QAction] = {}
        self.menus: dict[str, QMenu] = {m: window.menuBar().addMenu(f"&{m}") for m in MENUS}
        self._twin: list[QAction] = []
        self._last_group: dict[str, str] = {}
        self._tail: dict[str, QAction] = {}  # per menu: the separator before its closing items

    def add(self, specs: list[ActionSpec], owner: str) -> None:
        """QActions for ``specs``: in their menu (a separator between groups), on the toolbar,
        and on the window so that their shortcuts work wherever the focus is."""
        for spec in specs:
            act = QAction(spec.title, self.window)
            act.setObjectName(spec.id)
            if spec.shortcut is not None:
                act.setShortcut(QKeySequence(spec.shortcut))
            if spec.tip:
                act.setStatusTip(spec.tip)
                act.setToolTip(spec.tip)
            act.setCheckable(spec.checkable)
            act.triggered.connect(spec.callback)
            self.window.addAction(act)
            self.by_id[spec.id] = act
            if spec.needs_twin:
                self._twin.append(act)
            if spec.menu is not None:
                self._place(spec, act, owner)
            if spec.toolbar:
                self.toolbar.addAction(act)

    def _place(self, spec: ActionSpec, act: QAction, owner: str) -> None:
        """Groups in the order they come, parted by separators; ``at_end`` items (Close, Quit)
        stay below everything added later."""
        path = spec.menu
        assert path is not None
        menu = self.menu(path)
        if spec.at_end:
            if path not in self._tail:
                self._tail[path] = menu.addSeparator()
            menu.addAction(act)
            return
        before = self._tail.get(path)
        group = f"{owner}|{spec.group}"
        if menu.actions() and self._last_group.get(path) != group:
            menu.insertSeparator(before)  # type: ignore[arg-type]
        self._last_group[path] = group
        menu.insertAction(before, act)  # type: ignore[arg-type]

    def menu(self, path: str) -> QMenu:
        """The menu at ``path`` (``"View/Saved views"``), made on first use."""
        top, *subs = path.split("/")
        menu = self.menus[top]
        parent = top
        for name in subs:
            found = next((a.menu() for a in menu.actions() if a.text() == f"&{name}"), None)
            if not isinstance(found, QMenu):
                found = QMenu(f"&{name}", self.window)
                menu.insertMenu(self._tail.get(parent), found)  # type: ignore[arg-type]
            menu, parent = found, f"{parent}/{name}"
        return menu

    def __getitem__(self, action_id: str) -> QAction:
        return self.by_id[action_id]

    def set_twin_open(self, loaded: bool) -> None:
        for act in self._twin:
            act.setEnabled(loaded)
