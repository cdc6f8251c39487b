"""Opening a twin off the GUI thread, with progress, so big models keep the window responsive."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QThread, Signal

from twinviewer.core.model import ModelReadError
from twinviewer.core.project import ProjectError
from twinviewer.session import TwinSession

log = logging.getLogger(__name__)


class QtTwinLoader(QThread):
    """Reads the project and model on a worker thread; results arrive as queued signals."""

    progressed = Signal(float, str)
    loaded = Signal(object)  # TwinSession
    failed = Signal(str, str)  # title, message

    def __init__(self, path: Path, parent: object = None) -> None:
        super().__init__(parent)  # type: ignore[arg-type]
        self.path = Path(path)

    def run(self) -> None:
        try:
            session = TwinSession.open(self.path, lambda f, text: self.progressed.emit(f, text))
        except ProjectError as exc:
            self.failed.emit("The project file has errors", str(exc))
        except ModelReadError as exc:
            self.failed.emit("The model could not be read", str(exc))
        except OSError as exc:
            self.failed.emit("The project could not be opened", f"{self.path}: {exc}")
        except Exception as exc:  # never let a worker exception vanish or crash the app
            log.exception("unexpected error opening %s", self.path)
            self.failed.emit(
                "Unexpected error", f"{self.path}: {type(exc).__name__}: {exc}\n(see the log)"
            )
        else:
            self.loaded.emit(session)
