"""The control room's shared state in the history database: acknowledgements, review issues and
the audit trail, so that every viewer of a PostgreSQL history sees the same ones.

A project whose history is PostgreSQL keeps, in the same schema as the samples, three small
tables that any viewer may write (not the recorder: a viewer acknowledges an alarm or files an
issue while the recorder records)::

    twinviewer_acks          one row per acknowledged alarm interval: (sensor, start) key,
                             when and by whom; ``id`` (identity) orders them for polling
    twinviewer_review_issues one row per review issue: its JSON (as ``review.json`` holds an
                             issue), its snapshot PNG, and ``rev`` from a sequence, bumped on
                             every change
    twinviewer_audit         the hash-chained audit trail of commands, one record per row:
                             ``seq`` (the chain's), the record's JSON text exactly as hashed

They are created with IF NOT EXISTS by whoever opens :class:`SharedDatabase` first, under the
same transaction-scoped advisory lock the history store takes to create its tables. Viewers
refresh by *polling* (every few seconds; cheap queries on a counter): LISTEN/NOTIFY does not
work on a hot standby, polling does.

On a streaming-replication standby (:mod:`twinviewer.history.pg_role`) everything reads, and
every write is refused with :class:`~twinviewer.history.pg_role.ReadOnlyDatabase` (its message
says to open the twin on the primary): writing to the primary behind the viewer's back would
need a second URL and a second set of credentials that a read-only site should not hold.

Threads: a :class:`SharedDatabase` is one connection behind one lock, so two threads using the
same one wait for each other (a query held up by the server holds up the other thread for as
long). The control room therefore opens two: one for the window's thread (acknowledging, saving
issues, audit records; short timeouts, so that a click fails within seconds when the server is
away) and one for its poll thread (longer timeouts). :meth:`SharedAcknowledgements.refresh`
reads through whichever database it is given into the one cache the window reads; the cache is
replaced whole under a lock of its own, never held across a query.

Timeouts: ``connect_timeout`` bounds a (re)connection (libpq counts whole seconds, at least 2,
per address of the host); ``query_timeout`` sets the session's ``statement_timeout`` (a query
the server cannot finish in time, e.g. waiting for a lock, is cancelled by the server) and
libpq's ``tcp_user_timeout`` (a connection whose sent data the host does not acknowledge in that
time is dropped by the kernel). Nothing bounds a query on a server whose host still answers TCP
but whose process is frozen.

Only this module knows SQL; which store a twin uses (a file or the database) is decided by
:mod:`twinviewer.session.control_room`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twinviewer.core.alarms import Acknowledgements
from twinviewer.core.audit import (
    FIELDS,
    GENESIS,
    AuditError,
    AuditTrail,
    check_fields,
    record_hash,
    utc_text,
)
from twinviewer.history.pg_role import ReadOnlyDatabase, standby_reason
from twinviewer.history.pg_tables import HistoryDatabaseError, load_psycopg, redact_url, split_url

if TYPE_CHECKING:
    import psycopg

TABLES = (
    "CREATE TABLE IF NOT EXISTS {ak} (id bigint GENERATED ALWAYS AS IDENTITY UNIQUE, "
    "sensor text NOT NULL, start double precision NOT NULL, at double precision NOT NULL, "
    "who text NOT NULL DEFAULT '', PRIMARY KEY (sensor, start))",
    "CREATE SEQUENCE IF NOT EXISTS {rs}",
    "CREATE TABLE IF NOT EXISTS {ri} (id text PRIMARY KEY, issue text NOT NULL, "
    "snapshot bytea, rev bigint NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {au} (seq bigint PRIMARY KEY, time text NOT NULL, "
    "record text NOT NULL, hash text NOT NULL)",
)
NAMES = {"ak": "acks", "rs": "review_rev", "ri": "review_issues", "au": "audit"}


class SharedDatabase:
    """One connection to the shared tables of a history schema (thread-safe: one lock, so the
    threads using one instance wait for each other; see the module's docstring).

    ``connect_timeout`` (seconds; None: the URL's, 5 s by default) bounds each (re)connection;
    ``query_timeout`` (seconds; None: none) each statement and each unacknowledged send.
    ``create=False`` leaves the tables to another instance (one that reads only, e.g. a poller).

    Errors of the server come out as
    :class:`~twinviewer.history.pg_tables.HistoryDatabaseError` (a ``ConnectionError``) naming
    the URL; writes on a standby as :class:`~twinviewer.history.pg_role.ReadOnlyDatabase`."""

    def __init__(
        self,
        url: str,
        connect_timeout: int | None = None,
        query_timeout: float | None = None,
        create: bool = True,
    ) -> None:
        self._psycopg = load_psycopg()
        self.url = url
        self.where = redact_url(url)
        self.conninfo, self.schema = split_url(url)
        self.connect_timeout = connect_timeout
        self.query_timeout = query_timeout
        self._lock = threading.RLock()
        self._conn: psycopg.Connection | None = self._connect()
        self._ready = False
        try:
            self.read_only_reason = standby_reason(self._conn, self.where, writer=False)
            if create and not self.read_only_reason:
                self._create()
        except self._psycopg.Error as exc:
            self.close()
            raise HistoryDatabaseError(f"history database {self.where}: {exc}") from None

    # -- connection ----------------------------------------------------------------------------
    def _connect(self) -> psycopg.Connection:
        options: dict[str, Any] = {}
        if self.connect_timeout is not None:
            options["connect_timeout"] = max(2, int(self.connect_timeout))
        if self.query_timeout is not None:
            options["tcp_user_timeout"] = int(self.query_timeout * 1000)
        try:
            conn: psycopg.Connection = self._psycopg.connect(
                self.conninfo, autocommit=True, **options
            )
            if self.query_timeout is not None:
                conn.execute(
                    "SELECT set_config('statement_timeout', %s, false)",
                    (f"{int(self.query_timeout * 1000)}ms",),
                )
        except self._psycopg.Error as exc:
            raise HistoryDatabaseError(
                f"history database {self.where}: cannot connect: {' '.join(str(exc).split())}"
            ) from None
        return conn

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """The connection under the lock (reconnected when lost); server errors raised as
        :class:`HistoryDatabaseError`."""
        with self._lock:
            if self._conn is None or self._conn.closed or self._conn.broken:
                if self._conn is not None:
                    self._conn.close()
                self._conn = self._connect()
            try:
                yield self._conn
            except self._psycopg.Error as exc:
                text = " ".join(str(exc).split())
                if isinstance(exc, self._psycopg.errors.QueryCanceled) and self.query_timeout:
                    text = f"no answer within {self.query_timeout:g} s ({text})"
                raise HistoryDatabaseError(f"history database {self.where}: {text}") from None

    def sql(self, text: str) -> Any:
        """``text`` with ``{ak}``, ``{ri}``, ``{rs}``, ``{au}`` as schema-qualified names."""
        pg = self._psycopg
        names = {k: pg.sql.Identifier(self.schema, f"twinviewer_{v}") for k, v in NAMES.items()}
        return pg.sql.SQL(text).format(**names)

    def _create(self) -> None:
        pg = self._psycopg
        conn = self._conn
        assert conn is not None
        with conn.transaction():
            # the history store's lock for creating tables: no two creators race
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"twv:{self.schema}",))
            conn.execute(
                pg.sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(pg.sql.Identifier(self.schema))
            )
            for stmt in TABLES:
                conn.execute(self.sql(stmt))
        self._ready = True

    def has_tables(self) -> bool:
        """Whether the shared tables exist (on a standby: only once the primary made them)."""
        if self._ready:
            return True
        with self.connection() as conn:
            row = conn.execute(
                "SELECT to_regclass(%s)", (f'"{self.schema}".twinviewer_audit',)
            ).fetchone()
        self._ready = bool(row and row[0] is not None)
        return self._ready

    def require_writable(self, what: str) -> None:
        if self.read_only_reason:
            raise ReadOnlyDatabase(self.where, what)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


# -- acknowledgements ----------------------------------------------------------------------------


class SharedAcknowledgements(Acknowledgements):
    """:class:`~twinviewer.core.alarms.Acknowledgements` kept in the database: what any viewer
    acknowledged, seen by every other after its next :meth:`refresh`.

    Thread-safe: the window's thread acknowledges through :attr:`db` while a poll thread may
    :meth:`refresh` through a database of its own; both merge into one cache, replaced whole
    under a lock held only for that (readers on any thread see the old or the new one)."""

    def __init__(self, db: SharedDatabase, who: str = "") -> None:
        super().__init__(None)
        self.db = db
        self.who = who
        self._last_id = 0
        self._cache_lock = threading.Lock()
        self.refresh()

    @property
    def read_only_reason(self) -> str:
        return self.db.read_only_reason

    def _merge(self, fresh: dict[tuple[str, float], float], last_id: int = 0) -> int:
        """Add these to the cache; how many were not in it."""
        with self._cache_lock:
            added = sum(1 for k in fresh if k not in self._keys)
            self._keys = {**self._keys, **fresh}
            self._last_id = max(self._last_id, last_id)
        return added

    def acknowledge(self, keys: Sequence[tuple[str, float]], when: float) -> int:
        """Acknowledge these intervals for every viewer; returns how many were new here.
        Raises :class:`ReadOnlyDatabase` on a replica, :class:`HistoryDatabaseError` when the
        server is away (nothing is acknowledged then)."""
        new = [k for k in dict.fromkeys(keys) if k not in self._keys]
        if not new:
            return 0
        self.db.require_writable("acknowledgements")
        with self.db.connection() as conn, conn.cursor() as cur:
            cur.executemany(
                self.db.sql(
                    "INSERT INTO {ak} (sensor, start, at, who) VALUES (%s, %s, %s, %s) "
                    "ON CONFLICT (sensor, start) DO NOTHING"
                ),
                [(s, float(t), float(when), self.who) for s, t in new],
            )
        self._merge({k: float(when) for k in new})
        return len(new)

    def refresh(self, db: SharedDatabase | None = None) -> int:
        """Read what was acknowledged since the last refresh (by anyone), through ``db``
        (default: :attr:`db`; the poll thread passes its own); returns how many were new."""
        db = db or self.db
        if not db.has_tables():
            return 0
        with db.connection() as conn:
            rows = conn.execute(
                db.sql("SELECT id, sensor, start, at FROM {ak} WHERE id > %s ORDER BY id"),
                (self._last_id,),
            ).fetchall()
        if not rows:
            return 0
        return self._merge({(str(s), float(t)): float(a) for _, s, t, a in rows}, int(rows[-1][0]))

    def who_acknowledged(self, key: tuple[str, float]) -> str | None:
        """Who acknowledged this interval (None: nobody)."""
        if key not in self._keys or not self.db.has_tables():
            return None
        with self.db.connection() as conn:
            row = conn.execute(
                self.db.sql("SELECT who FROM {ak} WHERE sensor = %s AND start = %s"),
                (key[0], float(key[1])),
            ).fetchone()
        return str(row[0]) if row else None


# -- review issues -------------------------------------------------------------------------------


class SharedIssues:
    """Review issues as JSON text, one row each; :meth:`stamp` changes whenever any issue is
    added, changed or removed (the count and the newest ``rev``)."""

    def __init__(self, db: SharedDatabase) -> None:
        self.db = db

    def stamp(self) -> tuple[int, int]:
        if not self.db.has_tables():
            return (0, 0)
        with self.db.connection() as conn:
            row = conn.execute(self.db.sql("SELECT count(*), max(rev) FROM {ri}")).fetchone()
        return (int(row[0]), int(row[1] or 0)) if row else (0, 0)

    def all(self) -> dict[str, str]:
        """Every issue: id -> its JSON text."""
        if not self.db.has_tables():
            return {}
        with self.db.connection() as conn:
            rows = conn.execute(self.db.sql("SELECT id, issue FROM {ri} ORDER BY rev")).fetchall()
        return {str(i): str(text) for i, text in rows}

    def snapshot(self, issue_id: str) -> bytes | None:
        if not self.db.has_tables():
            return None
        with self.db.connection() as conn:
            row = conn.execute(
                self.db.sql("SELECT snapshot FROM {ri} WHERE id = %s"), (issue_id,)
            ).fetchone()
        return bytes(row[0]) if row and row[0] is not None else None

    def write(
        self,
        put: dict[str, str],
        remove: Iterable[str] = (),
        snapshots: dict[str, bytes] | None = None,
    ) -> None:
        """In one transaction: upsert these issues (id -> JSON text; with their snapshot PNG
        where given, else the stored one is kept) and delete those ids."""
        self.db.require_writable("review issues")
        snaps = snapshots or {}
        with self.db.connection() as conn, conn.transaction(), conn.cursor() as cur:
            for issue_id, text in put.items():
                cur.execute(
                    self.db.sql(
                        "INSERT INTO {ri} (id, issue, snapshot, rev) "
                        "VALUES (%s, %s, %s, nextval('{rs}')) ON CONFLICT (id) DO UPDATE SET "
                        "issue = excluded.issue, rev = excluded.rev, "
                        "snapshot = coalesce(excluded.snapshot, {ri}.snapshot)"
                    ),
                    (issue_id, text, snaps.get(issue_id)),
                )
            gone = list(remove)
            if gone:
                cur.execute(self.db.sql("DELETE FROM {ri} WHERE id = ANY(%s)"), (gone,))


# -- the audit trail -----------------------------------------------------------------------------


class DatabaseAuditTrail(AuditTrail):
    """The hash-chained audit trail (:mod:`twinviewer.core.audit`) in the database: the same
    records, chain and checks; appends from every viewer serialised by a transaction-scoped
    advisory lock. :meth:`verify` names a record by its ``seq`` (the "line")."""

    def __init__(self, db: SharedDatabase) -> None:
        super().__init__(Path(f"{db.where} (table twinviewer_audit)"))
        self.db = db

    @property
    def where(self) -> str:
        return f"{self.db.where} (table twinviewer_audit)"

    def append(self, time: float, **fields: Any) -> dict[str, Any]:
        check_fields(fields)
        try:
            self.db.require_writable("the audit record")
            with self.db.connection() as conn, conn.transaction():
                conn.execute(
                    "SELECT pg_advisory_xact_lock(hashtext(%s))", (f"twv-audit:{self.db.schema}",)
                )
                last = conn.execute(
                    self.db.sql("SELECT seq, hash FROM {au} ORDER BY seq DESC LIMIT 1")
                ).fetchone()
                record: dict[str, Any] = {k: None for k in FIELDS if k != "hash"}
                record.update(fields)
                record["seq"] = int(last[0]) + 1 if last else 1
                record["time"] = utc_text(time)
                record["prev"] = str(last[1]) if last else GENESIS
                record["hash"] = record_hash(record)
                text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
                conn.execute(
                    self.db.sql("INSERT INTO {au} (seq, time, record, hash) VALUES (%s,%s,%s,%s)"),
                    (record["seq"], record["time"], text, record["hash"]),
                )
        except OSError as exc:  # HistoryDatabaseError, ReadOnlyDatabase
            raise AuditError(f"cannot append to the audit trail: {exc}") from exc
        return record

    def _lines(self) -> Iterator[tuple[int, str]]:
        """The records in ``seq`` order, numbered from 1 like the lines of the file."""
        if not self.db.has_tables():
            return
        with self.db.connection() as conn:
            rows = conn.execute(self.db.sql("SELECT record FROM {au} ORDER BY seq")).fetchall()
        for n, (text,) in enumerate(rows, 1):
            yield n, str(text)

    def last_hash(self) -> str:
        if not self.db.has_tables():
            return GENESIS
        with self.db.connection() as conn:
            row = conn.execute(
                self.db.sql("SELECT hash FROM {au} ORDER BY seq DESC LIMIT 1")
            ).fetchone()
        return str(row[0]) if row else GENESIS

    def stamp(self) -> tuple[int, int]:
        """Changes when a record is added: (count, newest seq)."""
        if not self.db.has_tables():
            return (0, 0)
        with self.db.connection() as conn:
            row = conn.execute(self.db.sql("SELECT count(*), max(seq) FROM {au}")).fetchone()
        return (int(row[0]), int(row[1] or 0)) if row else (0, 0)
