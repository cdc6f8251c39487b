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
    metric's timestamp, else the payload's (ms). The viewer never sends a rebirth request (that
    is a command to the plant): data by alias before a birth is rejected as ``unknown_sensor``.

Values: numbers; booleans as 1/0; numeric strings. Times (the source time, else the arrival
time): seconds, milliseconds (``time_unit: auto`` tells them apart by magnitude, also micro- and
nanoseconds) or ISO 8601 strings (without a zone: UTC); a null time means "none given".

Rejection reasons (per sample, or per message where the whole message is unusable):
``oversized`` (checked before parsing), ``malformed`` (bad JSON/protobuf, wrong shape, no sensor
given), ``unknown_sensor`` (also: topic not matching the template), ``not_numeric``,
``not_finite``, ``bad_timestamp``, ``future_timestamp`` (more than ``max_future`` seconds after
arrival).

Flags, not rejections: ``out_of_order`` (a sample older than the previous accepted sample of
the same sensor, in arrival order) and ``duplicate`` (the same time as that previous sample).
Each sample is compared with the one sensor's previous sample only (not a running maximum), in
one vectorised pass per :meth:`take`.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import repeat
from typing import Any

import numpy as np
import orjson
from numpy.typing import NDArray

from twinviewer.core.project import MqttSource, Sensor
from twinviewer.core.samples import SampleBatch
from twinviewer.sources import sparkplug

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

PLACEHOLDERS = ("sensor", "component", "any")
_PLACEHOLDER = re.compile(r"\{(\w*)\}")
_TOPIC_CACHE_MAX = 100_000
# Sparkplug metrics that are about the edge node itself, never sensors: ignored silently.
_SPB_CONTROL_PREFIXES = ("Node Control/", "Device Control/", "Properties/", "Node Info/")
_SPB_CONTROL = {"bdSeq"}
_SPB_DATA = {"NBIRTH", "NDATA", "DBIRTH", "DDATA"}

_I32 = np.int32
_F64 = np.float64


class TopicTemplate:
    """A topic template such as ``site/{component}/{sensor}``: its subscription filter, and the
    sensor id and component of a concrete topic.

    ``{sensor}``, ``{component}`` and ``{any}`` each stand for exactly one level; the MQTT
    wildcards ``+`` (one level) and ``#`` (the rest, last level only) may be used as they are.
    """

    def __init__(self, template: str) -> None:
        if not template or template.strip() != template:
            raise ValueError(f"topic template {template!r} is empty or has surrounding spaces")
        self.template = template
        self.levels = template.split("/")
        self.kinds: list[str] = []  # per level: "literal", "+", "#", or a placeholder name
        for i, level in enumerate(self.levels):
            m = _PLACEHOLDER.fullmatch(level)
            if level == "#":
                if i != len(self.levels) - 1:
                    raise ValueError(f"topic template {template!r}: '#' must be the last level")
                self.kinds.append("#")
            elif level == "+":
                self.kinds.append("+")
            elif m:
                name = m.group(1)
                if name not in PLACEHOLDERS:
                    raise ValueError(
                        f"topic template {template!r}: unknown placeholder {{{name}}}; use "
                        + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
                        + " or the MQTT wildcards + and #"
                    )
                if name != "any" and name in self.kinds:
                    raise ValueError(f"topic template {template!r}: {{{name}}} appears twice")
                self.kinds.append(name)
            elif any(c in level for c in "{}+#"):
                raise ValueError(
                    f"topic template {template!r}: level {level!r} mixes a placeholder or "
                    "wildcard with text; a placeholder must fill a whole level"
                )
            else:
                self.kinds.append("literal")
        self.sensor_level = self.kinds.index("sensor") if "sensor" in self.kinds else None
        self.component_level = self.kinds.index("component") if "component" in self.kinds else None
        self.multi = self.kinds[-1] == "#"
        self.filter = "/".join(
            level if kind in ("literal", "#") else "+"
            for level, kind in zip(self.levels, self.kinds, strict=True)
        )

    @property
    def subscriptions(self) -> list[str]:
        return [self.filter]

    def match(self, topic: str) -> tuple[bool, str | None, str | None]:
        """(matches, sensor id or None, component or None) of a concrete topic."""
        parts = topic.split("/")
        n = len(self.levels)
        if self.multi:
            if len(parts) < n - 1:
                return False, None, None
        elif len(parts) != n:
            return False, None, None
        for part, level, kind in zip(parts, self.levels, self.kinds, strict=False):
            if kind == "literal" and part != level:
                return False, None, None
            if kind == "#":
                break
        sensor = parts[self.sensor_level] if self.sensor_level is not None else None
        component = parts[self.component_level] if self.component_level is not None else None
        return True, sensor, component

    def fill(self, sensor: str = "", component: str = "", any_level: str = "twinviewer") -> str:
        """A concrete topic for publishing (wildcards become ``any_level``; ``#`` one level)."""
        out = []
        for level, kind in zip(self.levels, self.kinds, strict=True):
            if kind == "literal":
                out.append(level)
            elif kind == "sensor":
                out.append(sensor)
            elif kind == "component":
                out.append(component)
            else:
                out.append(any_level)
        return "/".join(out)


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


def _parse_iso(text: str) -> float | None:
    try:
        dt = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def _auto_scale(x: float) -> float:
    """Seconds from a number that is seconds, ms, us or ns since the epoch, by magnitude."""
    if x < 1e11:  # up to the year 5138 in seconds; 1e11 ms is March 1973
        return x
    if x < 1e14:
        return x / 1e3
    if x < 1e17:
        return x / 1e6
    return x / 1e9


def parse_time(x: Any, unit: str = "auto") -> float | None:
    """A source timestamp in seconds since the epoch, or None if it cannot be one.

    Numbers are scaled by ``unit`` (``s``, ``ms``, or ``auto``/``iso``: by magnitude); strings
    are ISO 8601 (numeric strings are numbers). Zero, negative and non-finite times are invalid.
    """
    t = type(x)
    if t is float or t is int:
        f = float(x)
    elif t is str:
        iso = _parse_iso(x)
        if iso is not None:
            return iso if math.isfinite(iso) and iso > 0 else None
        try:
            f = float(x)
        except ValueError:
            return None
    else:
        return None
    if not math.isfinite(f) or f <= 0:
        return None
    if unit == "s":
        return f
    if unit == "ms":
        return f / 1e3
    return _auto_scale(f)


def _scale_times(t: NDArray[np.float64], unit: str) -> NDArray[np.float64]:
    if unit == "s":
        return t
    if unit == "ms":
        return t / 1e3
    return np.select([t < 1e11, t < 1e14, t < 1e17], [t, t / 1e3, t / 1e6], t / 1e9).astype(
        _F64, copy=False
    )


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
        if fmt == "json":
            self._json(topic, payload, arrival)
        elif fmt == "json_batch":
            self._json_batch(topic, payload, arrival)
        else:
            self._sparkplug(topic, payload, arrival)

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
        if type(obj) is dict:
            raw_value = obj.get(self.value_field, _MISSING)
            if code >= 0 and type(raw_value) is float and self._plain_seconds:
                # the common case, inline: a finite float at a float time in seconds
                raw_time = obj.get(self.time_field) if self.time_field else arrival
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
            raw_time = obj.get(self.time_field) if self.time_field else None
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
        if type(obj) is dict:
            self._columnar(obj, code, topic, arrival)
        elif type(obj) is list:
            self._records(obj, code, topic, arrival)
        else:
            self._reject(MALFORMED, 1, f"expected a list of records or columns on {topic}")

    def _records(self, records: list[Any], code: int, topic: str, arrival: float) -> None:
        vf, tf, sf = self.value_field, self.time_field, self.sensor_field
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
                self._one(i, rec[vf], rec.get(tf) if tf else None, arrival, topic)

    def _columnar(self, obj: dict[str, Any], code: int, topic: str, arrival: float) -> None:
        vf, tf, sf = self.value_field, self.time_field, self.sensor_field
        values = obj.get(vf)
        if type(values) is not list:
            self._reject(MALFORMED, 1, f"columns on {topic}: {vf!r} is not a list")
            return
        n = len(values)
        if n == 0:
            return
        sensors = obj.get(sf, _MISSING)
        times = obj.get(tf, None) if tf else None
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
            t = _scale_times(t, self.time_unit)
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
        if kind not in _SPB_DATA:
            return  # NDEATH, DDEATH, NCMD, DCMD: nothing to show
        try:
            p = sparkplug.decode_payload(payload)
        except sparkplug.SparkplugError as exc:
            self._reject(MALFORMED, 1, f"bad Sparkplug payload on {topic}: {exc}")
            return
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
