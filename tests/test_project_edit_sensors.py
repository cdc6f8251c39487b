"""remove_sensor: a sensor taken out of the project file, comments and bindings handled."""

from __future__ import annotations

from pathlib import Path

import pytest

from twinviewer.core.project import OpcUaSource, load_project
from twinviewer.core.project_edit import ProjectEditError, add_sensors, remove_sensor

PROJECT = """\
# A plant. This comment stays.
name: Plant
models: [pump.glb]
components:
  pump: {name: pump}   # the pump

# The sensors, by hand.
sensors:
  - id: T1            # bearing temperature
    quantity: temperature
    unit: degC
    component: pump
    range: [0, 100]
  # the flow meter
  - id: F1
    quantity: flow
    unit: m3/h
    range: [0, 50]
    alarm: {high: 45}
  - {id: P1, quantity: pressure, unit: bar, range: [0, 10]}  # one line

sources:
  - type: opcua
    id: plc
    endpoint: opc.tcp://localhost:4840
    nodes:
      T1: ns=2;s=T1   # temperature tag
      F1: ns=2;s=F1
# the end
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "plant.twin.yaml"
    path.write_text(PROJECT)
    return path


def sensor_ids(path: Path) -> list[str]:
    return [s.id for s in load_project(path)[0].sensors]


def nodes(path: Path) -> dict[str, str]:
    source = load_project(path)[0].sources[0]
    assert isinstance(source, OpcUaSource)
    return source.nodes


def test_remove_takes_out_only_the_sensor_and_its_binding(project: Path) -> None:
    before, _ = load_project(project)
    removed = remove_sensor(project, "F1")
    assert sensor_ids(project) == ["T1", "P1"]
    assert nodes(project) == {"T1": "ns=2;s=T1"}
    assert removed.sensor == before.sensors[1] and removed.index == 1
    assert removed.bindings == {"plc": "ns=2;s=F1"}
    text = project.read_text()
    kept = ["# A plant. This comment stays.", "# bearing temperature", "# the pump"]
    kept += ["# temperature tag", "# one line", "# the end", "# The sensors, by hand."]
    assert all(k in text for k in kept)
    assert "m3/h" not in text and "ns=2;s=F1" not in text
    # every line but the sensor's and its binding is as it was
    gone = set(PROJECT.splitlines()) - set(text.splitlines())
    assert gone == {"  - id: F1", "    unit: m3/h", "    range: [0, 50]", "    alarm: {high: 45}",
                    "    quantity: flow", "      F1: ns=2;s=F1"}  # fmt: skip


def test_remove_a_one_line_item_and_the_last(project: Path) -> None:
    remove_sensor(project, "P1")
    assert sensor_ids(project) == ["T1", "F1"]
    remove_sensor(project, "T1")
    remove_sensor(project, "F1")
    assert sensor_ids(project) == []
    assert "sensors: []" in project.read_text()
    assert nodes(project) == {}
    assert "# The sensors, by hand." in project.read_text()


def test_removed_sensor_comes_back_with_add_sensors(project: Path) -> None:
    removed = remove_sensor(project, "T1")
    restored = {"plc": {**nodes(project), "T1": removed.bindings["plc"]}}
    add_sensors(project, [removed.sensor], restored)
    assert sorted(sensor_ids(project)) == ["F1", "P1", "T1"]
    assert nodes(project) == {"F1": "ns=2;s=F1", "T1": "ns=2;s=T1"}


def test_remove_from_a_flow_list(tmp_path: Path) -> None:
    path = tmp_path / "p.twin.yaml"
    path.write_text(
        "name: X  # kept\nmodels: [m.glb]\n"
        "sensors: [{id: A, quantity: q, unit: u, range: [0, 1]},\n"
        "  {id: B, quantity: q, unit: u, range: [0, 2]}]\n# tail\n"
    )
    remove_sensor(path, "A")
    assert sensor_ids(path) == ["B"]
    assert "# kept" in path.read_text() and "# tail" in path.read_text()
    remove_sensor(path, "B")
    assert sensor_ids(path) == []


def test_unknown_sensor_leaves_the_file_alone(project: Path) -> None:
    with pytest.raises(ProjectEditError, match="no sensor with id 'X9'"):
        remove_sensor(project, "X9")
    assert project.read_text() == PROJECT


def test_an_update_rewrites_only_the_keys_that_changed(project: Path) -> None:
    """A rebind, a dragged limit, a colour map dropped back to its default: each changes its
    own lines; comments inside the entry (after the id, before an item) stay."""
    sensors = {s.id: s for s in load_project(project)[0].sensors}
    t1 = sensors["T1"].model_copy(update={"component": "pump_2"})
    f1 = sensors["F1"].model_copy(
        update={"alarm": sensors["F1"].alarm.model_copy(update={"high": 48.0}), "deadband": 0.5}
    )
    edit = add_sensors(project, [t1, f1])
    assert edit.updated == ["T1", "F1"]
    text = project.read_text()
    assert "  - id: T1            # bearing temperature\n" in text
    assert "    component: pump_2\n    range: [0, 100]\n  # the flow meter\n" in text
    assert "    alarm: {high: 48}\n    deadband: 0.5\n  - {id: P1" in text
    before, now = PROJECT.splitlines(), text.splitlines()
    assert [x for x in before if x not in now] == ["    component: pump", "    alarm: {high: 45}"]
    assert [x for x in now if x not in before] == [
        "    component: pump_2", "    alarm: {high: 48}", "    deadband: 0.5"
    ]  # fmt: skip
    after = {s.id: s for s in load_project(project)[0].sensors}
    assert after["T1"].component == "pump_2" and after["F1"].alarm.high == 48.0

    # a key dropped goes with its lines; a trailing comment on a changed one-line value stays
    project.write_text(PROJECT.replace("component: pump\n", "component: pump  # by name\n"))
    t1 = load_project(project)[0].sensors[0]
    add_sensors(project, [t1.model_copy(update={"component": "pump_3"})])
    assert "    component: pump_3  # by name\n" in project.read_text()
    add_sensors(project, [t1.model_copy(update={"component": None})])
    text = project.read_text()
    assert "component: pump" not in text.split("# the flow meter")[0]
    assert "  - id: T1            # bearing temperature\n    quantity: temperature\n" in text
