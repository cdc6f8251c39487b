"""The embedded history store: immutable Parquet segments in a folder, plus an in-memory index.

Layout of the folder (``<project folder>/<project stem>.history/`` by default)::

    sensors.json                 store sensor ids, in store-index order (written atomically)
    000000000007-m.parquet       a *main* segment (seq 7): time-ordered rows
    000000000007-m.blocks.npy    its per-sensor summary blocks (for charts)
    000000000007-m.keys.npy      its keyframes (full state at the start of some row groups)
    000000000008-l.parquet       a *late* segment: samples older than the main data already held

Why this shape
--------------
* **Durability without a server.** Every flush writes one new Parquet file (pyarrow, zstd) to a
  temporary name, fsyncs it, renames it into place and fsyncs the folder. A segment exists
  completely or not at all, so ``kill -9`` loses at most the unflushed buffer (one flush
  interval) and never leaves an unreadable store; leftover ``.tmp`` files are deleted at open.
  Sidecars are renamed *before* their segment, so a segment never lacks them after a crash (a
  sidecar without its segment is deleted at open; a missing or broken sidecar is rebuilt from
  the segment, keyframes are then simply absent and queries replay from an earlier one).
* **Sensor identity is the id string.** ``sensors.json`` maps ids to store indices; a project
  whose sensor list is reordered or grows keeps reading its old history. ``append`` maps
  project indices with one numpy lookup array; queries return project order.
* **Columns**: ``time`` float64 (exact; BYTE_STREAM_SPLIT + zstd compresses sorted epoch
  seconds well), ``sensor`` uint16 (int32 past 65,535 store sensors; dictionary + RLE),
  ``value`` float32 when every value of the segment round-trips exactly, else float64
  (BYTE_STREAM_SPLIT), ``arrival`` float32 delay ``arrival - time`` in seconds (informational,
  so 24 bits of precision are enough), ``quality`` uint8 (dictionary; 0 = good). Row groups of
  128k rows; their time min/max (Parquet statistics) are the index, read from the footers at open.
* **Order and ties.** A flush sorts its buffer stably by time (skipped when it is already in
  order, the common case), so samples of equal time keep the order they were appended in.
  Everything is kept: duplicates and out-of-order samples are never dropped. The semantics of
  :meth:`HistoryStore.at`: for every sensor, the sample with the greatest time <= t; among
  samples of equal time, the one appended last.
* **Main and late segments.** Samples at or after the newest time already flushed go to a main
  segment, so main segments together are one time-ordered sequence and keyframes computed over
  them stay true forever. Older ("late") samples go to a late segment; late segments are small
  in practice and are held in memory in a sensor-major index (sorted by sensor, time rank,
  append rank) that answers "latest <= t for every sensor" with one ``searchsorted``. A late
  sample beats a main sample of equal time: it was necessarily appended after it.
* **Keyframes** (the full state, value and time per sensor) are taken at the start of a row
  group whenever ``max(128k, 32 * sensors)`` rows have passed since the last one. ``at(t)`` =
  bisect the row-group start times -> nearest keyframe at or before -> replay the row groups
  from there up to t, vectorised (last row per sensor via ``np.unique`` on the reversed sensor
  column) -> merge the late index. Decoded row groups are kept in an LRU cache, so a scrub that
  moves a little decodes nothing. Scanning history is never needed (memory bandwidth would make
  10^8 samples cost >= 100 ms).
* **Chart series.** A whole-range chart cannot read 10^8 rows in 20 ms, so every main segment
  carries per-sensor *blocks* of 64 consecutive samples of one sensor (first/last time,
  min, max, last value; a block never splits equal times). A series over a short range is
  computed exactly from the raw rows; a long range groups whole blocks into buckets, whose
  edges therefore snap to block edges (the returned times are the bucket starts, and every
  bucket's min/max is exact for the samples in it, so spikes are never hidden).
* **Retention** deletes, at flush time, segments whose newest sample is older than
  ``now - retention``.
* **Compaction.** A live recorder flushes one small segment per second (per-file overhead
  makes that ~25 bytes/sample). :meth:`HistoryStore.compact` (run by the writer thread once
  more than ``COMPACT_SEGMENTS`` small segments exist) merges runs of consecutive small
  segments of one kind into one of up to ``COMPACT_ROWS`` rows or ``COMPACT_SPAN`` seconds,
  keyframes and summary blocks rebuilt. Main runs concatenate into the same time-ordered
  sequence; late segments merge only with late segments, in order, so the late index and
  every tie come out unchanged. A merged segment takes the place (``order`` in its metadata)
  of the first one it replaces and lists the seqs it ``replaces``: it is written completely
  first, the index is swapped under the lock, then the old files are deleted; at open, any
  segment listed as replaced by a present one is deleted, so a crash in between never counts
  a sample twice.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time as _time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import NDArray

from twinviewer.core.samples import SampleBatch
from twinviewer.history.rows import batch_rows, raw_buckets

log = logging.getLogger(__name__)

ROW_GROUP = 131_072
BLOCK = 64  # samples of one sensor per summary block
KEYFRAME_MIN_ROWS = 131_072
KEYFRAME_ROWS_PER_SENSOR = 32  # 10k sensors, 1e8 samples: at(t) p95 15 ms (64: 23-28 ms)
FLUSH_SAMPLES = 1_000_000
COMPACT_ROWS = 1_000_000  # compaction target: a merged segment holds this many rows...
COMPACT_SPAN = 3600.0  # ...or this many seconds, whichever comes first
COMPACT_SEGMENTS = 64  # the writer compacts when more small segments than this accumulated
MAX_BUFFERED = 8_000_000  # append() waits while more are buffered (writer thread only)
NEIGHBOUR_ROW_GROUPS = 64  # neighbour(): how far stepping looks (64 x 128k rows)
RAW_ROWS_LIMIT = 1_000_000  # series(): below this many rows in range, compute from raw rows
CACHE_ROW_GROUPS = 48
OPEN_FILES = 128
SENSORS_FILE = "sensors.json"
META_KEY = b"twinviewer.history"
_SEG_RE = re.compile(r"^(\d{12})-([ml])\.parquet$")
_SIDE_RE = re.compile(r"^(\d{12})-m\.(blocks|keys)\.npy$")

BLOCK_DTYPE = np.dtype(
    [
        ("sensor", "<i4"),
        ("t_first", "<f8"),
        ("t_last", "<f8"),
        ("vmin", "<f8"),
        ("vmax", "<f8"),
        ("vlast", "<f8"),
    ]
)

F64 = NDArray[np.float64]


# -- small helpers -----------------------------------------------------------------------------


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _atomic_save_npy(path: Path, array: np.ndarray) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        np.save(f, array, allow_pickle=False)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def last_per_sensor(sensor: NDArray[Any]) -> tuple[NDArray[Any], NDArray[np.intp]]:
    """The distinct sensors of ``sensor`` and the index of the last row of each."""
    if len(sensor) == 0:
        return sensor[:0], np.zeros(0, np.intp)
    uniq, first_rev = np.unique(sensor[::-1], return_index=True)
    return uniq, (len(sensor) - 1 - first_rev).astype(np.intp)


def _empty_rows() -> tuple[F64, NDArray[np.int64], F64]:
    return np.zeros(0), np.zeros(0, np.int64), np.zeros(0)


@dataclass
class Segment:
    seq: int
    kind: str  # "m" main, "l" late
    path: Path
    rows: int
    rg_rows: NDArray[np.int64]  # rows per row group
    rg_tmin: F64
    rg_tmax: F64
    nbytes: int
    keyframe_rgs: list[int] = field(default_factory=list)
    keyframe_sensors: int = 0
    blocks: np.ndarray | None = None  # BLOCK_DTYPE, sorted by sensor (main segments only)
    block_off: NDArray[np.int64] | None = None  # offsets per sensor into blocks
    keys: np.ndarray | None = None  # (keyframes, 2 [value, time], sensors)
    order: int = -1  # position in the sequence of segments (seq, or the first one it replaced)
    replaces: list[int] = field(default_factory=list)  # seqs a compacted segment replaces

    def __post_init__(self) -> None:
        if self.order < 0:
            self.order = self.seq

    @property
    def t_min(self) -> float:
        return float(self.rg_tmin.min()) if len(self.rg_tmin) else float("nan")

    @property
    def t_max(self) -> float:
        return float(self.rg_tmax.max()) if len(self.rg_tmax) else float("nan")

    def keys_path(self) -> Path:
        return self.path.with_name(f"{self.seq:012d}-m.keys.npy")

    def blocks_path(self) -> Path:
        return self.path.with_name(f"{self.seq:012d}-m.blocks.npy")


def _segment_name(seq: int, kind: str) -> str:
    return f"{seq:012d}-{kind}.parquet"


def _build_blocks(time: F64, sensor: NDArray[Any], value: F64) -> np.ndarray:
    """Per-sensor summary blocks of ``BLOCK`` consecutive samples (rows time-ordered)."""
    n = len(time)
    if n == 0:
        return np.zeros(0, BLOCK_DTYPE)
    order = np.argsort(sensor, kind="stable")  # sensor-major, time order kept within a sensor
    s, t, v = sensor[order], time[order], value[order]
    new_sensor = np.ones(n, bool)
    new_sensor[1:] = s[1:] != s[:-1]
    starts = np.flatnonzero(new_sensor)
    run_start = np.repeat(starts, np.diff(np.append(starts, n)))
    pos = np.arange(n) - run_start
    cut = new_sensor | ((pos % BLOCK == 0) & (pos > 0))
    # never split samples of equal time of one sensor between two blocks
    same_time = np.zeros(n, bool)
    same_time[1:] = (t[1:] == t[:-1]) & ~new_sensor[1:]
    cut &= ~same_time
    b = np.flatnonzero(cut)
    ends = np.append(b[1:], n) - 1
    out = np.empty(len(b), BLOCK_DTYPE)
    out["sensor"] = s[b]
    out["t_first"] = t[b]
    out["t_last"] = t[ends]
    with np.errstate(invalid="ignore"):
        out["vmin"] = np.fmin.reduceat(v, b)
        out["vmax"] = np.fmax.reduceat(v, b)
    out["vlast"] = v[ends]
    return out


def _block_offsets(blocks: np.ndarray, n_sensors: int) -> NDArray[np.int64]:
    return np.searchsorted(blocks["sensor"], np.arange(n_sensors + 1)).astype(np.int64)


# -- the store ---------------------------------------------------------------------------------


class HistoryStore:
    """Append batches; query the state of every sensor at t and one sensor's chart series.

    Thread-safe: sources may :meth:`append` from any thread; queries may run on another.
    Queries see flushed data only (at most ``flush_interval`` behind).
    """

    def __init__(
        self,
        folder: Path,
        sensor_ids: Sequence[str],
        *,
        retention: float | None = None,
        flush_interval: float = 1.0,
        writer_thread: bool = True,
    ) -> None:
        self.folder = Path(folder)
        self.retention = retention
        self.flush_interval = flush_interval
        self.raw_rows_limit = RAW_ROWS_LIMIT
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()  # the index (segments, late index, state)
        self._flush_lock = threading.Lock()
        self._buf_lock = threading.Lock()
        self._buf: list[tuple[np.ndarray, F64, F64, F64, NDArray[np.uint8]]] = []
        self._buf_rows = 0
        self._wake = threading.Event()
        self._closed = False
        self.rejected = 0  # samples with a non-finite time or an unknown sensor
        self.compactions = 0
        self.auto_compact = True  # the writer thread compacts many small segments
        self.skipped: dict[str, str] = {}  # file name -> why it was skipped
        self._cache: OrderedDict[tuple[int, int], tuple[F64, NDArray[Any], F64]] = OrderedDict()
        self._files: OrderedDict[int, pq.ParquetFile] = OrderedDict()
        self._ids: list[str] = []
        self._load_sensors(list(sensor_ids))
        self._segments: list[Segment] = []
        self._next_seq = 1
        self._scan()
        self._rebuild_index()
        self._thread: threading.Thread | None = None
        if writer_thread:
            self._thread = threading.Thread(target=self._writer, name="history-writer", daemon=True)
            self._thread.start()

    @classmethod
    def open(
        cls,
        folder: Path | str,
        sensor_ids: Sequence[str],
        *,
        retention: float | None = None,
        flush_interval: float = 1.0,
    ) -> HistoryStore:
        return cls(Path(folder), sensor_ids, retention=retention, flush_interval=flush_interval)

    # -- sensors -------------------------------------------------------------------------------

    def _load_sensors(self, project_ids: list[str]) -> None:
        path = self.folder / SENSORS_FILE
        ids: list[str] = []
        if path.exists():
            try:
                ids = list(json.loads(path.read_text())["ids"])
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("history: %s is unreadable (%s); sensor ids start afresh", path, exc)
                self.skipped[SENSORS_FILE] = str(exc)
                ids = []
        known = {sid: i for i, sid in enumerate(ids)}
        changed = not path.exists()
        for sid in project_ids:
            if sid not in known:
                known[sid] = len(ids)
                ids.append(sid)
                changed = True
        self._ids = ids
        self._proj_to_store = np.array([known[s] for s in project_ids], np.int64)
        if changed:
            _atomic_write_bytes(path, json.dumps({"ids": ids}, indent=0).encode())
            _fsync_dir(self.folder)

    @property
    def n_store(self) -> int:
        return len(self._ids)

    @property
    def sensor_ids(self) -> list[str]:
        """Every sensor id the store knows, in store-index order."""
        return list(self._ids)

    # -- open: scan the folder -----------------------------------------------------------------

    def _scan(self) -> None:
        names = sorted(os.listdir(self.folder))
        segs: dict[int, Path] = {}
        max_seq = 0
        for name in names:
            path = self.folder / name
            if name.endswith(".tmp"):
                log.info("history: deleting leftover temporary file %s", path)
                path.unlink(missing_ok=True)
                continue
            m = _SEG_RE.match(name)
            if m:
                segs[int(m.group(1))] = path
                max_seq = max(max_seq, int(m.group(1)))
        for name in names:  # sidecars whose segment never made it
            m2 = _SIDE_RE.match(name)
            if m2 and int(m2.group(1)) not in segs:
                (self.folder / name).unlink(missing_ok=True)
        self._next_seq = max_seq + 1
        for seq in sorted(segs):
            path = segs[seq]
            try:
                seg = self._read_segment_meta(seq, path)
            except Exception as exc:  # a broken file must never stop the store from opening
                log.warning("history: skipping unreadable segment %s: %s", path, exc)
                self.skipped[path.name] = f"{type(exc).__name__}: {exc}"
                continue
            self._segments.append(seg)
        # a compaction that crashed after its new segment was renamed into place but before
        # the old ones were deleted: the old ones are superseded, never counted twice
        replaced = {r for seg in self._segments for r in seg.replaces}
        for seg in [s for s in self._segments if s.seq in replaced]:
            log.info("history: deleting segment %s (replaced by a compacted one)", seg.path)
            self._delete_files(seg)
        self._segments = [s for s in self._segments if s.seq not in replaced]
        self._segments.sort(key=lambda x: x.order)
        if replaced:
            _fsync_dir(self.folder)

    def _delete_files(self, seg: Segment) -> None:
        seg.path.unlink(missing_ok=True)
        if seg.kind == "m":
            seg.blocks = None
            seg.keys = None
            seg.blocks_path().unlink(missing_ok=True)
            seg.keys_path().unlink(missing_ok=True)

    def _read_segment_meta(self, seq: int, path: Path) -> Segment:
        md = pq.ParquetFile(path).metadata
        kind = path.name[13]
        n_rg = md.num_row_groups
        tcol = md.schema.to_arrow_schema().get_field_index("time")
        rg_rows = np.array([md.row_group(i).num_rows for i in range(n_rg)], np.int64)
        tmin = np.empty(n_rg)
        tmax = np.empty(n_rg)
        for i in range(n_rg):
            st = md.row_group(i).column(tcol).statistics
            if st is None or not st.has_min_max:
                raise ValueError("row group without time statistics")
            tmin[i], tmax[i] = st.min, st.max
        meta = json.loads((md.metadata or {}).get(META_KEY, b"{}"))
        seg = Segment(seq, kind, path, int(rg_rows.sum()), rg_rows, tmin, tmax, path.stat().st_size)
        seg.order = int(meta.get("order", seq))
        seg.replaces = [int(x) for x in meta.get("replaces", [])]
        if kind == "m":
            seg.keyframe_rgs = [int(x) for x in meta.get("keyframe_rgs", [])]
            seg.keyframe_sensors = int(meta.get("keyframe_sensors", 0))
            try:
                seg.blocks = np.load(seg.blocks_path(), mmap_mode="r", allow_pickle=False)
                if seg.blocks.dtype != BLOCK_DTYPE:
                    raise ValueError(f"unexpected block dtype {seg.blocks.dtype}")
                keys = np.load(seg.keys_path(), mmap_mode="r", allow_pickle=False)
                if keys.shape != (len(seg.keyframe_rgs), 2, seg.keyframe_sensors):
                    raise ValueError(f"unexpected keyframe shape {keys.shape}")
                seg.keys = keys
                seg.nbytes += seg.blocks_path().stat().st_size + seg.keys_path().stat().st_size
            except Exception as exc:
                log.warning("history: rebuilding the summary of %s (%s)", path, exc)
                self._rebuild_sidecar(seg)
        return seg

    def _rebuild_sidecar(self, seg: Segment) -> None:
        table = pq.read_table(seg.path, columns=["time", "sensor", "value"])
        t = table.column("time").to_numpy()
        s = table.column("sensor").to_numpy().astype(np.int64)
        v = table.column("value").to_numpy().astype(np.float64)
        blocks = _build_blocks(t, s, v)
        _atomic_save_npy(seg.blocks_path(), blocks)
        seg.keyframe_rgs = []  # keyframes are an optimisation: replay from an earlier one
        seg.keyframe_sensors = 0
        _atomic_save_npy(seg.keys_path(), np.zeros((0, 2, 0)))
        seg.blocks = blocks
        seg.keys = np.zeros((0, 2, 0))
        seg.nbytes = seg.path.stat().st_size + seg.blocks_path().stat().st_size

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
                    seg.block_off = _block_offsets(np.asarray(seg.blocks), self.n_store)
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
            t, s, v = _empty_rows()
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
        parts_s, parts_t, parts_v = [], [], []
        for g in range(start, j + 1):
            rt, rs, rv = self._global_rg(g)
            if g == j and t != np.inf:
                cut = int(np.searchsorted(rt, t, "right"))
                rt, rs, rv = rt[:cut], rs[:cut], rv[:cut]
            parts_t.append(rt)
            parts_s.append(rs)
            parts_v.append(rv)
        if parts_t:
            rs_all = np.concatenate(parts_s) if len(parts_s) > 1 else parts_s[0]
            sens, last = last_per_sensor(rs_all)
            if len(sens):
                rt_all = np.concatenate(parts_t) if len(parts_t) > 1 else parts_t[0]
                rv_all = np.concatenate(parts_v) if len(parts_v) > 1 else parts_v[0]
                sens = sens.astype(np.int64)
                value[sens] = rv_all[last]
                when[sens] = rt_all[last]
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

    def stats(self) -> dict[str, Any]:
        with self._lock:
            samples = sum(s.rows for s in self._segments)
            nbytes = sum(s.nbytes for s in self._segments) + (
                (self.folder / SENSORS_FILE).stat().st_size
                if (self.folder / SENSORS_FILE).exists()
                else 0
            )
            return {
                "samples": samples,
                "sensors": self.n_store,
                "segments": len(self._segments),
                "late_segments": sum(1 for s in self._segments if s.kind == "l"),
                "small_segments": sum(1 for s in self._segments if self._is_small(s)),
                "compactions": self.compactions,
                "bytes": nbytes,
                "bytes_per_sample": nbytes / samples if samples else float("nan"),
                "time_range": self.time_range(),
                "buffered": self._buf_rows,
                "rejected": self.rejected,
                "skipped_files": dict(self.skipped),
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
        rows, bad = batch_rows(batch, self._proj_to_store, arrival, quality)
        with self._buf_lock:
            self.rejected += bad
            self._buf.append(rows)
            self._buf_rows += len(rows[1])
            big = self._buf_rows >= FLUSH_SAMPLES
        if big:
            self._wake.set()
            # back-pressure: a producer faster than the disk waits instead of filling memory
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
            except Exception:  # keep recording; the buffer is kept for the next attempt
                log.exception("history: flush failed")
                continue
            if self.auto_compact and self.small_segments() > COMPACT_SEGMENTS:
                self.compact()

    def flush(self, now: float | None = None) -> None:
        """Write everything buffered as durable segments; apply retention."""
        with self._flush_lock:
            with self._buf_lock:
                buf, self._buf, self._buf_rows = self._buf, [], 0
            if buf:
                try:
                    self._write(buf)
                except BaseException:
                    with self._buf_lock:  # put it back in front, in order
                        self._buf[:0] = buf
                        self._buf_rows += sum(len(b[1]) for b in buf)
                    raise
            if self.retention is not None:
                self._apply_retention((_time.time() if now is None else now) - self.retention)

    def _write(self, buf: list[tuple[np.ndarray, F64, F64, F64, NDArray[np.uint8]]]) -> None:
        s = np.concatenate([b[0] for b in buf])
        t = np.concatenate([b[1] for b in buf])
        v = np.concatenate([b[2] for b in buf])
        arr = np.concatenate([b[3] for b in buf])
        q = np.concatenate([b[4] for b in buf])
        arr = (arr - t).astype(np.float32)  # stored as the delay
        # narrow sensor indices make the sorts below radix sorts
        s = s.astype(np.uint16 if self.n_store <= 65_535 else np.int32)
        if len(t) > 1 and not bool(np.all(t[1:] >= t[:-1])):
            order = np.argsort(t, kind="stable")  # equal times keep their append order
            s, t, v, arr, q = s[order], t[order], v[order], arr[order], q[order]
        split = int(np.searchsorted(t, self._max_main, "left"))  # rows before are late
        new: list[Segment] = []
        if split > 0:
            new.append(
                self._write_segment("l", s[:split], t[:split], v[:split], arr[:split], q[:split])
            )
        if split < len(t):
            new.append(
                self._write_segment("m", s[split:], t[split:], v[split:], arr[split:], q[split:])
            )
        with self._lock:
            self._segments.extend(new)
            self._segments.sort(key=lambda x: x.order)
            if any(n.kind == "l" for n in new):
                self._rebuild_late()
            if any(n.kind == "m" for n in new):
                self._rebuild_main_index_incremental()

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

    def _write_segment(
        self,
        kind: str,
        s: NDArray[Any],
        t: F64,
        v: F64,
        delay: NDArray[np.float32],
        q: NDArray[np.uint8],
        *,
        state: tuple[F64, F64, int] | None = None,
        replaces: Sequence[int] = (),
        order: int | None = None,
    ) -> Segment:
        """Write one segment. ``state`` (main only): the main state before its first row and
        the rows since the last keyframe; default: the store's running state (advanced)."""
        seq = self._next_seq
        self._next_seq += 1
        path = self.folder / _segment_name(seq, kind)
        n = len(t)
        rg_bounds = list(range(0, n, ROW_GROUP)) + [n]
        keyframe_rgs: list[int] = []
        meta: dict[str, Any] = {"version": 1, "kind": kind}
        seg = Segment(
            seq, kind, path, n, np.diff(rg_bounds).astype(np.int64), np.zeros(0), np.zeros(0), 0
        )
        if order is not None:
            seg.order = order
            meta["order"] = order
        if replaces:
            seg.replaces = [int(x) for x in replaces]
            meta["replaces"] = seg.replaces
        nbytes = 0
        if kind == "m":
            n_st = self.n_store
            if state is None:
                run_v, run_t, since = self._run_value, self._run_time, self._rows_since_kf
            else:
                run_v, run_t, since = state[0].copy(), state[1].copy(), state[2]
            if len(run_v) < n_st:
                pad = n_st - len(run_v)
                run_v = np.r_[run_v, np.full(pad, np.nan)]
                run_t = np.r_[run_t, np.full(pad, np.nan)]
            every = max(KEYFRAME_MIN_ROWS, KEYFRAME_ROWS_PER_SENSOR * n_st)
            keys = []
            for i in range(len(rg_bounds) - 1):
                a, b = rg_bounds[i], rg_bounds[i + 1]
                if since >= every:
                    keyframe_rgs.append(i)
                    keys.append(np.stack([run_v, run_t]))
                    since = 0
                sens, last = last_per_sensor(s[a:b])
                idx = a + last
                run_v[sens] = v[idx]
                run_t[sens] = t[idx]
                since += b - a
            if state is None:
                self._run_value, self._run_time, self._rows_since_kf = run_v, run_t, since
            key_arr = np.stack(keys) if keys else np.zeros((0, 2, n_st))
            blocks = _build_blocks(t, s, v)
            _atomic_save_npy(seg.blocks_path(), blocks)
            _atomic_save_npy(seg.keys_path(), key_arr)
            seg.blocks = blocks
            seg.keys = key_arr
            seg.block_off = _block_offsets(blocks, n_st)
            seg.keyframe_rgs = keyframe_rgs
            seg.keyframe_sensors = n_st
            meta["keyframe_rgs"] = keyframe_rgs
            meta["keyframe_sensors"] = n_st
            nbytes += seg.blocks_path().stat().st_size + seg.keys_path().stat().st_size
        v32 = v.astype(np.float32)
        exact32 = bool(np.array_equal(v32.astype(np.float64), v, equal_nan=True))
        sensor_type = pa.uint16() if self.n_store <= 65_535 else pa.int32()
        table = pa.table(
            {
                "time": pa.array(t, pa.float64()),
                "sensor": pa.array(
                    s.astype(np.uint16 if self.n_store <= 65_535 else np.int32), sensor_type
                ),
                "value": pa.array(v32 if exact32 else v),
                "arrival": pa.array(np.asarray(delay, np.float32)),
                "quality": pa.array(q, pa.uint8()),
            }
        ).replace_schema_metadata({META_KEY: json.dumps(meta).encode()})
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as f:
            pq.write_table(
                table,
                f,
                row_group_size=ROW_GROUP,
                compression="zstd",
                compression_level=3,
                use_dictionary=["sensor", "quality"],
                column_encoding={
                    "time": "BYTE_STREAM_SPLIT",
                    "value": "BYTE_STREAM_SPLIT",
                    "arrival": "BYTE_STREAM_SPLIT",
                },
                write_statistics=["time"],
            )
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(self.folder)
        seg.rg_tmin = np.array([t[rg_bounds[i]] for i in range(len(rg_bounds) - 1)])
        seg.rg_tmax = np.array([t[rg_bounds[i + 1] - 1] for i in range(len(rg_bounds) - 1)])
        seg.nbytes = nbytes + path.stat().st_size
        return seg

    # -- compaction ----------------------------------------------------------------------------

    def _is_small(self, seg: Segment) -> bool:
        return (
            0 < seg.rows < COMPACT_ROWS
            and seg.t_max - seg.t_min < COMPACT_SPAN
            and seg.path.name not in self.skipped
        )

    def _compaction_groups(self) -> list[list[Segment]]:
        """Runs of consecutive small segments of one kind (in segment order), each cut once it
        reaches ``COMPACT_ROWS`` rows or ``COMPACT_SPAN`` seconds; runs of one are left alone.

        Main segments are one time-ordered sequence, so a run of consecutive ones concatenated
        stays one. Late segments are merged only with late segments, also in order, so that the
        late index (sorted by sensor, time, append rank) and the rule "a late sample wins a tie
        with a main one" come out exactly as before."""
        groups: list[list[Segment]] = []
        with self._lock:
            segments = list(self._segments)
        for kind in ("m", "l"):
            cur: list[Segment] = []
            rows = 0
            for seg in (s for s in segments if s.kind == kind):
                if not self._is_small(seg):
                    if len(cur) > 1:
                        groups.append(cur)
                    cur, rows = [], 0
                    continue
                cur.append(seg)
                rows += seg.rows
                span = max(s.t_max for s in cur) - min(s.t_min for s in cur)
                if rows >= COMPACT_ROWS or span >= COMPACT_SPAN:
                    if len(cur) > 1:
                        groups.append(cur)
                    cur, rows = [], 0
            if len(cur) > 1:
                groups.append(cur)
        return groups

    def small_segments(self) -> int:
        with self._lock:
            return sum(1 for s in self._segments if self._is_small(s))

    def compact(self) -> dict[str, int]:
        """Merge runs of small segments into bigger ones (keyframes and summary blocks rebuilt).

        Crash-safe: each new segment is written completely (temp, fsync, rename) and lists in
        its metadata the seqs it replaces; only then are the old files deleted, and at open any
        segment listed as replaced by a present one is deleted. Queries running meanwhile see
        the old set or the new one: the index is swapped under the lock. Every ``at`` answer
        and every raw ``series`` answer stays identical; summary-block series keep exact
        min/max/last per bucket, with bucket edges snapping to the new (bigger) blocks."""
        with self._flush_lock:
            before = len(self._segments)
            merged = 0
            for group in self._compaction_groups():
                try:
                    self._merge(group)
                except Exception:  # keep the old segments; they are still complete
                    log.exception("history: compaction of %d segment(s) failed", len(group))
                    continue
                merged += len(group)
            after = len(self._segments)
            self.compactions += 1 if merged else 0
            if merged:
                log.info("history: compacted %d segment(s): %d -> %d", merged, before, after)
            return {"segments_before": before, "segments_after": after, "merged": merged}

    def _merge(self, group: list[Segment]) -> Segment:
        kind = group[0].kind
        # segment files are immutable and only this thread (holding the flush lock) deletes
        # them, so they are read without the index lock: queries keep running meanwhile
        tables = [pq.read_table(seg.path) for seg in group]
        t = np.concatenate([tb.column("time").to_numpy() for tb in tables])
        s = np.concatenate([tb.column("sensor").to_numpy().astype(np.int64) for tb in tables])
        v = np.concatenate([tb.column("value").to_numpy().astype(np.float64) for tb in tables])
        delay = np.concatenate(
            [tb.column("arrival").to_numpy().astype(np.float32) for tb in tables]
        )
        q = np.concatenate([tb.column("quality").to_numpy().astype(np.uint8) for tb in tables])
        s = s.astype(np.uint16 if self.n_store <= 65_535 else np.int32)
        state: tuple[F64, F64, int] | None = None
        if kind == "m":
            with self._lock:  # the main state just before the group, for its keyframes
                k0 = next(i for i, m in enumerate(self._mains) if m.seq == group[0].seq)
                g0 = sum(len(m.rg_rows) for m in self._mains[:k0])
                if g0 > 0:
                    sv, stt = self._main_state_through(g0 - 1, np.inf)
                    k = int(np.searchsorted(self._kf_global, g0 - 1, "right")) - 1
                    since = (
                        int(self._rg_rows[int(self._kf_global[k]) : g0].sum())
                        if k >= 0
                        else 1 << 62
                    )
                else:
                    sv, stt = np.full(self.n_store, np.nan), np.full(self.n_store, np.nan)
                    since = 1 << 62
                state = (sv, stt, since)
        new = self._write_segment(
            kind,
            s,
            t,
            v,
            delay,
            q,
            state=state,
            replaces=[seg.seq for seg in group],
            order=group[0].order,
        )
        self._after_compacted_write(new, group)
        return new

    def _after_compacted_write(self, new: Segment, group: list[Segment]) -> None:
        """Swap the index to the new segment, then delete the replaced files."""
        gone = {seg.seq for seg in group}
        with self._lock:
            self._segments = [s for s in self._segments if s.seq not in gone] + [new]
            self._segments.sort(key=lambda x: x.order)
            for seq in gone:
                f = self._files.pop(seq, None)
                if f is not None:
                    f.close()
            self._cache = OrderedDict((k, v) for k, v in self._cache.items() if k[0] not in gone)
            if new.kind == "m":
                # the late index is unchanged: late rows keep their relative order
                self._rebuild_main_index_incremental()
        for seg in group:
            self._delete_files(seg)
        _fsync_dir(self.folder)

    def _apply_retention(self, cutoff: float) -> None:
        with self._lock:
            old = [s for s in self._segments if s.rows and s.t_max < cutoff]
            if not old:
                return
            for seg in old:
                f = self._files.pop(seg.seq, None)
                if f is not None:
                    f.close()
                seg.path.unlink(missing_ok=True)
                if seg.kind == "m":
                    seg.blocks = None
                    seg.blocks_path().unlink(missing_ok=True)
                    seg.keys_path().unlink(missing_ok=True)
            gone = {s.seq for s in old}
            self._segments = [s for s in self._segments if s.seq not in gone]
            self._cache = OrderedDict((k, v) for k, v in self._cache.items() if k[0] not in gone)
            run = (self._run_value, self._run_time, self._rows_since_kf, self._max_main)
            self._rebuild_index()
            # the data written from now on continues the same time-ordered sequence
            self._run_value, self._run_time, self._rows_since_kf, self._max_main = run
            _fsync_dir(self.folder)
            log.info("history: retention deleted %d segment(s)", len(old))

    def close(self) -> None:
        """Flush and stop the writer thread. The store can no longer be appended to."""
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        self.flush()
        with self._lock:
            for f in self._files.values():
                f.close()
            self._files.clear()
            self._cache.clear()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
