"""Loss accounting of the OPC UA feed: sequence numbers of a subscription, outages across sessions.

Pure bookkeeping, no asyncua: :class:`~twinviewer.sources.opcua.OpcUaFeed` tells it what it
received and asks what was lost.

:class:`PublishSequence` follows the ``SequenceNumber`` of one subscription's notification
messages (OPC UA Part 4, 5.14.1 and 7.26). A message with notifications takes the next number
(1, 2, ... 2^32 - 1, then 1 again: 0 is never used); a keep-alive carries the number the next
message with notifications will take, without using it. So a data message numbered past the
next one, or a keep-alive numbered past it, shows that messages were lost on the way: a
:class:`Hole`, to be asked for again (Republish) while the server still holds it.

:class:`OutageTracker` keeps, per sensor, the source times of the samples of the current session.
When the connection is lost the old subscription dies with its session, and what the server
sampled until the new subscription's first notifications is gone: it becomes one
:data:`~twinviewer.core.gaps.DISCONNECTION` gap from the last sample before the loss to the first
one after, with the samples missing estimated per sensor from its observed sampling period.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from twinviewer.core.gaps import DISCONNECTION, Gap

__all__ = [
    "MAX_SEQUENCE",
    "Hole",
    "OutageTracker",
    "PublishSequence",
    "advance",
    "messages",
    "next_number",
]

MAX_SEQUENCE = 0xFFFF_FFFF  # a Counter (UInt32); after it comes 1
MAX_REPUBLISH = 1000  # a hole longer than this is not asked for message by message
SETTLE_S = 2.0  # wall seconds to wait for every sensor's first sample after a reconnect


def next_number(n: int) -> int:
    return 1 if n >= MAX_SEQUENCE else n + 1


def advance(n: int, k: int) -> int:
    """The number ``k`` steps after ``n``."""
    return (n - 1 + k) % MAX_SEQUENCE + 1


def messages(first: int, count: int) -> str:
    """``message 5`` or ``messages 5..7``."""
    return f"message {first}" if count == 1 else f"messages {first}..{advance(first, count - 1)}"


def _previous(n: int) -> int:
    return MAX_SEQUENCE if n <= 1 else n - 1


def _steps(a: int, b: int) -> int:
    """How many steps forward from ``a`` to ``b`` on the circle 1 .. 2^32 - 1."""
    return (b - a) % MAX_SEQUENCE


@dataclass(frozen=True)
class Hole:
    """``count`` notification messages from number ``first`` on were not received."""

    subscription_id: int
    first: int
    count: int
    before: float | None  # source time of the last sample received before them
    after: float | None  # of the first sample after them (a keep-alive: its publish time)

    def numbers(self) -> list[int]:
        out, n = [], self.first
        for _ in range(self.count):
            out.append(n)
            n = next_number(n)
        return out

    @property
    def last(self) -> int:
        return advance(self.first, self.count - 1)


@dataclass
class PublishSequence:
    """The sequence numbers of one subscription's notification messages (see the module doc)."""

    subscription_id: int
    last: int | None = None  # number of the last data message (or the one a keep-alive implies)
    last_time: float | None = None  # newest source time of the samples received so far
    messages: int = 0  # data messages seen (live or republished)
    notifications: int = 0  # data-change notifications they held
    duplicates: int = 0  # numbers seen again (or behind): not a loss

    def observe(
        self,
        number: int,
        data: bool,
        notifications: int = 0,
        times: tuple[float, float] | None = None,
        publish_time: float | None = None,
    ) -> Hole | None:
        """A live message: its ``number``, whether it carried notifications (``data``; False: a
        keep-alive), how many of them were data changes and the (oldest, newest) source time of
        its samples. Returns the messages it shows missing, if any."""
        if not 0 < number <= MAX_SEQUENCE:  # asyncua's own status messages carry 0
            return None
        # the number of the last data message before this one, as this one tells it
        implied = number if data else _previous(number)
        hole = None
        if self.last is not None:
            steps = _steps(self.last, implied)
            if steps > MAX_SEQUENCE // 2 or (data and steps == 0):
                self.duplicates += data  # a number seen before, or behind: not a loss
                return None
            if steps > (1 if data else 0):
                hole = Hole(
                    self.subscription_id,
                    next_number(self.last),
                    steps - (1 if data else 0),
                    self.last_time,
                    times[0] if times is not None else publish_time,
                )
        self.last = implied
        if data:
            self.count(notifications, times)
        return hole

    def count(self, notifications: int, times: tuple[float, float] | None) -> None:
        """A data message received (live, or recovered by Republish)."""
        self.messages += 1
        self.notifications += notifications
        if times is not None:
            self.last_time = times[1] if self.last_time is None else max(self.last_time, times[1])

    @property
    def per_message(self) -> float:
        """Data-change notifications per data message so far (1 before any)."""
        return self.notifications / self.messages if self.messages else 1.0

    def estimate(self, messages: int) -> int:
        """Samples that ``messages`` lost data messages probably held."""
        return round(messages * self.per_message)


@dataclass
class _Run:
    """One sensor's samples in the current session."""

    first: float
    last: float
    count: int = 1

    def period(self) -> float | None:
        if self.count < 2 or self.last <= self.first:
            return None
        return (self.last - self.first) / (self.count - 1)


@dataclass
class _Outage:
    last: dict[int, float]  # sensor -> source time of its last sample before the loss
    period: dict[int, float]  # sensor -> seconds between its samples
    first_after: dict[int, float] = field(default_factory=dict)
    settle_until: float | None = None  # wall (monotonic) time to report by, once data is back
    detail: str = ""  # why the connection was lost


class OutageTracker:
    """Samples of each sensor per session, and the gap a lost connection left (module doc)."""

    def __init__(self, source: str, names: Sequence[str], default_period: float) -> None:
        self.source = source
        self.names = list(names)
        self.default_period = default_period  # seconds: the requested sampling interval
        self.runs: dict[int, _Run] = {}
        self.pending: _Outage | None = None

    def sample(self, i: int, t: float, now: float) -> None:
        """Sensor ``i`` delivered a sample stamped ``t`` (``now``: monotonic wall time)."""
        run = self.runs.get(i)
        if run is None:
            self.runs[i] = _Run(t, t)
        else:
            run.count += 1
            run.first = min(run.first, t)
            run.last = max(run.last, t)
        out = self.pending
        if out is not None and i in out.last and i not in out.first_after and t > out.last[i]:
            out.first_after[i] = t
            if out.settle_until is None:
                out.settle_until = now + SETTLE_S

    def lost(self, detail: str = "") -> Gap | None:
        """The connection dropped: remember where each sensor's data stopped. Returns the gap of
        an earlier outage whose data had come back but that was not reported yet."""
        done = self.take(math.inf) if self.pending and self.pending.first_after else None
        out = self.pending or _Outage({}, {}, detail=detail)
        for i, run in self.runs.items():
            out.last[i] = max(out.last.get(i, -math.inf), run.last)
            out.period[i] = run.period() or out.period.get(i) or self.default_period
        self.runs = {}
        self.pending = out if out.last else None
        return done

    def take(self, now: float) -> Gap | None:
        """The gap of the last outage, once every sensor has delivered again (or ``SETTLE_S``
        after the first did); None while waiting or when nothing was lost."""
        out = self.pending
        if out is None or not out.first_after:
            return None
        if len(out.first_after) < len(out.last) and now < (out.settle_until or math.inf):
            return None
        self.pending = None
        start = max(out.last.values())
        end = max(start, min(out.first_after.values()))
        missing = 0
        for i, before in out.last.items():
            after = out.first_after.get(i, end)
            missing += max(0, round((after - before) / out.period[i]) - 1)
        return Gap(
            source=self.source,
            sensors=tuple(self.names[i] for i in sorted(out.last)),
            start=start,
            end=end,
            missing=missing,
            cause=DISCONNECTION,
            exact=False,
            detail=f"OPC UA subscription lost with its session: {out.detail or 'connection lost'}",
        )
