"""The history store in PostgreSQL: one recorder writes, any number of viewers read.

:class:`PostgresHistoryStore` has the public API and the semantics of the embedded
:class:`~twinviewer.history.store.HistoryStore` (``append / at / at_store / series / read /
time_range / add_gaps / gaps / stats / flush / close``); it is selected by a
``postgresql://`` URL in the project (``history.url``) or on the command line (``--history
URL``). psycopg 3 is an optional dependency (``pip install 'twinviewer[postgres]'``).

Two layouts (the schema's format ``version`` says which; ``?layout=rows|blocks`` in the URL,
taken out like ``?schema=``, chooses it for a new schema; default ``blocks``):

* **blocks** (format 3, :mod:`twinviewer.history.pg_blocks`, reads in
  :mod:`twinviewer.history.pg_blocks_queries`): the main samples as compressed blocks, one row
  per sensor and 10 s block, ~10 bytes a sample on disk instead of ~190;
* **rows** (format 1, every schema recorded before the blocks existed): a row per sample.

Tables (in the schema named by ``?schema=NAME`` in the URL, default ``public``; the option is
taken out of the URL before connecting)::

    twinviewer_state      one row: format version, next append rank, newest main time, counts;
                          blocks: oldest time, block width, samples held at the newest time
    twinviewer_sensors    idx -> sensor id (identity is the id, so reordered projects keep history)
    twinviewer_chunks     blocks: per sensor and closed block: t0, t1, seq (its greatest append
                          rank), n, vmin, vmax, vfirst, vlast and data (the samples, encoded by
                          :mod:`twinviewer.history.pg_codec`); BRIN on t0, btree (sensor, t0)
    twinviewer_tail       blocks: the same for blocks still open, one part per flush, merged
                          into a chunk when the block closes (what viewers see of the last
                          seconds, within a flush)
    twinviewer_samples    rows: the *main* rows: time, seq (global append rank), value, sensor,
                          delay, quality; time-ordered in seq order; indexes (sensor, time)
                          INCLUDE (seq, value) and (time)
    twinviewer_late       rows older than the main data already written (same columns, indexes;
                          both layouts)
    twinviewer_keyframes  the full state (value and time of every sensor, two float64 arrays)
    twinviewer_blocks     per sensor and time-aligned bucket: count, first / last time, min / max /
                          last value, sum and count of the finite values (the mean); the summary
                          levels (level 0, 1, ...) and the roll-ups (level 100, 101, ...:
                          :mod:`twinviewer.history.pg_rollups`)
    twinviewer_gaps       data-quality gaps (core.gaps.Gap): source, sensors text[], t_start,
                          t_end, missing, cause, exact, detail; added to older databases when a
                          writer opens them

Why this shape
--------------
* **Writes.** ``append`` only maps project to store indices and buffers the columns. A writer
  thread flushes at least once per second in one transaction: it takes a range of append ranks
  (``seq``) from the state row, sorts the buffer stably by time and sends it with one binary
  ``COPY`` (the rows are packed by numpy, no per-row Python), plus keyframes, block upserts and
  retention. A flush is atomic: readers see all of it or none of it. One writer per database
  and schema (the recorder); any number of read-only stores (``writer=False``) beside it.
* **Blocks** (format 3; the first block format, 2, is refused with a message): a flush packs
  its main rows per sensor and block with numpy and sends one binary ``COPY`` of block rows
  (never a row per sample): closed blocks to the chunks, open ones to the tail. Times are
  integer residuals against the block's straight line and values float32 where exact, both
  fixed-width records, with a slot table so that at(t) can cut the few samples around t out
  of a block on the server (:mod:`twinviewer.history.pg_codec`); the arrival delay is not
  kept (the embedded store keeps it, nothing reads it back). Other queries decode the blocks
  they need, all at once (:mod:`twinviewer.history.pg_blocks_queries`). PostgreSQL
  compresses (TOAST, lz4) only rows over ~2 kB, so 10 s blocks at 10 Hz are stored as the
  codec packs them.
* **Order and ties** are the embedded store's: rows at or after the newest main time go to
  ``samples`` (so main rows are time-ordered), older ones to ``late``; at(t) is, per sensor, the
  row with the greatest ``(time, seq)`` with ``time <= t``, so on equal times the row appended
  last wins, and a late row beats a main row of equal time (it was appended after it).
* **at(t)** = the newest keyframe with ``kt <= t`` (one row, the state after a given main row)
  + a replay of the main rows with ``kt <= time <= t`` (``DISTINCT ON (sensor)`` over at most
  one keyframe interval, done by the server over the time index) + the latest late row per
  sensor at or before t. Each result column comes back as one ``bytea`` (``string_agg`` of its
  binary send form) read by ``np.frombuffer``, so 10,000 sensors cost no per-row Python. A
  keyframe is written every ``max(2,000, sensors)`` main rows (16 bytes per sensor: about 16
  bytes per sample on top of the rows; every 2 x sensors halves that and doubles at(t)).
* **series** of one sensor: below ``raw_rows_limit`` rows in range (estimated from a coarse
  block level) the raw rows are read from the covering index ``(sensor, time) INCLUDE (seq,
  value)`` (rows of one sensor are spread over the heap, one page per row) and bucketed exactly
  as the embedded store does. Longer ranges read *blocks*: per sensor, per time-aligned block
  (10 s, 100 s, ... 10^5 s), the count, first/last time, min, max and last value, upserted at
  every flush (late rows included, so a block is exact whatever the arrival order; the block
  layout writes them when a block closes: :mod:`twinviewer.history.pg_rollups`). Blocks
  partition time, so bucket edges snap to block edges and every bucket's min/max is exact:
  spikes are never hidden.
* **Retention** deletes, at flush time, rows older than ``now - retention``, their keyframes and
  the blocks that end before the cutoff. **Roll-ups** (``rollups=``: the project's
  ``history.rollups``) are summaries kept longer, each deleted by its own cutoff; series and
  at(t) over times the raw data no longer holds answer from them (:mod:`.pg_queries`).
* **Gaps** are committed when :meth:`PostgresHistoryStore.add_gaps` returns (one small
  transaction on the query connection), not with the next flush: they are rare, and the
  record of a loss must outlive a recorder killed right after it. If the database is away they
  wait for the writer's next flush, which retries every second like the samples. Retention
  deletes the gaps that ended before the cutoff.
* **TimescaleDB**: where the extension is available (and may be created) ``samples`` becomes a
  hypertable chunked by append rank (``seq``), which keeps chunks time-ordered for main rows.
  Without it, plain tables and the indexes above.

(The bullets on at(t), series, retention and TimescaleDB describe the row layout; the block
layout's are in :mod:`twinviewer.history.pg_blocks_queries`: keyframes every 50 x sensors
main samples, then the one part per sensor around t, of which the server sends only the few
samples its slot table says hold the answer; series from decoded blocks, or from the
blocks' own min/max/last and the summary levels of 100 s and more; retention drops whole
blocks that end before the cutoff; no hypertable: the blocks are what TimescaleDB's
compression would give.)

Where the code is: this module holds :class:`PostgresHistoryStore` itself (opening, the
writer thread, flushes with their keyframes, blocks and retention, closing) and the writer's
tuning; its bases are the connections, schema and sensor table
(:mod:`twinviewer.history.pg_tables`) and the queries (:mod:`twinviewer.history.pg_queries`);
the bulk packing of rows is :mod:`twinviewer.history.pg_copy`; the summary levels and roll-ups
are written by :mod:`twinviewer.history.pg_rollups`.
"""

from __future__ import annotations

import logging
import threading
import time as _time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from twinviewer.core.gaps import Gap
from twinviewer.core.samples import SampleBatch
from twinviewer.history import pg_blocks

# ``NAME as NAME``: defined here before the connections, schema, queries and packing moved out
from twinviewer.history.pg_copy import BLOCK_FIELDS as BLOCK_FIELDS
from twinviewer.history.pg_copy import F64 as F64
from twinviewer.history.pg_copy import SAMPLE_FIELDS as SAMPLE_FIELDS
from twinviewer.history.pg_copy import SERIES_FIELDS as SERIES_FIELDS
from twinviewer.history.pg_copy import STATE_FIELDS as STATE_FIELDS
from twinviewer.history.pg_queries import READ_CHUNK as READ_CHUNK
from twinviewer.history.pg_role import standby_reason
from twinviewer.history.pg_rollups import RollupWriter, check_rollups
from twinviewer.history.pg_tables import BLOCK_LEVELS as BLOCK_LEVELS
from twinviewer.history.pg_tables import HYPERTABLE_CHUNK_ROWS as HYPERTABLE_CHUNK_ROWS
from twinviewer.history.pg_tables import INSTALL_HINT as INSTALL_HINT
from twinviewer.history.pg_tables import VERSION as VERSION
from twinviewer.history.pg_tables import HistoryDatabaseError as HistoryDatabaseError
from twinviewer.history.pg_tables import load_psycopg, redact_url, split_url
from twinviewer.history.rows import batch_rows, last_per_sensor

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

# The writer's tuning, read from this module at call time (tests shrink the keyframe interval).
FLUSH_SAMPLES = 1_000_000
MAX_BUFFERED = 8_000_000
KEYFRAME_MIN_ROWS = 2_000
KEYFRAME_ROWS_PER_SENSOR = 1  # 10k sensors: at(t) p95 ~8 ms (2: ~16 ms)
RAW_ROWS_LIMIT = 50_000


# -- the store ---------------------------------------------------------------------------------


class PostgresHistoryStore(RollupWriter):
    """Append batches; query the state of every sensor at t and one sensor's chart series.

    Thread-safe like the embedded store: :meth:`append` from any thread, queries from another
    (they share one connection under a lock; the writer has its own). Queries see flushed,
    committed data only. ``writer=False`` opens read-only: no writer thread, no schema changes,
    and the tables must exist.
    """

    def __init__(
        self,
        url: str,
        sensor_ids: Sequence[str],
        *,
        retention: float | None = None,
        flush_interval: float = 1.0,
        writer: bool = True,
        writer_thread: bool = True,
        block_levels: Sequence[float] | None = None,
        rollups: Sequence[tuple[float, float | None]] | None = None,
    ) -> None:
        check_rollups(rollups, retention)
        self._psycopg = load_psycopg()
        self.url = url
        self.where = redact_url(url)
        self.conninfo, self.schema = split_url(url)
        self.retention = retention
        self.flush_interval = flush_interval
        self.writable = writer
        self.raw_rows_limit = RAW_ROWS_LIMIT
        self.rejected = 0
        self.dropped = 0  # appended to a store that fell back to reading (another recorder)
        self.dropped_gaps = 0  # likewise, gaps
        self._pending_gaps: list[Gap] = []  # gaps the database refused for now (under _buf_lock)
        self._has_gaps = False
        self.read_only_reason = "" if writer else "opened read-only"
        self.timescale = False
        self._lock = threading.RLock()  # the query connection
        self._flush_lock = threading.Lock()
        self._buf_lock = threading.Lock()
        self._buf: list[tuple[NDArray[np.int64], F64, F64, F64, NDArray[np.uint8]]] = []
        self._buf_rows = 0
        self._wake = threading.Event()
        self._closed = False
        self._failing = 0.0  # monotonic time of the last failed flush logged (0: none)
        self._sensors_checked = 0.0
        self._project_ids = list(sensor_ids)
        self._qconn: psycopg.Connection | None = self._connect()
        self._wconn: psycopg.Connection | None = None
        try:
            replica = standby_reason(self._qconn, self.where, writer)
            if replica:  # a streaming-replication standby: read-only (pg_role)
                writer = self.writable = False
                self.read_only_reason = replica
            if writer:
                self._wconn = self._connect()
                self._create_schema(block_levels)
                if self._take_writer_lock(self._wconn):
                    with self._wconn.transaction():  # only the writer changes them
                        self._set_rollups(self._wconn, rollups)
                else:
                    # a control room: the recorder service writes, this viewer only reads
                    log.warning(
                        "history: another recorder writes to %s (schema %s); reading only",
                        self.where,
                        self.schema,
                    )
                    self._wconn.close()
                    self._wconn = None
                    self.writable = False
                    self.read_only_reason = "another recorder writes there"
            elif not self._schema_exists():
                raise HistoryDatabaseError(
                    f"history database {self.where}: no TwinViewer history in schema "
                    f"{self.schema!r} (nothing recorded there yet)"
                )
            self.levels = self._read_levels()
            self._load_sensors()
            if self.writable:
                self._load_running_state()
        except BaseException:
            self._close_connections()
            raise
        self._thread: threading.Thread | None = None
        if self.writable and writer_thread:
            self._thread = threading.Thread(target=self._writer, name="history-pg", daemon=True)
            self._thread.start()

    @classmethod
    def open(
        cls,
        url: str,
        sensor_ids: Sequence[str],
        *,
        retention: float | None = None,
        flush_interval: float = 1.0,
        writer: bool = True,
        rollups: Sequence[tuple[float, float | None]] | None = None,
    ) -> PostgresHistoryStore:
        return cls(
            url,
            sensor_ids,
            retention=retention,
            flush_interval=flush_interval,
            writer=writer,
            rollups=rollups,
        )

    def stats(self) -> dict[str, Any]:
        with self._query() as conn:
            row = conn.execute(self._sql("SELECT samples FROM {st}", st="state")).fetchone()
            samples = int(row[0]) if row else 0
            names = [
                f'"{self.schema}".twinviewer_{n}'
                for n in (
                    "state",
                    "sensors",
                    "samples",
                    "chunks",
                    "tail",
                    "late",
                    "keyframes",
                    "blocks",
                    "gaps",
                )
            ]
            size = conn.execute(
                "SELECT sum(pg_total_relation_size(to_regclass(x))) FROM unnest(%s::text[]) x",
                (names,),
            ).fetchone()
            nbytes = int(size[0]) if size and size[0] is not None else 0
            if self.timescale:
                try:
                    hs = conn.execute(
                        "SELECT hypertable_size(%s::regclass)", (names[2],)
                    ).fetchone()
                    if hs and hs[0] is not None:
                        nbytes += int(hs[0])
                except self._psycopg.Error:
                    pass
            late = conn.execute(self._sql("SELECT count(*) FROM {la}", la="late")).fetchone()
            held = self._time_range(conn)
            with_rollups = self._held_range(conn)
            gap_count, gap_samples = self._gap_totals(conn)
        return {
            "url": self.where,
            "schema": self.schema,
            "samples": samples,
            "late_samples": int(late[0]) if late else 0,
            "sensors": self.n_store,
            "bytes": nbytes,
            "bytes_per_sample": nbytes / samples if samples else float("nan"),
            "time_range": held,
            # roll-ups: widths and retentions; what they and the raw data hold together
            "rollups": [
                {
                    "width": r.width,
                    "retention_days": None if r.retention is None else r.retention / 86400.0,
                }
                for r in self.rollups
            ],
            "time_range_with_rollups": with_rollups,
            "buffered": self._buf_rows,
            "rejected": self.rejected,
            "timescaledb": self.timescale,
            "writer": self.writable,
            "read_only_reason": self.read_only_reason,
            "dropped": self.dropped,
            "gaps": gap_count,
            "gap_samples": gap_samples,
            "gaps_pending": len(self._pending_gaps),
        }

    def _accepts_writes(self) -> bool:
        """True if this store writes; False if another recorder holds the schema (what is
        handed to it is dropped, and counted by the caller). Raises when closed or opened
        read-only."""
        if self._closed:
            raise RuntimeError("history store is closed")
        if not self.writable:
            if self.read_only_reason == "opened read-only":
                raise RuntimeError(f"history store {self.where} is open read-only")
            return False
        return True

    # -- gaps ----------------------------------------------------------------------------------

    def add_gaps(self, gaps: Sequence[Gap]) -> None:
        """Record data-quality gaps, committed before this returns (module docstring: why at
        once); while the database is away they wait for the writer's next flush. Thread-safe."""
        if not gaps:
            return
        if not self._accepts_writes():
            self.dropped_gaps += len(gaps)  # the recorder that holds the store records these
            return
        with self._buf_lock:
            if self._pending_gaps:  # behind earlier ones that wait: keep the order
                self._pending_gaps.extend(gaps)
                self._wake.set()
                return
        try:
            with self._query() as conn, conn.transaction():
                self.insert_gaps(conn, gaps)
        except (self._psycopg.Error, HistoryDatabaseError) as exc:
            log.warning(
                "history: %d gap(s) not recorded in %s yet (%s); retrying with the next flush",
                len(gaps),
                self.where,
                self._clean(exc),
            )
            with self._buf_lock:
                self._pending_gaps.extend(gaps)
            self._wake.set()

    def insert_gaps(self, conn: psycopg.Connection, gaps: Sequence[Gap]) -> None:
        """Write ``gaps`` inside the caller's transaction on ``conn`` (the spool's transfer
        writes them with the samples and its position, atomically)."""
        with conn.cursor() as cur:
            cur.executemany(
                self._sql(
                    "INSERT INTO {ga} (source, sensors, t_start, t_end, missing, cause, exact, "
                    "detail) VALUES (%s, %s::text[], %s, %s, %s, %s, %s, %s)",
                    ga="gaps",
                ),
                [
                    (
                        g.source,
                        list(g.sensors),
                        g.start,
                        g.end,
                        g.missing,
                        g.cause,
                        g.exact,
                        g.detail,
                    )
                    for g in gaps
                ],
            )

    # -- writing -------------------------------------------------------------------------------

    def append(
        self,
        batch: SampleBatch,
        arrival: NDArray[np.float64] | None = None,
        quality: NDArray[np.uint8] | None = None,
    ) -> None:
        """Buffer a batch (project sensor indices). Cheap; the writer thread makes it durable."""
        n = len(batch)
        if n == 0:
            return
        if not self._accepts_writes():
            self.dropped += n  # the recorder that holds the store records these
            return
        rows, bad = batch_rows(batch, self._proj_to_store, arrival, quality)
        with self._buf_lock:
            self.rejected += bad
            self._buf.append(rows)
            self._buf_rows += len(rows[1])
            big = self._buf_rows >= FLUSH_SAMPLES
        if big:
            self._wake.set()
            if self._failing:  # the database is away: keep the newest, never block the caller
                with self._buf_lock:
                    while self._buf_rows > MAX_BUFFERED and len(self._buf) > 1:
                        gone = self._buf.pop(0)
                        self._buf_rows -= len(gone[1])
                        self.dropped += len(gone[1])
                return
            # back-pressure: a producer faster than the database waits instead of filling memory
            while self._buf_rows > MAX_BUFFERED and self._thread is not None and not self._closed:
                _time.sleep(0.002)

    def _writer(self) -> None:
        while not self._closed:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            if self._closed:
                break
            try:
                self.flush()
            except Exception as exc:  # keep recording; the buffer is kept for the next attempt
                now = _time.monotonic()
                if not self._failing:
                    log.exception("history: flush to %s failed; retrying every second", self.where)
                    self._failing = now
                elif now - self._failing > 30.0:  # rate-limited while the database is away
                    log.warning("history: flush to %s still failing: %s", self.where, exc)
                    self._failing = now
                continue
            if self._failing:
                log.info("history: flushing to %s again", self.where)
                self._failing = 0.0

    def _load_running_state(self) -> None:
        """The state at the end of the main rows, for the next keyframes (writer only)."""
        conn = self._wconn
        assert conn is not None
        row = conn.execute(
            self._sql("SELECT max_main, rows_since_kf FROM {st}", st="state")
        ).fetchone()
        assert row is not None
        self._max_main = float(row[0])
        self._rows_since_kf = int(row[1])
        self._run_value, self._run_time = self._state_at(conn, np.inf, main_only=True)
        self._load_rollup_state(conn)

    def flush(
        self,
        now: float | None = None,
        *,
        in_transaction: Callable[[psycopg.Connection], None] | None = None,
    ) -> None:
        """Write everything buffered (and gaps waiting for the database) in one transaction;
        apply retention. ``in_transaction(conn)`` runs last inside that transaction (the
        recorder's spool records there how far the database holds it: pg_spool.py)."""
        if not self.writable:
            return
        with self._flush_lock:
            with self._buf_lock:
                buf, self._buf, self._buf_rows = self._buf, [], 0
                pending, self._pending_gaps = self._pending_gaps, []
            saved = (self._max_main, self._rows_since_kf, self._run_value, self._run_time)
            try:
                conn = self._wconn
                if conn is None or conn.closed or conn.broken:
                    if conn is not None:
                        conn.close()
                    conn = self._wconn = self._connect()
                    if not self._take_writer_lock(conn):
                        raise HistoryDatabaseError(
                            f"history database {self.where}: another recorder took over"
                        )
                    self._load_running_state()  # a lost COMMIT may have gone through
                    saved = (self._max_main, self._rows_since_kf, self._run_value, self._run_time)
                with conn.transaction():
                    if pending:
                        self.insert_gaps(conn, pending)
                    if buf:
                        self._write(conn, buf)
                    clock = _time.time() if now is None else now
                    if self.retention is not None:
                        self._apply_retention(conn, clock - self.retention)
                    if self.rollups:
                        self._rollup_retention(conn, clock)
                    if in_transaction is not None:
                        in_transaction(conn)
            except BaseException:
                self._max_main, self._rows_since_kf, self._run_value, self._run_time = saved
                with self._buf_lock:  # put it back in front, in order
                    self._buf[:0] = buf
                    self._buf_rows += sum(len(b[1]) for b in buf)
                    self._pending_gaps[:0] = pending
                raise

    def discard_buffer(self) -> int:
        """Drop what is buffered and not flushed (samples and waiting gaps); how many samples.
        For a recorder that re-sends from its spool after a failed flush (pg_spool.py)."""
        with self._buf_lock:
            n, self._buf, self._buf_rows, self._pending_gaps = self._buf_rows, [], 0, []
        return n

    def _write(
        self,
        conn: psycopg.Connection,
        buf: list[tuple[NDArray[np.int64], F64, F64, F64, NDArray[np.uint8]]],
    ) -> None:
        s = np.concatenate([b[0] for b in buf])
        t = np.concatenate([b[1] for b in buf])
        v = np.concatenate([b[2] for b in buf])
        delay = (np.concatenate([b[3] for b in buf]) - t).astype(np.float32)
        q = np.concatenate([b[4] for b in buf]).astype(np.int16)
        n = len(t)
        row = conn.execute(
            self._sql(
                "UPDATE {st} SET next_seq = next_seq + %s, samples = samples + %s "
                "RETURNING next_seq - %s",
                st="state",
            ),
            (n, n, n),
        ).fetchone()
        assert row is not None
        seq = int(row[0]) + np.arange(n, dtype=np.int64)  # the append order
        if n > 1 and not bool(np.all(t[1:] >= t[:-1])):
            order = np.argsort(t, kind="stable")  # equal times keep their append order
            s, t, v, delay, q, seq = (
                s[order],
                t[order],
                v[order],
                delay[order],
                q[order],
                seq[order],
            )
        split = int(np.searchsorted(t, self._max_main, "left"))  # rows before are late
        cols = {"time": t, "seq": seq, "value": v, "sensor": s, "delay": delay, "quality": q}
        if split > 0:
            self._copy_in(conn, "late", SAMPLE_FIELDS, {k: c[:split] for k, c in cols.items()})
        if split < n:
            main = {k: c[split:] for k, c in cols.items()}
            self._write_keyframes(conn, main)
            prev_max, self._max_main = self._max_main, float(t[-1])
            if self.layout == "blocks":
                self._write_block_layout(conn, main, float(t[0]), prev_max)
            else:
                self._copy_in(conn, "samples", SAMPLE_FIELDS, main)
        elif self.layout == "blocks":
            conn.execute(
                self._sql("UPDATE {st} SET t_min = least(t_min, %s)", st="state"), (float(t[0]),)
            )
        conn.execute(
            self._sql("UPDATE {st} SET max_main = %s, rows_since_kf = %s", st="state"),
            (self._max_main, min(self._rows_since_kf, 1 << 62)),
        )
        if self.layout == "blocks":  # main rows: summarised when their block closes
            self._upsert_summaries(conn, s[:split], t[:split], v[:split])
        else:
            self._upsert_summaries(conn, s, t, v)

    def _write_keyframes(self, conn: psycopg.Connection, main: dict[str, np.ndarray]) -> None:
        """A keyframe (the state after a row) every ``max(2,000, sensors)`` main rows."""
        n_st = self.n_store
        # copies: a failed transaction restores the state from before it
        run_v, run_t = self._run_value.copy(), self._run_time.copy()
        if len(run_v) < n_st:
            pad = n_st - len(run_v)
            run_v = np.r_[run_v, np.full(pad, np.nan)]
            run_t = np.r_[run_t, np.full(pad, np.nan)]
        per = (
            pg_blocks.BLOCK_KEYFRAME_ROWS_PER_SENSOR
            if self.layout == "blocks"
            else KEYFRAME_ROWS_PER_SENSOR
        )
        every = max(KEYFRAME_MIN_ROWS, per * n_st)
        s, t, v, seq = main["sensor"], main["time"], main["value"], main["seq"]
        n = len(t)
        since = self._rows_since_kf
        # a keyframe after row i once since + i + 1 reaches every, then every `every` rows
        first = max(0, every - since - 1) if since < every else 0
        cuts = list(range(first, n, every))
        keys: list[tuple[float, int, bytes, bytes]] = []
        a = 0
        for i in cuts:
            sens, last = last_per_sensor(s[a : i + 1])
            run_v[sens] = v[a + last]
            run_t[sens] = t[a + last]
            keys.append((float(t[i]), int(seq[i]), run_v.tobytes(), run_t.tobytes()))
            a = i + 1
        sens, last = last_per_sensor(s[a:])
        run_v[sens] = v[a + last]
        run_t[sens] = t[a + last]
        self._rows_since_kf = (n - 1 - cuts[-1]) if cuts else since + n
        self._run_value, self._run_time = run_v, run_t
        if keys:
            stmt = self._sql(
                "COPY {kf} (kt, seq, n, value, time) FROM STDIN (FORMAT BINARY)", kf="keyframes"
            )
            with conn.cursor() as cur, cur.copy(stmt) as cp:
                cp.set_types(["float8", "int8", "int4", "bytea", "bytea"])
                for kt, kseq, vb, tb in keys:
                    cp.write_row((kt, kseq, n_st, vb, tb))

    def _apply_retention(self, conn: psycopg.Connection, cutoff: float) -> None:
        gone = 0
        if self.layout == "blocks":
            gone = self._block_retention(conn, cutoff)
        else:
            for table in ("samples", "late"):
                cur = conn.execute(self._sql("DELETE FROM {x} WHERE time < %s", x=table), (cutoff,))
                gone += max(cur.rowcount, 0)
        cur = conn.execute(self._sql("DELETE FROM {ga} WHERE t_end < %s", ga="gaps"), (cutoff,))
        if cur.rowcount > 0:
            log.info(
                "history: retention deleted %d gap(s) that ended before %.0f", cur.rowcount, cutoff
            )
        self._summary_retention(conn, [(i, w, cutoff) for i, w in enumerate(self.levels)])
        if not gone:
            return
        conn.execute(self._sql("DELETE FROM {kf} WHERE kt < %s", kf="keyframes"), (cutoff,))
        conn.execute(self._sql("UPDATE {st} SET samples = samples - %s", st="state"), (gone,))
        log.info("history: retention deleted %d sample(s) older than %.0f", gone, cutoff)

    # -- closing -------------------------------------------------------------------------------

    def _close_connections(self) -> None:
        for conn in (self._wconn, self._qconn):
            if conn is not None and not conn.closed:
                conn.close()
        self._wconn = None
        self._qconn = None

    def close(self) -> None:
        """Flush and stop the writer thread. Queries afterwards use a short-lived connection."""
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        try:
            if self.writable:
                self.flush()
        finally:
            with self._lock:
                self._close_connections()

    def __enter__(self) -> PostgresHistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
