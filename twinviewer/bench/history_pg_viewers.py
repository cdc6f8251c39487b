"""Viewers beside a recorder: processes that query a PostgreSQL history while it is written.

Each viewer is its own process (``spawn``: no state shared with the recorder, as in a control
room of separate workstations) with its own read-only store (``writer=False``). It alternates
``at(t)`` at a random time of the range held and a chart series of a random sensor over the
whole range at 2,000 px, as a viewer scrubbing and charting would, at most once every
``PERIOD`` seconds (a window replaying or scrubbing redraws a few times a second when a query
takes tens of milliseconds; four viewers in a tight loop would only measure two cores shared
by six busy processes), until it is told to stop; then it hands back its latencies.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

PERIOD = 0.25  # seconds: a viewer's at(t) and series at most this often


def viewer_loop(url: str, ids: list[str], seed: int, stop: Any, ready: Any, out: Any) -> None:
    """One viewer process (module docstring); puts ``(at latencies, series latencies)``."""
    from twinviewer.history.postgres import PostgresHistoryStore

    at: list[float] = []
    series: list[float] = []
    rng = np.random.default_rng(seed)
    store = PostgresHistoryStore(url, ids, writer=False)
    ready.release()
    try:
        while not stop.is_set():
            held = store.time_range()
            if held is None:
                time.sleep(0.05)
                continue
            t_lo, t_hi = held
            begun = s0 = time.perf_counter()
            store.at(float(rng.uniform(t_lo, t_hi)))
            at.append(time.perf_counter() - s0)
            s0 = time.perf_counter()
            store.series(int(rng.integers(0, len(ids))), t_lo, t_hi, 2000)
            series.append(time.perf_counter() - s0)
            stop.wait(max(0.0, PERIOD - (time.perf_counter() - begun)))
    finally:
        store.close()
        out.put((at, series))


@dataclass
class Viewers:
    """``count`` viewer processes on ``url``: start them, run the recorder, then :meth:`stop`."""

    url: str
    ids: list[str]
    count: int = 4
    at: list[float] = field(default_factory=list)
    series: list[float] = field(default_factory=list)

    def __enter__(self) -> Viewers:
        ctx = mp.get_context("spawn")
        self._stop = ctx.Event()
        self._out: Any = ctx.Queue()
        ready = ctx.Semaphore(0)
        self._procs = [
            ctx.Process(
                target=viewer_loop,
                args=(self.url, self.ids, 100 + i, self._stop, ready, self._out),
                daemon=True,
            )
            for i in range(self.count)
        ]
        for p in self._procs:
            p.start()
        for _ in self._procs:  # every viewer connected before the recorder starts
            if not ready.acquire(timeout=120):
                raise RuntimeError("a viewer process did not start within 120 s")
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for _ in self._procs:
            try:
                at, series = self._out.get(timeout=300)
            except Exception:  # a viewer that died: its figures are missing, say so
                log.warning("history[pg] bench: a viewer process returned nothing")
                continue
            self.at += at
            self.series += series
        for p in self._procs:
            p.join(timeout=30)
