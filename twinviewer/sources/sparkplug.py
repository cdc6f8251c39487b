"""Sparkplug B payloads: a small reader and writer of the protobuf wire format.

Only what a viewer needs of the Eclipse Sparkplug B ``Payload`` message is modelled: the payload
timestamp and sequence number, and each metric's name, alias, timestamp (ms since the epoch),
datatype, null/historical flags and scalar value (int, long, float, double, boolean, string,
bytes). Data sets, templates, properties and metadata are skipped over (their metric has no
scalar value). Unknown fields are skipped by wire type, so newer producers still decode.

Field numbers (sparkplug_b.proto)::

    Payload: 1 timestamp (uint64), 2 metrics (Metric, repeated), 3 seq (uint64), 4 uuid, 5 body
    Metric:  1 name, 2 alias (uint64), 3 timestamp (uint64), 4 datatype (uint32),
             5 is_historical, 6 is_transient, 7 is_null, 8 metadata, 9 properties,
             10 int_value (uint32), 11 long_value (uint64), 12 float_value, 13 double_value,
             14 boolean_value, 15 string_value, 16 bytes_value, 17 dataset, 18 template,
             19 extension

Signed integers are carried two's complement in the unsigned fields; :func:`metric_number`
sign-extends them by datatype (accepting both 32-bit sign extension and narrow masking, which
different Sparkplug libraries produce).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum

__all__ = [
    "DataType",
    "Metric",
    "Payload",
    "SparkplugError",
    "decode_payload",
    "encode_payload",
    "metric_number",
]

NAMESPACE = "spBv1.0"


class DataType(IntEnum):
    UNKNOWN = 0
    INT8 = 1
    INT16 = 2
    INT32 = 3
    INT64 = 4
    UINT8 = 5
    UINT16 = 6
    UINT32 = 7
    UINT64 = 8
    FLOAT = 9
    DOUBLE = 10
    BOOLEAN = 11
    STRING = 12
    DATETIME = 13
    TEXT = 14
    UUID = 15
    DATASET = 16
    BYTES = 17
    FILE = 18
    TEMPLATE = 19


# The oneof value field a metric's value came from (0: none).
INT_VALUE, LONG_VALUE, FLOAT_VALUE, DOUBLE_VALUE = 10, 11, 12, 13
BOOLEAN_VALUE, STRING_VALUE, BYTES_VALUE = 14, 15, 16
_COMPLEX_VALUES = {17, 18, 19}  # dataset, template, extension: no scalar value

_SIGNED_BITS = {DataType.INT8: 8, DataType.INT16: 16, DataType.INT32: 32, DataType.INT64: 64}
_NUMERIC_TYPES = {
    DataType.INT8,
    DataType.INT16,
    DataType.INT32,
    DataType.INT64,
    DataType.UINT8,
    DataType.UINT16,
    DataType.UINT32,
    DataType.UINT64,
    DataType.FLOAT,
    DataType.DOUBLE,
    DataType.BOOLEAN,
}


class SparkplugError(ValueError):
    """The bytes are not a well-formed Sparkplug B payload."""


@dataclass
class Metric:
    name: str | None = None
    alias: int | None = None
    timestamp: int | None = None  # ms since the Unix epoch
    datatype: int = 0
    value: int | float | bool | str | bytes | None = None
    value_field: int = 0  # which oneof field held the value (INT_VALUE ...); 0 if none
    is_null: bool = False
    is_historical: bool = False


@dataclass
class Payload:
    timestamp: int | None = None  # ms since the Unix epoch
    metrics: list[Metric] = field(default_factory=list)
    seq: int | None = None
    uuid: str | None = None
    body: bytes | None = None


# -- reading -------------------------------------------------------------------------------------

_F32 = struct.Struct("<f")
_F64 = struct.Struct("<d")


def _varint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= end:
            raise SparkplugError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise SparkplugError("varint longer than 10 bytes")


def _skip(buf: bytes, pos: int, end: int, wire: int) -> int:
    if wire == 0:
        return _varint(buf, pos, end)[1]
    if wire == 1:
        pos += 8
    elif wire == 2:
        n, pos = _varint(buf, pos, end)
        pos += n
    elif wire == 5:
        pos += 4
    else:
        raise SparkplugError(f"unsupported wire type {wire}")
    if pos > end:
        raise SparkplugError("field runs past the end of its message")
    return pos


def _length(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    n, pos = _varint(buf, pos, end)
    if pos + n > end:
        raise SparkplugError("length-delimited field runs past the end of its message")
    return pos + n, pos


def _text(buf: bytes, start: int, stop: int) -> str:
    try:
        return bytes(buf[start:stop]).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SparkplugError(f"string is not UTF-8: {exc}") from None


def _metric(buf: bytes, pos: int, end: int) -> Metric:
    m = Metric()
    while pos < end:
        key, pos = _varint(buf, pos, end)
        fn, wire = key >> 3, key & 7
        if fn == 0:
            raise SparkplugError("field number 0")
        if wire == 0 and fn in (2, 3, 4, 5, 6, 7, 10, 11, 14):
            v, pos = _varint(buf, pos, end)
            if fn == 2:
                m.alias = v
            elif fn == 3:
                m.timestamp = v
            elif fn == 4:
                m.datatype = v & 0xFFFFFFFF
            elif fn == 5:
                m.is_historical = bool(v)
            elif fn == 7:
                m.is_null = bool(v)
            elif fn == 10:
                m.value, m.value_field = v & 0xFFFFFFFF, INT_VALUE
            elif fn == 11:
                m.value, m.value_field = v & 0xFFFFFFFFFFFFFFFF, LONG_VALUE
            elif fn == 14:
                m.value, m.value_field = bool(v), BOOLEAN_VALUE
        elif wire == 2 and fn in (1, 15, 16):
            stop, start = _length(buf, pos, end)
            if fn == 1:
                m.name = _text(buf, start, stop)
            elif fn == 15:
                m.value, m.value_field = _text(buf, start, stop), STRING_VALUE
            else:
                m.value, m.value_field = bytes(buf[start:stop]), BYTES_VALUE
            pos = stop
        elif wire == 5 and fn == 12:
            if pos + 4 > end:
                raise SparkplugError("truncated float")
            m.value, m.value_field = _F32.unpack_from(buf, pos)[0], FLOAT_VALUE
            pos += 4
        elif wire == 1 and fn == 13:
            if pos + 8 > end:
                raise SparkplugError("truncated double")
            m.value, m.value_field = _F64.unpack_from(buf, pos)[0], DOUBLE_VALUE
            pos += 8
        elif fn in (1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15, 16):
            raise SparkplugError(f"metric field {fn} has wire type {wire}")
        else:
            if fn in _COMPLEX_VALUES:
                m.value, m.value_field = None, fn
            pos = _skip(buf, pos, end, wire)
    return m


def decode_payload(data: bytes | bytearray | memoryview) -> Payload:
    """Parse a Sparkplug B payload; raises :class:`SparkplugError` if it is malformed."""
    buf = bytes(data)
    end = len(buf)
    pos = 0
    p = Payload()
    while pos < end:
        key, pos = _varint(buf, pos, end)
        fn, wire = key >> 3, key & 7
        if fn == 0:
            raise SparkplugError("field number 0")
        if fn == 2:
            if wire != 2:
                raise SparkplugError(f"metrics field has wire type {wire}")
            stop, start = _length(buf, pos, end)
            p.metrics.append(_metric(buf, start, stop))
            pos = stop
        elif fn in (1, 3) and wire == 0:
            v, pos = _varint(buf, pos, end)
            if fn == 1:
                p.timestamp = v
            else:
                p.seq = v
        elif fn in (4, 5) and wire == 2:
            stop, start = _length(buf, pos, end)
            if fn == 4:
                p.uuid = _text(buf, start, stop)
            else:
                p.body = bytes(buf[start:stop])
            pos = stop
        elif fn in (1, 3, 4, 5):
            raise SparkplugError(f"payload field {fn} has wire type {wire}")
        else:
            pos = _skip(buf, pos, end, wire)
    return p


def _inferred_type(m: Metric) -> int:
    return {
        INT_VALUE: DataType.UINT32,
        LONG_VALUE: DataType.UINT64,
        FLOAT_VALUE: DataType.FLOAT,
        DOUBLE_VALUE: DataType.DOUBLE,
        BOOLEAN_VALUE: DataType.BOOLEAN,
        STRING_VALUE: DataType.STRING,
        BYTES_VALUE: DataType.BYTES,
    }.get(m.value_field, DataType.UNKNOWN)


def metric_number(m: Metric, datatype: int | None = None) -> float | None:
    """The metric's value as a float, or None if it has no numeric value.

    ``datatype`` is the type declared in the birth certificate, used when the data message
    leaves it out (Sparkplug allows that); otherwise the type is inferred from the value field.
    """
    if m.is_null or m.value_field in (0, STRING_VALUE, BYTES_VALUE) or m.value is None:
        return None
    dt = m.datatype or datatype or _inferred_type(m)
    if dt not in _NUMERIC_TYPES:
        return None
    v = m.value
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, float):
        return v
    if isinstance(v, int):
        bits = _SIGNED_BITS.get(dt)  # type: ignore[call-overload]
        if bits is not None:
            v &= (1 << bits) - 1
            if v >= 1 << (bits - 1):
                v -= 1 << bits
        return float(v)
    return None


# -- writing -------------------------------------------------------------------------------------


def _put_varint(out: bytearray, v: int) -> None:
    if v < 0:
        v &= 0xFFFFFFFFFFFFFFFF
    while v > 0x7F:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)


def _put_key(out: bytearray, fn: int, wire: int) -> None:
    _put_varint(out, (fn << 3) | wire)


def _put_bytes(out: bytearray, fn: int, data: bytes) -> None:
    _put_key(out, fn, 2)
    _put_varint(out, len(data))
    out += data


def _encode_metric(m: Metric) -> bytes:
    out = bytearray()
    if m.name is not None:
        _put_bytes(out, 1, m.name.encode("utf-8"))
    if m.alias is not None:
        _put_key(out, 2, 0)
        _put_varint(out, m.alias)
    if m.timestamp is not None:
        _put_key(out, 3, 0)
        _put_varint(out, m.timestamp)
    if m.datatype:
        _put_key(out, 4, 0)
        _put_varint(out, m.datatype)
    if m.is_historical:
        _put_key(out, 5, 0)
        _put_varint(out, 1)
    if m.is_null or m.value is None:
        if m.is_null:
            _put_key(out, 7, 0)
            _put_varint(out, 1)
        return bytes(out)
    dt, v = m.datatype, m.value
    if dt in (DataType.FLOAT,):
        _put_key(out, 12, 5)
        out += _F32.pack(float(v))
    elif dt in (DataType.DOUBLE, DataType.UNKNOWN) and isinstance(v, float):
        _put_key(out, 13, 1)
        out += _F64.pack(v)
    elif dt == DataType.BOOLEAN or isinstance(v, bool):
        _put_key(out, 14, 0)
        _put_varint(out, 1 if v else 0)
    elif dt in (DataType.STRING, DataType.TEXT, DataType.UUID) or isinstance(v, str):
        _put_bytes(out, 15, str(v).encode("utf-8"))
    elif dt in (DataType.BYTES, DataType.FILE) or isinstance(v, bytes):
        _put_bytes(out, 16, v if isinstance(v, bytes) else str(v).encode("utf-8"))
    elif dt in (DataType.INT64, DataType.UINT64, DataType.DATETIME):
        _put_key(out, 11, 0)
        _put_varint(out, int(v) & 0xFFFFFFFFFFFFFFFF)
    elif isinstance(v, (int, float)) and dt in _NUMERIC_TYPES | {DataType.UNKNOWN}:
        iv = int(v)
        if iv != v:
            raise ValueError(f"metric {m.name or m.alias}: {v!r} is not an integer")
        _put_key(out, 10, 0)
        _put_varint(out, iv & 0xFFFFFFFF)
    else:
        raise ValueError(f"metric {m.name or m.alias}: cannot encode {v!r} as datatype {dt}")
    return bytes(out)


def encode_payload(payload: Payload) -> bytes:
    """Serialise a payload (for tests and the demo publisher)."""
    out = bytearray()
    if payload.timestamp is not None:
        _put_key(out, 1, 0)
        _put_varint(out, payload.timestamp)
    for m in payload.metrics:
        _put_bytes(out, 2, _encode_metric(m))
    if payload.seq is not None:
        _put_key(out, 3, 0)
        _put_varint(out, payload.seq)
    if payload.uuid is not None:
        _put_bytes(out, 4, payload.uuid.encode("utf-8"))
    if payload.body is not None:
        _put_bytes(out, 5, payload.body)
    return bytes(out)


def double_metric(
    name: str | None, value: float, timestamp_ms: int | None = None, alias: int | None = None
) -> Metric:
    """A Double metric (NaN and infinities are encoded as they are)."""
    return Metric(
        name=name,
        alias=alias,
        timestamp=timestamp_ms,
        datatype=DataType.DOUBLE,
        value=float(value),
        value_field=DOUBLE_VALUE,
    )
