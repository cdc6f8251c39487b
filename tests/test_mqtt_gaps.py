"""End to end through a real mosquitto: the demo publisher (``twinviewer simulate``'s
:func:`publish_mqtt`) into an :class:`MqttFeed` across broker restarts, and Sparkplug rebirth
requests seen on the broker. Every sample is counted: what did not arrive must be reported as a
gap, exactly."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import numpy as np
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.mqtt_broker import Mosquitto, find_mosquitto
from tests.test_mqtt import Collector, mine_project, wait_until
from twinviewer.core.gaps import SEQUENCE, Gap, GapLog
from twinviewer.core.project import MqttSource
from twinviewer.sources import sparkplug as spb
from twinviewer.sources.base import SourceState
from twinviewer.sources.mqtt import MqttFeed
from twinviewer.sources.mqtt_publish import PublishStats, publish_mqtt

pytestmark = pytest.mark.skipif(
    find_mosquitto() is None, reason="mosquitto is not installed: these tests need a real broker"
)


@pytest.fixture
def own_broker(tmp_path: Path) -> Mosquitto:
    b = Mosquitto(tmp_path / "broker").start()
    yield b  # type: ignore[misc]
    b.stop()


def run_demo_through(
    broker: Mosquitto, tmp_path: Path, fault: str | None
) -> tuple[PublishStats, Collector, list[Gap], MqttFeed]:
    """The mine demo (60 sensors) at 5 Hz for 6 s; at 2 s the broker is restarted (``term``) or
    killed and restarted (``kill``)."""
    project = mine_project()
    cfg = MqttSource(
        type="mqtt",
        url=broker.url,
        topic="demo/{component}/{sensor}",
        qos=1,
        client_id=f"viewer-{uuid.uuid4().hex[:6]}",
        seq_grace=0.5,
    )
    feed = MqttFeed(cfg, project.sensors, tmp_path)
    sink, gaps = Collector(), GapLog()
    feed.start(sink, gaps.add)
    try:
        assert wait_until(lambda: feed.status.state == SourceState.LIVE)
        if fault is not None:
            threading.Timer(2.0, lambda: broker.restart(kill=fault == "kill", down=0.3)).start()
        stats = publish_mqtt(project, broker.url, config=cfg, rate=5, duration=6.0)
        assert wait_until(lambda: feed.status.state == SourceState.LIVE, 10)
        # everything in flight has arrived when the count stops moving
        last = -1
        while len(sink) != last:
            last = len(sink)
            time.sleep(1.0)
    finally:
        feed.stop()
    return stats, sink, gaps.drain(), feed


def received(sink: Collector) -> int:
    b = sink.all()
    return len(set(zip(b.sensor.tolist(), b.time.tolist(), strict=True)))


def test_graceful_restart_loses_nothing_end_to_end(own_broker: Mosquitto, tmp_path: Path) -> None:
    stats, sink, gaps, feed = run_demo_through(own_broker, tmp_path, "term")
    assert own_broker.starts == 2
    assert stats.acknowledged == stats.messages and stats.pending == 0 and stats.lost == 0
    assert stats.samples_acknowledged == stats.samples
    assert received(sink) == stats.samples, f"{stats.samples - received(sink)} samples lost"
    assert gaps == [] and feed.status.missing == 0


def test_killed_broker_loss_equals_the_gaps_reported(own_broker: Mosquitto, tmp_path: Path) -> None:
    stats, sink, gaps, feed = run_demo_through(own_broker, tmp_path, "kill")
    assert stats.pending == 0 and stats.lost == 0
    missing = stats.samples - received(sink)
    reported = sum(g.missing for g in gaps)
    assert reported == missing, (missing, [g.describe() for g in gaps])
    assert all(g.exact for g in gaps)
    assert feed.status.missing == reported


def test_no_fault_no_gap(own_broker: Mosquitto, tmp_path: Path) -> None:
    stats, sink, gaps, _ = run_demo_through(own_broker, tmp_path, None)
    assert received(sink) == stats.samples and gaps == []


def test_json_seq_gap_reported_with_its_sensor(own_broker: Mosquitto, tmp_path: Path) -> None:
    project = mine_project()
    sensor = project.sensors[0].id
    cfg = MqttSource(type="mqtt", url=own_broker.url, topic="j/{sensor}", qos=1, seq_grace=0.2)
    feed = MqttFeed(cfg, project.sensors, tmp_path)
    sink, gaps = Collector(), GapLog()
    feed.start(sink, gaps.add)
    c = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    c.connect("127.0.0.1", own_broker.port)
    c.loop_start()
    try:
        assert wait_until(lambda: feed.status.state == SourceState.LIVE)
        t0 = time.time() - 10
        for n in (0, 1, 2, 6, 4, 7):  # 3 and 5 never come; 4 comes late
            body = f'{{"value": {n}.0, "timestamp": {t0 + n}, "seq": {n}}}'
            c.publish(f"j/{sensor}", body, 1).wait_for_publish(5)
        assert wait_until(lambda: feed.status.gaps == 1, 5)
    finally:
        c.loop_stop()
        c.disconnect()
        feed.stop()
    (gap,) = gaps.drain()
    assert gap.sensors == (sensor,) and gap.cause == SEQUENCE
    assert gap.missing == 2 and (gap.start, gap.end) == (t0 + 2, t0 + 6)
    assert np.array_equal(np.sort(sink.all().time), t0 + np.array([0, 1, 2, 4, 6, 7]))


def test_sparkplug_sequence_gap_sends_a_rebirth_request(
    own_broker: Mosquitto, tmp_path: Path
) -> None:
    project = mine_project()
    ids = [s.id for s in project.sensors[:3]]
    cfg = MqttSource(
        type="mqtt", url=own_broker.url, topic="spBv1.0/site/+/edge1", format="sparkplug_b",
        qos=1, seq_grace=0.2,
    )  # fmt: skip
    feed = MqttFeed(cfg, project.sensors, tmp_path)
    sink, gaps = Collector(), GapLog()
    feed.start(sink, gaps.add)
    commands: list[spb.Payload] = []
    c = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    c.on_message = lambda _c, _u, m: commands.append(spb.decode_payload(m.payload))
    c.connect("127.0.0.1", own_broker.port)
    c.subscribe("spBv1.0/site/NCMD/edge1", 1)
    c.loop_start()
    ms = int(time.time() * 1000) - 10_000
    try:
        assert wait_until(lambda: feed.status.state == SourceState.LIVE)

        def send(kind: str, seq: int, metrics: list[spb.Metric]) -> None:
            body = spb.encode_payload(
                spb.Payload(timestamp=ms + seq * 200, metrics=metrics, seq=seq)
            )
            c.publish(f"spBv1.0/site/{kind}/edge1", body, 1).wait_for_publish(5)

        send("NBIRTH", 0, [spb.double_metric(i, 1.0, ms, alias=k + 1) for k, i in enumerate(ids)])
        for seq in (1, 2, 5):
            send("NDATA", seq, [spb.double_metric(None, 2.0, ms + seq * 200, alias=2)])
        assert wait_until(lambda: commands, 5), "no rebirth request reached the broker"
        assert wait_until(lambda: feed.status.gaps == 1, 5)
    finally:
        c.loop_stop()
        c.disconnect()
        feed.stop()
    rebirth = [m for m in commands[0].metrics if m.name == "Node Control/Rebirth"]
    assert rebirth and rebirth[0].value is True
    assert feed.rebirths_requested == 1
    (gap,) = gaps.drain()
    assert gap.detail.startswith("2 messages missing") and ids[1] in gap.sensors
