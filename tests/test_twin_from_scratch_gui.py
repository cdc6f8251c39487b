"""The authoring acceptance: a twin built entirely in the window, then fed by a real broker.

A bare model from the corpus becomes a project (*File > New twin from model…*); two sensors are
added in the inspector, each bound by picking its part in the 3D view; a plant's tag list adds a
third; *Add MQTT source…* tests the broker and writes the source; then ``mosquitto_pub`` (the
broker's own command-line client, not our code) publishes values and the right parts take the
right colours. Every edit is undone and redone once on the way, and the file keeps its comments.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from tests.mqtt_broker import Mosquitto, find_mosquitto  # noqa: E402
from tests.test_binding_gui import click_3d  # noqa: E402
from twinviewer.core.colour import STATUS_COLOURS, Status  # noqa: E402
from twinviewer.core.project import MqttSource, load_project  # noqa: E402
from twinviewer.sources.base import SourceState  # noqa: E402
from twinviewer.ui import authoring  # noqa: E402

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(
        find_mosquitto() is None or shutil.which("mosquitto_pub") is None,
        reason="mosquitto and mosquitto_pub (apt install mosquitto mosquitto-clients) are needed",
    ),
]

TAGS = """\
Tag,Description,EU,Equipment,LRV,URV,H,HH
F2_CO,Second floor CO,ppm,flor_2,0,50,25,35
"""


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    b = Mosquitto(tmp_path / "broker").start()
    yield b
    b.stop()


def publish(broker: Mosquitto, sensor: str, value: float) -> None:
    subprocess.run(
        ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1"]
        + ["-t", f"building/{sensor}", "-m", f'{{"value": {value}}}'],
        check=True,
        timeout=10,
    )


def reopened(qtbot, window, action) -> None:
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        action()


def undo_redo(qtbot, window, path: Path) -> None:
    """The last edit undone (the file as before it) and redone (the file as after it)."""
    after = path.read_text()
    reopened(qtbot, window, window.action("edit.undo").trigger)
    assert path.read_text() != after
    reopened(qtbot, window, window.action("edit.redo").trigger)
    assert path.read_text() == after


def sensor_dialog(qtbot, window, component: str, fields: dict[str, str]):
    """A click on ``component`` in 3D selects it; *Add sensor*; the fields typed."""
    click_3d(qtbot, window, component)
    s = window.session
    assert window.workbench.selection == (s.model.index_of(component),)
    inspector = window.features["inspector"]
    inspector.inspector.add_button.click()
    dialog = inspector.dialog
    for name, text in fields.items():
        dialog.edits[name].setText(text)
    return dialog


def test_a_twin_built_in_the_window_goes_live_over_mqtt(
    qtbot, window, corpus: Path, tmp_path: Path, broker: Mosquitto, monkeypatch
) -> None:
    model = tmp_path / "building.glb"
    shutil.copy(corpus / "meshes" / "gltf" / "no_indices_3storybuilding.glb", model)
    path = model.with_suffix(".twin.yaml")

    # 1. a new twin from the bare model
    monkeypatch.setattr(authoring, "ask_model", lambda _host: model)
    reopened(qtbot, window, window.action("file.new_twin").trigger)
    comments = [x for x in path.read_text().splitlines() if x.lstrip().startswith("#")]
    assert comments and window.session.sensors == []
    window.view.scene.standard_view("front")
    window.view.render_now()

    # 2. a sensor on the part clicked in 3D
    dialog = sensor_dialog(qtbot, window, "floor_0", {
        "id": "F0_T", "name": "Ground floor temperature", "quantity": "temperature",
        "unit": "degC", "range.min": "0", "range.max": "100", "warning.high": "60",
        "alarm.high": "80",
    })  # fmt: skip
    assert dialog.component == "floor_0" and dialog.ok_button.isEnabled()
    reopened(qtbot, window, dialog.ok_button.click)
    undo_redo(qtbot, window, path)

    # 3. a second sensor: started on floor_0, re-bound with Pick in 3D to floor_1
    window.view.scene.standard_view("front")
    window.view.render_now()
    dialog = sensor_dialog(qtbot, window, "floor_0", {
        "id": "F1_T", "name": "First floor temperature", "quantity": "temperature",
        "unit": "degC", "range.min": "0", "range.max": "100", "alarm.high": "80",
    })  # fmt: skip
    dialog.pick_button.click()
    assert not dialog.isVisible()
    click_3d(qtbot, window, "floor_1")
    assert dialog.isVisible() and dialog.component == "floor_1"
    reopened(qtbot, window, dialog.ok_button.click)
    undo_redo(qtbot, window, path)

    # 4. the plant's tag list: its misspelt equipment bound to the suggestion in the preview
    tags = tmp_path / "tags.csv"
    tags.write_text(TAGS)
    preview = window.features["tags_import"].preview(tags)
    assert preview is not None
    combo = preview.unbound_combo("F2_CO")
    assert combo.itemText(1) == "floor_2 (suggested)"
    combo.setCurrentIndex(1)
    reopened(qtbot, window, preview.import_button.click)
    undo_redo(qtbot, window, path)

    # 5. the MQTT source: the connection tested, the source written
    from twinviewer.ui.data_sources.mqtt_dialog import QtMqttSourceDialog

    window.features["data_sources"].panel.add_mqtt_button.click()
    mqtt = window.findChild(QtMqttSourceDialog)
    assert mqtt is not None
    mqtt.url_edit.setText(broker.url)
    with qtbot.waitSignal(mqtt.tested, timeout=10000) as tested:
        mqtt.test_button.click()
    assert tested.args[0] is True
    mqtt.id_edit.setText("bms")
    mqtt.template_edit.setText("building/{sensor}")
    mqtt.format_combo.setCurrentText("json")
    reopened(qtbot, window, mqtt.add_button.click)

    # the file: every comment kept, the three sensors bound, the source there
    text = path.read_text()
    assert all(c in text for c in comments)
    project, _ = load_project(path)
    bound = {s.id: s.component for s in project.sensors}
    assert bound == {"F0_T": "floor_0", "F1_T": "floor_1", "F2_CO": "floor_2"}
    assert project.sources == [
        MqttSource(type="mqtt", id="bms", url=broker.url, topic="building/{sensor}")
    ]

    # 6. live: values published by mosquitto_pub colour the parts they are bound to
    s = window.session
    source = next(x for x in s.sources if x.id == "bms")
    qtbot.waitUntil(lambda: source.status.state == SourceState.LIVE, timeout=15000)
    publish(broker, "F0_T", 95.0)  # above its alarm
    publish(broker, "F1_T", 20.0)  # normal
    publish(broker, "F2_CO", 30.0)  # above its warning, below its alarm
    floor = {c: s.model.index_of(c) for c in ("floor_0", "floor_1", "floor_2")}

    def state(c: str) -> int:
        return int(window.session.component_state[floor[c]])

    qtbot.waitUntil(lambda: source.status.accepted >= 3, timeout=15000)
    qtbot.waitUntil(lambda: state("floor_2") == Status.WARNING, timeout=10000)
    assert state("floor_0") == Status.ALARM and state("floor_1") == Status.NORMAL
    # what the 3D view draws: each floor's cells in its component's colour
    window.tick(force=True)
    cells = window.view.scene.cell_colours()
    s = window.session
    for c, i in floor.items():
        drawn = cells[s.model.cell_component == i]
        assert len(drawn) and (drawn == s.component_rgba[i]).all(), c
    alarm_rgb = STATUS_COLOURS[Status.ALARM][:3]
    colours = {c: tuple(cells[s.model.cell_component == i][0][:3]) for c, i in floor.items()}
    assert len(set(colours.values())) == 3  # three states, three colours
    assert not np.array_equal(colours["floor_1"], alarm_rgb)
