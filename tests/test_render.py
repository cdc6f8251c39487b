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
        assert picked is not None and scene.model is not None
        assert scene.model.components[picked].id == name
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
    # a narrow view: the title is wrapped onto two lines rather than cut off
    assert bar is not None and bar.GetTitle().split() == ["Temperature", "[degC]"]
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


# --- X-ray --------------------------------------------------------------------------------------


def box(half: float) -> tuple[np.ndarray, np.ndarray]:
    """A closed cube of half-size ``half`` about the origin, as triangles."""
    cube = pv.Box(bounds=(-half, half, -half, half, -half, half)).triangulate()
    return np.asarray(cube.points, float), np.asarray(cube.faces).reshape(-1, 4)[:, 1:]


@pytest.fixture
def nested():
    """A housing with a bearing inside it, and a bracket beside it (at x = 2)."""
    configure_for_software_rendering()
    b = ModelBuilder("housing")
    root = b.add("machine")
    b.add("housing", root, *box(1.0))
    b.add("bearing", root, *box(0.4))
    pts, tris = box(0.3)
    b.add("bracket", root, pts + [2.0, 0, 0], tris)
    plotter = pv.Plotter(off_screen=True, window_size=[500, 300])
    s = TwinScene(plotter, background="black")
    s.show_model(b.build())
    s.standard_view("front")
    colours = np.array(
        [[0, 0, 0, 255], [200, 200, 200, 255], [30, 60, 255, 255], [0, 200, 0, 255]], np.uint8
    )
    s.set_component_colours(colours)
    yield s
    plotter.close()


def centre_pixel(scene: TwinScene, x_world: float = 0.0) -> np.ndarray:
    r = scene.plotter.renderer
    r.SetWorldPoint(x_world, 0, 0, 1)
    r.WorldToDisplay()
    dx, dy, _ = r.GetDisplayPoint()
    scene.plotter.render()
    img = scene.plotter.screenshot(return_img=True)
    return img[img.shape[0] - 1 - int(dy), int(dx), :3].astype(int)


def is_blue(rgb: np.ndarray) -> bool:
    return bool(rgb[2] > 120 and rgb[2] > rgb[0] + 60 and rgb[2] > rgb[1] + 40)


def test_xray_opaque_rule_selection_subtree_then_status_colours() -> None:
    from twinviewer.core.colour import ALARM_COLOUR, NEUTRAL, WARNING_COLOUR
    from twinviewer.render.xray import opaque_components

    # 0 bogie > 1 frame, 2 wheelset > 3 axle box; 4 body
    parents = np.array([-1, 0, 0, 2, -1])
    table = np.tile(NEUTRAL, (5, 1))
    none = np.zeros(0, np.int64)
    assert not opaque_components(table, parents, none).any()
    table[3], table[4] = ALARM_COLOUR, WARNING_COLOUR
    assert opaque_components(table, parents, none).tolist() == [False, False, False, True, True]
    emphasis = np.array([True, False, False, False, False])
    assert opaque_components(table, parents, none, emphasis).tolist() == emphasis.tolist()
    sel = opaque_components(table, parents, np.array([0]))  # a node brings its subtree
    assert sel.tolist() == [True, True, True, True, False]
    wheelset = opaque_components(table, parents, np.array([2]))
    assert wheelset.tolist() == [False, False, True, True, False]


def test_xray_shows_a_selected_inner_part_through_its_housing(nested: TwinScene) -> None:
    s = nested
    bearing = 2
    before = centre_pixel(s)
    assert not is_blue(before) and abs(int(before[0]) - int(before[2])) < 30, before  # grey
    s.highlight([bearing])
    n_actors = len(s.plotter.renderer.actors)
    s.set_xray(True)
    through = centre_pixel(s)
    assert is_blue(through), through  # the bearing, blended with a little housing grey
    assert "twin-xray" in s.plotter.actors
    assert len(s.plotter.renderer.actors) == n_actors + 1  # one more actor, not one per part
    # the housing is translucent, not gone: it tints the bracket behind nothing but shows
    bracket_px = centre_pixel(s, 2.0)
    assert bracket_px[1] > 30 and bracket_px[1] < 200, bracket_px  # translucent green
    # recolouring still reaches both actors through the one table
    colours = s.component_colours.copy()
    colours[bearing] = (255, 0, 0, 255)
    s.set_component_colours(colours)
    red = centre_pixel(s)
    assert red[0] > 120 and red[0] > red[2] + 60, red
    # picking: the opaque bearing is picked through the glass
    r = s.plotter.renderer
    r.SetWorldPoint(0, 0, 0, 1)
    r.WorldToDisplay()
    dx, dy, _ = r.GetDisplayPoint()
    assert s.pick(int(dx), int(dy)) == bearing
    # off again: the housing hides the bearing, one actor draws everything
    s.set_xray(False)
    assert "twin-xray" not in s.plotter.actors
    assert (np.abs(centre_pixel(s) - before) < 20).all()
    assert s.model is not None and s.drawn_cells == s.model.n_triangles


def test_xray_without_selection_keeps_alarmed_parts_opaque(nested: TwinScene) -> None:
    from twinviewer.core.colour import ALARM_COLOUR

    s = nested
    s.set_xray(True, opacity=0.2)
    # nothing selected, nothing alarmed: everything is glass, the bearing faint behind it
    faint = centre_pixel(s)
    assert not (faint[0] > 120 and faint[0] > faint[2] + 60), faint
    colours = s.component_colours.copy()
    colours[2] = ALARM_COLOUR
    s.set_component_colours(colours)  # the bearing goes into alarm: it turns opaque
    alarm = centre_pixel(s)
    assert alarm[0] > 120 and alarm[0] > alarm[1] + 60 and alarm[0] > alarm[2] + 60, alarm
    assert s._opaque is not None and s._opaque.tolist() == [False, False, True, False]
    # an explicit emphasis mask wins over the colours
    s.set_xray_emphasis(np.array([False, False, False, True]))
    assert s._opaque.tolist() == [False, False, False, True]
    s.set_xray_emphasis(None)
    with pytest.raises(ValueError, match="opacity"):
        s.set_xray(True, opacity=2.0)


def test_xray_with_hidden_parts_clip_plane_and_stand_in(nested: TwinScene) -> None:
    s = nested
    housing, bearing, bracket = 1, 2, 3
    s.highlight([bearing])
    s.set_xray(True)
    s.set_hidden(np.array([False, False, False, True]))  # the bracket hidden
    assert (centre_pixel(s, 2.0) < 30).all()
    assert is_blue(centre_pixel(s))
    n_cells = s.drawn_cells
    assert s.model is not None
    assert n_cells == int((s.model.cell_component != bracket).sum())
    # the clip plane cuts both actors: keep x < -0.5 only, the bearing is cut away
    s.set_clip_plane((-0.5, 0, 0), (1, 0, 0))
    assert s._ghost_mapper.GetClippingPlanes().GetNumberOfItems() == 1
    assert not is_blue(centre_pixel(s))
    s.set_clip_plane(None)
    # the camera-move stand-in splits too (forced on this small model)
    from twinviewer.render import scene as scene_module

    old = scene_module.COARSE_ABOVE
    scene_module.COARSE_ABOVE = 0
    try:
        s.begin_interaction()
        assert s.interacting and "twin-xray" in s.plotter.actors
        coarse_ghost = pv.wrap(s._ghost_mapper.GetInput())
        assert set(np.unique(coarse_ghost.cell_data["component"])) <= {housing}
        assert is_blue(centre_pixel(s))
        s.end_interaction()
    finally:
        scene_module.COARSE_ABOVE = old
    assert s.drawn_cells == n_cells
    s.highlight([0])  # the root node: everything under it is opaque, nothing is glass
    assert "twin-xray" not in s.plotter.actors and s.drawn_cells == n_cells
    s.highlight([])  # nothing selected, nothing alarmed: everything translucent
    assert s._opaque is not None and not s._opaque.any()
    assert s._mapper.GetInput().GetNumberOfCells() == 0


# --- colour bars ---------------------------------------------------------------------------------

LONG_TITLES = {
    "legend": "Methane concentration [%LEL]",
    "overlay:residual": "residual\n% of measured",
    "overlay:delta": "no-fault minus\nbaseline, % range",
}


def overlapping(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def check_layout(placements: list, window: tuple[int, int]) -> None:
    """Extents inside the window, below the status key, pairwise apart; titles fit in them."""
    from twinviewer.render.colourbars import STATUS_BOX, measure_text

    w, h = window
    for p in placements:
        x0, y0, x1, y1 = p.extent
        assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= STATUS_BOX[1] * h, p
        assert x0 <= p.x and p.x + p.width <= x1  # the frame lies within what is drawn
        title_w, _ = measure_text(p.title, p.title_size, True)
        assert title_w <= x1 - x0, p  # the whole title, centred over the frame
    for i, a in enumerate(placements):
        for b in placements[i + 1 :]:
            assert not overlapping(a.extent, b.extent), (a, b)


@pytest.mark.parametrize("window", [(1600, 1000), (1024, 700), (640, 400)])
def test_colour_bar_layout_side_by_side_without_overlap(window: tuple[int, int]) -> None:
    from twinviewer.render.colourbars import BarSpec, label_texts, layout_colour_bars

    specs = [
        BarSpec("legend", LONG_TITLES["legend"], label_texts(0, 100), "right"),
        BarSpec("overlay:residual", LONG_TITLES["overlay:residual"], label_texts(0, 200)),
        BarSpec("overlay:delta", LONG_TITLES["overlay:delta"], label_texts(-12345.6, 0.001)),
    ]
    placements = layout_colour_bars(specs, window)
    assert [p.key for p in placements] == [s.key for s in specs]
    check_layout(placements, window)
    legend, residual, delta = placements
    assert legend.extent[2] > window[0] * 0.75  # the legend keeps to the right edge
    assert residual.extent[0] < delta.extent[0]  # overlays side by side from the left edge
    if window[0] >= 1024:
        assert legend.title == "Methane concentration\n[%LEL]"  # wrapped, not clipped
    assert residual.title == "residual\n% of measured" and residual.title_size == 15
    assert label_texts(-12345.6, 0.001)[0] == "-1.235e+04"  # as VTK's %.4g prints it


def test_colour_bars_stack_when_a_row_is_too_wide() -> None:
    from twinviewer.render.colourbars import BarSpec, label_texts, layout_colour_bars

    specs = [
        BarSpec(f"o{k}", f"Overlay number {k} [unit]", label_texts(-1e5, 1e5)) for k in range(6)
    ]
    specs.append(BarSpec("legend", LONG_TITLES["legend"], label_texts(0, 100), "right"))
    wide = layout_colour_bars(specs, (1600, 1000))
    assert len({p.y for p in wide}) == 1  # one row fits
    check_layout(wide, (1600, 1000))
    narrow = layout_colour_bars(specs, (700, 600))
    assert len({p.y for p in narrow}) > 1  # stacked
    check_layout(narrow, (700, 600))


def test_a_title_too_long_for_any_line_is_set_smaller() -> None:
    from twinviewer.render.colourbars import MIN_TITLE_SIZE, TITLE_SIZE, measure_text, wrap_title

    text, size = wrap_title("Temperature [degC]", 500)
    assert (text, size) == ("Temperature [degC]", TITLE_SIZE)
    word = "Supercalifragilistic_sensor_name"
    width = measure_text(word, TITLE_SIZE, True)[0]
    text, size = wrap_title(word, int(width * 0.85))
    assert text == word and MIN_TITLE_SIZE <= size < TITLE_SIZE
    text, size = wrap_title(word, 60)  # not even at the smallest size: cut, never clipped
    assert size == MIN_TITLE_SIZE and text.replace("\n", "") == word
    assert all(measure_text(t, size, True)[0] <= 60 for t in text.split("\n"))


def render_bars(window: tuple[int, int], path) -> tuple[TwinScene, np.ndarray]:
    """The legend, two overlay bars and the status key on a black view with no model."""
    from twinviewer.core.colour import COLORMAPS, STATUS_COLOURS, STATUS_LABELS

    configure_for_software_rendering()
    plotter = pv.Plotter(off_screen=True, window_size=list(window))
    s = TwinScene(plotter, background="black")
    pts, tris = quad(0, 1)
    s.set_legend(LONG_TITLES["legend"], COLORMAPS["viridis"], 0, 100)
    for name, lo, hi in (("residual", 0.0, 200.0), ("delta", -12345.6, 0.001)):
        # the overlay surface itself sits behind the camera: only its bar is on screen
        s.set_overlay(name, pts - 100, tris, np.zeros(4), COLORMAPS["inferno"], lo, hi, None)
        s.set_overlay(
            name,
            pts - 100,
            tris,
            np.zeros(4),
            COLORMAPS["inferno"],
            lo,
            hi,
            LONG_TITLES[f"overlay:{name}"],
        )
    s.set_status_legend([(STATUS_LABELS[k], v) for k, v in STATUS_COLOURS.items()])
    s.set_camera((0, 0, 10), (0, 0, 0), (0, 1, 0))
    plotter.render()
    img = plotter.screenshot(str(path), return_img=True)
    return s, img


@pytest.mark.parametrize("window", [(1600, 1000), (1024, 700)])
def test_rendered_colour_bars_do_not_overlap_and_show_whole_titles(
    window: tuple[int, int], tmp_path
) -> None:
    from twinviewer.render.colourbars import STATUS_BOX

    s, img = render_bars(window, tmp_path / f"bars_{window[0]}.png")
    try:
        placements = s.colour_bars.placements
        assert sorted(p.key for p in placements) == sorted(LONG_TITLES)
        check_layout(placements, window)
        h, w = img.shape[:2]
        assert (w, h) == window
        # every text or ramp pixel lies in a bar's extent or in the status key
        lit = img[..., :3].max(axis=2) > 60
        inside = np.zeros_like(lit)
        for p in placements:
            x0, y0, x1, y1 = p.extent
            inside[h - y1 : h - y0, x0:x1] = True
        sx, sy, sw, sh = STATUS_BOX
        inside[h - int((sy + sh) * h) - 2 : h - int(sy * h) + 2, int(sx * w) - 2 :] = True
        assert lit.any() and not (lit & ~inside).any()
        for p in placements:
            # the title was drawn: light text in the top strip of the bar's extent
            x0, _, x1, y1 = p.extent
            assert lit[h - y1 : h - y1 + 20, x0:x1].sum() > 40, p.key
            # VTK drew the ramp where the layout put the frame
            rect = [0, 0, 0, 0]
            bar = s.colour_bars.get(p.key)
            assert bar is not None
            bar.GetScalarBarRect(rect, s.plotter.renderer)
            assert p.x <= rect[0] and rect[0] + rect[2] <= p.x + p.width + 1, (p, rect)
    finally:
        s.plotter.close()


def test_colour_bars_follow_a_resized_window(tmp_path) -> None:
    s, _ = render_bars((1600, 1000), tmp_path / "big.png")
    try:
        big = {p.key: p.extent for p in s.colour_bars.placements}
        s.plotter.window_size = [1024, 700]
        s.plotter.render()
        small = {p.key: p.extent for p in s.colour_bars.placements}
        assert small != big and small["legend"][2] <= 1024
        check_layout(s.colour_bars.placements, (1024, 700))
        s.clear_overlay("delta")  # a bar going away re-lays out the others
        assert sorted(p.key for p in s.colour_bars.placements) == ["legend", "overlay:residual"]
    finally:
        s.plotter.close()
