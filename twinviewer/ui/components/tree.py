"""The component tree: the model's hierarchy with search, show/hide, isolate and a state icon."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QBrush,
    QColor,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QIcon,
    QPainter,
    QPixmap,
)
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
from twinviewer.ui.widgets.sensor_drag import sensors_from

INDEX_ROLE = Qt.ItemDataRole.UserRole
# True on the extra "<name> (own geometry)" row of a node that has both triangles and children.
OWN_ROLE = Qt.ItemDataRole.UserRole + 1
OWN_SUFFIX = " (own geometry)"


DROP_TARGET = QColor(70, 130, 200, 110)  # the row a dragged sensor would be bound to


class _DropTree(QTreeWidget):
    """The tree itself: sensor rows (``SENSOR_MIME``) dropped onto a component row are handed
    on as ``sensorsDropped(ids, component index)``; the row under the cursor is tinted."""

    sensorsDropped = Signal(list, int)  # noqa: N815 (Qt's naming)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self._target: QTreeWidgetItem | None = None

    def _mark(self, item: QTreeWidgetItem | None) -> None:
        if item is self._target:
            return
        for it, brush in ((self._target, QBrush()), (item, QBrush(DROP_TARGET))):
            if it is not None:
                it.setBackground(0, brush)
        self._target = item

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt's name)
        if sensors_from(event.mimeData()):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802
        if not sensors_from(event.mimeData()):
            super().dragMoveEvent(event)
            return
        item = self.itemAt(event.position().toPoint())
        self._mark(item)
        if item is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:  # noqa: N802
        self._mark(None)
        super().dragLeaveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        ids = sensors_from(event.mimeData())
        if not ids:
            super().dropEvent(event)
            return
        item = self.itemAt(event.position().toPoint())
        self._mark(None)
        if item is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.sensorsDropped.emit(ids, int(item.data(0, INDEX_ROLE)))


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

    Hiding, showing and isolating a row act on its whole subtree, as in a CAD assembly tree. A
    node that carries geometry of its own *and* has children (a glTF node with a mesh and child
    nodes, e.g. a truck body holding its wheels) gets one extra child row,
    ``"<name> (own geometry)"``, whose check box and selection act on that geometry alone; the
    node's own check box then shows the state of its whole subtree (partly checked when mixed).
    :meth:`hide_selected` and :meth:`isolate_selected` take ``own_only=True`` for the same.

    Signals
    -------
    selectionChanged(list)
        Component indices the user selected.
    visibilityChanged(object)
        A boolean mask of hidden components after the user showed, hid or isolated some.
    zoomRequested(list)
        Components to frame in the 3D view.
    sensorsDropped(list, int)
        Sensor ids (a drag from the inspector) dropped onto the row of a component index.
    """

    selectionChanged = Signal(list)
    visibilityChanged = Signal(object)
    zoomRequested = Signal(list)
    sensorsDropped = Signal(list, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search components (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.tree = _DropTree(self)
        self.tree.sensorsDropped.connect(self.sensorsDropped)
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
        self._own_items: dict[int, QTreeWidgetItem] = {}  # component -> its own-geometry row
        self._kids: list[list[int]] = []
        self._parents = np.zeros(0, np.int64)
        self._has_geometry = np.zeros(0, bool)
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
        """Show a new model's tree. The search box is cleared: its text was about the names of
        the previous model, and leaving it would show a filter that no longer applies."""
        self._syncing = True
        self.tree.clear()
        self.search.clear()  # filters an empty tree: cheap
        self._items = []
        self._own_items = {}
        self._kids = model.children()
        self._parents = np.array([c.parent for c in model.components], np.int64)
        self._has_geometry = model.triangle_counts() > 0
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
            if self._has_geometry[i] and self._kids[i]:
                own = QTreeWidgetItem([item.text(0) + OWN_SUFFIX, ""])
                own.setData(0, INDEX_ROLE, i)
                own.setData(0, OWN_ROLE, True)
                own.setFlags(own.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                own.setCheckState(0, Qt.CheckState.Checked)
                own.setToolTip(0, f"{c.path}\nthis node's own geometry, without its children")
                item.addChild(own)  # first child: added before any of the node's children
                self._own_items[i] = own
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

    def has_own_geometry_row(self, index: int) -> bool:
        """Whether component ``index`` has both triangles and children, so that its own
        geometry has a row of its own."""
        return index in self._own_items

    # -- selection -------------------------------------------------------------------------------
    def select(self, indices: list[int], own_geometry: bool = False) -> None:
        """Select without echoing a signal back (selection coming from the 3D view).

        With ``own_geometry`` (a pick in the 3D view lands on a node's own triangles, not on
        its children), a node that has an own-geometry row gets that row selected, so that
        "Hide" then hides what was clicked rather than the whole subtree.
        """
        self._syncing = True
        self.tree.clearSelection()
        for i in indices:
            if 0 <= i < len(self._items):
                item = self._items[i]
                if own_geometry and i in self._own_items:
                    item = self._own_items[i]
                item.setSelected(True)
                parent = item.parent()
                while parent is not None:
                    parent.setExpanded(True)
                    parent = parent.parent()
                self.tree.scrollToItem(item)
        self._syncing = False

    def selected(self) -> list[int]:
        """Selected component indices (a node and its own-geometry row count once)."""
        return list(dict.fromkeys(int(it.data(0, INDEX_ROLE)) for it in self.tree.selectedItems()))

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
        states = self._check_states()
        for i, item in enumerate(self._items):
            if item.checkState(0) != states[i]:
                item.setCheckState(0, states[i])
        for i, own in self._own_items.items():
            state = Qt.CheckState.Unchecked if self._hidden[i] else Qt.CheckState.Checked
            if own.checkState(0) != state:
                own.setCheckState(0, state)
        self._syncing = False
        self.visibilityChanged.emit(self._hidden.copy())

    def _check_states(self) -> list[Qt.CheckState]:
        """The check state each component's row shows.

        A row is checked when its component is shown; a node with an own-geometry row shows
        its subtree instead (checked: all of it shown, unchecked: all hidden, partly checked:
        mixed), since its own geometry has its own check box.
        """
        checked, unchecked = Qt.CheckState.Checked, Qt.CheckState.Unchecked
        states = [unchecked if h else checked for h in self._hidden]
        if not self._own_items:
            return states
        # Count shown and hidden parts per subtree bottom-up (a parent's index is always lower
        # than its children's: readers add parents first).
        shown = (self._has_geometry & ~self._hidden).astype(np.int64)
        gone = (self._has_geometry & self._hidden).astype(np.int64)
        for i in range(len(self._parents) - 1, -1, -1):
            p = self._parents[i]
            if p >= 0:
                shown[p] += shown[i]
                gone[p] += gone[i]
        for i in self._own_items:
            states[i] = (
                Qt.CheckState.PartiallyChecked
                if shown[i] and gone[i]
                else (checked if shown[i] else unchecked)
            )
        return states

    def _subtree(self, index: int) -> list[int]:
        out, stack = [], [index]
        while stack:
            i = stack.pop()
            out.append(i)
            stack.extend(self._kids[i])
        return out

    def _targets(self, item: QTreeWidgetItem, own_only: bool) -> list[int]:
        """The components a command on ``item`` acts on: its subtree, or its own geometry."""
        index = int(item.data(0, INDEX_ROLE))
        return [index] if own_only or item.data(0, OWN_ROLE) else self._subtree(index)

    def _on_item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if self._syncing or column != 0:
            return
        index = int(item.data(0, INDEX_ROLE))
        state = item.checkState(0)
        own = bool(item.data(0, OWN_ROLE))
        if own:
            shows = Qt.CheckState.Unchecked if self._hidden[index] else Qt.CheckState.Checked
        else:
            shows = self._check_states()[index]
        if state == shows:
            return  # not a check-box change (text, icon)
        hidden = self._hidden.copy()
        hidden[self._targets(item, own_only=False)] = state == Qt.CheckState.Unchecked
        self.set_hidden(hidden)

    def hide_selected(self, own_only: bool = False) -> None:
        """Hide the selected rows' subtrees, or with ``own_only`` only their own geometry
        (children stay as they are). A selected own-geometry row always means its own."""
        hidden = self._hidden.copy()
        for item in self.tree.selectedItems():
            hidden[self._targets(item, own_only)] = True
        self.set_hidden(hidden)

    def isolate_selected(self, own_only: bool = False) -> None:
        """Show only the selected rows' subtrees (or with ``own_only`` their own geometry).

        Ancestors that are plain groups are kept shown so that the path to what is isolated
        reads as checked; an ancestor with geometry of its own stays hidden (isolating a wheel
        must not leave the truck body it hangs from on screen) and shows partly checked.
        """
        items = self.tree.selectedItems()
        if not items:
            return
        hidden = np.ones_like(self._hidden)
        for item in items:
            hidden[self._targets(item, own_only)] = False
        for item in items:
            i = int(self._parents[int(item.data(0, INDEX_ROLE))])
            while i >= 0:
                if not self._has_geometry[i]:
                    hidden[i] = False
                i = int(self._parents[i])
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
        entries: list[tuple[str, Callable[[], None]]] = [
            ("Zoom to", lambda: self.zoomRequested.emit(self.selected())),
            ("Isolate", lambda: self.isolate_selected()),
            ("Hide", lambda: self.hide_selected()),
        ]
        if any(i in self._own_items for i in self.selected()):
            entries += [
                ("Isolate own geometry only", lambda: self.isolate_selected(own_only=True)),
                ("Hide own geometry only", lambda: self.hide_selected(own_only=True)),
            ]
        entries.append(("Show all", self.show_all))
        for text, slot in entries:
            act = QAction(text, menu)
            act.triggered.connect(slot)
            menu.addAction(act)
        menu.exec(self.tree.viewport().mapToGlobal(pos))
