"""The Review dock: the review's issues in a table with filters, and the selected one's details.

A passive view: the feature hands it the issues (:meth:`QtReviewDock.set_issues`) and listens
to the user's intent (select, add, edit, delete, filter). Filtering is by status, component,
author and a text search over titles, descriptions, labels and comments; the issues that pass
are also the ones pinned in 3D and flagged on the timeline (:meth:`QtReviewDock.listed`).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal, SignalInstance
from PySide6.QtGui import QColor, QIcon, QKeyEvent, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from twinviewer.review import Issue
from twinviewer.review.model import STATUSES
from twinviewer.ui.review.dialog import PRIORITY_TEXT, STATUS_TEXT, comments_html

#: Status colours (RGB): open red, in progress amber, resolved green, closed grey.
STATUS_RGB: dict[str, tuple[int, int, int]] = {
    "open": (228, 72, 62),
    "in_progress": (240, 170, 40),
    "resolved": (52, 178, 96),
    "closed": (140, 146, 154),
}
UNRESOLVED = "\x00unresolved"
ALL = None
COLUMNS = ("#", "", "Title", "Priority", "Component", "Twin time", "Author", "Notes")
COLUMN_TIPS = {1: "Status", 5: "The twin's time of the issue", 7: "Comments"}
COL_STATUS, COL_TITLE, COL_PRIORITY, COL_COMPONENT, COL_TIME, COL_NOTES = 1, 2, 3, 4, 5, 7
CAPPED = {4: 130, 5: 130, 6: 100}  # columns fitted to their contents up to this width
TITLE_MIN = 140  # px the title keeps before the table scrolls sideways
SNAPSHOT_SIZE = (168, 105)


@dataclass
class IssueRow:
    """One issue as the table shows it: its number in the review, the twin time as text."""

    number: int
    issue: Issue
    time_text: str
    time_short: str = ""  # for the table (the date without the year, no zone)
    snapshot: Path | None = None
    values: str = ""  # the sensor values then, with their units


def values_text(values: dict[str, float], units: dict[str, str]) -> str:
    """``a = 1.5 degC, b = 3 mm/s``: sensor values with their units, by sensor id."""
    return ", ".join(
        f"{k} = {v:.4g} {units.get(k, '')}".rstrip() for k, v in sorted(values.items())
    )


def matches(issue: Issue, status: str | None, component: str | None, author: str | None,
            text: str) -> bool:  # fmt: skip
    """Whether an issue passes the filters (``None``: any; status :data:`UNRESOLVED`: open or
    in progress; ``text``: in the title, description, labels or comments, any case)."""
    if status == UNRESOLVED:
        if issue.status not in ("open", "in_progress"):
            return False
    elif status is not None and issue.status != status:
        return False
    if (
        component is not None
        and issue.component != component
        and not any(component in v.selection for v in issue.viewpoints())
    ):
        return False
    if (
        author is not None
        and issue.author != author
        and not any(c.author == author for c in issue.comments)
    ):
        return False
    needle = text.strip().lower()
    if needle:
        hay = " ".join(
            [issue.title, issue.text, " ".join(issue.labels), issue.component or ""]
            + [c.text for c in issue.comments]
        ).lower()
        return all(word in hay for word in needle.split())
    return True


def status_icon(status: str, size: int = 12) -> QIcon:
    pix = QPixmap(size * 2, size * 2)
    pix.setDevicePixelRatio(2)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QColor(20, 22, 26))
    p.setBrush(QColor(*STATUS_RGB[status]))
    p.drawEllipse(1, 1, size - 2, size - 2)
    p.end()
    return QIcon(pix)


class _Table(QTableWidget):
    deletePressed = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Delete:
            self.deletePressed.emit()
            event.accept()
            return
        super().keyPressEvent(event)


class QtReviewDock(QWidget):
    """Issues list, filters and details.

    Signals
    -------
    issueSelected(str)
        The user chose an issue (a click on its row, even the selected one: go back there).
    addRequested(), editRequested(str), deleteRequested(str)
        The buttons (and double-click, Delete).
    filtersChanged()
        Which issues are listed changed.
    """

    issueSelected = Signal(str)
    addRequested = Signal()
    editRequested = Signal(str)
    deleteRequested = Signal(str)
    filtersChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("review-dock")
        self._rows: list[IssueRow] = []
        self._listed: list[IssueRow] = []
        self._selected: str | None = None
        self._filling = False
        self._message = ""
        self._icons = {s: status_icon(s) for s in STATUSES}

        self.add_button = QPushButton("Add issue…", self)
        self.add_button.setToolTip("A new issue on the selected component at the shown time")
        self.edit_button = QPushButton("Edit…", self)
        self.delete_button = QPushButton("Delete", self)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search issues")
        self.search.setClearButtonEnabled(True)
        self.status_filter = QComboBox(self)
        self.status_filter.addItem("All statuses", ALL)
        self.status_filter.addItem("Unresolved", UNRESOLVED)
        for s in STATUSES:
            self.status_filter.addItem(self._icons[s], STATUS_TEXT[s], s)
        self.component_filter = QComboBox(self)
        self.author_filter = QComboBox(self)
        for combo in (self.status_filter, self.component_filter, self.author_filter):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(8)
            combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.component_filter.setToolTip("Only issues about this component")
        self.author_filter.setToolTip("Only issues this person opened or commented on")
        self.status_filter.setToolTip("Only issues in this state")
        self._set_choices(self.component_filter, "All components", [])
        self._set_choices(self.author_filter, "All authors", [])

        self.table = _Table(0, len(COLUMNS), self)
        self.table.setObjectName("review-table")
        for c, name in enumerate(COLUMNS):
            head = QTableWidgetItem(name)
            if c in COLUMN_TIPS:
                head.setToolTip(COLUMN_TIPS[c])
            self.table.setHorizontalHeaderItem(c, head)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.setIconSize(QSize(12, 12))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setMinimumSectionSize(24)
        header.setStretchLastSection(False)
        self.table.viewport().installEventFilter(self)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)

        self.details = QTextBrowser(self)
        self.details.setObjectName("review-details")
        self.details.setMinimumHeight(40)
        self.details.setOpenLinks(False)
        self.picture = QLabel(self)
        self.picture.setObjectName("review-dock-snapshot")
        self.picture.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
        self.picture.setFixedWidth(SNAPSHOT_SIZE[0] + 4)
        # a short dock gives the list the height: the snapshot is cut, never the table
        self.picture.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Ignored)
        self.picture.setMinimumHeight(0)
        self.empty = QLabel(self)
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet("color: #8a9099;")

        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for b in (self.add_button, self.edit_button, self.delete_button):
            buttons.addWidget(b)
        buttons.addWidget(self.search, 1)
        filters = QHBoxLayout()
        filters.setContentsMargins(0, 0, 0, 0)
        for w in (self.status_filter, self.component_filter, self.author_filter):
            filters.addWidget(w, 1)
        lower = QWidget(self)
        pane = QHBoxLayout(lower)
        pane.setContentsMargins(0, 0, 0, 0)
        pane.addWidget(self.picture)
        pane.addWidget(self.details, 1)
        upper = QWidget(self)
        top = QVBoxLayout(upper)
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.table, 1)
        top.addWidget(self.empty)
        self.split = QSplitter(Qt.Orientation.Vertical, self)
        self.split.addWidget(upper)
        self.split.addWidget(lower)
        self.split.setStretchFactor(0, 3)
        self.split.setStretchFactor(1, 2)
        self.split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(buttons)
        layout.addLayout(filters)
        layout.addWidget(self.split, 1)

        self.add_button.clicked.connect(lambda _=False: self.addRequested.emit())
        self.edit_button.clicked.connect(lambda _=False: self._emit_for(self.editRequested))
        self.delete_button.clicked.connect(lambda _=False: self._emit_for(self.deleteRequested))
        self.table.deletePressed.connect(lambda: self._emit_for(self.deleteRequested))
        self.table.cellDoubleClicked.connect(lambda _r, _c: self._emit_for(self.editRequested))
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.table.cellClicked.connect(self._on_click)
        for combo in (self.status_filter, self.component_filter, self.author_filter):
            combo.currentIndexChanged.connect(lambda _i: self._refilter())
        self.search.textChanged.connect(lambda _t: self._refilter())
        self.set_enabled_for(False)

    # -- what the feature gives ------------------------------------------------------------------
    def set_issues(self, rows: list[IssueRow]) -> None:
        """The review's issues (all of them: the dock filters)."""
        self._rows = list(rows)
        comps = sorted({r.issue.component for r in rows if r.issue.component})
        authors = sorted(
            {r.issue.author for r in rows} | {c.author for r in rows for c in r.issue.comments}
        )
        self._filling = True
        try:
            self._set_choices(self.component_filter, "All components", comps)
            self._set_choices(self.author_filter, "All authors", authors)
        finally:
            self._filling = False
        self._refilter(announce=True)

    def set_enabled_for(self, open_: bool, message: str = "") -> None:
        """A twin with a usable review is open (``message``: why not, shown in the list)."""
        for w in (self.add_button, self.search, self.status_filter, self.component_filter,
                  self.author_filter, self.table):  # fmt: skip
            w.setEnabled(open_)
        self._message = message
        self._update_buttons()
        self._update_empty()

    def clear(self) -> None:
        self._selected = None
        self.set_issues([])
        self.show_details(None)

    def listed(self) -> list[IssueRow]:
        """The issues that pass the filters, in table order."""
        return list(self._listed)

    def selected(self) -> str | None:
        return self._selected

    def select_issue(self, issue_id: str | None) -> None:
        """Select this issue's row (no signal: the caller acts on it already)."""
        self._selected = issue_id
        self._filling = True
        try:
            self.table.clearSelection()
            for r, row in enumerate(self._listed):
                if row.issue.id == issue_id:
                    self.table.selectRow(r)
                    self.table.scrollTo(self.table.model().index(r, 0))
                    break
        finally:
            self._filling = False
        self._show_selected()

    def row_of(self, issue_id: str) -> int:
        """The table row of a listed issue; -1 when it is filtered out."""
        return next((r for r, row in enumerate(self._listed) if row.issue.id == issue_id), -1)

    # -- the table -------------------------------------------------------------------------------
    @staticmethod
    def _set_choices(combo: QComboBox, everything: str, values: list[str]) -> None:
        current = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(everything, ALL)
        for v in values:
            combo.addItem(v, v)
        combo.setCurrentIndex(max(0, combo.findData(current)))
        combo.blockSignals(False)

    def _refilter(self, announce: bool = True) -> None:
        status = self.status_filter.currentData()
        comp = self.component_filter.currentData()
        author = self.author_filter.currentData()
        text = self.search.text()
        self._listed = [r for r in self._rows if matches(r.issue, status, comp, author, text)]
        self._fill_table()
        if announce and not self._filling:
            self.filtersChanged.emit()

    def _fill_table(self) -> None:
        self._filling = True
        try:
            self.table.setRowCount(len(self._listed))
            for r, row in enumerate(self._listed):
                i = row.issue
                cells = [
                    str(row.number),
                    "",
                    i.title,
                    PRIORITY_TEXT[i.priority],
                    i.component or "–",
                    row.time_short or row.time_text,
                    i.author,
                    str(len(i.comments)) if i.comments else "",
                ]
                items = [QTableWidgetItem(text) for text in cells]
                for c, item in enumerate(items):
                    item.setData(Qt.ItemDataRole.UserRole, i.id)
                    if c in (0, COL_STATUS, COL_NOTES):
                        item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                    self.table.setItem(r, c, item)
                items[COL_STATUS].setIcon(self._icons[i.status])
                items[COL_STATUS].setToolTip(STATUS_TEXT[i.status])
                items[COL_TIME].setToolTip(row.time_text)
                pri = items[COL_PRIORITY]
                if i.priority in ("high", "critical"):
                    font = pri.font()
                    font.setBold(True)
                    pri.setFont(font)
                    if i.priority == "critical":
                        pri.setForeground(QColor(*STATUS_RGB["open"]))
                title = items[COL_TITLE]
                tip = i.title + (f"\n{i.text}" if i.text else "")
                if i.labels:
                    tip += f"\nLabels: {', '.join(i.labels)}"
                title.setToolTip(tip)
            self.table.clearSelection()
            r = self.row_of(self._selected) if self._selected else -1
            if r >= 0:
                self.table.selectRow(r)
        finally:
            self._filling = False
        self.fit_columns()
        self._update_empty()
        self._update_buttons()
        self._show_selected()

    def fit_columns(self) -> None:
        """Columns fitted to their contents (some capped), the title taking what is left but
        at least :data:`TITLE_MIN` (then the table scrolls sideways)."""
        table = self.table
        others = 0
        for c in range(len(COLUMNS)):
            if c == COL_TITLE:
                continue
            table.resizeColumnToContents(c)
            if c in CAPPED and table.columnWidth(c) > CAPPED[c]:
                table.setColumnWidth(c, CAPPED[c])
            others += table.columnWidth(c)
        table.setColumnWidth(COL_TITLE, max(TITLE_MIN, table.viewport().width() - others))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt naming)
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self.fit_columns()
        return super().eventFilter(watched, event)

    def _update_empty(self) -> None:
        if self._message:
            text = self._message
        elif not self._rows:
            text = "No issues yet. Select a part, go to the moment and press Add issue… (Ctrl+I)."
        elif not self._listed:
            text = f"None of the {len(self._rows)} issues match the filters."
        else:
            text = ""
        self.empty.setText(text)
        self.empty.setVisible(bool(text))

    def _update_buttons(self) -> None:
        chosen = self._selected is not None and self.table.isEnabled()
        self.edit_button.setEnabled(chosen)
        self.delete_button.setEnabled(chosen)

    def _current_id(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    def _on_selection(self) -> None:
        if self._filling:
            return
        chosen = self._current_id()
        if chosen is None or chosen == self._selected:
            return
        self._selected = chosen
        self._show_selected()
        self.issueSelected.emit(chosen)

    def _on_click(self, row: int, _col: int) -> None:
        item = self.table.item(row, 0)
        chosen = None if item is None else item.data(Qt.ItemDataRole.UserRole)
        if chosen is not None and chosen == self._selected and not self._filling:
            self.issueSelected.emit(chosen)  # a click on the selected row: back there again

    def _emit_for(self, signal: SignalInstance) -> None:
        if self._selected is not None:
            signal.emit(self._selected)

    # -- details ---------------------------------------------------------------------------------
    def _show_selected(self) -> None:
        row = next((r for r in self._rows if r.issue.id == self._selected), None)
        self.show_details(row)
        self._update_buttons()

    def show_details(self, row: IssueRow | None) -> None:
        pix = QPixmap()
        if row is None:
            self.details.setHtml(
                "<p style='color:#8a9099'>Select an issue to go back to its view and moment.</p>"
            )
        else:
            self.details.setHtml(details_html(row))
            if row.snapshot is not None and row.snapshot.is_file():
                pix.load(str(row.snapshot))
        if not pix.isNull():
            pix = pix.scaled(
                *SNAPSHOT_SIZE,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        self.picture.setPixmap(pix)
        self.picture.setVisible(not pix.isNull())


def details_html(row: IssueRow) -> str:
    i = row.issue
    esc = html.escape
    colour = "#{:02x}{:02x}{:02x}".format(*STATUS_RGB[i.status])
    meta = [
        f"<span style='color:{colour}'>●</span> {STATUS_TEXT[i.status]}",
        f"{PRIORITY_TEXT[i.priority]} priority",
    ]
    if i.due is not None:
        meta.append(f"due {i.due.isoformat()}")
    if i.assigned_to:
        meta.append(f"assigned to {esc(i.assigned_to)}")
    parts = [
        f"<p style='margin:0'><b>#{row.number} {esc(i.title)}</b><br>{' · '.join(meta)}</p>",
        f"<p style='margin:4px 0;color:#a0a6ae'>{esc(i.component or 'no component')} · "
        f"{esc(row.time_text)} · {esc(i.author)}, {i.created[:10]}</p>",
    ]
    if i.labels:
        parts.append("<p style='margin:2px 0'>Labels: " + esc(", ".join(i.labels)) + "</p>")
    if i.text:
        parts.append(f"<p style='margin:4px 0'>{esc(i.text).replace(chr(10), '<br>')}</p>")
    if row.values:
        vals = esc(row.values)
        parts.append(f"<p style='margin:4px 0;color:#a0a6ae'>Values then: {vals}</p>")
    if i.comments:
        parts.append(f"<p style='margin:6px 0 0 0'><b>Comments ({len(i.comments)})</b></p>")
        parts.append(comments_html(i))
    return "".join(parts)
