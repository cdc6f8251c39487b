"""Message payloads to columnar samples: pure decoders, no network.

A :class:`PayloadDecoder` is built once per source from its :class:`MqttSource` config and the
project's sensors. Messages go in one at a time with :meth:`PayloadDecoder.add` (topic, payload
bytes, arrival time); :meth:`PayloadDecoder.take` hands back everything decoded since the last
call as columns (sensor index, source time, value, arrival time) plus what was rejected, counted
per reason. Good samples of a message count even when others of the same message are rejected.

Formats (``config.format``):

``json``
    one value per message, ``{"value": 21.5, "ts": 1732450000.123}`` (keys from the config), or
    a bare number. The sensor comes from the topic's ``{sensor}`` level, else from the payload's
    ``sensor_field``.
``json_batch``
    a list of such records, each naming its sensor, or the columnar form
    ``{"sensor": [...], "ts": [...], "value": [...]}`` (the fast path: numpy over the lists, no
    Python loop per sample). In the columnar form ``sensor`` may be one string for all samples
    and ``ts`` one time for all; either may be absent when the topic names the sensor or the
    arrival time will do.
``sparkplug_b``
    Sparkplug B protobuf (see :mod:`twinviewer.sources.sparkplug`). NBIRTH/DBIRTH establish
    alias -> metric maps per edge node / device; NDATA/DDATA may then use aliases. A metric maps
    to the sensor with its exact name, else with its last ``/``-separated part. Times are the
    metric's timestamp, else the payload's (ms). Data by alias before a birth is rejected as
    ``unknown_sensor``.

Delivery accounting (:mod:`twinviewer.sources.sequence`): a JSON message may carry a sequence
number (``seq_field``, default ``seq``; per topic, or per publisher named by
``publisher_field`` with ``seq_scope: publisher``); Sparkplug payloads carry the edge node's
0-255 ``seq``. Numbers that never arrive become gaps (:meth:`PayloadDecoder.take_gaps`); an NDEATH
followed by an NBIRTH is a gap estimated from the node's message period. A broken Sparkplug
sequence, and data by alias before a birth, put the node in :attr:`PayloadDecoder.rebirths`:
the feed asks it to send its birth certificate again (``Node Control/Rebirth``, as the
specification expects of a host application; ``request_rebirth: false`` turns that off).

Values: numbers; booleans as 1/0; numeric strings. Times: see
:mod:`twinviewer.sources.timestamps` (the keys ``ts``, ``timestamp``, ``time``, ``t`` by
default; seconds, ms, us, ns by magnitude, ISO 8601 or a strftime pattern). A null or absent
time means the arrival time; a time that is given but unreadable is a rejection.

Rejection reasons (per sample, or per message where the whole message is unusable):
``oversized`` (checked before parsing), ``malformed`` (bad JSON/protobuf, wrong shape, no sensor
given), ``unknown_sensor`` (also: topic not matching the template), ``not_numeric``,
``not_finite``, ``bad_timestamp``, ``future_timestamp`` (more than ``max_future`` seconds after
arrival).

Flags, not rejections: ``out_of_order`` (a sample older than the previous accepted sample of
the same sensor, in arrival order) and ``duplicate`` (the same time as that previous sample);
per message, ``seq_duplicate``, ``seq_late``, ``seq_restart`` and ``bad_seq`` (sequence
numbers repeated, filling a gap late, starting over, or not a non-negative integer).
Each sample is compared with the one sensor's previous sample only (not a running maximum), in
one vectorised pass per :meth:`take`.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

import numpy as np
import orjson
from numpy.typing import NDArray

from twinviewer.core.gaps import Gap
from twinviewer.core.project import MqttSource, Sensor
from twinviewer.core.samples import SampleBatch
from twinviewer.sources import sparkplug
from twinviewer.sources.sequence import SequenceTracker

# ``NAME as NAME``: defined here before topics and timestamps moved out
from twinviewer.sources.timestamps import TIME_KEYS, scale_times
from twinviewer.sources.timestamps import parse_time as parse_time
from twinviewer.sources.topics import TopicTemplate as TopicTemplate

__all__ = ["REASONS", "Decoded", "PayloadDecoder", "TopicTemplate", "parse_time"]

OVERSIZED = "oversized"
MALFORMED = "malformed"
UNKNOWN_SENSOR = "unknown_sensor"
NOT_NUMERIC = "not_numeric"
NOT_FINITE = "not_finite"
BAD_TIMESTAMP = "bad_timestamp"
FUTURE_TIMESTAMP = "future_timestamp"
REASONS = (
    OVERSIZED,
    MALFORMED,
    UNKNOWN_SENSOR,
    NOT_NUMERIC,
    NOT_FINITE,
    BAD_TIMESTAMP,
    FUTURE_TIMESTAMP,
)
OUT_OF_ORDER = "out_of_order"
DUPLICATE = "duplicate"

_TOPIC_CACHE_MAX = 100_000
# Sparkplug metrics that are about the edge node itself, never sensors: ignored silently.
_SPB_CONTROL_PREFIXES = ("Node Control/", "Device Control/", "Properties/", "Node Info/")
_SPB_CONTROL = {"bdSeq"}
_SPB_DATA = {"NBIRTH", "NDATA", "DBIRTH", "DDATA"}

_I32 = np.int32
_F64 = np.float64


@dataclass
class Decoded:
    """What :meth:`PayloadDecoder.take` returns: accepted samples as columns, and the rest."""

    sensor: NDArray[np.int32]
    time: NDArray[np.float64]  # source time (seconds since the epoch), else arrival time
    value: NDArray[np.float64]
    arrival: NDArray[np.float64]  # when the message arrived
    messages: int = 0
    rejected: dict[str, int] = field(default_factory=dict)  # reason -> samples or messages
    details: dict[str, str] = field(default_factory=dict)  # reason -> first example
    flags: dict[str, int] = field(default_factory=dict)  # out_of_order, duplicate

    def __len__(self) -> int:
        return len(self.sensor)

    @property
    def batch(self) -> SampleBatch:
        return SampleBatch(self.sensor, self.time, self.value)


def _number(v: Any) -> float | str:
    """A value as a float, or the reason it is not one."""
    t = type(v)
    if t is float or t is int:
        try:
            f = float(v)
        except OverflowError:
            return NOT_FINITE
    elif t is bool:
        return 1.0 if v else 0.0
    elif t is str:
        try:
            f = float(v)
        except ValueError:
            return NOT_NUMERIC
    else:
        return NOT_NUMERIC
    return f if math.isfinite(f) else NOT_FINITE


def _loads(payload: bytes) -> Any:
    """orjson first; the standard library as a fallback, which also reads NaN and Infinity
    (Python's ``json.dumps`` writes them), so that they count as not finite, not malformed."""
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        return json.loads(payload)  # raises ValueError (JSONDecodeError, UnicodeDecodeError)


class PayloadDecoder:
    """Decodes one source's messages into columnar samples. Not thread-safe: one per source,
    used by the thread that receives the messages."""

    def __init__(self, config: MqttSource, sensors: Sequence[Sensor]) -> None:
        self.config = config
        self.format = config.format
        self.template = TopicTemplate(config.topic)
        self.index: dict[str, int] = {s.id: i for i, s in enumerate(sensors)}
        self.n_sensors = len(sensors)
        self.value_field = config.value_field
        self.time_field = config.time_field
        #: the keys a payload's time may have, in order (``auto``: the common names)
        self.time_keys: tuple[str, ...] = (
            (TIME_KEYS if config.time_field == "auto" else (config.time_field,))
            if config.time_field
            else ()
        )
        self.sensor_field = config.sensor_field
        self.time_unit = config.time_unit
        self.max_payload = config.max_payload
        self.max_future = config.max_future
        self._plain_seconds = self.time_unit in ("auto", "s")
        self._topics: dict[str, int] = {}  # topic -> sensor index, or one of the codes below
        self._last = np.full(self.n_sensors, np.nan)  # last accepted time per sensor (flags)
        # Sparkplug: (group, edge, device) -> alias -> (sensor index, name, datatype)
        self._aliases: dict[tuple[str, str, str | None], dict[int, tuple[int, str, int]]] = {}
        self._types: dict[tuple[str, str, str | None], dict[str, int]] = {}
        self._metric_index: dict[str, int] = {}
        self.flags_total = {OUT_OF_ORDER: 0, DUPLICATE: 0}
        # sequence accounting (JSON ``seq``; Sparkplug's 0-255 seq per edge node)
        spb = config.format == "sparkplug_b"
        self.seq_field = None if spb else config.seq_field
        self.seq_scope = config.seq_scope
        self.publisher_field = config.publisher_field
        self.tracker = SequenceTracker(
            config.id, [s.id for s in sensors], modulus=256 if spb else None, grace=config.seq_grace
        )
        #: Sparkplug edge nodes (group, edge) whose sequence broke or whose birth is missing:
        #: the feed sends them a rebirth request (``Node Control/Rebirth``)
        self.rebirths: set[tuple[str, str]] = set()
        self._obj: Any = None  # the JSON object of the message being decoded
        self._reset()

    # codes for _topics
    _FROM_PAYLOAD = -2
    _UNMATCHED = -3

    @property
    def subscriptions(self) -> list[str]:
        return self.template.subscriptions

    @property
    def pending(self) -> int:
        """Samples decoded and not yet taken."""
        return len(self._s) + self._chunked

    def _reset(self) -> None:
        self._s: list[int] = []
        self._t: list[float] = []
        self._v: list[float] = []
        self._a: list[float] = []
        self._chunks: list[tuple[NDArray[Any], NDArray[Any], NDArray[Any], NDArray[Any]]] = []
        self._chunked = 0
        self._messages = 0
        self._rejected: dict[str, int] = {}
        self._details: dict[str, str] = {}
        self._seq_flags: dict[str, int] = {}

    # -- bookkeeping ---------------------------------------------------------------------------

    def _reject(self, reason: str, count: int = 1, detail: str = "") -> None:
        if count <= 0:
            return
        self._rejected[reason] = self._rejected.get(reason, 0) + count
        if reason not in self._details and detail:
            self._details[reason] = detail

    def _flush_scalars(self) -> None:
        if self._s:
            self._chunks.append(
                (
                    np.array(self._s, _I32),
                    np.array(self._t, _F64),
                    np.array(self._v, _F64),
                    np.array(self._a, _F64),
                )
            )
            self._chunked += len(self._s)
            self._s, self._t, self._v, self._a = [], [], [], []

    def _add_chunk(
        self,
        s: NDArray[np.int32],
        t: NDArray[np.float64],
        v: NDArray[np.float64],
        arrival: float,
    ) -> None:
        if len(s):
            self._flush_scalars()
            self._chunks.append((s, t, v, np.full(len(s), arrival)))
            self._chunked += len(s)

    # -- input ---------------------------------------------------------------------------------

    def add(self, topic: str, payload: bytes, arrival: float | None = None) -> None:
        """Decode one message into the pending columns (see :meth:`take`)."""
        if arrival is None:
            arrival = time.time()
        self._messages += 1
        if len(payload) > self.max_payload:
            self._reject(
                OVERSIZED,
                1,
                f"{len(payload):,} bytes on {topic} (max_payload {self.max_payload:,})",
            )
            return
        fmt = self.format
        if fmt == "sparkplug_b":
            self._sparkplug(topic, payload, arrival)
            return
        decode = self._json if fmt == "json" else self._json_batch
        if self.seq_field is None:
            decode(topic, payload, arrival)
            return
        self._obj = None
        mark = (len(self._s), len(self._chunks))
        decode(topic, payload, arrival)
        obj = self._obj
        if type(obj) is dict:
            seq = obj.get(self.seq_field)
            if seq is not None:
                key = obj.get(self.publisher_field) if self.seq_scope == "publisher" else None
                self._sequence(topic if type(key) is not str else key, seq, mark, arrival)

    def _sequence(self, key: str, seq: Any, mark: tuple[int, int], arrival: float) -> None:
        """Account for one numbered message (the samples it added since ``mark``)."""
        if type(seq) is not int or seq < 0:
            self._seq_flag("bad_seq")
            return
        s0, c0 = mark
        if len(self._chunks) > c0:  # a columnar message: its samples are the newest chunk
            s, t = self._chunks[-1][0], self._chunks[-1][1]
            n = len(t)
            t0, t1 = float(t.min()), float(t.max())
            sensors: Any = np.unique(s).tolist()
        else:
            n = len(self._s) - s0
            if n:
                ts = self._t[s0:]
                t0, t1 = min(ts), max(ts)
                sensors = self._s[s0:]
            else:
                t0 = t1 = arrival
                sensors = ()
        self._seq_result(self.tracker.observe(key, seq, t0, t1, sensors, n, arrival))

    def _seq_result(self, result: str) -> None:
        if result in ("duplicate", "late", "restart"):
            self._seq_flag(f"seq_{result}")

    def _seq_flag(self, name: str) -> None:
        self._seq_flags[name] = self._seq_flags.get(name, 0) + 1

    def take_gaps(self, now: float | None = None, final: bool = False) -> list[Gap]:
        """Losses confirmed since the last call (see :mod:`twinviewer.sources.sequence`)."""
        return self.tracker.take(time.time() if now is None else now, final)

    def take(self) -> Decoded:
        """Everything decoded since the last call; flags out-of-order and duplicate samples."""
        self._flush_scalars()
        chunks = self._chunks
        if not chunks:
            s = np.empty(0, _I32)
            t = v = a = np.empty(0, _F64)
        elif len(chunks) == 1:
            s, t, v, a = chunks[0]
        else:
            s = np.concatenate([c[0] for c in chunks])
            t = np.concatenate([c[1] for c in chunks])
            v = np.concatenate([c[2] for c in chunks])
            a = np.concatenate([c[3] for c in chunks])
        flags = self._flag(s, t)
        for name, count in self._seq_flags.items():
            flags[name] = flags.get(name, 0) + count
        out = Decoded(s, t, v, a, self._messages, self._rejected, self._details, flags)
        self._reset()
        return out

    def decode(self, topic: str, payload: bytes, arrival: float | None = None) -> Decoded:
        """One message on its own: :meth:`add` then :meth:`take`."""
        self.add(topic, payload, arrival)
        return self.take()

    def _flag(self, s: NDArray[np.int32], t: NDArray[np.float64]) -> dict[str, int]:
        if len(s) == 0:
            return {}
        order = np.argsort(s, kind="stable")  # by sensor, arrival order kept within each
        ss, ts = s[order], t[order]
        first = np.ones(len(ss), bool)
        first[1:] = ss[1:] != ss[:-1]
        prev = np.empty_like(ts)
        prev[1:] = ts[:-1]
        prev[first] = self._last[ss[first]]
        ooo = int(np.count_nonzero(ts < prev))
        dup = int(np.count_nonzero(ts == prev))
        last = np.ones(len(ss), bool)
        last[:-1] = first[1:]
        self._last[ss[last]] = ts[last]
        flags = {}
        if ooo:
            flags[OUT_OF_ORDER] = ooo
            self.flags_total[OUT_OF_ORDER] += ooo
        if dup:
            flags[DUPLICATE] = dup
            self.flags_total[DUPLICATE] += dup
        return flags

    # -- topics and one sample -----------------------------------------------------------------

    def _topic_sensor(self, topic: str) -> int:
        code = self._topics.get(topic)
        if code is None:
            ok, sensor, _component = self.template.match(topic)
            if not ok:
                code = self._UNMATCHED
            elif sensor is None:
                code = self._FROM_PAYLOAD
            else:
                code = self.index.get(sensor, -1)
            if len(self._topics) >= _TOPIC_CACHE_MAX:
                self._topics.clear()
            self._topics[topic] = code
        return code

    def _unknown_topic(self, topic: str, code: int, count: int = 1) -> None:
        if code == self._UNMATCHED:
            self._reject(
                UNKNOWN_SENSOR,
                count,
                f"topic {topic!r} does not match the template {self.template.template!r}",
            )
        else:
            sensor = self.template.match(topic)[1]
            self._reject(UNKNOWN_SENSOR, count, f"no sensor {sensor!r} (topic {topic})")

    def _sensor_of(self, name: Any, topic: str) -> int:
        try:
            i = self.index.get(name, -1)
        except TypeError:  # unhashable: a list or object where a sensor id belongs
            i = -1
        if i < 0:
            self._reject(UNKNOWN_SENSOR, 1, f"no sensor {name!r} (topic {topic})")
        return i

    def _time_of(self, raw: Any, arrival: float) -> float | None:
        """Source time in seconds, arrival if none given; None (rejected) if unusable."""
        if raw is None:
            return arrival
        t = parse_time(raw, self.time_unit)
        if t is None:
            self._reject(BAD_TIMESTAMP, 1, f"time {raw!r}")
            return None
        if t > arrival + self.max_future:
            self._reject(
                FUTURE_TIMESTAMP, 1, f"time {raw!r} is {t - arrival:,.0f} s after its arrival"
            )
            return None
        return t

    def _time_in(self, obj: dict[str, Any]) -> Any:
        """The raw time of a JSON object: the first of the time keys it has, else None."""
        for key in self.time_keys:
            raw = obj.get(key)
            if raw is not None:
                return raw
        return None

    def _one(self, i: int, raw_value: Any, raw_time: Any, arrival: float, topic: str) -> None:
        """Validate one sample of a known sensor and append it."""
        v = _number(raw_value)
        if type(v) is str:
            self._reject(v, 1, f"value {raw_value!r} (topic {topic})")
            return
        t = self._time_of(raw_time, arrival)
        if t is None:
            return
        self._s.append(i)
        self._t.append(t)
        self._v.append(v)  # type: ignore[arg-type]
        self._a.append(arrival)

    # -- json ----------------------------------------------------------------------------------

    def _parse(self, topic: str, payload: bytes) -> Any:
        try:
            return _loads(payload)
        except ValueError as exc:
            self._reject(MALFORMED, 1, f"not JSON on {topic}: {exc}")
            return _MISSING

    def _json(self, topic: str, payload: bytes, arrival: float) -> None:
        code = self._topic_sensor(topic)
        if code == self._UNMATCHED or code == -1:
            self._unknown_topic(topic, code)
            return
        try:
            obj = orjson.loads(payload)
        except orjson.JSONDecodeError:
            obj = self._parse(topic, payload)
            if obj is _MISSING:
                return
        self._obj = obj
        if type(obj) is dict:
            raw_value = obj.get(self.value_field, _MISSING)
            if code >= 0 and type(raw_value) is float and self._plain_seconds:
                # the common case, inline: a finite float at a float time in seconds
                raw_time = self._time_in(obj) if self.time_keys else arrival
                if (
                    type(raw_time) is float
                    and raw_value - raw_value == 0.0
                    and 0.0 < raw_time < 1e11
                    and raw_time <= arrival + self.max_future
                ):
                    self._s.append(code)
                    self._t.append(raw_time)
                    self._v.append(raw_value)
                    self._a.append(arrival)
                    return
            if raw_value is _MISSING:
                self._reject(MALFORMED, 1, f"no {self.value_field!r} key on {topic}")
                return
            raw_time = self._time_in(obj) if self.time_keys else None
            if code == self._FROM_PAYLOAD:
                name = obj.get(self.sensor_field, _MISSING)
                if name is _MISSING:
                    self._reject(
                        MALFORMED, 1, f"no sensor in topic {topic} or key {self.sensor_field!r}"
                    )
                    return
                code = self._sensor_of(name, topic)
                if code < 0:
                    return
            self._one(code, raw_value, raw_time, arrival, topic)
        elif type(obj) in (list, type(None)):
            self._reject(MALFORMED, 1, f"expected an object or a number on {topic}")
        else:  # a bare number (or string, boolean)
            if code == self._FROM_PAYLOAD:
                self._reject(MALFORMED, 1, f"bare value on {topic}: no sensor in the topic")
                return
            self._one(code, obj, None, arrival, topic)

    def _json_batch(self, topic: str, payload: bytes, arrival: float) -> None:
        code = self._topic_sensor(topic)
        if code == self._UNMATCHED or code == -1:
            self._unknown_topic(topic, code)
            return
        obj = self._parse(topic, payload)
        if obj is _MISSING:
            return
        self._obj = obj
        if type(obj) is dict:
            self._columnar(obj, code, topic, arrival)
        elif type(obj) is list:
            self._records(obj, code, topic, arrival)
        else:
            self._reject(MALFORMED, 1, f"expected a list of records or columns on {topic}")

    def _records(self, records: list[Any], code: int, topic: str, arrival: float) -> None:
        vf, sf = self.value_field, self.sensor_field
        for rec in records:
            if type(rec) is not dict or vf not in rec:
                self._reject(MALFORMED, 1, f"record {rec!r:.80} on {topic} has no {vf!r}")
                continue
            if sf in rec:
                i = self._sensor_of(rec[sf], topic)
            elif code >= 0:
                i = code
            else:
                self._reject(MALFORMED, 1, f"record on {topic} has no {sf!r}")
                continue
            if i >= 0:
                self._one(i, rec[vf], self._time_in(rec), arrival, topic)

    def _columnar(self, obj: dict[str, Any], code: int, topic: str, arrival: float) -> None:
        vf, sf = self.value_field, self.sensor_field
        values = obj.get(vf)
        if type(values) is not list:
            self._reject(MALFORMED, 1, f"columns on {topic}: {vf!r} is not a list")
            return
        n = len(values)
        if n == 0:
            return
        sensors = obj.get(sf, _MISSING)
        times = self._time_in(obj)
        if (type(sensors) is list and len(sensors) != n) or (
            type(times) is list and len(times) != n
        ):
            self._reject(MALFORMED, 1, f"columns on {topic} differ in length")
            return

        # sensors
        if sensors is _MISSING:
            if code < 0:
                self._reject(MALFORMED, 1, f"no sensor in topic {topic} or key {sf!r}")
                return
            s = np.full(n, code, _I32)
        elif type(sensors) is list:
            try:
                s = np.fromiter(map(self.index.get, sensors, repeat(-1, n)), _I32, count=n)
            except TypeError:  # unhashable entries
                s = np.array([self._safe_index(x) for x in sensors], _I32)
        else:
            s = np.full(n, self._safe_index(sensors), _I32)
        ok = s >= 0
        if not ok.all():
            bad = np.flatnonzero(~ok)
            name = sensors[bad[0]] if type(sensors) is list else sensors
            self._reject(UNKNOWN_SENSOR, len(bad), f"no sensor {name!r} (topic {topic})")

        # values
        v = self._column_values(values, n, topic)
        good_v = np.isfinite(v)
        bad_v = ok & ~good_v
        if bad_v.any():
            self._classify_bad_values(values, np.flatnonzero(bad_v), topic)
        ok &= good_v

        # times
        if times is None:
            t = np.full(n, arrival)
        elif type(times) is list:
            t = self._column_times(times, n, arrival)
        else:
            one = parse_time(times, self.time_unit)
            t = np.full(n, np.nan if one is None else one)
        bad_t = ok & ~np.isfinite(t)
        if bad_t.any():
            first = int(np.flatnonzero(bad_t)[0])
            raw = times[first] if type(times) is list else times
            self._reject(BAD_TIMESTAMP, int(bad_t.sum()), f"time {raw!r} (topic {topic})")
            ok &= ~bad_t
        future = ok & (t > arrival + self.max_future)
        if future.any():
            first = int(np.flatnonzero(future)[0])
            self._reject(
                FUTURE_TIMESTAMP,
                int(future.sum()),
                f"time {t[first]:.3f} is {t[first] - arrival:,.0f} s after its arrival",
            )
            ok &= ~future
        if ok.all():
            self._add_chunk(s, t, v, arrival)
        else:
            self._add_chunk(s[ok], t[ok], v[ok], arrival)

    def _safe_index(self, name: Any) -> int:
        try:
            return self.index.get(name, -1)
        except TypeError:
            return -1

    def _column_values(self, values: list[Any], n: int, topic: str) -> NDArray[np.float64]:
        try:
            v = np.array(values, _F64)
            if v.shape == (n,):
                return v
        except (ValueError, TypeError, OverflowError):
            pass
        out = np.empty(n)
        for k, x in enumerate(values):
            f = _number(x)
            out[k] = np.nan if type(f) is str else f
        return out

    def _classify_bad_values(self, values: list[Any], where: NDArray[np.intp], topic: str) -> None:
        for k in where:
            raw = values[k]
            number = _number(raw)
            # a number that is not finite, or None (NaN in the array) which is no number at all
            reason = number if isinstance(number, str) and raw is not None else NOT_NUMERIC
            self._reject(reason, 1, f"value {raw!r} (topic {topic})")

    def _column_times(self, times: list[Any], n: int, arrival: float) -> NDArray[np.float64]:
        """Times in seconds; NaN where a time is unusable; arrival where it is null."""
        t: NDArray[np.float64] | None = None
        try:
            t = np.array(times, _F64)
            if t.shape != (n,):
                t = None
        except (ValueError, TypeError, OverflowError):
            t = None
        if t is not None:
            nonfinite = ~np.isfinite(t)
            t = scale_times(t, self.time_unit)
            if nonfinite.any():  # null -> arrival; NaN, inf -> invalid
                for k in np.flatnonzero(nonfinite):
                    t[k] = arrival if times[k] is None else np.nan
            t[t <= 0] = np.nan
            return t
        unit = self.time_unit
        parsed = [arrival if x is None else parse_time(x, unit) for x in times]
        return np.array([np.nan if x is None else x for x in parsed], _F64)

    # -- sparkplug -----------------------------------------------------------------------------

    def _spb_index(self, name: str) -> int:
        i = self._metric_index.get(name)
        if i is None:
            i = self.index.get(name, -1)
            if i < 0 and "/" in name:
                i = self.index.get(name.rsplit("/", 1)[1], -1)
            if len(self._metric_index) >= _TOPIC_CACHE_MAX:
                self._metric_index.clear()
            self._metric_index[name] = i
        return i

    def _sparkplug(self, topic: str, payload: bytes, arrival: float) -> None:
        parts = topic.split("/")
        if len(parts) not in (4, 5) or parts[0] != sparkplug.NAMESPACE:
            if len(parts) >= 2 and parts[0] == sparkplug.NAMESPACE and parts[1] == "STATE":
                return  # host application state: not data
            self._reject(MALFORMED, 1, f"not a Sparkplug B topic: {topic}")
            return
        group, kind, edge = parts[1], parts[2], parts[3]
        device = parts[4] if len(parts) == 5 else None
        node = (group, edge)
        if kind == "NDEATH":  # the node went offline (its will, published by the broker)
            self.tracker.died(node)
            return
        if kind not in _SPB_DATA and kind != "DDEATH":
            return  # NCMD, DCMD: commands, not data
        try:
            p = sparkplug.decode_payload(payload)
        except sparkplug.SparkplugError as exc:
            self._reject(MALFORMED, 1, f"bad Sparkplug payload on {topic}: {exc}")
            return
        s0 = len(self._s)
        try:
            self._spb_metrics(p, kind, group, edge, device, topic, arrival)
        finally:
            self._spb_sequence(p, kind, node, s0, arrival)

    def _spb_sequence(
        self, p: sparkplug.Payload, kind: str, node: tuple[str, str], s0: int, arrival: float
    ) -> None:
        """Account for the node's sequence number; ask for a rebirth when it breaks."""
        n = len(self._s) - s0
        if n:
            ts = self._t[s0:]
            t0, t1 = min(ts), max(ts)
        else:
            t0 = t1 = p.timestamp / 1e3 if p.timestamp else arrival
        if kind == "NBIRTH":  # a new session of the edge node: its numbers start over
            self.tracker.born(node, t0, arrival)
        if p.seq is None:
            return
        result = self.tracker.observe(node, p.seq, t0, t1, self._s[s0:], n, arrival)
        self._seq_result(result)
        if result in ("gap", "restart") and self.config.request_rebirth:
            self.rebirths.add(node)

    def _spb_metrics(
        self,
        p: sparkplug.Payload,
        kind: str,
        group: str,
        edge: str,
        device: str | None,
        topic: str,
        arrival: float,
    ) -> None:
        if kind == "DDEATH":
            return  # numbered, but no values
        key = (group, edge, device)
        if kind == "NBIRTH":  # a new session of the edge node: its devices will be reborn
            for k in [k for k in self._aliases if k[0] == group and k[1] == edge]:
                del self._aliases[k]
                self._types.pop(k, None)
        if kind.endswith("BIRTH"):
            aliases: dict[int, tuple[int, str, int]] = {}
            types: dict[str, int] = {}
            for m in p.metrics:
                if m.name is not None:
                    types[m.name] = m.datatype
                    if m.alias is not None:
                        aliases[m.alias] = (self._spb_index(m.name), m.name, m.datatype)
            self._aliases[key] = aliases
            self._types[key] = types
        aliases = self._aliases.get(key, {})
        types = self._types.get(key, {})
        where = f"{edge}/{device}" if device else edge
        for m in p.metrics:
            if m.name is not None:
                name = m.name
                i = self._spb_index(name)
                declared = types.get(name, 0)
            elif m.alias is not None:
                entry = aliases.get(m.alias)
                if entry is None:
                    self._reject(
                        UNKNOWN_SENSOR,
                        1,
                        f"alias {m.alias} from {group}/{where} before its birth certificate",
                    )
                    if self.config.request_rebirth:
                        self.rebirths.add((group, edge))
                    continue
                i, name, declared = entry
            else:
                self._reject(MALFORMED, 1, f"metric with neither name nor alias on {topic}")
                continue
            if i < 0:
                if name not in _SPB_CONTROL and not name.startswith(_SPB_CONTROL_PREFIXES):
                    self._reject(UNKNOWN_SENSOR, 1, f"no sensor for metric {name!r} ({topic})")
                continue
            if m.is_null:  # "no current value": not a sample, not an error
                continue
            v = sparkplug.metric_number(m, declared)
            if v is None:
                self._reject(NOT_NUMERIC, 1, f"metric {name!r} has no numeric value ({topic})")
                continue
            if not math.isfinite(v):
                self._reject(NOT_FINITE, 1, f"metric {name!r} = {v} ({topic})")
                continue
            ms = m.timestamp if m.timestamp is not None else p.timestamp
            if ms is None:
                t = arrival
            else:
                t = ms / 1e3
                if t <= 0:
                    self._reject(BAD_TIMESTAMP, 1, f"metric {name!r} timestamp {ms}")
                    continue
                if t > arrival + self.max_future:
                    self._reject(
                        FUTURE_TIMESTAMP,
                        1,
                        f"metric {name!r} timestamp is {t - arrival:,.0f} s after its arrival",
                    )
                    continue
            self._s.append(i)
            self._t.append(t)
            self._v.append(v)
            self._a.append(arrival)


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()
