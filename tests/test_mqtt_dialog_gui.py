"""The MQTT source dialog in the window (pytest-qt under Xvfb): discovery against a real
mosquitto fed by `twinviewer simulate`, then *Add source* writes the project copy's sources."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from tests.conftest import BUILDING_PROJECT  # noqa: E402
from tests.mqtt_broker import Mosquitto, find_mosquitto, free_port, simulating  # noqa: E402
from twinviewer.core.project import MqttSource, load_project  # noqa: E402

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(find_mosquitto() is None, reason="mosquitto is not installed"),
]

PUBLISHER_SOURCE = """
sources:
  - type: mqtt
    enabled: false
    url: "mqtt://127.0.0.1:1883"
    topic: "plant/{component}/{sensor}"
    format: json
"""


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    b = Mosquitto(tmp_path / "broker").start()
    yield b
    b.stop()


@pytest.fixture
def simulated(broker: Mosquitto, corpus: Path, tmp_path: Path) -> Iterator[None]:
    """`twinviewer simulate` of the building (its own copy, which names the MQTT topics)."""
    folder = tmp_path / "publisher"
    folder.mkdir()
    model = corpus / "meshes" / "gltf" / "no_indices_3storybuilding.glb"
    path = folder / "building.twin.yaml"
    path.write_text(BUILDING_PROJECT.format(model=model) + PUBLISHER_SOURCE)
    with simulating(path, broker.url, "plant/#"):
        yield


def open_and_wait(qtbot, window, path: Path) -> None:
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        window.open_project(path)


def test_discover_and_add_an_mqtt_source(
    qtbot, window, building: Path, broker: Mosquitto, simulated: None
) -> None:
    from twinviewer.ui.data_sources.mqtt_dialog import FORMAT, RATE, SENSOR, TOPIC

    building.write_text("# the building, hand-written\n" + building.read_text())
    open_and_wait(qtbot, window, building)
    from twinviewer.ui.data_sources.feature import DataSourcesFeature

    feature = window.feature(DataSourcesFeature)
    assert feature.panel.add_mqtt_button.isEnabled()
    assert window.action("sources.add_mqtt").isEnabled()
    feature.panel.add_mqtt_button.click()
    from twinviewer.ui.data_sources.mqtt_dialog import QtMqttSourceDialog

    dlg = window.findChild(QtMqttSourceDialog)
    assert dlg is not None and dlg.isVisible()

    # a closed port: said plainly
    dlg.url_edit.setText(f"mqtt://127.0.0.1:{free_port()}")
    with qtbot.waitSignal(dlg.tested, timeout=10000) as tested:
        dlg.test_button.click()
    assert tested.args[0] is False
    assert "connection refused" in dlg.connection_label.text()

    dlg.url_edit.setText(broker.url)
    with qtbot.waitSignal(dlg.tested, timeout=10000) as tested:
        dlg.test_button.click()
    assert tested.args == [True, f"connected to 127.0.0.1:{broker.port} (no TLS)"]

    dlg.filter_edit.setText("plant/#")
    dlg.seconds_spin.setValue(1.5)
    with qtbot.waitSignal(dlg.discovered, timeout=15000) as found:
        dlg.discover_button.click()
        qtbot.waitUntil(lambda: dlg.progress.value() > 0, timeout=5000)
        assert dlg.progress.isVisible() and not dlg.discover_button.isEnabled()
    assert found.args == [3]
    assert not dlg.progress.isVisible()
    topics = [dlg.text(r, TOPIC) for r in range(dlg.table.rowCount())]
    assert topics == ["plant/floor_0/F0_T", "plant/floor_1/F1_T", "plant/floor_2/F2_CO"]
    assert all(float(dlg.text(r, RATE)) > 0 for r in range(3))
    assert all(dlg.text(r, FORMAT) == "json-value" for r in range(3))
    assert [dlg.text(r, SENSOR) for r in range(3)] == ["F0_T", "F1_T", "F2_CO"]
    assert dlg.template_edit.text() == "plant/{component}/{sensor}"
    assert dlg.format_combo.currentText() == "json"
    assert "maps 3 of 3 topics" in dlg.mapped_label.text()

    # an edited template maps what it maps
    dlg.template_edit.setText("plant/floor_0/{sensor}")
    assert [dlg.text(r, SENSOR) for r in range(3)] == ["F0_T", "–", "–"]
    assert "maps 1 of 3 topics" in dlg.mapped_label.text()
    dlg.template_edit.setText("plant/+/{sensor}")

    dlg.id_edit.setText("plant_broker")
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        dlg.add_button.click()
    project, _ = load_project(building)
    assert project.sources[-1] == MqttSource(
        type="mqtt", id="plant_broker", url=broker.url, topic="plant/+/{sensor}"
    )
    assert building.read_text().startswith("# the building, hand-written\n")
    # the reopened twin runs the new source, and its samples arrive
    session = window.session
    src = next(s for s in session.sources if s.id == "plant_broker")
    qtbot.waitUntil(lambda: src.status.accepted > 0, timeout=10000)


def test_a_bad_template_is_refused_and_nothing_is_written(
    qtbot, window, building: Path, broker: Mosquitto
) -> None:
    from twinviewer.ui.data_sources.mqtt_dialog import QtMqttSourceDialog

    open_and_wait(qtbot, window, building)
    before = building.read_text()
    dlg = QtMqttSourceDialog(building, window.session.sensors, [], window)
    qtbot.addWidget(dlg)
    dlg.url_edit.setText(broker.url)
    dlg.template_edit.setText("plant/{nope}")
    dlg.add_button.click()
    assert "unknown placeholder" in dlg.status.text()
    assert dlg.written is None and building.read_text() == before


def test_a_typed_password_goes_to_a_variable_unless_the_user_says_otherwise(
    qtbot, window, building: Path, broker: Mosquitto, monkeypatch: pytest.MonkeyPatch
) -> None:
    from twinviewer.ui.data_sources import mqtt_dialog
    from twinviewer.ui.data_sources.mqtt_dialog import QtMqttSourceDialog

    open_and_wait(qtbot, window, building)
    before = building.read_text()
    asked: list[str] = []

    def answer(reply: str | None):
        def ask(_parent: object, source_id: str) -> str | None:
            asked.append(source_id)
            return reply

        return ask

    def dialog() -> QtMqttSourceDialog:
        dlg = QtMqttSourceDialog(building, window.session.sensors, [], window)
        qtbot.addWidget(dlg)
        dlg.id_edit.setText("site broker")
        dlg.url_edit.setText(broker.url)
        dlg.template_edit.setText("plant/{sensor}")
        dlg.user_edit.setText("alice")
        dlg.password_edit.setText("s3cret-pw")
        return dlg

    # not now: nothing written, the dialog stays open
    monkeypatch.setattr(mqtt_dialog, "ask_password_storage", answer(None))
    dlg = dialog()
    dlg.add_button.click()
    assert asked == ["site broker"] and dlg.written is None
    assert building.read_text() == before

    # the suggested variable: the file names it and holds no password
    assert mqtt_dialog.password_variable("site broker") == "MQTT_SITE_BROKER_PASSWORD"
    monkeypatch.setattr(mqtt_dialog, "ask_password_storage", answer("MQTT_SITE_BROKER_PASSWORD"))
    dlg.add_button.click()
    text = building.read_text()
    assert "password_env: MQTT_SITE_BROKER_PASSWORD" in text
    assert "s3cret-pw" not in text
    source = load_project(building)[0].sources[-1]
    assert (source.username, source.password, source.password_env) == (
        "alice", None, "MQTT_SITE_BROKER_PASSWORD"
    )  # fmt: skip

    # written as typed only when the user asks for it
    monkeypatch.setattr(mqtt_dialog, "ask_password_storage", answer(""))
    building.write_text(before)
    dlg = dialog()
    dlg.add_button.click()
    assert load_project(building)[0].sources[-1].password == "s3cret-pw"
