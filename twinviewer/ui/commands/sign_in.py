"""*File > Sign in…*: a user name and a password, checked against the project's user file.

A wrong name and a wrong password read the same ("user or password wrong"): the dialog never
says which, so the file's names cannot be probed from the window.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

ERROR_STYLE = "color: #ff5060;"


class QtSignInDialog(QDialog):
    """Asks for a user and a password; ``sign_in(user, password)`` answers None when signed
    in, else the message to show (the dialog stays open for another try)."""

    def __init__(
        self,
        sign_in: Callable[[str, str], str | None],
        project: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("sign-in-dialog")
        self.setWindowTitle("Sign in")
        self._sign_in = sign_in
        intro = QLabel(
            "Sign in to send commands to the asset"
            + (f" of {project}" if project else "")
            + ". Your role decides which commands you may send.",
            self,
        )
        intro.setWordWrap(True)
        self.user = QLineEdit(self)
        self.user.setObjectName("sign-in-user")
        self.password = QLineEdit(self)
        self.password.setObjectName("sign-in-password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = QLabel("", self)
        self.error.setObjectName("sign-in-error")
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.hide()
        form = QFormLayout()
        form.addRow("User:", self.user)
        form.addRow("Password:", self.password)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, parent=self
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Sign in")
        self.buttons.accepted.connect(self.try_sign_in)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.user.textChanged.connect(self._update)
        self.password.textChanged.connect(self._update)
        self._update()
        self.resize(380, self.sizeHint().height())

    def _update(self) -> None:
        self.ok_button.setEnabled(bool(self.user.text().strip() and self.password.text()))

    def try_sign_in(self) -> bool:
        """Check the fields; close when signed in, else say why and clear the password."""
        if not self.ok_button.isEnabled():
            return False
        message = self._sign_in(self.user.text().strip(), self.password.text())
        if message is None:
            self.accept()
            return True
        self.error.setText(message)
        self.error.show()
        self.password.clear()
        self.password.setFocus()
        return False
