"""The read side of the PostgreSQL history's *block layout* (tables: :mod:`.pg_blocks`).

:class:`BlockQueries` overrides the queries of :class:`~twinviewer.history.pg_queries.
PostgresQueries` for schemas of the block layout (``self.layout == "blocks"``) and hands the
row layout's schemas to them unchanged. The contract is the embedded store's:

* **at(t)**: the newest keyframe with ``kt <= t`` (the state after one main sample), then per
  sensor the *part* (a chunk or a tail part) with the greatest ``(t0, seq)`` among those with
  ``t0 <= t`` and ``t1 >= kt``: the parts of one sensor's main samples follow one another in
  time (a flush's main samples are never older than the previous flush's), so that part holds
  the sensor's latest main sample at or before t. When the part ends at or before t that is its
  ``(t1, vlast)``, read without decoding. Else the *server* cuts the few samples around t out
  of it (:data:`AT_PARTS`): the block's slot table (:mod:`.pg_codec`, format 3) gives the run
  of positions that holds the answer, ~9 samples of a 100-sample block, and two
  ``substring`` calls take their time residuals and values (times and values are fixed-width
  records); the client decodes only those (:func:`.pg_codec.values_at_windows`, all sensors at
  once). The cut is made for every candidate part (~1.3 a sensor) and the client picks each
  sensor's part (greatest ``(t0, seq)``): a ``DISTINCT ON`` would sort them on the server,
  and the rows come back as one record string (one aggregate, not one per column, none of
  them sorting its input: at 10,000 rows each sorted aggregate cost ~5 ms). Then the latest
  ``late`` row, which wins a tie. Only the blocks around t are read (BRIN index on ``t0``):
  ``t0 >= kt - block_width``.
  *Why this way* (measured, ``twinviewer bench history --backend postgres``, 10^7 samples,
  2 shared cores, noisy): the first block format (delta-of-delta times) had every sensor's
  whole block around t cross the wire and its times decoded: ~7 MB and 10^6 times at 10,000
  sensors, p95 105 ms at 1,000 sensors and 241 ms at 10,000. Keyframes holding each sensor's
  position in its block would still leave the samples between the keyframe and t (~25 a
  sensor with keyframes every 50 samples a sensor; more keyframes cost 16 bytes a sensor each,
  which the ~10 bytes a sample cannot carry), and delta-of-delta times cannot be cut in the
  middle. Times as residuals against the block's straight line cost what the delta-of-deltas
  cost (the random walk of random arrival times, or the jitter of a regular feed), and the slot
  table ~0.1 byte a sample. Measured after the change (same benchmark, same noisy machine; the
  row layout and the embedded store in the same run were ~1.5x slower than in the run before):
  p95 12.9 ms at 1,000 sensors (target < 10) and 102 ms at 10,000 (target < 25); bytes per
  sample 10.1 / 11.5. What is left at 10,000 sensors (EXPLAIN ANALYZE, one at(t)): one
  candidate part a sensor, so ~10,000 rows; the BRIN scan of their pages ~9 ms, the per-row
  window expressions ~23 ms (~2 us a row: a dozen byte reads and substrings), the aggregate
  ~10 ms, then ~15 ms of decoding here. At 10^8 samples (same benchmark) p95 is 23 ms at
  1,000 sensors and 110 ms at 10,000, where the row layout's time-major rows answer in 11 and
  16 ms (at 20 times the disk and a tenth of the ingest rate). Tried and not kept: a generic
  plan (planning is ~5 ms, no gain measured), parallel workers (no gain on two busy cores), a
  btree on the tail's t0 (slower). Two ways remain: fetch the slot tables first and cut by
  ``ctid`` in a second round trip (the server then does no per-row arithmetic), or a column
  per block with the positions at fixed fractions of the block.
* **series** below ``raw_rows_limit`` samples decodes the sensor's blocks in range (btree on
  ``(sensor, t0)``) and buckets them exactly; longer ranges use the summary blocks of the row
  layout (written alike for both layouts).
* **read** decodes the blocks overlapping the window: by time, ties in append order, which
  the blocks keep as each sample's *tie rank* among the main samples of its time (the global
  append rank would cost 2-3 bytes a sample; the tie rank costs nothing unless sensors share
  times), then the late rows by their append rank.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from twinviewer.history import pg_codec
from twinviewer.history.pg_copy import F64, SEND, STATE_FIELDS
from twinviewer.history.pg_queries import PostgresQueries
from twinviewer.history.rows import raw_buckets

if TYPE_CHECKING:
    import psycopg

CHUNK_FIELDS = [
    ("sensor", "i4"),
    ("t0", "f8"),
    ("t1", "f8"),
    ("seq", "i8"),
    ("n", "i4"),
    ("vmin", "f8"),
    ("vmax", "f8"),
    ("vfirst", "f8"),
    ("vlast", "f8"),
]
PARTS = "(SELECT * FROM {ch} UNION ALL SELECT * FROM {ta})"


def _slot_entry(i: str) -> str:
    """SQL: entry ``i`` of a block's slot table (:mod:`.pg_codec`), ``h.ew`` bytes wide."""
    b = [f"get_byte(p.data, {28 + k} + h.ew * ({i}))" for k in range(4)]
    return (
        f"CASE h.ew WHEN 1 THEN {b[0]} WHEN 2 THEN {b[0]} + 256 * {b[1]} "
        f"ELSE {b[0]} + 256 * {b[1]} + 65536 * {b[2]} + 16777216 * {b[3]} END"
    )


# at(t): per sensor the part holding its latest main sample at or before t (when it reaches
# past t: the window of the samples around t that its slot table gives, cut out of the block
# as its time mode / widths, the residual records and the value records: pg_codec). The
# server may compute the lateral's expressions before its WHERE: each is safe on any row.
AT_PARTS = (
    "SELECT p.sensor, p.t0, p.t1, p.seq, p.n, p.vlast, coalesce(w.lo, -1) AS lo, "
    "coalesce(w.hi, -1) AS hi, CASE WHEN p.t1 > %(t)s THEN substring(p.data, 2, 3) "
    "|| substring(p.data, w.r0 + (greatest(w.lo, 1) - 1) * w.tw + 1, "
    "greatest(least(w.hi, p.n - 2) - greatest(w.lo, 1) + 1, 0) * w.tw) "
    "|| substring(p.data, w.r0 + greatest(p.n - 2, 0) * w.tw + w.lo * w.vw + 1, "
    "(w.hi - w.lo + 1) * w.vw) END AS d "
    "FROM {parts} p "
    "LEFT JOIN LATERAL (SELECT h.tw, h.vw, h.r0, "
    f"greatest(CASE WHEN h.s = 0 THEN 0 ELSE {_slot_entry('h.s - 1')} END - 1, 0) AS lo, "
    f"CASE WHEN h.s >= h.k - 1 THEN p.n ELSE {_slot_entry('h.s')} END - 1 AS hi "
    "FROM (SELECT e.*, 28 + greatest(e.k - 1, 0) * e.ew AS r0, "
    "CASE WHEN e.k = 0 OR NOT (p.t1 > %(t)s) THEN 0 "
    "ELSE least(e.k - 1, floor((%(t)s - p.t0) / (p.t1 - p.t0) * e.k)::int) END AS s "
    "FROM (SELECT get_byte(p.data, 2) AS tw, get_byte(p.data, 3) AS vw, "
    "get_byte(p.data, 6) + 256 * get_byte(p.data, 7) AS k, "
    "CASE WHEN p.n <= 255 THEN 1 WHEN p.n <= 65535 THEN 2 ELSE 4 END AS ew) e) h "
    "WHERE p.t1 > %(t)s) w ON true "
    "WHERE p.t0 >= %(lo)s AND p.t0 <= %(t)s AND p.t1 >= %(kt)s"
)
AT_FIELDS = [
    ("sensor", "i4"),
    ("t0", "f8"),
    ("t1", "f8"),
    ("seq", "i8"),
    ("n", "i4"),
    ("vlast", "f8"),
    ("lo", "i4"),
    ("hi", "i4"),
]


def _last_per_sensor(
    sensor: NDArray[np.int32], t0: F64, seq: NDArray[np.int64]
) -> NDArray[np.intp]:
    """Indices of the row with the greatest ``(t0, seq)`` of each sensor, by sensor."""
    order = np.lexsort((seq, t0, sensor))
    last = np.ones(len(order), bool)
    s = sensor[order]
    last[:-1] = s[1:] != s[:-1]
    return order[last]


class BlockQueries(PostgresQueries):
    """The block layout's queries (module docstring)."""

    layout: str  # "rows" or "blocks": the schema's
    block_width: float  # seconds (block layout)

    # -- fetching blocks -----------------------------------------------------------------------

    def _fetch_parts(
        self,
        conn: psycopg.Connection,
        query: str,
        params: Sequence[Any] | Mapping[str, Any],
        fields: Sequence[tuple[str, str]],
        order: str | None,
        data: str = "data",
    ) -> tuple[dict[str, np.ndarray], NDArray[np.uint8], NDArray[np.int64]]:
        """Columns of ``query`` (each as one ``bytea``, like ``_fetch_columns``) and its
        ``data`` expression: ``(columns, codec buffer, offset of each row's block or -1)``.
        ``order``: the rows' order, or ``None``: any (the caller sorts; each aggregate sorting
        its own input costs ~5 ms per column at 10,000 rows). The columns stay aligned either
        way: the aggregates of one query consume the same rows in the same sequence."""
        by = f" ORDER BY {order}" if order else ""
        # one record a row: the fields and the length of its block (-1: none), big-endian
        # (one aggregate for all of them: each aggregate costs ~2 ms per 10,000 rows)
        record = " || ".join(
            [f"{SEND[c]}({n})" for n, c in fields] + [f"int4send(coalesce(length({data}), -1))"]
        )
        sql = (
            f"SELECT string_agg({record}, ''::bytea{by}), string_agg({data}, ''::bytea{by}) "
            f"FROM ({query}) r"
        )
        row = conn.execute(
            self._sql(sql, ch="chunks", ta="tail", la="late", kf="keyframes"), params
        ).fetchone()
        dt = np.dtype([(n, ">" + c) for n, c in fields] + [("_length", ">i4")])
        recs = np.frombuffer(row[0] or b"" if row else b"", dt)
        out = {n: recs[n].astype("<" + c) for n, c in fields}
        lengths = recs["_length"].astype(np.int64)
        sizes = np.maximum(lengths, 0)
        offsets = np.cumsum(sizes) - sizes
        offsets[lengths < 0] = -1
        return out, np.frombuffer(row[1] or b"" if row else b"", np.uint8), offsets

    @staticmethod
    def _decode(
        buf: NDArray[np.uint8], offsets: NDArray[np.int64]
    ) -> tuple[pg_codec.Decoded, NDArray[np.int64]]:
        """Decode the blocks at ``offsets`` (all >= 0): the samples and each block's count."""
        d = pg_codec.decode_many(buf, offsets)
        return d, np.diff(np.append(d.starts, len(d.t)))

    # -- at(t) ---------------------------------------------------------------------------------

    def _state_at(
        self, conn: psycopg.Connection, t: float, main_only: bool = False
    ) -> tuple[F64, F64]:
        if self.layout != "blocks":
            return super()._state_at(conn, t, main_only)
        n = self.n_store
        kt, value, when = self._keyframe_at(conn, t)
        cols, buf, offs = self._fetch_parts(
            conn,
            AT_PARTS.replace("{parts}", PARTS),
            {"t": t, "lo": kt - self.block_width, "kt": kt},
            AT_FIELDS,
            None,
            data="d",
        )
        # per sensor the part with the greatest (t0, seq): the server returns every candidate
        # (~1.3 a sensor) unsorted; a DISTINCT ON would sort them there, slower than numpy here
        pick = _last_per_sensor(cols["sensor"], cols["t0"], cols["seq"])
        cols = {k: c[pick] for k, c in cols.items()}
        offs = offs[pick]
        s = cols["sensor"].astype(np.int64)
        pv, pt = cols["vlast"], cols["t1"]
        inside = offs >= 0
        if inside.any():
            # per part: the last sample at or before t, from the few samples cut around t
            pt, pv = pt.copy(), pv.copy()
            pt[inside], pv[inside] = pg_codec.values_at_windows(
                buf,
                offs[inside],
                cols["t0"][inside],
                cols["t1"][inside],
                cols["n"][inside],
                cols["lo"][inside],
                cols["hi"][inside],
                t,
            )
        ok = s < n
        value[s[ok]] = pv[ok]
        when[s[ok]] = pt[ok]
        if not main_only:
            self._overlay_late(conn, t, value, when)
        return value, when

    def _overlay_late(self, conn: psycopg.Connection, t: float, value: F64, when: F64) -> None:
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
            ok = s < len(value)
            s, lt, lv = s[ok], late["time"][ok], late["value"][ok]
            cur = when[s]
            take = np.isnan(cur) | (lt >= cur)  # a late row wins a tie: appended after
            value[s[take]] = lv[take]
            when[s[take]] = lt[take]

    # -- samples of parts in a window ------------------------------------------------------------

    def _samples(
        self, conn: psycopg.Connection, t0: float, t1: float, sensor: int | None
    ) -> tuple[NDArray[np.int64], F64, F64]:
        """Every sample in ``[t0, t1]`` (of ``sensor``, or all) as ``(sensor, time, value)``,
        by time, ties in append order: main samples by their tie rank, then late rows by
        their append rank (a late row was appended after every main sample of its time)."""
        where = "t0 >= %s AND t0 <= %s AND t1 >= %s"
        params: list[Any] = [t0 - self.block_width, t1, t0]
        if sensor is not None:
            where += " AND sensor = %s"
            params.append(sensor)
        cols, buf, offs = self._fetch_parts(
            conn,
            f"SELECT sensor, t0, seq, data FROM {PARTS} p WHERE {where}",
            params,
            [("sensor", "i4")],
            "sensor, t0, seq",
        )
        d, counts = self._decode(buf, offs)
        bt, bv = d.t, d.v
        bs = np.repeat(cols["sensor"].astype(np.int64), counts)
        late_where = "time >= %s AND time <= %s" + (
            " AND sensor = %s" if sensor is not None else ""
        )
        late = self._fetch_columns(
            conn,
            self._sql(f"SELECT sensor, time, value, seq FROM {{la}} WHERE {late_where}", la="late"),
            (t0, t1) if sensor is None else (t0, t1, sensor),
            [("sensor", "i4"), ("time", "f8"), ("value", "f8"), ("seq", "i8")],
            order="time, seq",
        )
        nl = len(late["time"])
        s = np.r_[bs, late["sensor"].astype(np.int64)]
        t = np.r_[bt, late["time"]]
        v = np.r_[bv, late["value"]]
        late_last = np.r_[np.zeros(len(bt), np.int8), np.ones(nl, np.int8)]
        rank = np.r_[d.tie.astype(np.int64), late["seq"]]
        keep = (t >= t0) & (t <= t1)
        s, t, v = s[keep], t[keep], v[keep]
        order = np.lexsort((rank[keep], late_last[keep], t))
        return s[order], t[order], v[order]

    def _series_raw(
        self, conn: psycopg.Connection, s: int, t0: float, t1: float, pixels: int
    ) -> tuple[F64, F64, F64, F64]:
        if self.layout != "blocks":
            return super()._series_raw(conn, s, t0, t1, pixels)
        _, t, v = self._samples(conn, t0, t1, s)
        return raw_buckets(t, v, t0, t1, pixels)

    def _series_blocks(
        self, conn: psycopg.Connection, s: int, t0: float, t1: float, pixels: int
    ) -> tuple[F64, F64, F64, F64]:
        """Long ranges: the coarsest summary with at least ``2 * pixels`` blocks over the range,
        the compressed blocks themselves being the finest one (their ``n, t0, vmin, vmax,
        vlast`` merged with the late rows) and the summary table's levels the coarser ones."""
        if self.layout != "blocks":
            return super()._series_blocks(conn, s, t0, t1, pixels)
        w = self.block_width
        coarser = [x for x in self.levels if x > w and (t1 - t0) / x >= 2 * pixels]
        if coarser:
            return super()._series_blocks(conn, s, t0, t1, pixels)
        lo, hi = np.floor(t0 / w), np.floor(t1 / w)
        parts = self._fetch_columns(
            conn,
            self._sql(
                f"SELECT t0, t1, seq, vmin, vmax, vlast FROM {PARTS} p WHERE sensor = %s "
                "AND t0 >= %s AND t0 < %s",
                ch="chunks",
                ta="tail",
            ),
            (s, lo * w, (hi + 1) * w),
            [
                ("t0", "f8"),
                ("t1", "f8"),
                ("seq", "i8"),
                ("vmin", "f8"),
                ("vmax", "f8"),
                ("vlast", "f8"),
            ],
        )
        late = self._fetch_columns(
            conn,
            self._sql(
                "SELECT time, seq, value FROM {la} WHERE sensor = %s AND time >= %s AND time < %s",
                la="late",
            ),
            (s, lo * w, (hi + 1) * w),
            [("time", "f8"), ("seq", "i8"), ("value", "f8")],
        )
        first = np.r_[parts["t0"], late["time"]]
        last = np.r_[parts["t1"], late["time"]]
        if not len(first):
            empty = np.zeros(0)
            return empty, empty, empty, empty
        vmin = np.r_[parts["vmin"], late["value"]]
        vmax = np.r_[parts["vmax"], late["value"]]
        vlast = np.r_[parts["vlast"], late["value"]]
        is_late = np.r_[np.zeros(len(parts["t0"]), np.int8), np.ones(len(late["time"]), np.int8)]
        seq = np.r_[parts["seq"], late["seq"]]
        b = np.floor(first / w)
        # per block the entry with the greatest (last time, late after main, append rank) last
        order = np.lexsort((seq, is_late, last, b))
        b, first, vmin, vmax, vlast = b[order], first[order], vmin[order], vmax[order], vlast[order]
        starts = np.flatnonzero(np.r_[True, b[1:] != b[:-1]])
        ends = np.append(starts[1:], len(b)) - 1
        with np.errstate(invalid="ignore"):
            bmin = np.fmin.reduceat(vmin, starts)
            bmax = np.fmax.reduceat(vmax, starts)
        bfirst = np.minimum.reduceat(first, starts)
        blast = vlast[ends]
        nblk = len(starts)
        group = -(-nblk // pixels)  # at most `pixels` buckets
        g = np.arange(0, nblk, group)
        bt = bfirst[g]
        bt[0] = min(t0, float(bt[0]))
        with np.errstate(invalid="ignore"):
            gmin = np.fmin.reduceat(bmin, g)
            gmax = np.fmax.reduceat(bmax, g)
        return bt, gmin, gmax, blast[np.append(g[1:], nblk) - 1]

    def read(self, t0: float = -np.inf, t1: float = np.inf) -> tuple[NDArray[np.int64], F64, F64]:
        """Every stored sample with ``t0 <= time <= t1`` as ``(store sensor, time, value)``,
        ordered by time, then append order (block layout: module docstring)."""
        if self.layout != "blocks":
            return super().read(t0, t1)
        with self._query() as conn:
            return self._samples(conn, float(t0), float(t1), None)

    # -- time range, stepping --------------------------------------------------------------------

    def _time_range(self, conn: psycopg.Connection) -> tuple[float, float] | None:
        if self.layout != "blocks":
            return super()._time_range(conn)
        row = conn.execute(self._sql("SELECT t_min, max_main FROM {st}", st="state")).fetchone()
        if row is None or not np.isfinite(row[0]) or not np.isfinite(row[1]):
            return None
        return float(row[0]), float(row[1])

    def neighbour(
        self, t: float, direction: int, sensors: Sequence[int] | None = None
    ) -> float | None:
        """The time of the nearest sample after (``direction > 0``) or before ``t`` of the given
        project sensors (default: any sensor); None when there is none."""
        if self.layout != "blocks":
            return super().neighbour(t, direction, sensors)
        t = float(t)
        if sensors is None:
            ids = list(range(self.n_store))
        else:
            idx = self._proj_to_store[np.asarray(list(sensors), np.int64)]
            ids = [int(i) for i in idx if i >= 0]
        if not ids:
            return None
        fwd = direction > 0
        # per sensor: the part that may hold t (decoded when it reaches past t), and for
        # forward steps the first part after t
        near = (
            f"SELECT * FROM {PARTS} p WHERE p.sensor = s.id AND t0 <= %s "
            "ORDER BY t0 DESC, seq DESC LIMIT 1"
            if fwd
            else f"SELECT * FROM {PARTS} p WHERE p.sensor = s.id AND t0 < %s "
            "ORDER BY t0 DESC, seq DESC LIMIT 1"
        )
        reach = "x.t1 > %s" if fwd else "x.t1 >= %s"
        with self._query() as conn:
            cols, buf, offs = self._fetch_parts(
                conn,
                f"SELECT x.t1 AS t1, CASE WHEN {reach} THEN x.data END AS d "
                f"FROM unnest(%s::int[]) s(id), LATERAL ({near}) x",
                (t, ids, t),
                [("t1", "f8")],
                "t1",
                data="d",
            )
            found: list[float] = []
            inside = offs >= 0
            if inside.any():
                bt = self._decode(buf, offs[inside])[0].t
                side = bt[bt > t] if fwd else bt[bt < t]
                if len(side):
                    found.append(float(side.min() if fwd else side.max()))
            if not fwd and (~inside).any():
                found.append(float(cols["t1"][~inside].max()))
            if fwd:
                row = conn.execute(
                    self._sql(
                        "SELECT min(y.t0) FROM unnest(%s::int[]) s(id), LATERAL ("
                        f"SELECT t0 FROM {PARTS} p WHERE p.sensor = s.id AND t0 > %s "
                        "ORDER BY t0 LIMIT 1) y",
                        ch="chunks",
                        ta="tail",
                    ),
                    (ids, t),
                ).fetchone()
                if row and row[0] is not None:
                    found.append(float(row[0]))
            op, agg, order = (">", "min", "ASC") if fwd else ("<", "max", "DESC")
            row = conn.execute(
                self._sql(
                    f"SELECT {agg}(x) FROM unnest(%s::int[]) s(id), LATERAL (SELECT time AS x "
                    f"FROM {{la}} WHERE sensor = s.id AND time {op} %s ORDER BY time {order} "
                    "LIMIT 1) r",
                    la="late",
                ),
                (ids, t),
            ).fetchone()
            if row and row[0] is not None:
                found.append(float(row[0]))
        if not found:
            return None
        return min(found) if fwd else max(found)
