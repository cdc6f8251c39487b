"""The fleet list: one row per unit with its NE 107 state, alarms, worst sensor, data age and
forecast time to alarm; sorted by health (worst first), filtered by state and searched by id.

The model keeps the roll-up's columns (numpy arrays) and answers ``data()`` from them, so a
refresh of 1,000 units is one ``dataChanged`` over the table (rows are updated in place; a
move in the order is one layout change). Sorting and filtering are numpy over those columns too (a
``QSortFilterProxyModel`` re-sorting through Python ``data()`` calls took 270 ms for 1,000
units; this takes a few).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QBrush, QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from twinviewer.core.fleet import HEALTH_LABELS, HEALTH_RGBA, FleetHealth, Health

__all__ = ["COLUMNS", "QtFleetTable", "format_age", "format_duration"]

COLUMNS = ("Unit", "Health", "Alarms", "Worst sensor", "Last data", "Time to alarm")
UNIT, HEALTH, ALARMS, WORST, AGE, TTA = range(len(COLUMNS))

# NE 107's customary colours: failure red, check function orange, out of spec yellow,
# maintenance required blue; normal green
#: The state colours of the 3D fleet overview (core/fleet.py HEALTH_RGBA), as Qt names.
HEALTH_COLOURS = {h: "#{:02x}{:02x}{:02x}".format(*HEALTH_RGBA[h][:3]) for h in Health}
_Index = QModelIndex | QPersistentModelIndex


def format_duration(seconds: float) -> str:
    """``42 s``, ``3.5 min``, ``2.0 h``, ``3.1 d``; an em dash for NaN."""
    if not math.isfinite(seconds):
        return "—"
    s = max(seconds, 0.0)
    if s < 90:
        return f"{s:.0f} s"
    if s < 5400:
        return f"{s / 60:.1f} min"
    if s < 172800:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} d"


def format_age(seconds: float) -> str:
    """How old the newest data is: ``never`` without data."""
    return "never" if not math.isfinite(seconds) else f"{format_duration(seconds)} ago"


def _icon(colour: str, shape: str) -> QIcon:
    pix = QPixmap(14, 14)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(QColor(colour))
    p.setPen(QColor("#202020"))
    if shape == "circle":
        p.drawEllipse(1, 1, 12, 12)
    elif shape == "square":
        p.drawRect(1, 1, 12, 12)
    else:  # a triangle: something needs looking at
        from PySide6.QtCore import QPointF
        from PySide6.QtGui import QPolygonF

        p.drawPolygon(QPolygonF([QPointF(7, 1), QPointF(13, 13), QPointF(1, 13)]))
    p.end()
    return QIcon(pix)


class FleetModel(QAbstractTableModel):
    """Rows of units from a :class:`FleetHealth` roll-up, sorted and filtered here with numpy
    (see the module): ``rows`` are the unit numbers in the order shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.units: list[str] = []
        self.health = np.zeros(0, np.int8)
        self.alarms = np.zeros(0, np.int64)
        self.warnings = np.zeros(0, np.int64)
        self.worst_text: list[str] = []
        self.age = np.zeros(0)
        self.tta = np.zeros(0)
        self.rows = np.zeros(0, np.int64)
        self.sort_column = HEALTH
        self.descending = True
        self.states: set[int] | None = None
        self.text = ""
        self._icons: dict[int, QIcon] = {}

    def icon(self, h: int) -> QIcon:
        icon = self._icons.get(h)
        if icon is None:
            shape = {Health.NORMAL: "circle", Health.FAILURE: "square"}.get(Health(h), "triangle")
            icon = self._icons[h] = _icon(HEALTH_COLOURS[Health(h)], shape)
        return icon

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008 (Qt)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008 (Qt)
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(  # noqa: N802 (Qt naming)
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def unit_at(self, row: int) -> str | None:
        return self.units[int(self.rows[row])] if 0 <= row < len(self.rows) else None

    def row_of(self, unit: str) -> int:
        try:
            u = self.units.index(unit)
        except ValueError:
            return -1
        hit = np.flatnonzero(self.rows == u)
        return int(hit[0]) if len(hit) else -1

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        r, c = index.row(), index.column()
        if not (0 <= r < len(self.rows)):
            return None
        r = int(self.rows[r])
        h = int(self.health[r])
        if role == Qt.ItemDataRole.DisplayRole:
            if c == UNIT:
                return self.units[r]
            if c == HEALTH:
                return HEALTH_LABELS[Health(h)]
            if c == ALARMS:
                a, w = int(self.alarms[r]), int(self.warnings[r])
                return f"{a}" + (f" (+{w} warn.)" if w else "")
            if c == WORST:
                return self.worst_text[r]
            if c == AGE:
                return format_age(float(self.age[r]))
            if c == TTA:
                return format_duration(float(self.tta[r]))
        elif role == Qt.ItemDataRole.DecorationRole and c == HEALTH:
            return self.icon(h)
        elif role == Qt.ItemDataRole.ForegroundRole and c == ALARMS and self.alarms[r]:
            return QBrush(QColor(HEALTH_COLOURS[Health.FAILURE]))
        elif role == Qt.ItemDataRole.TextAlignmentRole and c in (ALARMS, AGE, TTA):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        elif role == Qt.ItemDataRole.ToolTipRole and c == HEALTH:
            return f"NAMUR NE 107: {HEALTH_LABELS[Health(h)]}"
        return None

    def _order(self) -> np.ndarray:
        """The unit numbers shown: filtered, then sorted by the sort column (ties: unit id)."""
        n = len(self.units)
        keep = np.ones(n, bool)
        if self.states is not None:
            keep &= np.isin(self.health[:n], list(self.states))
        if self.text:
            t = self.text
            pairs = zip(self.units, self.worst_text, strict=True)
            keep &= np.array([t in u.lower() or t in w.lower() for u, w in pairs], bool)
        c = self.sort_column
        by_id = np.argsort(np.array(self.units, dtype=object)).argsort() if n else np.zeros(0)
        if c == UNIT:
            key = by_id.astype(float)
        elif c == HEALTH:
            key = self.health * 1e6 + self.alarms * 1e3 + self.warnings.astype(float)
        elif c == ALARMS:
            key = self.alarms * 1e3 + self.warnings.astype(float)
        elif c == WORST:
            key = np.argsort(np.array(self.worst_text, dtype=object)).argsort().astype(float)
        else:
            key = np.where(np.isfinite(v := (self.age if c == AGE else self.tta)), v, np.inf)
        key = -key if self.descending else key
        order = np.lexsort((by_id, key))  # by key, ties by unit id
        return order[keep[order]].astype(np.int64)

    def refilter(self) -> None:
        """Filter and sort again (one layout change; the view keeps the selected unit)."""
        rows = self._order()
        if len(rows) != len(self.rows):
            self.beginResetModel()
            self.rows = rows
            self.endResetModel()
        elif not np.array_equal(rows, self.rows):
            self.layoutAboutToBeChanged.emit()
            self.rows = rows
            self.layoutChanged.emit()

    def set_sort(self, column: int, descending: bool) -> None:
        self.sort_column, self.descending = column, descending
        self.refilter()

    def set_filter(self, states: set[int] | None, text: str) -> None:
        self.states, self.text = states, text.strip().lower()
        self.refilter()

    def update(
        self, units: list[str], fh: FleetHealth, worst_text: list[str], age: np.ndarray
    ) -> None:
        """New numbers for every unit: sorted and filtered in numpy, then one layout change
        (when the order moved) and one ``dataChanged`` over the table."""
        n = min(len(units), fh.n)
        self.units = list(units[:n])
        self.health, self.alarms, self.warnings = fh.health[:n], fh.alarms[:n], fh.warnings[:n]
        self.worst_text, self.age, self.tta = worst_text[:n], age[:n], fh.time_to_alarm[:n]
        self.refilter()
        if len(self.rows):
            last = len(self.rows) - 1
            self.dataChanged.emit(self.index(0, 0), self.index(last, len(COLUMNS) - 1))

    def clear(self) -> None:
        self.beginResetModel()
        self.units = []
        self.worst_text = []
        self.rows = np.zeros(0, np.int64)
        self.endResetModel()


FILTERS: list[tuple[str, set[int] | None]] = [
    ("All states", None),
    ("Needs attention", {Health.MAINTENANCE, Health.CHECK, Health.OUT_OF_SPEC, Health.FAILURE}),
    *((HEALTH_LABELS[h], {int(h)}) for h in reversed(Health)),
]


class QtFleetTable(QWidget):
    """The Fleet dock's widget: a caption, a state filter, a search box and the table."""

    unitSelected = Signal(str)
    compareRequested = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption = QLabel("", self)
        self.caption.setObjectName("fleet-caption")
        self.caption.setStyleSheet("font-weight: bold;")
        self.state = QComboBox(self)
        self.state.setObjectName("fleet-state")
        for label, _ in FILTERS:
            self.state.addItem(label)
        self.search = QLineEdit(self)
        self.search.setObjectName("fleet-search")
        self.search.setPlaceholderText("Search units or sensors…")
        self.search.setClearButtonEnabled(True)
        self.model = FleetModel(self)
        self.view = QTableView(self)
        self.view.setObjectName("fleet-table")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(22)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setSortIndicatorShown(True)
        header.setSectionsClickable(True)
        header.setSortIndicator(HEALTH, Qt.SortOrder.DescendingOrder)
        header.sortIndicatorChanged.connect(self.sort_by)
        for col, width in ((UNIT, 70), (HEALTH, 160), (ALARMS, 56), (WORST, 250), (AGE, 80)):
            self.view.setColumnWidth(col, width)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._menu)
        self.view.clicked.connect(self._clicked)
        self.view.activated.connect(self._clicked)
        self.state.currentIndexChanged.connect(self._filter)
        self.search.textChanged.connect(self._filter)

        top = QHBoxLayout()
        top.addWidget(self.caption, 1)
        top.addWidget(self.state)
        top.addWidget(self.search, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.view)

    def sort_by(self, column: int, order: Qt.SortOrder) -> None:
        """Sort by ``column`` (every column sorts; health descending is worst first)."""
        if self.view.horizontalHeader().sortIndicatorSection() != column:
            self.view.horizontalHeader().setSortIndicator(column, order)  # re-enters here
            return
        self.model.set_sort(column, order == Qt.SortOrder.DescendingOrder)

    def _filter(self, *_: object) -> None:
        self.model.set_filter(FILTERS[self.state.currentIndex()][1], self.search.text())

    def unit_at(self, row: int) -> str | None:
        return self.model.unit_at(row)

    def shown_units(self) -> list[str]:
        """The units in the order the table shows them (sorted and filtered)."""
        return [self.model.units[int(u)] for u in self.model.rows]

    def _clicked(self, index: QModelIndex) -> None:
        unit = self.unit_at(index.row())
        if unit is not None:
            self.unitSelected.emit(unit)

    def select_unit(self, unit: str) -> None:
        """Highlight ``unit``'s row (without emitting :attr:`unitSelected`)."""
        r = self.model.row_of(unit)
        if r >= 0 and self.view.currentIndex().row() != r:
            self.view.selectRow(r)

    def _menu(self, pos: Any) -> None:
        index = self.view.indexAt(pos)
        unit = self.unit_at(index.row()) if index.isValid() else None
        if unit is None:
            return
        menu = QMenu(self)
        show = QAction(f"Show {unit}", menu)
        show.triggered.connect(lambda: self.unitSelected.emit(unit))
        menu.addAction(show)
        compare = menu.addMenu("Compare with…")
        for other in self.model.units:
            if other != unit:
                act = compare.addAction(other)
                act.triggered.connect(lambda _=False, o=other: self.compareRequested.emit(unit, o))
        menu.popup(self.view.viewport().mapToGlobal(pos))
