"""The read side of the PostgreSQL history backend: the state at t, stepping, chart series,
reading a window, the recorded gaps.

:class:`PostgresQueries` is the base of
:class:`~twinviewer.history.postgres.PostgresHistoryStore`; its queries have the contract of the
embedded store's and are answered by the server (keyframe + replay + latest late row for
``at``, raw rows or time-aligned blocks for ``series``), each result column crossing as one
``bytea``; gaps are few and come back as rows. The writer, which keeps what these queries
read, is in :mod:`twinviewer.history.postgres` (whose docstring describes the design).

Summaries and roll-ups (:mod:`twinviewer.history.pg_rollups`): a series over summary buckets
reads one level's rows of the sensor and, for the block layout, adds the samples of the still
open blocks (the tail's parts, decoded here: they are in no summary until their block closes),
so the right end of a chart never lags. Where the raw data is gone (retention) the roll-ups
answer: :meth:`PostgresQueries.time_range` reaches back as far as they do, ``series`` over a
range that starts before the raw data reads a roll-up (:meth:`PostgresQueries._rollup_for`),
and ``at(t)`` fills the sensors the raw data holds nothing for from the roll-ups' latest bucket
that ends by t. :meth:`PostgresQueries.series_mean` gives the buckets' means (PostgreSQL
only: the embedded store keeps no sums).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from twinviewer.core.gaps import Gap
from twinviewer.history import pg_codec
from twinviewer.history.pg_copy import BLOCK_FIELDS, F64, SERIES_FIELDS, STATE_FIELDS, blocks_of
from twinviewer.history.pg_tables import PostgresTables, Rollup
from twinviewer.history.rows import raw_buckets

if TYPE_CHECKING:
    import psycopg

READ_CHUNK = 262_144  # samples per row of read()'s answer
# a summary row without its key's level and sensor: one sensor's buckets of one level
SUMMARY_FIELDS = [f for f in BLOCK_FIELDS if f[0] not in ("level", "sensor")]
Summary = dict[str, np.ndarray]  # the SUMMARY_FIELDS columns of one sensor's buckets, by b


def merge_summaries(old: Summary, new: Summary) -> Summary:
    """Buckets of ``old`` and ``new`` (each by ``b``, at most one row per bucket) as one: a
    bucket in both gets the new ``vlast`` only when its last time is later (``old`` wins a
    tie: what is stored beside the open blocks on their times are late rows)."""
    if not len(new["b"]):
        return old
    cols = {k: np.r_[old[k], new[k]] for k, _ in SUMMARY_FIELDS}
    is_new = np.r_[np.zeros(len(old["b"]), np.int8), np.ones(len(new["b"]), np.int8)]
    order = np.lexsort((is_new, cols["b"]))
    cols = {k: c[order] for k, c in cols.items()}
    starts = np.flatnonzero(np.r_[True, cols["b"][1:] != cols["b"][:-1]])
    ends = np.append(starts[1:], len(cols["b"])) - 1
    out: Summary = {"b": cols["b"][starts]}
    for k in ("n", "vsum", "nfin"):
        out[k] = np.add.reduceat(cols[k], starts)
    out["t_first"] = np.minimum.reduceat(cols["t_first"], starts)
    out["t_last"] = np.maximum.reduceat(cols["t_last"], starts)
    with np.errstate(invalid="ignore"):
        out["vmin"] = np.fmin.reduceat(cols["vmin"], starts)
        out["vmax"] = np.fmax.reduceat(cols["vmax"], starts)
    later = cols["t_last"][ends] > cols["t_last"][starts]  # two rows: the new one is later
    out["vlast"] = np.where(later, cols["vlast"][ends], cols["vlast"][starts])
    return out


def group_summary(rows: Summary, t0: float, pixels: int) -> tuple[F64, F64, F64, F64, F64]:
    """Buckets (by ``b``) grouped into at most ``pixels``: ``(t, vmin, vmax, vlast, mean)``,
    ``t`` the first time of each group (the first one at most ``t0``), mean NaN where a group
    holds no finite value."""
    nblk = len(rows["b"])
    if nblk == 0:
        empty = np.zeros(0)
        return empty, empty, empty, empty, empty
    group = -(-nblk // pixels)
    starts = np.arange(0, nblk, group)
    ends = np.append(starts[1:], nblk) - 1
    bt = rows["t_first"][starts].astype(np.float64)
    bt[0] = min(t0, float(bt[0]))
    with np.errstate(invalid="ignore", divide="ignore"):
        vmin = np.fmin.reduceat(rows["vmin"].astype(np.float64), starts)
        vmax = np.fmax.reduceat(rows["vmax"].astype(np.float64), starts)
        nfin = np.add.reduceat(rows["nfin"], starts)
        mean = np.where(nfin > 0, np.add.reduceat(rows["vsum"], starts) / nfin, np.nan)
    return bt, vmin, vmax, rows["vlast"][ends].astype(np.float64), mean


class PostgresQueries(PostgresTables):
    """The queries of a PostgreSQL history store (module docstring)."""

    raw_rows_limit: int

    def _keyframe_at(self, conn: psycopg.Connection, t: float) -> tuple[float, F64, F64]:
        """The newest keyframe at or before ``t``: its time (-inf: none) and the value and time
        of every sensor it holds (NaN for the others)."""
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
        if row is None:
            return -np.inf, value, when
        k = min(int(row[1]), n)
        value[:k] = np.frombuffer(row[2], "<f8")[:k]
        when[:k] = np.frombuffer(row[3], "<f8")[:k]
        return float(row[0]), value, when

    def _state_at(
        self, conn: psycopg.Connection, t: float, main_only: bool = False
    ) -> tuple[F64, F64]:
        n = self.n_store
        lo, value, when = self._keyframe_at(conn, t)
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
        """Value and time of every *store* sensor at ``t`` (latest at or before; NaN if none).
        With roll-ups, a sensor whose answer the raw data no longer holds (none, or one older
        than the oldest raw sample: a keyframe's memory of deleted rows) gets the roll-ups'
        answer when it is at least as new: the last value of its latest bucket that ends at or
        before t, at that bucket's last time (on equal times the roll-up's, which also saw the
        late rows retention deleted)."""
        with self._query() as conn:
            value, when = self._state_at(conn, float(t))
            if self.rollups:
                old = np.isnan(when) | (when < self._raw_start(conn))
                if old.any():
                    self._overlay_rollups(conn, float(t), value, when, np.flatnonzero(old))
            return value, when

    def _overlay_rollups(
        self, conn: psycopg.Connection, t: float, value: F64, when: F64, ids: NDArray[np.intp]
    ) -> None:
        """The roll-ups' answer at ``t`` for the sensors ``ids``: per sensor the bucket with the
        greatest last time at or before t over every roll-up (two index probes per sensor and
        roll-up, at most), where it is at least as new as the answer there."""
        got = self._fetch_columns(
            conn,
            self._sql(
                "SELECT DISTINCT ON (sensor) sensor, value, time FROM (SELECT s.id AS sensor, "
                "x.vlast AS value, x.t_last AS time FROM unnest(%s::int[], %s::float8[]) "
                "l(level, width), unnest(%s::int[]) s(id), LATERAL (SELECT vlast, t_last "
                "FROM {bl} WHERE level = l.level AND sensor = s.id "
                "AND b <= floor(%s / l.width) AND t_last <= %s ORDER BY b DESC LIMIT 1) x) r "
                "ORDER BY sensor, time DESC",
                bl="blocks",
            ),
            (
                [r.level for r in self.rollups],
                [r.width for r in self.rollups],
                ids.tolist(),
                t,
                t,
            ),
            STATE_FIELDS,
        )
        s = got["sensor"].astype(np.int64)
        take = np.isnan(when[s]) | (got["time"] >= when[s])
        value[s[take]] = got["value"][take]
        when[s[take]] = got["time"][take]

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
                held = self._held_range(conn)
                if held is None:
                    return empty, empty, empty, empty
                t0 = max(t0, held[0]) if np.isfinite(t0) else held[0]
                t1 = min(t1, held[1]) if np.isfinite(t1) else held[1]
            if t1 < t0:
                return empty, empty, empty, empty
            roll = self._rollup_for(conn, s, t0, t1, pixels)
            if roll is not None:
                return group_summary(self._summary_rows(conn, s, roll, t0, t1), t0, pixels)[:4]
            rows = self._estimate_rows(conn, s, t0, t1)
            if rows < self.raw_rows_limit:
                return self._series_raw(conn, s, t0, t1, pixels)
            return self._series_blocks(conn, s, t0, t1, pixels)

    def series_mean(self, sensor_index: int, t0: float, t1: float, pixels: int) -> tuple[F64, F64]:
        """One project sensor's mean over ``[t0, t1]`` in at most ``pixels`` buckets: ``(t,
        mean)``, ``t`` each bucket's first time, the mean that of its finite values (NaN: none).
        From the summaries only (PostgreSQL; the embedded store has no means): the roll-ups
        where the raw data is gone, else the coarsest summary level or roll-up with at least
        ``2 * pixels`` buckets over the range (the finest when none has): so a short range
        gets few, wide buckets. Buckets written before the schema had means hold none."""
        self._refresh_sensors()
        s = int(self._proj_to_store[sensor_index])
        pixels = max(1, int(pixels))
        empty = np.zeros(0)
        if s < 0 or not self.has_mean:
            return empty, empty
        with self._query() as conn:
            held = self._held_range(conn)
            if held is None:
                return empty, empty
            t0 = max(float(t0), held[0]) if np.isfinite(t0) else held[0]
            t1 = min(float(t1), held[1]) if np.isfinite(t1) else held[1]
            if t1 < t0:
                return empty, empty
            roll = self._rollup_for(conn, s, t0, t1, pixels)
            if roll is None:
                every = [Rollup(i, w, None) for i, w in enumerate(self.levels)]
                every = sorted(every + list(self.rollups), key=lambda r: r.width)
                roll = every[0]
                for r in every:
                    if (t1 - t0) / r.width >= 2 * pixels:
                        roll = r
            out = group_summary(self._summary_rows(conn, s, roll, t0, t1), t0, pixels)
        return out[0], out[4]

    # -- summaries and roll-ups ------------------------------------------------------------------

    def _raw_start(self, conn: psycopg.Connection) -> float:
        held = self._time_range(conn)
        return np.inf if held is None else held[0]

    def _rollup_start(self, conn: psycopg.Connection) -> float:
        """The oldest time the roll-ups hold (inf: none)."""
        if not self.rollups:
            return np.inf
        row = conn.execute(self._sql("SELECT t_roll FROM {st}", st="state")).fetchone()
        return float(row[0]) if row and row[0] is not None else np.inf

    def _held_range(self, conn: psycopg.Connection) -> tuple[float, float] | None:
        """What the raw data and the roll-ups hold, from the oldest to the newest time."""
        raw = self._time_range(conn)
        start = self._rollup_start(conn)
        if not np.isfinite(start) or (raw is not None and raw[0] <= start):
            return raw
        if raw is not None:
            return start, raw[1]
        row = conn.execute(self._sql("SELECT max_main FROM {st}", st="state")).fetchone()
        end = float(row[0]) if row else -np.inf
        return (start, max(end, start)) if np.isfinite(end) else None

    def _rollup_for(
        self, conn: psycopg.Connection, s: int, t0: float, t1: float, pixels: int
    ) -> Rollup | None:
        """The roll-up a series over ``[t0, t1]`` reads: None while the raw data covers t0 (or
        no roll-up holds anything older). Else, among the roll-ups that hold the sensor's data
        back to t0, the coarsest with at least ``2 * pixels`` buckets over the range (the
        finest when none has); when none reaches back to t0, the one that reaches furthest."""
        if not self.rollups:
            return None
        raw = self._raw_start(conn)
        if t0 >= raw or self._rollup_start(conn) >= raw:
            return None
        rows = conn.execute(
            self._sql(
                "SELECT (SELECT b FROM {bl} WHERE level = l AND sensor = %s ORDER BY b LIMIT 1) "
                "FROM unnest(%s::int[]) WITH ORDINALITY u(l, k) ORDER BY k",
                bl="blocks",
            ),
            (s, [r.level for r in self.rollups]),
        ).fetchall()
        oldest = [
            np.inf if b is None else int(b) * r.width
            for (b,), r in zip(rows, self.rollups, strict=True)
        ]
        cover = [r for r, o in zip(self.rollups, oldest, strict=True) if o <= t0]
        if not cover:
            if not np.isfinite(min(oldest)):
                return None
            return self.rollups[int(np.argmin(oldest))]
        pick = cover[0]
        for r in cover:
            if (t1 - t0) / r.width >= 2 * pixels:
                pick = r
        return pick

    def _summary_rows(
        self, conn: psycopg.Connection, s: int, level: Rollup, t0: float, t1: float
    ) -> Summary:
        """Sensor ``s``'s buckets of one summary level or roll-up over ``[t0, t1]``, by bucket;
        the block layout's still open blocks (the tail, in no summary yet) added to them."""
        w = level.width
        lo, hi = int(np.floor(t0 / w)), int(np.floor(t1 / w))
        fields = SUMMARY_FIELDS if self.has_mean else SUMMARY_FIELDS[:-2]
        rows = self._fetch_columns(
            conn,
            self._sql(
                f"SELECT {', '.join(f for f, _ in fields)} FROM {{bl}} "
                "WHERE level = %s AND sensor = %s AND b BETWEEN %s AND %s",
                bl="blocks",
            ),
            (level.level, s, lo, hi),
            fields,
            order="b",
        )
        if not self.has_mean:
            rows["vsum"] = np.zeros(len(rows["b"]))
            rows["nfin"] = np.zeros(len(rows["b"]), np.int64)
        if self.layout == "blocks":
            rows = merge_summaries(rows, self._tail_summary(conn, s, w, lo, hi))
        return rows

    def _tail_summary(
        self, conn: psycopg.Connection, s: int, w: float, lo: int, hi: int
    ) -> Summary:
        """Buckets of ``w`` seconds (``lo..hi``) of sensor ``s``'s samples in the tail (the open
        blocks' parts: one block per sensor, a part per flush), decoded here."""
        parts = conn.execute(
            self._sql(
                "SELECT data FROM {ta} WHERE sensor = %s AND t1 >= %s AND t0 < %s ORDER BY seq",
                ta="tail",
            ),
            (s, lo * w, (hi + 1) * w),
        ).fetchall()
        if not parts:
            return {k: np.zeros(0, "<" + c) for k, c in SUMMARY_FIELDS}
        sizes = np.array([len(p[0]) for p in parts], np.int64)
        buf = np.frombuffer(b"".join(bytes(p[0]) for p in parts), np.uint8)
        d = pg_codec.decode_many(buf, np.cumsum(sizes) - sizes)
        b = np.floor(d.t / w)
        keep = (b >= lo) & (b <= hi)
        t, v, tie = d.t[keep], d.v[keep], d.tie[keep]
        order = np.lexsort((tie, t))  # parts in append order; a later part wins a tie
        t, v = t[order], v[order]
        if not len(t):
            return {k: np.zeros(0, "<" + c) for k, c in SUMMARY_FIELDS}
        cols = blocks_of(0, w, np.zeros(len(t), np.int64), t, v)
        return {k: cols[k] for k, _ in SUMMARY_FIELDS}

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
        rows = self._summary_rows(conn, s, Rollup(lv, self.levels[lv], None), t0, t1)
        return group_summary(rows, t0, pixels)[:4]

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
        """The oldest and the newest time held, the roll-ups' included (they may reach back
        further than the raw data)."""
        with self._query() as conn:
            return self._held_range(conn)

    # -- gaps ----------------------------------------------------------------------------------

    def gaps(
        self, t0: float | None = None, t1: float | None = None, sensor: str | None = None
    ) -> list[Gap]:
        """The recorded gaps overlapping ``t0..t1`` (None: unbounded) of ``sensor`` if given (a
        gap listing no sensors concerns all of them), sorted by start: the embedded store's
        contract, answered by the server."""
        with self._query() as conn:
            if not self._gaps_table_exists(conn):
                return []
            rows = conn.execute(
                self._sql(
                    "SELECT source, sensors, t_start, t_end, missing, cause, exact, detail "
                    "FROM {ga} WHERE t_end >= %s AND t_start <= %s "
                    "AND (%s::text IS NULL OR cardinality(sensors) = 0 OR %s = ANY(sensors)) "
                    "ORDER BY t_start, t_end, id",
                    ga="gaps",
                ),
                (
                    -np.inf if t0 is None else float(t0),
                    np.inf if t1 is None else float(t1),
                    sensor,
                    sensor,
                ),
            ).fetchall()
        return [
            Gap(
                source=r[0],
                sensors=tuple(r[1]),
                start=float(r[2]),
                end=float(r[3]),
                missing=int(r[4]),
                cause=r[5],
                exact=bool(r[6]),
                detail=r[7],
            )
            for r in rows
        ]

    def _gap_totals(self, conn: psycopg.Connection) -> tuple[int, int]:
        """``(gaps, samples missing over all of them)``."""
        if not self._gaps_table_exists(conn):
            return 0, 0
        row = conn.execute(
            self._sql("SELECT count(*), coalesce(sum(missing), 0) FROM {ga}", ga="gaps")
        ).fetchone()
        return (int(row[0]), int(row[1])) if row else (0, 0)
