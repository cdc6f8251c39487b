"""Keeps the twin's predictions scored, off the GUI thread.

A worker thread (:class:`~twinviewer.core.periodic.Periodic`) asks the
:class:`~twinviewer.session.prediction.PredictionService` to score what the history gained (the
first pass scores the whole history after the stored predictions, which may take a while) and
emits :attr:`QtHealthWatcher.scored` after a pass that scored something; Qt queues the signal
to the GUI thread. Like the alarm watcher it stays ``SETTLE`` seconds behind now so that
slightly late samples are scored in place.
"""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QObject, Signal

from twinviewer.core.periodic import Periodic
from twinviewer.session.prediction import PredictionService

SETTLE = 2.0
PERIOD = 1.0


class QtHealthWatcher(QObject):
    scored = Signal()
    """A pass scored new ticks (the service's latest state and anomaly events moved on)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._loop = Periodic("health-watcher", PERIOD, join_timeout=10.0)

    @property
    def passes(self) -> int:
        return self._loop.passes

    def start(self, service: PredictionService) -> None:
        def work(stop: threading.Event) -> None:
            if service.catch_up(until=time.time() - SETTLE) and not stop.is_set():
                self.scored.emit()

        self._loop.start(work)

    def poke(self) -> None:
        self._loop.poke()

    def stop(self) -> None:
        self._loop.stop()
