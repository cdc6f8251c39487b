"""The status bar of the host: progress of a load, what the model holds, its warnings.

Warnings of a model load (a renamed duplicate, a part file that was skipped) are counted on a
button that lists them, so that nothing the reader noticed is hidden from the user.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QMainWindow,
    QProgressBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from twinviewer.ui.widgets.elided_label import QtElidedLabel

if TYPE_CHECKING:
    from twinviewer.session import TwinSession


class QtWarningsDialog(QDialog):
    """The warnings of a model load, one per row, selectable and copyable."""

    def __init__(self, title: str, warnings: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("model-warnings")
        self.setWindowTitle(title)
        self.resize(640, 360)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"{len(warnings)} warnings while reading the model:"))
        self.list = QListWidget(self)
        self.list.addItems(warnings)
        self.list.setWordWrap(True)
        layout.addWidget(self.list)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, parent=self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


class QtStatus:
    """The window's status bar widgets owned by the host (features add their own labels)."""

    def __init__(self, window: QMainWindow) -> None:
        self.window = window
        bar = window.statusBar()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(260)
        self.progress.setRange(0, 1000)
        self.progress.hide()
        self.model_label = QtElidedLabel("", minimum=60)
        self.warnings_button = QToolButton()
        self.warnings_button.setObjectName("model-warnings-button")
        self.warnings_button.setAutoRaise(True)
        self.warnings_button.setToolTip("What the reader noticed while loading the model")
        self.warnings_button.clicked.connect(self.show_warnings)
        self.warnings_button.hide()
        self.warnings: list[str] = []
        self.dialog: QtWarningsDialog | None = None
        self._added = 0  # features' widgets, before ours
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.model_label)
        bar.addPermanentWidget(self.warnings_button)

    def add(self, widget: QWidget) -> None:
        """A feature's status widget, left of the model's, in the order features add them.

        Permanent widgets: a temporary message ("Opened …") takes the bar's left part and
        never draws over them (normal widgets are only hidden for a message when they were
        visible as it was shown, and showed through it in screenshots)."""
        self.window.statusBar().insertPermanentWidget(self._added, widget)
        self._added += 1

    def begin(self, text: str) -> None:
        self.window.statusBar().showMessage(text)
        self.progress.setValue(0)
        self.progress.show()

    def progressed(self, fraction: float, text: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        self.progress.setFormat(f"{text} %p%")

    def end(self) -> None:
        self.progress.hide()

    def show_model(self, session: TwinSession) -> None:
        model = session.model
        text = (
            f"{model.n_components:,} components · {model.n_triangles:,} triangles · "
            f"{len(session.sensors)} sensors"
        )
        self.model_label.setText(text)
        self.warnings = list(model.warnings)
        n = len(self.warnings)
        self.warnings_button.setText(f"⚠ {n} warning{'s' if n != 1 else ''}")
        self.warnings_button.setVisible(n > 0)

    def show_warnings(self) -> QtWarningsDialog:
        self.dialog = QtWarningsDialog("Model warnings", self.warnings, self.window)
        self.dialog.open()
        return self.dialog

    def clear(self) -> None:
        self.model_label.setText("")
        self.warnings = []
        self.warnings_button.hide()
