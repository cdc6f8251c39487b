"""The composition root: starts the Qt application with the workbench window."""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)


def run_app(
    project: Path | None = None,
    speed: float | None = None,
    sources: list[str] | None = None,
    history: str | None = None,
) -> int:
    """Open the workbench (on the start page, or on ``project``) and run the event loop."""
    from twinviewer.ui.application import create_app
    from twinviewer.ui.main_window import QtMainWindow

    app = create_app()

    window = QtMainWindow()
    window.restore_layout()
    window.show()
    if project is not None:
        window.open_project(Path(project), speed, sources, history=history)
    return int(app.exec())
