"""Payload decoders without a broker: topics, JSON, columnar JSON, Sparkplug B, rejections."""

from __future__ import annotations

import math
import struct
from datetime import datetime, timezone
from typing import Any

import numpy as np
import orjson
import pytest

from twinviewer.core.project import MqttSource, Sensor
from twinviewer.sources import sparkplug as spb
from twinviewer.sources.payloads import PayloadDecoder, TopicTemplate, parse_time

NOW = 1_732_450_000.0  # arrival time used throughout
SENSORS = [
    Sensor(id="t1", quantity="temperature", unit="degC", range=(0, 100), component="pump_1"),
    Sensor(id="t2", quantity="temperature", unit="degC", range=(0, 100), component="pump_2"),
    Sensor(id="p1", quantity="pressure", unit="bar", range=(0, 10), component="pump_1"),
]


def decoder(topic: str = "site/{component}/{sensor}", **kw: Any) -> PayloadDecoder:
    cfg = MqttSource(type="mqtt", url="mqtt://localhost", topic=topic, **kw)
    return PayloadDecoder(cfg, SENSORS)


def js(obj: object) -> bytes:
    return orjson.dumps(obj)


# -- topics ----------------------------------------------------------------------------------------


def test_topic_template_filter_and_match() -> None:
    t = TopicTemplate("site/{component}/{sensor}")
    assert t.subscriptions == ["site/+/+"]
    assert t.match("site/pump_1/t1") == (True, "t1", "pump_1")
    assert t.match("site/pump_1") == (False, None, None)
    assert t.match("other/pump_1/t1")[0] is False
    assert t.match("site/pump_1/t1/extra")[0] is False
    m = TopicTemplate("plant/{any}/+/{sensor}/#")
    assert m.filter == "plant/+/+/+/#"
    assert m.match("plant/a/b/t2/x/y") == (True, "t2", None)
    assert m.match("plant/a/b/t2") == (True, "t2", None)  # '#' also matches the parent level
    assert TopicTemplate("a/b").fill() == "a/b"
    assert TopicTemplate("a/{component}/{sensor}").fill("t1", "pump_1") == "a/pump_1/t1"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("site/{group}/{sensor}", "unknown placeholder {group}"),
        ("site/x{sensor}", "whole level"),
        ("site/#/x", "'#' must be the last level"),
        ("a/{sensor}/{sensor}", "appears twice"),
        ("", "empty"),
    ],
)
def test_topic_template_errors(template: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TopicTemplate(template)


# -- times --------------------------------------------------------------------------------------


def test_parse_time_units() -> None:
    assert parse_time(1732450000.5) == 1732450000.5
    assert parse_time(1732450000500) == pytest.approx(1732450000.5)
    assert parse_time(1732450000500000) == pytest.approx(1732450000.5)
    assert parse_time(1732450000500000000) == pytest.approx(1732450000.5)
    assert parse_time("1732450000.5") == 1732450000.5
    assert parse_time(1500, "ms") == 1.5
    assert parse_time(1732450000500, "s") == 1732450000500
    iso = datetime(2024, 11, 24, 12, 0, 0, 250000, tzinfo=timezone.utc).timestamp()
    assert parse_time("2024-11-24T12:00:00.25Z") == pytest.approx(iso)
    assert parse_time("2024-11-24T12:00:00.25") == pytest.approx(iso)  # naive: UTC
    assert parse_time("2024-11-24T13:00:00.25+01:00") == pytest.approx(iso)
    for bad in ("yesterday", None, True, [1], 0, -5, float("nan"), float("inf")):
        assert parse_time(bad) is None, bad


# -- json ---------------------------------------------------------------------------------------


def test_json_value_and_time_from_payload() -> None:
    d = decoder()
    d.add("site/pump_1/t1", js({"value": 21.5, "ts": NOW - 1.5}), NOW)
    d.add("site/pump_1/p1", js({"value": 3, "ts": int((NOW - 1) * 1000)}), NOW)  # ms, int value
    d.add("site/pump_2/t2", b"22.25", NOW)  # bare number: arrival time
    d.add("site/pump_2/t2", js({"value": True}), NOW + 1)  # boolean as 1, no time
    d.add("site/pump_2/t2", js({"value": " 7.5 ", "ts": "2024-11-24T12:00:00Z"}), NOW + 2)
    r = d.take()
    assert r.sensor.dtype == np.int32 and r.time.dtype == np.float64
    assert r.sensor.tolist() == [0, 2, 1, 1, 1]
    assert r.value.tolist() == [21.5, 3.0, 22.25, 1.0, 7.5]
    assert r.time.tolist() == pytest.approx(
        [
            NOW - 1.5,
            NOW - 1,
            NOW,
            NOW + 1,
            datetime(2024, 11, 24, 12, tzinfo=timezone.utc).timestamp(),
        ]
    )
    assert r.arrival.tolist() == [NOW, NOW, NOW, NOW + 1, NOW + 2]
    assert r.messages == 5 and r.rejected == {}
    assert len(r.batch) == 5


def test_json_sensor_from_payload_and_custom_fields() -> None:
    d = decoder("plant/readings", value_field="v", time_field="t", sensor_field="id")
    assert d.subscriptions == ["plant/readings"]
    d.add("plant/readings", js({"id": "p1", "v": 4.5, "t": NOW - 2}), NOW)
    d.add("plant/readings", js({"id": "nope", "v": 4.5}), NOW)
    d.add("plant/readings", js({"v": 4.5}), NOW)  # no sensor anywhere
    d.add("plant/readings", b"4.5", NOW)  # bare value, no sensor
    r = d.take()
    assert r.sensor.tolist() == [2] and r.value.tolist() == [4.5] and r.time.tolist() == [NOW - 2]
    assert r.rejected == {"unknown_sensor": 1, "malformed": 2}
    assert "'nope'" in r.details["unknown_sensor"]


def test_json_time_field_none_uses_arrival() -> None:
    d = decoder(time_field=None)
    r = d.decode("site/pump_1/t1", js({"value": 1.0, "ts": 5}), NOW)
    assert r.time.tolist() == [NOW]


def test_json_every_rejection_reason_counted() -> None:
    d = decoder(max_payload=200, max_future=60)
    good = js({"value": 1.0, "ts": NOW})
    inputs: dict[str, list[Any]] = {
        "malformed": [b'{"value": 1', b"[1, 2]", b"null", b"\xff\xfe", js({"val": 1})],
        "unknown_sensor": [(b"site/pump_1/zz", good), (b"other/topic", good)],
        "not_numeric": [js({"value": "warm"}), js({"value": None}), js({"value": [1]}), b'"x"'],
        "not_finite": [b'{"value": NaN}', b'{"value": -Infinity}', js({"value": "inf"})],
        "future_timestamp": [js({"value": 1.0, "ts": NOW + 61})],
        "bad_timestamp": [js({"value": 1.0, "ts": "soon"}), js({"value": 1.0, "ts": -3})],
        "oversized": [b'{"value": 1, "pad": "' + b"x" * 300 + b'"}', b"garbage" * 40],
    }
    n_bad = 0
    for payloads in inputs.values():
        for p in payloads:
            topic, payload = p if isinstance(p, tuple) else (b"site/pump_1/t1", p)
            d.add(topic.decode(), payload, NOW)
            d.add("site/pump_1/t1", good, NOW)  # good samples in between still count
            n_bad += 1
    r = d.take()
    assert r.rejected == {reason: len(p) for reason, p in inputs.items()}
    assert set(r.details) == set(inputs)
    assert len(r) == n_bad and r.messages == 2 * n_bad
    # a duplicate time for every good sample after the first (same ts each time)
    assert r.flags == {"duplicate": n_bad - 1}


# -- json_batch ----------------------------------------------------------------------------------


def test_json_batch_records() -> None:
    d = decoder("site/batch", format="json_batch")
    recs = [
        {"sensor": "t1", "value": 1.0, "ts": NOW - 3},
        {"sensor": "t2", "value": 2.0},
        {"sensor": "zz", "value": 3.0},
        {"sensor": "p1", "value": "x"},
        {"sensor": "p1"},
        "not a record",
        {"sensor": "p1", "value": 4.0, "ts": "2024-11-24T12:00:00Z"},
    ]
    r = d.decode("site/batch", js(recs), NOW)
    assert r.sensor.tolist() == [0, 1, 2]
    assert r.value.tolist() == [1.0, 2.0, 4.0]
    assert r.time[:2].tolist() == [NOW - 3, NOW]
    assert r.rejected == {"unknown_sensor": 1, "not_numeric": 1, "malformed": 2}


def test_json_batch_columnar_fast_path_matches_input() -> None:
    d = decoder("site/batch", format="json_batch")
    rng = np.random.default_rng(3)
    n = 20_000
    idx = rng.integers(0, 3, n)
    values = rng.normal(50, 10, n).round(4)
    times = NOW - 100 + np.arange(n) * 1e-3
    obj = {
        "sensor": [SENSORS[i].id for i in idx],
        "ts": (times * 1000).round().astype(np.int64).tolist(),  # milliseconds
        "value": values.tolist(),
    }
    r = d.decode("site/batch", js(obj), NOW)
    assert r.rejected == {}
    np.testing.assert_array_equal(r.sensor, idx)
    np.testing.assert_array_equal(r.value, values)
    np.testing.assert_allclose(r.time, times, atol=1e-6)


def test_json_batch_columnar_rejections_keep_good_samples() -> None:
    d = decoder("site/batch", format="json_batch", max_future=10)
    obj = {
        "sensor": ["t1", "zz", "t2", "p1", "t1", "t2", "p1", "t1", "t2"],
        "ts": [NOW - 1, NOW, NOW, NOW, NOW + 100, "bad", None, NOW - 0.5, -1],
        "value": [1.0, 2.0, None, "abc", 5.0, 6.0, 7.0, "8.5", 9.0],
    }
    r = d.decode("site/batch", js(obj), NOW)
    assert r.sensor.tolist() == [0, 2, 0]
    assert r.value.tolist() == [1.0, 7.0, 8.5]
    assert r.time.tolist() == [NOW - 1, NOW, NOW - 0.5]  # null time: arrival
    assert r.rejected == {
        "unknown_sensor": 1,
        "not_numeric": 2,
        "future_timestamp": 1,
        "bad_timestamp": 2,
    }
    assert r.flags == {}  # t1: NOW - 1, then NOW - 0.5


def test_json_batch_columnar_nan_and_shapes() -> None:
    d = decoder("site/batch", format="json_batch")
    # NaN / Infinity (as Python's json writes them) are not finite, not malformed
    r = d.decode("site/batch", b'{"sensor": ["t1", "t2"], "value": [NaN, 2.5], "ts": 1e9}', NOW)
    assert r.rejected == {"not_finite": 1} and r.value.tolist() == [2.5]
    assert r.time.tolist() == [1e9]  # one time for all
    r = d.decode("site/batch", js({"sensor": "p1", "value": [1.0, 2.0]}), NOW)  # one sensor
    assert r.sensor.tolist() == [2, 2] and r.time.tolist() == [NOW, NOW]
    for bad in (
        {"sensor": ["t1"], "value": [1.0, 2.0]},  # lengths differ
        {"sensor": ["t1"], "value": 1.0},  # not a list
        {"value": [1.0]},  # no sensor in topic or payload
        "text",
    ):
        r = d.decode("site/batch", js(bad), NOW)
        assert r.rejected == {"malformed": 1}, bad
        assert len(r) == 0
    r = d.decode("site/batch", js({"sensor": [["t1"], {"a": 1}], "value": [[1.0], 2.0]}), NOW)
    assert r.rejected == {"unknown_sensor": 2}


def test_json_batch_columnar_sensor_from_topic() -> None:
    d = decoder("site/{sensor}/batch", format="json_batch")
    r = d.decode("site/t2/batch", js({"ts": [NOW - 2, NOW - 1], "value": [1.0, 2.0]}), NOW)
    assert r.sensor.tolist() == [1, 1] and r.time.tolist() == [NOW - 2, NOW - 1]


def test_flags_out_of_order_and_duplicate_across_takes() -> None:
    d = decoder()
    for ts in (10.0, 11.0, 11.0, 9.0, 12.0):
        d.add("site/x/t1", js({"value": 1.0, "ts": ts}), NOW)
    d.add("site/x/t2", js({"value": 1.0, "ts": 5.0}), NOW)
    assert d.take().flags == {"duplicate": 1, "out_of_order": 1}
    d.add("site/x/t1", js({"value": 1.0, "ts": 12.0}), NOW)  # same as the previous take's last
    d.add("site/x/t2", js({"value": 1.0, "ts": 4.0}), NOW)
    assert d.take().flags == {"duplicate": 1, "out_of_order": 1}
    assert d.flags_total == {"duplicate": 2, "out_of_order": 2}


# -- sparkplug ---------------------------------------------------------------------------------


def test_sparkplug_round_trip_all_scalar_types() -> None:
    T = spb.DataType
    metrics = [
        spb.Metric(name="i8", alias=1, datatype=T.INT8, value=-5, timestamp=123),
        spb.Metric(name="i16", datatype=T.INT16, value=-300),
        spb.Metric(name="i32", datatype=T.INT32, value=-70000),
        spb.Metric(name="i64", datatype=T.INT64, value=-(2**40)),
        spb.Metric(name="u32", datatype=T.UINT32, value=4_000_000_000),
        spb.Metric(name="u64", datatype=T.UINT64, value=2**63 + 5),
        spb.Metric(name="f", datatype=T.FLOAT, value=1.5),
        spb.Metric(name="d", datatype=T.DOUBLE, value=-2.25),
        spb.Metric(name="b", datatype=T.BOOLEAN, value=True),
        spb.Metric(name="s", datatype=T.STRING, value="héllo"),
        spb.Metric(name="n", datatype=T.DOUBLE, is_null=True),
    ]
    data = spb.encode_payload(spb.Payload(timestamp=1_732_450_000_000, metrics=metrics, seq=7))
    p = spb.decode_payload(data)
    assert p.timestamp == 1_732_450_000_000 and p.seq == 7
    got = {m.name: spb.metric_number(m) for m in p.metrics}
    assert got == {
        "i8": -5.0,
        "i16": -300.0,
        "i32": -70000.0,
        "i64": float(-(2**40)),
        "u32": 4e9,
        "u64": float(2**63 + 5),
        "f": 1.5,
        "d": -2.25,
        "b": 1.0,
        "s": None,
        "n": None,
    }
    assert p.metrics[0].alias == 1 and p.metrics[0].timestamp == 123
    assert p.metrics[9].value == "héllo"


def test_sparkplug_signed_int_with_narrow_encoding() -> None:
    # Some libraries put an Int8 of -1 as 0xFF, others as 0xFFFFFFFF: both read as -1.
    for raw in (0xFF, 0xFFFFFFFF):
        m = spb.Metric(name="x", datatype=spb.DataType.INT8, value=raw, value_field=spb.INT_VALUE)
        assert spb.metric_number(m) == -1.0


@pytest.mark.parametrize(
    "data",
    [
        b"\x12\x05\x0a\x01",  # metric claims 5 bytes, has 2
        b"\x12\x03\x0a\x05abc",  # name claims 5 bytes inside a 3-byte metric
        b"\x08\xff\xff",  # truncated varint
        b"\x0b",  # group wire type
        b"\x12\x02\x61\x00",  # metric field 12 (float) with wire type 1 but 0 bytes
        b"\x0a\x01x",  # payload timestamp as a string
        b"\x12\x03\x0a\x01\xff",  # name not UTF-8
    ],
)
def test_sparkplug_malformed(data: bytes) -> None:
    with pytest.raises(spb.SparkplugError):
        spb.decode_payload(data)


def spb_decoder(**kw: Any) -> PayloadDecoder:
    return decoder("spBv1.0/plant/+/+/#", format="sparkplug_b", **kw)


def birth(*metrics: spb.Metric, ts: int = 1_732_449_990_000) -> bytes:
    return spb.encode_payload(spb.Payload(timestamp=ts, metrics=list(metrics), seq=0))


def test_sparkplug_birth_aliases_and_data() -> None:
    d = spb_decoder()
    ms = int(NOW * 1000) - 5000
    nbirth = birth(
        spb.Metric(name="bdSeq", datatype=spb.DataType.INT64, value=0),
        spb.Metric(name="Node Control/Rebirth", datatype=spb.DataType.BOOLEAN, value=False),
        spb.double_metric("Area 1/Pump 1/t1", 20.0, ms, alias=10),  # last part is the id
        spb.Metric(name="p1", alias=11, datatype=spb.DataType.FLOAT, value=1.0, timestamp=ms),
        spb.Metric(name="unbound", alias=12, datatype=spb.DataType.INT32, value=3, timestamp=ms),
    )
    d.add("spBv1.0/plant/NBIRTH/edge1", nbirth, NOW)
    ndata = spb.encode_payload(
        spb.Payload(
            timestamp=ms + 1000,
            metrics=[
                spb.Metric(alias=10, value=21.0, value_field=spb.DOUBLE_VALUE, timestamp=ms + 500),
                spb.Metric(alias=11, value=2.0, value_field=spb.FLOAT_VALUE),  # payload time
                spb.Metric(alias=12, value=4, value_field=spb.INT_VALUE),  # not a sensor
                spb.Metric(alias=99, value=1.0, value_field=spb.DOUBLE_VALUE),  # never born
            ],
            seq=1,
        )
    )
    d.add("spBv1.0/plant/NDATA/edge1", ndata, NOW)
    d.add("spBv1.0/plant/NDEATH/edge1", b"\x00garbage", NOW)  # ignored
    d.add("spBv1.0/STATE/host", b"ONLINE", NOW)  # ignored
    r = d.take()
    assert r.sensor.tolist() == [0, 2, 0, 2]
    assert r.value.tolist() == [20.0, 1.0, 21.0, 2.0]
    assert r.time.tolist() == pytest.approx(
        [ms / 1e3, ms / 1e3, (ms + 500) / 1e3, (ms + 1000) / 1e3]
    )
    assert r.rejected == {"unknown_sensor": 3}  # unbound in birth and data, alias 99
    assert "alias 99" in r.details["unknown_sensor"] or "unbound" in r.details["unknown_sensor"]


def test_sparkplug_devices_and_rebirth() -> None:
    d = spb_decoder()
    ms = int(NOW * 1000) - 1000
    dbirth = birth(spb.double_metric("t2", 1.0, ms, alias=1), ts=ms)
    d.add("spBv1.0/plant/DBIRTH/edge1/dev1", dbirth, NOW)
    ddata = spb.encode_payload(spb.Payload(metrics=[spb.double_metric(None, 5.0, ms + 1, alias=1)]))
    d.add("spBv1.0/plant/DDATA/edge1/dev1", ddata, NOW)
    d.add("spBv1.0/plant/DDATA/edge1/dev2", ddata, NOW)  # another device: alias unknown
    d.add("spBv1.0/plant/NDATA/edge1", ddata, NOW)  # the node itself: alias unknown
    r = d.take()
    assert r.sensor.tolist() == [1, 1] and r.value.tolist() == [1.0, 5.0]
    assert r.rejected == {"unknown_sensor": 2}
    # a new NBIRTH of the node forgets its devices' aliases until they are reborn
    d.add("spBv1.0/plant/NBIRTH/edge1", birth(), NOW)
    d.add("spBv1.0/plant/DDATA/edge1/dev1", ddata, NOW)
    assert d.take().rejected == {"unknown_sensor": 1}


def test_sparkplug_rejections() -> None:
    d = spb_decoder(max_future=60)
    ms = int(NOW * 1000)
    payload = birth(
        spb.double_metric("t1", math.nan, ms),
        spb.double_metric("t2", 1.0, ms + 120_000),
        spb.Metric(name="p1", datatype=spb.DataType.STRING, value="high", timestamp=ms),
        spb.Metric(name="p1", datatype=spb.DataType.DOUBLE, is_null=True),  # skipped quietly
        spb.Metric(datatype=spb.DataType.DOUBLE, value=1.0),  # neither name nor alias
        spb.double_metric("p1", 2.0, ms - 10),
    )
    d.add("spBv1.0/plant/NBIRTH/e", payload, NOW)
    d.add("spBv1.0/plant/NDATA/e", b"\x12\x7f\x0a", NOW)
    d.add("not/sparkplug", payload, NOW)
    r = d.take()
    assert r.sensor.tolist() == [2] and r.value.tolist() == [2.0]
    assert r.rejected == {
        "not_finite": 1,
        "future_timestamp": 1,
        "not_numeric": 1,
        "malformed": 3,
    }


def test_sparkplug_float_bits_are_exact() -> None:
    m = spb.Metric(name="t1", datatype=spb.DataType.FLOAT, value=0.1)
    got = spb.decode_payload(spb.encode_payload(spb.Payload(metrics=[m]))).metrics[0].value
    assert got == struct.unpack("<f", struct.pack("<f", 0.1))[0]
