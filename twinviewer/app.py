"""The composition root: starts the Qt application with the workbench window."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from twinviewer.session import TwinSession

log = logging.getLogger(__name__)


def run_app(
    project: Path | None = None,
    speed: float | None = None,
    sources: list[str] | None = None,
    history: str | None = None,
    session: TwinSession | None = None,
) -> int:
    """Open the workbench (on the start page, on ``project``, or on a twin already opened:
    ``session``, e.g. a simulation result by itself) and run the event loop."""
    from twinviewer.ui.application import create_app
    from twinviewer.ui.main_window import QtMainWindow

    app = create_app()

    window = QtMainWindow()
    window.restore_layout()
    window.show()
    if session is not None:
        window.show_session(session)
    elif project is not None:
        window.open_project(Path(project), speed, sources, history=history)
    return int(app.exec())
