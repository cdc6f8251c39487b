"""What-if scenario runs: simulated with changed parameters, from an overlay; list, compare, CLI.

Real files in tmp_path: the locomotive demo's project file beside a link to its model, with a
baseline recorded by the simulator into the ordinary history folder; and the small OBJ twin of
``test_sim_overlay`` for an overlay scenario."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ASSETS
from tests.test_sim_overlay import T0, twin  # noqa: F401  (the fixture, reused)
from twinviewer.cli import main
from twinviewer.core.samples import SampleBatch
from twinviewer.history.scenarios import (
    ScenarioError,
    compare,
    difference_at,
    list_scenarios,
    open_scenario,
    scenario_folder,
    simulator_config,
)
from twinviewer.session import TwinSession, history_folder, load_twin_project, open_history
from twinviewer.session.scenario_runs import record_from_overlay, record_simulated
from twinviewer.sources.simulator import simulate

FAULTY = "axle4_bearing_temperature"  # alarm at 95 degC, warning at 80
DURATION = 300.0


@pytest.fixture
def loco(tmp_path: Path) -> Path:
    """The locomotive demo in tmp_path, with 300 s of its simulated feed (the bearing fault
    passes its alarm limit at 165 s) recorded as the baseline history from T0."""
    folder = tmp_path / "locomotive"
    folder.mkdir()
    path = folder / "locomotive.twin.yaml"
    shutil.copy(ASSETS / "locomotive" / "locomotive.twin.yaml", path)
    (folder / "locomotive.glb").symlink_to(ASSETS / "locomotive" / "locomotive.glb")
    project, where = load_twin_project(path)
    batch = simulate(project, simulator_config(project), DURATION)
    store = open_history(project, where, path)
    assert store is not None
    store.append(SampleBatch(batch.sensor, batch.time + T0, batch.value))
    store.close()
    return path


def test_a_simulated_scenario_beside_the_baseline(loco: Path) -> None:
    project, folder = load_twin_project(loco)
    cfg = simulator_config(project)
    n = len(project.sensors)
    info = record_simulated(
        project, folder, loco, "Seed 5", T0, DURATION, {"seed": 5}, without_faults=True
    )
    run = scenario_folder(project, folder, loco, "Seed 5")
    assert info.folder == run and run.parent == history_folder(project, folder, loco).with_name(
        "locomotive.scenarios"
    )
    assert info.samples == int(cfg.rate * DURATION) * n
    assert info.time_range == (T0, T0 + DURATION - 1 / cfg.rate)
    meta = json.loads((run / "scenario.json").read_text())
    assert meta["kind"] == "simulator" and meta["parameters"]["simulator"]["seed"] == 5
    assert meta["parameters"]["simulator"]["faults"] == []
    assert meta["parameters"]["without_faults"] and meta["time_range"] == list(info.time_range)

    base = open_history(project, folder, loco, writer=False)
    scen = open_scenario(project, folder, loco, "Seed 5")
    assert base is not None
    try:
        s, t, _ = scen.read()
        assert len(t) == info.samples and t[0] == T0
        assert np.bincount(s, minlength=n).tolist() == [int(cfg.rate * DURATION)] * n
        late = T0 + DURATION - 10
        b, sc, diff = difference_at(base, scen, late)
        k = [x.id for x in project.sensors].index(FAULTY)
        assert b[k] > 95 and sc[k] < 80  # in alarm in the baseline, normal in the scenario
        np.testing.assert_array_equal(diff, sc - b)
    finally:
        scen.close()
        base.close()

    # the same seed without the fault: the bearing is the only difference, and the biggest
    record_simulated(project, folder, loco, "no fault", T0, DURATION, without_faults=True)
    base = open_history(project, folder, loco, writer=False)
    scen = open_scenario(project, folder, loco, "no-fault")  # a name or its slug
    assert base is not None
    try:
        ids = [x.id for x in project.sensors]
        spans = [x.range[1] - x.range[0] for x in project.sensors]
        rows = compare(base, scen, ids, T0 + DURATION - 10, spans=spans)
        assert rows[0].sensor == FAULTY and rows[0].difference < -15 and rows[0].relative < -0.15
        assert all(r.difference == 0 and r.relative == 0 for r in rows[1:])
        assert len(rows) == len(ids)
    finally:
        scen.close()
        base.close()

    names = [(i.name, i.kind, i.samples, i.problem) for i in list_scenarios(project, folder, loco)]
    assert names == [
        ("no fault", "simulator", info.samples, None),
        ("Seed 5", "simulator", info.samples, None),
    ]


def test_bad_parameters_duplicates_and_unknown_runs(loco: Path) -> None:
    project, folder = load_twin_project(loco)
    with pytest.raises(ScenarioError, match="--set colour: not a simulator parameter"):
        record_simulated(project, folder, loco, "x", T0, 10, {"colour": 1})
    with pytest.raises(ScenarioError, match="--set rate:.*greater than 0"):
        record_simulated(project, folder, loco, "x", T0, 10, {"rate": -1})
    with pytest.raises(ScenarioError, match="--set seed:"):
        record_simulated(project, folder, loco, "x", T0, 10, {"seed": "many"})
    assert list_scenarios(project, folder, loco) == []
    record_simulated(project, folder, loco, "a", T0, 10)
    with pytest.raises(ScenarioError, match="'a' already exists"):
        record_simulated(project, folder, loco, "a", T0, 10, {"rate": 2})
    info = record_simulated(project, folder, loco, "a", T0, 10, {"rate": 2}, replace=True)
    assert info.samples == 20 * len(project.sensors)
    assert [i.samples for i in list_scenarios(project, folder, loco)] == [info.samples]
    with pytest.raises(ScenarioError, match=r"no scenario 'b' .*available: 'a'"):
        open_scenario(project, folder, loco, "b")


def test_broken_runs_are_listed_not_fatal(loco: Path) -> None:
    project, folder = load_twin_project(loco)
    record_simulated(project, folder, loco, "good", T0, 10)
    root = scenario_folder(project, folder, loco)
    (root / "stray").mkdir()
    (root / "garbled").mkdir()
    (root / "garbled" / "scenario.json").write_text("{not json")
    shutil.copytree(root / "good", root / "copied")
    (root / "copied" / "scenario.json").unlink()
    by = {i.slug: i for i in list_scenarios(project, folder, loco)}
    assert by["good"].problem is None
    assert "no scenario.json" in (by["copied"].problem or "") and by["copied"].samples > 0
    assert "unreadable" in (by["garbled"].problem or "")
    assert "no samples" in (by["stray"].problem or "")


def test_an_overlay_scenario_is_the_overlay_at_its_sensors(twin: Path) -> None:  # noqa: F811
    session = TwinSession.open(twin)
    ov = session.overlay("heat", session_start=0.0)
    info = record_from_overlay(session, "heat run", "heat", origin=0.0, description="FE run")
    assert info.kind == "overlay" and info.parameters["sensors"] == ["inside_mean", "probe"]
    steps = ov.step_times()
    assert steps.tolist() == [T0, T0 + 20.0]
    assert info.samples == len(ov.sensors) * len(steps)
    scen = open_scenario(session.project, session.folder, session.path, "heat run")
    try:
        s, t, v = scen.read()
        ids = scen.sensor_ids
        for k in ov.sensors:
            times, values = ov.sensor_series(k)
            mine = np.array([ids[j] == session.project.sensors[k].id for j in s])
            np.testing.assert_array_equal(t[mine], times)
            np.testing.assert_allclose(v[mine], values, rtol=1e-12)
        value, _ = scen.at(T0 + 20.0)
        assert value[0] == pytest.approx(22.0) and np.isnan(value[1]) and np.isnan(value[3])
    finally:
        scen.close()
    with pytest.raises(ValueError, match="no overlay 'nope'"):
        record_from_overlay(session, "x", "nope", origin=0.0)


def test_cli_round_trip(loco: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = str(loco)
    args = ["scenario", p, "record", "cool", "--duration", "300", "--without-faults"]
    assert main([*args, "--set", "seed=3", "--description", "no fault", "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["name"] == "cool" and rec["time_range"][0] == T0  # default start: the baseline's
    assert rec["description"] == "no fault" and rec["parameters"]["updates"] == {"seed": 3}
    assert main(args) == 1
    assert "'cool' already exists" in capsys.readouterr().err
    assert main(["scenario", p, "record", "x", "--set", "colour=red"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("twinviewer scenario record: --set colour: not a simulator parameter")
    assert main(["scenario", p, "record", "x", "--set", "seed"]) == 2
    assert main(["scenario", p, "record"]) == 2
    assert main(["scenario", p, "record", "x", "--start", "yesterday"]) == 2
    assert "--start 'yesterday'" in capsys.readouterr().err

    assert main(["scenario", p, "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["scenarios"]
    assert [(r["name"], r["kind"], r["samples"]) for r in listed] == [
        ("cool", "simulator", rec["samples"])
    ]

    assert main(["scenario", p, "compare", "cool", "--at", "2026-01-01T00:04:50Z", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert table["at"] == T0 + 290 and table["rows"][0]["sensor"] == FAULTY
    assert table["rows"][0]["baseline"] > 95 and table["rows"][0]["unit"] == "degC"
    assert table["rows"][1]["difference"] == 0
    assert main(["scenario", p, "compare", "cool"]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[1].split() == ["sensor", "baseline", "scenario", "difference", "relative", "unit"]
    assert text[2].startswith(FAULTY)
    assert main(["scenario", p, "compare", "warm"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("twinviewer scenario compare: ") and "no scenario 'warm'" in err
    assert "(available: 'cool')" in err and err.count("\n") == 1
    assert main(["scenario", p, "from-overlay", "x"]) == 2
    assert "--overlay NAME is required" in capsys.readouterr().err


def test_cli_import_a_recorded_stream(loco: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = loco.parent / "bearing.csv"
    csv.write_text(
        "time,sensor,value\n"
        f"2026-01-01T00:04:00Z,{FAULTY},60\n"
        "2026-01-01T00:04:00Z,nope,1\n"
        "2026-01-01T00:04:01Z,tm1_current,abc\n"
    )
    p = str(loco)
    assert main(["scenario", p, "import", "measured", str(csv), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["kind"], out["samples"], out["time_range"]) == ("import", 1, [T0 + 240] * 2)
    assert out["import"]["skipped_rows"] == 2
    assert main(["scenario", p, "compare", "measured", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert rows[0]["sensor"] == FAULTY and rows[0]["scenario"] == 60.0
    assert rows[1]["scenario"] is None and rows[1]["relative"] is None  # no sample: NaN -> null
    assert main(["scenario", p, "import", "other"]) == 2
    assert main(["scenario", p, "import", "other", str(csv.with_name("missing.csv"))]) == 1
    assert "missing.csv: no such file" in capsys.readouterr().err
    assert not scenario_folder(*load_twin_project(loco), loco, "other").exists()


def test_window_compares_a_scenario_side_by_side_and_as_a_difference(
    qtbot, window, building: Path
) -> None:
    """Two 3D views share camera and timeline: the scenario's colours beside the baseline's;
    then the difference colours on the baseline view; stopping removes the second view."""
    pytest.importorskip("pytestqt")
    import time as _time

    from tests.test_gui import cells_of, open_and_wait
    from twinviewer.core.colour import ALARM_COLOUR, COLORMAPS
    from twinviewer.core.compare import difference_table
    from twinviewer.core.samples import SampleBatch as Batch
    from twinviewer.history.scenarios import write_run
    from twinviewer.session import load_twin_project

    project, folder = load_twin_project(building)
    now = _time.time()
    write_run(project, folder, building, "cooler", Batch.of([0], [now - 30], [20.0]), kind="import")
    open_and_wait(qtbot, window, building)
    s = window.session
    s.history.append(Batch.of([0], [now - 30], [95.0]))  # the baseline: floor_0 in alarm
    s.history.flush()
    tl = window.workbench.timeline
    tl.set_range(now - 60, now)
    tl.current = now - 10
    window.features["scenarios"].compare_scenario("cooler", "side")
    view = window.features["scenarios"].compare_view
    assert view is not None
    qtbot.waitUntil(lambda: (cells_of(window, "floor_0") == ALARM_COLOUR).all(), timeout=3000)
    i = s.model.index_of("floor_0")
    scen = view.scene.cell_colours()[s.model.cell_component == i]
    assert (scen == COLORMAPS["viridis"][int(0.2 * 255)]).all()  # 20 degC on 0..100
    cam = window.view.interactor.renderer.GetActiveCamera()
    assert view.interactor.renderer.GetActiveCamera() is cam  # one camera for both
    window.features["scenarios"].compare_scenario("cooler", "difference")
    assert window.features["scenarios"].compare_view is None
    window.tick(force=True)
    # 20 - 95 = -75 % of the range: the saturated blue end
    assert (cells_of(window, "floor_0") == difference_table()[0]).all()
    window.features["scenarios"].stop_comparing()
    window._time_dirty = True
    window.tick(force=True)
    assert (cells_of(window, "floor_0") == ALARM_COLOUR).all()
    window.close_session()
