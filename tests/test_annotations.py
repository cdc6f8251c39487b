"""Measurement annotations (render/annotations.py) on an off-screen plotter: labels, what is
drawn where, and that the section plane and the model never hide a measurement."""

from __future__ import annotations

import numpy as np
import pytest
import pyvista as pv

from twinviewer.core.model import ModelBuilder
from twinviewer.render.annotations import (
    MEASURE_COLOUR,
    MeasurementLayer,
    arc_points,
    components_text,
    label_text,
    value_text,
)
from twinviewer.render.scene import TwinScene
from twinviewer.review import Measurement

MAGENTA = np.round(np.array(MEASURE_COLOUR) * 255).astype(int)


def box_scene(size: tuple[int, int] = (500, 400)) -> tuple[pv.Plotter, TwinScene]:
    box = pv.Box((0, 2, 0, 1, 0, 0.5)).triangulate()
    b = ModelBuilder("box")
    b.add("box", -1, np.asarray(box.points), box.faces.reshape(-1, 4)[:, 1:])
    plotter = pv.Plotter(off_screen=True, window_size=list(size))
    scene = TwinScene(plotter)
    scene.show_model(b.build(units="m"))
    scene.standard_view("iso")
    return plotter, scene


def dist(name: str, a, b, unit: str = "m") -> Measurement:
    return Measurement(
        name=name,
        kind="distance",
        points=[a, b],
        value=float(np.linalg.norm(np.subtract(b, a))),
        unit=unit,
    )


def display(plotter: pv.Plotter, point) -> tuple[int, int]:
    """Image (column, row) of a world point."""
    r = plotter.renderer
    r.SetWorldPoint(*point, 1.0)
    r.WorldToDisplay()
    x, y, _ = r.GetDisplayPoint()
    return int(round(x)), int(r.GetSize()[1] - 1 - round(y))


def magenta_near(image: np.ndarray, col: int, row: int, radius: int = 3) -> bool:
    patch = image[row - radius : row + radius + 1, col - radius : col + radius + 1, :3]
    return bool((np.abs(patch.astype(int) - MAGENTA).sum(axis=-1) < 40).any())


def test_labels_read_value_unit_and_components() -> None:
    d = dist("Distance 1", (0, 0, 0), (1.0, 0.5, -0.25))
    assert value_text(d) == "1.1456 m"
    assert value_text(d, "mm") == "1,145.6 mm"
    assert components_text(d, "mm") == "dX 1,000 mm  dY 500 mm  dZ -250 mm"
    assert label_text(d, "mm") == "Distance 1: 1,145.6 mm\ndX 1,000 mm  dY 500 mm  dZ -250 mm"
    a = Measurement(
        name="A", kind="angle", points=[(1, 0, 0), (0, 0, 0), (0, 1, 0)], value=90, unit="deg"
    )
    assert label_text(a, "in") == "A: 90.00°"
    area = Measurement(
        name="F", kind="area", points=[(0, 0, 0), (1, 0, 0), (1, 1, 0)], value=0.5, unit="m"
    )
    assert value_text(area, "mm") == "500,000 mm²"
    p = Measurement(name="P", kind="point", points=[(0.0254, 0, 1)], value=0, unit="m")
    assert label_text(p, "in") == "P\nx 1 in, y 0 in, z 39.37 in"
    c = Measurement(name="C", kind="clearance", points=[(0, 0, 0), (0, 0, 3)], value=3, unit="mm")
    assert label_text(c) == "C: 3 mm" and components_text(c) == ""


def test_arc_spans_the_angle_at_its_radius() -> None:
    arc = arc_points((2, 0, 0), (0, 0, 0), (1, 1, 0), 0.5)
    assert np.allclose(np.linalg.norm(arc, axis=1), 0.5)
    assert np.allclose(arc[0], (0.5, 0, 0)) and np.allclose(arc[-1], (0.5**1.5, 0.5**1.5, 0))
    straight = arc_points((1, 0, 0), (0, 0, 0), (-1, 0, 0), 1.0)  # 180 degrees: any plane
    assert np.allclose(straight[-1], (-1, 0, 0))


def test_measurements_are_drawn_over_the_model_and_through_the_section() -> None:
    plotter, scene = box_scene()
    layer = MeasurementLayer(plotter)
    # along the hidden bottom edge at the back: the model would hide it if depth applied
    hidden = dist("Behind", (0, 1, 0), (2, 1, 0))
    layer.set_measurements([hidden], "mm")
    mid = display(plotter, (1, 1, 0))
    assert magenta_near(plotter.screenshot(), *mid)
    # cut the box in half: the line still shows; the model's cut-away half is gone
    scene.set_clip_plane((1, 0.5, 0.25), (1, 0, 0))
    image = plotter.screenshot()
    assert magenta_near(image, *display(plotter, (1.8, 1, 0)))
    assert magenta_near(image, *display(plotter, (0.2, 1, 0)))
    # and the section still cuts the model itself (the layer did not disturb the scene)
    picked = scene.pick_point(*display_vtk(plotter, (1.9, 0.5, 0.5)))
    assert picked is None or picked[1][0] <= 1.0 + 1e-6
    plotter.close()


def display_vtk(plotter: pv.Plotter, point) -> tuple[int, int]:
    """VTK display (x, y) of a world point (origin bottom left)."""
    r = plotter.renderer
    r.SetWorldPoint(*point, 1.0)
    r.WorldToDisplay()
    x, y, _ = r.GetDisplayPoint()
    return int(round(x)), int(round(y))


def test_pick_point_returns_the_triangle_and_the_surface_point() -> None:
    plotter, scene = box_scene()
    plotter.render_window.Render()
    x, y = display_vtk(plotter, (1.0, 0.5, 0.5))  # the middle of the top face
    tri, point = scene.pick_point(x, y)
    assert point[2] == pytest.approx(0.5, abs=1e-6)
    assert abs(point[0] - 1.0) < 0.05 and abs(point[1] - 0.5) < 0.05
    corners = scene.model.points[scene.model.triangles[tri]]
    assert np.allclose(corners[:, 2], 0.5)  # a triangle of the top face
    assert scene.pick_point(2, 2) is None  # the background
    plotter.close()


def test_unit_switch_selection_labels_apart_and_close() -> None:
    plotter, _scene = box_scene()
    layer = MeasurementLayer(plotter)
    a = dist("One", (0, 0, 0.5), (2, 1, 0.5))
    b = Measurement(
        name="Two",
        kind="area",
        points=[(0, 0, 0.5), (2, 0, 0.5), (2, 1, 0.5), (0, 1, 0.5)],
        value=2.0,
        unit="m",
    )  # its centre is the distance's midpoint: the labels would sit on each other
    layer.set_measurements([a, b])
    assert layer.labels[a.id].GetInput().startswith("One: 2.2361 m")
    layer.set_unit("mm")
    assert layer.labels[a.id].GetInput().startswith("One: 2,236.1 mm")
    assert layer.labels[b.id].GetInput() == "Two: 2,000,000 mm²"
    plotter.render_window.Render()
    boxes = []
    for label in layer.labels.values():
        bb = [0.0] * 4
        label.GetBoundingBox(layer.renderer, bb)  # relative to the label's position
        x, y = label.GetPositionCoordinate().GetComputedDisplayValue(layer.renderer)
        boxes.append((x, x + bb[1] - bb[0], y, y + bb[3] - bb[2]))
    (l1, r1, b1, t1), (l2, r2, b2, t2) = boxes
    assert r1 <= l2 or r2 <= l1 or t1 <= b2 or t2 <= b1  # apart
    layer.select(b.id)
    frame = layer.labels[b.id].GetTextProperty().GetFrameColor()
    assert frame == pytest.approx((1, 1, 1))
    assert layer.labels[a.id].GetTextProperty().GetFrameColor() == pytest.approx(MEASURE_COLOUR)
    layer.show_snap((2, 0, 0.5), "vertex")
    assert layer.snap_shown and layer.snap_kind == "vertex"
    layer.show_snap((1, 0, 0.5), "edge_midpoint")
    assert layer.snap_kind == "edge_midpoint"
    layer.set_pending([(0, 0, 0), (1, 0, 0)], text="1 m")
    plotter.render_window.Render()
    layer.clear()
    assert not layer.labels and not layer.snap_shown
    assert layer.renderer.GetViewProps().GetNumberOfItems() == 0
    window = plotter.renderer.GetRenderWindow()
    layer.close()
    assert not window.HasRenderer(layer.renderer)
    plotter.close()
