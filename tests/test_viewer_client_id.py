"""A window that views a PostgreSQL history another recorder writes must not take the
recorder's MQTT session: with a fixed ``client_id`` the broker allows one connection per id, so
a viewer with the recorder's id would push the recorder off (and be pushed off in turn). Against
a real mosquitto and a real PostgreSQL."""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path

import pytest

from tests.mqtt_broker import Mosquitto, find_mosquitto
from twinviewer.session import TwinSession

psycopg = pytest.importorskip("psycopg", reason="psycopg 3 is not installed (the postgres extra)")
paho = pytest.importorskip("paho.mqtt.client")

from twinviewer.history.postgres import PostgresHistoryStore  # noqa: E402

pytestmark = pytest.mark.skipif(find_mosquitto() is None, reason="mosquitto is not installed")


def _project(building: Path, broker: Mosquitto, url: str) -> Path:
    text = building.read_text() + (
        f"sources:\n  - {{type: mqtt, id: plant, url: '{broker.url}', topic: 'p/{{sensor}}', "
        f"qos: 1, client_id: plant-recorder}}\nhistory: {{url: '{url}'}}\n"
    )
    path = building.with_name("viewer.twin.yaml")
    path.write_text(text)
    return path


def test_a_viewer_window_leaves_the_recorders_session_alone(
    building: Path, pg_url: str, tmp_path: Path
) -> None:
    broker = Mosquitto(tmp_path / "broker").start()
    url = f"{pg_url}?schema=view_{uuid.uuid4().hex[:10]}"
    try:
        path = _project(building, broker, url)
        ids = ["F0_T", "F1_T", "F2_CO"]
        writer = PostgresHistoryStore(url, ids)  # the recorder (twinviewer record) holds the lock
        drops: list[object] = []
        connected = threading.Event()
        rec = paho.Client(
            callback_api_version=paho.CallbackAPIVersion.VERSION2,
            client_id="plant-recorder",
            clean_session=False,
        )
        rec.on_connect = lambda *a: connected.set()
        rec.on_disconnect = lambda *a: drops.append(a)
        rec.connect("127.0.0.1", broker.port)
        rec.loop_start()
        assert connected.wait(5)
        session = TwinSession.open(path)
        try:
            session.open_history()
            assert session.recorder is None, "another recorder writes: the window only views"
            session.sources = session.create_sources()
            (feed,) = session.sources
            assert feed.config.client_id.startswith("plant-recorder-viewer-")
            assert feed.config.clean_start
            session.start_sources()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not session.drain():
                rec.publish("p/F0_T", json.dumps({"value": 42.0}), qos=1)
                time.sleep(0.2)
            assert session.state.value[0] == 42.0  # the viewer sees the live values...
            time.sleep(1.0)
            assert drops == [], "...and the recorder's connection was never taken over"
        finally:
            session.close()
            rec.loop_stop()
            rec.disconnect()
            writer.close()
    finally:
        broker.stop()


def test_the_writing_window_keeps_the_projects_client_id(
    building: Path, pg_url: str, tmp_path: Path
) -> None:
    broker = Mosquitto(tmp_path / "broker").start()
    url = f"{pg_url}?schema=view_{uuid.uuid4().hex[:10]}"
    try:
        session = TwinSession.open(_project(building, broker, url))
        try:
            session.open_history()
            assert session.recorder is not None  # no other recorder: the window records
            (feed,) = session.create_sources()
            assert feed.config.client_id == "plant-recorder"
        finally:
            session.close()
    finally:
        broker.stop()
