"""A simulation result opened by itself in the window (issue 14, items 5 and 8), driven with
pytest-qt: an OpenFOAM case shows its overlay at once, the timeline spans exactly its steps
with no live edge, the step slider moves the timeline and recolours the model (and follows the
timeline and the player), and File > Open on a broken case gives an error dialog."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")
pytest.importorskip("vtkmodules.vtkIOGeometry")

from PySide6.QtWidgets import QMessageBox  # noqa: E402

from tests.test_gui import open_and_wait  # noqa: E402
from tests.test_sim_openfoam import write_cavity  # noqa: E402
from twinviewer.session.result_twin import open_result_twin  # noqa: E402
from twinviewer.ui.overlays.feature import OverlaysFeature  # noqa: E402
from twinviewer.ui.timeline.feature import TimelineFeature  # noqa: E402

STEPS = [0.0, 0.1, 0.2]


def overlay_colours(window, name: str) -> np.ndarray:
    """The RGBA the overlay's lookup table gives its scalars (what is drawn on the model)."""
    from vtkmodules.util.numpy_support import numpy_to_vtk, vtk_to_numpy

    _, actor, _ = window.view.scene._overlays[name]
    lut = actor.GetMapper().GetLookupTable()
    values = numpy_to_vtk(np.ascontiguousarray(window.view.scene.overlay_values(name)), deep=1)
    return vtk_to_numpy(lut.MapScalars(values, 0, -1)).copy()


def test_an_openfoam_case_plays_on_the_timeline(qtbot, window, tmp_path: Path) -> None:
    case = write_cavity(tmp_path / "cavity", nx=6, ny=6)
    open_and_wait(qtbot, window, case)  # what File > Open does with a case folder
    s = window.session
    assert s.project.name == "cavity" and not s.sensors and s.history is None
    overlays = window.feature(OverlaysFeature)
    panel = overlays.panel
    scene = window.view.scene
    # the result is shown at once, on the patches (the components), which it covers
    assert panel.current == "cavity" and panel.visible.isChecked()
    qtbot.waitUntil(lambda: not window.dock("Simulation").visibleRegion().isEmpty())
    assert "cavity" in scene._overlays and "cavity" in overlays.sims
    patches = [s.model.index_of(p) for p in ("movingWall", "fixedWalls", "frontAndBack")]
    assert all(scene.hidden[i] for i in patches)
    from twinviewer.ui.components.feature import ComponentsFeature

    tree = window.feature(ComponentsFeature).tree.tree
    assert tree.topLevelItem(0).text(0) == "boundary"
    assert [tree.topLevelItem(0).child(k).text(0) for k in range(3)] == [
        "movingWall",
        "fixedWalls",
        "frontAndBack",
    ]
    # the timeline holds exactly the steps, at the first, with no live edge to claim
    tl = window.workbench.timeline
    assert (tl.start, tl.end) == pytest.approx((STEPS[0], STEPS[-1]))
    assert tl.current == pytest.approx(STEPS[0]) and not tl.live
    timeline = window.feature(TimelineFeature)
    bar = timeline.bar
    assert timeline.toolbar.isEnabled() and bar.isEnabled() and bar.play_button.isEnabled()
    assert not bar.live_button.isVisible() and not bar.live_available
    # its times read as solution seconds, not as instants of 1970
    assert bar.time_label.text() == "t = 0 s"
    labels = [k.label for k in bar.slider.ticks()]
    assert labels and all(x.endswith(" s") for x in labels) and "0.1 s" in labels
    # the step slider: its label, and moving it moves the timeline and recolours the model
    assert panel.step_slider.maximum() == 2 and panel.step_slider.isEnabled()
    assert panel.step_label.text() == "step 1 / 3 — t = 0 s"
    window.tick(force=True)
    at_0 = scene.overlay_values("cavity").copy()
    colours_0 = overlay_colours(window, "cavity")
    panel.step_slider.setValue(2)
    assert tl.current == pytest.approx(0.2) and not tl.live
    assert bar.time_label.text() == "t = 0.2 s"
    window.tick(force=True)
    at_2 = scene.overlay_values("cavity").copy()
    assert panel.step_label.text() == "step 3 / 3 — t = 0.2 s"
    assert np.nanmax(at_0) == 0.0 and np.nanmax(at_2) > 0.0
    sim = overlays.sims["cavity"]
    np.testing.assert_allclose(at_2, sim.frame(0.2).values)
    assert (overlay_colours(window, "cavity") != colours_0).any()
    # the timeline moving moves the slider
    tl.current = 0.1
    window.tick(force=True)
    assert panel.step_slider.value() == 1 and panel.step_label.text().endswith("t = 0.1 s")
    np.testing.assert_allclose(scene.overlay_values("cavity"), at_2 / 2, rtol=1e-5, atol=1e-9)
    # the step buttons of the timeline go from step to step
    timeline.controller.step_sample(+1)
    assert tl.current == pytest.approx(0.2)
    timeline.controller.step_sample(-1)
    assert tl.current == pytest.approx(0.1)
    # the player plays the steps from the start and stops at the last (no live edge)
    tl.current = 0.0
    timeline.player.play()
    qtbot.waitUntil(lambda: not timeline.player.playing, timeout=10000)
    window.tick(force=True)
    assert tl.current == pytest.approx(0.2) and not tl.live
    assert panel.step_slider.value() == 2
    # another colour map recolours the same values
    before = overlay_colours(window, "cavity")
    panel.colormap_combo.setCurrentText("viridis")
    panel.colormap_combo.activated.emit(panel.colormap_combo.currentIndex())
    assert overlays.sims["cavity"].cfg.colormap == "viridis"
    assert (overlay_colours(window, "cavity") != before).any()
    window.close_session()


def test_a_steady_result_opened_before_the_window(qtbot, window, tmp_path: Path) -> None:
    """`twinviewer open` reads the result first and hands the window the session; one step:
    nothing to play, the slider is off."""
    import pyvista as pv

    x, y, z = np.meshgrid(*(np.arange(3.0),) * 3, indexing="ij")
    grid = pv.StructuredGrid(x, y, z).cast_to_unstructured_grid()
    grid.point_data["T [degC]"] = np.asarray(grid.points[:, 2] * 10.0)
    path = tmp_path / "steady.vtu"
    grid.save(path)
    session = open_result_twin(path)
    assert session is not None
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        window.show_session(session)
    panel = window.feature(OverlaysFeature).panel
    assert panel.current == "steady" and "steady" in window.view.scene._overlays
    assert not panel.step_slider.isEnabled()
    assert panel.step_label.text() == "step 1 / 1 — t = 0 s"
    tl = window.workbench.timeline
    assert tl.span == 0.0 and tl.current == 0.0 and not tl.live
    values = window.view.scene.overlay_values("steady")
    assert np.nanmin(values) == pytest.approx(0.0) and np.nanmax(values) == pytest.approx(20.0)
    window.close_session()


def test_a_broken_case_from_file_open_is_an_error_dialog(qtbot, window, tmp_path: Path) -> None:
    case = write_cavity(tmp_path / "cavity")
    (case / "constant" / "polyMesh" / "faces").unlink()
    window.open_project(case / "case.foam")
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "load-error") is not None, timeout=30000)
    box = window.findChild(QMessageBox, "load-error")
    assert box.windowTitle() == "The simulation result could not be read"
    assert box.text().startswith(str(case / "case.foam")) and "faces" in box.text()
    assert "\n" not in box.text() and window.session is None
    box.close()


def test_a_step_on_another_mesh_is_reported_once(qtbot, window, corpus: Path) -> None:
    """The corpus's sphere series changes its mesh after the first step: the overlay stays on
    the last step it could draw, and the user is told once (not at every frame)."""
    series = "pvd_dualSphereAnimation/dualSphereAnimation/dualSphereAnimation.vtp.series"
    path = corpus / "sim" / series
    if not path.is_file():
        pytest.skip("the sphere series is not in the corpus")
    open_and_wait(qtbot, window, path)
    tl = window.workbench.timeline
    assert (tl.start, tl.end) == (0.0, 25.0)
    first = window.view.scene.overlay_values("dualSphereAnimation").copy()
    for t in (3.0, 6.0, 25.0):
        tl.current = t
        window.tick(force=True)
    boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    assert len(boxes) == 1 and "step 2 of 11" in boxes[0].text()
    np.testing.assert_array_equal(window.view.scene.overlay_values("dualSphereAnimation"), first)
    assert window.feature(OverlaysFeature).panel.step_slider.value() == 10  # it follows time
    boxes[0].close()
    window.close_session()
