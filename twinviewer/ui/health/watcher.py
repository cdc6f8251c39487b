"""Keeps the twin's predictions scored, off the GUI thread.

A worker thread asks the :class:`~twinviewer.session.prediction.PredictionService` to score
what the history gained (the first pass scores the whole history after the stored predictions,
which may take a while) and emits :attr:`QtHealthWatcher.scored` after a pass that scored
something; Qt queues the signal to the GUI thread. Like the alarm watcher it stays ``SETTLE``
seconds behind now so that slightly late samples are scored in place.
"""

from __future__ import annotations

import logging
import threading
import time

from PySide6.QtCore import QObject, Signal

from twinviewer.session.prediction import PredictionService

log = logging.getLogger(__name__)

SETTLE = 2.0
PERIOD = 1.0


class QtHealthWatcher(QObject):
    scored = Signal()
    """A pass scored new ticks (the service's latest state and anomaly events moved on)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._poke = threading.Event()
        self.passes = 0

    def start(self, service: PredictionService) -> None:
        self.stop()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(service, self._stop), name="health-watcher", daemon=True
        )
        self._thread.start()

    def poke(self) -> None:
        self._poke.set()

    def stop(self) -> None:
        self._stop.set()
        self._poke.set()
        if self._thread is not None:
            self._thread.join(timeout=10.0)
        self._thread = None

    def _run(self, service: PredictionService, stop: threading.Event) -> None:
        while not stop.is_set():
            ticks = 0
            try:
                ticks = service.catch_up(until=time.time() - SETTLE)
            except Exception:  # a damaged store or model must not stop the app
                log.exception("prediction: scoring the history failed")
            self.passes += 1
            if ticks and not stop.is_set():
                self.scored.emit()
            self._poke.wait(PERIOD)
            self._poke.clear()
