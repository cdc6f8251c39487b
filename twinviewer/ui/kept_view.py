"""How the user left the window, kept across opening the same twin again (after an edit)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray

if TYPE_CHECKING:
    from twinviewer.session import TwinSession
    from twinviewer.ui.main_window import QtMainWindow


@dataclass
class KeptView:
    """The docks, the camera, the selection, and a message to show once the twin is back."""

    docks: QByteArray
    camera: tuple[tuple[float, ...], ...]
    selection: list[str]
    message: str

    @classmethod
    def of(cls, window: QtMainWindow, session: TwinSession, message: str) -> KeptView:
        return cls(
            window.saveState(),
            tuple(tuple(v) for v in window.view.scene.camera()),
            session.component_ids(window.workbench.selection),
            message,
        )

    def restore(self, window: QtMainWindow, session: TwinSession) -> None:
        """Put it back on ``window`` showing ``session`` (components found again by id)."""
        window.restoreState(self.docks)
        window.view.scene.set_camera(*self.camera)
        window.workbench.selection = tuple(session.component_indices(self.selection)[0])
        window.view.request_render()
        if self.message:
            window.statusBar().showMessage(self.message, 10000)
