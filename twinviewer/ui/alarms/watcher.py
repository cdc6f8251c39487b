"""Keeps an :class:`AlarmLog` up to date with the history store, off the GUI thread.

A worker thread reads what the store gained since the last pass (the first pass reads the whole
history, which may take a while for a big store) and emits :attr:`QtAlarmWatcher.changed` with
the intervals; Qt queues the signal to the GUI thread. Samples are taken only up to
``SETTLE`` seconds before now, so samples that arrive a little out of order still land in the
right place.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal

from twinviewer.core.alarms import AlarmLog, SampleReader, catch_up

log = logging.getLogger(__name__)

SETTLE = 2.0  # seconds: out-of-order samples younger than this still count
PERIOD = 1.0  # seconds between passes


class QtAlarmWatcher(QObject):
    changed = Signal(object)
    """The intervals (``INTERVAL_DTYPE`` array) after a pass that found something new."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._poke = threading.Event()
        self.alarms: AlarmLog | None = None
        self.passes = 0

    def start(self, alarms: AlarmLog, store: SampleReader, project_ids: Sequence[str]) -> None:
        self.stop()
        self.alarms = alarms
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run,
            args=(alarms, store, list(project_ids), self._stop),
            name="alarm-watcher",
            daemon=True,
        )
        self._thread.start()

    def poke(self) -> None:
        """Run a pass now instead of at the next period."""
        self._poke.set()

    def stop(self) -> None:
        self._stop.set()
        self._poke.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        self._thread = None

    def _run(
        self, alarms: AlarmLog, store: SampleReader, ids: list[str], stop: threading.Event
    ) -> None:
        version = -1
        while not stop.is_set():
            try:
                catch_up(alarms, store, ids, until=time.time() - SETTLE)
            except Exception:  # a damaged store must not stop the watcher (or the app)
                log.exception("alarms: reading the history failed")
            self.passes += 1
            if alarms.version != version and not stop.is_set():
                version = alarms.version
                self.changed.emit(alarms.intervals())
            self._poke.wait(PERIOD)
            self._poke.clear()
