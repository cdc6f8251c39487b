"""View > Fleet overview in the window: the 3D view swaps to every unit by its state, a click
on a unit selects it and goes back to it."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from tests.test_fleet import FLEET
from twinviewer.core.fleet import Health
from twinviewer.core.samples import SampleBatch
from twinviewer.render.fleet_overview import HEALTH_TABLE

pytestmark = pytest.mark.gui


def _boxes_stl(path: Path) -> None:
    """Two boxes, casing (2 x 1 x 1) and outlet (1 x 1 x 0.5) beside it, as an ASCII STL."""

    def box(lo: tuple[float, float, float], hi: tuple[float, float, float]) -> str:
        x0, y0, z0 = lo
        x1, y1, z1 = hi
        c = [(x, y, z) for x in (x0, x1) for y in (y0, y1) for z in (z0, z1)]
        quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
        out = []
        for a, b, cc, d in quads:
            for tri in ((a, b, cc), (a, cc, d)):
                verts = "".join(f"  vertex {c[k][0]} {c[k][1]} {c[k][2]}\n" for k in tri)
                out.append(f"facet normal 0 0 0\n outer loop\n{verts} endloop\nendfacet\n")
        return "".join(out)

    path.write_text(
        f"solid casing\n{box((0, 0, 0), (2, 1, 1))}endsolid casing\n"
        f"solid outlet\n{box((2, 0.25, 0), (3, 0.75, 0.5))}endsolid outlet\n"
    )


@pytest.fixture
def fleet_window(window, qtbot, tmp_path: Path):
    _boxes_stl(tmp_path / "pumps.stl")
    path = tmp_path / "pumps.twin.yaml"
    path.write_text(FLEET.format(discover="false"))
    window.open_project(path)
    qtbot.waitUntil(lambda: window.session is not None, timeout=30000)
    return window


def _feed(window, values: list[float]) -> None:
    s = window.session
    now = time.time()
    s.queue.put(SampleBatch.of(range(len(values)), [now] * len(values), values))
    window.tick(force=True)
    window.refresh_panels()


def _widget_pos(window, x: float, y: float) -> QPoint:
    widget = window.view.interactor
    ratio = widget.devicePixelRatioF()
    return QPoint(int(x / ratio), int(widget.height() - y / ratio))


def _pixel(window, x: float, y: float) -> np.ndarray:
    import vtk
    from vtk.util.numpy_support import vtk_to_numpy

    window.view.render_now()
    grab = vtk.vtkWindowToImageFilter()
    grab.SetInput(window.view.interactor.ren_win)
    grab.ReadFrontBufferOff()
    grab.Update()
    img = grab.GetOutput()
    w, h, _ = img.GetDimensions()
    rgb = vtk_to_numpy(img.GetPointData().GetScalars()).reshape(h, w, -1)
    return rgb[int(round(y)), int(round(x)), :3].astype(float)  # VTK rows go up, as y does


def test_overview_swaps_the_view_colours_by_state_and_a_click_opens_the_unit(
    fleet_window, qtbot
) -> None:
    from twinviewer.ui.fleet.overview import FleetOverviewFeature

    w = fleet_window
    s = w.session
    feature = w.feature(FleetOverviewFeature)
    act = w.action("fleet.overview")
    assert act.isEnabled() and not act.isChecked()
    twin = w.view.interactor.renderer
    # p1 normal, p2 temperature in alarm, p3 vibration in warning
    _feed(w, [20, 2, 30, 95, 2, 30, 20, 8, 30])

    act.trigger()  # View > Fleet overview
    assert feature.shown and w.view.layer is feature
    assert not twin.GetDraw() and not twin.GetInteractive()
    assert w.view.interactor.ren_win.HasRenderer(feature.renderer)
    overview = feature.overview
    assert overview is not None and overview.n_units == 3
    assert overview.labels == ["p1", "p2", "p3"]
    expected = HEALTH_TABLE[[Health.NORMAL, Health.OUT_OF_SPEC, Health.MAINTENANCE]]
    np.testing.assert_array_equal(overview.colours, expected)
    assert overview.highlighted == 0  # p1 is the selected unit

    # on screen: each unit's centre shows (a shade of) its state's colour
    palette = HEALTH_TABLE[:, :3].astype(float)
    ren = feature.renderer
    for unit in range(3):
        # the end of the outlet, which faces the camera (+x): the labels are over the tops
        ren.SetWorldPoint(*(overview.transforms[unit] @ [3.0, 0.5, 0.25, 1.0]))
        ren.WorldToDisplay()
        px = _pixel(w, *ren.GetDisplayPoint()[:2])
        cos = palette @ px / (np.linalg.norm(palette, axis=1) * np.linalg.norm(px) + 1e-9)
        assert np.argmax(cos) == [Health.NORMAL, Health.OUT_OF_SPEC, Health.MAINTENANCE][unit]

    # the state follows the data on the next refresh: p3 goes into alarm too
    _feed(w, [20, 2, 30, 95, 2, 30, 20, 15, 30])
    np.testing.assert_array_equal(overview.colours[2], HEALTH_TABLE[Health.OUT_OF_SPEC])

    # a click on p2 selects it (the Fleet dock follows) and shows it alone again
    x, y = overview.display_centre(1)
    pos = _widget_pos(w, x, y)
    qtbot.mousePress(w.view.interactor, Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mouseRelease(w.view.interactor, Qt.MouseButton.LeftButton, pos=pos)
    assert s.fleet.selected == "p2"
    w.refresh_panels()
    assert "showing p2" in w.features["fleet"].table.caption.text()
    assert not feature.shown and not act.isChecked() and w.view.layer is None
    assert twin.GetDraw() and twin.GetInteractive()
    assert feature.renderer is None


def test_toggle_off_restores_the_twin_and_camera(fleet_window) -> None:
    from twinviewer.ui.fleet.overview import FleetOverviewFeature

    w = fleet_window
    feature = w.feature(FleetOverviewFeature)
    before = w.view.scene.camera()
    w.action("fleet.overview").trigger()
    assert feature.shown
    # camera moves in the overview move the overview's camera only
    feature.renderer.GetActiveCamera().Azimuth(30)
    feature.begin_interaction()
    assert feature.overview.interacting
    feature.end_interaction()
    w.action("fleet.overview").trigger()
    assert not feature.shown and w.view.layer is None
    assert w.view.scene.camera() == before
    assert w.view.interactor.renderer.GetDraw()


def test_overview_is_off_for_a_twin_without_a_fleet(window, qtbot, building: Path) -> None:
    window.open_project(building)
    qtbot.waitUntil(lambda: window.session is not None, timeout=30000)
    act = window.action("fleet.overview")
    assert not act.isEnabled()
    from twinviewer.ui.fleet.overview import FleetOverviewFeature

    window.feature(FleetOverviewFeature).toggle(True)
    assert not window.feature(FleetOverviewFeature).shown and not act.isChecked()
