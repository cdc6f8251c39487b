"""The hot standby recorder: waits for the writer lock, remembers the last seconds meanwhile,
and on takeover writes what the database does not hold yet.

``twinviewer record PROJECT --history URL --standby`` runs the project's sources like the
recorder does, but hands the batches to a :class:`StandbyMemory` (the last ``window`` seconds
by arrival, at most ``max_samples``) instead of a store, and asks the server twice a second
for the writer lock (the advisory lock of :mod:`twinviewer.history.pg_tables`, held by the
recorder's writer connection: the server releases it when that connection dies, also after
``kill -9`` of the recorder, as the kernel closes its socket).

Takeover (:meth:`StandbyMemory.takeover`), per sensor, against what the database holds once
the lock is ours (nobody else commits any more), by the rule of
:mod:`twinviewer.history.pg_overlap`:

* ``T`` = the time of the newest sample held (``at(+inf)``); memory samples newer than ``T`` are
  written;
* samples at or before ``T`` (equal times, late samples) are written only if the database does
  not hold them (matched by sensor, time and value, as multisets);
* memory that does not reach back to ``T``: samples the standby dropped from its memory that
  were newer than ``T`` are counted (the standby keeps ``(sensor, time)`` of every sample it
  dropped while not known to be held, refreshed from the database every second) and recorded as
  one gap (cause ``recorder_takeover``), exact unless that bookkeeping overflowed (late samples
  dropped from memory that were older than ``T`` when dropped are taken as held);
* gaps the sources reported into memory are written unless the database has the same one.

The standby must receive the feed through a session of its own: an MQTT source with a fixed
client id connects as another client (``twinviewer record --standby`` does that, see
:mod:`twinviewer.commands.record`). Sharing the recorder's id, the broker hands the session to
one connection at a time and each recorder receives part of the feed only.

What is written goes through the new writer's spool (:mod:`twinviewer.history.pg_spool`) in
memory order, before anything received after the takeover.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from twinviewer.core.gaps import Gap
from twinviewer.core.samples import SampleBatch
from twinviewer.history.pg_overlap import HeldSamples, unheld_gaps
from twinviewer.history.pg_spool import SpooledRecorder
from twinviewer.history.pg_tables import load_psycopg, split_url, writer_lock_key

if TYPE_CHECKING:
    import psycopg

    from twinviewer.history.postgres import PostgresHistoryStore

log = logging.getLogger(__name__)

TAKEOVER = "recorder_takeover"
MAX_UNCERTAIN = 20_000_000  # dropped samples tracked for an exact gap (12 bytes each)


@dataclass
class Takeover:
    """What a takeover wrote, for the log and the record summary."""

    at: float = 0.0  # epoch seconds
    waited: float = 0.0  # seconds as standby
    backfilled: int = 0  # samples from memory the database lacked
    skipped: int = 0  # samples in memory the database already held
    missing: int = 0  # samples dropped from memory that the database lacks (a gap)
    gaps: int = 0  # gaps written (reported by the sources, plus the takeover's own)
    batches: list[tuple[SampleBatch, NDArray[np.float64], NDArray[np.uint8]]] = field(
        default_factory=list, repr=False
    )
    new_gaps: list[Gap] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "took_over_at": self.at,
            "waited": self.waited,
            "backfilled_from_memory": self.backfilled,
            "already_held": self.skipped,
            "missing": self.missing,
            "gaps_written": self.gaps,
        }


class StandbyMemory:
    """The last ``window`` seconds of batches and gaps (by arrival), at most ``max_samples``."""

    def __init__(self, ids: Sequence[str], window: float = 60.0, max_samples: int = 5_000_000):
        self.ids = list(ids)
        self.window = window
        self.max_samples = max_samples
        self._items: deque[tuple[float, SampleBatch | None, NDArray[np.float64], list[Gap]]] = (
            deque()
        )
        self.samples = 0
        self.held = np.full(len(self.ids), -np.inf)  # newest time the database holds (polled)
        self._unc_s: list[NDArray[np.int32]] = []  # dropped, maybe not held: sensor, time
        self._unc_t: list[NDArray[np.float64]] = []
        self._unc_n = 0
        self.overflow = False
        self.dropped = 0

    def add(self, batch: SampleBatch, arrival: float | None = None) -> None:
        now = time.time() if arrival is None else arrival
        if len(batch):
            self._items.append((now, batch, np.full(len(batch), now), []))
            self.samples += len(batch)
        self._trim(now)

    def add_gaps(self, gaps: Sequence[Gap]) -> None:
        if gaps:
            self._items.append((time.time(), None, np.zeros(0), list(gaps)))

    def _trim(self, now: float) -> None:
        while self._items and (
            now - self._items[0][0] > self.window or self.samples > self.max_samples
        ):
            _, b, _, _ = self._items.popleft()
            if b is None:
                continue  # a reported gap older than the window: the recorder wrote it
            self.samples -= len(b)
            self.dropped += len(b)
            s = np.clip(b.sensor, 0, len(self.ids) - 1)
            keep = b.time > self.held[s]
            if keep.any():
                if self._unc_n + int(keep.sum()) > MAX_UNCERTAIN:
                    self.overflow = True
                else:
                    self._unc_s.append(b.sensor[keep].astype(np.int32))
                    self._unc_t.append(b.time[keep].astype(np.float64))
                    self._unc_n += int(keep.sum())

    def note_held(self, held_time: NDArray[np.float64]) -> None:
        """The database's newest time per project sensor (NaN: none); forget what it holds."""
        self.held = np.where(np.isnan(held_time), -np.inf, held_time)
        if self._unc_n:
            s = np.concatenate(self._unc_s)
            t = np.concatenate(self._unc_t)
            keep = t > self.held[np.clip(s, 0, len(self.ids) - 1)]
            self._unc_s, self._unc_t = [s[keep]], [t[keep]]
            self._unc_n = int(keep.sum())

    def takeover(self, store: PostgresHistoryStore, started: float) -> Takeover:
        """What to write now that ``store`` (a writer) holds the lock (module docstring)."""
        out = Takeover(at=time.time(), waited=time.monotonic() - started)
        held = HeldSamples(store, self.ids)
        self.note_held(held.newest)
        items = list(self._items)
        batches = [b for _, b, _, _ in items if b is not None]
        masks = iter(held.unheld([(b.sensor, b.time, b.value) for b in batches]))
        for _, b, arr, gaps in items:
            if b is None:
                out.new_gaps.extend(gaps)
                continue
            take = next(masks)
            out.skipped += int(len(b) - take.sum())
            if take.any():
                out.batches.append(
                    (
                        SampleBatch(b.sensor[take], b.time[take], b.value[take]),
                        arr[take],
                        np.zeros(int(take.sum()), np.uint8),
                    )
                )
                out.backfilled += int(take.sum())
        out.new_gaps = unheld_gaps(store, out.new_gaps)
        lost = self._lost_gap(items)
        if lost is not None:
            out.new_gaps.append(lost)
            out.missing = lost.missing
        out.gaps = len(out.new_gaps)
        return out

    def _lost_gap(self, items: list[Any]) -> Gap | None:
        """One gap for the samples dropped from memory that the database lacks."""
        if not self._unc_n:
            return None
        s = np.concatenate(self._unc_s)
        t = np.concatenate(self._unc_t)
        ok = (s >= 0) & (s < len(self.ids))
        s, t = s[ok], t[ok]
        if not len(s):
            return None
        sensors = np.unique(s)
        start = float(np.min(np.where(np.isfinite(self.held[s]), self.held[s], t)))
        end = float(t.max())
        first_kept = [float(b.time.min()) for _, b, _, _ in items if b is not None and len(b)]
        if first_kept:
            end = max(end, min(first_kept))
        return Gap(
            source="recorder",
            sensors=tuple(self.ids[i] for i in sensors.tolist()),
            start=start,
            end=end,
            missing=len(s),
            cause=TAKEOVER,
            exact=not self.overflow,
            detail="the standby recorder's memory did not reach back to the newest sample the "
            "database held when it took over",
        )


class WriterLockProbe:
    """Asks the server whether the writer lock of the URL's schema is free (then lets it go,
    for the store to take)."""

    def __init__(self, url: str) -> None:
        self.conninfo, self.schema = split_url(url)
        self._conn: psycopg.Connection | None = None

    def free(self) -> bool:
        """True if nobody holds the lock now; False when held or the server is away."""
        pg = load_psycopg()
        key = writer_lock_key(self.schema)
        try:
            if self._conn is None or self._conn.closed or self._conn.broken:
                self._conn = pg.connect(self.conninfo, autocommit=True)
            row = self._conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (key,)).fetchone()
            if not (row and row[0]):
                return False
            self._conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))
            return True
        except pg.Error:
            self.close()
            return False

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # already broken
                pass
            self._conn = None


class StandbyRecorder:
    """A recorder that waits as hot standby, then records through a spool. Used like a store
    (``append``, ``add_gaps``, ``stats``, ``close``) by ``twinviewer record --standby``; a thread
    polls the lock every ``poll`` seconds and takes over (module docstring)."""

    def __init__(
        self,
        url: str,
        sensor_ids: Sequence[str],
        spool_dir: Path,
        *,
        retention: float | None = None,
        window: float = 60.0,
        max_samples: int = 5_000_000,
        poll: float = 0.5,
        flush_interval: float = 1.0,
        max_bytes: int | None = None,
    ) -> None:
        self.url = url
        self.ids = list(sensor_ids)
        self.spool_dir = Path(spool_dir)
        self.retention = retention
        self.flush_interval = flush_interval
        self.poll = poll
        self.max_bytes = max_bytes
        self.memory = StandbyMemory(self.ids, window, max_samples)
        self.probe = WriterLockProbe(url)
        self.recorder: SpooledRecorder | None = None
        self.takeover: Takeover | None = None
        self._reader: PostgresHistoryStore | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="history-standby", daemon=True)
        self._thread.start()

    def append(
        self,
        batch: SampleBatch,
        arrival: NDArray[np.float64] | None = None,
        quality: NDArray[np.uint8] | None = None,
    ) -> None:
        with self._lock:
            if self.recorder is not None:
                self.recorder.append(batch, arrival, quality)
            else:
                self.memory.add(batch)

    def add_gaps(self, gaps: Sequence[Gap]) -> None:
        with self._lock:
            if self.recorder is not None:
                self.recorder.add_gaps(gaps)
            else:
                self.memory.add_gaps(gaps)

    def _run(self) -> None:
        last_held = 0.0
        while not self._stop.wait(self.poll):
            try:
                self._write_status()
                if self.probe.free() and self._take_over():
                    self._write_status()
                    return
                if time.monotonic() - last_held >= 1.0:
                    last_held = time.monotonic()
                    self._refresh_held()
            except Exception:  # keep waiting; the next poll tries again
                log.exception("history: standby recorder: poll failed")

    def _write_status(self) -> None:
        """``<spool>/standby.json``: what this standby holds, for monitoring (and tests)."""
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.spool_dir / "standby.json.tmp"
        tmp.write_text(json.dumps({"time": time.time(), "pid": os.getpid(), **self.stats()}))
        os.replace(tmp, self.spool_dir / "standby.json")

    def _refresh_held(self) -> None:
        """What the database holds now, so memory forgets about dropping those samples."""
        from twinviewer.history.postgres import PostgresHistoryStore

        try:
            if self._reader is None:
                self._reader = PostgresHistoryStore(self.url, self.ids, writer=False)
            _, held = self._reader.at(np.inf)
        except Exception as exc:  # not recorded yet, or the server is away
            log.debug("history: standby: no committed times yet: %s", exc)
            if self._reader is not None:
                self._reader.close()
                self._reader = None
            return
        with self._lock:
            self.memory.note_held(held)

    def _take_over(self) -> bool:
        from twinviewer.history.postgres import PostgresHistoryStore

        store = PostgresHistoryStore(
            self.url, self.ids, retention=self.retention, writer_thread=False
        )
        if not store.writable:  # another standby was quicker
            store.close()
            return False
        with self._lock:
            info = self.memory.takeover(store, self._started)
            rec = SpooledRecorder(
                self.url,
                self.ids,
                self.spool_dir,
                retention=self.retention,
                flush_interval=self.flush_interval,
                store=store,
                max_bytes=self.max_bytes,
            )
            rec.append_decided(info.batches, info.new_gaps)  # decided above
            self.recorder, self.takeover = rec, info
            self.memory = StandbyMemory(self.ids, 0.0, 0)  # nothing more goes there
        log.warning(
            "history: standby recorder took over as the writer of %s after %.1f s: %d sample(s) "
            "back-filled from memory, %d already held, %d missing (recorded as a gap)",
            store.where,
            info.waited,
            info.backfilled,
            info.skipped,
            info.missing,
        )
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        self.probe.close()
        return True

    def stats(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.recorder is not None and self._stop.is_set():  # the database's, at the end
            out = self.recorder.stats()
        out["standby"] = {
            "took_over": self.takeover is not None,
            **(self.takeover.as_dict() if self.takeover is not None else {}),
            "in_memory": self.memory.samples,
            "received": self.memory.samples + self.memory.dropped,
        }
        return out

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        if self.recorder is not None:
            self.recorder.close()
        if self._reader is not None:
            self._reader.close()
        self.probe.close()
