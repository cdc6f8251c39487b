"""Sequence accounting without a network: numbers in, gaps out (twinviewer.sources.sequence),
and the decoder's use of it for JSON ``seq``, Sparkplug ``seq`` and time keys."""

from __future__ import annotations

import orjson
import pytest

from twinviewer.core.gaps import BROKER_RESTART, PUBLISHER, SEQUENCE, Gap
from twinviewer.core.project import MqttSource, Sensor
from twinviewer.sources import sparkplug as spb
from twinviewer.sources.payloads import PayloadDecoder
from twinviewer.sources.sequence import OUTAGE_GRACE, SequenceTracker

IDS = ["a", "b", "c"]
SENSORS = [Sensor(id=i, quantity="temperature", unit="degC", range=(0, 100)) for i in IDS]


def feed(tr: SequenceTracker, key: str, numbers: list[int], sensor: int = 0) -> list[str]:
    return [tr.observe(key, n, 100.0 + n, 100.0 + n, [sensor], 1, 0.0) for n in numbers]


def test_a_jump_is_a_gap_with_its_interval_and_count() -> None:
    tr = SequenceTracker("src", IDS, grace=1.0)
    assert feed(tr, "x", [0, 1, 2, 6, 7]) == ["ok", "ok", "ok", "gap", "ok"]
    assert tr.take(now=0.5) == []  # still within the grace
    (gap,) = tr.take(now=1.5)
    assert (gap.start, gap.end, gap.missing, gap.exact) == (102.0, 106.0, 3, True)
    assert gap.sensors == ("a",) and gap.cause == SEQUENCE
    assert "3 messages missing (numbers 3..5)" in gap.detail


def test_late_numbers_fill_the_gap_and_repeats_are_duplicates() -> None:
    tr = SequenceTracker("src", IDS, grace=1.0)
    assert feed(tr, "x", [0, 1, 4, 2, 3, 3, 5]) == [
        "ok", "ok", "gap", "late", "late", "duplicate", "ok",
    ]  # fmt: skip
    assert tr.take(now=10.0) == []
    assert tr.stats.late == 2 and tr.stats.duplicates == 1


def test_counter_restart_starts_the_stream_over() -> None:
    tr = SequenceTracker("src", IDS, grace=0.0)
    assert feed(tr, "x", [5000, 5001, 0, 1]) == ["ok", "ok", "restart", "ok"]
    assert tr.take(now=1.0) == [] and tr.stats.restarts == 1


def test_streams_are_independent() -> None:
    tr = SequenceTracker("src", IDS, grace=0.0)
    feed(tr, "x", [0, 1, 2], sensor=0)
    feed(tr, "y", [0, 2], sensor=1)
    (gap,) = tr.take(now=1.0)
    assert gap.sensors == ("b",) and gap.missing == 1


def test_wrapping_counter_unwrapped_by_elapsed_time() -> None:
    tr = SequenceTracker("spb", IDS, modulus=256, grace=0.0)
    # a message every 0.2 s, numbers 250..255, 0..3 then 300 messages missing (time says so)
    t = 0.0
    for n in [*range(250, 256), *range(0, 4)]:
        assert tr.observe("node", n, t, t, [0], 2, 0.0) in ("ok",)
        t += 0.2
    last = t - 0.2
    t_after = last + 301 * 0.2
    assert tr.observe("node", (3 + 301) % 256, t_after, t_after, [0], 2, 0.0) == "gap"
    (gap,) = tr.take(now=1.0)
    assert gap.missing == 300 * 2  # messages x samples per message


def test_link_cause_marks_the_first_gap_after_a_reconnect() -> None:
    tr = SequenceTracker("src", IDS, grace=0.0)
    feed(tr, "x", [0, 1])
    tr.link_down()
    tr.link_up(BROKER_RESTART, now=104.0)  # the link came back as message 4 was sent
    feed(tr, "x", [4, 6])
    (seq,) = tr.take(now=1.0)  # the hole across the outage waits for late QoS 1 retries
    (outage,) = tr.take(now=1.0 + OUTAGE_GRACE)
    assert [outage.cause, seq.cause] == [BROKER_RESTART, SEQUENCE]
    assert [outage.missing, seq.missing] == [2, 1]


def test_a_late_retry_after_the_outage_fills_its_hole() -> None:
    """The publisher re-sends what it had in flight seconds after the link is back."""
    tr = SequenceTracker("src", IDS, grace=0.5)
    feed(tr, "x", [0, 1])
    tr.link_down()
    tr.link_up(BROKER_RESTART, now=104.0)
    feed(tr, "x", [3, 4, 5])
    assert tr.take(now=3.0) == []  # 3 s on: still waiting
    feed(tr, "x", [2])  # the retry
    assert tr.take(now=20.0) == [] and tr.stats.late == 1


def test_death_then_birth_is_an_estimated_publisher_gap() -> None:
    tr = SequenceTracker("spb", IDS, modulus=256, grace=0.0)
    for n in range(5):
        tr.observe("node", n, 10.0 + n, 10.0 + n, [0, 1], 2, 0.0)
    tr.died("node")
    tr.born("node", 24.0, 0.0)
    (gap,) = tr.take(now=1.0)
    assert gap.cause == PUBLISHER and not gap.exact
    assert (gap.start, gap.end) == (14.0, 24.0) and gap.missing == 9 * 2


# -- the decoder -------------------------------------------------------------------------------


def decoder(**kw: object) -> PayloadDecoder:
    settings: dict[str, object] = {"topic": "s/{sensor}", "seq_grace": 0.1, **kw}
    cfg = MqttSource(type="mqtt", url="mqtt://h", **settings)  # type: ignore[arg-type]
    return PayloadDecoder(cfg, SENSORS)


def test_json_seq_per_topic_counts_missing_messages() -> None:
    d = decoder()
    for n in (0, 1, 2, 5):
        d.add("s/a", orjson.dumps({"value": 1.0, "ts": 1e9 + n, "seq": n}), arrival=1e9 + n)
    d.add("s/b", orjson.dumps({"value": 1.0, "ts": 1e9, "seq": 7}), arrival=1e9)
    assert len(d.take()) == 5
    (gap,) = d.take_gaps(now=1e9 + 100)
    assert gap.sensors == ("a",) and gap.missing == 2 and (gap.start, gap.end) == (1e9 + 2, 1e9 + 5)


def test_json_seq_per_publisher_and_bad_seq_flagged() -> None:
    d = decoder(seq_scope="publisher")
    for n, s in ((0, "a"), (1, "b"), (3, "c")):
        d.add(f"s/{s}", orjson.dumps({"value": 1.0, "seq": n, "publisher": "plc-1"}), 1e9 + n)
    d.add("s/a", orjson.dumps({"value": 1.0, "seq": "x"}), 1e9 + 5)
    assert d.take().flags.get("bad_seq") == 1
    (gap,) = d.take_gaps(now=1e9 + 100)
    assert gap.missing == 1 and set(gap.sensors) == {"a", "b", "c"}


def test_json_batch_seq_counts_samples_per_message() -> None:
    d = decoder(format="json_batch", topic="batch/{any}")
    for n in (0, 1, 4):
        body = {"sensor": ["a", "b"], "value": [1.0, 2.0], "ts": 1e9 + n, "seq": n}
        d.add("batch/x", orjson.dumps(body), 1e9 + n)
    (gap,) = d.take_gaps(now=1e9 + 100)
    assert gap.missing == 2 * 2 and gap.exact and gap.sensors == ("a", "b")


@pytest.mark.parametrize(
    ("key", "raw", "unit", "expected"),
    [
        ("timestamp", "2026-12-02T16:00:00Z", "auto", 1796227200.0),
        ("time", 1796227200000, "auto", 1796227200.0),
        ("t", 1796227200000000, "us", 1796227200.0),
        ("ts", "02/12/2026 16:00:00", "%d/%m/%Y %H:%M:%S", 1796227200.0),
    ],
)
def test_common_time_keys_and_formats(key: str, raw: object, unit: str, expected: float) -> None:
    d = decoder(time_unit=unit)
    d.add("s/a", orjson.dumps({"value": 1.0, key: raw}), arrival=expected + 5)
    assert d.take().time.tolist() == [expected]


def test_unreadable_timestamp_is_rejected_not_replaced_by_arrival() -> None:
    d = decoder()
    d.add("s/a", orjson.dumps({"value": 1.0, "timestamp": "yesterday-ish"}), arrival=1e9)
    out = d.take()
    assert len(out) == 0 and out.rejected == {"bad_timestamp": 1}
    assert "yesterday-ish" in out.details["bad_timestamp"]


def test_named_time_key_and_bad_format_named_in_the_error() -> None:
    d = decoder(time_field="when")
    d.add("s/a", orjson.dumps({"value": 1.0, "when": 1e9, "ts": 5.0}), arrival=1e9 + 1)
    assert d.take().time.tolist() == [1e9]
    with pytest.raises(ValueError, match="time_unit"):
        decoder(time_unit="fortnights")


def test_sparkplug_sequence_break_requests_rebirth() -> None:
    d = decoder(format="sparkplug_b", topic="spBv1.0/#")
    ms = 1_000_000_000_000

    def send(kind: str, seq: int, metrics: list[spb.Metric]) -> None:
        body = spb.encode_payload(spb.Payload(timestamp=ms + seq * 200, metrics=metrics, seq=seq))
        d.add(f"spBv1.0/g/{kind}/edge", body, arrival=(ms + seq * 200) / 1e3)

    birth = [spb.double_metric(i, 1.0, ms, alias=k + 1) for k, i in enumerate(IDS)]
    send("NBIRTH", 0, birth)
    send("NDATA", 1, [spb.double_metric(None, 2.0, ms + 200, alias=1)])
    assert not d.rebirths
    send("NDATA", 4, [spb.double_metric(None, 2.0, ms + 800, alias=1)])
    assert d.rebirths == {("g", "edge")}
    (gap,) = d.take_gaps(now=2e9)
    assert isinstance(gap, Gap) and gap.detail.startswith("2 messages missing")
