"""The embedded history store: immutable Parquet segments in a folder, plus an in-memory index.

Layout of the folder (``<project folder>/<project stem>.history/`` by default)::

    sensors.json                 store sensor ids, in store-index order (written atomically)
    000000000007-m.parquet       a *main* segment (seq 7): time-ordered rows
    000000000007-m.blocks.npy    its per-sensor summary blocks (for charts)
    000000000007-m.keys.npy      its keyframes (full state at the start of some row groups)
    000000000008-l.parquet       a *late* segment: samples older than the main data already held
    gaps.jsonl                   data-quality gaps the sources reported (one JSON object a line,
                                 appended and fsynced at once; :mod:`twinviewer.history.gap_file`)

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
  ``now - retention``, and the gaps that ended before that cutoff.
* **Gaps** (where a source lost samples: :class:`~twinviewer.core.gaps.Gap`) are not samples
  and are not buffered: :meth:`HistoryStore.add_gaps` appends them to ``gaps.jsonl`` and
  fsyncs before it returns, so a recorder killed right after a reconnect still leaves the record
  of the hole it saw. A torn last line (a crash mid-write) is skipped with a warning at open.
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

Where the code is
-----------------
This module is :class:`HistoryStore` itself: opening the folder, the sensor ids, the writer
thread (buffer, flush, keyframes of new segments), compaction and retention, with the writer's
tuning. Its read side (the in-memory index and every query) is the base class in
:mod:`twinviewer.history.store_queries`; one segment's files (names, Parquet layout, sidecars,
atomic writes) are in :mod:`twinviewer.history.segments`; the gap file is
:mod:`twinviewer.history.gap_file`.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time as _time
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
from numpy.typing import NDArray

from twinviewer.core.gaps import Gap
from twinviewer.core.samples import SampleBatch
from twinviewer.history.gap_file import GapFile
from twinviewer.history.rows import batch_rows, last_per_sensor

# ``NAME as NAME``: defined here before the read side and the segment files moved out
from twinviewer.history.segments import BLOCK_DTYPE as BLOCK_DTYPE
from twinviewer.history.segments import F64 as F64
from twinviewer.history.segments import META_KEY as META_KEY
from twinviewer.history.segments import (
    SEGMENT_RE,
    SIDECAR_RE,
    Segment,
    atomic_save_npy,
    atomic_write_bytes,
    block_offsets,
    build_blocks,
    delete_files,
    fsync_dir,
    read_segment,
    segment_name,
    write_parquet,
)
from twinviewer.history.store_queries import CACHE_ROW_GROUPS as CACHE_ROW_GROUPS
from twinviewer.history.store_queries import NEIGHBOUR_ROW_GROUPS as NEIGHBOUR_ROW_GROUPS
from twinviewer.history.store_queries import OPEN_FILES as OPEN_FILES
from twinviewer.history.store_queries import StoreQueries

log = logging.getLogger(__name__)

# The writer's tuning. It is read from this module at call time (tests shrink it to exercise
# row groups, blocks, keyframes and compaction on small data); the read side's own limits
# (NEIGHBOUR_ROW_GROUPS, CACHE_ROW_GROUPS, OPEN_FILES) are in store_queries.
ROW_GROUP = 131_072
BLOCK = 64  # samples of one sensor per summary block
KEYFRAME_MIN_ROWS = 131_072
KEYFRAME_ROWS_PER_SENSOR = 32  # 10k sensors, 1e8 samples: at(t) p95 15 ms (64: 23-28 ms)
FLUSH_SAMPLES = 1_000_000
COMPACT_ROWS = 1_000_000  # compaction target: a merged segment holds this many rows...
COMPACT_SPAN = 3600.0  # ...or this many seconds, whichever comes first
COMPACT_SEGMENTS = 64  # the writer compacts when more small segments than this accumulated
MAX_BUFFERED = 8_000_000  # append() waits while more are buffered (writer thread only)
RAW_ROWS_LIMIT = 1_000_000  # series(): below this many rows in range, compute from raw rows
SENSORS_FILE = "sensors.json"


# -- the store ---------------------------------------------------------------------------------


class HistoryStore(StoreQueries):
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
        self._gaps = GapFile(self.folder)
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
            atomic_write_bytes(path, json.dumps({"ids": ids}, indent=0).encode())
            fsync_dir(self.folder)

    def extend_sensors(self, project_ids: Sequence[str]) -> None:
        """The project's sensors grew (a fleet discovered a unit): ``project_ids`` are all of
        them, the known ones first in the same order; new ids are stored from now on."""
        with self._lock, self._buf_lock:
            self._load_sensors(list(project_ids))

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
            m = SEGMENT_RE.match(name)
            if m:
                segs[int(m.group(1))] = path
                max_seq = max(max_seq, int(m.group(1)))
        for name in names:  # sidecars whose segment never made it
            m2 = SIDECAR_RE.match(name)
            if m2 and int(m2.group(1)) not in segs:
                (self.folder / name).unlink(missing_ok=True)
        self._next_seq = max_seq + 1
        for seq in sorted(segs):
            path = segs[seq]
            try:
                seg = read_segment(seq, path, BLOCK)
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
            delete_files(seg)
        self._segments = [s for s in self._segments if s.seq not in replaced]
        self._segments.sort(key=lambda x: x.order)
        if replaced:
            fsync_dir(self.folder)

    # -- statistics ----------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        gap_count, gap_samples = self._gaps.totals()
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
                "gaps": gap_count,
                "gap_samples": gap_samples,
                "gap_lines_skipped": self._gaps.skipped_lines,
            }

    # -- gaps ----------------------------------------------------------------------------------

    def add_gaps(self, gaps: Sequence[Gap]) -> None:
        """Record data-quality gaps; durable (fsynced) when this returns, unlike samples, which
        wait for the next flush: gaps are rare, and the record of a loss must outlive a crash
        that follows it. Thread-safe."""
        if not gaps:
            return
        if self._closed:
            raise RuntimeError("history store is closed")
        self._gaps.add(gaps)

    def gaps(
        self, t0: float | None = None, t1: float | None = None, sensor: str | None = None
    ) -> list[Gap]:
        """The recorded gaps overlapping ``t0..t1`` (None: unbounded) of ``sensor`` if given (a
        gap listing no sensors concerns all of them), sorted by start."""
        return self._gaps.select(t0, t1, sensor)

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
        """Write everything buffered as durable segments; apply retention (segments and gaps)."""
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
                cutoff = (_time.time() if now is None else now) - self.retention
                self._apply_retention(cutoff)
                self._gaps.retire(cutoff)

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
        path = self.folder / segment_name(seq, kind)
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
            blocks = build_blocks(t, s, v, BLOCK)
            atomic_save_npy(seg.blocks_path(), blocks)
            atomic_save_npy(seg.keys_path(), key_arr)
            seg.blocks = blocks
            seg.keys = key_arr
            seg.block_off = block_offsets(blocks, n_st)
            seg.keyframe_rgs = keyframe_rgs
            seg.keyframe_sensors = n_st
            meta["keyframe_rgs"] = keyframe_rgs
            meta["keyframe_sensors"] = n_st
            nbytes += seg.blocks_path().stat().st_size + seg.keys_path().stat().st_size
        write_parquet(path, s, t, v, delay, q, n_store=self.n_store, meta=meta, row_group=ROW_GROUP)
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
            delete_files(seg)
        fsync_dir(self.folder)

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
            fsync_dir(self.folder)
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
