"""The writer side of the PostgreSQL history's summaries: the summary levels and the roll-ups.

Both live in ``twinviewer_blocks`` (``level, sensor, b`` -> ``n, t_first, t_last, vmin, vmax,
vlast, vsum, nfin``): the *summary levels* (``levels`` in the state row: 100 s to 10^5 s for
the block layout, whose 10-s compressed blocks are the finest summary; 10 s and up for the
row layout) at level numbers 0, 1, ..., and the *roll-ups* the project asks for
(``history.rollups``: e.g. 1 s and 1 min, each with its own retention) at level numbers 100,
101, ... (``rollups`` in the state row, :class:`~twinviewer.history.pg_tables.Rollup`).
``vsum`` and ``nfin`` are the sum and the count of the finite values, so a bucket's mean is
``vsum / nfin``; NaN never reaches min, max or mean.

When they are written
---------------------
* **Row layout**: every flush upserts its rows' aggregates into every level (one ``COPY`` into
  a temporary table, one ``INSERT ... ON CONFLICT DO UPDATE``), as before roll-ups.
* **Block layout**: a main sample is summarised once, when its 10-s block *closes* (the flush
  that closes it has the block's samples at hand, merged from the tail's parts): levels whose
  buckets lie wholly inside a block (a width that divides the block width: 1-s roll-ups) are
  sent by a plain ``COPY`` into the table, as nothing else can have written those buckets,
  except late rows (looked up, those buckets are upserted instead); wider buckets (60 s,
  100 s, ...) are upserted once per block close. Late rows (older than the newest main time)
  are upserted as they arrive, in every level. So a flush that closes no block writes no
  summary at all: at 10 Hz and 1-s flushes, one flush in ten. The open blocks' samples (the
  tail) are in no summary; readers add them (:mod:`twinviewer.history.pg_queries`), so chart
  series stay exact up to the newest sample.
* **Tie rule**: a late row is appended after every main sample of its time, so an upsert of
  late rows takes the new ``vlast`` on equal times, and one of a closing block keeps the
  stored one (whose equal time can only come from a late row: blocks do not overlap).

Retention: the raw retention's cutoff applies to the summary levels, each roll-up's own cutoff
to it (:meth:`RollupWriter._summary_retention`): whole buckets, at most once per
:data:`ROLLUP_RETENTION_STEP` seconds of cutoff (or one bucket, if wider), one index range per
sensor (a ``DELETE ... WHERE level = L AND t_last < cutoff`` reads every row of the level).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from twinviewer.history.pg_blocks import BlockWriter, sensor_order, time_sorted_per_sensor
from twinviewer.history.pg_copy import BLOCK_FIELDS, F64, blocks_of, pack_copy, send_copy

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

# a roll-up's retention runs when its cutoff moved on by this many seconds (a delete per
# sensor: not at every flush)
ROLLUP_RETENTION_STEP = 60.0

_UPSERT = (
    "INSERT INTO {bl} AS o SELECT * FROM pg_temp.twinviewer_blocks_in "
    "ON CONFLICT (level, sensor, b) DO UPDATE SET n = o.n + excluded.n, "
    "t_first = least(o.t_first, excluded.t_first), "
    "t_last = greatest(o.t_last, excluded.t_last), "
    "vmin = CASE WHEN o.vmin = 'NaN' THEN excluded.vmin "
    "WHEN excluded.vmin = 'NaN' THEN o.vmin ELSE least(o.vmin, excluded.vmin) END, "
    "vmax = CASE WHEN o.vmax = 'NaN' THEN excluded.vmax "
    "WHEN excluded.vmax = 'NaN' THEN o.vmax ELSE greatest(o.vmax, excluded.vmax) END, "
    "vsum = o.vsum + excluded.vsum, nfin = o.nfin + excluded.nfin, "
    "vlast = CASE WHEN excluded.t_last {tie} o.t_last THEN excluded.vlast ELSE o.vlast END"
)


def check_rollups(rollups: Sequence[tuple[float, float | None]] | None, raw: float | None) -> None:
    """A ValueError naming the roll-up whose width is not positive, that comes twice, or whose
    retention is shorter than the raw data's (``raw``; None: raw data kept forever)."""
    seen: set[float] = set()
    for width, keep in rollups or ():
        if not (width > 0 and np.isfinite(width)):
            raise ValueError(f"history roll-up width {width!r}: expected a positive number of s")
        if width in seen:
            raise ValueError(f"history roll-up of {width:g}s given twice")
        seen.add(width)
        if keep is not None and (raw is None or keep < raw):
            held = "forever" if raw is None else f"{raw:g} s"
            raise ValueError(
                f"history roll-up of {width:g}s: retention {keep:g} s is shorter than the raw "
                f"data's ({held}); a roll-up must be kept at least as long as the raw data"
            )


def divides(block: float, width: float) -> bool:
    """Whether buckets of ``width`` seconds lie wholly inside blocks of ``block`` seconds."""
    k = block / width
    return width <= block and abs(k - round(k)) < 1e-9


def _concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([p[k] for p in parts]) for k, _ in BLOCK_FIELDS}


def _take(cols: dict[str, np.ndarray], m: NDArray[np.bool_]) -> dict[str, np.ndarray]:
    return {k: c[m] for k, c in cols.items()}


class RollupWriter(BlockWriter):
    """Writing the summary levels and roll-ups, and the roll-ups' retention (module
    docstring)."""

    _roll_cut: dict[int, int]  # level -> the bucket retention last cut at (this session)

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
        send_copy(conn, stmt, pack_copy(fields, cols))

    def _summary_levels(self) -> list[tuple[int, float]]:
        """``(level number, width)`` of every summary level and roll-up."""
        out = list(enumerate(self.levels))
        out += [(r.level, r.width) for r in self.rollups]
        return out

    def _aggregate(
        self, s: NDArray[Any], t: F64, v: F64, levels: list[tuple[int, float]]
    ) -> list[tuple[float, dict[str, np.ndarray]]]:
        """Per level ``(width, aggregates)`` of rows sorted by sensor, time, append order."""
        return [(w, blocks_of(lv, w, s, t, v)) for lv, w in levels]

    def _upsert(
        self, conn: psycopg.Connection, cols: dict[str, np.ndarray], new_wins: bool
    ) -> None:
        if not len(cols["level"]):
            return
        conn.execute(
            self._sql(
                "CREATE TEMP TABLE IF NOT EXISTS twinviewer_blocks_in "
                "(LIKE {bl}) ON COMMIT DELETE ROWS",
                bl="blocks",
            )
        )
        self._copy_in(conn, "pg_temp.twinviewer_blocks_in", BLOCK_FIELDS, cols)
        conn.execute(self._sql(_UPSERT.replace("{tie}", ">=" if new_wins else ">"), bl="blocks"))
        # a flush may upsert twice (a closing block's buckets, then late rows)
        conn.execute("TRUNCATE pg_temp.twinviewer_blocks_in")

    def _upsert_summaries(self, conn: psycopg.Connection, s: NDArray[Any], t: F64, v: F64) -> None:
        """Rows of one flush (by time, ties in append order), appended after every stored one,
        into every level and roll-up: the row layout's flushes, and the block layout's late
        rows."""
        if not len(t):
            return
        # rows come in (time, append) order: a stable sort by sensor gives (sensor, time, append)
        order = sensor_order(s)
        s, t, v = s[order], t[order], v[order]
        parts = [c for _, c in self._aggregate(s, t, v, self._summary_levels())]
        self._upsert(conn, _concat(parts), new_wins=True)
        self._note_rollups(conn, float(t.min()))

    def _write_closed_summaries(
        self,
        conn: psycopg.Connection,
        s: NDArray[Any],
        t: F64,
        v: F64,
        tie: NDArray[np.uint32],
    ) -> None:
        """The main samples of the blocks a flush closes (block layout; each sample exactly
        once, ``tie`` its rank among the main samples of its time) into every level and
        roll-up: a plain ``COPY`` for buckets inside one block, an upsert for the others."""
        if not len(t):
            return
        order = sensor_order(s)
        if not time_sorted_per_sensor(s[order], t[order]):
            order = np.lexsort((tie, t, s))
        s, t, v = s[order], t[order], v[order]
        bw = self.block_width
        inside: list[tuple[float, dict[str, np.ndarray]]] = []
        across: list[dict[str, np.ndarray]] = []
        for w, cols in self._aggregate(s, t, v, self._summary_levels()):
            if divides(bw, w):
                inside.append((w, cols))
            else:
                across.append(cols)
        if inside:
            lo = float(np.floor(t.min() / bw) * bw)
            hi = float((np.floor(t.max() / bw) + 1) * bw)
            late = self._fetch_columns(
                conn,
                self._sql(
                    "SELECT sensor, time FROM {la} WHERE time >= %s AND time < %s", la="late"
                ),
                (lo, hi),
                [("sensor", "i4"), ("time", "f8")],
            )
            plain: list[dict[str, np.ndarray]] = []
            for w, cols in inside:
                if len(late["time"]):  # buckets a late row summarised already: upsert them
                    lb = np.floor(late["time"] / w).astype(np.int64)
                    key = np.unique(late["sensor"].astype(np.int64) << 40 | (lb - lb.min()))
                    mine = cols["sensor"].astype(np.int64) << 40 | (cols["b"] - lb.min())
                    clash = np.isin(mine, key) & (cols["b"] >= lb.min())
                    across.append(_take(cols, clash))
                    cols = _take(cols, ~clash)
                plain.append(cols)
            cols = _concat(plain)
            if len(cols["level"]):
                self._copy_in(conn, "blocks", BLOCK_FIELDS, cols)
        if across:
            self._upsert(conn, _concat(across), new_wins=False)
        self._note_rollups(conn, float(t.min()))

    def _note_rollups(self, conn: psycopg.Connection, t_first: float) -> None:
        """The roll-ups now hold data from ``t_first`` on (for time_range): in the flush's
        transaction, so a flush that fails leaves no trace of it."""
        if self.rollups:
            conn.execute(
                self._sql("UPDATE {st} SET t_roll = least(t_roll, %s)", st="state"), (t_first,)
            )

    def _load_rollup_state(self, conn: psycopg.Connection) -> None:
        self._roll_cut = {}

    def _rollup_retention(self, conn: psycopg.Connection, now: float) -> None:
        """Delete each roll-up's buckets that ended before its own cutoff (whole buckets)."""
        cuts = [
            (r.level, r.width, now - r.retention) for r in self.rollups if r.retention is not None
        ]
        if self._summary_retention(conn, cuts):
            self._recompute_t_roll(conn)

    def _summary_retention(
        self, conn: psycopg.Connection, cuts: Sequence[tuple[int, float, float]]
    ) -> int:
        """For each ``(level, width, cutoff)``: delete the level's buckets that end at or
        before the cutoff, once the cutoff has moved on by ``ROLLUP_RETENTION_STEP`` seconds
        (or a bucket, if wider) since the last time; one index range ``(level, sensor, b)``
        per sensor, never a scan of the level. How many buckets went."""
        deleted = 0
        for level, width, cutoff in cuts:
            edge = int(np.floor(cutoff / width))  # buckets before this one end by the cutoff
            step = max(1, int(ROLLUP_RETENTION_STEP // width))
            if edge < self._roll_cut.get(level, -(2**62)) + step:
                continue
            self._roll_cut[level] = edge
            cur = conn.execute(
                self._sql(
                    "DELETE FROM {bl} x USING {se} s WHERE x.level = %s AND x.sensor = s.idx "
                    "AND x.b < %s",
                    bl="blocks",
                    se="sensors",
                ),
                (level, edge),
            )
            if cur.rowcount > 0:
                deleted += cur.rowcount
                log.info(
                    "history: retention deleted %d summary bucket(s) of %gs (level %d) before %.0f",
                    cur.rowcount,
                    width,
                    level,
                    cutoff,
                )
        return deleted
