"""Sequence accounting: from the sequence numbers of a stream of messages to counted gaps.

A *stream* is what one counter numbers: an MQTT topic (JSON ``seq`` per topic), a publisher
(JSON ``seq`` per publisher) or a Sparkplug edge node (its 0-255 ``seq``). For every message
the decoder calls :meth:`SequenceTracker.observe` with the stream's key, the message's number,
the source times of its first and last sample, the sensors in it and how many samples it held.

* The next number: nothing to say.
* A jump forward: the numbers in between are *pending* missing. They are not reported at once:
  QoS 1 redelivery after a reconnect can bring them late and out of order, and a late number
  fills its place. :meth:`take` reports what is still missing ``grace`` seconds after it was
  seen (:data:`OUTAGE_GRACE` for a hole found across an outage), as
  :class:`~twinviewer.core.gaps.Gap` s.
* The same or an older number that fills no pending place: a duplicate (QoS 1 redelivers a
  message whose acknowledgement was lost); counted, the samples are kept (the history flags
  them).
* A number far behind (or back to 0 / 1 for an unbounded counter): the publisher restarted;
  the stream starts over (what it had not sent before restarting cannot be known here).

Wrapping counters (Sparkplug: modulo 256) are unwrapped with the stream's message period: a
jump of ``d`` could be ``d + 256 k`` messages, and the elapsed source time says which ``k``.

Samples missing = messages missing x the samples a message of that stream carries (exact when
every message so far carried the same number, else the mean, marked as an estimate).

``cause`` of a gap: :data:`~twinviewer.core.gaps.SEQUENCE` while the link was up; a gap found
on a stream's first message after the link came back (see :meth:`link_down`/:meth:`link_up`)
gets the cause the link gives (a disconnection, or a broker restart).
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field

from twinviewer.core.gaps import DISCONNECTION, PUBLISHER, SEQUENCE, Gap

__all__ = ["SequenceTracker", "StreamStats"]

RESTART_BEHIND = 1000  # an unbounded counter this far behind has restarted
#: Seconds a hole found across an outage waits before it is reported (at least; ``grace`` if
#: longer). A QoS 1 publisher re-sends what it had in flight only once it has reconnected
#: itself, which can be seconds after this link is back (measured: over a second on a loaded
#: machine after a broker ``kill -9``); a hole reported earlier would count samples that arrive.
OUTAGE_GRACE = 10.0
MAX_PENDING_RANGES = 64  # per stream; beyond, the oldest are reported at once


@dataclass
class _Pending:
    lo: int  # first missing number (unwrapped)
    hi: int  # last missing number (unwrapped)
    before: float  # source time of the last sample before the gap
    after: float  # source time of the first sample after it
    seen: float  # wall time it was detected
    cause: str
    filled: int = 0  # numbers that arrived late inside lo..hi

    @property
    def count(self) -> int:
        return self.hi - self.lo + 1 - self.filled


@dataclass
class _Stream:
    last: int  # newest number seen (unwrapped)
    last_raw: int
    last_time: float  # source time of the newest message's last sample
    sensors: set[int] = field(default_factory=set)
    messages: int = 0
    samples: int = 0
    sizes: set[int] = field(default_factory=set)  # samples per message seen (up to a few)
    period: float = 0.0  # mean source time between consecutive messages
    late: set[int] = field(default_factory=set)  # numbers filled late (in pending ranges)
    pending: list[_Pending] = field(default_factory=list)
    since_link_up: bool = False  # the next message is the first after a reconnect
    dead: bool = False  # its publisher announced its death (Sparkplug NDEATH)


@dataclass
class StreamStats:
    """Totals over every stream, for the source's status and summaries."""

    messages: int = 0
    missing_messages: int = 0  # reported as gaps
    duplicates: int = 0
    late: int = 0  # numbers that arrived late and filled a pending place
    restarts: int = 0  # counters that started over


class SequenceTracker:
    """Gaps of numbered streams (see the module docstring). Not thread-safe: owned by the
    thread that decodes."""

    def __init__(
        self,
        source: str,
        sensor_ids: Sequence[str],
        modulus: int | None = None,
        grace: float = 2.0,
    ) -> None:
        self.source = source
        self.ids = list(sensor_ids)
        self.modulus = modulus
        self.grace = grace
        self.streams: dict[Hashable, _Stream] = {}
        self.stats = StreamStats()
        self._link_cause = DISCONNECTION
        self._link_up_at: float | None = None
        self._was_down = False
        self._ready: list[Gap] = []

    # -- the link ------------------------------------------------------------------------------
    def link_down(self) -> None:
        """The connection was lost: the next message of every stream is the first after it."""
        for st in self.streams.values():
            st.since_link_up = True
        self._was_down = True

    def link_up(self, cause: str = DISCONNECTION, now: float | None = None) -> None:
        """The connection is back at wall time ``now``: a gap found on a stream's first message
        after it, or one whose missing messages were sent before ``now`` (the broker queued the
        rest for us and dropped these), gets ``cause``."""
        if not self._was_down:
            return  # the first connection: nothing was missed on a link that never was up
        self._was_down = False
        self._link_cause = cause
        self._link_up_at = time.time() if now is None else now

    def forget(self, key: Hashable) -> None:
        """A new session of the stream's publisher: report what it still had pending and start
        it over."""
        st = self.streams.pop(key, None)
        if st is not None:
            self._flush_stream(st)

    def died(self, key: Hashable) -> None:
        """The stream's publisher went offline (a Sparkplug death certificate)."""
        st = self.streams.get(key)
        if st is not None:
            st.dead = True

    def born(self, key: Hashable, t_birth: float, now: float) -> None:
        """A new session of the stream's publisher (a Sparkplug birth). After a death, what it
        would have sent in between is missing: estimated from its message period."""
        st = self.streams.get(key)
        if st is not None and st.dead and st.period > 0 and t_birth > st.last_time:
            n = round((t_birth - st.last_time) / st.period) - 1
            if n > 0:
                p = _Pending(st.last + 1, st.last + n, st.last_time, t_birth, now, PUBLISHER)
                self._report(st, p, numbered=False)
        self.forget(key)

    @property
    def pending(self) -> bool:
        """Some stream has missing numbers not yet reported."""
        return any(st.pending for st in self.streams.values())

    # -- messages ------------------------------------------------------------------------------
    def observe(
        self,
        key: Hashable,
        seq: int,
        t_first: float,
        t_last: float,
        sensors: Iterable[int],
        samples: int,
        now: float,
    ) -> str:
        """Account for one message; returns ``ok``, ``gap``, ``late``, ``duplicate`` or
        ``restart`` (a new stream is ``ok``)."""
        self.stats.messages += 1
        st = self.streams.get(key)
        if st is None:
            st = self.streams[key] = _Stream(last=seq, last_raw=seq, last_time=t_last)
            self._count(st, sensors, samples)
            return "ok"
        first_after_link = st.since_link_up
        st.since_link_up = False
        step = self._step(st, seq, t_first)
        if step is None:  # a restart of the counter
            self.stats.restarts += 1
            self._flush_stream(st)
            self.streams[key] = fresh = _Stream(last=seq, last_raw=seq, last_time=t_last)
            self._count(fresh, sensors, samples)
            return "restart"
        if step <= 0:  # behind or equal: late fill or a duplicate
            number = st.last + step
            for p in st.pending:
                if p.lo <= number <= p.hi and number not in st.late:
                    st.late.add(number)
                    p.filled += 1
                    self.stats.late += 1
                    self._count(st, sensors, samples)
                    return "late"
            self.stats.duplicates += 1
            return "duplicate"
        result = "ok"
        if step > 1:
            during_outage = self._link_up_at is not None and st.last_time < self._link_up_at
            cause = self._link_cause if first_after_link or during_outage else SEQUENCE
            st.pending.append(
                _Pending(st.last + 1, st.last + step - 1, st.last_time, t_first, now, cause)
            )
            if len(st.pending) > MAX_PENDING_RANGES:
                self._report(st, st.pending.pop(0))
            result = "gap"
        if t_first > st.last_time and st.messages:
            dt = (t_first - st.last_time) / step
            st.period = dt if st.period == 0 else 0.9 * st.period + 0.1 * dt
        st.last += step
        st.last_raw = seq
        st.last_time = max(st.last_time, t_last)
        self._count(st, sensors, samples)
        return result

    def _count(self, st: _Stream, sensors: Iterable[int], samples: int) -> None:
        st.sensors.update(sensors)
        st.messages += 1
        st.samples += samples
        if len(st.sizes) < 4:
            st.sizes.add(samples)

    def _step(self, st: _Stream, seq: int, t_first: float) -> int | None:
        """How far ``seq`` is from the stream's newest number (<= 0: not newer); None: the
        counter restarted."""
        m = self.modulus
        if m is None:
            d = seq - st.last_raw
            if d < 0 and (seq <= 1 or -d > RESTART_BEHIND):
                return None
            return d
        d = (seq - st.last_raw) % m
        if d == 0:
            # the same number again, or exactly k full turns later
            return self._turns(st, 0, t_first) if t_first > st.last_time else 0
        if t_first <= st.last_time and d > m // 2:
            return d - m  # behind: a late or repeated message
        return self._turns(st, d, t_first)

    def _turns(self, st: _Stream, d: int, t_first: float) -> int:
        """``d + k * modulus`` with the ``k`` that best matches the elapsed source time."""
        m = self.modulus
        assert m is not None
        if st.period <= 0 or t_first <= st.last_time:
            return d
        expected = (t_first - st.last_time) / st.period
        k = max(0, round((expected - d) / m))
        return d + k * m

    # -- reporting -----------------------------------------------------------------------------
    def take(self, now: float, final: bool = False) -> list[Gap]:
        """The gaps confirmed since the last call: pending ranges older than ``grace`` seconds
        (all of them when ``final``)."""
        for st in self.streams.values():
            keep = []
            for p in st.pending:
                wait = self.grace if p.cause == SEQUENCE else max(self.grace, OUTAGE_GRACE)
                if final or now - p.seen >= wait:
                    self._report(st, p)
                else:
                    keep.append(p)
            st.pending = keep
            if not keep:
                st.late.clear()
        out, self._ready = self._ready, []
        return out

    def _flush_stream(self, st: _Stream) -> None:
        for p in st.pending:
            self._report(st, p)
        st.pending = []

    def _report(self, st: _Stream, p: _Pending, numbered: bool = True) -> None:
        n = p.count
        if n <= 0:
            return
        self.stats.missing_messages += n
        per = st.samples / st.messages if st.messages else 1.0
        same = len(st.sizes) == 1
        missing = n * (next(iter(st.sizes)) if same else max(1, round(per)))
        exact = same and numbered
        detail = f"{n} message{'s' if n != 1 else ''} missing"
        if numbered:
            detail += f" (numbers {self._label(p.lo)}..{self._label(p.hi)})"
        else:
            detail += " (estimated from its message period)"
        sensors = tuple(sorted(self.ids[i] for i in st.sensors if 0 <= i < len(self.ids)))
        self._ready.append(
            Gap(
                source=self.source,
                sensors=sensors,
                start=min(p.before, p.after),
                end=max(p.before, p.after),
                missing=missing,
                cause=p.cause,
                exact=exact,
                detail=detail,
            )
        )

    def _label(self, number: int) -> int:
        return number % self.modulus if self.modulus else number
