"""A simulation overlay on a twin: placement, time mapping, values on the twin's vertices,
measured versus simulated at the sensors, the CLI and the headless render."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import pyvista as pv

from twinviewer.cli import main
from twinviewer.core.samples import SampleBatch
from twinviewer.session import TwinSession, load_twin_project, open_history

T0 = 1767225600.0  # 2026-01-01T00:00:00Z

OBJ = """\
o inside
v 0.2 0.2 0.2
v 0.8 0.2 0.2
v 0.8 0.8 0.2
v 0.2 0.8 0.8
f 1 2 3
f 1 3 4
f 1 2 4
o outside
v 5 5 5
v 6 5 5
v 6 6 5
f 5 6 7
"""

PROJECT = """\
name: Overlay test
models: [twin.obj]
sensors:
  - {id: probe, quantity: T, unit: degC, position: [0.5, 0.5, 0.5], range: [0, 100]}
  - {id: far, quantity: T, unit: degC, component: outside, range: [0, 100]}
  - {id: inside_mean, quantity: T, unit: degC, component: inside, range: [0, 100]}
  - {id: pressure, quantity: p, unit: bar, position: [0.5, 0.5, 0.5], range: [0, 10]}
overlays:
  - name: heat
    result: sim/heat.vtu.series
    field: T
    time: {origin: "2026-01-01T00:00:00Z", scale: 2.0}
fidelity: {tolerance: 0.05}
"""


def linear(points: np.ndarray) -> np.ndarray:
    return 10.0 + 2.0 * points[:, 0] + 3.0 * points[:, 1] - 1.0 * points[:, 2]


@pytest.fixture
def twin(tmp_path: Path) -> Path:
    (tmp_path / "twin.obj").write_text(OBJ)
    sim = tmp_path / "sim"
    sim.mkdir()
    grid = pv.ImageData(
        dimensions=(6, 6, 6), spacing=(0.25, 0.25, 0.25)
    ).cast_to_unstructured_grid()
    files = []
    for k, add in enumerate((0.0, 10.0)):
        g = grid.copy()
        g.point_data["T"] = linear(np.asarray(g.points)) + add
        d = np.zeros((g.n_points, 3))
        d[:, 0] = 0.1 * (1 + k)  # a uniform displacement along x: 0.1, then 0.2
        g.point_data["d"] = d
        name = f"heat_{k}.vtu"
        g.save(sim / name)
        files.append({"name": name, "time": 10.0 * k})
    (sim / "heat.vtu.series").write_text(json.dumps({"file-series-version": "1.0", "files": files}))
    path = tmp_path / "overlay.twin.yaml"
    path.write_text(PROJECT)
    return path


def test_values_on_the_twin_follow_the_clock_and_the_field(twin: Path) -> None:
    session = TwinSession.open(twin)
    sim = session.overlay("heat", session_start=0.0)
    model = session.model
    inside = model.index_of("inside")
    # only the component the result reaches is covered
    assert set(np.unique(model.cell_component[sim.triangle_mask])) == {inside}
    pts = model.points[sim.vertices].astype(np.float64)
    # twin time T0 + 10 s = simulation time 5 s (scale 2): halfway between the two steps
    frame = sim.frame(T0 + 10.0)
    assert frame.sim_time == 5.0 and frame.steps == (0, 1, 0.5)
    np.testing.assert_allclose(frame.values, linear(pts) + 5.0, rtol=1e-9)
    # before the first and after the last step: clamped
    np.testing.assert_allclose(sim.frame(T0 - 100).values, linear(pts), rtol=1e-9)
    np.testing.assert_allclose(sim.frame(T0 + 1000).values, linear(pts) + 10.0, rtol=1e-9)


def test_placement_moves_the_result_into_the_twin(twin: Path) -> None:
    text = twin.read_text().replace(
        "    field: T\n", "    field: T\n    placement: {translate: [4.9, 4.9, 4.9]}\n"
    )
    twin.write_text(text)
    session = TwinSession.open(twin)
    sim = session.overlay("heat", session_start=0.0)
    model = session.model
    assert set(np.unique(model.cell_component[sim.triangle_mask])) == {model.index_of("outside")}
    pts = model.points[sim.vertices].astype(np.float64) - 4.9  # back in the result's frame
    np.testing.assert_allclose(sim.frame(T0).values, linear(pts), rtol=1e-6)


def test_measured_versus_simulated_by_hand(twin: Path) -> None:
    session = TwinSession.open(twin)
    sim = session.overlay("heat", session_start=0.0)
    # compared: the T sensors the result reaches ("far" is bound to a component outside it;
    # "pressure" is another quantity)
    assert sim.sensors == [0, 2]
    t = T0 + 20.0  # simulation time 10 s: the second step (+10)
    simulated = sim.simulated_at_sensors(t)
    at_probe = 10 + 2 * 0.5 + 3 * 0.5 - 0.5 + 10.0  # 22.0
    assert simulated[0] == pytest.approx(at_probe)
    inside_pts = session.model.points[sim.vertices].astype(np.float64)
    assert simulated[1] == pytest.approx(linear(inside_pts).mean() + 10.0)
    measured = np.array([22.0 * 1.04, 50.0, simulated[1] * 1.10, 3.0])
    rows = sim.fidelity(t, measured, session.project.sensors, 0.05, "value")
    assert rows["sensor"].tolist() == [0, 2]
    assert rows["passed"].tolist() == [True, False]
    np.testing.assert_allclose(rows["rel_error"], [0.04 / 1.04, 0.10 / 1.10])


def test_cli_fidelity_from_the_history(twin: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project, folder = load_twin_project(twin)
    store = open_history(project, folder, twin)
    assert store is not None
    store.append(SampleBatch.of([0, 2], [T0 + 19.0, T0 + 19.0], [22.0, 40.0]))
    store.close()
    code = main(
        [
            "fidelity",
            str(twin),
            "--overlay",
            "heat",
            "--at",
            "2026-01-01T00:00:20Z",
            "--origin",
            "2026-01-01T00:00:00Z",
            "--json",
        ]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    by = {r["sensor"]: r for r in out["sensors"]}
    assert by["probe"]["simulated"] == pytest.approx(22.0) and by["probe"]["passed"]
    assert by["probe"]["rel_error"] == pytest.approx(0.0, abs=1e-9)
    assert "far" not in by
    assert not by["inside_mean"]["passed"]
    assert (out["compared"], out["passed"]) == (2, 1)
    assert out["worst"] == ["inside_mean"]
    assert main(["fidelity", str(twin), "--overlay", "nope"]) == 1
    assert "no overlay 'nope'" in capsys.readouterr().err


def test_render_with_the_overlay(twin: Path, tmp_path: Path) -> None:
    out = tmp_path / "overlay.png"
    assert (
        main(["render", str(twin), "-o", str(out), "--overlay", "heat", "--size", "400x300"]) == 0
    )
    img = pv.read(out)
    assert img.n_points == 400 * 300


def test_broken_result_is_a_clear_error(twin: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (twin.parent / "sim" / "heat_0.vtu").write_bytes(b"garbage")
    code = main(["fidelity", str(twin), "--overlay", "heat", "--after", "1"])
    err = capsys.readouterr().err
    assert code == 1 and "heat" in err


def test_overlay_in_the_window_follows_the_timeline_and_compares(qtbot, window, twin) -> None:
    """Show the overlay from the panel; scrub: the twin's vertices take the blended field;
    the fidelity table compares with the recorded values at that time."""
    pytest.importorskip("pytestqt")
    from tests.test_gui import open_and_wait

    open_and_wait(qtbot, window, twin)
    s = window.session
    s.history.append(SampleBatch.of([0], [T0 + 9.0], [17.3]))
    s.history.flush()
    panel = window.features["overlays"].panel
    assert panel.current == "heat"
    panel.visible.setChecked(True)  # the user ticks "Show"
    sim = window.features["overlays"].sims["heat"]
    scene = window.view.scene
    pts = s.model.points[sim.vertices].astype(np.float64)
    tl = window.workbench.timeline
    tl.set_range(T0 - 10, T0 + 100)
    tl.current = T0 + 10.0  # simulation time 5 s: halfway
    window.tick(force=True)
    np.testing.assert_allclose(scene.overlay_values("heat"), linear(pts) + 5.0, rtol=1e-6)
    # the covered component is drawn by the overlay, not by the twin's own mesh
    assert scene.hidden[s.model.index_of("inside")]
    window.refresh_panels()
    assert panel.table.rowCount() == 2
    assert panel.table.item(0, 0).text() == "probe"
    # probe: 17.3 measured, 12 + 5 = 17.0 simulated at (0.5, 0.5, 0.5): 1.7 %
    assert panel.table.item(0, 5).text() == "pass"
    assert panel.table.item(0, 4).text() == "1.73 %"
    assert panel.table.item(1, 5).text() == "no data"  # inside_mean: nothing recorded
    assert "1 of 1" in panel.summary.text()
    # a row of the table charts both series of that sensor
    panel.table.setCurrentCell(0, 0)
    x, y = panel.simulated_curve.getData()
    np.testing.assert_allclose(y, [12.0, 22.0])
    mx, my = panel.measured_curve.getData()
    assert list(my) == [17.3]
    # another opacity keeps the twin's own mesh visible underneath
    panel.opacity.setValue(50)
    assert not scene.hidden[s.model.index_of("inside")]
    # residual colouring: inside_mean measured 40 against ~17 simulated: red
    from tests.test_gui import cells_of
    from twinviewer.core.fidelity import residual_table

    s.history.append(SampleBatch.of([2], [T0 + 9.5], [40.0]))
    s.history.flush()
    window._time_dirty = True
    window.tick(force=True)
    panel.residual.setChecked(True)
    window.tick(force=True)
    assert (cells_of(window, "inside") == residual_table()[-1]).all()
    panel.residual.setChecked(False)
    window.tick(force=True)
    assert not (cells_of(window, "inside") == residual_table()[-1]).all()
    # the list shows every overlay with its state; its box shows and hides too
    from PySide6.QtCore import Qt

    assert panel.list.rowCount() == 1 and panel.list.item(0, 1).text() == "heat"
    assert panel.list.item(0, 0).checkState() == Qt.CheckState.Checked
    assert panel.list.item(0, 4).text() == "50 %"
    panel.list.item(0, 0).setCheckState(Qt.CheckState.Unchecked)
    assert "heat" not in scene._overlays and not panel.visible.isChecked()
    panel.list.item(0, 0).setCheckState(Qt.CheckState.Checked)
    assert "heat" in scene._overlays
    panel.visible.setChecked(False)
    assert "heat" not in scene._overlays
    window.close_session()


def test_the_result_mesh_itself_placed_and_blended(twin: Path, tmp_path: Path) -> None:
    text = twin.read_text().replace(
        "    field: T\n",
        "    field: T\n    show: both\n    placement: {translate: [1.0, 0.0, 0.0], scale: 2.0}\n",
    )
    twin.write_text(text)
    session = TwinSession.open(twin)
    sim = session.overlay("heat", session_start=0.0)
    pts, tris, values = sim.mesh_frame(T0 + 10.0)
    # the outer surface of the 1.25-wide cube, scaled 2x and moved 1 along x
    np.testing.assert_allclose(pts.min(axis=0), [1.0, 0.0, 0.0])
    np.testing.assert_allclose(pts.max(axis=0), [3.5, 2.5, 2.5])
    assert tris.shape[1] == 3 and tris.max() < len(pts)
    in_result = (pts - [1.0, 0.0, 0.0]) / 2.0
    np.testing.assert_allclose(values, linear(in_result) + 5.0, rtol=1e-9)
    out = tmp_path / "both.png"
    assert (
        main(["render", str(twin), "-o", str(out), "--overlay", "heat", "--size", "320x240"]) == 0
    )
    assert out.stat().st_size > 1000


def test_warp_and_glyphs_follow_the_vector_field(twin: Path) -> None:
    text = twin.read_text().replace(
        "    field: T\n",
        "    field: T\n    warp: {field: d, scale: 2.0}\n    glyphs: d\n"
        "    placement: {rotate: [0, 0, 90], translate: [1.25, 0, 0]}\n",
    )
    twin.write_text(text)
    session = TwinSession.open(twin)
    sim = session.overlay("heat", session_start=0.0)
    pts = session.model.points[sim.vertices].astype(np.float64)
    assert len(pts) == 4  # the rotated and moved result still covers "inside"
    # at simulation time 5 s the displacement is 0.15 along the result's x, which the
    # placement turns to the twin's y; the warp scale doubles it
    moved = sim.warped_vertices(pts, T0 + 10.0)
    np.testing.assert_allclose(moved - pts, np.tile([0.0, 0.3, 0.0], (len(pts), 1)), atol=1e-9)
    arrows = sim.glyphs(T0 + 10.0)
    assert arrows is not None
    where, vectors = arrows
    np.testing.assert_allclose(vectors, np.tile([0.0, 0.15, 0.0], (len(vectors), 1)), atol=1e-9)
    assert len(where) == len(vectors) > 0
    with pytest.raises(ValueError, match="not a vector field"):
        sim.cfg.glyphs = "T"
        sim.glyphs(T0)


def test_simulated_series_of_a_sensor(twin: Path) -> None:
    session = TwinSession.open(twin)
    sim = session.overlay("heat", session_start=0.0)
    t, v = sim.sensor_series(0)  # probe at (0.5, 0.5, 0.5): 12, then 22
    np.testing.assert_allclose(t, [T0, T0 + 20.0])  # steps at 0 and 10 s, scale 2
    np.testing.assert_allclose(v, [12.0, 22.0])
    with pytest.raises(ValueError, match="not compared"):
        sim.sensor_series(3)


def test_render_another_field_and_a_clear_error_for_a_missing_one(
    twin: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "d.png"
    args = ["render", str(twin), "-o", str(out), "--overlay", "heat", "--size", "320x240"]
    assert main([*args, "--field", "d"]) == 0 and out.exists()
    assert main([*args, "--field", "nope"]) == 1
    err = capsys.readouterr().err
    assert "no field 'nope'" in err and "'T'" in err


def test_an_overlay_marked_visible_shows_when_the_project_opens(qtbot, window, twin) -> None:
    pytest.importorskip("pytestqt")
    from tests.test_gui import open_and_wait

    twin.write_text(twin.read_text().replace("    field: T\n", "    field: T\n    visible: true\n"))
    open_and_wait(qtbot, window, twin)
    assert "heat" in window.view.scene._overlays
    assert window.features["overlays"].panel.visible.isChecked()
    window.close_session()
