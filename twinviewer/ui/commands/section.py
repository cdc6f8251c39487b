"""The selected component's commands, as a section of the Inspector: one button per command
with its label and current value, disabled with the reason beside it (and as its tooltip)
whenever it cannot be sent now."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

REASON_STYLE = "color: #d0a040;"


@dataclass(frozen=True)
class CommandButton:
    """One command as the section shows it."""

    id: str
    label: str
    value: str  # the current (read-back) value with its unit, "–" when unknown
    reason: str | None  # why it cannot be sent now, or None


class QtCommandsSection(QWidget):
    """Passive view: the feature fills it with :meth:`set_commands`; a click on an enabled
    button emits :attr:`sendRequested` with the command's id. Hidden without commands."""

    sendRequested = Signal(str)  # noqa: N815 (Qt's naming)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inspector-commands")
        self.title = QLabel("Commands", self)
        self.title.setStyleSheet("font-weight: bold;")
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 4, 0, 4)
        self._layout.setSpacing(2)
        self._layout.addWidget(self.title)
        self.buttons: dict[str, QPushButton] = {}
        self.reasons: dict[str, QLabel] = {}
        self._shown: list[CommandButton] = []
        self.hide()

    def set_commands(self, rows: list[CommandButton]) -> None:
        """Show these commands (none: the section hides)."""
        if rows == self._shown:
            return
        if [r.id for r in rows] != [r.id for r in self._shown]:
            self._rebuild([r.id for r in rows])
        self._shown = list(rows)
        for row in rows:
            button, why = self.buttons[row.id], self.reasons[row.id]
            button.setText(f"{row.label}: {row.value}  …")
            button.setEnabled(row.reason is None)
            button.setToolTip(
                f"Send a new value of {row.label} (opens the command dialog)"
                if row.reason is None
                else f"{row.label} cannot be sent: {row.reason}"
            )
            why.setText(row.reason or "")
            why.setVisible(row.reason is not None)
        self.setVisible(bool(rows))

    def _rebuild(self, ids: list[str]) -> None:
        for w in [*self.buttons.values(), *self.reasons.values()]:
            self._layout.removeWidget(w)
            w.deleteLater()
        self.buttons, self.reasons = {}, {}
        for cid in ids:
            button = QPushButton(self)
            button.setObjectName(f"command-{cid}")
            button.clicked.connect(lambda _=False, c=cid: self.sendRequested.emit(c))
            why = QLabel(self)
            why.setObjectName(f"command-reason-{cid}")
            why.setStyleSheet(REASON_STYLE)
            why.setWordWrap(True)
            self._layout.addWidget(button)
            self._layout.addWidget(why)
            self.buttons[cid], self.reasons[cid] = button, why

    def clear(self) -> None:
        self.set_commands([])
