"""Help: the keyboard shortcuts of every hosted feature, and about."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMessageBox

from twinviewer.ui.feature import ActionSpec, Feature


class HelpFeature(Feature):
    name = "help"

    def actions(self) -> list[ActionSpec]:
        return [
            ActionSpec("help.keys", "&Keyboard shortcuts", self.show_shortcuts, "Help", "help",
                       "F1", needs_twin=False),
            ActionSpec("help.about", "&About TwinViewer", self.about, "Help", "about",
                       needs_twin=False),
        ]  # fmt: skip

    def shortcuts(self) -> list[tuple[str, str]]:
        """(action, keys) of every action with a shortcut, and the mouse's."""
        rows = []
        for act in self.host.findChildren(QAction):
            keys = act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            if keys:
                rows.append((act.text().replace("&", ""), keys))
        rows.append(("Rotate / pan / zoom", "left drag / middle drag / wheel"))
        rows.append(("Select a component", "click it"))
        return sorted(set(rows))

    def show_shortcuts(self) -> QMessageBox:
        table = "".join(f"<tr><td>{t}</td><td><b>{k}</b></td></tr>" for t, k in self.shortcuts())
        box = QMessageBox(self.host)
        box.setWindowTitle("Keyboard shortcuts")
        box.setText(f"<table cellspacing='6'>{table}</table>")
        box.open()
        return box

    def about(self) -> None:
        from twinviewer import __version__

        QMessageBox.about(
            self.host,
            "About TwinViewer",
            f"<b>TwinViewer {__version__}</b><p>3D models of real assets coloured by their live "
            "sensor data.</p><p>Apache-2.0</p>",
        )
