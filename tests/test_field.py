"""Sensor fields: interpolation weights (IDW, RBF, along the mesh), the session's fields of the
mine demo, the scene's field actor and ``twinviewer render --field``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from twinviewer.core.field import (
    apply_weights,
    geodesic_weights,
    idw_weights,
    rbf_weights,
    refine,
    surface_graph,
)

ASSETS = Path(__file__).resolve().parents[1] / "assets"
MINE = ASSETS / "mine" / "mine.twin.yaml"


def tube(path: np.ndarray, r: float = 0.5, sections: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """An open tube of radius ``r`` swept along a polyline (rings joined by quads)."""
    tangents = np.gradient(path, axis=0)
    tangents /= np.linalg.norm(tangents, axis=1, keepdims=True)
    up = np.array([0.0, 0.0, 1.0])
    rings = []
    for p, t in zip(path, tangents, strict=True):
        side = np.cross(t, up)
        side /= np.linalg.norm(side)
        a = np.linspace(0, 2 * np.pi, sections, endpoint=False)
        rings.append(p + r * (np.cos(a)[:, None] * side + np.sin(a)[:, None] * up))
    pts = np.concatenate(rings)
    tris = []
    for i in range(len(path) - 1):
        for j in range(sections):
            i0, i1 = i * sections + j, i * sections + (j + 1) % sections
            tris += [(i0, i1, i1 + sections), (i0, i1 + sections, i0 + sections)]
    return pts, np.array(tris)


def u_tube(length: float = 20.0, gap: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """Arms along +x at y = 0 and y = gap, joined by a half circle round x < 0."""
    arm = np.linspace(length, 0.0, 41)
    bend = np.linspace(-np.pi / 2, np.pi / 2, 25)[1:-1]
    path = np.concatenate(
        [
            np.c_[arm, np.zeros_like(arm), np.zeros_like(arm)],
            np.c_[-np.cos(bend) * gap / 2, gap / 2 + np.sin(bend) * gap / 2, 0 * bend],
            np.c_[arm[::-1], np.full_like(arm, gap), np.zeros_like(arm)],
        ]
    )
    return tube(path)


# -- the methods -------------------------------------------------------------------------------
def test_every_method_is_exact_at_the_sensors() -> None:
    rng = np.random.default_rng(3)
    sensors = rng.uniform(-5, 5, (6, 3))
    values = rng.uniform(0, 10, 6)
    targets = np.concatenate([sensors, rng.uniform(-5, 5, (50, 3))])
    for w in (idw_weights(targets, sensors), rbf_weights(targets, sensors)):
        np.testing.assert_allclose(apply_weights(w, values)[:6], values, atol=1e-9)
    # sensors in a line cannot carry a thin-plate spline's plane: still exact
    line = np.c_[np.arange(4.0), np.zeros(4), np.zeros(4)]
    w = rbf_weights(np.concatenate([line, targets]), line)
    np.testing.assert_allclose(apply_weights(w, values[:4])[:4], values[:4], atol=1e-9)
    # along the mesh: sensors on vertices of the tube take their own value there
    pts, tris = u_tube()
    on = [0, 500, 900]
    w = geodesic_weights(surface_graph(pts, tris), pts[on])
    np.testing.assert_allclose(apply_weights(w, values[:3])[on], values[:3], atol=1e-12)


def test_along_the_mesh_a_u_tube_keeps_the_arms_apart() -> None:
    """A sensor at the tip of one arm (0) and one half way along the other (10): the other
    arm's tip is 3 m from the first in a straight line but 45 m along the tube."""
    pts, tris = u_tube()
    sensors = np.array([[20.0, 0.0, 0.0], [10.0, 3.0, 0.0]])  # on the centre line
    values = np.array([0.0, 10.0])
    tip = np.flatnonzero((pts[:, 0] > 19.9) & (pts[:, 1] > 2.0))  # the second arm's end ring
    straight = apply_weights(idw_weights(pts, sensors), values)[tip]
    along = apply_weights(geodesic_weights(surface_graph(pts, tris), sensors), values)[tip]
    assert np.all(straight < 2.0), straight  # the near sensor through the gap
    assert np.all(along > 8.0), along  # the sensor along its own arm
    rbf = apply_weights(rbf_weights(pts, sensors), values)[tip]
    assert np.all(rbf < 5.0)  # straight-line methods leak across the gap


def test_missing_sensors_are_left_out_and_the_others_renormalised() -> None:
    rng = np.random.default_rng(5)
    sensors = rng.uniform(0, 10, (4, 3))
    targets = rng.uniform(0, 10, (200, 3))
    w = idw_weights(targets, sensors)
    v = apply_weights(w, np.array([np.nan, 5.0, 5.0, 5.0]))
    np.testing.assert_allclose(v[np.isfinite(v)], 5.0)
    assert np.isnan(apply_weights(w, np.full(4, np.nan))).all()  # nothing present: no colour
    present = np.array([False, True, True, True])
    values = np.array([100.0, 1.0, 2.0, 3.0])
    r = rbf_weights(sensors, sensors, present=present)
    np.testing.assert_allclose((r @ np.where(present, values, 0.0))[1:], values[1:])
    assert not r[:, 0].any()


def test_parts_no_sensor_reaches_stay_uncoloured_and_small_gaps_are_bridged() -> None:
    pts, tris = u_tube()
    box = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], float)
    far = box + [40.0, 0.0, 0.0]
    near = box + [20.3, 0.5, 0.0]  # 0.3 m beyond a vertex of the first arm's end ring
    all_pts = np.concatenate([pts, far, near])
    n = len(pts)
    all_tris = np.concatenate([tris, [[n, n + 1, n + 2], [n + 3, n + 4, n + 5]]])
    graph = surface_graph(all_pts, all_tris, bridge=0.4)
    assert graph.bridges > 0 and graph.pieces == 2
    sensors = np.array([[19.0, 0.0, 0.0], [10.0, 3.0, 0.0]])
    v = apply_weights(geodesic_weights(graph, sensors), np.array([1.0, 2.0]))
    assert np.isnan(v[n : n + 3]).all()  # the far triangle: no path
    assert np.isfinite(v[n + 3 :]).all()  # the one across a 0.3 m gap
    assert np.isfinite(v[:n]).all()
    # without bridges the near triangle is cut off too
    v = apply_weights(
        geodesic_weights(surface_graph(all_pts, all_tris), sensors), np.array([1.0, 2.0])
    )
    assert np.isnan(v[n + 3 :]).all()


def test_refine_keeps_the_surface_and_shortens_every_edge() -> None:
    pts = np.array([[0, 0, 0], [70, 0, 0], [70, 5, 0], [0, 5, 0]], float)
    tris = np.array([[0, 1, 2], [0, 2, 3]])
    out, tri, parent = refine(pts, tris, 1.0)
    edges = np.linalg.norm(out[tri] - out[np.roll(tri, 1, axis=1)], axis=2)
    assert edges.max() <= 1.0 + 1e-9
    area = 0.5 * np.linalg.norm(
        np.cross(out[tri[:, 1]] - out[tri[:, 0]], out[tri[:, 2]] - out[tri[:, 0]]), axis=1
    )
    assert area.sum() == pytest.approx(350.0)
    assert set(parent.tolist()) == {0, 1} and len(tri) < 4000  # about 2x the fewest possible


# -- on the mine demo ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mine():
    from twinviewer.session import TwinSession
    from twinviewer.session.field import FieldBook

    session = TwinSession.open(MINE)
    return session, FieldBook(session)


def test_the_mine_offers_fields_of_its_positioned_gas_and_airflow(mine) -> None:
    session, book = mine
    assert {"methane", "airflow"} <= set(book.quantities())
    with pytest.raises(ValueError, match="at least 2 sensors"):
        book.field("current")
    with pytest.raises(ValueError, match="unknown field method"):
        book.field("methane", "kriging")


def test_the_methane_field_follows_the_values_and_reuses_its_weights(mine, monkeypatch) -> None:
    import twinviewer.session.field as session_field

    session, book = mine
    field = book.field("methane", "geodesic")
    assert book.field("methane", "geodesic") is field
    calls = []
    monkeypatch.setattr(session_field, "geodesic_weights", lambda *a, **k: calls.append(a))
    value = np.full(len(session.sensors), np.nan)
    value[field.sensors] = [2.0, 4.0, 6.0, 8.0]
    first = field.values(value)
    value[field.sensors] = [9.0, 1.0, 1.0, 1.0]
    second = field.values(value)
    assert not calls  # frames multiply the weights made once
    assert field.weights() is field.weights()
    # exact next to each sensor, and a frame changes what is drawn
    near = np.argmin(np.linalg.norm(field.points[:, None] - field.positions, axis=2), axis=0)
    np.testing.assert_allclose(second[near], [9.0, 1.0, 1.0, 1.0], atol=0.05)
    assert not np.allclose(first, second, equal_nan=True)
    # the rock between levels is not on the field; the level 1 airways are
    l1 = session.model.index_of("l1_ore_drive")
    tank = session.model.index_of("surface_water_tank")  # on its own: no path
    assert l1 in field.components and tank not in field.components
    rgba = field.colours(second)
    assert rgba.shape == (len(field.points), 4)
    # RBF, missing sensor: fitted again without it, still exact at the others
    rbf = book.field("methane", "rbf")
    value[field.sensors[0]] = np.nan
    v = rbf.values(value)
    near_rbf = np.argmin(np.linalg.norm(rbf.points[:, None] - rbf.positions, axis=2), axis=0)
    np.testing.assert_allclose(v[near_rbf[1:]], 1.0, atol=0.1)


def test_render_field_headless(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from twinviewer.cli import main

    out = tmp_path / "f.png"
    args = ["render", str(MINE), "-o", str(out), "--size", "320x240", "--after", "5"]
    assert main([*args, "--field", "methane"]) == 0 and out.exists()
    assert main([*args, "--field", "airflow", "--field-method", "idw"]) == 0
    assert main([*args, "--field", "nope"]) == 1
    assert "no sensor measures 'nope'" in capsys.readouterr().err


# -- the scene -----------------------------------------------------------------------------------
def test_the_scene_draws_a_field_over_the_twin_and_hides_it_with_its_component() -> None:
    import pyvista as pv

    from twinviewer.core.colour import colormap_table
    from twinviewer.core.model import Component, ModelData
    from twinviewer.render.scene import TwinScene, configure_for_software_rendering

    configure_for_software_rendering()
    pts = np.array([[0, 0, 0], [10, 0, 0], [10, 10, 0], [0, 10, 0]], np.float32)
    model = ModelData(
        "square",
        [Component("a", "a", -1, "a"), Component("b", "b", -1, "b")],
        pts,
        np.array([[0, 1, 2], [0, 2, 3]], np.int32),
        np.array([0, 1], np.int32),
    )
    plotter = pv.Plotter(off_screen=True, window_size=[200, 200])
    try:
        scene = TwinScene(plotter)
        scene.show_model(model)
        scene.standard_view("top")
        out, tri, parent = refine(pts, model.triangles, 1.0)
        values = out[:, 0] / 10.0  # 0 on the left, 1 on the right
        table = colormap_table("viridis")
        scene.set_point_field(out, tri, model.cell_component[parent], values, table, 0.0, 1.0)
        img = plotter.screenshot(return_img=True)
        left, right = img[100, 60].astype(int), img[100, 140].astype(int)
        assert np.abs(left - right).sum() > 60  # a gradient, not the twin's one grey
        scene.set_point_field_values(1.0 - values)
        drawn_values = scene.point_field_values()
        assert drawn_values is not None
        np.testing.assert_allclose(drawn_values, 1.0 - np.asarray(values, np.float64))
        plotter.render()
        img2 = plotter.screenshot(return_img=True)
        assert np.abs(img2[100, 60].astype(int) - right).sum() < 40  # the colours swapped
        scene.set_hidden(np.array([False, True]))
        assert scene._field is not None
        drawn = scene._field.mapper.GetInput().GetNumberOfCells()
        assert 0 < drawn < len(tri)
        scene.clear_model()
        assert scene.point_field_values() is None
    finally:
        plotter.close()
