"""Keeps an :class:`AlarmLog` up to date with the history store, off the GUI thread.

A worker thread (:class:`~twinviewer.core.periodic.Periodic`) reads what the store gained since
the last pass (the first pass reads the whole history, which may take a while for a big store)
and emits :attr:`QtAlarmWatcher.changed` with the intervals; Qt queues the signal to the GUI
thread. Samples are taken only up to ``SETTLE`` seconds before now, so samples that arrive a
little out of order still land in the right place.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal

from twinviewer.core.alarms import AlarmLog, SampleReader, catch_up
from twinviewer.core.periodic import Periodic

SETTLE = 2.0  # seconds: out-of-order samples younger than this still count
PERIOD = 1.0  # seconds between passes


class QtAlarmWatcher(QObject):
    changed = Signal(object)
    """The intervals (``INTERVAL_DTYPE`` array) after a pass that found something new."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._loop = Periodic("alarm-watcher", PERIOD)
        self.alarms: AlarmLog | None = None

    @property
    def passes(self) -> int:
        return self._loop.passes

    def start(self, alarms: AlarmLog, store: SampleReader, project_ids: Sequence[str]) -> None:
        self.alarms = alarms
        ids = list(project_ids)
        seen = [-1]  # the log's version last emitted

        def work(stop: threading.Event) -> None:
            catch_up(alarms, store, ids, until=time.time() - SETTLE)
            if alarms.version != seen[0] and not stop.is_set():
                seen[0] = alarms.version
                self.changed.emit(alarms.intervals())

        self._loop.start(work)

    def poke(self) -> None:
        """Run a pass now instead of at the next period."""
        self._loop.poke()

    def stop(self) -> None:
        self._loop.stop()
