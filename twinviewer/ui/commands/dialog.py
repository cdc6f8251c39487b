"""The command dialog: one new value for one command, checked, confirmed, sent, followed.

Three pages in one modeless dialog:

1. *Value*: where it goes, the current (read-back) value, the new value (a spin box with the
   unit for numbers, a list for choices, a check box for booleans), the limits, and the
   required reason. Every change runs the engine's check (limits, step from the current
   value); a refusal is shown in red and *OK* stays disabled, as it does without a reason.
2. *Confirm*: ``old → new`` in words, and what the command's confirmation level asks for:
   nothing more (``confirm``), the sender's password again (``password``), or a second
   user's name and password (``two_person``). *Send* hands it to the engine, which never
   blocks.
3. *Progress*: pending, then confirmed (the read-back value) or failed (why, in words), as
   the feature's poll reports it; a refusal by the engine lands here too.

A yellow bar on every page says so when the project allows commands over insecure links.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from twinviewer.core.project_commands import Command
from twinviewer.session.commands import CommandAttempt, CommandState

WARNING_STYLE = (
    "background: #f2c744; color: #1b1b1b; padding: 6px; border-radius: 3px; font-weight: bold;"
)
ERROR_STYLE = "color: #ff5060;"
STATE_STYLE = {
    CommandState.PENDING: "color: #e0b040; font-weight: bold; font-size: 14px;",
    CommandState.CONFIRMED: "color: #4cc26a; font-weight: bold; font-size: 14px;",
    CommandState.FAILED: "color: #ff5060; font-weight: bold; font-size: 14px;",
    CommandState.REFUSED: "color: #ff5060; font-weight: bold; font-size: 14px;",
}
DIALOG_WIDTH = 520  # px
SPIN_LIMIT = 1e9  # a number without limits: the spin box still needs a range


def with_unit(value: Any, unit: str) -> str:
    """``70 %``, ``on``, ``–`` (unknown)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, bool):
        return "on" if value else "off"
    text = f"{value:g}" if isinstance(value, (int, float)) else str(value)
    return f"{text} {unit}".strip()


def limits_text(command: Command) -> str:
    """The command's limits in words: ``40–100 %, at most 20 % per command``."""
    unit = command.unit
    parts = []
    if command.min is not None and command.max is not None:
        parts.append(f"{command.min:g}–{with_unit(command.max, unit)}")
    elif command.min is not None:
        parts.append(f"at least {with_unit(command.min, unit)}")
    elif command.max is not None:
        parts.append(f"at most {with_unit(command.max, unit)}")
    if command.max_step is not None:
        parts.append(f"changes by at most {with_unit(command.max_step, unit)} per command")
    if command.allowed:
        parts.append("allowed: " + ", ".join(with_unit(a, unit) for a in command.allowed))
    return "; ".join(parts) if parts else "none"


def confirmation_text(command: Command) -> str:
    return {
        "confirm": "confirm before sending",
        "password": "your password again",
        "two_person": "a second person approves",
    }[command.confirm]


class QtCommandDialog(QDialog):
    """The dialog of one command.

    ``check(value)`` answers why a value is refused (None: it may go); ``send(value, reason,
    password, approver)`` hands it to the engine and returns the attempt; ``insecure`` is the
    warning shown in a yellow bar on every page (None: no bar).
    """

    def __init__(
        self,
        command: Command,
        target: str,
        current: float | None,
        check: Callable[[Any], str | None],
        send: Callable[[Any, str, str | None, tuple[str, str] | None], CommandAttempt],
        insecure: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.command = command
        self._check = check
        self._send = send
        self.current = current
        self.attempt: CommandAttempt | None = None
        self.blocked: str | None = None  # why nothing may be sent now (not live, ...)
        label = command.label or command.id
        self.setObjectName("command-dialog")
        self.setWindowTitle(f"Command: {label}")

        self.warning = QLabel(f"⚠ {insecure}", self)
        self.warning.setObjectName("command-insecure-warning")
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet(WARNING_STYLE)
        self.warning.setVisible(bool(insecure))

        self.pages = QStackedWidget(self)
        self.pages.addWidget(self._value_page(label, target))
        self.pages.addWidget(self._confirm_page())
        self.pages.addWidget(self._progress_page())

        self.buttons = QDialogButtonBox(self)
        self.ok_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setToolTip("Check the change once more before it is sent")
        self.back_button = QPushButton("Back", self)
        self.buttons.addButton(self.back_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.send_button = QPushButton("Send", self)
        self.send_button.setObjectName("command-send")
        self.buttons.addButton(self.send_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.ok_button.clicked.connect(self.to_confirm)
        self.back_button.clicked.connect(lambda: self._page(0))
        self.send_button.clicked.connect(self.send)
        self.cancel_button.clicked.connect(self.reject)
        self.close_button.clicked.connect(self.accept)

        layout = QVBoxLayout(self)
        layout.addWidget(self.warning)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.buttons)
        self._page(0)
        self.validate()
        self._fit()

    # -- page 1: the value ---------------------------------------------------------------------
    def _value_page(self, label: str, target: str) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        c = self.command
        self.target_label = QLabel(f"{label} ({c.id}) → {target}", page)
        self.target_label.setWordWrap(True)
        self.current_label = QLabel(with_unit(self.current, c.unit), page)
        self.current_label.setObjectName("command-current")
        self.value_edit = self._value_editor(page)
        self.limits_label = QLabel(limits_text(c), page)
        self.limits_label.setObjectName("command-limits")
        self.limits_label.setWordWrap(True)
        self.reason_edit = QLineEdit(page)
        self.reason_edit.setObjectName("command-reason")
        self.reason_edit.setPlaceholderText("Why (required; kept in the audit trail)")
        self.problem = QLabel("", page)
        self.problem.setObjectName("command-problem")
        self.problem.setStyleSheet(ERROR_STYLE)
        self.problem.setWordWrap(True)
        read = f"read back by {c.readback}" if c.readback else "not read back"
        how = QLabel(
            f"Role {c.role}; {confirmation_text(c)}; {read}"
            + (f" within {with_unit(c.tolerance, c.unit)}" if c.readback else "")
            + f", timeout {c.timeout:g} s",
            page,
        )
        how.setWordWrap(True)
        how.setEnabled(False)
        form.addRow("Target:", self.target_label)
        form.addRow("Current value:", self.current_label)
        form.addRow("New value:", self.value_edit)
        form.addRow("Limits:", self.limits_label)
        form.addRow("Reason:", self.reason_edit)
        form.addRow("", self.problem)
        form.addRow("", how)
        self.reason_edit.textChanged.connect(self.validate)
        return page

    def _value_editor(self, parent: QWidget) -> QWidget:
        c = self.command
        now = self.current
        if c.type == "boolean":
            box = QCheckBox("on", parent)
            box.setChecked(bool(now) if now is not None else False)
            box.toggled.connect(self.validate)
            return box
        if c.type == "choice":
            combo = QComboBox(parent)
            for a in c.allowed or []:
                combo.addItem(with_unit(a, c.unit), a)
            if now is not None:
                match = [i for i, a in enumerate(c.allowed or []) if a == now or a == str(now)]
                if match:
                    combo.setCurrentIndex(match[0])
            combo.currentIndexChanged.connect(self.validate)
            return combo
        # numbers: the spin box reaches past the limits, so that a value breaking one is
        # refused in words (the check) rather than silently clamped
        lo = c.min if c.min is not None else -SPIN_LIMIT
        hi = c.max if c.max is not None else SPIN_LIMIT
        span = max(hi - lo, 1.0) if c.min is not None and c.max is not None else 0.0
        lo, hi = max(lo - span, -SPIN_LIMIT), min(hi + span, SPIN_LIMIT)
        step = c.max_step / 10 if c.max_step else 1.0
        start = now if now is not None else (c.min if c.min is not None else 0.0)
        spin: QSpinBox | QDoubleSpinBox
        if c.type == "integer":
            whole = QSpinBox(parent)
            whole.setRange(int(max(lo, -(2**31) + 1)), int(min(hi, 2**31 - 1)))
            whole.setSingleStep(max(int(step), 1))
            whole.setValue(int(round(start)))
            spin = whole
        else:
            real = QDoubleSpinBox(parent)
            real.setDecimals(2)
            real.setRange(lo, hi)
            real.setSingleStep(step)
            real.setValue(float(start))
            spin = real
        spin.setSuffix(f" {c.unit}" if c.unit else "")
        spin.setKeyboardTracking(True)
        spin.setCorrectionMode(QAbstractSpinBox.CorrectionMode.CorrectToNearestValue)
        spin.valueChanged.connect(self.validate)
        spin.setObjectName("command-value")
        return spin

    def value(self) -> Any:
        """The new value as entered (its type's Python value)."""
        w = self.value_edit
        if isinstance(w, QCheckBox):
            return w.isChecked()
        if isinstance(w, QComboBox):
            return w.currentData()
        if isinstance(w, QSpinBox):
            return int(w.value())
        assert isinstance(w, QDoubleSpinBox)
        return float(w.value())

    def set_value(self, value: Any) -> None:
        """Enter a new value (as a user types or picks it)."""
        w = self.value_edit
        if isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        elif isinstance(w, QComboBox):
            w.setCurrentIndex(max(w.findData(value), 0))
        elif isinstance(w, QSpinBox):
            w.setValue(int(value))
        elif isinstance(w, QDoubleSpinBox):
            w.setValue(float(value))

    def problem_text(self) -> str | None:
        """Why OK is disabled now (None: it is enabled)."""
        if self.blocked:
            return f"Cannot send now: {self.blocked}"
        why = self._check(self.value())
        if why is not None:
            return why[:1].upper() + why[1:]
        if not self.reason_edit.text().strip():
            return "Give a reason: it is kept in the audit trail with the command"
        return None

    def validate(self) -> None:
        """Check the value and the reason as they change; OK only when both are fine."""
        why = self.problem_text()
        self.problem.setText(why or "")
        self.problem.setVisible(why is not None)
        self.ok_button.setEnabled(why is None)
        self._update_send()

    def set_current(self, value: float | None) -> None:
        """The read-back value changed (the feature follows the live twin)."""
        if value == self.current:
            return
        self.current = value
        self.current_label.setText(with_unit(value, self.command.unit))
        if self.pages.currentIndex() < 2:
            self.validate()

    def set_blocked(self, reason: str | None) -> None:
        """Nothing may be sent now (the timeline left live, the source went stale, ...)."""
        if reason == self.blocked:
            return
        self.blocked = reason
        if self.pages.currentIndex() < 2:
            self.validate()

    # -- page 2: confirm -----------------------------------------------------------------------
    def _confirm_page(self) -> QWidget:
        page = QWidget(self)
        lay = QVBoxLayout(page)
        lay.setContentsMargins(0, 0, 0, 0)
        self.change_label = QLabel("", page)
        self.change_label.setObjectName("command-change")
        self.change_label.setWordWrap(True)
        self.change_label.setStyleSheet("font-size: 14px;")
        self.change_label.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(self.change_label)
        form = QFormLayout()
        self.password_edit = QLineEdit(page)
        self.password_edit.setObjectName("command-password")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.approver_edit = QLineEdit(page)
        self.approver_edit.setObjectName("command-approver")
        self.approver_password = QLineEdit(page)
        self.approver_password.setObjectName("command-approver-password")
        self.approver_password.setEchoMode(QLineEdit.EchoMode.Password)
        level = self.command.confirm
        if level == "password":
            form.addRow("Your password:", self.password_edit)
        elif level == "two_person":
            form.addRow("Approver:", self.approver_edit)
            form.addRow("Approver's password:", self.approver_password)
        for w in (self.password_edit, self.approver_edit, self.approver_password):
            w.setVisible(w.parent() is page and form.indexOf(w) >= 0)
            w.textChanged.connect(self._update_send)
        lay.addLayout(form)
        self.confirm_problem = QLabel("", page)
        self.confirm_problem.setStyleSheet(ERROR_STYLE)
        self.confirm_problem.setWordWrap(True)
        lay.addWidget(self.confirm_problem)
        lay.addStretch(1)
        return page

    def to_confirm(self) -> bool:
        """Page 1 → the confirmation step (only when OK is enabled)."""
        if not self.ok_button.isEnabled():
            return False
        c = self.command
        label = c.label or c.id
        old, new = with_unit(self.current, c.unit), with_unit(self.value(), c.unit)
        reason = self.reason_edit.text().strip().replace("<", "&lt;")
        self.change_label.setText(
            f"Send <b>{label}</b>: <b>{old} → {new}</b>?<br>"
            f"<span style='font-size: 12px'>Reason: {reason}</span>"
        )
        self._page(1)
        return True

    def _update_send(self) -> None:
        level = self.command.confirm
        missing = ""
        if self.blocked:
            missing = f"Cannot send now: {self.blocked}"
        elif level == "password" and not self.password_edit.text():
            missing = "Type your password again to send"
        elif level == "two_person" and not (
            self.approver_edit.text().strip() and self.approver_password.text()
        ):
            missing = "A second user with the role approves: their name and password"
        self.confirm_problem.setText(missing)
        self.send_button.setEnabled(not missing)

    # -- page 3: progress ----------------------------------------------------------------------
    def _progress_page(self) -> QWidget:
        page = QWidget(self)
        lay = QVBoxLayout(page)
        lay.setContentsMargins(0, 0, 0, 0)
        self.state_label = QLabel("", page)
        self.state_label.setObjectName("command-state")
        self.state_label.setWordWrap(True)
        self.detail_label = QLabel("", page)
        self.detail_label.setObjectName("command-detail")
        self.detail_label.setWordWrap(True)
        self.detail_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.state_label)
        lay.addWidget(self.detail_label)
        lay.addStretch(1)
        return page

    def send(self) -> CommandAttempt | None:
        """Hand the command to the engine (never blocks) and follow it on the last page."""
        if not self.send_button.isEnabled() or self.attempt is not None:
            return None
        level = self.command.confirm
        password = self.password_edit.text() if level == "password" else None
        approver = (
            (self.approver_edit.text().strip(), self.approver_password.text())
            if level == "two_person"
            else None
        )
        self.attempt = self._send(self.value(), self.reason_edit.text().strip(), password, approver)
        self.password_edit.clear()
        self.approver_password.clear()
        self._page(2)
        self.show_attempt()
        return self.attempt

    def show_attempt(self) -> None:
        """Show the attempt's state (the feature calls this when a poll finished it)."""
        a = self.attempt
        if a is None:
            return
        c = self.command
        new = with_unit(a.value, c.unit)
        if a.state is CommandState.PENDING:
            head = f"Pending: {new} sent, waiting for the read-back"
            detail = (
                f"{c.readback} must show {new} (± {with_unit(c.tolerance, c.unit)}) "
                f"within {c.timeout:g} s."
                if c.readback
                else "Waiting for the acknowledgement."
            )
        elif a.state is CommandState.CONFIRMED:
            head = f"Confirmed: {c.label or c.id} is {with_unit(a.readback, c.unit)}"
            detail = a.message
        elif a.state is CommandState.FAILED:
            head = "Failed: the asset did not confirm the command"
            detail = a.message
        else:
            head = "Refused: nothing was sent"
            detail = a.message
        self.state_label.setText(head)
        self.state_label.setStyleSheet(STATE_STYLE[a.state])
        self.detail_label.setText(
            f"{detail}\nTo: {a.target} · correlation {a.correlation[:12]}".strip()
        )
        self._update_buttons()

    # -- pages and buttons ---------------------------------------------------------------------
    def _page(self, index: int) -> None:
        # the stack as tall as the page shown (not its tallest), the dialog fitted to it
        for k in range(self.pages.count()):
            shown = QSizePolicy.Policy.Preferred if k == index else QSizePolicy.Policy.Ignored
            page = self.pages.widget(k)
            if page is not None:
                page.setSizePolicy(shown, shown)
        self.pages.setCurrentIndex(index)
        self._update_buttons()
        self._fit()
        if index == 0:
            self.validate()
        elif index == 1:
            self._update_send()
            first = {"password": self.password_edit, "two_person": self.approver_edit}
            edit = first.get(self.command.confirm)
            if edit is not None:
                edit.setFocus()
            else:
                self.send_button.setFocus()

    def _fit(self) -> None:
        """As tall as the page shown needs at the dialog's width (wrapped labels included)."""
        width = max(self.width(), DIALOG_WIDTH) if self.isVisible() else DIALOG_WIDTH
        layout = self.layout()
        height = layout.totalHeightForWidth(width) if layout is not None else -1
        self.resize(width, height if height > 0 else self.sizeHint().height())

    def _update_buttons(self) -> None:
        page = self.pages.currentIndex()
        self.ok_button.setVisible(page == 0)
        self.back_button.setVisible(page == 1)
        self.send_button.setVisible(page == 1)
        self.cancel_button.setVisible(page < 2)
        self.close_button.setVisible(page == 2)
        self.ok_button.setDefault(page == 0)
        self.send_button.setDefault(page == 1)
        self.close_button.setDefault(page == 2)

    @property
    def state(self) -> CommandState | None:
        """The attempt's state once sent (None before)."""
        return None if self.attempt is None else self.attempt.state
