"""The source interface every live input implements (simulator now; MQTT, OPC UA, replay next).

A source runs on its own thread and hands columnar :class:`SampleBatch` es to a ``sink`` callable.
It never touches Qt or the scene: the side that draws drains the batches on its own thread.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from twinviewer.core.samples import SampleBatch

Sink = Callable[[SampleBatch], None]


class SourceState(str, Enum):
    STOPPED = "stopped"
    CONNECTING = "connecting"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    ERROR = "error"


@dataclass
class SourceStatus:
    """What the status bar shows of a source. Written by the source thread, read by the UI."""

    state: SourceState = SourceState.STOPPED
    message: str = ""
    received: int = 0  # samples handed to the sink
    rejected: dict[str, int] = field(default_factory=dict)  # reason -> count
    last_time: float | None = None  # wall-clock time of the last batch


class Source(ABC):
    """A live input. Subclasses implement :meth:`run` (the thread body)."""

    def __init__(self, source_id: str) -> None:
        self.id = source_id
        self.status = SourceStatus()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sink: Sink | None = None

    def start(self, sink: Sink) -> None:
        if self._thread is not None:
            raise RuntimeError(f"source {self.id!r} already started")
        self._sink = sink
        self._stop.clear()
        self.status.state = SourceState.CONNECTING
        self._thread = threading.Thread(target=self._run, name=f"source-{self.id}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.status.state = SourceState.STOPPED

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def emit(self, batch: SampleBatch) -> None:
        """Hand a batch to the sink (called from the source thread)."""
        if len(batch) and self._sink is not None:
            self._sink(batch)
            self.status.received += len(batch)
            self.status.last_time = time.time()

    def _run(self) -> None:
        try:
            self.run()
        except Exception as exc:  # a source failing must not take the app down
            import logging

            logging.getLogger(__name__).exception("source %s failed", self.id)
            self.status.state = SourceState.ERROR
            self.status.message = str(exc)

    @abstractmethod
    def run(self) -> None:
        """Thread body: produce batches with :meth:`emit` until :attr:`stopping`."""
