"""`twinviewer simulate --mqtt` obeys the project's commands, through a real mosquitto.

The publisher is the CLI in a subprocess (the mine demo, sped up); the test publishes commands
with paho the way the command engine does (its JSON template, QoS 1) and reads the read-back
topic. Malformed commands are counted and the publisher keeps running. The Sparkplug case runs
:func:`publish_mqtt` in a thread on a small project with an NCMD/DCMD command.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.mqtt_broker import Mosquitto, find_mosquitto
from twinviewer.core.project import Project, SimulatorSource, load_project
from twinviewer.session.demos import demo_copy
from twinviewer.sources import sparkplug as spb
from twinviewer.sources.command_listener import read_value, value_path
from twinviewer.sources.mqtt_publish import publish_mqtt
from twinviewer.sources.simulator import SignalModel

pytestmark = pytest.mark.skipif(
    find_mosquitto() is None,
    reason="mosquitto is not installed (apt install mosquitto): commands need a real broker",
)

COMMAND_TOPIC = "twinviewer/cmd/mine/l3_fan_speed"
READBACK_TOPIC = "twinviewer/mine/l3_booster_fan/l3_fan_speed"


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    b = Mosquitto(tmp_path_factory.mktemp("mosquitto")).start()
    yield b
    b.stop()


class Listener:
    """A paho client: subscribes, keeps every JSON message's value per topic, publishes QoS 1."""

    def __init__(self, url: str, topics: list[str]) -> None:
        host, port = url.removeprefix("mqtt://").split(":")
        self.values: dict[str, list[float]] = {}
        self.raw: dict[str, list[bytes]] = {}
        self.lock = threading.Lock()
        self.client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"test-{uuid.uuid4().hex[:8]}",
        )
        ready = threading.Event()
        self.client.on_connect = lambda c, u, f, r, p: (
            [c.subscribe(t, 1) for t in topics],
            ready.set(),
        )
        self.client.on_message = self._message
        self.client.connect(host, int(port))
        self.client.loop_start()
        assert ready.wait(10), "no connection to the test broker"

    def _message(self, client: Any, userdata: Any, msg: Any) -> None:
        with self.lock:
            self.raw.setdefault(msg.topic, []).append(bytes(msg.payload))
            try:
                v = json.loads(msg.payload)["value"]
            except (ValueError, KeyError, TypeError):
                return
            self.values.setdefault(msg.topic, []).append(float(v))

    def last(self, topic: str) -> float | None:
        with self.lock:
            got = self.values.get(topic)
            return got[-1] if got else None

    def wait_for(self, topic: str, ok: Any, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            v = self.last(topic)
            if v is not None and ok(v):
                return v
            time.sleep(0.05)
        raise AssertionError(f"{topic}: last value {self.last(topic)} after {timeout} s")

    def publish(self, topic: str, payload: bytes) -> None:
        info = self.client.publish(topic, payload, qos=1)
        info.wait_for_publish(5)
        assert info.is_published()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def mine(tmp_path: Path) -> tuple[Path, Project]:
    path, _ = demo_copy("mine", tmp_path, 0, False)
    return path, load_project(path)[0]


def test_value_is_read_where_the_template_puts_it() -> None:
    default = '{"value": {value}, "correlation": "{correlation}"}'
    assert value_path(default) == ["value"]
    assert read_value(b'{"value": 70, "correlation": "c1"}', ["value"]) == 70.0
    nested = '{"set": {"speed": {value}}, "by": "{user}"}'
    assert value_path(nested) == ["set", "speed"]
    assert read_value(b'{"set": {"speed": 55.5}, "by": "op"}', ["set", "speed"]) == 55.5
    assert value_path("{value}") == []
    assert read_value(b"42", []) == 42.0
    assert read_value(b'{"value": "61"}', ["value"]) == 61.0  # a number in a string
    for bad in (b'{"value": ', b'{"value": "fast"}', b"[]", b'{"value": NaN}', b"\xff"):
        with pytest.raises(ValueError):
            read_value(bad, ["value"])


def test_simulate_mqtt_obeys_a_command_and_counts_malformed_ones(
    broker: Mosquitto, mine: tuple[Path, Project]
) -> None:
    path, project = mine
    (command,) = project.commands
    assert command.target.type == "mqtt" and command.target.topic == COMMAND_TOPIC
    sub = Listener(broker.url, [READBACK_TOPIC, "twinviewer/mine/l3_booster_fan/l3_fan_vibration"])
    log = path.parent / "simulate.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "twinviewer", "simulate", str(path), "--mqtt", broker.url]
            + ["--rate", "5", "--speed", "4", "--duration", "60"],
            stdout=subprocess.PIPE,
            stderr=err,
        )
    try:
        assert sub.wait_for(READBACK_TOPIC, lambda v: v == 100.0, 30) == 100.0
        time.sleep(0.5)  # the publisher has subscribed before it publishes; be generous
        for bad in (b'{"value": ', b'{"value": "fast"}', b"not json at all"):
            sub.publish(COMMAND_TOPIC, bad)
        time.sleep(0.5)
        assert proc.poll() is None, log.read_text(errors="replace")
        assert sub.last(READBACK_TOPIC) == 100.0  # nothing obeyed
        payload = command.target.payload.replace("{value}", "70").replace("{correlation}", "c-1")
        sub.publish(COMMAND_TOPIC, payload.encode())
        # the drive ramps 3 %/s of simulated time (x4): 70 % read back within a few seconds
        sub.wait_for(READBACK_TOPIC, lambda v: v < 100.0, 5)
        assert sub.wait_for(READBACK_TOPIC, lambda v: v == 70.0, 15) == 70.0
        with sub.lock:
            ramp = sub.values[READBACK_TOPIC]
        assert any(70.0 < v < 100.0 for v in ramp)  # it ramped, not jumped
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        sub.close()
    assert proc.returncode == 0, log.read_text(errors="replace")
    stats = json.loads(out)
    assert stats["commands"] == 1
    assert stats["commands_malformed"] == 3
    assert stats["commands_refused"] == 0
    assert "command on twinviewer/cmd/mine/l3_fan_speed ignored" in log.read_text()


SPARKPLUG_PROJECT: dict[str, Any] = {
    "twinviewer": 1,
    "name": "spb commands",
    "models": ["none.glb"],
    "sensors": [
        {"id": "speed", "quantity": "speed", "unit": "%", "range": [0, 100]},
        {"id": "vibration", "quantity": "vibration", "unit": "mm/s", "range": [0, 12]},
    ],
    "sources": [
        {
            "type": "simulator",
            "setpoints": [
                {
                    "sensor": "speed",
                    "initial": 100,
                    "drives": [{"sensor": "vibration", "power": 2, "lag": 0.5}],
                }
            ],
        },
        {
            "type": "mqtt",
            "id": "mqtt",
            "url": "mqtt://127.0.0.1:1",
            "topic": "spBv1.0/plant/+/edge1",
            "format": "sparkplug_b",
        },
    ],
    "commands": [
        {
            "id": "speed",
            "min": 0,
            "max": 100,
            "target": {
                "type": "sparkplug",
                "source": "mqtt",
                "group": "plant",
                "node": "edge1",
                "metric": "speed",
            },
            "readback": "speed",
        },
        {
            "id": "speed_dev",
            "target": {
                "type": "sparkplug",
                "source": "mqtt",
                "group": "plant",
                "node": "edge1",
                "device": "fan",
                "metric": "Setpoint",
            },
            "readback": "speed",
        },
    ],
}


def test_sparkplug_ncmd_and_dcmd_are_obeyed(broker: Mosquitto) -> None:
    project = Project.model_validate(SPARKPLUG_PROJECT)
    sub = Listener(broker.url, ["spBv1.0/plant/NDATA/edge1", "spBv1.0/plant/NBIRTH/edge1"])
    seen: list[float] = []
    births: list[str] = []

    def decode(_c: Any, _u: Any, msg: Any) -> None:
        if "NBIRTH" in msg.topic:
            births.append(msg.topic)
        p = spb.decode_payload(msg.payload)
        for m in p.metrics:
            if m.name == "speed" or m.alias == 1:
                seen.append(float(m.value))  # type: ignore[arg-type]

    sub.client.on_message = decode
    stop = threading.Event()
    result: dict[str, Any] = {}
    thread = threading.Thread(
        target=lambda: result.update(
            publish_mqtt(project, broker.url, rate=10, stop=stop, client_id="").as_dict()
        )
    )
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not seen and time.monotonic() < deadline:
            time.sleep(0.05)
        assert seen and seen[-1] == 100.0
        time.sleep(0.3)

        def metric(name: str, value: float) -> bytes:
            m = spb.double_metric(name, value, int(time.time() * 1000))
            return spb.encode_payload(spb.Payload(timestamp=0, metrics=[m]))

        sub.publish("spBv1.0/plant/NCMD/edge1", metric("speed", 60.0))
        deadline = time.monotonic() + 5
        while seen[-1] != 60.0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert seen[-1] == 60.0
        sub.publish("spBv1.0/plant/DCMD/edge1/fan", metric("Setpoint", 45.0))
        sub.publish("spBv1.0/plant/DCMD/edge1/fan", b"\x12\x7fbroken")
        deadline = time.monotonic() + 5
        while seen[-1] != 45.0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert seen[-1] == 45.0
        # a rebirth request on the node's NCMD still works beside the commands
        rebirth = spb.Metric(name="Node Control/Rebirth", datatype=spb.DataType.BOOLEAN, value=True)
        before = len(births)
        sub.publish(
            "spBv1.0/plant/NCMD/edge1",
            spb.encode_payload(spb.Payload(timestamp=0, metrics=[rebirth])),
        )
        deadline = time.monotonic() + 5
        while len(births) == before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(births) > before
    finally:
        stop.set()
        thread.join(20)
        sub.close()
    assert result["commands"] == 2
    assert result["commands_malformed"] == 1
    assert result["births"] >= 2


@pytest.mark.slow
def test_end_to_end_command_confirmed_and_the_fan_vibrates_less(
    broker: Mosquitto, tmp_path: Path
) -> None:
    """The acceptance of issue 16: `twinviewer simulate --mqtt` feeds the broker, `twinviewer
    record` keeps the history, and `twinviewer command mine l3_fan_speed 70 --user operator
    --yes --json` reports confirmed; the fan's vibration in the history falls afterwards."""
    import os

    import numpy as np

    from twinviewer.core.users import UserBook
    from twinviewer.history.store import HistoryStore

    path, _ = demo_copy("mine", tmp_path, 0, False)
    path.write_text(path.read_text().replace("mqtt://127.0.0.1:1883", broker.url))
    project = load_project(path)[0]
    UserBook(path.parent / project.command_settings.users).add(
        "operator", "operator", "operator-pw-1"
    )
    env = {**os.environ, "TV_PASSWORD": "operator-pw-1"}

    def cli(*args: str, **kw: Any) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "twinviewer", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            **kw,
        )

    sub = Listener(broker.url, [READBACK_TOPIC])
    sim = cli("simulate", str(path), "--mqtt", broker.url, "--speed", "2", "--duration", "150")
    record = None
    try:
        sub.wait_for(READBACK_TOPIC, lambda v: v == 100.0, 30)
        record = cli("record", str(path), "--source", "mqtt", "--duration", "80", "--json")
        time.sleep(8.0)  # history before the command (16 simulated seconds)
        sent_at = time.time()
        cmd = subprocess.run(
            [sys.executable, "-m", "twinviewer", "command", str(path), "l3_fan_speed", "70"]
            + ["--user", "operator", "--password-env", "TV_PASSWORD"]
            + ["--reason", "level 3 fan bearing running hot", "--yes", "--json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert cmd.returncode == 0, cmd.stderr + cmd.stdout
        outcome = json.loads(cmd.stdout)
        assert outcome["state"] == "confirmed", outcome
        assert abs(float(outcome["readback"]) - 70.0) <= 1.0
        out, err = record.communicate(timeout=150)
        assert record.returncode == 0, err
    finally:
        for proc in (sim, record):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.communicate(timeout=30)
        sub.close()
    ids = [s.id for s in project.sensors]
    store = HistoryStore.open(path.with_name("mine.history"), ids)
    try:
        t, _, _, vib = store.series(ids.index("l3_fan_vibration"), 0, 2e9, 1_000_000)
        ts, _, _, speed = store.series(ids.index("l3_fan_speed"), 0, 2e9, 1_000_000)
    finally:
        store.close()
    assert speed[ts < sent_at].max() == 100.0 and speed[-1] == 70.0
    # What the fan would have done without the command: the same simulator, run here. The
    # recorded samples are the model's steps k / rate of simulated time, stamped at
    # start + t / speed: find the step of the first one, then every sample's step.
    cfg = project.sources[0]
    assert isinstance(cfg, SimulatorSource)
    rate, speed_x = cfg.rate, 2.0
    times = np.arange(int(300 * rate)) / rate
    ref = SignalModel(project.sensors, cfg).run(times)[:, ids.index("l3_fan_vibration")]
    head = vib[:20]
    errors = [np.abs(ref[k : k + 20] - head).max() for k in range(len(ref) - 20)]
    k0 = int(np.argmin(errors))
    assert errors[k0] < 1e-6, "the recorded vibration is not the simulator's"
    step = k0 + np.round((t - t[0]) * rate * speed_x).astype(int)
    before = t < sent_at
    np.testing.assert_allclose(vib[before], ref[step[before]], rtol=1e-6)
    # once the drive is at 70 % and the vibration's 6 s lag has run out (5 lags), the fan vibrates
    # 0.7^2 = 0.49 of what it would have: the fault still grows, but at half the amplitude
    slowed = ts[np.flatnonzero(speed <= 70.0)[0]]
    after = t > slowed + 30.0 / speed_x
    assert after.sum() > 20
    np.testing.assert_allclose(vib[after] / ref[step[after]], 0.49, rtol=0.02)
    assert vib[after].mean() < 0.55 * ref[step[after]].mean()
