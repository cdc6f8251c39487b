"""The PostgreSQL history backend's connections and tables.

:class:`PostgresTables` is the base of :class:`~twinviewer.history.postgres.PostgresHistoryStore`:
the URL (the ``schema`` option is ours, the password never shown), the connections (the shared
query connection, reconnecting when lost; the writer's advisory lock), the schema (the tables
and indexes, the format version, TimescaleDB where available; the gaps table and the roll-up
columns, added to databases made before they existed; the roll-ups the project asks for, kept
in the state row) and the sensor table (ids to store indices). The table
layout and the reasons for it are described in the docstring of
:mod:`twinviewer.history.postgres`; reading and writing rows are in
:mod:`twinviewer.history.pg_queries` and that module.
"""

from __future__ import annotations

import json
import logging
import threading
import time as _time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np
from numpy.typing import NDArray

from twinviewer.history.pg_copy import SEND

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

VERSION = 1  # the row layout: a row per sample
VERSION_BLOCKS = 3  # the block layout: a row per sensor and block (pg_blocks), block format 3
# the block layout's first format (delta-of-delta times: at(t) had to decode whole blocks);
# no release wrote it, so it is refused rather than read
VERSION_BLOCKS_FIRST = 2
LAYOUTS = {"rows": VERSION, "blocks": VERSION_BLOCKS}
DEFAULT_LAYOUT = "blocks"  # for new schemas; ``?layout=rows`` in the URL asks for the other
BLOCK_LEVELS = (10.0, 100.0, 1_000.0, 10_000.0, 100_000.0)  # block widths in seconds
HYPERTABLE_CHUNK_ROWS = 50_000_000
# Data-quality gaps (core.gaps.Gap), one row each. ``id`` keeps the order they were recorded in
# for gaps of equal times. Created with IF NOT EXISTS by every writer that opens the schema, so
# a database recorded before gaps existed gets the table without a format change (VERSION).
GAPS_TABLE = (
    "CREATE TABLE IF NOT EXISTS {ga} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
    "source text NOT NULL, sensors text[] NOT NULL, t_start double precision NOT NULL, "
    "t_end double precision NOT NULL, missing bigint NOT NULL, cause text NOT NULL, "
    "exact boolean NOT NULL, detail text NOT NULL DEFAULT '')"
)
GAPS_INDEX = "CREATE INDEX IF NOT EXISTS twinviewer_gaps_t_start ON {ga} (t_start)"
# The summary table's columns for the mean (sum and count of the finite values), and the state
# row's roll-ups (JSON: level, width, retention) and the oldest time they hold; added by a
# writer to schemas made before roll-ups existed, no format change (VERSION) needed.
SUMMARY_MEAN_COLUMNS = "vsum double precision NOT NULL DEFAULT 0, nfin bigint NOT NULL DEFAULT 0"
STATE_ROLLUP_COLUMNS = (
    "rollups text NOT NULL DEFAULT '[]', t_roll double precision NOT NULL DEFAULT 'Infinity'"
)
ROLLUP_LEVEL0 = 100  # roll-ups' level numbers in the summary table: 100, 101, ...
INSTALL_HINT = "pip install 'twinviewer[postgres]'  (or: pip install 'psycopg[binary]>=3.1')"


def writer_lock_key(schema: str) -> str:
    """The advisory lock (``hashtext`` of this) one writer of a schema holds."""
    return f"twinviewer-writer:{schema}"


@dataclass(frozen=True)
class Rollup:
    """A roll-up: summaries of ``width`` seconds in the summary table at ``level``, deleted
    ``retention`` seconds after they end (None: kept)."""

    level: int
    width: float
    retention: float | None


def rollups_from_json(text: str) -> tuple[Rollup, ...]:
    """The state row's roll-ups, finest first."""
    rows = json.loads(text)
    out = [Rollup(int(r["level"]), float(r["width"]), r.get("retention")) for r in rows]
    return tuple(sorted(out, key=lambda r: r.width))


def rollups_to_json(rollups: Sequence[Rollup]) -> str:
    return json.dumps(
        [{"level": r.level, "width": r.width, "retention": r.retention} for r in rollups]
    )


class HistoryDatabaseError(ConnectionError):
    """The database cannot be reached or holds no usable history (message names the URL)."""


def load_psycopg() -> Any:
    """The psycopg module; an ImportError naming the extra to install when it is missing."""
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


def url_layout(url: str) -> str:
    """The layout a new schema gets: the URL's ``layout`` option (ours, like ``schema``)."""
    for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        if k == "layout":
            if v not in LAYOUTS:
                raise ValueError(
                    f"history URL {redact_url(url)!r}: layout={v!r}, expected one of "
                    f"{', '.join(LAYOUTS)}"
                )
            return v
    return DEFAULT_LAYOUT


def split_url(url: str) -> tuple[str, str]:
    """``(conninfo URL for libpq, schema)``: the ``schema`` and ``layout`` query options are
    ours, not libpq's."""
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
        elif k != "layout":
            rest.append((k, v))
    if not any(k == "connect_timeout" for k, _ in rest):
        rest.append(("connect_timeout", "5"))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(rest), "")), schema


class PostgresTables:
    """Connections, schema and sensor ids of one history schema in a database.

    The attributes below are set by
    :class:`~twinviewer.history.postgres.PostgresHistoryStore` when it opens."""

    _psycopg: Any  # the psycopg module, imported when a store opens (an optional dependency)
    url: str
    where: str  # the URL without its password
    conninfo: str
    schema: str
    timescale: bool
    levels: tuple[float, ...]  # summary block widths in seconds
    rollups: tuple[Rollup, ...]  # roll-up levels, finest first (the state row's)
    has_mean: bool  # the summary table has vsum / nfin (schemas before roll-ups: once a writer
    # opened them)
    layout: str  # "rows" or "blocks" (the schema's format VERSION says which)
    block_width: float  # seconds per compressed block (block layout)
    _lock: threading.RLock  # the query connection
    _closed: bool
    _qconn: psycopg.Connection | None
    _wconn: psycopg.Connection | None
    _project_ids: list[str]
    _ids: list[str]
    _proj_to_store: NDArray[np.int64]
    _sensors_checked: float
    _has_gaps: bool  # the gaps table exists (a read-only store on an older database: maybe not)

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
            "SELECT pg_try_advisory_lock(hashtext(%s))", (writer_lock_key(self.schema),)
        ).fetchone()
        return bool(row and row[0])

    def clean_error(self, exc: BaseException) -> str:
        """A server error's message on one line, without the URL's password."""
        return self._clean(exc)

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
                pg.sql.SQL(SEND[code]), pg.sql.Identifier(name), by
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
        """Create the tables (or check the schema's format and bring an older one up to date:
        the gaps table, the roll-up columns). The roll-ups are set once the writer lock is
        held (:meth:`_set_rollups`)."""
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
                if row is not None and int(row[0]) == VERSION_BLOCKS_FIRST:
                    raise HistoryDatabaseError(self._first_blocks_message())
                if row is None or int(row[0]) not in LAYOUTS.values():
                    raise HistoryDatabaseError(
                        f"history database {self.where}: schema {self.schema!r} holds history "
                        f"format {row[0] if row else '?'}, this TwinViewer reads "
                        f"{VERSION} or {VERSION_BLOCKS}"
                    )
                self._read_layout(conn)
                self.timescale = self._is_hypertable(conn)
                self._create_gaps_table(conn)
                self._add_rollup_columns(conn)
                return
            widths = [float(w) for w in (levels or BLOCK_LEVELS)]
            self.layout = url_layout(self.url)
            blocks = self.layout == "blocks"
            if blocks and levels is None:  # the compressed blocks are the finest summary
                widths = [w for w in widths if w > self._new_block_width()]
            cols = (
                "time double precision NOT NULL, seq bigint NOT NULL, "
                "value double precision NOT NULL, sensor integer NOT NULL, delay real NOT NULL, "
                "quality smallint NOT NULL"
            )
            for stmt in (
                "CREATE TABLE {st} (one boolean PRIMARY KEY DEFAULT true CHECK (one), "
                "version integer NOT NULL, next_seq bigint NOT NULL, "
                "max_main double precision NOT NULL, rows_since_kf bigint NOT NULL, "
                "samples bigint NOT NULL, levels text NOT NULL, "
                "t_min double precision NOT NULL DEFAULT 'Infinity', "
                "block_width double precision NOT NULL DEFAULT 0, "
                "ties_at_max bigint NOT NULL DEFAULT 0, "
                f"{STATE_ROLLUP_COLUMNS})",
                "CREATE TABLE {se} (idx integer PRIMARY KEY, id text NOT NULL UNIQUE)",
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
                f"{SUMMARY_MEAN_COLUMNS}, PRIMARY KEY (level, sensor, b))",
                "CREATE INDEX ON {la} (sensor, time)",
                "CREATE INDEX ON {la} (time)",
                *(
                    ()
                    if blocks
                    else (
                        f"CREATE TABLE {{sa}} ({cols})",
                        # covering: a sensor's rows are read from the index alone (index-only
                        # scans once vacuumed), not from one heap page per row
                        "CREATE INDEX ON {sa} (sensor, time) INCLUDE (seq, value)",
                        "CREATE INDEX ON {sa} (time)",
                    )
                ),
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
                    "levels, block_width) VALUES (%s, 1, '-Infinity', %s, 0, %s, %s)",
                    st="state",
                ),
                (LAYOUTS[self.layout], 1 << 62, json.dumps(widths), self._new_block_width()),
            )
            self._create_gaps_table(conn)
            if blocks:
                self._create_block_tables(conn)
                self.timescale = False  # the blocks are TimescaleDB's compression, done here
            else:
                self.timescale = self._try_hypertable(conn)
            self._read_layout(conn)
        log.info(
            "history: created the tables in %s (schema %s, %s layout%s)",
            self.where,
            self.schema,
            self.layout,
            ", TimescaleDB hypertable" if self.timescale else "",
        )

    def _new_block_width(self) -> float:
        """Seconds per block for a new schema of the block layout (the writer's tuning)."""
        raise NotImplementedError

    def _create_block_tables(self, conn: psycopg.Connection) -> None:
        """The block layout's tables (:mod:`twinviewer.history.pg_blocks`)."""
        raise NotImplementedError

    def _read_layout(self, conn: psycopg.Connection) -> None:
        """The schema's layout and block width, from its state row. A schema made before the
        block layout existed has no ``block_width`` column: the row layout."""
        row = conn.execute(self._sql("SELECT * FROM {st}", st="state"))
        names = [d.name for d in row.description or ()]
        values = dict(zip(names, row.fetchone() or (), strict=False))
        version = int(values.get("version", VERSION))
        if version == VERSION_BLOCKS_FIRST:
            raise HistoryDatabaseError(self._first_blocks_message())
        if version not in LAYOUTS.values():
            raise HistoryDatabaseError(
                f"history database {self.where}: schema {self.schema!r} holds history format "
                f"{version}, this TwinViewer reads {VERSION} or {VERSION_BLOCKS}"
            )
        self.layout = "blocks" if version == VERSION_BLOCKS else "rows"
        self.block_width = float(values.get("block_width") or 0.0)

    def _first_blocks_message(self) -> str:
        return (
            f"history database {self.where}: schema {self.schema!r} holds history format "
            f"{VERSION_BLOCKS_FIRST}, the first block layout of a development build, which this "
            f"TwinViewer no longer reads (it reads {VERSION} and {VERSION_BLOCKS}); record it "
            "again into a new schema (?schema=NAME), or drop this one"
        )

    def _create_gaps_table(self, conn: psycopg.Connection) -> None:
        """The gaps table and its index, if missing (a new schema, or one recorded before gaps
        were kept); called by a writer inside the schema transaction."""
        for stmt in (GAPS_TABLE, GAPS_INDEX):
            conn.execute(self._sql(stmt, ga="gaps"))
        self._has_gaps = True

    def _gaps_table_exists(self, conn: psycopg.Connection) -> bool:
        """Whether the gaps table is there; a read-only store on a database recorded before gaps
        were kept has none (until a writer opens it), and then simply holds no gaps."""
        if self._has_gaps:
            return True
        row = conn.execute(
            "SELECT to_regclass(%s)", (f'"{self.schema}".twinviewer_gaps',)
        ).fetchone()
        self._has_gaps = bool(row and row[0] is not None)
        return self._has_gaps

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
        """The summary levels' widths (and the roll-ups, the layout) from the state row."""
        with self._query() as conn:
            self._read_layout(conn)
            row = conn.execute(self._sql("SELECT * FROM {st}", st="state"))
            names = [d.name for d in row.description or ()]
            values = dict(zip(names, row.fetchone() or (), strict=False))
            self.rollups = rollups_from_json(values.get("rollups") or "[]")
            mean = conn.execute(
                "SELECT 1 FROM information_schema.columns WHERE table_schema = %s "
                "AND table_name = 'twinviewer_blocks' AND column_name = 'vsum'",
                (self.schema,),
            ).fetchone()
            self.has_mean = mean is not None
        levels = values.get("levels")
        return tuple(float(w) for w in json.loads(levels)) if levels else BLOCK_LEVELS

    # -- roll-ups ------------------------------------------------------------------------------

    def _add_rollup_columns(self, conn: psycopg.Connection) -> None:
        """A schema made before roll-ups existed: the summary table's sum and count of finite
        values (for the mean) and the state's roll-up columns, added by a writer (schema
        transaction). Its summary rows written before then hold no mean (``nfin`` 0)."""
        added = []
        for table, name, columns in (
            ("blocks", "vsum", SUMMARY_MEAN_COLUMNS),
            ("state", "rollups", STATE_ROLLUP_COLUMNS),
        ):
            row = conn.execute(
                "SELECT 1 FROM information_schema.columns WHERE table_schema = %s "
                "AND table_name = %s AND column_name = %s",
                (self.schema, f"twinviewer_{table}", name),
            ).fetchone()
            if row is None:
                alter = ", ".join(f"ADD COLUMN IF NOT EXISTS {c}" for c in columns.split(", "))
                conn.execute(self._sql(f"ALTER TABLE {{x}} {alter}", x=table))
                added.append(f"twinviewer_{table}: {columns}")
        if added:
            log.info(
                "history: %s (schema %s) was made before roll-ups; added %s (summaries written "
                "before hold no mean)",
                self.where,
                self.schema,
                "; ".join(added),
            )

    def _set_rollups(
        self, conn: psycopg.Connection, wanted: Sequence[tuple[float, float | None]] | None
    ) -> None:
        """Make ``wanted`` ((width, retention seconds or None) each; None: keep the schema's)
        the schema's roll-ups. A new width gets a new level, empty until data arrives (roll-ups
        summarise what is recorded from then on); a width no longer wanted is dropped with its
        rows; a changed retention is kept in the state row (readers need no project). Only by
        the store holding the writer lock, in a transaction."""
        row = conn.execute(self._sql("SELECT rollups FROM {st}", st="state")).fetchone()
        have = rollups_from_json(row[0] if row else "[]")
        if wanted is None:
            return
        by_width = {r.width: r for r in have}
        nxt = max([r.level for r in have], default=ROLLUP_LEVEL0 - 1) + 1
        out: list[Rollup] = []
        for width, retention in sorted((float(w), r) for w, r in wanted):
            old = by_width.pop(width, None)
            if old is None:
                out.append(Rollup(nxt, width, retention))
                log.info(
                    "history: %s (schema %s): new roll-up of %gs (empty until data arrives)",
                    self.where,
                    self.schema,
                    width,
                )
                nxt += 1
            else:
                out.append(Rollup(old.level, width, retention))
        for gone in by_width.values():
            cur = conn.execute(
                self._sql("DELETE FROM {bl} WHERE level = %s", bl="blocks"), (gone.level,)
            )
            log.warning(
                "history: %s (schema %s): roll-up of %gs no longer in the project; deleted its "
                "%d row(s)",
                self.where,
                self.schema,
                gone.width,
                max(cur.rowcount, 0),
            )
        conn.execute(self._sql("UPDATE {st} SET rollups = %s", st="state"), (rollups_to_json(out),))
        self.rollups = tuple(out)
        if by_width:
            self._recompute_t_roll(conn)

    def _recompute_t_roll(self, conn: psycopg.Connection) -> float:
        """The oldest time the roll-ups hold, looked up again (one index probe per sensor and
        roll-up) after some were deleted; kept in the state row and returned."""
        row = conn.execute(
            self._sql(
                "UPDATE {st} SET t_roll = coalesce((SELECT min(x.t_first) FROM "
                "unnest(%s::int[]) l(level), {se} s, LATERAL (SELECT t_first FROM {bl} "
                "WHERE level = l.level AND sensor = s.idx ORDER BY b LIMIT 1) x), 'Infinity') "
                "RETURNING t_roll",
                st="state",
                se="sensors",
                bl="blocks",
            ),
            ([r.level for r in self.rollups],),
        ).fetchone()
        return float(row[0]) if row else np.inf

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
