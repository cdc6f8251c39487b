"""The audit trail of commands: an append-only, hash-chained JSON-lines file.

One line per attempt outcome (``refused``, ``sent``, ``confirmed``, ``failed``)::

    {"seq": 7, "time": "2026-03-02T10:15:00.123Z", "user": "alice", "role": "operator",
     "command": "l3_fan_speed", "target": "mqtt broker site/cmd/l3_fan_speed", "old": 85.0,
     "new": 70.0, "unit": "%", "reason": "bearing hot", "result": "sent", "message": "...",
     "readback": null, "correlation": "5f0c...", "prev": "<64 hex>", "hash": "<64 hex>"}

``hash`` is the SHA-256 of the record's canonical JSON (keys sorted, no spaces, UTF-8)
without ``hash``; ``prev`` is the previous record's ``hash`` (64 zeros for the first). So an
edited record no longer matches its hash, and a removed or moved one breaks the chain of
``prev`` and ``seq``: :meth:`AuditTrail.verify` names the first line where that happens. (The
chain cannot tell that the *last* records were cut off; a copy of the newest hash kept
elsewhere can.)

Appends are durable and safe between processes: the file is opened with ``O_APPEND``, locked
(``flock``) while the last record is read and the new one written, then flushed and fsynced.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: one process at a time (the thread lock still holds)
    fcntl = None  # type: ignore[assignment]

GENESIS = "0" * 64
RESULTS = ("refused", "sent", "confirmed", "failed")
FIELDS = (
    "seq", "time", "user", "role", "command", "target", "old", "new", "unit", "reason",
    "result", "message", "readback", "correlation", "prev", "hash",
)  # fmt: skip
_TAIL = 65536  # bytes read from the end to find the last record


def canonical(record: dict[str, Any]) -> bytes:
    """The bytes a record's hash is taken over: its JSON without ``hash``, keys sorted."""
    body = {k: v for k, v in record.items() if k != "hash"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def record_hash(record: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(record)).hexdigest()


def utc_text(t: float) -> str:
    """Epoch seconds as UTC ISO 8601 with milliseconds and a ``Z``."""
    stamp = datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def parse_utc(text: str) -> float:
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


@dataclass(frozen=True)
class Verification:
    """What :meth:`AuditTrail.verify` found: ``ok``, the records checked, and the first bad
    line (1-based) with what is wrong there."""

    ok: bool
    records: int
    line: int | None = None
    problem: str = ""

    def describe(self) -> str:
        if self.ok:
            return f"{self.records} records, the chain is intact"
        return f"line {self.line}: {self.problem}"


class AuditError(OSError):
    """The audit file cannot be written or read."""


def check_fields(fields: dict[str, Any]) -> None:
    """A record's fields before it is appended: a known result, no unknown field."""
    result = fields.get("result")
    if result not in RESULTS:
        raise ValueError(f"audit result {result!r}: expected one of {', '.join(RESULTS)}")
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown audit fields: {', '.join(sorted(unknown))}")


class AuditTrail:
    """One audit file. Thread-safe; appends from several processes are serialised by a lock."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    @contextmanager
    def _locked(self) -> Iterator[int]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                if fcntl is not None:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                yield fd
            finally:
                os.close(fd)  # closing releases the flock

    @staticmethod
    def _last(fd: int) -> dict[str, Any] | None:
        size = os.lseek(fd, 0, os.SEEK_END)
        if size == 0:
            return None
        start = max(0, size - _TAIL)
        os.lseek(fd, start, os.SEEK_SET)
        tail = os.read(fd, size - start)
        lines = [ln for ln in tail.split(b"\n") if ln.strip()]
        if not lines:
            return None
        try:
            last = json.loads(lines[-1])
        except json.JSONDecodeError:
            raise AuditError("the last line of the audit file is not a record") from None
        return last if isinstance(last, dict) else None

    def append(self, time: float, **fields: Any) -> dict[str, Any]:
        """Append one record (``time``: epoch seconds; the other fields as in the module
        docstring, missing ones null) durably; returns it with ``seq``, ``prev``, ``hash``."""
        check_fields(fields)
        try:
            with self._locked() as fd:
                last = self._last(fd)
                record: dict[str, Any] = {k: None for k in FIELDS if k != "hash"}
                record.update(fields)
                record["seq"] = int(last["seq"]) + 1 if last else 1
                record["time"] = utc_text(time)
                record["prev"] = str(last.get("hash")) if last else GENESIS
                record["hash"] = record_hash(record)
                line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
                os.write(fd, line.encode("utf-8"))
                os.fsync(fd)
        except OSError as exc:
            raise AuditError(f"{self.path}: cannot append to the audit trail: {exc}") from exc
        return record

    def _lines(self) -> Iterator[tuple[int, str]]:
        try:
            with open(self.path, encoding="utf-8") as f:
                for n, line in enumerate(f, 1):
                    if line.strip():
                        yield n, line
        except FileNotFoundError:
            return

    def records(self, t0: float | None = None, t1: float | None = None) -> list[dict[str, Any]]:
        """The records whose time is within ``t0..t1`` (epoch seconds, either open), oldest
        first. Lines that are not records are skipped (``verify`` reports them)."""
        out = []
        for _, line in self._lines():
            try:
                rec = json.loads(line)
                t = parse_utc(rec["time"])
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                continue
            if (t0 is None or t >= t0) and (t1 is None or t <= t1):
                out.append(rec)
        return out

    def verify(self) -> Verification:
        """Walk the chain; the first record that was edited, removed or reordered."""
        prev_hash, prev_seq, count = GENESIS, 0, 0
        for n, line in self._lines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                return Verification(False, count, n, f"not a JSON record ({exc.msg})")
            if not isinstance(rec, dict) or "hash" not in rec or "prev" not in rec:
                return Verification(False, count, n, "not an audit record (no hash or prev)")
            seq = rec.get("seq")
            if rec["hash"] != record_hash(rec):
                return Verification(
                    False, count, n, f"record seq {seq} was edited: its hash does not match"
                )
            if rec["prev"] != prev_hash or seq != prev_seq + 1:
                if isinstance(seq, int) and seq > prev_seq + 1:
                    what = (
                        f"record seq {prev_seq + 1}"
                        + (f" to {seq - 1}" if seq - 1 > prev_seq + 1 else "")
                        + f" missing before seq {seq}: removed"
                    )
                elif isinstance(seq, int) and seq <= prev_seq:
                    what = f"record seq {seq} follows seq {prev_seq}: reordered or repeated"
                else:
                    what = (
                        f"record seq {seq} does not chain to the record before it: "
                        "one was removed, replaced or reordered"
                    )
                return Verification(False, count, n, what)
            prev_hash, prev_seq, count = rec["hash"], seq, count + 1
        return Verification(True, count)

    @property
    def where(self) -> str:
        """Where the trail is kept, for messages (the file; a database trail names its table)."""
        return str(self.path)

    def stamp(self) -> tuple[int, int]:
        """Changes whenever a record is added (the file's modification time and size)."""
        try:
            st = self.path.stat()
        except OSError:
            return (0, 0)
        return (st.st_mtime_ns, st.st_size)

    def last_hash(self) -> str:
        """The newest record's hash (keep it elsewhere to detect a cut-off end)."""
        try:
            with open(self.path, "rb") as f:
                last = self._last(f.fileno())
        except FileNotFoundError:
            return GENESIS
        return str(last["hash"]) if last else GENESIS
