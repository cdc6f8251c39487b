"""The start page: the demo twins and recent projects, one click to open either."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

DEMO_TEXT = {
    "mine": "Underground mine: shaft, levels, fans, pumps, conveyors;\n"
    "gas, airflow, temperature and pump sensors",
    "locomotive": "Diesel-electric locomotive: engine, alternator,\n"
    "traction motors, bogies, brakes",
}


class QtWelcome(QWidget):
    openRequested = Signal(object)  # Path
    browseRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from twinviewer.session.demos import DEMOS, demo_preview, demo_project

        title = QLabel("TwinViewer", self)
        title.setStyleSheet("font-size: 28px; font-weight: bold;")
        subtitle = QLabel("Open a twin project, a model file, or start with a live demo twin.")
        subtitle.setStyleSheet("color: #9aa3ad; font-size: 14px;")
        demos = QHBoxLayout()
        demos.setSpacing(18)
        self.demo_buttons: dict[str, QToolButton] = {}
        for name in DEMOS:
            button = QToolButton(self)
            button.setObjectName(f"demo-{name}")
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            preview = demo_preview(name)
            if preview.exists():
                button.setIcon(QIcon(QPixmap(str(preview))))
                button.setIconSize(QSize(360, 225))
            button.setText(f"{name.capitalize()} (live demo)\n{DEMO_TEXT.get(name, '')}")
            button.setMinimumWidth(380)
            button.setStyleSheet("QToolButton { padding: 10px; font-size: 13px; }")
            button.clicked.connect(lambda _=False, n=name: self.openRequested.emit(demo_project(n)))
            demos.addWidget(button)
            self.demo_buttons[name] = button
        demos.addStretch(1)
        open_button = QPushButton("Open project or model…", self)
        open_button.setMinimumHeight(34)
        open_button.clicked.connect(self.browseRequested.emit)
        self.recent = QListWidget(self)
        self.recent.setMaximumHeight(220)
        self.recent.itemActivated.connect(lambda item: self.openRequested.emit(Path(item.text())))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(48, 36, 48, 36)
        layout.addWidget(title)
        layout.addWidget(subtitle)
        layout.addSpacing(18)
        layout.addWidget(QLabel("<b>Demo twins</b>"))
        layout.addLayout(demos)
        layout.addSpacing(18)
        row = QHBoxLayout()
        row.addWidget(open_button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addSpacing(12)
        layout.addWidget(QLabel("<b>Recent projects</b>"))
        layout.addWidget(self.recent)
        layout.addStretch(1)

    def set_recent(self, paths: list[str]) -> None:
        self.recent.clear()
        for p in paths:
            QListWidgetItem(p, self.recent)
        if not paths:
            item = QListWidgetItem("(none yet)", self.recent)
            item.setFlags(Qt.ItemFlag.NoItemFlags)
