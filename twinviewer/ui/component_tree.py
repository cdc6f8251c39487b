"""The component tree: the model's hierarchy with search, show/hide, isolate and a state icon."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QMenu,
    QTreeWidget,
    QTreeWidgetItem,
    QTreeWidgetItemIterator,
    QVBoxLayout,
    QWidget,
)

from twinviewer.core.colour import STATUS_COLOURS, STATUS_LABELS, Status
from twinviewer.core.model import ModelData

INDEX_ROLE = Qt.ItemDataRole.UserRole


def status_icon(status: Status, size: int = 12) -> QIcon:
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    r, g, b, _ = (int(v) for v in STATUS_COLOURS[status])
    p.setBrush(QColor(r, g, b))
    p.setPen(QColor(20, 20, 20))
    p.drawEllipse(1, 1, size - 2, size - 2)
    p.end()
    return QIcon(pix)


class QtComponentTree(QWidget):
    """Tree of components. Views hold no state of their own beyond what Qt needs to draw.

    Signals
    -------
    selectionChanged(list)
        Component indices the user selected.
    visibilityChanged(object)
        A boolean mask of hidden components after the user showed, hid or isolated some.
    zoomRequested(list)
        Components to frame in the 3D view.
    """

    selectionChanged = Signal(list)
    visibilityChanged = Signal(object)
    zoomRequested = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search components (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(["Component", "Sensors"])
        self.tree.setColumnWidth(0, 215)
        self.tree.setColumnWidth(1, 50)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setUniformRowHeights(True)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self._items: list[QTreeWidgetItem] = []
        self._status = np.zeros(0, np.int8)
        self._icons = {s: status_icon(s) for s in Status}
        self._hidden = np.zeros(0, bool)
        self._syncing = False
        self.search.textChanged.connect(self.filter)
        self.tree.itemSelectionChanged.connect(self._on_selection)
        self.tree.itemChanged.connect(self._on_item_changed)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.tree.itemDoubleClicked.connect(
            lambda item, _col: self.zoomRequested.emit([item.data(0, INDEX_ROLE)])
        )

    # -- content ---------------------------------------------------------------------------------
    def set_model(self, model: ModelData, sensor_counts: NDArray[np.int64]) -> None:
        self._syncing = True
        self.tree.clear()
        self._items = []
        self._hidden = np.zeros(model.n_components, bool)
        self._status = np.full(model.n_components, -1, np.int8)
        roots = []
        for i, c in enumerate(model.components):
            item = QTreeWidgetItem([c.id.rsplit("/", 1)[-1], str(sensor_counts[i] or "")])
            item.setData(0, INDEX_ROLE, i)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(0, Qt.CheckState.Checked)
            item.setToolTip(0, f"{c.path}\n{c.kind}")
            self._items.append(item)
            if c.parent >= 0:
                self._items[c.parent].addChild(item)
            else:
                roots.append(item)
        self.tree.addTopLevelItems(roots)
        if len(roots) <= 3:
            for r in roots:
                r.setExpanded(True)
        self._syncing = False

    def set_states(self, status: NDArray[np.int8]) -> None:
        """Update the state icons (only the items whose state changed)."""
        changed = np.flatnonzero(status != self._status)
        self._syncing = True  # icon changes emit itemChanged; they are not user edits
        try:
            for i in changed:
                st = Status(int(status[i]))
                item = self._items[i]
                item.setIcon(0, self._icons[st])
                item.setToolTip(1, STATUS_LABELS[st])
        finally:
            self._syncing = False
        self._status = status.copy()

    def item_status(self, index: int) -> Status:
        return Status(int(self._status[index]))

    # -- selection -------------------------------------------------------------------------------
    def select(self, indices: list[int]) -> None:
        """Select without echoing a signal back (selection coming from the 3D view)."""
        self._syncing = True
        self.tree.clearSelection()
        for i in indices:
            if 0 <= i < len(self._items):
                item = self._items[i]
                item.setSelected(True)
                parent = item.parent()
                while parent is not None:
                    parent.setExpanded(True)
                    parent = parent.parent()
                self.tree.scrollToItem(item)
        self._syncing = False

    def selected(self) -> list[int]:
        return [int(it.data(0, INDEX_ROLE)) for it in self.tree.selectedItems()]

    def _on_selection(self) -> None:
        if not self._syncing:
            self.selectionChanged.emit(self.selected())

    # -- visibility ------------------------------------------------------------------------------
    @property
    def hidden(self) -> NDArray[np.bool_]:
        return self._hidden

    def set_hidden(self, hidden: NDArray[np.bool_]) -> None:
        self._syncing = True
        self._hidden = np.asarray(hidden, bool).copy()
        for i, item in enumerate(self._items):
            state = Qt.CheckState.Unchecked if self._hidden[i] else Qt.CheckState.Checked
            if item.checkState(0) != state:
                item.setCheckState(0, state)
        self._syncing = False
        self.visibilityChanged.emit(self._hidden.copy())

    def _subtree(self, index: int) -> list[int]:
        out, stack = [], [self._items[index]]
        while stack:
            it = stack.pop()
            out.append(int(it.data(0, INDEX_ROLE)))
            stack.extend(c for k in range(it.childCount()) if (c := it.child(k)) is not None)
        return out

    def _on_item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if self._syncing or column != 0:
            return
        index = int(item.data(0, INDEX_ROLE))
        unchecked = item.checkState(0) == Qt.CheckState.Unchecked
        if unchecked == self._hidden[index]:
            return  # not a check-box change (text, icon)
        hidden = self._hidden.copy()
        hidden[self._subtree(index)] = unchecked
        self.set_hidden(hidden)

    def hide_selected(self) -> None:
        hidden = self._hidden.copy()
        for i in self.selected():
            hidden[self._subtree(i)] = True
        self.set_hidden(hidden)

    def isolate_selected(self) -> None:
        sel = self.selected()
        if not sel:
            return
        hidden = np.ones_like(self._hidden)
        for i in sel:
            hidden[self._subtree(i)] = False
            it = self._items[i].parent()  # keep the ancestors checked so the path reads right
            while it is not None:
                hidden[int(it.data(0, INDEX_ROLE))] = False
                it = it.parent()
        self.set_hidden(hidden)

    def show_all(self) -> None:
        self.set_hidden(np.zeros_like(self._hidden))

    # -- search ----------------------------------------------------------------------------------
    def filter(self, text: str) -> None:
        """Show only components whose name or path contains ``text`` (and their ancestors)."""
        needle = text.strip().lower()
        it = QTreeWidgetItemIterator(self.tree)
        matches = []
        while it.value():
            item = it.value()
            hit = not needle or needle in item.text(0).lower() or needle in item.toolTip(0).lower()
            item.setHidden(not hit)
            if hit and needle:
                matches.append(item)
            it += 1
        for item in matches:
            parent = item.parent()
            while parent is not None:
                parent.setHidden(False)
                parent.setExpanded(True)
                parent = parent.parent()

    def _context_menu(self, pos: QPoint) -> None:
        menu = QMenu(self)
        for text, slot in (
            ("Zoom to", lambda: self.zoomRequested.emit(self.selected())),
            ("Isolate", self.isolate_selected),
            ("Hide", self.hide_selected),
            ("Show all", self.show_all),
        ):
            act = QAction(text, menu)
            act.triggered.connect(slot)
            menu.addAction(act)
        menu.exec(self.tree.viewport().mapToGlobal(pos))
