"""The workbench window under a virtual X server (pytest-xvfb), driven with pytest-qt."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

from twinviewer.core.colour import ALARM_COLOUR, STALE_COLOUR, Status  # noqa: E402
from twinviewer.core.samples import SampleBatch  # noqa: E402

from .conftest import BUILDING_PROJECT  # noqa: E402

PROJECT = BUILDING_PROJECT


def open_and_wait(qtbot, window, path: Path) -> None:
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        window.open_project(path)


def cells_of(window, component_id: str) -> np.ndarray:
    s = window.session
    i = s.model.index_of(component_id)
    return window.view.scene.cell_colours()[s.model.cell_component == i]


def test_value_arriving_colours_its_component(qtbot, window, building: Path) -> None:
    open_and_wait(qtbot, window, building)
    s = window.session
    assert window.stack.currentWidget() is window.split and window.view.isVisible()
    assert (cells_of(window, "floor_1")[:, :3] == [120, 120, 120]).all()  # no data yet: grey
    now = time.time()
    s.queue.put(SampleBatch.of([0, 1], [now, now], [20.0, 95.0]))  # floor_1 in alarm

    def alarm_drawn() -> bool:
        # floor_1 goes stale 0.5 s after its last sample: on a loaded machine the first frame may
        # come later than that, so the feed keeps it fresh, as a live source would
        s.queue.put(SampleBatch.of([1], [time.time()], [95.0]))
        return bool((cells_of(window, "floor_1") == ALARM_COLOUR).all())

    qtbot.waitUntil(alarm_drawn, timeout=5000)
    from twinviewer.core.colour import COLORMAPS

    expected = COLORMAPS["viridis"][int(0.2 * 255)]
    assert (cells_of(window, "floor_0") == expected).all()
    # floor_1 goes stale after 0.5 s without data: drawn in the stale colour
    qtbot.waitUntil(lambda: (cells_of(window, "floor_1") == STALE_COLOUR).all(), timeout=4000)
    window.refresh_panels()
    assert (
        window.features["components"].tree.item_status(s.model.index_of("floor_1")) == Status.STALE
    )


def test_tree_selection_highlights_and_fills_inspector(qtbot, window, building: Path) -> None:
    open_and_wait(qtbot, window, building)
    s = window.session
    s.queue.put(SampleBatch.of([2], [time.time()], [12.5]))
    window.tick(force=True)
    i = s.model.index_of("floor_2")
    window.features["components"].tree._items[i].setSelected(True)
    assert "twin-highlight" in window.view.interactor.actors
    assert window.features["inspector"].inspector.title.text() == "floor_2"
    assert window.features["inspector"].inspector.value_of("F2_CO") == "12.50 ppm"


def test_click_in_3d_selects_in_tree(qtbot, window, building: Path) -> None:
    open_and_wait(qtbot, window, building)
    s = window.session
    window.features["views"].apply_saved_view("Front")
    window.view.render_now()
    i = s.model.index_of("floor_1")
    pts = s.model.points[np.unique(s.model.triangles[s.model.cell_component == i])]
    centre = (pts.min(axis=0) + pts.max(axis=0)) / 2
    r = window.view.interactor.renderer
    r.SetWorldPoint(*centre, 1.0)
    r.WorldToDisplay()
    x, y, _ = r.GetDisplayPoint()
    widget = window.view.interactor
    ratio = widget.devicePixelRatioF()
    pos = QPoint(int(x / ratio), int(widget.height() - y / ratio))
    with qtbot.waitSignal(window.view.componentPicked, timeout=3000) as sig:
        qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=pos)
        qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=pos)
    assert sig.args == [i]
    assert window.features["components"].tree.selected() == [i]
    assert window.features["inspector"].inspector.title.text() == "floor_1"


def test_isolate_hides_the_others(qtbot, window, building: Path) -> None:
    open_and_wait(qtbot, window, building)
    s = window.session
    i = s.model.index_of("floor_2")
    window.features["components"].tree.select([i])
    window.features["components"].tree.isolate_selected()
    hidden = window.view.scene.hidden
    assert not hidden[i] and hidden[s.model.index_of("floor_0")]
    window.features["components"].tree.show_all()
    assert not window.view.scene.hidden.any()


def test_active_quantity_sets_legend(qtbot, window, building: Path) -> None:
    open_and_wait(qtbot, window, building)
    window.features["colouring"].choose("co")
    bar = window.view.scene._scalar_bar
    assert bar.GetTitle() == "Co [ppm]" and bar.GetLookupTable().GetRange() == (0.0, 50.0)
    # floors without a CO sensor are drawn neutral, not in a temperature colour
    s = window.session
    s.queue.put(SampleBatch.of([0], [time.time()], [50.0]))
    window.tick(force=True)
    assert tuple(cells_of(window, "floor_0")[0][:3]) == (176, 182, 190)


def test_broken_model_gets_an_error_dialog(qtbot, window, tmp_path: Path) -> None:
    bad = tmp_path / "broken.glb"
    bad.write_bytes(b"glTF" + bytes(range(200)))
    window.open_project(bad)
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "load-error") is not None, timeout=10000)
    box = window.findChild(QMessageBox, "load-error")
    assert "broken.glb" in box.text()
    assert window.session is None and window.stack.currentWidget() is window.welcome_page
    box.close()


def test_screenshot_and_recent_projects(qtbot, window, building: Path, tmp_path: Path) -> None:
    open_and_wait(qtbot, window, building)
    out = window.features["views"].save_screenshot(tmp_path / "shot.png")
    assert out.stat().st_size > 10_000
    assert window.features["files"].recent_projects()[0] == str(building.resolve())
    assert (
        window.features["files"].recent_menu.actions()[0].text().endswith(str(building.resolve()))
    )


def test_big_model_loads_in_background_with_progress(qtbot, window, tmp_path: Path) -> None:
    from PySide6.QtCore import QTimer

    from twinviewer.bench import write_bench_glb

    path = write_bench_glb(tmp_path / "big.glb", n_components=10_000)
    progress: list[float] = []
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(10)
    window.open_project(path)
    window._loader.progressed.connect(lambda f, _text: progress.append(f))
    window._loader.loaded.connect(timer.stop)  # count ticks while the worker reads
    with qtbot.waitSignal(window.sessionOpened, timeout=60000):
        pass
    assert any(0 < f < 1 for f in progress), progress  # the bar moved while reading
    assert len(ticks) >= 3  # the event loop kept running while the file was read
    assert window.session.model.n_components == 10_000
    assert window.features["components"].tree.tree.topLevelItemCount() == 10_000


def test_vtk_keys_do_not_reach_the_scene(qtbot, window, building: Path) -> None:
    """'q' would close pyvista's render window and 'w' turn the model to wireframe."""
    open_and_wait(qtbot, window, building)
    widget = window.view.interactor
    widget.setFocus()
    for key in (Qt.Key.Key_W, Qt.Key.Key_Q, Qt.Key.Key_E):
        qtbot.keyClick(widget, key)
    actor = window.view.scene._actor
    assert actor.GetProperty().GetRepresentation() == 2  # still a surface
    assert not getattr(widget, "_closed", False)
    window.view.render_now()
    assert window.view.renders >= 1


def test_sources_panel_shows_the_live_simulator(qtbot, window) -> None:
    from tests.conftest import ASSETS

    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        window.open_project(ASSETS / "mine" / "mine.twin.yaml", speed=5.0)
    panel = window.features["data_sources"].panel

    def live_with_samples() -> bool:
        window.refresh_panels()
        return panel.text(0, 1).startswith("live") and int(panel.text(0, 3).replace(",", "")) > 0

    qtbot.waitUntil(live_with_samples, timeout=5000)
    assert panel.text(0, 0) == "simulator (simulator)"
    assert panel.text(0, 4) == "0"
    window.close_session()  # stops the simulator thread
    assert not window.session


def test_mosquitto_pub_colours_the_bound_component(qtbot, window, corpus: Path, tmp_path: Path):
    """Any ordinary MQTT client colours the twin: mosquitto_pub -> broker -> window."""
    import shutil
    import subprocess

    from tests.mqtt_broker import Mosquitto, find_mosquitto

    if find_mosquitto() is None or shutil.which("mosquitto_pub") is None:
        pytest.skip("mosquitto / mosquitto_pub not installed")
    with Mosquitto(tmp_path / "broker") as broker:
        project = tmp_path / "live.twin.yaml"
        project.write_text(
            PROJECT.format(model=corpus / "meshes" / "gltf" / "no_indices_3storybuilding.glb")
            + f"sources:\n  - {{type: mqtt, url: '{broker.url}', topic: 'bldg/{{sensor}}'}}\n"
        )
        open_and_wait(qtbot, window, project)
        qtbot.waitUntil(
            lambda: window.session.sources[0].status.state.value == "live", timeout=5000
        )
        subprocess.run(
            [
                "mosquitto_pub",
                "-h",
                "127.0.0.1",
                "-p",
                str(broker.port),
                "-q",
                "1",
                "-t",
                "bldg/F0_T",
                "-m",
                '{"value": 91.0}',
            ],
            check=True,
            timeout=10,
        )
        qtbot.waitUntil(lambda: (cells_of(window, "floor_0") == ALARM_COLOUR).all(), timeout=5000)
        window.close_session()


def test_dragging_the_timeline_shows_past_colours_and_live_returns(
    qtbot, window, building: Path
) -> None:
    """Recorded samples: drag the timeline back, a component shows its past colour; Live
    brings the present back."""
    from PySide6.QtCore import QPoint

    from twinviewer.core.colour import COLORMAPS

    open_and_wait(qtbot, window, building)
    s = window.session
    assert s.history is not None  # a project records by default
    now = time.time()
    window.workbench.timeline.set_range(now - 20, now)
    s.queue.put(
        SampleBatch.of([0, 0], [now - 20, now - 1], [20.0, 95.0])
    )  # floor_0: normal, then alarm
    window.tick(force=True)
    s.history.flush()
    assert (cells_of(window, "floor_0") == ALARM_COLOUR).all()  # live: the present
    slider = window.features["timeline"].bar.slider
    y = slider.height() // 2
    qtbot.mousePress(slider, Qt.MouseButton.LeftButton, pos=QPoint(round(slider.x_of(0.9)), y))
    qtbot.mouseMove(slider, QPoint(round(slider.x_of(0.5)), y))
    qtbot.mouseRelease(slider, Qt.MouseButton.LeftButton, pos=QPoint(round(slider.x_of(0.5)), y))
    assert not window.workbench.timeline.live
    past = COLORMAPS["viridis"][int(0.2 * 255)]  # 20 degC on 0..100
    qtbot.waitUntil(lambda: (cells_of(window, "floor_0") == past).all(), timeout=3000)
    qtbot.mouseClick(window.features["timeline"].bar.live_button, Qt.MouseButton.LeftButton)
    assert window.workbench.timeline.live
    qtbot.waitUntil(lambda: (cells_of(window, "floor_0") == ALARM_COLOUR).all(), timeout=3000)


def test_an_idle_live_window_does_not_redraw_every_frame(qtbot, window, building: Path) -> None:
    """Live, with nothing arriving, the view refreshes about once a second (staleness), not
    at the 20 Hz frame rate: a 1M-triangle model costs ~200 ms a frame in software."""
    open_and_wait(qtbot, window, building)
    qtbot.wait(300)
    before = window.view.renders
    qtbot.wait(2000)
    assert window.view.renders - before <= 4


def test_section_plane_cuts_the_twin_and_goes_away(qtbot, window, building: Path) -> None:
    open_and_wait(qtbot, window, building)
    scene = window.view.scene
    assert scene.clip_plane is None
    window.action("section.toggle").trigger()  # View > Section (Ctrl+Shift+X)
    plane = scene.clip_plane
    assert plane is not None
    assert scene._mapper.GetClippingPlanes().GetNumberOfItems() == 1
    b = scene.mesh.bounds
    np.testing.assert_allclose(
        plane.GetOrigin(), [(b[0] + b[1]) / 2, (b[2] + b[3]) / 2, (b[4] + b[5]) / 2]
    )
    window.action("section.toggle").trigger()
    assert scene.clip_plane is None
    assert scene._mapper.GetClippingPlanes() is None or (
        scene._mapper.GetClippingPlanes().GetNumberOfItems() == 0
    )
    window.close_session()
