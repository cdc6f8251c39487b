"""Opening a twin off the GUI thread, with progress, so big models keep the window responsive."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def start_services(
    session: TwinSession, args: dict[str, Any], error: Callable[[str, str], None]
) -> None:
    """Open what a loaded twin records and reads: its history (``args['history']``: a
    PostgreSQL URL instead of the project's store), its trained models and its sources
    (``args['speed']``, ``args['sources']``). A part that fails is reported through ``error``
    and the twin opens without it."""
    try:
        session.history_url = args.get("history")
        session.open_history()
    except Exception as exc:  # recording is worth having, not worth refusing the twin for
        log.exception("history store of %s", session.path)
        error("History is not recorded", f"The history store could not be opened: {exc}")
    try:
        session.open_prediction()
    except (ValueError, OSError) as exc:  # a broken model set: the twin opens without it
        log.warning("prediction of %s: %s", session.path, exc)
        error("Prediction is off", f"The trained models cannot be used:\n{exc}")
    try:
        session.sources = session.create_sources(args.get("speed"), args.get("sources"))
    except (ValueError, ImportError) as exc:
        error("The data sources could not be started", str(exc))
