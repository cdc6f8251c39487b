"""Files: open a project, a model, a folder or a simulation result; recent projects; the demo
twins; close; quit.

The host opens and closes twins; this feature is how the user asks for it (the File menu, the
start page) and remembers what was opened.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu

from twinviewer.session import TwinSession
from twinviewer.session.demos import DEMOS, demo_project
from twinviewer.session.file_types import open_dialog_filters
from twinviewer.ui.feature import ActionSpec, Feature

if TYPE_CHECKING:
    from twinviewer.ui.main_window import QtMainWindow

MAX_RECENT = 10


class FilesFeature(Feature):
    name = "files"

    def __init__(self, host: QtMainWindow) -> None:
        super().__init__(host)
        host.welcome.openRequested.connect(host.open_project)
        host.welcome.browseRequested.connect(self.open_dialog)
        self.recent_menu: QMenu | None = None
        self._recent_actions: list[QAction] = []

    def actions(self) -> list[ActionSpec]:
        return [
            ActionSpec(
                "file.open",
                "&Open…",
                self.open_dialog,
                "File",
                "open",
                QKeySequence.StandardKey.Open,
                "Open a twin project, a model file, a folder of parts or a simulation result",
                toolbar=True,
                needs_twin=False,
            ),
            ActionSpec("file.close", "&Close twin", self.host.close_session, "File",
                       shortcut=QKeySequence.StandardKey.Close, at_end=True),
            ActionSpec("file.quit", "&Quit", self.host.close, "File",
                       shortcut=QKeySequence.StandardKey.Quit, needs_twin=False, at_end=True),
        ]  # fmt: skip

    def submenus(self) -> list[str]:
        return ["File/Open recent", "File/Open demo twin"]

    def hosted(self) -> None:
        """Fill the recent and demo submenus."""
        self.recent_menu = self.host.menu("File/Open recent")
        demos = self.host.menu("File/Open demo twin")
        for name in DEMOS:
            act = demos.addAction(name.capitalize())
            act.triggered.connect(lambda _=False, n=name: self.host.open_project(demo_project(n)))
        self._update_recent()

    def open_dialog(self) -> None:
        """Ask for a file to open, filtered by the types the desktop integration declares
        (:mod:`twinviewer.session.file_types`)."""
        path, _ = QFileDialog.getOpenFileName(
            self.host,
            "Open twin project, model or simulation result",
            str(Path.cwd()),
            ";;".join(open_dialog_filters()),
        )
        if path:
            self.host.open_project(Path(path))

    # -- recent projects (in the settings) -------------------------------------------------------
    def recent_projects(self) -> list[str]:
        value = self.host.settings.value("recent", [])
        if isinstance(value, str):  # QSettings gives a lone string for a one-item list
            return [value]
        return [str(v) for v in value] if isinstance(value, list) else []

    def add_recent(self, path: Path) -> None:
        text = str(Path(path).resolve())
        recent = [text] + [p for p in self.recent_projects() if p != text]
        self.host.settings.setValue("recent", recent[:MAX_RECENT])
        self._update_recent()

    def _update_recent(self) -> None:
        recent = self.recent_projects()
        self.host.welcome.set_recent(recent)
        if self.recent_menu is None:
            return
        # Actions are made here and kept: QMenu.addAction(text) returns a wrapper that shiboken
        # may match to a stale one of a deleted object at the same address (seen as a QSurface).
        for act in self._recent_actions:
            self.recent_menu.removeAction(act)
            act.deleteLater()
        self._recent_actions = []
        for i, p in enumerate(recent):
            act = QAction(f"&{i + 1} {p}", self.recent_menu)
            act.triggered.connect(lambda _=False, p=p: self.host.open_project(Path(p)))
            self.recent_menu.addAction(act)
            self._recent_actions.append(act)
        self.recent_menu.setEnabled(bool(recent))

    def opened(self, session: TwinSession) -> None:
        self.add_recent(session.path)

    def closed(self) -> None:
        self._update_recent()
