"""The embedded store's record of data-quality gaps: ``gaps.jsonl`` in the store folder.

A gap (:class:`~twinviewer.core.gaps.Gap`) says that a source lost samples between two instants.
Gaps are rare (a reconnect, a sequence jump) and small, so they are not worth a Parquet segment
of their own: the file is one JSON object per line (``Gap.as_dict``), appended to and fsynced
at once. Unlike samples, which wait up to a flush interval in the writer's buffer, a gap is
durable when :meth:`GapFile.add` returns: it is the one record that tells a reader of the
history "the hole you see is real", so it must survive a ``kill -9`` of the recorder.

Why JSON lines
--------------
* **Append-only, crash-tolerant.** A crash while writing can only tear the last line. At open,
  a line that does not parse (torn or otherwise damaged) is logged, counted
  (:attr:`GapFile.skipped_lines`) and skipped, never fatal: the store must open whatever the
  file holds. The next append starts on a fresh line, so a torn tail never glues onto a good
  record.
* **Readable by hand.** An operator can ``grep`` the file or ``jq`` it.
* **Rewritten only by retention.** :meth:`GapFile.retire` drops gaps that ended before the
  retention cutoff by writing the survivors to a temporary file, fsyncing it and renaming it
  over the old one (the segment module's atomic write), so a crash leaves the old file or the
  new one, never half of either. Damaged lines are left out of the rewrite.

All gaps are held in memory (a few hundred bytes each; a store that lost data a million times
has other problems), so queries are a filter over a list, under a lock (thread-safe: sources'
gaps arrive from the GUI's frame timer while charts query from elsewhere).
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from twinviewer.core.gaps import Gap
from twinviewer.history.segments import atomic_write_bytes, fsync_dir

log = logging.getLogger(__name__)

GAPS_FILE = "gaps.jsonl"


def gap_line(gap: Gap) -> bytes:
    """One line of the file: compact JSON (floats written by ``repr``, so they round-trip)."""
    return json.dumps(gap.as_dict(), separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def parse_gap_line(line: bytes) -> Gap:
    """The gap of one line; ValueError if it is not one (bad JSON, not an object, bad fields)."""
    d: Any = json.loads(line)
    if not isinstance(d, dict):
        raise ValueError(f"expected a JSON object, got {type(d).__name__}")
    return Gap.from_dict(d)


def select_gaps(
    gaps: Sequence[Gap], t0: float | None = None, t1: float | None = None, sensor: str | None = None
) -> list[Gap]:
    """The gaps overlapping ``t0..t1`` (None: unbounded) that concern ``sensor`` (a gap with no
    sensors listed concerns every sensor of its source), sorted by start (then end; equal ones
    keep the order they were recorded in): the embedded store's query, which the PostgreSQL store
    answers the same way in SQL."""
    out = [
        g
        for g in gaps
        if g.overlaps(t0, t1) and (sensor is None or not g.sensors or sensor in g.sensors)
    ]
    out.sort(key=lambda g: (g.start, g.end))
    return out


class GapFile:
    """The gaps of one store folder: read at open, appended durably, retired by retention."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / GAPS_FILE
        self._lock = threading.Lock()
        self._gaps: list[Gap] = []
        self._oldest_end = math.inf  # retention has nothing to do while cutoff <= this
        self.skipped_lines = 0  # lines at open that were not a gap (torn by a crash, damaged)
        self._load()

    def _load(self) -> None:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        lines = data.split(b"\n")
        torn_tail = bool(data) and not data.endswith(b"\n")
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                gap = parse_gap_line(line)
            except ValueError as exc:  # json.JSONDecodeError is a ValueError
                self.skipped_lines += 1
                last = torn_tail and number == len(lines)
                log.warning(
                    "history: %s line %d skipped (%s): %s",
                    self.path,
                    number,
                    "torn by a crash while it was written" if last else "not a gap",
                    exc,
                )
                continue
            self._gaps.append(gap)
        self._oldest_end = min((g.end for g in self._gaps), default=math.inf)

    # -- writing -------------------------------------------------------------------------------

    def add(self, gaps: Sequence[Gap]) -> None:
        """Append ``gaps`` and fsync before returning (module docstring: why at once)."""
        if not gaps:
            return
        data = b"".join(gap_line(g) for g in gaps)
        with self._lock:
            created = not self.path.exists()
            with open(self.path, "a+b") as f:
                if f.seek(0, os.SEEK_END) > 0:
                    f.seek(-1, os.SEEK_END)
                    if f.read(1) != b"\n":  # a torn tail: start a fresh line after it
                        data = b"\n" + data
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            if created:  # the new directory entry must be durable too
                fsync_dir(self.folder)
            self._gaps.extend(gaps)
            self._oldest_end = min(self._oldest_end, min(g.end for g in gaps))

    def retire(self, cutoff: float) -> int:
        """Drop the gaps that ended before ``cutoff`` (retention); returns how many. The file is
        rewritten atomically, only when there is something to drop."""
        with self._lock:
            if cutoff <= self._oldest_end:
                return 0
            keep = [g for g in self._gaps if g.end >= cutoff]
            gone = len(self._gaps) - len(keep)
            if keep:
                atomic_write_bytes(self.path, b"".join(gap_line(g) for g in keep))
            else:
                self.path.unlink(missing_ok=True)
            fsync_dir(self.folder)
            self._gaps = keep
            self._oldest_end = min((g.end for g in keep), default=math.inf)
        if gone:
            log.info("history: retention deleted %d gap(s) that ended before %.0f", gone, cutoff)
        return gone

    # -- reading -------------------------------------------------------------------------------

    def select(
        self, t0: float | None = None, t1: float | None = None, sensor: str | None = None
    ) -> list[Gap]:
        with self._lock:
            held = list(self._gaps)
        return select_gaps(held, t0, t1, sensor)

    def totals(self) -> tuple[int, int]:
        """``(gaps, samples missing over all of them)``."""
        with self._lock:
            return len(self._gaps), sum(g.missing for g in self._gaps)
