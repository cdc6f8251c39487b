"""The read side of the embedded history store: the in-memory index and the queries.

:class:`StoreQueries` is the base of :class:`~twinviewer.history.store.HistoryStore`. It holds
the global arrays over the main row groups (their start times, rows and keyframes), the late
index (sorted by sensor, time rank, append rank), the LRU of open files and decoded row groups,
and the queries answered from them: :meth:`~StoreQueries.at` (keyframe + replay + late index),
:meth:`~StoreQueries.neighbour`, :meth:`~StoreQueries.series` (raw rows or summary blocks) and
:meth:`~StoreQueries.read`. It is apart from the store module, which opens the folder, writes,
compacts and retires segments (and describes the design); the writer calls
:meth:`~StoreQueries._rebuild_index` and the incremental rebuild after every change.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow.parquet as pq
from numpy.typing import NDArray

from twinviewer.history.rows import last_per_sensor, raw_buckets
from twinviewer.history.segments import BLOCK_DTYPE, F64, Segment, block_offsets, empty_rows

log = logging.getLogger(__name__)

NEIGHBOUR_ROW_GROUPS = 64  # neighbour(): how far stepping looks (64 x 128k rows)
CACHE_ROW_GROUPS = 48
OPEN_FILES = 128


class StoreQueries:
    """The index over a store's segments and the queries on it (thread-safe under ``_lock``).

    The attributes below are set by :class:`~twinviewer.history.store.HistoryStore` when it
    opens the folder; the index ones by :meth:`_rebuild_index`."""

    raw_rows_limit: int
    skipped: dict[str, str]
    _lock: threading.RLock
    _ids: list[str]
    _proj_to_store: NDArray[np.int64]
    _segments: list[Segment]
    _cache: OrderedDict[tuple[int, int], tuple[F64, NDArray[Any], F64]]
    _files: OrderedDict[int, pq.ParquetFile]
    # the index over the main row groups, in order
    _mains: list[Segment]
    _rg_seg: NDArray[np.int64]
    _rg_idx: NDArray[np.int64]
    _rg_tmin: F64
    _rg_rows: NDArray[np.int64]
    _kf_global: NDArray[np.int64]
    _kf_where: list[tuple[int, int]]
    _max_main: float
    # the running state at the end of the main data (for the next keyframes)
    _run_value: F64
    _run_time: F64
    _rows_since_kf: int
    # the late index
    _late_t: F64
    _late_s: NDArray[np.int64]
    _late_v: F64
    _late_ut: F64
    _late_key: NDArray[np.int64]

    # -- sensors -------------------------------------------------------------------------------

    @property
    def n_store(self) -> int:
        return len(self._ids)

    @property
    def sensor_ids(self) -> list[str]:
        """Every sensor id the store knows, in store-index order."""
        return list(self._ids)

    # -- the in-memory index -------------------------------------------------------------------

    def _rebuild_index(self) -> None:
        """Global arrays over the main row groups, the late index and the running end state."""
        with self._lock:
            mains = [s for s in self._segments if s.kind == "m"]
            self._mains = mains
            rg_seg: list[NDArray[np.int64]] = []
            rg_idx: list[NDArray[np.int64]] = []
            kf_global: list[int] = []
            kf_where: list[tuple[int, int]] = []
            base = 0
            for k, seg in enumerate(mains):
                n = len(seg.rg_rows)
                rg_seg.append(np.full(n, k, np.int64))
                rg_idx.append(np.arange(n, dtype=np.int64))
                for j, rg in enumerate(seg.keyframe_rgs):
                    kf_global.append(base + rg)
                    kf_where.append((k, j))
                base += n
            self._rg_seg = np.concatenate(rg_seg) if rg_seg else np.zeros(0, np.int64)
            self._rg_idx = np.concatenate(rg_idx) if rg_idx else np.zeros(0, np.int64)
            self._rg_tmin = np.concatenate([s.rg_tmin for s in mains]) if mains else np.zeros(0)
            self._rg_rows = (
                np.concatenate([s.rg_rows for s in mains]) if mains else np.zeros(0, np.int64)
            )
            self._kf_global = np.array(kf_global, np.int64)
            self._kf_where = kf_where
            self._max_main = max((s.t_max for s in mains), default=-np.inf)
            for seg in mains:
                if seg.blocks is not None:
                    seg.block_off = block_offsets(np.asarray(seg.blocks), self.n_store)
            self._rebuild_late()
            # the running state at the end of the main data (for the next keyframes)
            if len(self._rg_tmin):
                v, t = self._main_state_through(len(self._rg_tmin) - 1, np.inf)
            else:
                v, t = np.full(self.n_store, np.nan), np.full(self.n_store, np.nan)
            self._run_value, self._run_time = v, t
            self._rows_since_kf = self._rows_after_last_keyframe()

    def _rows_after_last_keyframe(self) -> int:
        n = len(self._rg_rows)
        if n == 0:
            return 1 << 62  # the first row group gets a keyframe
        if len(self._kf_global) == 0:
            return 1 << 62
        return int(self._rg_rows[int(self._kf_global[-1]) :].sum())

    def _rebuild_late(self) -> None:
        lates = [s for s in self._segments if s.kind == "l"]
        ts, ss, vs = [], [], []
        for seg in lates:
            try:
                table = pq.read_table(seg.path, columns=["time", "sensor", "value"])
            except Exception as exc:
                self._mark_bad(seg, exc)
                continue
            ts.append(table.column("time").to_numpy())
            ss.append(table.column("sensor").to_numpy().astype(np.int64))
            vs.append(table.column("value").to_numpy().astype(np.float64))
        if not ts:
            self._late_t = np.zeros(0)
            self._late_s = np.zeros(0, np.int64)
            self._late_v = np.zeros(0)
            self._late_ut = np.zeros(0)
            self._late_key = np.zeros(0, np.int64)
            return
        t, s, v = np.concatenate(ts), np.concatenate(ss), np.concatenate(vs)
        rank = np.arange(len(t))  # segments in seq order, rows in their stored order
        ut = np.unique(t)
        key = s * len(ut) + np.searchsorted(ut, t)
        order = np.lexsort((rank, key))
        self._late_t, self._late_s, self._late_v = t[order], s[order], v[order]
        self._late_ut, self._late_key = ut, key[order]

    def _mark_bad(self, seg: Segment, exc: BaseException) -> None:
        if seg.path.name not in self.skipped:
            log.warning("history: skipping unreadable segment %s: %s", seg.path, exc)
            self.skipped[seg.path.name] = f"{type(exc).__name__}: {exc}"

    def _rebuild_main_index_incremental(self) -> None:
        # the running state was advanced while writing; only the arrays need rebuilding
        run_v, run_t, since = self._run_value, self._run_time, self._rows_since_kf
        late = (self._late_t, self._late_s, self._late_v, self._late_ut, self._late_key)
        mains = [s for s in self._segments if s.kind == "m"]
        self._mains = mains
        self._rg_seg = np.concatenate(
            [np.full(len(m.rg_rows), k, np.int64) for k, m in enumerate(mains)]
        )
        self._rg_idx = np.concatenate([np.arange(len(m.rg_rows), dtype=np.int64) for m in mains])
        self._rg_tmin = np.concatenate([m.rg_tmin for m in mains])
        self._rg_rows = np.concatenate([m.rg_rows for m in mains])
        kf_global, kf_where, base = [], [], 0
        for k, m in enumerate(mains):
            for j, rg in enumerate(m.keyframe_rgs):
                kf_global.append(base + rg)
                kf_where.append((k, j))
            base += len(m.rg_rows)
        self._kf_global = np.array(kf_global, np.int64)
        self._kf_where = kf_where
        self._max_main = max(m.t_max for m in mains)
        self._run_value, self._run_time, self._rows_since_kf = run_v, run_t, since
        (self._late_t, self._late_s, self._late_v, self._late_ut, self._late_key) = late

    # -- reading row groups --------------------------------------------------------------------

    def _file(self, seg: Segment) -> pq.ParquetFile:
        f = self._files.get(seg.seq)
        if f is None:
            f = pq.ParquetFile(seg.path)
            self._files[seg.seq] = f
            if len(self._files) > OPEN_FILES:
                _, old = self._files.popitem(last=False)
                old.close()
        else:
            self._files.move_to_end(seg.seq)
        return f

    def _row_group(self, seg: Segment, rg: int) -> tuple[F64, NDArray[Any], F64]:
        key = (seg.seq, rg)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        try:
            table = self._file(seg).read_row_group(rg, columns=["time", "sensor", "value"])
            t = table.column("time").to_numpy()
            s = table.column("sensor").to_numpy()
            v = table.column("value").to_numpy().astype(np.float64, copy=False)
        except Exception as exc:
            self._mark_bad(seg, exc)
            t, s, v = empty_rows()
        out = (t, s, v)
        self._cache[key] = out
        if len(self._cache) > CACHE_ROW_GROUPS:
            self._cache.popitem(last=False)
        return out

    def _global_rg(self, g: int) -> tuple[F64, NDArray[Any], F64]:
        return self._row_group(self._mains[int(self._rg_seg[g])], int(self._rg_idx[g]))

    def _main_state_through(self, j: int, t: float) -> tuple[F64, F64]:
        """State over the main data: keyframe at or before row group ``j`` + replay to ``t``."""
        value = np.full(self.n_store, np.nan)
        when = np.full(self.n_store, np.nan)
        k = int(np.searchsorted(self._kf_global, j, "right")) - 1
        start = 0
        if k >= 0:
            start = int(self._kf_global[k])
            seg_k, row = self._kf_where[k]
            seg = self._mains[seg_k]
            keys = seg.keys
            if keys is not None and row < len(keys):
                n = min(keys.shape[2], self.n_store)
                value[:n] = keys[row, 0, :n]
                when[:n] = keys[row, 1, :n]
            else:  # keyframes lost: replay from the start
                start = 0
        # newest row group first: with many sensors reporting often, the last one or two hold
        # every sensor's latest sample, and the older ones are never read (nor decompressed)
        found = np.zeros(self.n_store, bool)
        for g in range(j, start - 1, -1):
            rt, rs, rv = self._global_rg(g)
            if g == j and t != np.inf:
                cut = int(np.searchsorted(rt, t, "right"))
                rt, rs, rv = rt[:cut], rs[:cut], rv[:cut]
            sens, last = last_per_sensor(rs)
            if len(sens):
                sens = sens.astype(np.int64)
                new = ~found[sens]
                sens, last = sens[new], last[new]
                value[sens] = rv[last]
                when[sens] = rt[last]
                found[sens] = True
                if found.all():
                    break
        return value, when

    # -- queries -------------------------------------------------------------------------------

    def at_store(self, t: float) -> tuple[F64, F64]:
        """Value and time of every *store* sensor at ``t`` (latest at or before; NaN if none)."""
        with self._lock:
            j = int(np.searchsorted(self._rg_tmin, t, "right")) - 1
            if j >= 0:
                value, when = self._main_state_through(j, t)
            else:
                value = np.full(self.n_store, np.nan)
                when = np.full(self.n_store, np.nan)
            if len(self._late_key):
                nu = len(self._late_ut)
                r = int(np.searchsorted(self._late_ut, t, "right"))
                sensors = np.arange(self.n_store, dtype=np.int64)
                pos = np.searchsorted(self._late_key, sensors * nu + r, "left") - 1
                ok = pos >= 0
                ok[ok] = self._late_s[pos[ok]] == sensors[ok]
                if r == 0:
                    ok[:] = False
                lt = np.where(ok, self._late_t[np.maximum(pos, 0)], np.nan)
                take = ok & (np.isnan(when) | (lt >= when))  # a late sample wins ties
                value[take] = self._late_v[pos[take]]
                when[take] = lt[take]
            return value, when

    def at(self, t: float) -> tuple[F64, F64]:
        """``(value, time)`` of every *project* sensor: the sample with the greatest time <= t
        (ties: the one appended last). NaN where a sensor has no sample at or before t."""
        value, when = self.at_store(t)
        return value[self._proj_to_store], when[self._proj_to_store]

    def neighbour(
        self, t: float, direction: int, sensors: Sequence[int] | None = None
    ) -> float | None:
        """The time of the nearest sample after (``direction > 0``) or before ``t`` of the given
        project sensors (default: any sensor); None when there is none within
        ``NEIGHBOUR_ROW_GROUPS`` row groups (stepping never scans the whole history)."""
        want: NDArray[np.bool_] | None = None
        if sensors is not None:
            want = np.zeros(self.n_store + 1, bool)
            want[self._proj_to_store[np.asarray(sensors, np.int64)]] = True
        fwd = direction > 0
        best: float | None = None
        with self._lock:
            if len(self._late_t):
                lt = self._late_t
                m = (lt > t) if fwd else (lt < t)
                if want is not None:
                    m &= want[self._late_s]
                if m.any():
                    best = float(lt[m].min() if fwd else lt[m].max())
            n = len(self._rg_tmin)
            g = int(np.searchsorted(self._rg_tmin, t, "right")) - 1
            g = max(g, 0) if fwd else min(g, n - 1)
            steps = 0
            while 0 <= g < n and steps < NEIGHBOUR_ROW_GROUPS:
                if fwd and best is not None and self._rg_tmin[g] > best:
                    break  # a late sample comes before anything further on
                rt, rs, _ = self._global_rg(g)
                m = (rt > t) if fwd else (rt < t)
                if want is not None:
                    m &= want[np.asarray(rs, np.int64)]
                if m.any():
                    found = float(rt[m].min() if fwd else rt[m].max())
                    if best is None or (found < best if fwd else found > best):
                        best = found
                    break
                g += 1 if fwd else -1
                steps += 1
        return best

    def series(
        self, sensor_index: int, t0: float, t1: float, pixels: int
    ) -> tuple[F64, F64, F64, F64]:
        """One project sensor over ``[t0, t1]`` for a chart ``pixels`` wide:
        ``(t, vmin, vmax, vlast)``.

        Fewer than ``2 * pixels`` samples: the raw samples (``vmin == vmax == vlast``). Else
        buckets, ``t`` their start: bucket i holds the samples with ``t[i] <= time < t[i+1]``
        (the last one up to its last sample) and its exact min, max and last value. Over
        ranges too long to read raw, the bucket edges snap to the summary blocks, so the first
        and the last bucket may reach a little beyond ``[t0, t1]``."""
        s = int(self._proj_to_store[sensor_index])
        pixels = max(1, int(pixels))
        with self._lock:
            lo_g = max(0, int(np.searchsorted(self._rg_tmin, t0, "left")) - 1)
            hi_g = int(np.searchsorted(self._rg_tmin, t1, "right"))
            rows = int(self._rg_rows[lo_g:hi_g].sum()) if hi_g > lo_g else 0
            if rows < self.raw_rows_limit or any(m.blocks is None for m in self._mains):
                return self._series_raw(s, t0, t1, pixels, lo_g, hi_g)
            return self._series_blocks(s, t0, t1, pixels)

    def _late_of(self, s: int, lo: float, hi: float) -> tuple[F64, F64]:
        if not len(self._late_key):
            return np.zeros(0), np.zeros(0)
        nu = len(self._late_ut)
        a = int(np.searchsorted(self._late_key, s * nu, "left"))
        b = int(np.searchsorted(self._late_key, (s + 1) * nu, "left"))
        lt, lv = self._late_t[a:b], self._late_v[a:b]  # sorted by time, then append rank
        keep = (lt >= lo) & (lt <= hi)
        return lt[keep], lv[keep]

    def _series_raw(
        self, s: int, t0: float, t1: float, pixels: int, lo_g: int, hi_g: int
    ) -> tuple[F64, F64, F64, F64]:
        ts, vs = [], []
        for g in range(lo_g, hi_g):
            rt, rs, rv = self._global_rg(g)
            m = (rs == s) & (rt >= t0) & (rt <= t1)
            ts.append(rt[m])
            vs.append(rv[m])
        mt = np.concatenate(ts) if ts else np.zeros(0)
        mv = np.concatenate(vs) if vs else np.zeros(0)
        lt, lv = self._late_of(s, t0, t1)
        t = np.concatenate([mt, lt])
        v = np.concatenate([mv, lv])
        late = np.concatenate([np.zeros(len(mt), np.int8), np.ones(len(lt), np.int8)])
        order = np.lexsort((np.arange(len(t)), late, t))  # equal times: main, then late
        t, v = t[order], v[order]
        return raw_buckets(t, v, t0, t1, pixels)

    def _series_blocks(
        self, s: int, t0: float, t1: float, pixels: int
    ) -> tuple[F64, F64, F64, F64]:
        parts = []
        for seg in self._mains:
            if seg.blocks is None or seg.block_off is None:
                continue
            if s + 1 >= len(seg.block_off):
                continue
            a, b = int(seg.block_off[s]), int(seg.block_off[s + 1])
            if b > a:
                parts.append(np.asarray(seg.blocks[a:b]))
        blk = np.concatenate(parts) if parts else np.zeros(0, BLOCK_DTYPE)
        tf, tl = blk["t_first"], blk["t_last"]
        lo, hi = t0, t1
        a = b = -1
        while True:  # close the selection over blocks that share a time with its ends
            na = int(np.searchsorted(tl, lo, "left"))
            nb = int(np.searchsorted(tf, hi, "right"))
            if (na, nb) == (a, b):
                break
            a, b = na, nb
            if b <= a:
                break
            lo, hi = min(lo, float(tf[a])), max(hi, float(tl[b - 1]))
        blk = blk[a:b] if b > a else blk[:0]
        lt, lv = self._late_of(s, lo, hi)
        if len(blk) == 0:  # late samples only: each is a block of its own
            blk = np.zeros(len(lt), BLOCK_DTYPE)
            blk["sensor"] = s
            blk["t_first"] = blk["t_last"] = lt
            blk["vmin"] = blk["vmax"] = blk["vlast"] = lv
            lt, lv = lt[:0], lv[:0]
            if len(blk) == 0:
                return lt, lv, lv.copy(), lv.copy()
        nblk = len(blk)
        group = max(1, nblk // pixels)
        cand = np.arange(0, nblk, group)
        ok = np.ones(len(cand), bool)
        ok[1:] = blk["t_last"][cand[1:] - 1] < blk["t_first"][cand[1:]]
        starts = cand[ok]
        bt = blk["t_first"][starts].copy()
        bt[0] = lo
        ends = np.append(starts[1:], nblk) - 1
        with np.errstate(invalid="ignore"):
            vmin = np.fmin.reduceat(blk["vmin"], starts)
            vmax = np.fmax.reduceat(blk["vmax"], starts)
        vlast = blk["vlast"][ends].copy()
        tlast = blk["t_last"][ends].copy()
        if len(lt):  # late samples into their buckets; a late sample wins a tie for "last"
            bi = np.clip(np.searchsorted(bt, lt, "right") - 1, 0, len(bt) - 1)
            for i, tt, vv in zip(bi.tolist(), lt.tolist(), lv.tolist(), strict=True):
                vmin[i] = np.fmin(vmin[i], vv)
                vmax[i] = np.fmax(vmax[i], vv)
                if tt >= tlast[i]:
                    tlast[i], vlast[i] = tt, vv
        return bt, vmin, vmax, vlast

    def read(self, t0: float = -np.inf, t1: float = np.inf) -> tuple[NDArray[np.int64], F64, F64]:
        """Every stored sample with ``t0 <= time <= t1`` as ``(store sensor, time, value)``,
        ordered by time, then append order (for export; reads whole row groups)."""
        with self._lock:
            ss, ts, vs, ranks, late = [], [], [], [], []
            for k, seg in enumerate(self._segments):
                if not seg.rows or seg.t_max < t0 or seg.t_min > t1:
                    continue
                for rg in range(len(seg.rg_rows)):
                    if seg.rg_tmax[rg] < t0 or seg.rg_tmin[rg] > t1:
                        continue
                    rt, rs, rv = self._row_group(seg, rg)
                    m = (rt >= t0) & (rt <= t1)
                    ts.append(rt[m])
                    ss.append(rs[m].astype(np.int64))
                    vs.append(rv[m])
                    ranks.append(np.full(int(m.sum()), k, np.int64))
                    late.append(np.full(int(m.sum()), seg.kind == "l", np.int8))
            if not ts:
                return np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
            t, v = np.concatenate(ts), np.concatenate(vs)
            s, r = np.concatenate(ss), np.concatenate(ranks)
            lt = np.concatenate(late)
            # equal times: main before late (a late sample was appended after any main one)
            order = np.lexsort((np.arange(len(t)), r, lt, t))
            return s[order], t[order], v[order]

    def time_range(self) -> tuple[float, float] | None:
        with self._lock:
            lo = [s.t_min for s in self._segments if s.rows]
            hi = [s.t_max for s in self._segments if s.rows]
            if not lo:
                return None
            return float(min(lo)), float(max(hi))
