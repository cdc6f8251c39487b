"""The recorder's local spool: an append-only log of sample batches and gaps, on local disk.

A recorder writing to PostgreSQL (:mod:`twinviewer.history.pg_spool`) passes *every* batch and
gap through this log before the database sees it: it is a write-ahead log. Each entry gets a
*position* (1, 2, 3, ... in append order, never reused); the database remembers, in the same
transaction as the rows, the position up to which it holds the log. So after any crash, outage
or restart the entries after that position are exactly what the database lacks.

Layout of the folder (one recorder at a time: ``lock`` is held with ``flock``)::

    spool.json                      {"id": "<uuid>", ...}: the spool's identity in the database
    lock                            flock'ed while a recorder uses the folder
    00000000000000000001.log        a segment: entries from position 1 on
    00000000000000052001.log        the next one (a segment is closed at ~64 MB, or at an
                                    eighth of the size cap if that is less)

A segment is a sequence of records::

    header  4s magic b"TVSL", u8 kind, u64 position, u32 count, u32 length, u32 crc32(payload)
    payload kind 0 (ids):     JSON list of the sensor ids that kind-1 indices refer to
            kind 1 (samples): int32 sensor[count], float64 time, value, arrival, uint8 quality
            kind 2 (gaps):    JSON list of core.gaps.Gap fields

Every segment starts with an ids record (position 0: it is not an entry), so an entry can be
read without the project that wrote it. Durability: every append is written to the operating
system at once (so a killed recorder loses nothing), and ``fsync``'ed at most ``sync_interval``
seconds later (so a power cut loses at most that much). A torn record at the end of the last
segment (a crash in the middle of a write) is cut off with a warning when the log is opened.
29 bytes a sample; no compression (the log is short-lived, and must keep up with ingest).

Size cap: ``max_bytes`` (``twinviewer record --spool-max-gb``; by default the smaller of
:data:`DEFAULT_MAX_BYTES` and 90 % of the disk space free when the log is opened, plus what it
holds). A batch that would take the folder past it (or that the disk refuses: no space left) is
not written: the oldest data is kept, the newest dropped, with one warning when it starts and
one when it ends. What was dropped is not forgotten: it becomes a gap (cause
:data:`SPOOL_FULL`, source ``recorder``, exact: its sensors, first and last time, and number of
samples), written into the log in its place as soon as a batch fits again (the database has
taken some of the spool, and segments were released), before that batch, and at close at the
latest (a gap record is small: it may pass the cap).
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import struct
import threading
import time
import uuid
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from twinviewer.core.gaps import Gap

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock, one recorder is trusted
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

MAGIC = b"TVSL"
HEADER = struct.Struct("<4sBQIII")
IDS, SAMPLES, GAPS = 0, 1, 2
SEGMENT_BYTES = 64 << 20
SAMPLE_BYTES = 4 + 8 + 8 + 8 + 1
DEFAULT_MAX_BYTES = 10 << 30  # 10 GiB, or 90 % of the free disk space if that is less
SPOOL_FULL = "spool_full"  # the cause of a gap: samples dropped at the spool's size cap


class SpoolError(OSError):
    """The spool folder cannot be used (message names the folder and why)."""


@dataclass
class Entry:
    """One entry read back: samples (project-independent: ``ids`` names the sensors) or gaps."""

    position: int
    ids: list[str]  # what ``sensor`` indexes
    sensor: NDArray[np.int32]
    time: NDArray[np.float64]
    value: NDArray[np.float64]
    arrival: NDArray[np.float64]
    quality: NDArray[np.uint8]
    gaps: list[Gap]

    def __len__(self) -> int:
        return len(self.sensor)


def _pack_samples(
    sensor: NDArray[np.int32],
    t: NDArray[np.float64],
    v: NDArray[np.float64],
    arrival: NDArray[np.float64],
    quality: NDArray[np.uint8],
) -> bytes:
    return b"".join(
        (
            np.ascontiguousarray(sensor, "<i4").tobytes(),
            np.ascontiguousarray(t, "<f8").tobytes(),
            np.ascontiguousarray(v, "<f8").tobytes(),
            np.ascontiguousarray(arrival, "<f8").tobytes(),
            np.ascontiguousarray(quality, np.uint8).tobytes(),
        )
    )


def _unpack_samples(payload: bytes, n: int) -> tuple[NDArray, NDArray, NDArray, NDArray, NDArray]:
    a = 0
    out = []
    for dtype, size in (("<i4", 4), ("<f8", 8), ("<f8", 8), ("<f8", 8), (np.uint8, 1)):
        out.append(np.frombuffer(payload, dtype, n, a).copy())
        a += size * n
    return out[0], out[1], out[2], out[3], out[4]


def _gaps_json(gaps: Sequence[Gap]) -> bytes:
    return json.dumps([asdict(g) for g in gaps]).encode()


def _gaps_of(payload: bytes) -> list[Gap]:
    out = []
    for d in json.loads(payload):
        d["sensors"] = tuple(d["sensors"])
        out.append(Gap(**d))
    return out


class SpoolLog:
    """The log in ``folder`` (created if needed). Thread-safe: appends from one thread, reads
    from another. :meth:`close` releases the folder."""

    def __init__(
        self,
        folder: Path,
        ids: Sequence[str],
        *,
        sync_interval: float = 1.0,
        max_bytes: int | None = None,
    ) -> None:
        self.folder = Path(folder)
        self.sync_interval = sync_interval
        self._lock = threading.Lock()
        self._ids = list(ids)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._lock_file: IO[bytes] | None = open(self.folder / "lock", "ab")  # noqa: SIM115
        except OSError as exc:
            raise SpoolError(f"spool folder {self.folder}: cannot be used: {exc}") from None
        if fcntl is not None:
            try:
                fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                self._lock_file.close()
                self._lock_file = None
                raise SpoolError(
                    f"spool folder {self.folder} is in use by another recorder; give each "
                    "recorder its own (--spool DIR)"
                ) from None
        self.id = self._identity()
        self._file: IO[bytes] | None = None
        self._file_bytes = 0
        self._synced = time.monotonic()
        self._dirty = False
        self.next_position = self._recover()
        # (last position read, its segment's first position, offset after it, the segment's ids)
        self._cursor: tuple[int, int, int, list[str]] | None = None
        self.first_position = self._first_position()
        self.bytes = sum(p.stat().st_size for _f, p in self.segments())
        if max_bytes is None:
            free = shutil.disk_usage(self.folder).free
            max_bytes = min(DEFAULT_MAX_BYTES, int(free * 0.9) + self.bytes)
        self.max_bytes = max_bytes
        # segments of at most an eighth of the cap: the database's progress frees room in steps
        self.segment_bytes = max(1 << 16, min(SEGMENT_BYTES, max_bytes // 8))
        self.dropped = 0  # samples dropped at the cap (over the log's life)
        self.full_since = 0.0  # wall time the current overflow began; 0: not full
        # what is being dropped now: sensors (indices), first and last time, count
        self._over: tuple[set[int], float, float, int] | None = None

    # -- identity and recovery -----------------------------------------------------------------

    def _identity(self) -> str:
        meta = self.folder / "spool.json"
        try:
            return str(json.loads(meta.read_text())["id"])
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SpoolError(f"spool folder {self.folder}: spool.json unreadable: {exc}") from None
        ident = str(uuid.uuid4())
        tmp = meta.with_suffix(".tmp")
        tmp.write_text(json.dumps({"id": ident, "created": time.time()}) + "\n")
        os.replace(tmp, meta)
        return ident

    def segments(self) -> list[tuple[int, Path]]:
        """(first position, path) of every segment, oldest first."""
        out = []
        for p in self.folder.glob("*.log"):
            try:
                out.append((int(p.stem), p))
            except ValueError:
                continue
        return sorted(out)

    def _scan(self, path: Path, start: int = 0) -> Iterator[tuple[int, int, int, int, int]]:
        """(offset, kind, position, count, length) of every whole, valid record of a segment
        from byte ``start`` on; stops at the first torn or corrupt one."""
        with open(path, "rb") as f:
            off = start
            f.seek(start)
            while True:
                head = f.read(HEADER.size)
                if len(head) < HEADER.size:
                    return
                magic, kind, pos, n, length, crc = HEADER.unpack(head)
                if magic != MAGIC or kind not in (IDS, SAMPLES, GAPS):
                    return
                payload = f.read(length)
                if len(payload) < length or zlib.crc32(payload) != crc:
                    return
                yield off, kind, pos, n, length
                off += HEADER.size + length

    def _recover(self) -> int:
        """The next position; cuts a torn tail off the last segment."""
        segs = self.segments()
        if not segs:
            return 1
        first, path = segs[-1]
        end, last = 0, first - 1
        for off, kind, pos, _n, length in self._scan(path):
            end = off + HEADER.size + length
            if kind != IDS:
                last = pos
        size = path.stat().st_size
        if end < size:
            log.warning(
                "spool %s: cut %d byte(s) of a torn record off %s (a crash while writing)",
                self.folder,
                size - end,
                path.name,
            )
            with open(path, "r+b") as f:
                f.truncate(end)
        return last + 1

    def _first_position(self) -> int:
        segs = self.segments()
        return segs[0][0] if segs else self.next_position

    # -- appending -----------------------------------------------------------------------------

    def _write(self, kind: int, n: int, payload: bytes) -> int:
        """Append one record (under the lock); its position. OSError (no space left): nothing
        of it stays in the file."""
        if self._file is None or self._file_bytes >= self.segment_bytes:
            self._open_segment()
        assert self._file is not None
        pos = self.next_position
        record = HEADER.pack(MAGIC, kind, pos, n, len(payload), zlib.crc32(payload)) + payload
        start = self._file.tell()
        try:  # unbuffered: to the operating system at once (a killed recorder loses nothing)
            if self._file.write(record) != len(record):  # a short write: the disk is full
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        except OSError:
            self._file.truncate(start)
            self._file.seek(start)
            raise
        self._file_bytes += len(record)
        self.bytes += len(record)
        self.next_position = pos + 1
        self._dirty = True
        now = time.monotonic()
        if now - self._synced >= self.sync_interval:
            os.fsync(self._file.fileno())
            self._synced = now
            self._dirty = False
        return pos

    def _open_segment(self) -> None:
        if self._file is not None:
            os.fsync(self._file.fileno())
            self._file.close()
        path = self.folder / f"{self.next_position:020d}.log"
        self._file = open(path, "ab", buffering=0)  # noqa: SIM115
        self._file_bytes = self._file.tell()
        ids = json.dumps(self._ids).encode()
        self._file.write(
            HEADER.pack(MAGIC, IDS, self.next_position, len(self._ids), len(ids), zlib.crc32(ids))
            + ids
        )
        self._file_bytes += HEADER.size + len(ids)
        self.bytes += HEADER.size + len(ids)
        if fcntl is not None:  # the new name must survive a power cut too
            fd = os.open(self.folder, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def append_samples(
        self,
        sensor: NDArray[np.int32],
        t: NDArray[np.float64],
        v: NDArray[np.float64],
        arrival: NDArray[np.float64],
        quality: NDArray[np.uint8],
    ) -> int:
        """Append a batch (``sensor`` indexes the ids given at open); its position, or -1 when
        it was dropped at the size cap (module docstring)."""
        payload = _pack_samples(sensor, t, v, arrival, quality)
        with self._lock:
            if self.bytes + HEADER.size + len(payload) <= self.max_bytes:
                try:
                    self._end_overflow()
                    return self._write(SAMPLES, len(sensor), payload)
                except OSError as exc:
                    why = f"the disk refused it ({exc.strerror or exc})"
            else:
                why = (
                    f"it holds {self.bytes / 1e9:.2f} GB, its cap is {self.max_bytes / 1e9:.2f} GB"
                )
            self._overflow(sensor, t, why)
            return -1

    def append_gaps(self, gaps: Sequence[Gap]) -> int:
        with self._lock:
            self._end_overflow(force=True)
            return self._write(GAPS, len(gaps), _gaps_json(gaps))

    def _overflow(self, sensor: ArrayLike, t: ArrayLike, why: str) -> None:
        """Drop a batch at the cap (under the lock): count it for the gap."""
        s = np.asarray(sensor)
        tt = np.asarray(t, np.float64)
        self.dropped += len(s)
        if not len(s):
            return
        lo, hi = float(np.min(tt)), float(np.max(tt))
        if self._over is None:
            self.full_since = time.time()
            log.warning(
                "spool %s is full: %s; keeping what it holds and DROPPING new samples (recorded "
                "as a gap) until the database takes some of it (raise --spool-max-gb or free "
                "disk space)",
                self.folder,
                why,
            )
            self._over = (set(), lo, hi, 0)
        sensors, a, b, n = self._over
        sensors.update(np.unique(s).tolist())
        self._over = (sensors, min(a, lo), max(b, hi), n + len(s))

    def _end_overflow(self, force: bool = False) -> None:
        """Write the gap of what was dropped (under the lock), if anything was."""
        if self._over is None:
            return
        sensors, a, b, n = self._over
        gap = Gap(
            source="recorder",
            sensors=tuple(
                self._ids[i] if 0 <= i < len(self._ids) else str(i) for i in sorted(sensors)
            ),
            start=a,
            end=b,
            missing=n,
            cause=SPOOL_FULL,
            exact=True,
            detail=f"the recorder's spool {self.folder} was full (cap {self.max_bytes / 1e9:.2f} "
            "GB) while the database did not take its data",
        )
        try:
            self._write(GAPS, 1, _gaps_json([gap]))
        except OSError:
            if not force:
                raise
            log.error("spool %s: cannot record the gap of %d dropped samples", self.folder, n)
        self._over = None
        log.warning(
            "spool %s: has room again after %.0f s; %d sample(s) were dropped (recorded as a gap)",
            self.folder,
            time.time() - self.full_since,
            n,
        )
        self.full_since = 0.0

    def sync(self) -> None:
        """fsync what was appended (at close, and every ``sync_interval`` seconds anyway)."""
        with self._lock:
            if self._file is not None and self._dirty:
                os.fsync(self._file.fileno())
                self._dirty = False
                self._synced = time.monotonic()

    # -- reading -------------------------------------------------------------------------------

    def read(self, after: int, max_samples: int) -> list[Entry]:
        """Entries with position > ``after`` in order, up to about ``max_samples`` samples (at
        least one entry when there is one). Reading on from the last entry returned is cheap
        (a cursor); any other ``after`` scans from the start of its segment."""
        with self._lock:
            end = self.next_position
        out: list[Entry] = []
        total = 0
        segs = self.segments()
        cur = self._cursor if self._cursor is not None and self._cursor[0] == after else None
        for i, (first, path) in enumerate(segs):
            nxt = segs[i + 1][0] if i + 1 < len(segs) else end
            if nxt <= after + 1 or (cur is not None and first < cur[1]):
                continue  # every entry of this segment is at or before `after`
            ids: list[str] = []
            start = 0
            if cur is not None and first == cur[1]:
                start, ids = cur[2], cur[3]
            with open(path, "rb") as f:
                for off, kind, pos, n, length in self._scan(path, start):
                    if kind == IDS:
                        f.seek(off + HEADER.size)
                        ids = json.loads(f.read(length))
                        continue
                    if pos <= after:
                        continue
                    if pos >= end or (out and total + n > max_samples):
                        return out  # `pos >= end`: being written right now
                    f.seek(off + HEADER.size)
                    payload = f.read(length)
                    out.append(self._entry(kind, pos, n, ids, payload))
                    self._cursor = (pos, first, off + HEADER.size + length, ids)
                    total += n if kind == SAMPLES else 0
        return out

    @staticmethod
    def _entry(kind: int, pos: int, n: int, ids: list[str], payload: bytes) -> Entry:
        if kind == SAMPLES:
            s, t, v, arr, q = _unpack_samples(payload, n)
            return Entry(pos, ids, s, t, v, arr, q, [])
        e = np.zeros(0)
        return Entry(
            pos, ids, np.zeros(0, np.int32), e, e, e, np.zeros(0, np.uint8), _gaps_of(payload)
        )

    def pending_samples(self, after: int) -> int:
        """How many samples are held after position ``after`` (headers only: cheap)."""
        total = 0
        for _first, path in self.segments():
            for _off, kind, pos, n, _length in self._scan(path):
                if kind == SAMPLES and pos > after:
                    total += n
        return total

    # -- releasing -----------------------------------------------------------------------------

    def release(self, upto: int) -> int:
        """Delete the segments whose every entry is at or before ``upto`` (the database holds
        them); never the one being written. The number of files deleted."""
        with self._lock:
            segs = self.segments()
            current = self._file.name if self._file is not None else None
            gone = 0
            for i, (_first, path) in enumerate(segs[:-1]):
                if segs[i + 1][0] - 1 <= upto and str(path) != current:
                    size = path.stat().st_size
                    path.unlink(missing_ok=True)
                    self.bytes -= size
                    gone += 1
            self.first_position = self._first_position()
            return gone

    def close(self) -> None:
        with self._lock:
            if self._over is not None:
                self._end_overflow(force=True)
            if self._file is not None:
                os.fsync(self._file.fileno())
                self._file.close()
                self._file = None
            if self._lock_file is not None:
                self._lock_file.close()
                self._lock_file = None
