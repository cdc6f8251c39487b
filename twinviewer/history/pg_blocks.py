"""The writer side of the PostgreSQL history's *block layout*: tables, flushes, compaction,
retention.

A flush's main samples (those at or after the newest main time; older ones go to the ``late``
rows as in the row layout) are grouped per sensor and time-aligned block (``block_width``
seconds, 10 s by default): blocks the flush closes (the newest main time has passed their end,
so no main sample can fall into them any more) go to ``twinviewer_chunks``, one row each,
merged with the parts of them the tail held; blocks still open go to ``twinviewer_tail``, one
*part* per sensor and block and flush. Both tables have the same columns: ``sensor, t0, t1``
(first and last time), ``seq`` (the greatest append rank in the row: it orders the parts of a
block), ``n, vmin, vmax, vfirst, vlast`` and ``data``, the samples encoded by
:mod:`twinviewer.history.pg_codec`. Everything is packed by numpy and sent by one binary
``COPY`` per table and flush: a row per block, never a row per sample.

The chunks table only grows at its end in time order (inserts; deletes by retention), so a BRIN
index on ``t0`` finds the blocks around a time for a few pages; a btree on ``(sensor, t0)``
serves one sensor's series. ``data`` is left to TOAST's lz4 (which only compresses rows over
~2 kB: see :mod:`twinviewer.history.pg_codec` for the figures and why not zstd). The reads
are in :mod:`twinviewer.history.pg_blocks_queries`.

The summary levels (100 s and wider) and the roll-ups of a block are written once, by the
flush that closes it, from the samples at hand here (:mod:`twinviewer.history.pg_rollups`):
not by every flush, as the row layout does.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from twinviewer.history import pg_codec
from twinviewer.history.pg_blocks_queries import CHUNK_FIELDS, BlockQueries
from twinviewer.history.pg_copy import F64, block_runs, copy_dtype, send_copy

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

BLOCK_WIDTH = 10.0  # seconds per block (new schemas)
# a keyframe every max(KEYFRAME_MIN_ROWS, this x sensors) main rows: 16 bytes per sensor, so
# ~0.3 bytes per sample; the replay reads the blocks since the keyframe anyway
BLOCK_KEYFRAME_ROWS_PER_SENSOR = 50

_PGCOPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8

BLOCK_TABLES = (
    "CREATE TABLE {name} (sensor integer NOT NULL, t0 double precision NOT NULL, "
    "t1 double precision NOT NULL, seq bigint NOT NULL, n integer NOT NULL, "
    "vmin double precision NOT NULL, vmax double precision NOT NULL, "
    "vfirst double precision NOT NULL, vlast double precision NOT NULL, data bytea NOT NULL)"
)


def pack_copy_blobs(
    fields: Sequence[tuple[str, str]],
    columns: dict[str, np.ndarray],
    buf: NDArray[np.uint8],
    offsets: NDArray[np.int64],
    sizes: NDArray[np.int64],
) -> bytes:
    """A binary COPY of fixed-width fields followed by one ``bytea`` (block i of ``buf``)."""
    k = len(offsets)
    spec = copy_dtype(fields).descr + [("_l_data", ">i4")]
    dt = np.dtype(spec)
    fixed = np.zeros(k, dt)
    fixed["_n"] = len(fields) + 1
    for name, code in fields:
        fixed[f"_l_{name}"] = np.dtype(code).itemsize
        fixed[name] = columns[name]
    fixed["_l_data"] = sizes
    r = dt.itemsize
    head = fixed.tobytes()
    data = memoryview(np.ascontiguousarray(buf).data)
    pieces: list[bytes | memoryview] = [_PGCOPY_HEADER]
    # one join of 2 pieces a row (a block holds ~100 samples: a few thousand rows a flush)
    for i, (o, z) in enumerate(zip(offsets.tolist(), sizes.tolist(), strict=True)):
        pieces.append(head[i * r : (i + 1) * r])
        pieces.append(data[o : o + z])
    pieces.append(b"\xff\xff")
    return b"".join(pieces)


def tie_ranks(t: F64, prev_max: float, prev_ties: int) -> tuple[NDArray[np.uint32], int]:
    """Main rows (sorted by time, ties in append order): each one's rank among the main
    samples of its time (0: the first), counting the ``prev_ties`` samples already held at
    ``prev_max`` (the newest main time: the only one a flush can share with those before it).
    Also the count at the new newest time."""
    n = len(t)
    new = np.ones(n, bool)
    new[1:] = t[1:] != t[:-1]
    run = np.flatnonzero(new)
    rank = np.arange(n) - np.repeat(run, np.diff(np.append(run, n)))
    if n and t[0] == prev_max:
        rank[: (run[1] if len(run) > 1 else n)] += prev_ties
    last = int(rank[-1]) + 1 if n else prev_ties
    return np.minimum(rank, 2**32 - 1).astype(np.uint32), last


def block_rows(
    s: NDArray[Any],
    t: F64,
    v: F64,
    seq: NDArray[np.int64],
    q: NDArray[np.uint8],
    tie: NDArray[np.uint32],
    width: float,
) -> tuple[dict[str, np.ndarray], NDArray[np.uint8], NDArray[np.int64], NDArray[np.int64]]:
    """Rows (append order) as block rows: grouped per sensor and block, each group sorted by
    time with ties in append order. ``(columns, codec buffer, offsets, sizes)``."""
    b = np.floor(t / width)
    order = sensor_order(s)  # stable: keeps the time order (and the append order of ties)
    if not time_sorted_per_sensor(s[order], t[order]):
        order = np.lexsort((t, s))  # rows not in time order (merged tail parts): sort them
    s, t, v, seq, q, b, tie = (
        s[order],
        t[order],
        v[order],
        seq[order],
        q[order],
        b[order],
        tie[order],
    )
    n = len(t)
    starts, ends, vmin, vmax = block_runs(s, b, v)
    cols: dict[str, NDArray[Any]] = {
        "sensor": s[starts].astype(np.int32),
        "t0": t[starts],
        "t1": t[ends],
        "seq": np.maximum.reduceat(seq, starts),
        "n": np.diff(np.append(starts, n)).astype(np.int32),
        "vmin": vmin,
        "vmax": vmax,
        "vfirst": v[starts],
        "vlast": v[ends],
    }
    buf, offsets, sizes = pg_codec.encode_many(t, v, starts, q, tie)
    # rows by block, then sensor: a flush that closes many blocks at once (a back-fill, a
    # benchmark) still lays the chunks out in time order, which the BRIN index on t0 needs
    order = np.lexsort((cols["sensor"], np.floor(cols["t0"] / width)))
    return {k: c[order] for k, c in cols.items()}, buf, offsets[order], sizes[order]


def sensor_order(s: NDArray[Any]) -> NDArray[np.intp]:
    """A stable argsort by sensor index: by radix sort when the indices fit in 16 bits."""
    if len(s) and int(s.max()) < 32768 and int(s.min()) >= 0:
        return np.argsort(s.astype(np.int16), kind="stable")
    return np.argsort(s.astype(np.int64), kind="stable")


def time_sorted_per_sensor(s: NDArray[Any], t: F64) -> bool:
    same = s[1:] == s[:-1]
    return bool(np.all(~same | (t[1:] >= t[:-1])))


class BlockWriter(BlockQueries):
    """Creating, writing and trimming the block layout's tables (module docstring)."""

    _max_main: float

    def _new_block_width(self) -> float:
        return BLOCK_WIDTH

    def _create_block_tables(self, conn: psycopg.Connection) -> None:
        """The chunk and tail tables with their indexes and compression (schema transaction)."""
        for name in ("chunks", "tail"):
            conn.execute(self._sql(BLOCK_TABLES, name=name))
        for stmt in (
            "CREATE INDEX ON {ch} USING brin (t0) WITH (pages_per_range = 16)",
            "CREATE INDEX ON {ch} (sensor, t0)",
            "CREATE INDEX ON {ta} (sensor, t0)",
        ):
            conn.execute(self._sql(stmt, ch="chunks", ta="tail"))
        try:
            with conn.transaction():  # a savepoint: PostgreSQL < 14 or built without lz4
                conn.execute(
                    self._sql("ALTER TABLE {ch} ALTER data SET COMPRESSION lz4", ch="chunks")
                )
        except self._psycopg.Error as exc:
            log.info("history: no lz4 in this PostgreSQL (%s); TOAST uses pglz", self._clean(exc))

    def _write_block_layout(
        self,
        conn: psycopg.Connection,
        main: dict[str, np.ndarray],
        t_min: float,
        prev_max: float,
    ) -> None:
        """The main rows of a flush (sorted by time, ties in append order) as chunks and tail
        parts; the tail's parts of the blocks this flush closes are merged into their chunks."""
        w = self.block_width
        row = conn.execute(self._sql("SELECT ties_at_max FROM {st}", st="state")).fetchone()
        tie, ties_at_max = tie_ranks(main["time"], prev_max, int(row[0]) if row else 0)
        closed_before = float(np.floor(self._max_main / w))  # blocks < this take no main rows
        gone = conn.execute(
            self._sql(
                "DELETE FROM {ta} WHERE floor(t0 / %s) < %s RETURNING sensor, seq, n, data",
                ta="tail",
            ),
            (w, closed_before),
        ).fetchall()
        s = main["sensor"].astype(np.int64)
        t, v, seq = main["time"], main["value"], main["seq"]
        q = main["quality"].astype(np.uint8)
        if gone:  # their samples come first: they were appended before this flush's
            gone.sort(key=lambda r: r[1])
            data = b"".join(bytes(r[3]) for r in gone)
            sizes = np.array([len(r[3]) for r in gone], np.int64)
            offs = np.cumsum(sizes) - sizes
            part = pg_codec.decode_many(np.frombuffer(data, np.uint8), offs)
            counts = np.array([int(r[2]) for r in gone], np.int64)
            s = np.r_[np.repeat([int(r[0]) for r in gone], counts), s]
            pseq = np.repeat([int(r[1]) for r in gone], counts)
            t, v, seq = np.r_[part.t, t], np.r_[part.v, v], np.r_[pseq, seq]
            q, tie = np.r_[part.q, q], np.r_[part.tie, tie]
        closed = np.floor(t / w) < closed_before
        for table, m in (("chunks", closed), ("tail", ~closed)):
            if m.any():
                cols, buf, offs, sizes = block_rows(s[m], t[m], v[m], seq[m], q[m], tie[m], w)
                self._copy_blocks(conn, table, cols, buf, offs, sizes)
        if closed.any():  # summarised once, now that no main sample can join them
            self._write_closed_summaries(conn, s[closed], t[closed], v[closed], tie[closed])
        conn.execute(
            self._sql("UPDATE {st} SET t_min = least(t_min, %s), ties_at_max = %s", st="state"),
            (t_min, ties_at_max),
        )

    def _write_closed_summaries(
        self,
        conn: psycopg.Connection,
        s: NDArray[Any],
        t: F64,
        v: F64,
        tie: NDArray[np.uint32],
    ) -> None:
        """The summary levels and roll-ups of the blocks a flush closes
        (:mod:`twinviewer.history.pg_rollups`)."""
        raise NotImplementedError

    def _copy_blocks(
        self,
        conn: psycopg.Connection,
        table: str,
        cols: dict[str, np.ndarray],
        buf: NDArray[np.uint8],
        offsets: NDArray[np.int64],
        sizes: NDArray[np.int64],
    ) -> None:
        pg = self._psycopg
        names = [f for f, _ in CHUNK_FIELDS] + ["data"]
        stmt = pg.sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
            self._t(table), pg.sql.SQL(", ").join(pg.sql.Identifier(f) for f in names)
        )
        send_copy(conn, stmt, pack_copy_blobs(CHUNK_FIELDS, cols, buf, offsets, sizes))

    def _block_retention(self, conn: psycopg.Connection, cutoff: float) -> int:
        """Delete the blocks that end before ``cutoff`` (whole blocks: a block that straddles
        the cutoff stays until it is all older) and the late rows before it; how many samples
        went. The open block (the tail) stays until it closes, even when all older than the
        cutoff (a recorder fed old data, or restarted long after): its samples are in no summary
        or roll-up until then (pg_rollups). The oldest time held is looked up again (one index
        probe per sensor)."""
        gone = 0
        for table in ("chunks",):
            row = conn.execute(
                self._sql(
                    "WITH d AS (DELETE FROM {x} WHERE t1 < %s RETURNING n) "
                    "SELECT coalesce(sum(n), 0) FROM d",
                    x=table,
                ),
                (cutoff,),
            ).fetchone()
            gone += int(row[0]) if row else 0
        cur = conn.execute(self._sql("DELETE FROM {la} WHERE time < %s", la="late"), (cutoff,))
        gone += max(cur.rowcount, 0)
        if gone:
            conn.execute(
                self._sql(
                    "UPDATE {st} SET t_min = coalesce(least("
                    "(SELECT min(m) FROM {se} s, LATERAL (SELECT t0 AS m FROM {ch} c "
                    "WHERE c.sensor = s.idx ORDER BY t0 LIMIT 1) x), "
                    "(SELECT min(t0) FROM {ta}), (SELECT min(time) FROM {la})), 'Infinity')",
                    st="state",
                    se="sensors",
                    ch="chunks",
                    ta="tail",
                    la="late",
                )
            )
        return gone
