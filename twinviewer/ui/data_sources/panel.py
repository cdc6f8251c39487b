"""The connection panel: each data source's state, rate, rejections, data-quality gaps (and the
samples they miss) and last message."""

from __future__ import annotations

import time
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from twinviewer.core.gaps import describe_cause
from twinviewer.sources.base import Source, SourceState, SourceStatus

STATE_COLOURS = {
    SourceState.LIVE: QColor(40, 170, 90),
    SourceState.CONNECTING: QColor(70, 120, 200),
    SourceState.RECONNECTING: QColor(255, 170, 0),
    SourceState.ERROR: QColor(230, 25, 40),
    SourceState.STOPPED: QColor(110, 110, 110),
}
COLUMNS = [
    "Source",
    "State",
    "Samples/s",
    "Accepted",
    "Rejected",
    "Gaps",
    "Missing",
    "Last message",
]
NUMBER_COLUMNS = (2, 3, 4, 5, 6)
GAPS_COLUMN, MISSING_COLUMN = 5, 6
GAP_TEXT = QColor(226, 196, 140)  # the gaps' amber-grey (see ui/widgets/gaps.py)


def gap_tip(st: SourceStatus) -> str:
    """The samples missing by cause, largest first."""
    if not st.gaps:
        return "No data-quality gap reported: no sample known to be missing"
    lines = [
        f"{st.gaps:,} gap{'s' if st.gaps != 1 else ''}, {st.missing:,} samples missing "
        "(some may be estimates):"
    ]
    for cause, n in sorted(st.gap_causes.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"  {describe_cause(cause)}: {n:,}")
    return "\n".join(lines)


@dataclass
class _Rate:
    accepted: int
    at: float
    per_second: float = 0.0


class QtSourcePanel(QWidget):
    """Passive view of the sources' status; :meth:`refresh` is called twice a second."""

    add_mqtt_requested = Signal()  # the "Add MQTT source…" button

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.add_mqtt_button = QPushButton("Add MQTT source…")
        self.add_mqtt_button.setToolTip(
            "Connect to a broker, discover its topics and add it to the project's sources"
        )
        self.add_mqtt_button.clicked.connect(self.add_mqtt_requested)
        buttons = QVBoxLayout()
        buttons.addWidget(self.add_mqtt_button)
        buttons.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.table, 1)
        row.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(row)
        self._rates: dict[str, _Rate] = {}

    def refresh(self, sources: list[Source], types: dict[str, str]) -> None:
        now = time.monotonic()
        self.table.setRowCount(len(sources))
        for r, src in enumerate(sources):
            st = src.status
            rate = self._rates.get(src.id)
            if rate is None or st.accepted < rate.accepted:
                rate = self._rates[src.id] = _Rate(st.accepted, now)
            elif now - rate.at >= 0.4:
                rate.per_second = (st.accepted - rate.accepted) / (now - rate.at)
                rate.accepted, rate.at = st.accepted, now
            state = st.state.value + (f": {st.message}" if st.message else "")
            last = (
                "–" if st.last_time is None else f"{max(0.0, time.time() - st.last_time):.1f} s ago"
            )
            cells = [
                f"{src.id} ({types.get(src.id, '?')})",
                state,
                f"{rate.per_second:,.0f}",
                f"{st.accepted:,}",
                f"{st.rejected_total:,}",
                f"{st.gaps:,}",
                f"{st.missing:,}",
                last,
            ]
            for c, text in enumerate(cells):
                item = self.table.item(r, c)
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(r, c, item)
                item.setText(text)
                if c in NUMBER_COLUMNS:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if c in (GAPS_COLUMN, MISSING_COLUMN):
                    item.setToolTip(gap_tip(st))
                    item.setForeground(QBrush(GAP_TEXT) if st.gaps else self.table.palette().text())
            state_item = self.table.item(r, 1)
            if state_item is not None:
                state_item.setForeground(QBrush(STATE_COLOURS[st.state]))
                state_item.setToolTip(state)
            rejected_item = self.table.item(r, 4)
            if rejected_item is not None:
                reasons = "\n".join(f"{k}: {v:,}" for k, v in sorted(st.rejected.items()))
                flagged = "\n".join(f"{k}: {v:,}" for k, v in sorted(st.flags.items()))
                tip = reasons or "nothing rejected"
                if flagged:
                    tip += "\naccepted but flagged:\n" + flagged
                rejected_item.setToolTip(tip)

    def text(self, row: int, column: int) -> str:
        item = self.table.item(row, column)
        return item.text() if item is not None else ""
