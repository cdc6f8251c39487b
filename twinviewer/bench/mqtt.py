"""``twinviewer bench mqtt``: the MQTT source end to end through a real mosquitto on loopback.

* ``mqtt_json_messages``: one JSON sample per message (``{"value": .., "ts": ..}`` on
  ``bench/<sensor>``), a burst published as fast as the broker takes it; samples/s that reach
  the sink. Baseline: a bare paho subscriber that only counts the messages.
* ``mqtt_json_batch_samples``: columnar ``json_batch`` messages of 1,000 samples each.
  Baseline: the bare paho subscriber (messages x 1,000 / s, nothing decoded).
* ``mqtt_latency_p95``: one sample every 100 ms; time from publishing to the sample being in a
  :class:`LatestState` drained every 10 ms, as the window does. Baseline: publish to paho's
  ``on_message``.

The bursts are published from a raw socket with pre-encoded QoS 0 PUBLISH packets, so that the
publisher costs next to nothing and the figure is the receiving side's. QoS 0 lets the broker drop
messages it cannot hand on; the loss is given in the note.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import orjson
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from twinviewer.bench.figures import Figure
from twinviewer.core.project import MqttSource, Sensor
from twinviewer.core.samples import BatchQueue, LatestState, SampleBatch
from twinviewer.sources.base import SourceState
from twinviewer.sources.mqtt import MqttFeed

log = logging.getLogger(__name__)

__all__ = ["bench_mqtt"]

N_SENSORS = 1000
BATCH = 1000


# -- a broker and a raw publisher ----------------------------------------------------------------


def _mosquitto() -> str | None:
    found = shutil.which("mosquitto")
    if found:
        return found
    return next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if Path(p).exists()), None
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _broker() -> Iterator[int]:
    binary = _mosquitto()
    if binary is None:
        raise FileNotFoundError("mosquitto is not installed")
    with tempfile.TemporaryDirectory(prefix="twinviewer-bench-") as tmp:
        port = _free_port()
        conf = Path(tmp) / "mosquitto.conf"
        conf.write_text(
            f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            "max_queued_messages 0\nmax_queued_bytes 0\nlog_type error\n"
            + ("user root\n" if os.name == "posix" and os.geteuid() == 0 else "")
        )
        proc = subprocess.Popen(
            [binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            deadline = time.monotonic() + 5
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), 0.2).close()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("mosquitto did not start") from None
                    time.sleep(0.02)
            yield port
        finally:
            proc.terminate()
            proc.wait(5)


def _remaining(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _publish_packet(topic: bytes, payload: bytes) -> bytes:
    body = struct.pack("!H", len(topic)) + topic + payload
    return b"\x30" + _remaining(len(body)) + body


class _RawPublisher:
    """MQTT 3.1.1 CONNECT, then pre-encoded QoS 0 PUBLISH packets written in one go."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), 5)
        cid = b"bench-raw-publisher"
        var = b"\x00\x04MQTT\x04\x02\x00\x3c" + struct.pack("!H", len(cid)) + cid
        self.sock.sendall(b"\x10" + _remaining(len(var)) + var)
        ack = self.sock.recv(4)
        if len(ack) != 4 or ack[0] != 0x20 or ack[3] != 0:
            raise ConnectionError(f"CONNACK refused: {ack!r}")

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def close(self) -> None:
        try:
            self.sock.sendall(b"\xe0\x00")
        finally:
            self.sock.close()


# -- receivers -----------------------------------------------------------------------------------


def _sensors(n: int) -> list[Sensor]:
    return [
        Sensor(id=f"s{i:04d}", quantity="temperature", unit="degC", range=(0.0, 100.0))
        for i in range(n)
    ]


class _Counter:
    """A sink that counts samples and notes when the last one came."""

    def __init__(self) -> None:
        self.samples = 0
        self.last = 0.0
        self.first = 0.0

    def __call__(self, batch: SampleBatch) -> None:
        now = time.perf_counter()
        if not self.samples:
            self.first = now
        self.samples += len(batch)
        self.last = now


def _wait_quiet(count: Callable[[], int], expected: int, timeout: float) -> None:
    """Until ``count()`` reaches ``expected`` or stops moving for a second."""
    deadline = time.monotonic() + timeout
    seen, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        c = count()
        if c >= expected:
            return
        if c != seen:
            seen, since = c, time.monotonic()
        elif time.monotonic() - since > 1.0:
            return
        time.sleep(0.005)


def _feed_rate(port: int, fmt: str, topic: str, data: bytes, expected: int) -> tuple[float, int]:
    """Samples/s through an :class:`MqttFeed` (publish start -> last sample in the sink)."""
    cfg = MqttSource(type="mqtt", url=f"mqtt://127.0.0.1:{port}", topic=topic, format=fmt, qos=0)
    sink = _Counter()
    feed = MqttFeed(cfg, _sensors(N_SENSORS), Path("."))
    feed.start(sink)
    try:
        _wait_state(feed, SourceState.LIVE, 5.0)
        pub = _RawPublisher(port)
        t0 = time.perf_counter()
        sender = threading.Thread(target=pub.send, args=(data,))
        sender.start()
        _wait_quiet(lambda: sink.samples, expected, 60.0)
        sender.join()
        pub.close()
    finally:
        feed.stop()
    return sink.samples / max(sink.last - t0, 1e-9), sink.samples


def _paho_rate(port: int, topic: str, data: bytes, expected_msgs: int) -> tuple[float, int]:
    """Messages/s through a bare paho subscriber that only counts."""
    count = [0, 0.0]
    subscribed = threading.Event()

    def on_message(c: paho.Client, u: object, m: paho.MQTTMessage) -> None:
        count[0] += 1
        count[1] = time.perf_counter()

    client = paho.Client(
        CallbackAPIVersion.VERSION2, client_id="bench-paho", protocol=paho.MQTTv311
    )
    client.on_message = on_message
    client.on_subscribe = lambda *a: subscribed.set()
    client.on_connect = lambda c, *a: c.subscribe(topic, 0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        subscribed.wait(5)
        pub = _RawPublisher(port)
        t0 = time.perf_counter()
        sender = threading.Thread(target=pub.send, args=(data,))
        sender.start()
        _wait_quiet(lambda: int(count[0]), expected_msgs, 60.0)
        sender.join()
        pub.close()
    finally:
        client.disconnect()
        client.loop_stop()
    return count[0] / max(float(count[1]) - t0, 1e-9), int(count[0])


def _wait_state(feed: MqttFeed, state: SourceState, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while feed.status.state != state:
        if time.monotonic() > deadline:
            raise RuntimeError(f"feed not {state.value}: {feed.status.message}")
        time.sleep(0.005)


# -- the figures ---------------------------------------------------------------------------------


def _json_messages(port: int, n: int) -> Figure:
    rng = np.random.default_rng(0)
    now = time.time()
    packets = [
        _publish_packet(
            f"bench/s{i % N_SENSORS:04d}".encode(),
            b'{"value":%.3f,"ts":%.3f}' % (rng.uniform(0, 100), now + i * 1e-6),
        )
        for i in range(n)
    ]
    data = b"".join(packets)
    rate, got = _feed_rate(port, "json", "bench/{sensor}", data, n)
    base, base_got = _paho_rate(port, "bench/+", data, n)
    return Figure(
        "mqtt_json_messages",
        rate,
        "msg/s",
        ">= 50k msg/s",
        base,
        "bare paho subscriber, no decoding",
        f"{n:,} messages QoS 0, {got / n:.1%} arrived (bare paho {base_got / n:.1%})",
    )


def _json_batch(port: int, n_msgs: int) -> Figure:
    rng = np.random.default_rng(1)
    ids = [f"s{i:04d}" for i in range(N_SENSORS)]
    now = time.time()
    packets = []
    for k in range(n_msgs):
        sel = [ids[(k * BATCH + j) % N_SENSORS] for j in range(BATCH)]
        obj = {
            "sensor": sel,
            "ts": [round(now + (k * BATCH + j) * 1e-6, 6) for j in range(BATCH)],
            "value": np.round(rng.uniform(0, 100, BATCH), 3).tolist(),
        }
        packets.append(_publish_packet(b"bench/batch", orjson.dumps(obj)))
    data = b"".join(packets)
    total = n_msgs * BATCH
    rate, got = _feed_rate(port, "json_batch", "bench/batch", data, total)
    base_msgs, base_got = _paho_rate(port, "bench/batch", data, n_msgs)
    return Figure(
        "mqtt_json_batch_samples",
        rate,
        "samples/s",
        ">= 1M samples/s",
        base_msgs * BATCH,
        "bare paho subscriber, nothing decoded",
        f"{n_msgs:,} columnar messages x {BATCH:,} samples ({len(packets[0]):,} bytes each), "
        f"{got / total:.1%} arrived",
    )


def _latency(port: int, n: int) -> Figure:
    url = f"mqtt://127.0.0.1:{port}"
    cfg = MqttSource(type="mqtt", url=url, topic="lat/{sensor}", format="json", qos=1)
    sensors = _sensors(10)
    queue = BatchQueue()
    state = LatestState(len(sensors))
    feed = MqttFeed(cfg, sensors, Path("."))
    feed.start(queue.put)
    raw_lat: list[float] = []

    def on_raw(c: paho.Client, u: object, m: paho.MQTTMessage) -> None:
        raw_lat.append(time.time() - orjson.loads(m.payload)["ts"])

    raw = paho.Client(
        CallbackAPIVersion.VERSION2, client_id="bench-raw-sub", protocol=paho.MQTTv311
    )
    raw.on_message = on_raw
    raw_ready = threading.Event()
    raw.on_subscribe = lambda *a: raw_ready.set()
    raw.on_connect = lambda c, *a: c.subscribe("lat/+", 1)
    raw.connect("127.0.0.1", port)
    raw.loop_start()
    pub = paho.Client(
        CallbackAPIVersion.VERSION2, client_id="bench-lat-pub", protocol=paho.MQTTv311
    )
    pub.connect("127.0.0.1", port)
    pub.loop_start()
    lat: list[float] = []
    try:
        _wait_state(feed, SourceState.LIVE, 5.0)
        raw_ready.wait(5)
        next_pub = time.monotonic()
        sent = 0
        seen = 0.0
        while len(lat) < n:
            now = time.monotonic()
            if sent < n and now >= next_pub:
                ts = time.time()
                pub.publish("lat/s0003", orjson.dumps({"value": float(sent), "ts": ts}), 1)
                sent += 1
                next_pub += 0.1
            batch = queue.drain()
            if batch is not None:
                state.apply(batch)
                t = float(state.time[3])
                if t != seen:
                    seen = t
                    lat.append(time.time() - t)
            if sent >= n and now > next_pub + 2.0:
                break  # something was lost; report what arrived
            time.sleep(0.01)
    finally:
        feed.stop()
        for c in (raw, pub):
            c.disconnect()
            c.loop_stop()
    p95 = float(np.percentile(lat, 95)) * 1000 if lat else float("nan")
    base = float(np.percentile(raw_lat, 95)) * 1000 if raw_lat else None
    return Figure(
        "mqtt_latency_p95",
        p95,
        "ms",
        "< 100 ms",
        base,
        "publish -> paho on_message",
        f"{len(lat)} samples at 10 Hz, QoS 1, drained every 10 ms; "
        f"median {np.median(lat) * 1000:.1f} ms"
        if lat
        else "nothing arrived",
    )


def bench_mqtt(quick: bool) -> list[Figure]:
    """The three MQTT figures (each with its baseline from the same run)."""
    if _mosquitto() is None:
        return [
            Figure(name, float("nan"), unit, target, note="mosquitto is not installed")
            for name, unit, target in (
                ("mqtt_json_messages", "msg/s", ">= 50k msg/s"),
                ("mqtt_json_batch_samples", "samples/s", ">= 1M samples/s"),
                ("mqtt_latency_p95", "ms", "< 100 ms"),
            )
        ]
    with _broker() as port:
        return [
            _json_messages(port, 50_000 if quick else 200_000),
            _json_batch(port, 200 if quick else 1000),
            _latency(port, 20 if quick else 100),
        ]
