"""The source interface every live input implements (simulator now; MQTT, OPC UA, replay next).

A source runs on its own thread and hands columnar :class:`SampleBatch` es to a ``sink`` callable.
It never touches Qt or the scene: the side that draws drains the batches on its own thread.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from twinviewer.core.gaps import Gap
from twinviewer.core.samples import SampleBatch

Sink = Callable[[SampleBatch], None]
GapSink = Callable[[Gap], None]
LOG_EVERY_S = 5.0
log = logging.getLogger(__name__)


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
    messages: int = 0  # transport messages received (MQTT messages, OPC UA notifications)
    accepted: int = 0  # samples handed to the sink
    rejected: dict[str, int] = field(default_factory=dict)  # reason -> samples or messages
    flags: dict[str, int] = field(default_factory=dict)  # accepted but noted: out_of_order...
    last_time: float | None = None  # wall-clock time of the last message
    gaps: int = 0  # data-quality gaps reported (see twinviewer.core.gaps)
    missing: int = 0  # samples those gaps say are missing (some estimated)
    gap_causes: dict[str, int] = field(default_factory=dict)  # cause -> samples missing

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())


class Source(ABC):
    """A live input. Subclasses implement :meth:`run` (the thread body)."""

    def __init__(self, source_id: str) -> None:
        self.id = source_id
        self.status = SourceStatus()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sink: Sink | None = None
        self._gap_sink: GapSink | None = None
        self._last_log: dict[str, float] = {}

    def start(self, sink: Sink, gap_sink: GapSink | None = None) -> None:
        """Run the source's thread: batches go to ``sink``, detected losses to ``gap_sink``."""
        if self._thread is not None:
            raise RuntimeError(f"source {self.id!r} already started")
        self._sink = sink
        self._gap_sink = gap_sink
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
            self.status.accepted += len(batch)
            self.status.last_time = time.time()

    def report_gap(self, gap: Gap) -> None:
        """Count a detected loss, log it, and hand it to the gap sink (source thread)."""
        st = self.status
        st.gaps += 1
        st.missing += gap.missing
        st.gap_causes[gap.cause] = st.gap_causes.get(gap.cause, 0) + gap.missing
        log.warning("source %s: %s", self.id, gap.describe())
        if self._gap_sink is not None:
            self._gap_sink(gap)

    def reject(self, reason: str, count: int = 1, detail: str = "") -> None:
        """Count ``count`` rejected samples or messages under ``reason`` and log it, at most
        once per reason every few seconds so that a flood of bad input cannot flood the log."""
        rejected = self.status.rejected
        rejected[reason] = rejected.get(reason, 0) + count
        now = time.monotonic()
        if now - self._last_log.get(reason, -1e9) >= LOG_EVERY_S:
            self._last_log[reason] = now
            log.warning(
                "source %s rejected %s (%d so far)%s",
                self.id,
                reason,
                rejected[reason],
                f": {detail}" if detail else "",
            )

    def _run(self) -> None:
        try:
            self.run()
        except Exception as exc:  # a source failing must not take the app down
            log.exception("source %s failed", self.id)
            self.status.state = SourceState.ERROR
            self.status.message = str(exc)

    @abstractmethod
    def run(self) -> None:
        """Thread body: produce batches with :meth:`emit` until :attr:`stopping`."""
