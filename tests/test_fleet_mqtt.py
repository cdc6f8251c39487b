"""Fleet units from a real broker: discovered from ``{unit}`` topics and from Sparkplug B device
births, refused (and counted) when the fleet does not discover, and the fleet demo published by
``twinviewer simulate`` as one topic tree per unit."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mqtt_broker import Mosquitto, find_mosquitto
from tests.test_fleet import _stl
from tests.test_mqtt import client, wait_until
from twinviewer.session import TwinSession
from twinviewer.session.demos import demo_copy
from twinviewer.sources import sparkplug as spb

pytestmark = pytest.mark.skipif(
    find_mosquitto() is None, reason="mosquitto is not installed: these tests need a real broker"
)

PROJECT = """\
name: Pumps
models: [pumps.stl]
fleet: {{units: [p1], discover: {discover}}}
sensors:
  - {{id: temp, quantity: temperature, unit: degC, component: casing, range: [0, 100],
      alarm: {{high: 80}}}}
  - {{id: axle4_temperature, quantity: temperature, unit: degC, component: outlet,
      range: [0, 150]}}
sources:
  - {{type: mqtt, url: "{url}", topic: "{topic}", format: {fmt}}}
"""


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    b = Mosquitto(tmp_path_factory.mktemp("mosquitto")).start()
    yield b
    b.stop()


def _open(tmp_path: Path, url: str, topic: str, fmt: str, discover: bool) -> TwinSession:
    _stl(tmp_path / "pumps.stl")
    path = tmp_path / "pumps.twin.yaml"
    path.write_text(PROJECT.format(url=url, topic=topic, fmt=fmt, discover=str(discover).lower()))
    s = TwinSession.open(path)
    s.sources = s.create_sources()
    s.start_sources()
    assert wait_until(lambda: s.sources[0].status.state.value == "live", 10), s.sources[0].status
    return s


def _drain_until(s: TwinSession, pred, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s.drain()
        if pred():
            return True
        time.sleep(0.02)
    return pred()


@pytest.mark.skipif(shutil.which("mosquitto_pub") is None, reason="mosquitto_pub not installed")
def test_units_discovered_from_topics(broker: Mosquitto, tmp_path: Path) -> None:
    s = _open(tmp_path, broker.url, "plant/{unit}/{sensor}", "json", discover=True)
    try:
        for unit, value in (("p1", 20.0), ("pump-7", 91.5)):
            subprocess.run(
                ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1"]
                + ["-t", f"plant/{unit}/temp", "-m", f'{{"value": {value}}}'],
                check=True,
                timeout=10,
            )
        assert s.fleet is not None
        assert _drain_until(s, lambda: "pump-7" in s.fleet.units)
        i = s.sensor_index["pump-7/temp"]
        assert _drain_until(s, lambda: s.state.value[i] == 91.5)
        assert s.state.value[s.sensor_index["p1/temp"]] == 20.0
        s.update()
        rows = {r.unit: r for r in s.fleet.rows()}
        assert rows["pump-7"].alarms == 1  # its own alarm; p1's is its own too
        assert rows["p1"].alarms == 0
    finally:
        s.close()


def test_unknown_unit_rejected_when_not_discovering(broker: Mosquitto, tmp_path: Path) -> None:
    s = _open(tmp_path, broker.url, "plant/{unit}/{sensor}", "json", discover=False)
    try:
        with client(broker.port) as c:
            c.publish("plant/intruder/temp", b"50", 1).wait_for_publish(5)
            c.publish("plant/p1/temp", b"40", 1).wait_for_publish(5)
        i = s.sensor_index["p1/temp"]
        assert _drain_until(s, lambda: s.state.value[i] == 40.0)
        assert s.fleet is not None and s.fleet.units == ["p1"]
        assert wait_until(lambda: s.sources[0].status.rejected.get("unknown_sensor") == 1)
    finally:
        s.close()


def test_units_discovered_from_sparkplug_births(broker: Mosquitto, tmp_path: Path) -> None:
    """A DBIRTH of device loco-07 with the metric axle4_temperature is the sensor
    loco-07/axle4_temperature; its DDATA by alias reaches the same sensor."""
    s = _open(tmp_path, broker.url, "spBv1.0/rail/#", "sparkplug_b", discover=True)
    try:
        ms = int(time.time() * 1000) - 5000
        nbirth = spb.Payload(
            timestamp=ms,
            seq=0,
            metrics=[spb.Metric(name="bdSeq", datatype=spb.DataType.INT64, value=0)],
        )
        with client(broker.port) as c:
            c.publish("spBv1.0/rail/NBIRTH/depot", spb.encode_payload(nbirth), 1)
            for k, dev in enumerate(("loco-07", "loco-08")):
                dbirth = spb.Payload(
                    timestamp=ms + 100,
                    seq=1 + 2 * k,
                    metrics=[spb.double_metric("Bearings/axle4_temperature", 60.0 + k, ms, 5)],
                )
                ddata = spb.Payload(
                    timestamp=ms + 200,
                    seq=2 + 2 * k,
                    metrics=[spb.double_metric(None, 70.0 + k, ms + 200, 5)],
                )
                c.publish(f"spBv1.0/rail/DBIRTH/depot/{dev}", spb.encode_payload(dbirth), 1)
                c.publish(f"spBv1.0/rail/DDATA/depot/{dev}", spb.encode_payload(ddata), 1)
            time.sleep(0.3)
        assert s.fleet is not None
        assert _drain_until(s, lambda: {"loco-07", "loco-08"} <= set(s.fleet.units))
        i = s.sensor_index["loco-07/axle4_temperature"]
        j = s.sensor_index["loco-08/axle4_temperature"]
        assert _drain_until(s, lambda: s.state.value[i] == 70.0 and s.state.value[j] == 71.0)
        assert s.sources[0].status.rejected.get("unknown_sensor", 0) == 0
    finally:
        s.close()


@pytest.mark.slow
def test_simulate_publishes_one_topic_tree_per_unit(broker: Mosquitto, tmp_path: Path) -> None:
    """``twinviewer simulate`` on the fleet demo feeds the demo's MQTT source: all twelve
    locomotives, each under its own topics."""
    path, _ = demo_copy("fleet", tmp_path / "demo", models=False)
    path.write_text(path.read_text().replace("mqtt://127.0.0.1:1883", broker.url))
    s = TwinSession.open(path)
    s.sources = s.create_sources(only=["mqtt"])
    s.start_sources()
    topics: list[str] = []
    with client(broker.port) as c:
        c.on_message = lambda _c, _u, m: topics.append(m.topic)
        c.subscribe("twinviewer/fleet/#", 0)
        proc = subprocess.run(
            [sys.executable, "-m", "twinviewer", "simulate", str(path), "--mqtt", broker.url]
            + ["--duration", "3", "--rate", "1"],
            capture_output=True,
            timeout=60,
            text=True,
        )
    try:
        assert proc.returncode == 0, proc.stderr
        assert "twinviewer/fleet/loco-07/axle_box_4/axle4_bearing_temperature" in topics
        assert s.fleet is not None
        T = s.fleet.n_templates
        assert _drain_until(
            s,
            lambda: all((s.state.time[u * T : (u + 1) * T] > 0).sum() == T for u in range(12)),
        )
        assert s.fleet.units == [f"loco-{i:02d}" for i in range(1, 13)]  # no stranger
    finally:
        s.close()
