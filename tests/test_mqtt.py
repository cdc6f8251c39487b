"""The MQTT source and the publisher against a real mosquitto broker (no mocks).

Every broker, feed and client a test starts is stopped by the fixtures or the test itself.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.mqtt_broker import Mosquitto, Pki, find_mosquitto, free_port, make_pki
from twinviewer.core.project import MqttSource, Project, Sensor, load_project
from twinviewer.core.samples import LatestState, SampleBatch
from twinviewer.sources import sparkplug as spb
from twinviewer.sources.base import SourceState
from twinviewer.sources.mqtt import MqttFeed
from twinviewer.sources.mqtt_publish import FaultPlan, publish_mqtt

pytestmark = pytest.mark.skipif(
    find_mosquitto() is None,
    reason="mosquitto is not installed (apt install mosquitto): the MQTT tests need a real broker",
)

ASSETS = Path(__file__).resolve().parents[1] / "assets"
SENSORS = [
    Sensor(id="t1", quantity="temperature", unit="degC", range=(0, 100), component="pump_1"),
    Sensor(id="t2", quantity="temperature", unit="degC", range=(0, 100), component="pump_2"),
    Sensor(id="p1", quantity="pressure", unit="bar", range=(0, 10), component="pump_1"),
]
USER, PASSWORD = "alice", "s3cret-pw"


# -- helpers ------------------------------------------------------------------------------------


def wait_until(pred: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.01)
    return pred()


class Collector:
    """A sink: keeps every batch (called from the feed thread)."""

    def __init__(self) -> None:
        self.batches: list[SampleBatch] = []
        self._lock = threading.Lock()

    def __call__(self, batch: SampleBatch) -> None:
        with self._lock:
            self.batches.append(batch)

    def all(self) -> SampleBatch:
        with self._lock:
            batches = list(self.batches)
        if not batches:
            return SampleBatch.of([], [], [])
        return SampleBatch.concat(batches)

    def __len__(self) -> int:
        with self._lock:
            return sum(len(b) for b in self.batches)


class Feeds:
    """Starts feeds and stops every one of them at the end of the test."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: list[MqttFeed] = []

    def start(
        self,
        url: str,
        topic: str,
        fmt: str = "json",
        sensors: list[Sensor] | None = None,
        live: bool = True,
        **kw: Any,
    ) -> tuple[MqttFeed, Collector]:
        cfg = MqttSource(type="mqtt", url=url, topic=topic, format=fmt, **kw)
        feed = MqttFeed(cfg, sensors or SENSORS, self.folder)
        sink = Collector()
        feed.start(sink)
        self.started.append(feed)
        if live:
            assert wait_until(lambda: feed.status.state == SourceState.LIVE), feed.status
        return feed, sink

    def stop_all(self) -> None:
        for f in self.started:
            f.stop()


@pytest.fixture
def feeds(tmp_path: Path) -> Iterator[Feeds]:
    f = Feeds(tmp_path)
    yield f
    f.stop_all()


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    b = Mosquitto(tmp_path_factory.mktemp("mosquitto")).start()
    yield b
    b.stop()


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A broker of the test's own, to stop, kill and restart."""
    b = Mosquitto(tmp_path / "broker").start()
    yield b
    b.stop()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    pytest.importorskip("cryptography", reason="the TLS tests make their certificates with it")
    return make_pki(tmp_path_factory.mktemp("project") / "pki")


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[Mosquitto]:
    b = Mosquitto(tmp_path_factory.mktemp("secure"), users={USER: PASSWORD}, pki=pki).start()
    yield b
    b.stop()


@contextmanager
def client(
    port: int,
    client_id: str | None = None,
    clean: bool = True,
    username: str | None = None,
    password: str | None = None,
) -> Iterator[paho.Client]:
    c = paho.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id or f"test-{uuid.uuid4().hex[:8]}",
        clean_session=clean,
        protocol=paho.MQTTv311,
    )
    if username:
        c.username_pw_set(username, password)
    connected = threading.Event()
    c.on_connect = lambda *a: connected.set()
    c.connect("127.0.0.1", port)
    c.loop_start()
    try:
        assert connected.wait(5)
        yield c
    finally:
        c.disconnect()
        c.loop_stop()


def send(port: int, topic: str, *payloads: bytes, qos: int = 1, **kw: Any) -> None:
    with client(port, **kw) as c:
        infos = [c.publish(topic, p, qos) for p in payloads]
        for info in infos:
            info.wait_for_publish(5)


# -- each format end to end ------------------------------------------------------------------


def test_json_end_to_end(broker: Mosquitto, feeds: Feeds) -> None:
    feed, sink = feeds.start(broker.url, "mine/{component}/{sensor}")
    assert feed.status.message.endswith("mine/+/+ (QoS 1)")
    t0 = time.time()
    send(broker.port, "mine/pump_1/t1", orjson.dumps({"value": 21.5, "ts": t0 - 2.0}))
    send(broker.port, "mine/pump_2/t2", b"7")  # bare number: stamped on arrival
    send(broker.port, "mine/pump_1/p1", orjson.dumps({"value": 3.25, "ts": int(t0 * 1000)}))
    send(broker.port, "mine/pump_1/nope", b"1.0")
    assert wait_until(lambda: len(sink) == 3 and feed.status.rejected_total == 1)
    b = sink.all()
    order = np.argsort(b.sensor)
    assert b.sensor[order].tolist() == [0, 1, 2]
    assert b.value[order].tolist() == [21.5, 7.0, 3.25]
    assert b.time[order][0] == pytest.approx(t0 - 2.0)
    assert t0 <= b.time[order][1] <= time.time()
    assert b.time[order][2] == pytest.approx(t0, abs=1e-3)
    assert feed.status.rejected == {"unknown_sensor": 1}
    assert feed.status.messages == 4 and feed.status.accepted == 3


def test_json_batch_end_to_end(broker: Mosquitto, feeds: Feeds) -> None:
    feed, sink = feeds.start(broker.url, "mine/batch", "json_batch")
    t0 = time.time()
    records = [{"sensor": "t2", "value": 1.5, "ts": t0 - 1}, {"sensor": "p1", "value": 2.5}]
    columns = {"sensor": ["t1", "t1", "p1"], "ts": [t0 - 3, t0 - 2, t0 - 1], "value": [4, 5, 6]}
    send(broker.port, "mine/batch", orjson.dumps(records), orjson.dumps(columns))
    assert wait_until(lambda: len(sink) == 5)
    b = sink.all()
    assert b.sensor.tolist() == [1, 2, 0, 0, 2]
    assert b.value.tolist() == [1.5, 2.5, 4.0, 5.0, 6.0]
    assert b.time[[0, 2, 3, 4]].tolist() == pytest.approx([t0 - 1, t0 - 3, t0 - 2, t0 - 1])
    assert feed.status.rejected == {} and feed.status.messages == 2


def test_sparkplug_end_to_end(broker: Mosquitto, feeds: Feeds) -> None:
    feed, sink = feeds.start(broker.url, "spBv1.0/mine/+/+/#", "sparkplug_b")
    ms = int(time.time() * 1000) - 10_000
    nbirth = spb.Payload(
        timestamp=ms,
        seq=0,
        metrics=[
            spb.Metric(name="bdSeq", datatype=spb.DataType.INT64, value=0),
            spb.double_metric("Pumps/t1", 20.0, ms, alias=1),
        ],
    )
    ndata = spb.Payload(timestamp=ms + 100, seq=1, metrics=[spb.double_metric(None, 21.0, None, 1)])
    dbirth = spb.Payload(
        timestamp=ms + 200,
        seq=2,
        metrics=[spb.Metric(name="p1", alias=7, datatype=spb.DataType.INT16, value=-2)],
    )
    ddata = spb.Payload(
        timestamp=ms + 300,
        seq=3,
        metrics=[spb.Metric(alias=7, datatype=spb.DataType.INT16, value=-4, timestamp=ms + 250)],
    )
    with client(broker.port) as c:
        for topic, p in (
            ("spBv1.0/mine/NBIRTH/edge", nbirth),
            ("spBv1.0/mine/NDATA/edge", ndata),
            ("spBv1.0/mine/DBIRTH/edge/press", dbirth),
            ("spBv1.0/mine/DDATA/edge/press", ddata),
        ):
            c.publish(topic, spb.encode_payload(p), 1).wait_for_publish(5)
    assert wait_until(lambda: len(sink) == 4)
    b = sink.all()
    assert b.sensor.tolist() == [0, 0, 2, 2]
    assert b.value.tolist() == [20.0, 21.0, -2.0, -4.0]
    assert b.time.tolist() == pytest.approx(
        [ms / 1e3, (ms + 100) / 1e3, (ms + 200) / 1e3, (ms + 250) / 1e3]
    )
    assert feed.status.rejected == {}


@pytest.mark.skipif(shutil.which("mosquitto_pub") is None, reason="mosquitto_pub not installed")
def test_mosquitto_pub_value_reaches_bound_sensor(broker: Mosquitto, feeds: Feeds) -> None:
    feed, sink = feeds.start(broker.url, "mine/{component}/{sensor}")
    subprocess.run(
        ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1"]
        + ["-t", "mine/pump_2/t2", "-m", '{"value": 42.5}'],
        check=True,
        timeout=10,
    )
    assert wait_until(lambda: len(sink) == 1)
    state = LatestState(len(SENSORS))
    state.apply(sink.all())
    assert state.value[1] == 42.5 and np.isfinite(state.time[1])
    assert np.isnan(state.value[[0, 2]]).all()


# -- TLS and credentials ----------------------------------------------------------------------


def tls_kw(pki: Pki, ca: Path | None = None, **extra: Any) -> dict[str, Any]:
    """TLS settings with paths relative to the project folder (the pki's parent)."""
    rel = (ca or pki.ca).relative_to(pki.folder.parent)
    return {"tls": {"ca_file": str(rel), **extra}, "username": USER, "password": PASSWORD}


def test_tls_with_test_ca(secure_broker: Mosquitto, pki: Pki, feeds: Feeds) -> None:
    feeds.folder = pki.folder.parent
    feed, sink = feeds.start(secure_broker.tls_url(), "s/{sensor}", **tls_kw(pki))
    send(secure_broker.port, "s/t1", b"5.5", username=USER, password=PASSWORD)
    assert wait_until(lambda: len(sink) == 1)
    assert sink.all().value.tolist() == [5.5]
    # the same over "localhost": the certificate names both
    feed2, _ = feeds.start(secure_broker.tls_url("localhost"), "s/{sensor}", **tls_kw(pki))
    assert feed2.status.state == SourceState.LIVE


def test_tls_wrong_ca_is_an_error(secure_broker: Mosquitto, pki: Pki, feeds: Feeds) -> None:
    feeds.folder = pki.folder.parent
    feed, _ = feeds.start(
        secure_broker.tls_url(), "s/{sensor}", live=False, **tls_kw(pki, pki.wrong_ca)
    )
    assert wait_until(lambda: feed.status.state == SourceState.ERROR)
    assert feed.status.message.startswith("TLS: certificate verify failed")
    time.sleep(1.5)
    assert feed.connects == 1  # backed off to the maximum, no retry storm


def test_tls_hostname_is_verified(secure_broker: Mosquitto, pki: Pki, feeds: Feeds) -> None:
    feeds.folder = pki.folder.parent
    url = secure_broker.tls_url(port=secure_broker.misnamed_port)
    strict, _ = feeds.start(url, "s/{sensor}", live=False, **tls_kw(pki))
    assert wait_until(lambda: strict.status.state == SourceState.ERROR)
    assert "mismatch" in strict.status.message and "TLS" in strict.status.message
    lax, _ = feeds.start(url, "s/{sensor}", **tls_kw(pki, verify_hostname=False))
    assert lax.status.state == SourceState.LIVE


def test_mutual_tls(secure_broker: Mosquitto, pki: Pki, feeds: Feeds) -> None:
    feeds.folder = pki.folder.parent
    url = secure_broker.tls_url(port=secure_broker.mtls_port)
    rel = pki.folder.name
    feed, _ = feeds.start(
        url,
        "s/{sensor}",
        **tls_kw(pki, cert_file=f"{rel}/client.pem", key_file=f"{rel}/client.key"),
    )
    assert feed.status.state == SourceState.LIVE
    no_cert, _ = feeds.start(url, "s/{sensor}", live=False, **tls_kw(pki))
    assert wait_until(lambda: "client certificate" in no_cert.status.message, 3)
    assert no_cert.status.state == SourceState.RECONNECTING


def test_password_from_environment(
    secure_broker: Mosquitto, feeds: Feeds, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWIN_MQTT_PW", PASSWORD)
    feed, _ = feeds.start(
        secure_broker.url, "s/{sensor}", username=USER, password_env="TWIN_MQTT_PW"
    )
    assert feed.status.state == SourceState.LIVE
    monkeypatch.delenv("TWIN_MQTT_PW")
    missing, _ = feeds.start(
        secure_broker.url, "s/{sensor}", live=False, username=USER, password_env="TWIN_MQTT_PW"
    )
    assert wait_until(lambda: missing.status.state == SourceState.ERROR)
    assert "TWIN_MQTT_PW is not set" in missing.status.message


def test_bad_credentials_error_without_reconnect_storm(
    secure_broker: Mosquitto, feeds: Feeds
) -> None:
    refusals = secure_broker.count_in_log("not authorised")
    feed, _ = feeds.start(
        secure_broker.url, "s/{sensor}", live=False, username=USER, password="wrong"
    )
    assert wait_until(lambda: feed.status.state == SourceState.ERROR, 3)
    assert feed.status.message.startswith("not authorised: check username/password")
    time.sleep(3.0)
    assert feed.status.state == SourceState.ERROR
    assert feed.connects <= 2
    assert wait_until(lambda: secure_broker.count_in_log("not authorised") > refusals, 2)
    assert secure_broker.count_in_log("not authorised") - refusals <= 2


# -- connection life cycle --------------------------------------------------------------------


def test_unreachable_broker_keeps_retrying_then_connects(tmp_path: Path, feeds: Feeds) -> None:
    port = free_port()
    feed, sink = feeds.start(f"mqtt://127.0.0.1:{port}", "m/{sensor}", live=False)
    assert wait_until(lambda: feed.status.state == SourceState.RECONNECTING, 3)
    assert "cannot reach 127.0.0.1" in feed.status.message
    with Mosquitto(tmp_path / "late", port=port) as late:
        assert wait_until(lambda: feed.status.state == SourceState.LIVE, 5), feed.status
        send(late.port, "m/t1", b"1.25")
        assert wait_until(lambda: len(sink) == 1)
        feed.stop()
    assert feed.connects >= 2


def test_stop_disconnects_cleanly(broker: Mosquitto, feeds: Feeds) -> None:
    cid = f"stop-{uuid.uuid4().hex[:6]}"
    feed, _ = feeds.start(broker.url, "m/{sensor}", client_id=cid)
    t0 = time.monotonic()
    feed.stop()
    assert time.monotonic() - t0 < 1.0
    assert feed.status.state == SourceState.STOPPED
    assert wait_until(lambda: f"Client {cid} disconnected." in broker.log(), 2)
    assert f"Client {cid} closed its connection" not in broker.log()


def test_config_errors_are_reported(feeds: Feeds) -> None:
    bad_topic, _ = feeds.start("mqtt://127.0.0.1:1", "m/{group}", live=False)
    bad_url, _ = feeds.start("http://127.0.0.1", "m/{sensor}", live=False)
    tls_plain, _ = feeds.start("mqtt://127.0.0.1:1", "m/{sensor}", live=False, tls={})
    for feed, text in (
        (bad_topic, "unknown placeholder {group}"),
        (bad_url, "expected mqtt://host"),
        (tls_plain, "not mqtts://"),
    ):

        def errored(f: MqttFeed = feed) -> bool:
            return f.status.state == SourceState.ERROR

        assert wait_until(errored, 2)
        assert text in feed.status.message
        assert feed.connects == 0


class SeqPublisher:
    """A persistent QoS 1 publisher of numbered samples that notes when each was acknowledged."""

    def __init__(self, port: int) -> None:
        self.c = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"seq-pub-{uuid.uuid4().hex[:6]}",
            clean_session=False,
            protocol=paho.MQTTv311,
        )
        self.c.reconnect_delay_set(0.1, 0.5)  # type: ignore[arg-type]  # floats work
        self.c.max_inflight_messages_set(50)
        self.acked_at: dict[int, float] = {}  # mid -> time of PUBACK
        self.mid_of: dict[int, int] = {}  # seq -> mid
        self.c.on_publish = self._on_publish
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()

    def _on_publish(self, c: paho.Client, u: Any, mid: int, rc: Any, p: Any) -> None:
        self.acked_at.setdefault(mid, time.monotonic())

    def publish(self, seq: int) -> None:
        info = self.c.publish("r/t1", orjson.dumps({"value": seq, "ts": time.time()}), 1)
        self.mid_of[seq] = info.mid

    def all_acked(self) -> bool:
        return all(m in self.acked_at for m in self.mid_of.values())

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


def run_through_restart(
    broker: Mosquitto, feeds: Feeds, kill: bool, n: int = 300
) -> tuple[MqttFeed, Collector, SeqPublisher, float]:
    """Publish ``n`` numbered samples at QoS 1 and restart (or kill and restart) the broker
    after the first third; returns when the publisher has every PUBACK."""
    feed, sink = feeds.start(
        broker.url, "r/{sensor}", qos=1, client_id=f"feed-{uuid.uuid4().hex[:6]}"
    )
    pub = SeqPublisher(broker.port)
    restarted_at = 0.0
    seen: list[tuple[SourceState, str]] = []  # the feed's states, sampled
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            s = (feed.status.state, feed.status.message)
            if not seen or seen[-1] != s:
                seen.append(s)
            time.sleep(0.002)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for seq in range(n):
            pub.publish(seq)
            time.sleep(0.003)
            if seq == n // 3:
                restarted_at = time.monotonic()
                broker.restart(kill=kill, down=0.3)
        assert wait_until(pub.all_acked, 15), "the publisher did not get every PUBACK"
        assert wait_until(lambda: feed.status.state == SourceState.LIVE)
    finally:
        pub.close()
        done.set()
        watcher.join()
    final = (feed.status.state, feed.status.message)  # the watcher may stop between samples
    if seen[-1] != final:
        seen.append(final)
    states = [s for s, _ in seen]
    assert states[0] == SourceState.LIVE and states[-1] == SourceState.LIVE, seen
    assert any(
        s == SourceState.RECONNECTING and m.startswith("connection lost") for s, m in seen
    ), seen
    return feed, sink, pub, restarted_at


def test_broker_restart_loses_no_acknowledged_sample(own_broker: Mosquitto, feeds: Feeds) -> None:
    """Graceful restart (SIGTERM: mosquitto saves sessions and queues on the way out).

    QoS 1 is at-least-once per hop while each side keeps its session state: the publisher's
    paho re-sends whatever has no PUBACK; the broker keeps the feed's persistent session
    (clean_start false, fixed client id) and what it queued for it across the restart. So
    every sample must arrive (duplicates are allowed)."""
    n = 300
    feed, sink, _pub, _ = run_through_restart(own_broker, feeds, kill=False, n=n)
    assert wait_until(lambda: set(sink.all().value.astype(int)) >= set(range(n)), 10), (
        f"missing: {sorted(set(range(n)) - set(sink.all().value.astype(int)))[:20]}"
    )
    assert feed.sessions_resumed >= 1
    assert feed.status.state == SourceState.LIVE
    assert own_broker.starts == 2


def test_broker_killed_and_restarted(own_broker: Mosquitto, feeds: Feeds) -> None:
    """SIGKILL: the broker cannot save what it acknowledged in the last instant, so QoS 1
    promises less. What must hold: the feed reconnects to its persistent session; every sample
    published from the kill on arrives (the publisher re-sends what was not acknowledged, the
    broker queues for the feed's session); and anything lost was acknowledged by the broker at
    most a moment before it died (the window between its PUBACK and its next save)."""
    n = 300
    feed, sink, pub, killed_at = run_through_restart(own_broker, feeds, kill=True, n=n)
    kill_seq = n // 3
    assert wait_until(
        lambda: set(sink.all().value.astype(int)) >= set(range(kill_seq + 1, n)), 10
    ), "samples published after the kill are missing"
    got = set(sink.all().value.astype(int))
    lost = set(range(n)) - got
    for seq in lost:
        acked = pub.acked_at[pub.mid_of[seq]]
        assert killed_at - 0.25 <= acked <= killed_at + 0.05, (seq, killed_at - acked)
    assert feed.status.state == SourceState.LIVE
    assert feed.sessions_resumed >= 1


# -- bad input and the publisher ---------------------------------------------------------------


def test_every_bad_input_counted_by_reason(broker: Mosquitto, feeds: Feeds) -> None:
    feed, sink = feeds.start(broker.url, "bad/{any}", "json_batch", max_payload=2000, max_future=60)
    t0 = time.time()
    columns = {
        "sensor": ["t1", "zz", "t2", "p1", "t1", "t2", "p1"],
        "ts": [t0 - 3, t0, t0, t0, t0 + 3600, "when?", t0 - 1],
        "value": [1.0, 2.0, "warm", 4.0, 5.0, 6.0, 7.0],
    }
    columns_nan = b'{"sensor": ["t2", "t1"], "value": [NaN, 8.0], "ts": %f}' % (t0 - 2)
    records = [{"sensor": "p1", "value": 9.0, "ts": t0 - 0.5}, {"sensor": "t2"}, {"value": 1}]
    with client(broker.port) as c:
        for payload in (
            orjson.dumps(columns),
            columns_nan,
            orjson.dumps(records),
            b'{"sensor": ["t1"], "value": [1.0',  # truncated
            b"[" + b" " * 2500 + b"]",  # oversized (and would parse)
        ):
            c.publish("bad/x", payload, 1).wait_for_publish(5)
    assert wait_until(lambda: feed.status.messages == 5)
    assert wait_until(lambda: len(sink) == 5)
    assert feed.status.rejected == {
        "unknown_sensor": 1,
        "not_numeric": 1,
        "future_timestamp": 1,
        "bad_timestamp": 1,
        "not_finite": 1,
        "malformed": 3,  # two records without a sensor or value, one truncated message
        "oversized": 1,
    }
    b = sink.all()
    assert b.sensor.tolist() == [0, 2, 2, 0, 2]
    assert b.value.tolist() == [1.0, 4.0, 7.0, 8.0, 9.0]
    assert feed.status.accepted == 5
    assert feed.flags == {"out_of_order": 1}  # p1 at t0 - 1 after p1 at t0: kept, flagged


def mine_project() -> Project:
    project, _ = load_project(ASSETS / "mine" / "mine.twin.yaml")
    return project


@pytest.mark.parametrize(
    ("fmt", "topic"),
    [
        ("json", "mine/{component}/{sensor}"),
        ("json_batch", "mine/batch"),
        ("sparkplug_b", "spBv1.0/mine/+/edge1"),
    ],
)
def test_publisher_faults_are_counted_by_the_feed(
    broker: Mosquitto, feeds: Feeds, fmt: str, topic: str
) -> None:
    project = mine_project()
    feed, sink = feeds.start(broker.url, topic, fmt, sensors=project.sensors, qos=1)
    cfg = feed.config
    plan = FaultPlan(
        dropout_every=0.5,
        dropout_seconds=(0.3, 0.6),
        malformed_every=0.3,
        nan_every=0.2,
        out_of_order_every=0.2,
        duplicate_every=0.2,
    )
    stats = publish_mqtt(project, broker.url, config=cfg, rate=20, duration=1.5, faults=plan)
    for kind, count in stats.injected.items():
        assert count > 0, kind
    expected = stats.samples + stats.out_of_order + stats.duplicate
    assert wait_until(lambda: feed.status.accepted == expected, 5), (feed.status, stats)
    assert wait_until(lambda: feed.status.messages == stats.messages, 2)
    assert feed.status.rejected == {"not_finite": stats.nan, "malformed": stats.malformed}
    assert feed.flags == {"out_of_order": stats.out_of_order, "duplicate": stats.duplicate}
    assert stats.dropped > 0 and stats.failed == 0
    per_sensor = np.bincount(sink.all().sensor, minlength=len(project.sensors))
    assert per_sensor.min() < per_sensor.max()  # the drop-outs show


def test_publisher_keeps_up_with_the_demo_rate(broker: Mosquitto, feeds: Feeds) -> None:
    project = mine_project()
    n = len(project.sensors)
    assert n >= 60  # the demo's 60, and its moving parts' positions
    feed, sink = feeds.start(
        broker.url, "demo/{component}/{sensor}", sensors=project.sensors, qos=1
    )
    progress: list[int] = []
    stop = threading.Event()
    threading.Timer(2.0, stop.set).start()
    t0 = time.monotonic()
    stats = publish_mqtt(
        project,
        broker.url,
        config=feed.config,
        rate=5,
        stop=stop,
        progress=lambda s: progress.append(s.samples),
    )
    assert time.monotonic() - t0 < 3.0
    steps = stats.samples // n
    assert stats.samples == steps * n and 10 <= steps <= 12  # 5 Hz for 2 s, from t=0
    assert stats.messages == stats.samples  # json: one message per sample
    assert progress and progress[-1] <= stats.samples
    assert wait_until(lambda: len(sink) == stats.samples, 5)
    state = LatestState(n)
    state.apply(sink.all())
    assert np.isfinite(state.value).all()  # every sensor of the demo got values


def test_sparkplug_publisher_answers_rebirth(broker: Mosquitto, feeds: Feeds) -> None:
    project = mine_project()
    feed, sink = feeds.start(broker.url, "spBv1.0/mine/+/edge1", "sparkplug_b", project.sensors)
    result: list[object] = []
    worker = threading.Thread(
        target=lambda: result.append(
            publish_mqtt(project, broker.url, config=feed.config, rate=10, duration=1.5)
        )
    )
    worker.start()
    try:
        time.sleep(0.5)
        rebirth = spb.Payload(
            metrics=[
                spb.Metric(name="Node Control/Rebirth", datatype=spb.DataType.BOOLEAN, value=True)
            ]
        )
        send(broker.port, "spBv1.0/mine/NCMD/edge1", spb.encode_payload(rebirth))
    finally:
        worker.join(10)
    (stats,) = result
    assert stats.births == 2  # type: ignore[attr-defined]
    expected = stats.samples  # type: ignore[attr-defined]
    assert wait_until(lambda: feed.status.accepted == expected, 3)
    assert feed.status.rejected == {} and feed.flags == {}
