"""A recorder into PostgreSQL that never loses a sample: every batch goes through a local spool.

:class:`SpooledRecorder` takes what a recorder receives (``append`` / ``add_gaps``, like a
history store) and writes it first to a :class:`~twinviewer.history.spool_log.SpoolLog` on
local disk (a write-ahead log: every entry has a position 1, 2, 3, ...). A transfer thread
moves the entries into a writer :class:`~twinviewer.history.postgres.PostgresHistoryStore`
(opened without its own writer thread) in position order, one flush at a time.

Exactly once
------------
The database holds, per spool, how far it holds the log: a row of ``twinviewer_spool``
(``spool_id`` = the spool folder's uuid, ``position``) that is written *inside the flush's
transaction* (the store's ``flush(in_transaction=...)`` hook), after checking that it still
says what this recorder last saw. The rows of entries up to ``position`` and that row commit
together or not at all. So:

* the database away (refused connection, restart, network): the flush fails, the store's buffer
  is discarded (``discard_buffer``), the position is read again from the database when it is
  back, and the transfer goes on from there, re-reading the log: nothing lost (the log has
  it), nothing twice (what committed is past the position);
* a COMMIT whose answer was lost is the same case: the position read afterwards tells;
* the recorder killed or restarted (in an outage, or in the middle of a back-fill): the log is
  on disk (written to the operating system at every append), the position is in the database;
  the next run with the same spool folder goes on after it.

Order: entries are transferred strictly in position order, and live samples are appended to
the same log behind what is waiting, so samples arriving during a back-fill never overtake
spooled ones: the database receives exactly the append order (which decides ties, as in the
embedded store). Gaps go through the log too and commit in the same transaction as the samples
beside them. Entries the database holds are deleted from disk a segment (~64 MB) at a time.

Another writer meanwhile
-------------------------
Each row also holds the spool's writer ``session``: set, in its first transaction as the
writer, above every other spool's. So when a recorder connects and another spool's session is
greater than its own, another recorder (a hot standby that took over, or one started with
another spool) has written since this spool last did, and it may hold what this spool's
leftover entries hold (the same feed). Those entries (after the position, appended before this
recorder got the writer lock) are then decided once, before anything is written, by the rule of
:mod:`twinviewer.history.pg_overlap`: per sensor, what is newer than the newest sample the
database holds is written; what is at or before it is written only if the database lacks that
(sensor, time, value); source gaps only if the database lacks the same gap. Samples appended
later are checked by the same rule against the same newest times (only those at or before
them: late samples, and what a persistent MQTT session queued at the broker while this recorder
was away, which the other recorder had received too). Those leftover entries are held in memory
while they are decided. A takeover gap the other recorder recorded for samples
that this back-fill then writes stays as it was (it over-counts them).

The spool has a size cap (``max_bytes``; :mod:`twinviewer.history.spool_log`): past it, new
samples are dropped and recorded as a gap, which reaches the database like any other.

The spool folder is chosen by the caller (``twinviewer record --spool DIR``; by default under
the user's data folder, see :mod:`twinviewer.commands.record`). One recorder per folder (a
file lock); the folder must outlive the recorder for a back-fill after a restart.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from twinviewer.core.gaps import Gap
from twinviewer.core.samples import SampleBatch
from twinviewer.history.pg_overlap import HeldSamples, unheld_gaps
from twinviewer.history.pg_tables import HistoryDatabaseError, load_psycopg, split_url
from twinviewer.history.spool_log import Entry, SpoolLog

if TYPE_CHECKING:
    import psycopg

    from twinviewer.history.postgres import PostgresHistoryStore

log = logging.getLogger(__name__)

CHUNK_SAMPLES = 500_000  # samples per transaction when catching up
CLOSE_TIMEOUT = 30.0  # seconds close() keeps transferring before it leaves the rest spooled
RELEASE_AFTER = 10.0  # seconds a committed spool segment is kept (see _release)
SPOOL_TABLE = (
    "CREATE TABLE IF NOT EXISTS {} (spool_id text PRIMARY KEY, position bigint NOT NULL, "
    "host text NOT NULL, updated double precision NOT NULL, session bigint NOT NULL DEFAULT 0)"
)
SPOOL_SESSION = "ALTER TABLE {} ADD COLUMN IF NOT EXISTS session bigint NOT NULL DEFAULT 0"


class SpoolConflict(RuntimeError):
    """The database's position for this spool is not what this recorder saw last."""


class SpooledRecorder:
    """Record ``sensor_ids``'s samples into ``url`` through the spool in ``spool_dir``.

    ``store``: an open writer store to use (the window's); else one is opened when the database
    can be reached (at once if it can), and re-opened after it refused the writer lock. Never
    raises for the database being away; :meth:`stats` says what waits."""

    def __init__(
        self,
        url: str,
        sensor_ids: Sequence[str],
        spool_dir: Path,
        *,
        retention: float | None = None,
        flush_interval: float = 1.0,
        store: PostgresHistoryStore | None = None,
        open_store: Callable[[], PostgresHistoryStore] | None = None,
        max_bytes: int | None = None,
    ) -> None:
        self.url = url
        self.conninfo, self.schema = split_url(url)
        self.retention = retention
        self.flush_interval = flush_interval
        self.chunk_samples = CHUNK_SAMPLES
        self._ids = list(sensor_ids)
        self._open_store = open_store or self._default_open
        self.log = SpoolLog(Path(spool_dir), self._ids, max_bytes=max_bytes)
        self._store = store
        self._committed: int | None = None  # what the database holds (None: ask it)
        self._known = 0  # the last position known held (kept while the database is away)
        self._catchup_end = 0  # entries up to here waited in the spool (back-fill)
        self._failing = 0.0  # monotonic time of the last failure logged; 0: none
        self._failure = ""  # why the database is not written to now
        self._conn: psycopg.Connection | None = None
        self._map_key: list[str] | None = None
        self._map = np.zeros(0, np.int64)
        self._step_lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._held: list[tuple[float, int]] = []  # (when, position) committed, not released
        self._full = False  # the last transfer was a whole chunk: more waits
        self.spooled = 0  # samples that waited for the database (appended while it was away)
        self.backfilled = 0  # samples written to the database after waiting in the spool
        self.transferred = 0  # samples written to the database by this recorder
        self.unknown_sensors = 0  # spooled samples of ids the project no longer has
        self.outages = 0
        self.deduplicated = 0  # samples not written: another writer had written them
        self._session = 0  # this spool's writer session in the database; the greatest other
        self._other_session = 0
        self._follow: HeldSamples | None = None  # set when another writer wrote since us
        self._decided = 0  # entries up to here are decided (see _decide)
        self._predecided: list[tuple[int, int]] = []  # position ranges written as they are
        self._keep: dict[int, NDArray[np.bool_]] = {}  # position -> samples to write
        self._keep_gaps: dict[int, list[Gap]] = {}  # position -> gaps to write
        self._connect()
        after = self._committed or 0  # unknown while the database is away: all of it
        leftover = self.log.next_position - 1 - max(after, self.log.first_position - 1)
        if leftover > 0:
            n = self.log.pending_samples(after)
            self.spooled += n
            log.info(
                "spool %s: %d entries (%d samples) left by an earlier run; back-filling them",
                self.log.folder,
                leftover,
                n,
            )
        self._thread = threading.Thread(target=self._run, name="history-spool", daemon=True)
        self._thread.start()

    def _default_open(self) -> PostgresHistoryStore:
        from twinviewer.history.postgres import PostgresHistoryStore

        return PostgresHistoryStore(
            self.url,
            self._ids,
            retention=self.retention,
            flush_interval=self.flush_interval,
            writer_thread=False,
        )

    @property
    def failure(self) -> str:
        """Why the database is not written to now ('' while it is)."""
        return self._failure

    @property
    def store(self) -> PostgresHistoryStore | None:
        """The writer store (None until the database was reached once)."""
        return self._store

    # -- receiving -----------------------------------------------------------------------------

    def append(
        self,
        batch: SampleBatch,
        arrival: NDArray[np.float64] | None = None,
        quality: NDArray[np.uint8] | None = None,
    ) -> None:
        """Write a batch (project sensor indices) to the spool; the transfer thread does the
        rest. ``arrival`` defaults to now (the time it was received, kept through a back-fill)."""
        n = len(batch)
        if n == 0:
            return
        if self._closed:
            raise RuntimeError("recorder is closed")
        arr = np.full(n, time.time()) if arrival is None else np.broadcast_to(arrival, (n,))
        q = np.zeros(n, np.uint8) if quality is None else np.broadcast_to(quality, (n,))
        if self.log.append_samples(batch.sensor, batch.time, batch.value, arr, q) < 0:
            return  # dropped at the spool's size cap: a gap says so
        if self._failing or self._store is None:
            self.spooled += n

    def add_gaps(self, gaps: Sequence[Gap]) -> None:
        """Spool data-quality gaps; they commit with the samples around them."""
        if gaps:
            self.log.append_gaps(gaps)

    def flush(self) -> None:
        """Transfer what the spool holds now (the database away: raises HistoryDatabaseError)."""
        target = self.log.next_position - 1
        while True:
            if self._step() < 0:
                raise HistoryDatabaseError(self._failure or "history database not reachable")
            if self._committed is not None and self._committed >= target:
                return

    # -- the transfer --------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            if self._closed:
                break
            while not self._closed and self._step() > 0 and self._full:
                pass  # catching up: one chunk after the other, no wait between

    def _behind(self) -> bool:
        return self._committed is not None and self._committed < self.log.next_position - 1

    def _connect(self) -> bool:
        """A writer store and the database's position; False (logged) while unreachable."""
        if self._store is None:
            try:
                store = self._open_store()
            except (HistoryDatabaseError, OSError) as exc:
                self._fail(str(exc))
                return False
            except Exception as exc:  # psycopg errors while opening the schema
                self._fail(f"history database: {type(exc).__name__}: {exc}")
                return False
            if not store.writable:
                store.close()
                self._fail(
                    "another recorder holds the writer lock of this history; keeping everything "
                    "in the spool until it is free"
                )
                return False
            self._store = store
        if self._committed is None:
            try:
                self._committed = self._read_position()
            except Exception as exc:
                self._drop_conn()
                self._fail(f"history database: cannot read the spool position: {exc}")
                return False
            self._known = self._committed
            self._catchup_end = self.log.next_position - 1
            if self._other_session > self._session:
                try:
                    self._follow_other(self._store)
                except Exception as exc:
                    self._committed = None
                    self._drop_conn()
                    self._fail(f"history database: cannot check the spool against it: {exc}")
                    return False
            if self._committed < self.log.first_position - 1:
                log.warning(
                    "spool %s: the database holds it up to entry %d but the spool starts at %d "
                    "(the database was reset or restored?); transferring what the spool has",
                    self.log.folder,
                    self._committed,
                    self.log.first_position,
                )
        return True

    def _step(self) -> int:
        """Transfer one chunk; the number of entries (0: nothing waited; -1: failed)."""
        with self._step_lock:
            if not self._connect():
                return -1
            store = self._store
            assert store is not None and self._committed is not None
            entries = self.log.read(self._committed, self.chunk_samples)
            if self._follow is not None and entries and entries[-1].position > self._decided:
                try:
                    self._decide([e for e in entries if e.position > self._decided])
                except Exception as exc:
                    self._committed = None
                    self._drop_conn()
                    self._fail(f"history database: cannot check the spool against it: {exc}")
                    return -1
            gaps: list[Gap] = []
            for e in entries:
                if e.gaps:
                    gaps.extend(self._keep_gaps.get(e.position, e.gaps))
                elif len(e):
                    keep = self._keep.get(e.position)
                    sensor = self._project_indices(e)
                    if keep is None:
                        store.append(SampleBatch(sensor, e.time, e.value), e.arrival, e.quality)
                    elif keep.any():
                        store.append(
                            SampleBatch(sensor[keep], e.time[keep], e.value[keep]),
                            e.arrival[keep],
                            e.quality[keep],
                        )
            expected = self._committed
            handed = entries[-1].position if entries else expected

            def record(conn: psycopg.Connection) -> None:
                if gaps:
                    store.insert_gaps(conn, gaps)
                self._write_position(conn, expected, handed)

            try:
                store.flush(in_transaction=record)
            except Exception as exc:
                store.discard_buffer()
                self._committed = None  # ask the database how far it got
                self._drop_conn()
                self._fail(f"history database {store.where}: {store.clean_error(exc)}")
                return -1
            n = sum(len(e) for e in entries)
            self._full = n >= self.chunk_samples
            self.transferred += n
            self.backfilled += sum(len(e) for e in entries if e.position <= self._catchup_end)
            self._committed = self._known = handed
            for e in entries:
                keep = self._keep.pop(e.position, None)
                self._keep_gaps.pop(e.position, None)
                if keep is not None:
                    self.deduplicated += int(len(keep) - keep.sum())
            if self._failing:
                log.info(
                    "history: writing to %s again; back-filling %d spooled entries",
                    store.where,
                    max(0, self._catchup_end - expected),
                )
                self._failing = 0.0
                self._failure = ""
            self._release(handed)
            return len(entries)

    def append_decided(
        self,
        batches: Sequence[tuple[SampleBatch, NDArray[np.float64], NDArray[np.uint8]]],
        gaps: Sequence[Gap],
    ) -> None:
        """Append samples and gaps already decided against the database (a standby's takeover):
        written as they are, never checked again."""
        with self._step_lock:
            first = self.log.next_position
            for batch, arrival, quality in batches:
                self.append(batch, arrival, quality)
            self.add_gaps(gaps)
            if self.log.next_position > first:
                self._predecided.append((first, self.log.next_position - 1))

    def _follow_other(self, store: PostgresHistoryStore) -> None:
        """Another spool wrote since this one did (module docstring): from now on, samples at
        or before the newest the database holds now are written only if it lacks them; the
        entries waiting in the spool are decided at once."""
        from twinviewer.history.pg_overlap import HeldSamples

        assert self._committed is not None
        self._follow = HeldSamples(store, self._ids)
        self._keep, self._keep_gaps = {}, {}
        self._decided = self._committed
        end = self.log.next_position - 1
        entries: list[Entry] = []
        after = self._committed
        while after < end:
            more = [e for e in self.log.read(after, self.chunk_samples) if e.position <= end]
            if not more:
                break
            entries.extend(more)
            after = more[-1].position
        n = self._decide(entries, leftover=True)
        if not n:
            return
        log.warning(
            "spool %s: another recorder wrote to %s since this spool did; of the %d sample(s) "
            "waiting in the spool, %d are in the database already and are not written again",
            self.log.folder,
            store.where,
            n,
            self._follow.held,
        )

    def _decide(self, entries: Sequence[Entry], *, leftover: bool = False) -> int:
        """What of ``entries`` (the next ones after ``_decided``, in order) to write, as one
        multiset against the database (:mod:`twinviewer.history.pg_overlap`); the number of
        samples checked."""
        held = self._follow
        assert held is not None
        positions: list[int] = []
        batches: list[tuple[NDArray[np.int32], NDArray[np.float64], NDArray[np.float64]]] = []
        unknown = self.unknown_sensors  # counted when transferred
        for e in entries:
            if any(a <= e.position <= b for a, b in self._predecided):
                continue
            if e.gaps:
                self._keep_gaps[e.position] = unheld_gaps(held.store, e.gaps)
            elif len(e):
                positions.append(e.position)
                batches.append((self._project_indices(e), e.time, e.value))
        self.unknown_sensors = unknown
        for pos, keep in zip(positions, held.unheld(batches, remember=leftover), strict=True):
            if not keep.all():
                self._keep[pos] = keep
        if entries:
            self._decided = max(self._decided, entries[-1].position)
        return sum(len(b[0]) for b in batches)

    def _release(self, position: int) -> None:
        """Delete spool segments the database has held for ``RELEASE_AFTER`` seconds (a server
        with ``synchronous_commit = off`` may forget its last commits when it crashes)."""
        now = time.monotonic()
        self._held.append((now, position))
        upto = 0
        while self._held and now - self._held[0][0] >= RELEASE_AFTER:
            upto = self._held.pop(0)[1]
        if upto:
            self.log.release(upto)

    def _project_indices(self, e: Entry) -> NDArray[np.int32]:
        """The entry's sensor indices in this project (ids it no longer has: -1, rejected)."""
        if e.ids == self._ids:
            return e.sensor
        if self._map_key != e.ids:
            where = {sid: i for i, sid in enumerate(self._ids)}
            self._map = np.array([where.get(sid, -1) for sid in e.ids] + [-1], np.int64)
            self._map_key = e.ids
        idx = np.where((e.sensor >= 0) & (e.sensor < len(e.ids)), e.sensor, len(e.ids))
        out = self._map[idx].astype(np.int32)
        self.unknown_sensors += int(np.count_nonzero(out < 0))
        return out

    def _fail(self, why: str) -> None:
        now = time.monotonic()
        self._failure = why
        if not self._failing:
            self.outages += 1
            log.warning("history: %s; spooling to %s until it is back", why, self.log.folder)
            self._failing = now
        elif now - self._failing > 30.0:
            log.warning(
                "history: still not writing (%s); %d entries wait in %s",
                why,
                self.log.next_position - 1 - self._known,
                self.log.folder,
            )
            self._failing = now

    # -- the position table --------------------------------------------------------------------

    def _table(self) -> Any:
        sql = load_psycopg().sql
        return sql.Identifier(self.schema, "twinviewer_spool")

    def _read_position(self) -> int:
        pg = load_psycopg()
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = pg.connect(self.conninfo, autocommit=True)
        conn = self._conn
        conn.execute(pg.sql.SQL(SPOOL_TABLE).format(self._table()))
        conn.execute(pg.sql.SQL(SPOOL_SESSION).format(self._table()))
        row = conn.execute(
            pg.sql.SQL(
                "SELECT (SELECT position FROM {0} WHERE spool_id = %s), "
                "(SELECT session FROM {0} WHERE spool_id = %s), "
                "(SELECT max(session) FROM {0} WHERE spool_id <> %s)"
            ).format(self._table()),
            (self.log.id, self.log.id, self.log.id),
        ).fetchone()
        assert row is not None
        self._session = int(row[1] or 0)
        self._other_session = int(row[2] or 0)
        return int(row[0] or 0)

    def _write_position(self, conn: psycopg.Connection, expected: int, position: int) -> None:
        """In the flush's transaction: check the database still holds ``expected`` (locking the
        row), then set ``position``, and the writer session above every other spool's."""
        sql = load_psycopg().sql
        row = conn.execute(
            sql.SQL("SELECT position, session FROM {} WHERE spool_id = %s FOR UPDATE").format(
                self._table()
            ),
            (self.log.id,),
        ).fetchone()
        held = int(row[0]) if row else 0
        if held != expected:
            raise SpoolConflict(
                f"spool {self.log.id}: the database holds it up to {held}, expected {expected}"
            )
        other = conn.execute(
            sql.SQL("SELECT max(session) FROM {} WHERE spool_id <> %s").format(self._table()),
            (self.log.id,),
        ).fetchone()
        session = max(int(row[1]) if row else 0, int(other[0] or 0) + 1 if other else 1)
        conn.execute(
            sql.SQL(
                "INSERT INTO {} (spool_id, position, host, updated, session) "
                "VALUES (%s, %s, %s, %s, %s) "
                "ON CONFLICT (spool_id) DO UPDATE SET position = excluded.position, "
                "host = excluded.host, updated = excluded.updated, session = excluded.session"
            ).format(self._table()),
            (self.log.id, position, socket.gethostname(), time.time(), session),
        )

    def _drop_conn(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # already broken
                pass
            self._conn = None

    # -- summary and closing -------------------------------------------------------------------

    def pending(self) -> int:
        """Samples in the spool the database does not hold (as far as known)."""
        return self.log.pending_samples(self._known)

    def spool_stats(self) -> dict[str, Any]:
        pending = self.pending()
        return {
            "folder": str(self.log.folder),
            "id": self.log.id,
            "spooled": self.spooled,
            "backfilled": self.backfilled,
            "transferred": self.transferred,
            "pending": pending,
            "empty": pending == 0 and self._known >= self.log.next_position - 1,
            "position": self._known,
            "outages": self.outages,
            "database": "writing" if not self._failure else self._failure,
            "unknown_sensors": self.unknown_sensors,
            "deduplicated": self.deduplicated,
            "dropped_spool_full": self.log.dropped,
            "max_bytes": self.log.max_bytes,
        }

    def stats(self) -> dict[str, Any]:
        """The store's stats (when it could be reached) with ``spool``: what waits, what was
        back-filled."""
        out: dict[str, Any] = {}
        if self._store is not None:
            try:
                out = self._store.stats()
            except Exception as exc:
                log.warning("history: no statistics from the database: %s", exc)
        out["spool"] = self.spool_stats()
        return out

    def close(self, timeout: float = CLOSE_TIMEOUT) -> None:
        """Transfer what is left (for at most ``timeout`` seconds while the database answers),
        then close; what could not be transferred stays in the spool for the next run."""
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        self._thread.join()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            n = self._step()
            if n < 0 or not self._behind():
                break
        self.log.close()
        self._drop_conn()
        if self._store is not None:
            try:
                self._store.close()
            except Exception as exc:
                log.warning("history: closing %s: %s", self._store.where, exc)
        left = self.log.pending_samples(self._known)
        if left:
            log.warning(
                "history: %d sample(s) wait in the spool %s for the database; the next recorder "
                "run with this spool back-fills them",
                left,
                self.log.folder,
            )
