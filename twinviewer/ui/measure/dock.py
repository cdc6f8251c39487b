"""The Measurements dock: the review's measurements in a table, a unit switch and Delete.

A passive view: the feature hands it the measurements (:meth:`QtMeasureDock.set_measurements`)
and listens to the user's intent: a row chosen, a name edited (double click), Delete, another
unit. It changes nothing itself, so every change goes through the undo stack.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from twinviewer.render.annotations import components_text, value_text
from twinviewer.review import Measurement

COLUMNS = ("Name", "Kind", "Value", "Components")
COL_NAME, COL_KIND, COL_VALUE, COL_COMPONENTS = range(4)
SHOWN_UNITS = ("mm", "m", "in")
KIND_TEXT = {
    "distance": "Distance",
    "angle": "Angle",
    "area": "Area",
    "point": "Point",
    "clearance": "Clearance",
}
ID_ROLE = Qt.ItemDataRole.UserRole


class QtMeasureDock(QWidget):
    """Signals: ``chosen(str)`` a row's measurement id ("" for none), ``renamed(str, str)`` id
    and new name, ``deleteRequested(str)`` id, ``unitChosen(str)`` a unit ("" = the model's)."""

    chosen = Signal(str)
    renamed = Signal(str, str)
    deleteRequested = Signal(str)
    unitChosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("measure-dock")
        self.unit_combo = QComboBox(self)
        self.unit_combo.setToolTip("The unit every measurement is shown in")
        self.unit_combo.activated.connect(self._on_unit)
        self.hint = QLabel("Measure from View > Measure or the toolbar's Measure button", self)
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: palette(mid);")
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("measure-table")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.installEventFilter(self)
        self.delete_button = QPushButton("Delete", self)
        self.delete_button.setToolTip(
            "Delete the chosen measurement (Delete; Ctrl+Z brings it back)"
        )
        self.delete_button.clicked.connect(self._delete_current)
        self.delete_button.setEnabled(False)
        top = QHBoxLayout()
        top.addWidget(QLabel("Show in", self))
        top.addWidget(self.unit_combo)
        top.addStretch(1)
        top.addWidget(self.delete_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.hint)
        self._filling = False
        self.set_units(None)

    # -- what the feature tells it ---------------------------------------------------------------
    def set_units(self, model_unit: str | None, current: str | None = None) -> None:
        """The unit choices: the model's own first, then mm, m and in."""
        self.unit_combo.blockSignals(True)
        self.unit_combo.clear()
        own = model_unit or "m"
        self.unit_combo.addItem(f"{own} (model)", "")
        for unit in SHOWN_UNITS:
            if unit != own:
                self.unit_combo.addItem(unit, unit)
        k = self.unit_combo.findData(current or "")
        self.unit_combo.setCurrentIndex(max(k, 0))
        self.unit_combo.blockSignals(False)

    def set_measurements(self, measurements: list[Measurement], unit: str | None) -> None:
        """Fill the table (keeping the chosen row when its measurement is still there)."""
        keep = self.current_id()
        self._filling = True
        self.table.blockSignals(True)
        self.table.setRowCount(len(measurements))
        for row, m in enumerate(measurements):
            value = value_text(m, unit)
            extra = components_text(m, unit)
            cells = (m.name, KIND_TEXT[m.kind], value, ", ".join(m.components))
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(ID_ROLE, m.id)
                flags = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled
                if col == COL_NAME:
                    flags |= Qt.ItemFlag.ItemIsEditable
                    item.setToolTip("Double-click to rename")
                elif col == COL_VALUE and extra:
                    item.setToolTip(extra)
                item.setFlags(flags)
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
        self.table.blockSignals(False)
        self._filling = False
        self.select(keep)
        self.hint.setVisible(not measurements)
        self.delete_button.setEnabled(self.current_id() is not None)

    def select(self, measurement_id: str | None) -> None:
        """Choose the row of a measurement (None: no row)."""
        self.table.blockSignals(True)
        self.table.clearSelection()
        for row in range(self.table.rowCount()):
            item = self.table.item(row, COL_NAME)
            if (
                measurement_id is not None
                and item is not None
                and item.data(ID_ROLE) == measurement_id
            ):
                self.table.selectRow(row)
                self.table.scrollToItem(item)
                break
        self.table.blockSignals(False)
        self.delete_button.setEnabled(self.current_id() is not None)

    # -- reading it ------------------------------------------------------------------------------
    def current_id(self) -> str | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        item = self.table.item(rows[0].row(), COL_NAME)
        return None if item is None else str(item.data(ID_ROLE))

    def row_texts(self) -> list[tuple[str, ...]]:
        """What the table shows, row by row (tests, the report)."""
        return [
            tuple(self.table.item(r, c).text() for c in range(len(COLUMNS)))  # type: ignore[union-attr]
            for r in range(self.table.rowCount())
        ]

    # -- the user's intent -----------------------------------------------------------------------
    def _on_selection(self) -> None:
        current = self.current_id()
        self.delete_button.setEnabled(current is not None)
        self.chosen.emit(current or "")

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling or item.column() != COL_NAME:
            return
        name = item.text().strip()
        if name:
            self.renamed.emit(str(item.data(ID_ROLE)), name)

    def _on_unit(self, index: int) -> None:
        self.unitChosen.emit(str(self.unit_combo.itemData(index) or ""))

    def _delete_current(self) -> None:
        current = self.current_id()
        if current is not None:
            self.deleteRequested.emit(current)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt naming)
        if (
            watched is self.table
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)
            and self.table.state() != QAbstractItemView.State.EditingState
        ):
            self._delete_current()
            return True
        return super().eventFilter(watched, event)
