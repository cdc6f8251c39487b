"""The project file: validation messages name the file, the key, the line and what was expected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from twinviewer.core.project import ProjectError, load_project, project_json_schema

GOOD = """\
name: Test twin
models: [model.glb]
components:
  pumps: {glob: "pump_*"}
sensors:
  - id: P1_TEMP
    quantity: temperature
    unit: degC
    component: pumps
    range: [10, 90]
    warning: {high: 70}
    alarm: {high: 80}
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "t.twin.yaml"
    p.write_text(text)
    return p


def problems(tmp_path: Path, text: str) -> list:
    with pytest.raises(ProjectError) as info:
        load_project(write(tmp_path, text))
    return info.value.problems


def test_good_project_loads(tmp_path: Path) -> None:
    project, folder = load_project(write(tmp_path, GOOD))
    assert folder == tmp_path
    assert project.models[0].path == "model.glb"
    assert project.components["pumps"].glob == "pump_*"
    assert project.sensors[0].alarm.high == 80


def test_misspelled_key_names_key_line_and_expected(tmp_path: Path) -> None:
    text = GOOD.replace("    unit: degC", "    unit: degC\n    colormp: viridis")
    (p,) = problems(tmp_path, text)
    assert p.key == "sensors[0].colormp"
    assert p.line == 9
    assert "unknown key 'colormp'" in p.message
    assert "colormap" in p.message  # the expected keys are listed
    assert str(p).startswith(f"{tmp_path / 't.twin.yaml'}:9: error: sensors[0].colormp:")


def test_every_problem_is_reported(tmp_path: Path) -> None:
    text = GOOD.replace("range: [10, 90]", "range: [90, 10]").replace(
        "    quantity: temperature\n", ""
    )
    found = {p.key: p.message for p in problems(tmp_path, text)}
    assert "required key is missing" in found["sensors[0].quantity"]
    assert "min < max" in found["sensors[0].range"]


def test_alarm_must_lie_beyond_warning(tmp_path: Path) -> None:
    (p,) = problems(tmp_path, GOOD.replace("alarm: {high: 80}", "alarm: {high: 60}"))
    assert p.key == "sensors[0]"
    assert "alarm.high (60.0) must not be below warning.high (70.0)" in p.message


def test_selector_needs_exactly_one_pattern(tmp_path: Path) -> None:
    (p,) = problems(tmp_path, GOOD.replace('{glob: "pump_*"}', '{glob: "p*", regex: "p.*"}'))
    assert p.key == "components.pumps"
    assert "exactly one of 'name', 'glob' or 'regex'" in p.message


def test_bad_regex_and_unknown_colormap(tmp_path: Path) -> None:
    text = GOOD.replace('{glob: "pump_*"}', '{regex: "pump_("}').replace(
        "unit: degC", "unit: degC\n    colormap: rainbowz"
    )
    found = {p.key: p.message for p in problems(tmp_path, text)}
    assert "does not compile" in found["components.pumps"]
    assert "unknown colour map 'rainbowz'" in found["sensors[0].colormap"]


def test_duplicate_sensor_ids(tmp_path: Path) -> None:
    dup = GOOD + GOOD[GOOD.index("  - id") :]
    (p,) = problems(tmp_path, dup)
    assert "sensor id 'P1_TEMP' is used twice" in p.message


def test_unknown_source_type(tmp_path: Path) -> None:
    (p,) = problems(tmp_path, GOOD + "sources:\n  - type: kafka\n")
    assert p.key.startswith("sources[0]")
    assert "simulator" in p.message


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    (p,) = problems(tmp_path, "name: x\nmodels: [a.glb\nsensors: []\n")
    assert "not valid YAML" in p.message
    assert p.line is not None


def test_yaml_is_never_executed(tmp_path: Path) -> None:
    text = "name: !!python/object/apply:os.system ['touch pwned']\nmodels: [a.glb]\n"
    (p,) = problems(tmp_path, text)
    assert "not valid YAML" in p.message
    assert not (tmp_path / "pwned").exists()


def test_not_a_mapping(tmp_path: Path) -> None:
    (p,) = problems(tmp_path, "- just\n- a list\n")
    assert "mapping" in p.message


def test_json_schema_is_exported_and_current() -> None:
    schema = json.loads(project_json_schema())
    assert schema["additionalProperties"] is False
    assert "sensors" in schema["properties"]
    committed = Path(__file__).resolve().parents[1] / "docs" / "twin-project.schema.json"
    assert committed.read_text() == project_json_schema(), (
        "docs/twin-project.schema.json is out of date: run `twinviewer schema -o "
        "docs/twin-project.schema.json`"
    )


def test_source_keys_are_checked_per_source_type(tmp_path: Path) -> None:
    text = GOOD + (
        "sources:\n"
        "  - {type: mqtt, url: 'mqtt://localhost', topic: 'site/{sensor}', qoss: 1}\n"
        "  - {type: opcua, endpoint: 'opc.tcp://localhost:4840', security_policy: Basic256Sha256}\n"
    )
    found = {p.key: p.message for p in problems(tmp_path, text)}
    assert "unknown key 'qoss'" in found["sources[0].qoss"]
    assert "qos" in found["sources[0].qoss"] and "topic" in found["sources[0].qoss"]
    assert "security_policy and security_mode go together" in found["sources[1]"]
