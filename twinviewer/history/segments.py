"""The segment files of the embedded history store, one segment at a time.

A segment is one immutable Parquet file (``000000000007-m.parquet``); a *main* segment has two
sidecars beside it, its per-sensor summary blocks (``.blocks.npy``) and its keyframes
(``.keys.npy``). This module holds what concerns a single segment on disk: the file names, the
:class:`Segment` record, the atomic writes (temporary name, fsync, rename, fsync the folder),
the summary blocks, the Parquet layout of the rows (columns, encodings, metadata) and reading a
segment's footer and sidecars back.

It is apart from :mod:`twinviewer.history.store`, which decides when segments are written,
merged and deleted and describes the design (folder layout, durability, columns); the tuning
there (row-group size, block size) is passed in as arguments.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import NDArray

log = logging.getLogger(__name__)

META_KEY = b"twinviewer.history"
SEGMENT_RE = re.compile(r"^(\d{12})-([ml])\.parquet$")
SIDECAR_RE = re.compile(r"^(\d{12})-m\.(blocks|keys)\.npy$")

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


def fsync_dir(folder: Path) -> None:
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


def atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def atomic_save_npy(path: Path, array: np.ndarray) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        np.save(f, array, allow_pickle=False)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def empty_rows() -> tuple[F64, NDArray[np.int64], F64]:
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


def segment_name(seq: int, kind: str) -> str:
    return f"{seq:012d}-{kind}.parquet"


def build_blocks(time: F64, sensor: NDArray[Any], value: F64, block: int) -> np.ndarray:
    """Per-sensor summary blocks of ``block`` consecutive samples (rows time-ordered)."""
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
    cut = new_sensor | ((pos % block == 0) & (pos > 0))
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


def block_offsets(blocks: np.ndarray, n_sensors: int) -> NDArray[np.int64]:
    return np.searchsorted(blocks["sensor"], np.arange(n_sensors + 1)).astype(np.int64)


# -- writing one segment -----------------------------------------------------------------------


def write_parquet(
    path: Path,
    s: NDArray[Any],
    t: F64,
    v: F64,
    delay: NDArray[np.float32],
    q: NDArray[np.uint8],
    *,
    n_store: int,
    meta: dict[str, Any],
    row_group: int,
) -> None:
    """Write the rows of one segment to ``path`` durably (module docstring of
    :mod:`~twinviewer.history.store`: the columns); ``meta`` goes into the schema metadata.
    Values are stored as float32 when every one of them round-trips exactly."""
    v32 = v.astype(np.float32)
    exact32 = bool(np.array_equal(v32.astype(np.float64), v, equal_nan=True))
    sensor_type = pa.uint16() if n_store <= 65_535 else pa.int32()
    table = pa.table(
        {
            "time": pa.array(t, pa.float64()),
            "sensor": pa.array(s.astype(np.uint16 if n_store <= 65_535 else np.int32), sensor_type),
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
            row_group_size=row_group,
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
    fsync_dir(path.parent)


# -- reading one segment back ------------------------------------------------------------------


def read_segment(seq: int, path: Path, block: int) -> Segment:
    """A segment's record from its Parquet footer (row groups, their time statistics, the
    metadata) and its sidecars; a missing or broken sidecar is rebuilt from the rows."""
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
            rebuild_sidecar(seg, block)
    return seg


def rebuild_sidecar(seg: Segment, block: int) -> None:
    """Rebuild a main segment's summary blocks from its rows; its keyframes are dropped."""
    table = pq.read_table(seg.path, columns=["time", "sensor", "value"])
    t = table.column("time").to_numpy()
    s = table.column("sensor").to_numpy().astype(np.int64)
    v = table.column("value").to_numpy().astype(np.float64)
    blocks = build_blocks(t, s, v, block)
    atomic_save_npy(seg.blocks_path(), blocks)
    seg.keyframe_rgs = []  # keyframes are an optimisation: replay from an earlier one
    seg.keyframe_sensors = 0
    atomic_save_npy(seg.keys_path(), np.zeros((0, 2, 0)))
    seg.blocks = blocks
    seg.keys = np.zeros((0, 2, 0))
    seg.nbytes = seg.path.stat().st_size + seg.blocks_path().stat().st_size


def delete_files(seg: Segment) -> None:
    """Delete a segment's file and its sidecars (whichever exist)."""
    seg.path.unlink(missing_ok=True)
    if seg.kind == "m":
        seg.blocks = None
        seg.keys = None
        seg.blocks_path().unlink(missing_ok=True)
        seg.keys_path().unlink(missing_ok=True)
