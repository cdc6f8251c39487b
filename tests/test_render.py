"""The scene on an off-screen plotter (EGL, no X server): colours, hiding, picking, legend."""

from __future__ import annotations

import numpy as np
import pytest
import pyvista as pv

from twinviewer.core.model import ModelBuilder
from twinviewer.render.scene import TwinScene, configure_for_software_rendering


def quad(x0: float, x1: float) -> tuple[np.ndarray, np.ndarray]:
    v = np.array([[x0, 0, 0], [x1, 0, 0], [x1, 0, 1], [x0, 0, 1]], float)
    return v, np.array([[0, 1, 2], [0, 2, 3]])


@pytest.fixture
def scene():
    configure_for_software_rendering()
    b = ModelBuilder("three panels")
    root = b.add("wall")
    b.add("left", root, *quad(0, 1))
    b.add("middle", root, *quad(1.2, 2.2))
    b.add("right", root, *quad(2.4, 3.4))
    model = b.build()
    plotter = pv.Plotter(off_screen=True, window_size=[600, 300])
    s = TwinScene(plotter, background="black")
    s.show_model(model)
    s.standard_view("front")
    yield s
    plotter.close()


def pixel_at(scene: TwinScene, x_world: float) -> np.ndarray:
    """The screen colour at a world point on the wall (z=0.5)."""
    r = scene.plotter.renderer
    r.SetWorldPoint(x_world, 0, 0.5, 1)
    r.WorldToDisplay()
    dx, dy, _ = r.GetDisplayPoint()
    scene.plotter.render()
    img = scene.plotter.screenshot(return_img=True)
    h = img.shape[0]
    return img[h - 1 - int(dy), int(dx), :3].astype(int)


def test_one_table_write_recolours_components(scene: TwinScene) -> None:
    colours = np.array(
        [[0, 0, 0, 255], [255, 0, 0, 255], [0, 255, 0, 255], [0, 0, 255, 255]], np.uint8
    )
    scene.set_component_colours(colours)
    cells = scene.cell_colours()
    assert (cells[:2] == [255, 0, 0, 255]).all() and (cells[4:] == [0, 0, 255, 255]).all()
    left, right = pixel_at(scene, 0.5), pixel_at(scene, 2.9)
    assert left[0] > 120 and left[1] < 60 and left[2] < 60, left  # red, shaded by lighting
    assert right[2] > 120 and right[0] < 60 and right[1] < 60, right
    # recolour again: the screen follows, with no new actor
    n_actors = len(scene.plotter.renderer.actors)
    colours[1] = (0, 255, 0, 255)
    scene.set_component_colours(colours)
    assert pixel_at(scene, 0.5)[1] > 120
    assert len(scene.plotter.renderer.actors) == n_actors


def test_hidden_components_are_not_drawn(scene: TwinScene) -> None:
    scene.set_component_colours(np.full((4, 4), 255, np.uint8))
    hidden = np.array([False, False, True, False])
    scene.set_hidden(hidden)
    assert (pixel_at(scene, 1.7) < 30).all()  # background shows through the middle panel
    assert (pixel_at(scene, 0.5) > 100).all()
    scene.set_hidden(np.zeros(4, bool))
    assert (pixel_at(scene, 1.7) > 100).all()


def test_pick_returns_the_component_under_the_pixel(scene: TwinScene) -> None:
    scene.plotter.render()
    r = scene.plotter.renderer
    for x_world, name in ((0.5, "left"), (2.9, "right")):
        r.SetWorldPoint(x_world, 0, 0.5, 1)
        r.WorldToDisplay()
        dx, dy, _ = r.GetDisplayPoint()
        picked = scene.pick(int(dx), int(dy))
        assert picked is not None and scene.model.components[picked].id == name
    assert scene.pick(2, 2) is None  # a corner: nothing there


def test_highlight_adds_and_clears_an_outline(scene: TwinScene) -> None:
    scene.highlight([2])
    assert "twin-highlight" in scene.plotter.actors
    scene.highlight([])
    assert "twin-highlight" not in scene.plotter.actors


def test_legend_and_standard_views(scene: TwinScene) -> None:
    from twinviewer.core.colour import COLORMAPS

    scene.set_legend("Temperature [degC]", COLORMAPS["thermal"], 0, 120)
    bar = scene._scalar_bar
    assert bar is not None and bar.GetTitle() == "Temperature [degC]"
    assert bar.GetLookupTable().GetRange() == (0.0, 120.0)
    scene.standard_view("top")
    pos, focal, up = scene.camera()
    assert pos[2] > focal[2]
    with pytest.raises(ValueError, match="unknown view"):
        scene.standard_view("sideways")


def test_big_models_move_with_a_coarse_stand_in_keeping_colours() -> None:
    from twinviewer.bench import write_bench_glb
    from twinviewer.formats import read_model
    from twinviewer.render import scene as scene_module

    configure_for_software_rendering()
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        model = read_model(write_bench_glb(Path(tmp) / "m.glb", n_components=4000))
    plotter = pv.Plotter(off_screen=True, window_size=[400, 300])
    try:
        s = TwinScene(plotter)
        s.show_model(model)
        full = s.drawn_cells
        assert full == model.n_triangles == 400_000 > scene_module.COARSE_ABOVE
        s.begin_interaction()
        coarse = plotter.renderer.actors["twin-model"].GetMapper().GetInput()
        assert s.interacting and s.drawn_cells < full / 4
        comp = np.asarray(pv.wrap(coarse).cell_data["component"])
        assert comp.min() >= 0 and comp.max() < model.n_components  # same lookup table applies
        s.end_interaction()
        assert s.drawn_cells == full and not s.interacting
    finally:
        plotter.close()


def test_clip_plane_cuts_the_twin_and_overlays(scene: TwinScene) -> None:
    """A section at x = 1.7 with its normal along +x removes the right side: the twin's right
    panel and an overlay drawn over it; removing the plane brings both back."""
    from twinviewer.core.colour import COLORMAPS

    scene.set_component_colours(np.full((4, 4), 255, np.uint8))
    scene.set_clip_plane((1.7, 0.0, 0.0), (1.0, 0.0, 0.0))
    assert (pixel_at(scene, 2.9) < 30).all()  # cut away
    assert (pixel_at(scene, 0.5) > 100).all()  # kept
    # an overlay added while the section is on is cut too
    pts, tris = quad(2.4, 3.4)
    pts[:, 1] = -0.01  # just in front of the wall
    scene.set_overlay("ov", pts, tris, np.full(4, 1.0), COLORMAPS["inferno"], 0, 1, None)
    assert (pixel_at(scene, 2.9) < 30).all()
    scene.set_clip_plane(None)
    right = pixel_at(scene, 2.9)
    assert right.max() > 100 and not (right > 200).all()  # the overlay's colour, not white
    with pytest.raises(ValueError, match="normal"):
        scene.set_clip_plane((0, 0, 0), (0, 0, 0))
