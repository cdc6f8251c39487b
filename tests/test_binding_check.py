"""`twinviewer check` on sensor bindings: a component name that matches nothing is an error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ASSETS
from twinviewer.commands.check import check
from twinviewer.core.binding import did_you_mean, suggest_names

MINE = ASSETS / "mine" / "mine.glb"


def mine_project(tmp_path: Path, component: str) -> Path:
    p = tmp_path / "fan.twin.yaml"
    p.write_text(
        f"name: fan check\nmodels: [{MINE}]\n"
        "components:\n  main_fan: {name: surface_main_fan}\n"
        "sensors:\n"
        "  - {id: main_fan_current, quantity: current, unit: A, component: main_fan,"
        " range: [0, 200]}\n"
        f"  - {{id: l3_fan_vibration, quantity: vibration, unit: mm/s, component: {component},"
        " range: [0, 12]}\n"
        "  - {id: loose, quantity: q, unit: u, range: [0, 1]}\n"
    )
    return p


def test_a_typo_in_a_sensor_component_fails_check_with_a_suggestion(tmp_path: Path) -> None:
    p = mine_project(tmp_path, "l3_boster_fan")
    r = subprocess.run(
        [sys.executable, "-m", "twinviewer", "check", str(p)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1, r.stdout + r.stderr
    errors = [line for line in r.stderr.splitlines() if ": error:" in line]
    assert len(errors) == 1, r.stderr
    line = errors[0]
    assert "sensors[1].component" in line
    assert "sensor 'l3_fan_vibration'" in line and "'l3_boster_fan'" in line
    assert line.endswith("did you mean 'l3_booster_fan'?")
    assert "FAILED" in r.stdout.splitlines()[-1]
    # a sensor with no component stays a warning
    assert "sensor 'loose' has no component" in r.stdout


def test_the_same_project_spelled_right_is_ok(tmp_path: Path) -> None:
    report = check(mine_project(tmp_path, "l3_booster_fan"))
    assert report.ok, [str(p) for p in report.problems]
    severities = {p.key: p.severity for p in report.problems}
    assert severities == {"sensors[2].component": "warning"}


def test_a_component_id_that_matches_nothing_is_one_error_not_two(tmp_path: Path) -> None:
    p = mine_project(tmp_path, "ghost")
    text = p.read_text().replace("components:\n", "components:\n  ghost: {glob: 'nothing_*'}\n")
    p.write_text(text)
    report = check(p)
    errors = [(p.key, p.message) for p in report.problems if p.severity == "error"]
    assert errors == [("components.ghost", "glob 'nothing_*' matches no node of the model")]
    warnings = {p.key: p.message for p in report.problems if p.severity == "warning"}
    assert "matches no node" in warnings["sensors[1].component"]


def test_suggestions_ignore_case_and_separators() -> None:
    names = ["l1_booster_fan", "l2_booster_fan", "l3_booster_fan", "main_fan"]
    assert suggest_names("L3 Booster-Fan", names) == ["l3_booster_fan"]
    assert suggest_names("l3_boster_fan", names)[0] == "l3_booster_fan"
    assert suggest_names("conveyor", names) == []
    assert did_you_mean(["a", "b", "c"]) == "did you mean 'a', 'b' or 'c'?"
    assert did_you_mean([]) == ""
