"""The inspector: the selected component's properties and its sensors' latest values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QItemSelectionModel, QMimeData, Qt, Signal, SignalInstance
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from twinviewer.core.colour import STATUS_COLOURS, STATUS_LABELS, Status
from twinviewer.ui.widgets.sensor_drag import SENSOR_MIME, sensor_mime


@dataclass
class SensorRow:
    sensor: str
    quantity: str
    value: str
    unit: str
    time: str
    status: Status
    limits: str
    missing: str = ""  # "data missing (cause, samples)": the shown time lies in a gap
    missing_tip: str = ""  # the value held from before the gap, and the gaps


COLUMNS = ["Sensor", "Value", "Status", "Time", "Warning / alarm"]
FIELDS = ("Path", "Kind", "Triangles", "State")
#: Shown only when the window has something to say (trained models of the component's sensors).
OPTIONAL_FIELDS = ("Health", "Anomaly score", "Driven by", "Forecast", "Remaining life")
VALUE_COLUMN, STATUS_COLUMN, TIME_COLUMN = 1, 2, 3
MISSING_TEXT = QColor(226, 196, 140)  # the gaps' amber-grey (see ui/widgets/gaps.py)
MISSING_STATUS = STATUS_LABELS[Status.NO_DATA]  # at that instant there is none


class _SensorTable(QTableWidget):
    """The sensor rows; dragging them onto a chart adds those sensors to it."""

    def mimeTypes(self) -> list[str]:  # noqa: N802 (Qt's name)
        return [SENSOR_MIME]

    def mimeData(self, items: Sequence[QTableWidgetItem]) -> QMimeData:  # noqa: N802
        rows = sorted({it.row() for it in items})
        cells = [self.item(r, 0) for r in rows]
        ids = [c.text() for c in cells if c is not None]
        return sensor_mime(ids)


class QtInspector(QWidget):
    """Passive view: the window fills it from the session a few times a second. Its buttons
    ask to add a sensor to the component, or to edit or remove the sensor of the current row."""

    addRequested = Signal()  # noqa: N815 (Qt's naming)
    editRequested = Signal(str)  # noqa: N815
    removeRequested = Signal(str)  # noqa: N815

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("No component selected", self)
        self.title.setStyleSheet("font-weight: bold; font-size: 14px;")
        self.title.setWordWrap(True)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.form = form
        self.fields: dict[str, QLabel] = {}
        for name in FIELDS + OPTIONAL_FIELDS:
            label = QLabel("–", self)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setWordWrap(True)
            self.fields[name] = label
            form.addRow(f"{name}:", label)
            if name in OPTIONAL_FIELDS:
                form.setRowVisible(label, False)
        self.table = _SensorTable(0, len(COLUMNS), self)
        self.table.setDragEnabled(True)
        self.table.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.table.setToolTip("Drag sensors onto a chart to add them to it")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.title)
        layout.addLayout(form)
        self.sensors_label = QLabel("Sensors", self)  # other features' sections go above it
        layout.addWidget(self.sensors_label)
        layout.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add sensor…", self)
        self.add_button.setToolTip("Add a sensor to this component (written to the project)")
        self.edit_button = QPushButton("Edit…", self)
        self.edit_button.setToolTip("Edit the selected sensor")
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.setToolTip("Remove the selected sensor from the project")
        for b in (self.add_button, self.edit_button, self.remove_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.add_button.clicked.connect(lambda _=False: self.addRequested.emit())
        self.edit_button.clicked.connect(lambda _=False: self._ask(self.editRequested))
        self.remove_button.clicked.connect(lambda _=False: self._ask(self.removeRequested))
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self._can_add = False
        self._update_buttons()

    # -- hook: another feature's section (e.g. the component's commands) -------------------------
    def add_section(self, widget: QWidget) -> None:
        """Show another feature's panel under the properties, above the sensors; the panel
        fills, shows and hides itself."""
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(layout.indexOf(self.sensors_label), widget)

    def set_authoring(self, can_add: bool) -> None:
        """Whether sensors can be added here (a component of a twin saved in a file)."""
        self._can_add = can_add
        self._update_buttons()

    def selected_sensor(self) -> str | None:
        """The id of the sensor in the current row, if any row is selected."""
        rows = sorted({it.row() for it in self.table.selectedItems()})
        item = self.table.item(rows[0], 0) if rows else None
        return item.text() if item is not None else None

    def select_sensor(self, sensor_id: str) -> bool:
        """Select the row of ``sensor_id``; whether it is listed."""
        for r in range(self.table.rowCount()):
            item = self.table.item(r, 0)
            if item is not None and item.text() == sensor_id:
                # the selection model directly: selectRow() heeds the keys held down
                flags = QItemSelectionModel.SelectionFlag
                self.table.selectionModel().select(
                    self.table.model().index(r, 0), flags.ClearAndSelect | flags.Rows
                )
                self._update_buttons()
                return True
        return False

    def sensor_ids(self) -> list[str]:
        """The sensors listed, in order."""
        items = (self.table.item(r, 0) for r in range(self.table.rowCount()))
        return [it.text() for it in items if it is not None]

    def _ask(self, signal: SignalInstance) -> None:
        sensor = self.selected_sensor()
        if sensor is not None:
            signal.emit(sensor)

    def _update_buttons(self) -> None:
        self.add_button.setEnabled(self._can_add)
        chosen = self._can_add and self.selected_sensor() is not None
        self.edit_button.setEnabled(chosen)
        self.remove_button.setEnabled(chosen)

    def set_component(self, name: str, fields: dict[str, str]) -> None:
        self.title.setText(name)
        for key, label in self.fields.items():
            label.setText(fields.get(key, "–"))
            if key in OPTIONAL_FIELDS:
                self.form.setRowVisible(label, key in fields)

    def properties(self) -> dict[str, str]:
        """The fields shown, by name."""
        return {
            k: label.text()
            for k, label in self.fields.items()
            if k not in OPTIONAL_FIELDS or self.form.isRowVisible(label)
        }

    def clear(self) -> None:
        self.set_component("No component selected", {})
        self.table.setRowCount(0)
        self.set_authoring(False)

    def set_sensors(self, rows: list[SensorRow]) -> None:
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            value = f"{row.value} {row.unit}" if row.value != "–" else "–"
            status = STATUS_LABELS[row.status]
            when = row.time
            if row.missing:  # not the held value as if it were current
                value, status = row.missing, MISSING_STATUS
                when = f"{row.time} (held)" if row.time != "–" else "–"
            cells = [row.sensor, value, status, when, row.limits]
            for c, text in enumerate(cells):
                item = self.table.item(r, c)
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(r, c, item)
                if item.text() != text:
                    item.setText(text)
                if c == 0:
                    item.setToolTip(f"{row.sensor}: {row.quantity}")
                if c in (VALUE_COLUMN, TIME_COLUMN) and (row.missing_tip or item.toolTip()):
                    # the held value and the gaps; cleared (not ""), so the table's tip shows
                    item.setData(Qt.ItemDataRole.ToolTipRole, row.missing_tip or None)
                if c == VALUE_COLUMN:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                    item.setForeground(
                        QBrush(MISSING_TEXT) if row.missing else self.palette().text()
                    )
                if c == STATUS_COLUMN:
                    shown = Status.NO_DATA if row.missing else row.status
                    rgb = [int(v) for v in STATUS_COLOURS[shown][:3]]
                    item.setBackground(QBrush(QColor(*rgb)))
                    dark = sum(rgb) < 380
                    item.setForeground(QBrush(QColor("white" if dark else "black")))
        self._update_buttons()

    def value_of(self, sensor_id: str) -> str | None:
        """The displayed value text of a sensor, with its unit (for tests and accessibility)."""
        for r in range(self.table.rowCount()):
            item = self.table.item(r, 0)
            if item is not None and item.text() == sensor_id:
                value = self.table.item(r, VALUE_COLUMN)
                return value.text() if value is not None else None
        return None
