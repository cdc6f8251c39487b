"""The read side of the PostgreSQL history backend: the state at t, stepping, chart series,
reading a window, the recorded gaps.

:class:`PostgresQueries` is the base of
:class:`~twinviewer.history.postgres.PostgresHistoryStore`; its queries have the contract of the
embedded store's and are answered by the server (keyframe + replay + latest late row for
``at``, raw rows or time-aligned blocks for ``series``), each result column crossing as one
``bytea``; gaps are few and come back as rows. The writer, which keeps what these queries
read, is in :mod:`twinviewer.history.postgres` (whose docstring describes the design).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from twinviewer.core.gaps import Gap
from twinviewer.history.pg_copy import F64, SERIES_FIELDS, STATE_FIELDS
from twinviewer.history.pg_tables import PostgresTables
from twinviewer.history.rows import raw_buckets

if TYPE_CHECKING:
    import psycopg

READ_CHUNK = 262_144  # samples per row of read()'s answer


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
