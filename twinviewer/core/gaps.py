"""Data-quality intervals: where a source is known to have lost samples, and how many.

A :class:`Gap` is produced by a source when it can prove or strongly suspect a loss (a sequence
number that jumped, a connection that was down, a broker that lost our session), is recorded in
the history beside the samples, survives export and import, and is drawn on the charts and the
timeline. ``start`` and ``end`` bound the loss: the time of the last sample received before it
and of the first sample after it (source times, epoch seconds), so that the samples at ``start``
and ``end`` themselves are *not* missing.

:class:`GapLog` is the thread-safe hand-over from the source threads to whoever records them.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

__all__ = ["CAUSES", "Gap", "GapLog", "covering", "describe_cause"]

#: why samples are missing
SEQUENCE = "sequence"  # a sequence number jumped while the link was up
DISCONNECTION = "disconnection"  # the link was down (a gap found across a reconnect)
BROKER_RESTART = "broker_restart"  # the broker restarted and lost what it held for us
PUBLISHER = "publisher"  # the publisher went offline (Sparkplug death, publisher restart)
CAUSES = (SEQUENCE, DISCONNECTION, BROKER_RESTART, PUBLISHER)

_CAUSE_TEXT = {
    SEQUENCE: "sequence gap",
    DISCONNECTION: "disconnection",
    BROKER_RESTART: "broker restart",
    PUBLISHER: "publisher offline",
}


def describe_cause(cause: str) -> str:
    return _CAUSE_TEXT.get(cause, cause.replace("_", " "))


def _iso(t: float) -> str:
    return (datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="milliseconds")).replace(
        "+00:00", "Z"
    )


@dataclass(frozen=True)
class Gap:
    """Samples of ``sensors`` (ids) from ``source`` missing between ``start`` and ``end``.

    ``missing`` is the number of samples lost over all its sensors: exact when counted from
    sequence numbers of one-sample messages, else an estimate (``exact`` False), e.g. messages
    missing times the samples a message of that stream usually carries."""

    source: str
    sensors: tuple[str, ...]
    start: float
    end: float
    missing: int
    cause: str = SEQUENCE
    exact: bool = True
    detail: str = ""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.start) and math.isfinite(self.end)):
            raise ValueError(f"gap times must be finite, got {self.start}..{self.end}")
        if self.end < self.start:
            raise ValueError(f"gap ends before it starts ({self.start} > {self.end})")
        if self.missing < 0:
            raise ValueError(f"gap with a negative number of missing samples ({self.missing})")
        if isinstance(self.sensors, str) or not isinstance(self.sensors, tuple):
            object.__setattr__(
                self,
                "sensors",
                (self.sensors,) if isinstance(self.sensors, str) else tuple(self.sensors),
            )

    @property
    def duration(self) -> float:
        return self.end - self.start

    def covers(self, t: float, sensor: str | None = None) -> bool:
        """True if ``t`` lies strictly inside the gap (and ``sensor`` is one of its sensors)."""
        if not self.start < t < self.end:
            return False
        return sensor is None or not self.sensors or sensor in self.sensors

    def overlaps(self, t0: float | None, t1: float | None) -> bool:
        return (t0 is None or self.end >= t0) and (t1 is None or self.start <= t1)

    def describe(self) -> str:
        what = f"{self.missing:,}" if self.exact else f"about {self.missing:,}"
        return (
            f"{what} sample{'s' if self.missing != 1 else ''} missing from {self.source} "
            f"({describe_cause(self.cause)}), {_iso(self.start)} to {_iso(self.end)}"
            f" ({self.duration:.1f} s)"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "sensors": list(self.sensors),
            "start": self.start,
            "end": self.end,
            "missing": self.missing,
            "cause": self.cause,
            "exact": self.exact,
            "detail": self.detail,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Gap:
        """From :meth:`as_dict`'s form; raises ValueError naming the bad key."""
        try:
            sensors = d.get("sensors", [])
            if isinstance(sensors, str):
                sensors = [s for s in sensors.split(";") if s]
            return cls(
                source=str(d["source"]),
                sensors=tuple(str(s) for s in sensors),
                start=float(d["start"]),
                end=float(d["end"]),
                missing=int(d.get("missing", 0)),
                cause=str(d.get("cause", SEQUENCE)),
                exact=bool(d.get("exact", True)),
                detail=str(d.get("detail", "") or ""),
            )
        except KeyError as exc:
            raise ValueError(f"gap without {exc.args[0]!r}") from None
        except (TypeError, ValueError) as exc:
            raise ValueError(f"bad gap {d!r:.120}: {exc}") from None


def covering(gaps: Iterable[Gap], t: float, sensor: str | None = None) -> list[Gap]:
    """The gaps that hold ``t`` strictly inside (for ``sensor`` if given)."""
    return [g for g in gaps if g.covers(t, sensor)]


@dataclass
class GapLog:
    """Gaps handed over between threads: sources :meth:`add`, the owner :meth:`drain`s."""

    _pending: list[Gap] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, gap: Gap) -> None:
        with self._lock:
            self._pending.append(gap)

    def extend(self, gaps: Sequence[Gap]) -> None:
        with self._lock:
            self._pending.extend(gaps)

    def drain(self) -> list[Gap]:
        with self._lock:
            out, self._pending = self._pending, []
        return out
