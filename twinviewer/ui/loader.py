"""Opening a twin off the GUI thread, with progress, so big models keep the window responsive."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from PySide6.QtCore import QThread, Signal

from twinviewer.core.model import ModelReadError
from twinviewer.core.project import ProjectError
from twinviewer.session import TwinSession
from twinviewer.sim import SimReadError

log = logging.getLogger(__name__)


class QtTwinLoader(QThread):
    """Reads the project and model on a worker thread; results arrive as queued signals."""

    progressed = Signal(float, str)
    loaded = Signal(object)  # TwinSession
    failed = Signal(str, str)  # title, message

    def __init__(self, path: Path, parent: object = None) -> None:
        super().__init__(parent)  # type: ignore[arg-type]
        self.path = Path(path)

    def _progress(self, fraction: float, text: str) -> None:
        self.progressed.emit(fraction, text)
        # Parsing holds the GIL for long stretches: at each progress step, let the GUI thread
        # run (a sleep releases the GIL; 1 ms per step costs a few ms per load).
        time.sleep(0.001)

    def run(self) -> None:
        try:
            session = TwinSession.open(self.path, self._progress)
        except ProjectError as exc:
            self.failed.emit("The project file has errors", str(exc))
        except ModelReadError as exc:
            self.failed.emit("The model could not be read", str(exc))
        except SimReadError as exc:  # a result opened by itself
            self.failed.emit("The simulation result could not be read", str(exc))
        except OSError as exc:
            self.failed.emit("The project could not be opened", f"{self.path}: {exc}")
        except Exception as exc:  # never let a worker exception vanish or crash the app
            log.exception("unexpected error opening %s", self.path)
            self.failed.emit(
                "Unexpected error", f"{self.path}: {type(exc).__name__}: {exc}\n(see the log)"
            )
        else:
            self.loaded.emit(session)
