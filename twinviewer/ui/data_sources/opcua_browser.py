"""The OPC UA binding dialog: browse a server, pick variables, bind them to the twin's sensors.

The server is browsed on a worker thread (:class:`QtBrowseThread`), so a slow or unreachable
server never freezes the window; the tree fills when the answer arrives, an error is shown in the
dialog. The dialog edits a copy of the source's ``nodes`` mapping; :meth:`QtOpcUaBrowser.bindings`
gives the result after OK (writing it into the project file is
:func:`twinviewer.core.project_edit.set_opcua_bindings`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, QSize, Qt, QThread, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QTreeWidgetItemIterator,
    QVBoxLayout,
    QWidget,
)

from twinviewer.core.project import OpcUaSource, Sensor
from twinviewer.sources.opcua import BrowseNode, OpcUaError, browse_source

log = logging.getLogger(__name__)

NAME, TYPE, NODE_ID, BOUND = range(4)
NODE_ROLE = Qt.ItemDataRole.UserRole
NUMERIC_TYPES = {
    "Boolean", "SByte", "Byte", "Int16", "UInt16", "Int32", "UInt32", "Int64", "UInt64",
    "Float", "Double", "Number", "Integer", "UInteger", "Decimal", "BaseDataType", "AnalogValue",
}  # fmt: skip
MUTED = QColor(140, 147, 156)
BAD = QColor(255, 110, 110)
GOOD = QColor(110, 200, 140)
_running: set[QThread] = set()  # browse threads outliving a closed dialog


def _forget(thread: QThread) -> None:
    _running.discard(thread)
    thread.deleteLater()


def _dot(colour: QColor, size: int = 14) -> QIcon:
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(colour.darker(140))
    p.setBrush(colour)
    p.drawEllipse(3, 3, size - 6, size - 6)
    p.end()
    return QIcon(pix)


class QtBrowseThread(QThread):
    """Runs :func:`~twinviewer.sources.opcua.browse_source` off the GUI thread."""

    browsed = Signal(object)  # list[BrowseNode]
    failed = Signal(str)

    def __init__(self, config: OpcUaSource, folder: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.config = config
        self.folder = folder

    def run(self) -> None:
        try:
            nodes = browse_source(self.config, self.folder)
        except OpcUaError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # never let a worker exception vanish
            log.exception("browsing %s failed", self.config.endpoint)
            self.failed.emit(f"{type(exc).__name__}: {exc}")
        else:
            self.browsed.emit(nodes)


class QtOpcUaBrowser(QDialog):
    """Browse an OPC UA server and bind its variables to the project's sensors."""

    browsed = Signal(int)  # variables found
    failed = Signal(str)

    def __init__(
        self,
        config: OpcUaSource,
        sensors: Sequence[Sensor],
        folder: Path,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.config = config
        self.sensors = list(sensors)
        self.folder = Path(folder)
        self._bindings: dict[str, str] = dict(config.nodes)
        self._items: dict[str, QTreeWidgetItem] = {}  # node id -> tree item
        self._nodes: dict[str, BrowseNode] = {}
        self._thread: QtBrowseThread | None = None
        self._browsed = False
        self._failed = False
        self.setWindowTitle(f"OPC UA bindings — {config.id}")
        self.resize(1240, 680)
        self.setSizeGripEnabled(True)
        style = self.style()
        self._icons = {
            "Object": style.standardIcon(QStyle.StandardPixmap.SP_DirIcon),
            "Variable": _dot(QColor(64, 170, 200)),
            "Method": _dot(QColor(170, 120, 210)),
            "Other": _dot(QColor(130, 136, 144)),
        }

        # Header: where, how, and a way to ask again.
        title = QLabel(config.endpoint, self)
        title.setStyleSheet("font-size: 15px; font-weight: bold;")
        title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        security = (
            "no security"
            if config.security_policy == "None"
            else f"{config.security_policy}, {config.security_mode}"
        )
        user = f"user {config.username}" if config.username else "anonymous"
        subtitle = QLabel(f"Source “{config.id}” · {security} · {user}", self)
        subtitle.setStyleSheet("color: #9aa3ad;")
        self.refresh_button = QPushButton("Browse again", self)
        self.refresh_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_BrowserReload))
        self.refresh_button.clicked.connect(self.refresh)
        header = QHBoxLayout()
        titles = QVBoxLayout()
        titles.setSpacing(2)
        titles.addWidget(title)
        titles.addWidget(subtitle)
        header.addLayout(titles, 1)
        header.addWidget(self.refresh_button, 0, Qt.AlignmentFlag.AlignBottom)

        # Left: the server's address space.
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Filter by name or node id…")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._apply_filter)
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(["Name", "Data type", "Node id", "Bound to"])
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setIconSize(QSize(14, 14))
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        th = self.tree.header()
        th.setStretchLastSection(True)
        th.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for col, width in ((NAME, 280), (TYPE, 70), (NODE_ID, 220)):
            self.tree.setColumnWidth(col, width)
        self.tree.currentItemChanged.connect(self._on_current)
        self.tree.itemDoubleClicked.connect(lambda *_: self.bind_selected())
        space = QGroupBox("Server address space", self)
        left = QVBoxLayout(space)
        left.addWidget(self.filter)
        left.addWidget(self.tree, 1)

        # Right: choose a sensor, bind, and the bindings so far.
        self.node_label = QLabel("Select a variable in the tree", self)
        self.node_label.setWordWrap(True)
        self.node_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.sensor_combo = QComboBox(self)
        self.sensor_combo.setMinimumContentsLength(24)
        self.sensor_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        for s in self.sensors:
            label = f"{s.id} — {s.name}" if s.name and s.name != s.id else s.id
            self.sensor_combo.addItem(f"{label}  [{s.unit}]", s.id)
        self.bind_button = QPushButton("Bind", self)
        self.bind_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_ArrowRight))
        self.bind_button.setEnabled(False)
        self.bind_button.setDefault(False)
        self.bind_button.setAutoDefault(False)
        self.bind_button.clicked.connect(self.bind_selected)
        self.auto_button = QPushButton("Bind all by name", self)
        self.auto_button.setToolTip(
            "Bind every unbound sensor to the variable whose browse name or display name is the "
            "sensor id"
        )
        self.auto_button.setAutoDefault(False)
        self.auto_button.setEnabled(False)
        self.auto_button.clicked.connect(self.bind_by_name)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.addRow("Variable:", self.node_label)
        form.addRow("Sensor:", self.sensor_combo)
        buttons_row = QHBoxLayout()
        buttons_row.addWidget(self.auto_button)
        buttons_row.addStretch(1)
        buttons_row.addWidget(self.bind_button)
        bind_box = QGroupBox("Bind", self)
        bind_layout = QVBoxLayout(bind_box)
        bind_layout.addLayout(form)
        bind_layout.addLayout(buttons_row)

        self.table = QTableWidget(0, 3, self)
        self.table.setHorizontalHeaderLabels(["Sensor", "Node id", "On server"])
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setWordWrap(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        tv = self.table.horizontalHeader()
        tv.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        tv.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        tv.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._on_table_selection)
        self.table.cellDoubleClicked.connect(self._show_binding)
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_DialogDiscardButton))
        self.remove_button.setAutoDefault(False)
        self.remove_button.setEnabled(False)
        self.remove_button.clicked.connect(self.remove_selected)
        self.count_label = QLabel(self)
        self.count_label.setStyleSheet("color: #9aa3ad;")
        table_box = QGroupBox("Bindings", self)
        table_layout = QVBoxLayout(table_box)
        table_layout.addWidget(self.table, 1)
        row = QHBoxLayout()
        row.addWidget(self.count_label, 1)
        row.addWidget(self.remove_button)
        table_layout.addLayout(row)

        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(bind_box)
        right_layout.addWidget(table_box, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(space)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([760, 460])
        splitter.setChildrenCollapsible(False)

        # Bottom: status and the dialog's buttons.
        self.busy = QProgressBar(self)
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(120)
        self.busy.setMaximumHeight(10)
        self.busy.setTextVisible(False)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addWidget(self.busy)
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.buttons)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 10)
        layout.addLayout(header)
        layout.addWidget(splitter, 1)
        layout.addLayout(bottom)

        self._fill_table()
        self.refresh()

    # -- results ----------------------------------------------------------------------------
    def bindings(self) -> dict[str, str]:
        """The {sensor id: node id} mapping as edited (the source's own order, new ones last)."""
        return dict(self._bindings)

    # -- browsing ---------------------------------------------------------------------------
    def refresh(self) -> None:
        """Browse the server (again) on a worker thread."""
        if self._thread is not None:
            return
        self._failed = False
        self._set_status(f"Browsing {self.config.endpoint}…")
        self.busy.show()
        self.refresh_button.setEnabled(False)
        thread = QtBrowseThread(self.config, self.folder)
        thread.browsed.connect(self._on_browsed)
        thread.failed.connect(self._on_failed)
        thread.finished.connect(self._on_thread_done)
        thread.finished.connect(partial(_forget, thread))
        self._thread = thread
        _running.add(thread)
        thread.start()

    def _on_thread_done(self) -> None:
        if self._thread is not None and self._thread.isFinished():
            self._thread = None
            self.busy.hide()
            self.refresh_button.setEnabled(True)

    def _on_browsed(self, nodes: list[BrowseNode]) -> None:
        self.tree.clear()
        self._items.clear()
        self._nodes.clear()
        n_var = n_obj = 0
        stack: list[tuple[BrowseNode, QTreeWidgetItem | None]] = [(n, None) for n in nodes]
        while stack:
            node, parent = stack.pop(0)
            item = QTreeWidgetItem([node.display_name, node.data_type or "", node.node_id, ""])
            item.setData(NAME, NODE_ROLE, node.node_id)
            item.setIcon(NAME, self._icons.get(node.node_class, self._icons["Other"]))
            tip = f"{node.node_class} {node.browse_name}\n{node.node_id}"
            item.setToolTip(NAME, tip + (f"\n{node.description}" if node.description else ""))
            item.setForeground(NODE_ID, QBrush(MUTED))
            item.setForeground(TYPE, QBrush(MUTED))
            if node.is_variable:
                n_var += 1
            else:
                n_obj += 1
            if parent is None:
                self.tree.addTopLevelItem(item)
            else:
                parent.addChild(item)
            self._items[node.node_id] = item
            self._nodes[node.node_id] = node
            stack += [(c, item) for c in node.children]
        self.tree.expandToDepth(1)
        for col, (low, high) in {NAME: (200, 320), TYPE: (60, 110), NODE_ID: (140, 260)}.items():
            self.tree.resizeColumnToContents(col)
            self.tree.setColumnWidth(col, min(max(self.tree.columnWidth(col), low), high))
        self._browsed = True
        self.auto_button.setEnabled(n_var > 0)
        self._fill_table()
        if n_var:
            self._set_status(f"{n_var} variables in {n_obj} objects and folders.")
        else:
            self._set_status("The server shows no variables outside its own namespace.", BAD)
        self._apply_filter(self.filter.text())
        self.browsed.emit(n_var)

    def _on_failed(self, message: str) -> None:
        text = message if message.startswith("cannot browse") else f"cannot browse: {message}"
        self._set_status(text[:1].upper() + text[1:], BAD)
        self._failed = True
        self._fill_table()
        self.failed.emit(message)

    def _set_status(self, text: str, colour: QColor | None = None) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {colour.name()};" if colour else "")

    # -- selecting and binding --------------------------------------------------------------
    def selected_node(self) -> BrowseNode | None:
        item = self.tree.currentItem()
        return self._nodes.get(item.data(NAME, NODE_ROLE)) if item is not None else None

    def select_node(self, node_id: str) -> bool:
        """Make ``node_id`` the current tree item (scrolled into view); False if not browsed."""
        item = self._items.get(node_id)
        if item is None:
            return False
        self.tree.setCurrentItem(item)
        self.tree.scrollToItem(item)
        return True

    def select_sensor(self, sensor_id: str) -> bool:
        i = self.sensor_combo.findData(sensor_id)
        if i >= 0:
            self.sensor_combo.setCurrentIndex(i)
        return i >= 0

    def _on_current(self, item: QTreeWidgetItem | None, _previous: object = None) -> None:
        node = self.selected_node()
        if node is None:
            self.node_label.setText("Select a variable in the tree")
            self.bind_button.setEnabled(False)
            return
        if not node.is_variable:
            self.node_label.setText(f"{node.display_name} is an {node.node_class}, not a variable")
            self.bind_button.setEnabled(False)
            return
        self.node_label.setText(f"<b>{node.display_name}</b><br>{node.node_id} · {node.data_type}")
        self.bind_button.setEnabled(self.sensor_combo.count() > 0)
        # Suggest the sensor the variable is bound to, or the one it is named after.
        bound = next((s for s, n in self._bindings.items() if n == node.node_id), None)
        name = node.browse_name.split(":", 1)[-1]
        for candidate in (bound, name, node.display_name):
            if candidate and self.select_sensor(candidate):
                break

    def bind_selected(self) -> None:
        node = self.selected_node()
        sensor = self.sensor_combo.currentData()
        if node is None or not node.is_variable or sensor is None:
            return
        self.bind(sensor, node.node_id)

    def bind(self, sensor_id: str, node_id: str) -> None:
        """Bind ``sensor_id`` to ``node_id`` (a node feeds one sensor: it leaves any other)."""
        previous = [s for s, n in self._bindings.items() if n == node_id and s != sensor_id]
        for s in previous:
            del self._bindings[s]
        self._bindings[sensor_id] = node_id
        node = self._nodes.get(node_id)
        note = f"Bound {sensor_id} to {node_id}"
        colour = None
        if previous:
            note += f" (instead of {', '.join(previous)})"
        if node is not None and node.data_type and node.data_type not in NUMERIC_TYPES:
            note += f". Its data type {node.data_type} is not numeric: its values will be rejected."
            colour = BAD
        self._set_status(note + ("" if note.endswith(".") else "."), colour)
        self._fill_table(select=sensor_id)
        self._next_unbound()

    def bind_by_name(self) -> None:
        """Bind every unbound sensor to a variable named like it (browse or display name)."""
        by_name: dict[str, str] = {}
        for node in self._nodes.values():
            if node.is_variable:
                by_name.setdefault(node.browse_name.split(":", 1)[-1], node.node_id)
                by_name.setdefault(node.display_name, node.node_id)
        taken = set(self._bindings.values())
        added = 0
        for s in self.sensors:
            node_id = by_name.get(s.id)
            if s.id not in self._bindings and node_id is not None and node_id not in taken:
                self._bindings[s.id] = node_id
                taken.add(node_id)
                added += 1
        unbound = sum(s.id not in self._bindings for s in self.sensors)
        self._set_status(
            f"Bound {added} sensor{'s' if added != 1 else ''} by name; {unbound} left unbound."
        )
        self._fill_table()

    def remove_selected(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        items = [self.table.item(r, 0) for r in rows]
        ids = [str(i.data(NODE_ROLE)) for i in items if i is not None]
        for sensor_id in ids:
            self._bindings.pop(sensor_id, None)
        if ids:
            self._set_status(f"Removed the binding of {', '.join(ids)}.")
        self._fill_table()

    def _next_unbound(self) -> None:
        start = self.sensor_combo.currentIndex()
        n = self.sensor_combo.count()
        for k in range(1, n + 1):
            i = (start + k) % n
            if self.sensor_combo.itemData(i) not in self._bindings:
                self.sensor_combo.setCurrentIndex(i)
                return

    # -- the bindings table and the tree's "bound to" column ---------------------------------
    def _fill_table(self, select: str | None = None) -> None:
        known = {s.id for s in self.sensors}
        self.table.setRowCount(len(self._bindings))
        for row, (sensor_id, node_id) in enumerate(self._bindings.items()):
            s_item = QTableWidgetItem(sensor_id)
            s_item.setData(NODE_ROLE, sensor_id)
            n_item = QTableWidgetItem(node_id)
            if not self._browsed:
                state, colour, tip = "…", MUTED, "browsing"
                if self._failed:
                    state, tip = "unknown", "the server could not be browsed"
            elif node_id in self._nodes:
                state, colour, tip = "found", GOOD, self._nodes[node_id].display_name
            else:
                state, colour, tip = "not found", BAD, "not in the browsed address space"
            if sensor_id not in known:
                state, colour, tip = "no such sensor", BAD, "not a sensor of the project"
            st_item = QTableWidgetItem(state)
            st_item.setForeground(QBrush(colour))
            st_item.setToolTip(tip)
            for col, cell in enumerate((s_item, n_item, st_item)):
                self.table.setItem(row, col, cell)
            if sensor_id == select:
                self.table.selectRow(row)
        n_bound = sum(s.id in self._bindings for s in self.sensors)
        self.count_label.setText(f"{n_bound} of {len(self.sensors)} sensors bound")
        sensor_of = {n: s for s, n in self._bindings.items()}
        it = QTreeWidgetItemIterator(self.tree)
        while (tree_item := it.value()) is not None:
            tree_item.setText(BOUND, sensor_of.get(tree_item.data(NAME, NODE_ROLE), ""))
            tree_item.setForeground(BOUND, QBrush(GOOD))
            it += 1
        for i in range(self.sensor_combo.count()):
            bound = self.sensor_combo.itemData(i) in self._bindings
            self.sensor_combo.setItemIcon(i, self._icons["Variable"] if bound else QIcon())

    def _on_table_selection(self) -> None:
        self.remove_button.setEnabled(bool(self.table.selectedIndexes()))

    def _show_binding(self, row: int, _col: int) -> None:
        item = self.table.item(row, 1)
        if item is not None:
            self.select_node(item.text())
        sensor = self.table.item(row, 0)
        if sensor is not None:
            self.select_sensor(sensor.text())

    def _apply_filter(self, text: str) -> None:
        needle = text.strip().lower()

        def visit(item: QTreeWidgetItem | None) -> bool:
            if item is None:
                return False
            hit = not needle or any(needle in item.text(c).lower() for c in (NAME, NODE_ID, BOUND))
            child_hit = False
            for i in range(item.childCount()):
                child_hit |= visit(item.child(i))
            item.setHidden(not (hit or child_hit))
            if needle and child_hit:
                item.setExpanded(True)
            return hit or child_hit

        for i in range(self.tree.topLevelItemCount()):
            visit(self.tree.topLevelItem(i))

    # -- closing ----------------------------------------------------------------------------
    def done(self, result: int) -> None:
        thread = self._thread
        if thread is not None:  # let it finish on its own; nobody listens any more
            thread.browsed.disconnect(self._on_browsed)
            thread.failed.disconnect(self._on_failed)
            self._thread = None
        super().done(result)
