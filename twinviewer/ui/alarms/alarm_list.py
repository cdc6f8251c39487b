"""The alarm and event list: every warning and alarm interval, newest first; predicted alarms
(forecast limit crossings) and anomaly events (a model's score past its limit) as their own kinds.

A passive view of :class:`twinviewer.core.alarms.AlarmLog` intervals: the window hands it the
intervals whenever they change (:meth:`QtAlarmList.set_intervals`). Clicking a row asks the
window to move the timeline to the interval's start and select the component
(:attr:`QtAlarmList.jumpRequested`). Acknowledging marks rows; filters narrow the list.

Commands sent from the twin (the audit trail) come in through :meth:`QtAlarmList.set_commands`
as rows of their own kind, listed with the alarms by time; the *Commands* filter shows only
them. They are events, not alarms: never active, never acknowledged.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from datetime import tzinfo
from typing import Any

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QBrush, QColor, QFont, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from twinviewer.core.alarms import Acknowledgements
from twinviewer.core.colour import STATUS_COLOURS, Status
from twinviewer.ui.alarms.rows import (
    ANOMALY,
    COMMAND,
    PREDICTED,
    ROW_DTYPE,
    CommandEvent,
    as_rows,
)
from twinviewer.ui.timeline.bar import format_time
from twinviewer.ui.timeline.predictions import crossing_label
from twinviewer.ui.widgets.elided_label import QtElidedLabel
from twinviewer.ui.widgets.sensor_drag import SENSOR_MIME, sensor_mime

log = logging.getLogger(__name__)

COLUMNS = ("Level", "Sensor", "Component", "Start", "End", "Duration", "Peak", "Ack")
FILTERS = ("All", "Alarms only", "Active", "Unacknowledged", "Predicted and anomalies", "Commands")
COMMANDS_FILTER = FILTERS.index("Commands")


def predicted_text(rec: np.void) -> str:
    """``alarm in 6 min 02 s (4 min 10 s–9 min)`` from a predicted row (the charts' and the
    timeline's wording)."""
    level = "alarm" if int(rec["level"]) == Status.ALARM else "warning"
    at = float(rec["at"])
    return crossing_label(level, float(rec["start"]), float(rec["early"]), float(rec["late"]), at)


AnyIndex = QModelIndex | QPersistentModelIndex


def format_duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return ""
    s = int(round(seconds))
    if s < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{s} s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m} min {s:02d} s"
    h, m = divmod(m, 60)
    if h < 48:
        return f"{h} h {m:02d} min"
    d, h = divmod(h, 24)
    return f"{d} d {h} h"


class AlarmTableModel(QAbstractTableModel):
    """Rows = the intervals that pass the filter, newest start first."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.intervals = np.zeros(0, ROW_DTYPE)
        self.rows = np.zeros(0, np.int64)  # indices into ``intervals``
        self.sensor_ids: list[str] = []
        self.sensor_labels: list[str] = []
        self.units: list[str] = []
        self.sensor_component: list[int] = []  # -1: no component
        self.component_names: list[str] = []
        self.commands: list[CommandEvent] = []  # COMMAND rows' words, by their ``sensor``
        self.acks = Acknowledgements()
        self.tz: tzinfo | None = None
        self.filter = 0
        self.text = ""
        self.now = time.time()

    # -- content -------------------------------------------------------------------------------
    def key(self, i: int) -> tuple[str, float]:
        rec = self.intervals[i]
        if int(rec["kind"]) == COMMAND:
            return f"command {self.commands[int(rec['sensor'])].key}", float(rec["start"])
        sid = self.sensor_ids[int(rec["sensor"])]
        if int(rec["kind"]) == PREDICTED:  # its time moves with every forecast: keyed by limit
            return f"{sid} predicted {int(rec['level'])}", 0.0
        return sid, float(rec["start"])

    def recompute(self) -> None:
        self.beginResetModel()
        rec = self.intervals
        keep = np.ones(len(rec), bool)
        command = rec["kind"] == COMMAND
        if self.filter == 1:
            keep &= rec["level"] == Status.ALARM
        elif self.filter == 2:
            keep &= np.isnan(rec["end"]) & (rec["kind"] != PREDICTED) & ~command
        elif self.filter == 3:
            keep &= np.array([self.key(i) not in self.acks for i in range(len(rec))], bool)
            keep &= (rec["kind"] != PREDICTED) & ~command
        elif self.filter == 4:
            keep &= (rec["kind"] == PREDICTED) | (rec["kind"] == ANOMALY)
        elif self.filter == COMMANDS_FILTER:
            keep &= command
        if self.text:
            needle = self.text.lower()
            hay = [
                f"{self.sensor_labels[s]} {self.sensor_ids[s]} {self._component(s)}".lower()
                for s in range(len(self.sensor_ids))
            ]
            match = np.array([needle in h for h in hay], bool)
            hit = np.zeros(len(rec), bool)
            if len(match):
                hit[~command] = match[rec["sensor"][~command]]
            words = [f"{c.label} {c.component} {c.result} {c.tip}".lower() for c in self.commands]
            if words:
                said = np.array([needle in w for w in words], bool)
                hit[command] = said[rec["sensor"][command]]
            keep &= hit
        rows = np.flatnonzero(keep)
        self.rows = rows[np.argsort(-rec["start"][rows], kind="stable")]
        self.endResetModel()

    def _component(self, s: int) -> str:
        c = self.sensor_component[s]
        return self.component_names[c] if c >= 0 else ""

    # -- Qt ------------------------------------------------------------------------------------
    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsDragEnabled if index.isValid() else base

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [SENSOR_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:  # noqa: N802
        rows = sorted({ix.row() for ix in indexes if ix.isValid()})
        recs = [self.intervals[int(self.rows[r])] for r in rows]
        ids = [self.sensor_ids[int(rec["sensor"])] for rec in recs if rec["kind"] != COMMAND]
        return sensor_mime(ids)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        i = int(self.rows[index.row()])
        rec = self.intervals[i]
        s, level = int(rec["sensor"]), int(rec["level"])
        start, end = float(rec["start"]), float(rec["end"])
        col = index.column()
        if int(rec["kind"]) == PREDICTED:
            return self._predicted(rec, col, role)
        if int(rec["kind"]) == COMMAND:
            return self._command(rec, col, role)
        active = math.isnan(end)
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                if int(rec["kind"]) == ANOMALY:
                    return "Anomaly"
                return "ALARM" if level == Status.ALARM else "Warning"
            if col == 1:
                return self.sensor_labels[s]
            if col == 2:
                return self._component(s)
            if col == 3:
                return format_time(start, self.tz)
            if col == 4:
                return "active" if active else format_time(end, self.tz)
            if col == 5:
                return format_duration((self.now if active else end) - start)
            if col == 6:
                if int(rec["kind"]) == ANOMALY:
                    return f"score {rec['peak']:.3g}"
                unit = self.units[s]
                return f"{rec['peak']:.4g} {unit}".strip()
            if col == 7:
                return "✓" if self.key(i) in self.acks else ""
        elif role == Qt.ItemDataRole.DecorationRole and col == 0:
            if int(rec["kind"]) == ANOMALY:
                return QColor(*ANOMALY_COLOUR)
            return QColor(*STATUS_COLOURS[Status(level)][:3])
        elif role == Qt.ItemDataRole.ForegroundRole and col == 0:
            if int(rec["kind"]) == ANOMALY:
                return QBrush(QColor(*ANOMALY_COLOUR))
            return QBrush(QColor(*STATUS_COLOURS[Status(level)][:3]))
        elif role == Qt.ItemDataRole.FontRole and active and self.key(i) not in self.acks:
            bold = QFont()
            bold.setBold(True)
            return bold
        elif role == Qt.ItemDataRole.ToolTipRole:
            what = "alarm" if level == Status.ALARM else "warning"
            if int(rec["kind"]) == ANOMALY:
                what = "anomaly score above the model's limit"
            return (
                f"{self.sensor_labels[s]} ({self.sensor_ids[s]})\n"
                f"{what} from "
                f"{format_time(start, None)}"
                + ("" if active else f" to {format_time(end, None)}")
                + "\nClick to move the timeline here"
            )
        elif role == Qt.ItemDataRole.TextAlignmentRole and col in (5, 6, 7):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _predicted(self, rec: np.void, col: int, role: int) -> Any:
        """A forecast crossing: when it is expected, how sure, which limit."""
        s, level = int(rec["sensor"]), int(rec["level"])
        colour = QColor(*STATUS_COLOURS[Status(level)][:3])
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return "Predicted alarm" if level == Status.ALARM else "Predicted warning"
            if col == 1:
                return self.sensor_labels[s]
            if col == 2:
                return self._component(s)
            if col == 3:
                return predicted_text(rec).split(" ", 1)[1]
            if col == 4:
                return f"≈ {format_time(float(rec['start']), self.tz)}"
            if col == 6:
                return f"limit {rec['peak']:.4g} {self.units[s]}".strip()
            return ""
        if role == Qt.ItemDataRole.DecorationRole and col == 0:
            colour.setAlpha(110)
            return colour
        if role == Qt.ItemDataRole.ForegroundRole and col in (0, 3):
            return QBrush(colour)
        if role == Qt.ItemDataRole.FontRole:
            italic = QFont()
            italic.setItalic(True)
            return italic
        if role == Qt.ItemDataRole.ToolTipRole:
            return (
                f"{self.sensor_labels[s]} ({self.sensor_ids[s]}): {predicted_text(rec)}\n"
                "Forecast from the sensor's trend; not an alarm yet"
            )
        return None

    def _command(self, rec: np.void, col: int, role: int) -> Any:
        """A command sent from the twin: its result, what, where, when, old → new."""
        c = self.commands[int(rec["sensor"])]
        if role == Qt.ItemDataRole.DisplayRole:
            start, end = float(rec["start"]), float(rec["end"])
            texts = {
                0: f"Command {c.result}",
                1: c.label,
                2: c.component,
                3: format_time(start, self.tz),
                4: c.detail,
                5: format_duration(end - start) if math.isfinite(end) else "",
                6: c.change,
            }
            return texts.get(col, "")
        if role in (Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.ForegroundRole) and col == 0:
            colour = QColor(*c.rgb)
            return colour if role == Qt.ItemDataRole.DecorationRole else QBrush(colour)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{c.tip}\nClick to move the timeline here"
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (5, 6):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


ANOMALY_COLOUR = (170, 110, 230)


class QtAlarmList(QWidget):
    """Filter bar, the table, and an acknowledge button."""

    jumpRequested = Signal(float, int)
    """Move the timeline to this time and select this component (-1: none)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = AlarmTableModel(self)
        self._real = np.zeros(0, ROW_DTYPE)  # recorded intervals
        self._forecast = np.zeros(0, ROW_DTYPE)  # predicted alarms and anomaly events
        self._commands = np.zeros(0, ROW_DTYPE)  # commands sent from the twin

        self.filter_combo = QComboBox(self)
        self.filter_combo.addItems(FILTERS)
        self.filter_combo.setToolTip("Which intervals to list")
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Filter by sensor or component…")
        self.search.setClearButtonEnabled(True)
        self.ack_button = QToolButton(self)
        self.ack_button.setText("Acknowledge")
        self.ack_button.setToolTip("Acknowledge the selected alarms (Ctrl+K)")
        self.ack_all_button = QToolButton(self)
        self.ack_all_button.setText("Acknowledge all")
        self.ack_all_button.setToolTip("Acknowledge every alarm listed")
        self.count_label = QtElidedLabel(parent=self, minimum=60)
        self.count_label.setObjectName("alarm-count")

        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setDragEnabled(True)
        self.table.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        widths = (165, 210, 190, 200, 200, 110, 110, 40)
        for col, w in enumerate(widths):
            self.table.setColumnWidth(col, w)
        self.empty_label = QLabel("No warnings or alarms in the recorded history.", self)
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setEnabled(False)

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.filter_combo)
        bar.addWidget(self.search, 1)
        bar.addWidget(self.ack_button)
        bar.addWidget(self.ack_all_button)
        bar.addWidget(self.count_label)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)
        lay.addLayout(bar)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.empty_label)

        ack = QAction("Acknowledge", self)
        ack.setShortcut(QKeySequence("Ctrl+K"))
        ack.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        ack.triggered.connect(self.acknowledge_selected)
        self.addAction(ack)
        self.filter_combo.currentIndexChanged.connect(self._on_filter)
        self.search.textChanged.connect(self._on_text)
        self.ack_button.clicked.connect(self.acknowledge_selected)
        self.ack_all_button.clicked.connect(self.acknowledge_all)
        self.table.clicked.connect(self._on_clicked)
        self.table.activated.connect(self._on_clicked)
        self._update_count()

    # -- configuration -------------------------------------------------------------------------
    def set_context(
        self,
        sensor_ids: Sequence[str],
        sensor_labels: Sequence[str],
        units: Sequence[str],
        sensor_component: Sequence[int],
        component_names: Sequence[str],
        acks: Acknowledgements,
    ) -> None:
        """Names for the rows: one entry per project sensor; the acknowledgements store."""
        m = self.model
        self.table.clearSelection()
        m.sensor_ids, m.sensor_labels, m.units = list(sensor_ids), list(sensor_labels), list(units)
        m.sensor_component, m.component_names = list(sensor_component), list(component_names)
        m.acks = acks
        m.intervals = np.zeros(0, ROW_DTYPE)
        m.commands = []
        self._real = np.zeros(0, ROW_DTYPE)
        self._forecast = np.zeros(0, ROW_DTYPE)
        self._commands = np.zeros(0, ROW_DTYPE)
        self._reset(set(), None)

    def set_time_zone(self, tz: tzinfo | None) -> None:
        self.model.tz = tz
        self._refilter()

    def set_intervals(self, intervals: np.ndarray, now: float | None = None) -> None:
        """Replace the intervals (as from ``AlarmLog.intervals``), keeping the selection."""
        self._real = as_rows(intervals)
        self._combine(now)

    def set_predictions(self, rows: np.ndarray, now: float | None = None) -> None:
        """Replace the predicted alarms and anomaly events (``ROW_DTYPE`` rows of kinds
        :data:`PREDICTED` and :data:`ANOMALY`)."""
        self._forecast = rows
        self._combine(now)

    def set_commands(self, rows: np.ndarray, events: Sequence[CommandEvent]) -> None:
        """Replace the command events (the hook of the commands feature): :data:`COMMAND`
        rows (:func:`~twinviewer.ui.alarms.rows.command_rows`), one event per row."""
        if len(rows) != len(events):
            raise ValueError(f"{len(events)} command events for {len(rows)} rows")
        keys, current = self._selection_keys()
        self._commands = rows
        self.model.commands = list(events)
        self.model.intervals = np.concatenate([self._real, self._forecast, self._commands])
        self._reset(keys, current)

    def _combine(self, now: float | None) -> None:
        keys, current = self._selection_keys()
        self.model.intervals = np.concatenate([self._real, self._forecast, self._commands])
        self.model.now = time.time() if now is None else now
        self._reset(keys, current)

    def clear(self) -> None:
        self.set_context([], [], [], [], [], Acknowledgements())

    # -- queries -------------------------------------------------------------------------------
    def listed(self) -> np.ndarray:
        """The intervals shown, top to bottom."""
        return self.model.intervals[self.model.rows]

    def selected(self) -> list[int]:
        """Indices into the intervals of the selected rows."""
        rows = sorted({ix.row() for ix in self.table.selectionModel().selectedRows()})
        return [int(self.model.rows[r]) for r in rows]

    # -- actions -------------------------------------------------------------------------------
    def acknowledge_selected(self) -> int:
        return self._acknowledge(self.selected())

    def acknowledge_all(self) -> int:
        return self._acknowledge([int(i) for i in self.model.rows])

    def _acknowledge(self, indices: list[int]) -> int:
        real = [
            i for i in indices if int(self.model.intervals[i]["kind"]) not in (PREDICTED, COMMAND)
        ]
        try:
            n = self.model.acks.acknowledge([self.model.key(i) for i in real], time.time())
        except OSError as exc:  # the control room's database: a replica, or away
            log.warning("alarms: not acknowledged: %s", exc)
            box = QMessageBox(QMessageBox.Icon.Warning, "Not acknowledged", str(exc), parent=self)
            box.setObjectName("ack-refused")
            box.open()
            return 0
        if n:
            self._refilter()
        return n

    def acknowledgements_changed(self) -> None:
        """Another viewer acknowledged alarms (the control room's poll): list them again."""
        self._refilter()

    def select_row(self, row: int) -> None:
        """Select a listed row and jump there, as a click does."""
        index = self.model.index(row, 0)
        self.table.setCurrentIndex(index)
        self._on_clicked(index)

    # -- internals -----------------------------------------------------------------------------
    def _on_filter(self, index: int) -> None:
        self.model.filter = index
        self._refilter()

    def _on_text(self, text: str) -> None:
        self.model.text = text.strip()
        self._refilter()

    def _on_clicked(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        rec = self.model.intervals[int(self.model.rows[index.row()])]
        s = int(rec["sensor"])
        comp = self.model.sensor_component[s] if s < len(self.model.sensor_component) else -1
        if int(rec["kind"]) == COMMAND:
            comp = self.model.commands[s].component_index
        self.jumpRequested.emit(float(rec["start"]), int(comp))

    def _selection_keys(self) -> tuple[set[tuple[str, float]], tuple[str, float] | None]:
        """The selected and the current row, by interval key (rows move when the list changes)."""
        keys = {self.model.key(i) for i in self.selected()}
        current = self.table.currentIndex()
        current_key = (
            self.model.key(int(self.model.rows[current.row()]))
            if current.isValid() and current.row() < len(self.model.rows)
            else None
        )
        return keys, current_key

    def _refilter(self) -> None:
        self._reset(*self._selection_keys())

    def _reset(self, keys: set[tuple[str, float]], current_key: tuple[str, float] | None) -> None:
        self.model.recompute()
        sel = self.table.selectionModel()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        for row, i in enumerate(self.model.rows.tolist()):
            k = self.model.key(i)
            if k in keys:
                sel.select(self.model.index(row, 0), flags)
            if k == current_key:
                sel.setCurrentIndex(
                    self.model.index(row, 0), QItemSelectionModel.SelectionFlag.NoUpdate
                )
        self._update_count()

    def _update_count(self) -> None:
        rec = self.model.intervals
        command = rec["kind"] == COMMAND
        actual = (rec["kind"] != PREDICTED) & ~command
        active = int((np.isnan(rec["end"]) & actual).sum()) if len(rec) else 0
        unacked = sum(
            1 for i in range(len(rec)) if actual[i] and self.model.key(i) not in self.model.acks
        )
        listed = f"{len(self.model.rows)} of {len(rec)} listed"
        text = f"{listed} · {active} active · {unacked} unacknowledged"
        predicted = int((rec["kind"] == PREDICTED).sum())
        if predicted:
            text += f" · {predicted} predicted"
        if command.any():
            text += f" · {int(command.sum())} commands"
        self.count_label.setText(text)
        self.table.setVisible(len(rec) > 0)
        self.empty_label.setVisible(len(rec) == 0)
