"""The history store in PostgreSQL: one recorder writes, any number of viewers read.

:class:`PostgresHistoryStore` has the public API and the semantics of the embedded
:class:`~twinviewer.history.store.HistoryStore` (``append / at / at_store / series / read /
time_range / stats / flush / close``); it is selected by a ``postgresql://`` URL in the project
(``history.url``) or on the command line (``--history URL``). psycopg 3 is an optional
dependency (``pip install 'twinviewer[postgres]'``).

Tables (in the schema named by ``?schema=NAME`` in the URL, default ``public``; the option is
taken out of the URL before connecting)::

    twinviewer_state      one row: format version, next append rank, newest main time, counts
    twinviewer_sensors    idx -> sensor id (identity is the id, so reordered projects keep history)
    twinviewer_samples    the *main* rows: time, seq (global append rank), value, sensor, delay,
                          quality; time-ordered in seq order; indexes (sensor, time) INCLUDE
                          (seq, value) and (time)
    twinviewer_late       rows older than the main data already written (same columns, indexes)
    twinviewer_keyframes  the full state (value and time of every sensor, two float64 arrays)
    twinviewer_blocks     per sensor min / max / last over time-aligned blocks, several widths

Why this shape
--------------
* **Writes.** ``append`` only maps project to store indices and buffers the columns. A writer
  thread flushes at least once per second in one transaction: it takes a range of append ranks
  (``seq``) from the state row, sorts the buffer stably by time and sends it with one binary
  ``COPY`` (the rows are packed by numpy, no per-row Python), plus keyframes, block upserts and
  retention. A flush is atomic: readers see all of it or none of it. One writer per database
  and schema (the recorder); any number of read-only stores (``writer=False``) beside it.
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
  every flush (late rows included, so a block is exact whatever the arrival order). Blocks
  partition time, so bucket edges snap to block edges and every bucket's min/max is exact:
  spikes are never hidden.
* **Retention** deletes, at flush time, rows older than ``now - retention``, their keyframes and
  the blocks that end before the cutoff.
* **TimescaleDB**: where the extension is available (and may be created) ``samples`` becomes a
  hypertable chunked by append rank (``seq``), which keeps chunks time-ordered for main rows.
  Without it, plain tables and the indexes above.
"""

from __future__ import annotations

import json
import logging
import threading
import time as _time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np
from numpy.typing import NDArray

from twinviewer.core.samples import SampleBatch
from twinviewer.history.rows import batch_rows, raw_buckets

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

F64 = NDArray[np.float64]

VERSION = 1
FLUSH_SAMPLES = 1_000_000
MAX_BUFFERED = 8_000_000
KEYFRAME_MIN_ROWS = 2_000
KEYFRAME_ROWS_PER_SENSOR = 1  # 10k sensors: at(t) p95 ~8 ms (2: ~16 ms)
RAW_ROWS_LIMIT = 50_000
READ_CHUNK = 262_144  # samples per row of read()'s answer
BLOCK_LEVELS = (10.0, 100.0, 1_000.0, 10_000.0, 100_000.0)  # block widths in seconds
HYPERTABLE_CHUNK_ROWS = 50_000_000
INSTALL_HINT = "pip install 'twinviewer[postgres]'  (or: pip install 'psycopg[binary]>=3.1')"

_PGCOPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8
_TRAILER = b"\xff\xff"


class HistoryDatabaseError(ConnectionError):
    """The database cannot be reached or holds no usable history (message names the URL)."""


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:
        raise ImportError(
            f"the PostgreSQL history backend needs psycopg 3: {INSTALL_HINT}"
        ) from exc
    return psycopg


def redact_url(url: str) -> str:
    """The URL without its password (for messages and summaries)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}@{host}" if user else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def split_url(url: str) -> tuple[str, str]:
    """``(conninfo URL for libpq, schema)``: the ``schema`` query option is ours, not libpq's."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("postgresql", "postgres"):
        raise ValueError(
            f"history URL {redact_url(url)!r}: expected postgresql://user:password@host/db"
        )
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = "public"
    rest = []
    for k, v in query:
        if k == "schema":
            schema = v or "public"
        else:
            rest.append((k, v))
    if not any(k == "connect_timeout" for k, _ in rest):
        rest.append(("connect_timeout", "5"))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(rest), "")), schema


# -- binary COPY in, packed by numpy -----------------------------------------------------------


def _copy_dtype(fields: Sequence[tuple[str, str]]) -> np.dtype:
    """The packed big-endian row of a binary COPY with fixed-width, non-NULL fields."""
    spec: list[tuple[str, str]] = [("_n", ">i2")]
    for name, code in fields:
        spec += [(f"_l_{name}", ">i4"), (name, ">" + code)]
    return np.dtype(spec)


def _pack_copy(fields: Sequence[tuple[str, str]], columns: dict[str, np.ndarray]) -> bytes:
    dt = _copy_dtype(fields)
    n = len(next(iter(columns.values())))
    rows = np.empty(n, dt)
    rows["_n"] = len(fields)
    for name, code in fields:
        rows[f"_l_{name}"] = np.dtype(code).itemsize
        rows[name] = columns[name]
    return _PGCOPY_HEADER + rows.tobytes() + _TRAILER


_SEND = {
    "i2": "int2send",
    "i4": "int4send",
    "i8": "int8send",
    "f4": "float4send",
    "f8": "float8send",
}
SAMPLE_FIELDS = [
    ("time", "f8"),
    ("seq", "i8"),
    ("value", "f8"),
    ("sensor", "i4"),
    ("delay", "f4"),
    ("quality", "i2"),
]
STATE_FIELDS = [("sensor", "i4"), ("value", "f8"), ("time", "f8")]
SERIES_FIELDS = [("time", "f8"), ("value", "f8")]
BLOCK_FIELDS = [
    ("level", "i2"),
    ("sensor", "i4"),
    ("b", "i8"),
    ("n", "i8"),
    ("t_first", "f8"),
    ("t_last", "f8"),
    ("vmin", "f8"),
    ("vmax", "f8"),
    ("vlast", "f8"),
]


def last_per_sensor(sensor: NDArray[Any]) -> tuple[NDArray[Any], NDArray[np.intp]]:
    """The distinct sensors of ``sensor`` and the index of the last row of each."""
    if len(sensor) == 0:
        return sensor[:0], np.zeros(0, np.intp)
    uniq, first_rev = np.unique(sensor[::-1], return_index=True)
    return uniq, (len(sensor) - 1 - first_rev).astype(np.intp)


def _blocks_of(level: int, width: float, s: NDArray[Any], t: F64, v: F64) -> dict[str, np.ndarray]:
    """Per (sensor, block) aggregates of one flush's rows, which come sorted by sensor, then
    time, then append order (so a block's rows are consecutive and its last row is last)."""
    b = np.floor(t / width).astype(np.int64)
    n = len(s)
    new = np.ones(n, bool)
    new[1:] = (s[1:] != s[:-1]) | (b[1:] != b[:-1])
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], n) - 1
    with np.errstate(invalid="ignore"):
        vmin = np.fmin.reduceat(v, starts)
        vmax = np.fmax.reduceat(v, starts)
    return {
        "level": np.full(len(starts), level, np.int16),
        "sensor": s[starts].astype(np.int32),
        "b": b[starts],
        "n": np.diff(np.append(starts, n)).astype(np.int64),
        "t_first": t[starts],
        "t_last": t[ends],
        "vmin": vmin,
        "vmax": vmax,
        "vlast": v[ends],
    }


# -- the store ---------------------------------------------------------------------------------


class PostgresHistoryStore:
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
    ) -> None:
        self._psycopg = _psycopg()
        self.url = url
        self.where = redact_url(url)
        self.conninfo, self.schema = split_url(url)
        self.retention = retention
        self.flush_interval = flush_interval
        self.writable = writer
        self.raw_rows_limit = RAW_ROWS_LIMIT
        self.rejected = 0
        self.dropped = 0  # appended to a store that fell back to reading (another recorder)
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
            if writer:
                self._wconn = self._connect()
                self._create_schema(block_levels)
                if not self._take_writer_lock(self._wconn):
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
    ) -> PostgresHistoryStore:
        return cls(
            url, sensor_ids, retention=retention, flush_interval=flush_interval, writer=writer
        )

    # -- connections ---------------------------------------------------------------------------

    def _connect(self) -> psycopg.Connection:
        pg = self._psycopg
        try:
            return pg.connect(self.conninfo, autocommit=True)
        except pg.Error as exc:
            raise HistoryDatabaseError(
                f"history database {self.where}: cannot connect: {self._clean(exc)}"
            ) from None

    def _take_writer_lock(self, conn: psycopg.Connection) -> bool:
        """One writer per schema: a session advisory lock, released with its connection."""
        row = conn.execute(
            "SELECT pg_try_advisory_lock(hashtext(%s))", (f"twinviewer-writer:{self.schema}",)
        ).fetchone()
        return bool(row and row[0])

    def _clean(self, exc: BaseException) -> str:
        text = " ".join(str(exc).split())
        pw = urlsplit(self.url).password
        return text.replace(pw, "***") if pw else text

    @contextmanager
    def _query(self) -> Iterator[psycopg.Connection]:
        """The query connection under the lock; after :meth:`close`, a short-lived one."""
        with self._lock:
            if self._qconn is not None and self._qconn.broken and not self._closed:
                log.warning("history: connection to %s lost; reconnecting", self.where)
                self._qconn.close()
                self._qconn = self._connect()
            if self._qconn is not None and not self._qconn.closed:
                yield self._qconn
                return
            conn = self._connect()
            try:
                yield conn
            finally:
                conn.close()

    def _t(self, name: str) -> Any:
        """A table name, schema-qualified (a psycopg ``Identifier``)."""
        return self._psycopg.sql.Identifier(self.schema, f"twinviewer_{name}")

    def _sql(self, text: str, **tables: str) -> Any:
        names = {k: self._t(v) for k, v in tables.items()}
        return self._psycopg.sql.SQL(text).format(**names)

    def _fetch_columns(
        self,
        conn: psycopg.Connection,
        query: Any,
        params: Sequence[Any],
        fields: Sequence[tuple[str, str]],
        order: str | None = None,
    ) -> dict[str, np.ndarray]:
        """The columns of ``query`` as numpy arrays, each sent by the server as one ``bytea``
        (``string_agg`` of the binary send form): one row crosses the wire, no per-row Python.
        (A binary COPY sends one message per row: 10,000 rows cost milliseconds in Python.)"""
        pg = self._psycopg
        by = pg.sql.SQL(f" ORDER BY {order}" if order else "")
        aggs = pg.sql.SQL(", ").join(
            pg.sql.SQL("string_agg({}({}), ''::bytea{})").format(
                pg.sql.SQL(_SEND[code]), pg.sql.Identifier(name), by
            )
            for name, code in fields
        )
        row = conn.execute(
            pg.sql.SQL("SELECT {} FROM ({}) r").format(aggs, query), params
        ).fetchone()
        out: dict[str, np.ndarray] = {}
        for (name, code), blob in zip(fields, row or [None] * len(fields), strict=True):
            out[name] = np.frombuffer(blob or b"", ">" + code).astype("<" + code)
        return out

    # -- schema --------------------------------------------------------------------------------

    def _schema_exists(self) -> bool:
        with self._query() as conn:
            row = conn.execute(
                "SELECT to_regclass(%s)", (f'"{self.schema}".twinviewer_state',)
            ).fetchone()
        return bool(row and row[0] is not None)

    def _create_schema(self, levels: Sequence[float] | None) -> None:
        conn = self._wconn
        assert conn is not None
        pg = self._psycopg
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"twv:{self.schema}",))
            conn.execute(
                pg.sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(pg.sql.Identifier(self.schema))
            )
            exists = conn.execute(
                "SELECT to_regclass(%s)", (f'"{self.schema}".twinviewer_state',)
            ).fetchone()
            if exists and exists[0] is not None:
                row = conn.execute(self._sql("SELECT version FROM {st}", st="state")).fetchone()
                if row is None or int(row[0]) != VERSION:
                    raise HistoryDatabaseError(
                        f"history database {self.where}: schema {self.schema!r} holds history "
                        f"format {row[0] if row else '?'}, this TwinViewer reads {VERSION}"
                    )
                self.timescale = self._is_hypertable(conn)
                return
            widths = [float(w) for w in (levels or BLOCK_LEVELS)]
            cols = (
                "time double precision NOT NULL, seq bigint NOT NULL, "
                "value double precision NOT NULL, sensor integer NOT NULL, delay real NOT NULL, "
                "quality smallint NOT NULL"
            )
            for stmt in (
                "CREATE TABLE {st} (one boolean PRIMARY KEY DEFAULT true CHECK (one), "
                "version integer NOT NULL, next_seq bigint NOT NULL, "
                "max_main double precision NOT NULL, rows_since_kf bigint NOT NULL, "
                "samples bigint NOT NULL, levels text NOT NULL)",
                "CREATE TABLE {se} (idx integer PRIMARY KEY, id text NOT NULL UNIQUE)",
                f"CREATE TABLE {{sa}} ({cols})",
                f"CREATE TABLE {{la}} ({cols})",
                "CREATE TABLE {kf} (kt double precision NOT NULL, seq bigint NOT NULL, "
                "n integer NOT NULL, value bytea NOT NULL, time bytea NOT NULL, "
                "PRIMARY KEY (kt, seq))",
                # keyframes are read whole and hardly compress: skip pglz on the way out
                "ALTER TABLE {kf} ALTER COLUMN value SET STORAGE EXTERNAL, "
                "ALTER COLUMN time SET STORAGE EXTERNAL",
                "CREATE TABLE {bl} (level smallint NOT NULL, sensor integer NOT NULL, "
                "b bigint NOT NULL, n bigint NOT NULL, t_first double precision NOT NULL, "
                "t_last double precision NOT NULL, vmin double precision NOT NULL, "
                "vmax double precision NOT NULL, vlast double precision NOT NULL, "
                "PRIMARY KEY (level, sensor, b))",
                # covering: a sensor's rows are read from the index alone (index-only scans
                # once vacuumed), not from one heap page per row
                "CREATE INDEX ON {sa} (sensor, time) INCLUDE (seq, value)",
                "CREATE INDEX ON {sa} (time)",
                "CREATE INDEX ON {la} (sensor, time)",
                "CREATE INDEX ON {la} (time)",
            ):
                conn.execute(
                    self._sql(
                        stmt,
                        st="state",
                        se="sensors",
                        sa="samples",
                        la="late",
                        kf="keyframes",
                        bl="blocks",
                    )
                )
            conn.execute(
                self._sql(
                    "INSERT INTO {st} (version, next_seq, max_main, rows_since_kf, samples, "
                    "levels) VALUES (%s, 1, '-Infinity', %s, 0, %s)",
                    st="state",
                ),
                (VERSION, 1 << 62, json.dumps(widths)),
            )
            self.timescale = self._try_hypertable(conn)
        log.info(
            "history: created the tables in %s (schema %s%s)",
            self.where,
            self.schema,
            ", TimescaleDB hypertable" if self.timescale else "",
        )

    def _try_hypertable(self, conn: psycopg.Connection) -> bool:
        row = conn.execute(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'"
        ).fetchone()
        if row is None:
            return False
        try:
            with conn.transaction():  # a savepoint: failure keeps the plain tables
                conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
                conn.execute(
                    "SELECT create_hypertable(%s::regclass, 'seq', "
                    "chunk_time_interval => %s::bigint, migrate_data => true)",
                    (f'"{self.schema}".twinviewer_samples', HYPERTABLE_CHUNK_ROWS),
                )
            return True
        except self._psycopg.Error as exc:
            log.warning("history: TimescaleDB present but not used (%s)", self._clean(exc))
            return False

    def _is_hypertable(self, conn: psycopg.Connection) -> bool:
        if (
            conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
            is None
        ):
            return False
        try:
            with conn.transaction():  # a savepoint: an error here must not end the caller's
                row = conn.execute(
                    "SELECT 1 FROM timescaledb_information.hypertables "
                    "WHERE hypertable_schema = %s AND hypertable_name = 'twinviewer_samples'",
                    (self.schema,),
                ).fetchone()
        except self._psycopg.Error:
            return False
        return row is not None

    def _read_levels(self) -> tuple[float, ...]:
        with self._query() as conn:
            row = conn.execute(self._sql("SELECT levels FROM {st}", st="state")).fetchone()
        return tuple(float(w) for w in json.loads(row[0])) if row else BLOCK_LEVELS

    # -- sensors -------------------------------------------------------------------------------

    def _load_sensors(self) -> None:
        """Map project sensors to store indices; a writer adds the ids the store lacks."""
        ids = self._project_ids
        if self._wconn is not None:
            conn = self._wconn
            with conn.transaction():
                conn.execute(self._sql("LOCK TABLE {se} IN EXCLUSIVE MODE", se="sensors"))
                rows = conn.execute(self._sql("SELECT idx, id FROM {se}", se="sensors")).fetchall()
                known = {sid: int(i) for i, sid in rows}
                new = [sid for sid in dict.fromkeys(ids) if sid not in known]
                if new:
                    start = max(known.values(), default=-1) + 1
                    with conn.cursor() as cur:
                        cur.executemany(
                            self._sql("INSERT INTO {se} (idx, id) VALUES (%s, %s)", se="sensors"),
                            [(start + k, sid) for k, sid in enumerate(new)],
                        )
                    for k, sid in enumerate(new):
                        known[sid] = start + k
        else:
            with self._query() as conn:
                rows = conn.execute(self._sql("SELECT idx, id FROM {se}", se="sensors")).fetchall()
            known = {sid: int(i) for i, sid in rows}
        n = max(known.values(), default=-1) + 1
        store_ids = [""] * n
        for sid, i in known.items():
            store_ids[i] = sid
        self._ids = store_ids
        # read-only: a project sensor the store does not know yet has no data (-1)
        self._proj_to_store = np.array([known.get(s, -1) for s in ids], np.int64)
        self._sensors_checked = _time.monotonic()

    def _refresh_sensors(self) -> None:
        """Read-only stores pick up sensors the recorder added since (at most every 2 s)."""
        if self._wconn is not None or not (self._proj_to_store < 0).any():
            return
        if _time.monotonic() - self._sensors_checked < 2.0:
            return
        self._load_sensors()

    @property
    def n_store(self) -> int:
        return len(self._ids)

    @property
    def sensor_ids(self) -> list[str]:
        """Every sensor id the store knows, in store-index order."""
        return list(self._ids)

    # -- queries -------------------------------------------------------------------------------

    def _state_at(
        self, conn: psycopg.Connection, t: float, main_only: bool = False
    ) -> tuple[F64, F64]:
        n = self.n_store
        value = np.full(n, np.nan)
        when = np.full(n, np.nan)
        row = conn.execute(
            self._sql(
                "SELECT kt, n, value, time FROM {kf} WHERE kt <= %s ORDER BY kt DESC, seq DESC "
                "LIMIT 1",
                kf="keyframes",
            ),
            (t,),
        ).fetchone()
        lo = -np.inf
        if row is not None:
            lo = float(row[0])
            k = min(int(row[1]), n)
            value[:k] = np.frombuffer(row[2], "<f8")[:k]
            when[:k] = np.frombuffer(row[3], "<f8")[:k]
        rep = self._fetch_columns(
            conn,
            self._sql(
                "SELECT DISTINCT ON (sensor) sensor, value, time FROM {sa} "
                "WHERE time >= %s AND time <= %s ORDER BY sensor, time DESC, seq DESC",
                sa="samples",
            ),
            (lo, t),
            STATE_FIELDS,
        )
        s = rep["sensor"].astype(np.int64)
        ok = s < n
        value[s[ok]] = rep["value"][ok]
        when[s[ok]] = rep["time"][ok]
        if main_only:
            return value, when
        late = self._fetch_columns(
            conn,
            self._sql(
                "SELECT DISTINCT ON (sensor) sensor, value, time FROM {la} "
                "WHERE time <= %s ORDER BY sensor, time DESC, seq DESC",
                la="late",
            ),
            (t,),
            STATE_FIELDS,
        )
        if len(late["sensor"]):
            s = late["sensor"].astype(np.int64)
            ok = s < n
            s, lt, lv = s[ok], late["time"][ok], late["value"][ok]
            cur = when[s]
            take = np.isnan(cur) | (lt >= cur)  # a late row wins a tie: appended after
            value[s[take]] = lv[take]
            when[s[take]] = lt[take]
        return value, when

    def at_store(self, t: float) -> tuple[F64, F64]:
        """Value and time of every *store* sensor at ``t`` (latest at or before; NaN if none)."""
        with self._query() as conn:
            return self._state_at(conn, float(t))

    def at(self, t: float) -> tuple[F64, F64]:
        """``(value, time)`` of every *project* sensor: the sample with the greatest time <= t
        (ties: the one appended last). NaN where a sensor has no sample at or before t."""
        self._refresh_sensors()
        value, when = self.at_store(t)
        idx = self._proj_to_store
        known = idx >= 0
        v = np.full(len(idx), np.nan)
        w = np.full(len(idx), np.nan)
        v[known] = value[idx[known]]
        w[known] = when[idx[known]]
        return v, w

    def neighbour(
        self, t: float, direction: int, sensors: Sequence[int] | None = None
    ) -> float | None:
        """The time of the nearest sample after (``direction > 0``) or before ``t`` of the given
        project sensors (default: any sensor); None when there is none. One index probe per
        table (and per sensor, when given)."""
        fwd = direction > 0
        op, agg, order = (">", "min", "ASC") if fwd else ("<", "max", "DESC")
        with self._query() as conn:
            if sensors is None:
                q = (
                    f"SELECT {agg}(x) FROM ((SELECT time AS x FROM {{sa}} WHERE time {op} %s "
                    f"ORDER BY time {order} LIMIT 1) UNION ALL (SELECT time FROM {{la}} "
                    f"WHERE time {op} %s ORDER BY time {order} LIMIT 1)) r"
                )
                params: tuple[Any, ...] = (float(t), float(t))
            else:
                idx = self._proj_to_store[np.asarray(list(sensors), np.int64)]
                ids = [int(i) for i in idx if i >= 0]
                if not ids:
                    return None
                q = (
                    f"SELECT {agg}(x) FROM unnest(%s::int[]) s(id), LATERAL ("
                    f"(SELECT time AS x FROM {{sa}} WHERE sensor = s.id AND time {op} %s "
                    f"ORDER BY time {order} LIMIT 1) UNION ALL (SELECT time FROM {{la}} "
                    f"WHERE sensor = s.id AND time {op} %s ORDER BY time {order} LIMIT 1)) r"
                )
                params = (ids, float(t), float(t))
            row = conn.execute(self._sql(q, sa="samples", la="late"), params).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def series(
        self, sensor_index: int, t0: float, t1: float, pixels: int
    ) -> tuple[F64, F64, F64, F64]:
        """One project sensor over ``[t0, t1]`` for a chart ``pixels`` wide:
        ``(t, vmin, vmax, vlast)``, with the contract of the embedded store.

        Fewer than ``2 * pixels`` samples: the raw samples (``vmin == vmax == vlast``). Else
        buckets, ``t`` their start: bucket i holds the samples with ``t[i] <= time < t[i+1]``
        (the last one up to its last sample) and their exact min, max and last value. Over
        ranges with more than ``raw_rows_limit`` rows the bucket edges snap to the time-aligned
        summary blocks, so the first and the last bucket may reach a little beyond ``[t0, t1]``."""
        self._refresh_sensors()
        s = int(self._proj_to_store[sensor_index])
        pixels = max(1, int(pixels))
        empty = np.zeros(0)
        if s < 0:
            return empty, empty, empty, empty
        t0, t1 = float(t0), float(t1)
        with self._query() as conn:
            if not (np.isfinite(t0) and np.isfinite(t1)):
                held = self._time_range(conn)
                if held is None:
                    return empty, empty, empty, empty
                t0 = max(t0, held[0]) if np.isfinite(t0) else held[0]
                t1 = min(t1, held[1]) if np.isfinite(t1) else held[1]
            if t1 < t0:
                return empty, empty, empty, empty
            rows = self._estimate_rows(conn, s, t0, t1)
            if rows < self.raw_rows_limit:
                return self._series_raw(conn, s, t0, t1, pixels)
            return self._series_blocks(conn, s, t0, t1, pixels)

    def _level_for(self, span: float, per: float) -> int:
        """The coarsest block level with at least ``per`` blocks over ``span`` (else finest)."""
        best = 0
        for i, w in enumerate(self.levels):
            if span / w >= per:
                best = i
        return best

    def _estimate_rows(self, conn: psycopg.Connection, s: int, t0: float, t1: float) -> int:
        lv = self._level_for(t1 - t0, 4)
        w = self.levels[lv]
        row = conn.execute(
            self._sql(
                "SELECT coalesce(sum(n), 0) FROM {bl} WHERE level = %s AND sensor = %s "
                "AND b BETWEEN %s AND %s",
                bl="blocks",
            ),
            (lv, s, int(np.floor(t0 / w)), int(np.floor(t1 / w))),
        ).fetchone()
        return int(row[0]) if row else 0

    def _series_raw(
        self, conn: psycopg.Connection, s: int, t0: float, t1: float, pixels: int
    ) -> tuple[F64, F64, F64, F64]:
        rows = self._fetch_columns(
            conn,
            self._sql(
                "SELECT time, seq, value FROM {sa} WHERE sensor = %s "
                "AND time BETWEEN %s AND %s UNION ALL SELECT time, seq, value FROM {la} "
                "WHERE sensor = %s AND time BETWEEN %s AND %s",
                sa="samples",
                la="late",
            ),
            (s, t0, t1, s, t0, t1),
            SERIES_FIELDS,
            order="time, seq",
        )
        t = rows["time"].astype(np.float64)
        v = rows["value"].astype(np.float64)
        return raw_buckets(t, v, t0, t1, pixels)

    def _series_blocks(
        self, conn: psycopg.Connection, s: int, t0: float, t1: float, pixels: int
    ) -> tuple[F64, F64, F64, F64]:
        lv = self._level_for(t1 - t0, 2 * pixels)
        w = self.levels[lv]
        blk = self._fetch_columns(
            conn,
            self._sql(
                "SELECT b, t_first, vmin, vmax, vlast FROM {bl} "
                "WHERE level = %s AND sensor = %s AND b BETWEEN %s AND %s",
                bl="blocks",
            ),
            (lv, s, int(np.floor(t0 / w)), int(np.floor(t1 / w))),
            [("t_first", "f8"), ("vmin", "f8"), ("vmax", "f8"), ("vlast", "f8")],
            order="b",
        )
        nblk = len(blk["t_first"])
        if nblk == 0:
            empty = np.zeros(0)
            return empty, empty, empty, empty
        group = -(-nblk // pixels)  # at most `pixels` buckets
        starts = np.arange(0, nblk, group)
        bt = blk["t_first"][starts].astype(np.float64)
        bt[0] = min(t0, float(bt[0]))
        ends = np.append(starts[1:], nblk) - 1
        with np.errstate(invalid="ignore"):
            vmin = np.fmin.reduceat(blk["vmin"].astype(np.float64), starts)
            vmax = np.fmax.reduceat(blk["vmax"].astype(np.float64), starts)
        vlast = blk["vlast"][ends].astype(np.float64)
        return bt, vmin, vmax, vlast

    def read(self, t0: float = -np.inf, t1: float = np.inf) -> tuple[NDArray[np.int64], F64, F64]:
        """Every stored sample with ``t0 <= time <= t1`` as ``(store sensor, time, value)``,
        ordered by time, then append order (for export and the alarm log's catch-up).

        The server packs the rows into chunks of ``READ_CHUNK`` samples, one ``bytea`` of
        20-byte records each, so a million samples cross as a few rows, not a million."""
        dt = np.dtype([("sensor", ">i4"), ("time", ">f8"), ("value", ">f8")])
        parts: list[np.ndarray] = []
        with self._query() as conn, conn.cursor() as cur:
            cur.execute(
                self._sql(
                    "SELECT string_agg(int4send(sensor) || float8send(time) || float8send(value), "
                    "''::bytea ORDER BY time, seq) FROM (SELECT sensor, time, seq, value, "
                    "(row_number() OVER (ORDER BY time, seq) - 1) / %s AS chunk FROM "
                    "(SELECT sensor, time, seq, value FROM {sa} WHERE time BETWEEN %s AND %s "
                    "UNION ALL SELECT sensor, time, seq, value FROM {la} "
                    "WHERE time BETWEEN %s AND %s) u) r GROUP BY chunk ORDER BY chunk",
                    sa="samples",
                    la="late",
                ),
                (READ_CHUNK, float(t0), float(t1), float(t0), float(t1)),
            )
            for (blob,) in cur:
                parts.append(np.frombuffer(blob, dt))
        rows = np.concatenate(parts) if parts else np.zeros(0, dt)
        return (
            rows["sensor"].astype(np.int64),
            rows["time"].astype(np.float64),
            rows["value"].astype(np.float64),
        )

    def _time_range(self, conn: psycopg.Connection) -> tuple[float, float] | None:
        row = conn.execute(
            self._sql(
                "SELECT least((SELECT min(time) FROM {sa}), (SELECT min(time) FROM {la})), "
                "greatest((SELECT max(time) FROM {sa}), (SELECT max(time) FROM {la}))",
                sa="samples",
                la="late",
            )
        ).fetchone()
        if row is None or row[0] is None:
            return None
        return float(row[0]), float(row[1])

    def time_range(self) -> tuple[float, float] | None:
        with self._query() as conn:
            return self._time_range(conn)

    def stats(self) -> dict[str, Any]:
        with self._query() as conn:
            row = conn.execute(self._sql("SELECT samples FROM {st}", st="state")).fetchone()
            samples = int(row[0]) if row else 0
            names = [
                f'"{self.schema}".twinviewer_{n}'
                for n in ("state", "sensors", "samples", "late", "keyframes", "blocks")
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
        return {
            "url": self.where,
            "schema": self.schema,
            "samples": samples,
            "late_samples": int(late[0]) if late else 0,
            "sensors": self.n_store,
            "bytes": nbytes,
            "bytes_per_sample": nbytes / samples if samples else float("nan"),
            "time_range": held,
            "buffered": self._buf_rows,
            "rejected": self.rejected,
            "timescaledb": self.timescale,
            "writer": self.writable,
            "read_only_reason": self.read_only_reason,
            "dropped": self.dropped,
        }

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
        if self._closed:
            raise RuntimeError("history store is closed")
        if not self.writable:
            if self.read_only_reason == "opened read-only":
                raise RuntimeError(f"history store {self.where} is open read-only")
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

    def flush(self, now: float | None = None) -> None:
        """Write everything buffered in one transaction; apply retention."""
        if not self.writable:
            return
        with self._flush_lock:
            with self._buf_lock:
                buf, self._buf, self._buf_rows = self._buf, [], 0
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
                with conn.transaction():
                    if buf:
                        self._write(conn, buf)
                    if self.retention is not None:
                        cutoff = (_time.time() if now is None else now) - self.retention
                        self._apply_retention(conn, cutoff)
            except BaseException:
                self._max_main, self._rows_since_kf, self._run_value, self._run_time = saved
                with self._buf_lock:  # put it back in front, in order
                    self._buf[:0] = buf
                    self._buf_rows += sum(len(b[1]) for b in buf)
                raise

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
            self._copy_in(conn, "samples", SAMPLE_FIELDS, main)
            self._write_keyframes(conn, main)
            self._max_main = float(t[-1])
        conn.execute(
            self._sql("UPDATE {st} SET max_main = %s, rows_since_kf = %s", st="state"),
            (self._max_main, min(self._rows_since_kf, 1 << 62)),
        )
        self._write_blocks(conn, s, t, v)

    def _copy_in(
        self,
        conn: psycopg.Connection,
        table: str,
        fields: Sequence[tuple[str, str]],
        cols: dict[str, np.ndarray],
    ) -> None:
        names = self._psycopg.sql.SQL(", ").join(self._psycopg.sql.Identifier(f) for f, _ in fields)
        target = (
            self._psycopg.sql.Identifier("pg_temp", table.removeprefix("pg_temp."))
            if table.startswith("pg_temp.")
            else self._t(table)
        )
        stmt = self._psycopg.sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
            target, names
        )
        data = _pack_copy(fields, cols)
        with conn.cursor() as cur, cur.copy(stmt) as cp:
            step = 8 << 20
            for i in range(0, len(data), step):
                cp.write(data[i : i + step])

    def _write_keyframes(self, conn: psycopg.Connection, main: dict[str, np.ndarray]) -> None:
        """A keyframe (the state after a row) every ``max(2,000, sensors)`` main rows."""
        n_st = self.n_store
        # copies: a failed transaction restores the state from before it
        run_v, run_t = self._run_value.copy(), self._run_time.copy()
        if len(run_v) < n_st:
            pad = n_st - len(run_v)
            run_v = np.r_[run_v, np.full(pad, np.nan)]
            run_t = np.r_[run_t, np.full(pad, np.nan)]
        every = max(KEYFRAME_MIN_ROWS, KEYFRAME_ROWS_PER_SENSOR * n_st)
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

    def _write_blocks(self, conn: psycopg.Connection, s: NDArray[Any], t: F64, v: F64) -> None:
        # rows come in (time, append) order: a stable sort by sensor gives (sensor, time, append)
        order = np.argsort(s.astype(np.int32), kind="stable")
        s, t, v = s[order], t[order], v[order]
        parts = [_blocks_of(i, w, s, t, v) for i, w in enumerate(self.levels)]
        cols = {k: np.concatenate([p[k] for p in parts]) for k, _ in BLOCK_FIELDS}
        conn.execute(
            self._sql(
                "CREATE TEMP TABLE IF NOT EXISTS twinviewer_blocks_in "
                "(LIKE {bl}) ON COMMIT DELETE ROWS",
                bl="blocks",
            )
        )
        self._copy_in(conn, "pg_temp.twinviewer_blocks_in", BLOCK_FIELDS, cols)
        conn.execute(
            self._sql(
                "INSERT INTO {bl} AS o SELECT * FROM pg_temp.twinviewer_blocks_in "
                "ON CONFLICT (level, sensor, b) DO UPDATE SET n = o.n + excluded.n, "
                "t_first = least(o.t_first, excluded.t_first), "
                "t_last = greatest(o.t_last, excluded.t_last), "
                "vmin = CASE WHEN o.vmin = 'NaN' THEN excluded.vmin "
                "WHEN excluded.vmin = 'NaN' THEN o.vmin ELSE least(o.vmin, excluded.vmin) END, "
                "vmax = CASE WHEN o.vmax = 'NaN' THEN excluded.vmax "
                "WHEN excluded.vmax = 'NaN' THEN o.vmax "
                "ELSE greatest(o.vmax, excluded.vmax) END, "
                # rows of this flush were appended after every stored one: they win a tie
                "vlast = CASE WHEN excluded.t_last >= o.t_last THEN excluded.vlast "
                "ELSE o.vlast END",
                bl="blocks",
            )
        )

    def _apply_retention(self, conn: psycopg.Connection, cutoff: float) -> None:
        gone = 0
        for table in ("samples", "late"):
            cur = conn.execute(self._sql("DELETE FROM {x} WHERE time < %s", x=table), (cutoff,))
            gone += max(cur.rowcount, 0)
        if not gone:
            return
        conn.execute(self._sql("DELETE FROM {kf} WHERE kt < %s", kf="keyframes"), (cutoff,))
        for i in range(len(self.levels)):
            conn.execute(
                self._sql("DELETE FROM {bl} WHERE level = %s AND t_last < %s", bl="blocks"),
                (i, cutoff),
            )
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
