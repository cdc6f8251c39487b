"""The fleet overview drawn off screen: one instanced mapper, a colour per unit, picking."""

from __future__ import annotations

import numpy as np
import pytest
import pyvista as pv
import vtk

from twinviewer.core.fleet_layout import layout_data, layout_grid, layout_row
from twinviewer.core.model import Component, ModelData
from twinviewer.render.fleet_overview import (
    HEALTH_TABLE,
    MOVE_TRIANGLES,
    NE107_STATES,
    REST_TRIANGLES,
    STATE_COLOURS,
    FleetOverview,
    health_colours,
    quaternions,
    state_colours,
    state_legend,
)
from twinviewer.render.scene import configure_for_software_rendering

SIZE = (640, 400)


def _model(mesh: pv.PolyData) -> ModelData:
    tri = mesh.triangulate()
    faces = np.asarray(tri.faces).reshape(-1, 4)[:, 1:]
    return ModelData(
        source="test",
        components=[Component(id="body", name="body", parent=-1)],
        points=np.asarray(tri.points, np.float32),
        triangles=faces.astype(np.int32),
        cell_component=np.zeros(len(faces), np.int32),
    )


@pytest.fixture
def plotter():
    configure_for_software_rendering()
    p = pv.Plotter(off_screen=True, window_size=list(SIZE))
    p.set_background("black")
    yield p
    p.close()


def _frame(plotter: pv.Plotter) -> np.ndarray:
    plotter.render()  # pyvista's screenshot alone does not draw again
    return plotter.screenshot(return_img=True)


def _pixel(img: np.ndarray, xy: tuple[float, float]) -> np.ndarray:
    x, y = xy
    return img[SIZE[1] - 1 - int(round(y)), int(round(x)), :3].astype(int)


def _nearest(rgb: np.ndarray, palette: np.ndarray) -> int:
    """Index of the palette colour whose direction (hue and saturation) is nearest ``rgb``:
    shading scales a colour, it does not turn it."""
    p = palette[:, :3].astype(float)
    c = rgb.astype(float)
    cos = p @ c / (np.linalg.norm(p, axis=1) * np.linalg.norm(c) + 1e-9)
    return int(np.argmax(cos))


def test_one_mapper_n_instances_with_their_colours(plotter: pv.Plotter) -> None:
    model = _model(pv.Box(bounds=(0, 2, 0, 1, 0, 1)))
    placement = layout_row(model.bounds(), 5)
    states = ["normal", "failure", "check function", "maintenance required", "normal"]
    colours = state_colours(states)
    overview = FleetOverview(plotter.renderer)
    overview.show(model, placement.transforms, [f"u{i}" for i in range(5)], placement.anchors)
    overview.set_colours(colours)

    # one actor with the glyph mapper; its input has one point per unit and their colours
    mapper = overview.actor.GetMapper()
    assert isinstance(mapper, vtk.vtkGlyph3DMapper)
    assert mapper.GetInput().GetNumberOfPoints() == 5
    np.testing.assert_array_equal(overview.colours, colours)
    np.testing.assert_allclose(
        np.asarray(mapper.GetInput().GetPoints().GetData()), placement.transforms[:, :3, 3]
    )
    actors = [a for a in plotter.renderer.GetActors() if a.GetMapper() is mapper]
    assert len(actors) == 1
    assert overview.triangles_per_unit == model.n_triangles  # small: the model itself

    overview.fit()
    img = _frame(plotter)
    for unit in range(5):
        px = _pixel(img, overview.display_centre(unit))
        assert _nearest(px, colours) == _nearest(colours[unit, :3], colours), (unit, px)

    # recolour: the next frame shows the new colour
    overview.set_colours(state_colours(["failure"] * 5))
    img = _frame(plotter)
    px = _pixel(img, overview.display_centre(0))
    assert _nearest(px, colours) == 1  # the failure colour


def test_pick_returns_the_unit_under_the_pixel(plotter: pv.Plotter) -> None:
    model = _model(pv.Sphere(radius=0.5, center=(0, 0, 0.5)))
    placement = layout_grid(model.bounds(), 9, columns=3)
    overview = FleetOverview(plotter.renderer)
    overview.show(model, placement.transforms, [str(i) for i in range(9)], placement.anchors)
    overview.fit()
    plotter.render()
    for unit in range(9):
        assert overview.pick(*overview.display_centre(unit)) == unit
    assert overview.pick(2, 2) is None  # a corner of the view: background


def test_rotated_units_are_drawn_and_picked_where_their_transform_puts_them(
    plotter: pv.Plotter,
) -> None:
    # a long thin bar along x: turned by 90 degrees it lies along y
    model = _model(pv.Box(bounds=(0, 6, -0.3, 0.3, 0, 0.6)))
    placement = layout_data(model.bounds(), [(0.0, 0.0, 0.0, 0.0), (10.0, 0.0, 0.0, 90.0)])
    overview = FleetOverview(plotter.renderer)
    overview.show(model, placement.transforms, ["a", "b"], placement.anchors)
    overview.set_colours(state_colours(["normal", "failure"]))
    overview.fit((0.0, 0.0, 1.0))  # from above
    plotter.renderer.GetActiveCamera().SetViewUp(0, 1, 0)
    plotter.renderer.ResetCameraClippingRange()
    img = _frame(plotter)
    ren = plotter.renderer

    def at(x: float, y: float) -> tuple[float, float]:
        ren.SetWorldPoint(x, y, 0.6, 1.0)
        ren.WorldToDisplay()
        dx, dy, _ = ren.GetDisplayPoint()
        return dx, dy

    palette = state_colours(["normal", "failure"])
    # unit b's bar runs from (10, 0) to (10, 6): a point 4 along it is b, in b's colour
    assert overview.pick(*at(10.0, 4.0)) == 1
    assert _nearest(_pixel(img, at(10.0, 4.0)), palette) == 1
    # where b's bar would be unturned (x = 14, y = 0) there is nothing
    assert overview.pick(*at(14.0, 0.0)) is None
    assert overview.pick(*at(4.0, 0.0)) == 0


def test_quaternions_of_rotations_about_z() -> None:
    t = np.tile(np.eye(4), (3, 1, 1))
    for k, deg in enumerate((0.0, 90.0, 180.0)):
        a = np.radians(deg)
        t[k, :2, :2] = [[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]
    q = quaternions(t)
    half = np.radians([0.0, 90.0, 180.0]) / 2
    np.testing.assert_allclose(np.abs(q[:, 0]), np.cos(half), atol=1e-12)
    np.testing.assert_allclose(np.abs(q[:, 3]), np.sin(half), atol=1e-12)
    np.testing.assert_allclose(q[:, 1:3], 0, atol=1e-12)
    scaled = np.eye(4)[None].copy()
    scaled[0, 0, 0] = 2.0
    with pytest.raises(ValueError, match="rigid"):
        quaternions(scaled)


def test_big_fleet_draws_stand_ins_within_the_budgets(plotter: pv.Plotter) -> None:
    model = _model(pv.Sphere(theta_resolution=160, phi_resolution=160))  # ~50k triangles
    assert model.n_triangles > 45_000
    placement = layout_grid(model.bounds(), 100)
    overview = FleetOverview(plotter.renderer)
    overview.show(model, placement.transforms, [f"u{i}" for i in range(100)], placement.anchors)
    rest = overview.triangles_per_unit
    assert 0.5 * REST_TRIANGLES / 100 <= rest <= 1.1 * REST_TRIANGLES / 100
    overview.begin_interaction()
    assert overview.interacting
    assert overview.triangles_per_unit <= 1.1 * MOVE_TRIANGLES / 100
    overview.end_interaction()
    assert overview.triangles_per_unit == rest
    overview.fit()
    plotter.render()
    assert overview.pick(*overview.display_centre(55)) == 55


def test_highlight_legend_and_clear(plotter: pv.Plotter) -> None:
    model = _model(pv.Box())
    placement = layout_row(model.bounds(), 3)
    overview = FleetOverview(plotter.renderer)
    overview.show(model, placement.transforms, ["a", "b", "c"], placement.anchors)
    overview.set_legend(state_legend())
    overview.highlight(2)
    assert overview.highlighted == 2
    assert [name for name, _ in state_legend()][0] == "failure"
    assert plotter.renderer.GetViewProps().GetNumberOfItems() >= 4
    overview.clear()
    assert plotter.renderer.GetViewProps().GetNumberOfItems() == 0
    assert overview.highlighted is None
    with pytest.raises(ValueError, match="2 labels for 3 units"):
        overview.show(model, placement.transforms, ["a", "b"])
    assert STATE_COLOURS["failure"].dtype == np.uint8


def test_health_numbers_to_colours_and_the_palette_is_distinct() -> None:
    np.testing.assert_array_equal(health_colours([4, 0, 9, -1])[:2], HEALTH_TABLE[[4, 0]])
    np.testing.assert_array_equal(health_colours([9, -1]), [STATE_COLOURS["no data"]] * 2)
    assert NE107_STATES[4] == "failure" and NE107_STATES[0] == "normal"
    # every pair of state colours differs in lightness or clearly in colour
    rgb = HEALTH_TABLE[:, :3].astype(float)
    lum = rgb @ [0.2126, 0.7152, 0.0722]
    for i in range(5):
        for j in range(i + 1, 5):
            assert abs(lum[i] - lum[j]) > 12 or np.linalg.norm(rgb[i] - rgb[j]) > 150, (i, j)
