"""The issue dialog: a new issue (prefilled from the window) or an existing one to edit.

Title, status, priority, labels, due date, who it is assigned to and the description are
edited; what the issue was pinned to (component, point, the twin's time, the sensor values
then, the snapshot) is shown read-only; the comments are listed and one may be added. The
dialog never writes the review: :meth:`QtIssueDialog.issue` gives the edited copy and the
feature stores it.
"""

from __future__ import annotations

import html
from datetime import date
from pathlib import Path

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from twinviewer.review import Comment, Issue
from twinviewer.review.model import PRIORITIES, STATUSES

STATUS_TEXT = {"open": "Open", "in_progress": "In progress", "resolved": "Resolved",
               "closed": "Closed"}  # fmt: skip
PRIORITY_TEXT = {p: p.capitalize() for p in PRIORITIES}
SNAPSHOT_PREVIEW = (320, 200)


def labels_of(text: str) -> list[str]:
    """``"leak, pump , leak"`` -> ``["leak", "pump"]``: comma-separated, trimmed, unique."""
    return list(dict.fromkeys(x.strip() for x in text.split(",") if x.strip()))


def comments_html(issue: Issue) -> str:
    """The comments, oldest first, for a text browser."""
    if not issue.comments:
        return "<i>No comments yet.</i>"
    rows = []
    for c in issue.comments:
        when = c.date.replace("T", " ").removesuffix("Z") + " UTC"
        rows.append(
            f"<p><b>{html.escape(c.author)}</b> <span style='color:#8a9099'>{when}</span><br>"
            f"{html.escape(c.text).replace(chr(10), '<br>')}</p>"
        )
    return "".join(rows)


class QtIssueDialog(QDialog):
    """Add or edit one issue. ``where`` describes what it is pinned to (component, time,
    values), ``snapshot`` is its image file (or None).

    Signals
    -------
    issueAccepted(object)
        OK was pressed: the edited :class:`Issue` (a copy; the one given is untouched).
    """

    issueAccepted = Signal(object)

    def __init__(
        self,
        issue: Issue,
        author: str,
        where: str,
        snapshot: Path | bytes | None = None,
        new: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("review-issue-dialog")
        self.setWindowTitle("Add issue" if new else f"Issue: {issue.title}")
        self.original = issue
        self.author = author
        self.new = new

        self.title = QLineEdit("" if new else issue.title, self)
        self.title.setPlaceholderText("What is wrong, in a line")
        self.status = QComboBox(self)
        for s in STATUSES:
            self.status.addItem(STATUS_TEXT[s], s)
        self.status.setCurrentIndex(STATUSES.index(issue.status))
        self.priority = QComboBox(self)
        for p in PRIORITIES:
            self.priority.addItem(PRIORITY_TEXT[p], p)
        self.priority.setCurrentIndex(PRIORITIES.index(issue.priority))
        self.labels = QLineEdit(", ".join(issue.labels), self)
        self.labels.setPlaceholderText("comma-separated, e.g. leak, maintenance")
        self.assigned = QLineEdit(issue.assigned_to or "", self)
        self.has_due = QCheckBox("Due", self)
        self.due = QDateEdit(self)
        self.due.setCalendarPopup(True)
        self.due.setDisplayFormat("yyyy-MM-dd")
        due = issue.due or date.today()
        self.due.setDate(QDate(due.year, due.month, due.day))
        self.has_due.setChecked(issue.due is not None)
        self.due.setEnabled(issue.due is not None)
        self.has_due.toggled.connect(self.due.setEnabled)
        self.text = QPlainTextEdit(issue.text, self)
        self.text.setPlaceholderText("Description: what was seen, where, what should be done")
        self.text.setMinimumHeight(70)

        self.where = QLabel(where, self)
        self.where.setWordWrap(True)
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.picture = QLabel(self)
        self.picture.setObjectName("review-snapshot")
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._show_snapshot(snapshot)

        self.comments = QTextBrowser(self)
        self.comments.setObjectName("review-comments")
        self.comments.setHtml(comments_html(issue))
        self.comments.setMinimumHeight(60)
        self.new_comment = QPlainTextEdit(self)
        self.new_comment.setPlaceholderText(f"Add a comment as {author}")
        self.new_comment.setMaximumHeight(60)

        form = QFormLayout()
        form.addRow("&Title", self.title)
        row = QHBoxLayout()
        row.addWidget(self.status)
        row.addWidget(QLabel("Priority", self))
        row.addWidget(self.priority)
        row.addStretch(1)
        status_label = QLabel("&Status", self)
        status_label.setBuddy(self.status)
        form.addRow(status_label, row)
        form.addRow("&Labels", self.labels)
        due_row = QHBoxLayout()
        due_row.addWidget(self.has_due)
        due_row.addWidget(self.due)
        due_row.addWidget(QLabel("Assigned to", self))
        due_row.addWidget(self.assigned, 1)
        form.addRow("", due_row)
        form.addRow("&Description", self.text)
        form.addRow("Pinned to", self.where)
        if not self.picture.pixmap().isNull():
            form.addRow("Snapshot", self.picture)
        if not new:
            form.addRow("Comments", self.comments)
        else:
            self.comments.hide()
        form.addRow("Comment" if new else "", self.new_comment)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.title.textChanged.connect(self._check)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self._check()
        self.resize(560, 0)

    def _show_snapshot(self, snapshot: Path | bytes | None) -> None:
        pix = QPixmap()
        if isinstance(snapshot, bytes):
            pix.loadFromData(snapshot, "PNG")
        elif snapshot is not None and snapshot.is_file():
            pix.load(str(snapshot))
        if not pix.isNull():
            w, h = SNAPSHOT_PREVIEW
            pix = pix.scaled(
                w, h, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
            )
        self.picture.setPixmap(pix)

    def _check(self) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(bool(self.title.text().strip()))

    def issue(self) -> Issue:
        """The issue as edited (a validated copy), with the new comment if one was typed."""
        data = self.original.model_dump()
        due = self.due.date()
        data.update(
            title=self.title.text().strip(),
            text=self.text.toPlainText(),
            status=self.status.currentData(),
            priority=self.priority.currentData(),
            labels=labels_of(self.labels.text()),
            assigned_to=self.assigned.text().strip() or None,
            due=date(due.year(), due.month(), due.day()) if self.has_due.isChecked() else None,
        )
        issue = Issue.model_validate(data)
        note = self.new_comment.toPlainText().strip()
        if note:
            issue.comments.append(Comment(author=self.author, text=note))
        return issue

    def accept(self) -> None:
        if not self.title.text().strip():
            return
        self.issueAccepted.emit(self.issue())
        super().accept()
