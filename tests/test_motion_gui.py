"""Moving parts in the window: the scene's mesh follows the pose, a click picks a moved part
where it is shown, the section plane cuts it there, and the headless renderer poses it too."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QPoint, Qt  # noqa: E402

from twinviewer.core.samples import SampleBatch  # noqa: E402
from twinviewer.session import TwinSession  # noqa: E402

from .test_motion import vertices_of, write_skip_twin  # noqa: E402

pytestmark = pytest.mark.gui


def open_twin(qtbot, window, path: Path) -> None:
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        window.open_project(path, sources=[])
    window.view.scene.standard_view("front")
    window.view.render_now()


def screen_pos(window, world) -> QPoint:
    r = window.view.interactor.renderer
    r.SetWorldPoint(*world, 1.0)
    r.WorldToDisplay()
    x, y, _ = r.GetDisplayPoint()
    widget = window.view.interactor
    ratio = widget.devicePixelRatioF()
    return QPoint(int(round(x / ratio)), int(round(widget.height() - 1 - y / ratio)))


def click(qtbot, window, world) -> None:
    pos = screen_pos(window, world)
    widget = window.view.interactor
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=pos)


def test_moved_part_is_drawn_picked_and_cut_where_it_is(qtbot, window, tmp_path: Path) -> None:
    open_twin(qtbot, window, write_skip_twin(tmp_path))
    s = window.session
    skip = vertices_of(s.model, "skip")
    rest = s.model.points[skip].copy()
    s.queue.put(SampleBatch(np.array([0], np.int32), np.array([1.0e9]), np.array([6.0])))
    window.tick(force=True)
    scene = window.view.scene
    drawn = np.asarray(scene.mesh.points)
    np.testing.assert_allclose(drawn, s.posed_points, atol=1e-6)
    np.testing.assert_allclose(drawn[skip], rest + [0, 0, -6], atol=1e-4)
    scene.fit()
    window.view.render_now()

    # the skip is now 6 m lower: a click where it was picks nothing of it, where it is picks it
    middle = (rest.min(axis=0) + rest.max(axis=0)) / 2
    click(qtbot, window, middle + [0, 0, -6])
    skip_index = s.model.index_of("skip")
    assert window.workbench.selection == (skip_index,)
    window.workbench.selection = ()
    click(qtbot, window, middle)
    assert skip_index not in window.workbench.selection

    # a section plane below the moved skip's middle cuts it where it is drawn
    scene.set_clip_plane(middle + [0, 0, -6], (0, 0, -1))
    window.view.render_now()
    click(qtbot, window, middle + [0, 0, -6.5])  # the half cut away: nothing there
    assert skip_index not in window.workbench.selection
    click(qtbot, window, middle + [0, 0, -5.5])
    assert window.workbench.selection == (skip_index,)
    scene.set_clip_plane(None)

    # moving again with the skip selected: the outline follows it
    s.queue.put(SampleBatch(np.array([0], np.int32), np.array([1.0e9 + 1]), np.array([2.0])))
    window.tick(force=True)
    outline = window.view.interactor.actors["twin-highlight"].GetBounds()
    assert outline[4] == pytest.approx(float(rest[:, 2].min()) - 2, abs=1e-3)

    # X-ray: the translucent cells are drawn over the same (moved) points
    scene.highlight([s.model.index_of("base")])
    scene.set_xray(True)
    s.queue.put(SampleBatch(np.array([0], np.int32), np.array([1.0e9 + 2]), np.array([9.0])))
    window.tick(force=True)
    window.view.render_now()
    ghost = scene._ghost_mapper.GetInput()
    assert ghost.GetNumberOfCells() == int((s.model.cell_component == skip_index).sum())
    assert ghost.GetBounds()[4] == pytest.approx(float(rest[:, 2].min()) - 9, abs=1e-3)
    scene.set_xray(False)


def test_headless_render_draws_the_pose(tmp_path: Path) -> None:
    import pyvista as pv

    from twinviewer.render.scene import TwinScene
    from twinviewer.session.headless import draw_session

    session = TwinSession.open(write_skip_twin(tmp_path))
    session.state.apply(SampleBatch(np.array([0], np.int32), np.array([1.0]), np.array([3.5])))
    session.update(2.0)
    plotter = pv.Plotter(off_screen=True, window_size=[200, 150])
    try:
        scene = TwinScene(plotter)
        scene.show_model(session.model)
        draw_session(scene, session)
        np.testing.assert_allclose(np.asarray(scene.mesh.points), session.posed_points)
        skip = vertices_of(session.model, "skip")
        top = float(session.model.points[skip, 2].max())  # the model's own: not touched
        assert float(np.asarray(scene.mesh.points)[skip, 2].max()) == pytest.approx(top - 3.5)
    finally:
        plotter.close()
