"""The window as a host: it stays on its screen, its layout can be reset, the status bar's model
warnings can be read, and what the user sees follows the workbench model."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402

from tests.test_gui import open_and_wait  # noqa: E402
from tests.test_sim_overlay import twin as overlay_twin  # noqa: E402, F401


def inside_screen(window) -> bool:
    return window.screen().availableGeometry().contains(window.frameGeometry())


@pytest.mark.parametrize("size", [(1600, 1000), (1024, 700), (800, 560)])
def test_window_stays_on_the_screen_after_picking_a_fidelity_row(
    qtbot,
    window,
    overlay_twin: Path,  # noqa: F811
    size: tuple[int, int],
) -> None:
    window.resize(*size)
    open_and_wait(qtbot, window, overlay_twin)
    overlays = window.features["overlays"]
    window.dock("Simulation").raise_()
    overlays.panel.visible.setChecked(True)
    window.refresh_panels()
    overlays.panel.table.setCurrentCell(0, 0)  # charts the sensor: the panel grows taller
    qtbot.wait(200)
    assert overlays.panel.chart.isVisible()
    assert inside_screen(window), (window.frameGeometry(), window.screen().availableGeometry())
    assert window.width() <= max(size[0], window.minimumSizeHint().width())
    # the toolbar keeps its colour chooser, and the tree is wide enough to read
    assert overlays.host.features["colouring"].combo.isVisible()
    assert window.dock("Components").width() >= 150


def test_reset_layout_puts_every_dock_back(qtbot, window, building: Path) -> None:
    open_and_wait(qtbot, window, building)
    inspector, charts = window.dock("Inspector"), window.dock("Charts")
    inspector.hide()
    charts.setFloating(True)
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, window.dock("Alarms and events"))
    window.resize(700, 500)
    window.action("view.reset_layout").trigger()
    qtbot.wait(100)
    assert inspector.isVisible() and not charts.isFloating()
    area = window.dockWidgetArea
    assert area(inspector) == Qt.DockWidgetArea.RightDockWidgetArea
    assert area(window.dock("Alarms and events")) == Qt.DockWidgetArea.BottomDockWidgetArea
    assert window.dock("Simulation") in window.tabifiedDockWidgets(charts)
    assert window.dock("Data sources") in window.tabifiedDockWidgets(
        window.dock("Alarms and events")
    )
    assert (window.width(), window.height()) == (1600, 1000)
    assert inside_screen(window)
    assert window.dock("Components").width() >= 180


def test_a_folder_with_a_broken_file_opens_and_lists_what_it_skipped(
    qtbot, window, tmp_path: Path
) -> None:
    folder = tmp_path / "plant"
    folder.mkdir()
    (folder / "pump.obj").write_text("o pump\nv 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    (folder / "valve.obj").write_text("o valve\nv 2 0 0\nv 3 0 0\nv 2 1 0\nf 1 2 3\n")
    (folder / "broken.stl").write_text("this is not an STL file")
    open_and_wait(qtbot, window, folder)
    assert window.session.model.n_components == 2  # the good parts are there
    button = window.status.warnings_button
    assert button.isVisible() and button.text() == "⚠ 1 warning"
    dialog = window.status.show_warnings()
    assert dialog.isVisible()
    rows = [dialog.list.item(i).text() for i in range(dialog.list.count())]
    assert len(rows) == 1 and "broken.stl" in rows[0], rows
    dialog.close()
    window.close_session()
    assert not button.isVisible()


def test_search_is_cleared_when_another_model_opens(
    qtbot, window, building: Path, tmp_path
) -> None:
    open_and_wait(qtbot, window, building)
    tree = window.features["components"].tree
    tree.search.setText("floor_1")
    obj = tmp_path / "one.obj"
    obj.write_text("o part\nv 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    open_and_wait(qtbot, window, obj)
    assert tree.search.text() == ""
    assert not tree.tree.topLevelItem(0).isHidden()


def test_colour_by_shows_the_residual_mode_and_the_fidelity_chart_its_zone(
    qtbot,
    window,
    overlay_twin: Path,  # noqa: F811
) -> None:
    text = overlay_twin.read_text() + "display: {timezone: Asia/Kolkata}\n"
    overlay_twin.write_text(text)
    open_and_wait(qtbot, window, overlay_twin)
    combo = window.features["colouring"].combo
    panel = window.features["overlays"].panel
    assert combo.currentText().startswith("Worst status")
    panel.residual.setChecked(True)
    assert combo.currentText() == "Residual: heat"
    assert window.workbench.residual
    combo.setCurrentIndex(0)
    combo.activated.emit(0)  # the user picks a quantity again: residual colouring ends
    assert not window.workbench.residual and not panel.residual.isChecked()
    assert panel.chart.getAxis("bottom").utcOffset == -5.5 * 3600


HOUSING_WITH_BEARING = """\
o housing
v -1 -1 -1
v 1 -1 -1
v 1 1 -1
v -1 1 -1
v -1 -1 1
v 1 -1 1
v 1 1 1
v -1 1 1
f 1 3 2
f 1 4 3
f 5 6 7
f 5 7 8
f 1 2 6
f 1 6 5
f 2 3 7
f 2 7 6
f 3 4 8
f 3 8 7
f 4 1 5
f 4 5 8
o bearing
v -0.4 -0.4 -0.4
v 0.4 -0.4 -0.4
v 0.4 0.4 -0.4
v -0.4 0.4 -0.4
v -0.4 -0.4 0.4
v 0.4 -0.4 0.4
v 0.4 0.4 0.4
v -0.4 0.4 0.4
f 9 11 10
f 9 12 11
f 13 14 15
f 13 15 16
f 9 10 14
f 9 14 13
f 10 11 15
f 10 15 14
f 11 12 16
f 11 16 15
f 12 9 13
f 12 13 16
"""


def test_xray_shows_a_part_inside_another(qtbot, window, tmp_path: Path) -> None:
    import time

    import numpy as np

    from twinviewer.core.samples import SampleBatch

    (tmp_path / "pump.obj").write_text(HOUSING_WITH_BEARING)
    project = tmp_path / "pump.twin.yaml"
    project.write_text(
        "name: Pump\nmodels: [pump.obj]\nsensors:\n"
        "  - {id: bearing_T, quantity: temperature, unit: degC, component: bearing,"
        " range: [0, 100], alarm: {high: 80}}\n"
    )
    open_and_wait(qtbot, window, project)
    s = window.session
    s.queue.put(SampleBatch.of([0], [time.time()], [95.0]))  # the bearing in alarm: red
    window.tick(force=True)
    scene = window.view.scene
    scene.set_camera((0, -8, 0), (0, 0, 0), (0, 0, 1))

    def centre() -> np.ndarray:
        window.view.render_now()
        img = np.asarray(window.view.interactor.screenshot(None, return_img=True))
        h, w = img.shape[:2]
        return img[h // 2, w // 2, :3].astype(int)

    before = centre()
    assert before[0] - before[2] < 30  # the grey housing hides the bearing
    window.workbench.selection = (s.model.index_of("bearing"),)
    window.action("components.xray").trigger()  # View > X-ray (X)
    assert window.workbench.xray
    after = centre()
    assert after[0] - after[2] > 80, (before, after)  # the red bearing shows through
    window.action("components.xray").trigger()
    assert not window.workbench.xray and abs(centre() - before).max() < 40


def test_a_history_only_project_opens_fitted_to_its_data(qtbot, window, building: Path) -> None:
    from twinviewer.core.samples import SampleBatch
    from twinviewer.session import TwinSession

    t0 = 1_388_534_400.0  # 2014-01-01, as an imported historian export would be
    headless = TwinSession.open(building)
    headless.open_history()
    headless.history.append(SampleBatch.of([0, 0, 1], [t0, t0 + 3600, t0 + 7200], [20, 30, 40]))
    headless.close()
    open_and_wait(qtbot, window, building)
    tl = window.workbench.timeline
    assert (tl.start, tl.end) == (t0, t0 + 7200) and not tl.live and tl.current == t0 + 7200
    bar = window.features["timeline"].bar
    assert not bar.live_available and not bar.live_button.isVisible()
    assert window.features["charts"].panel.time_window == float("inf")  # all of it
    window.workbench.selection = (window.session.model.index_of("floor_0"),)
    window.tick(force=True)
    assert window.session.shown_value[0] == 30.0  # the recorded value at the end of the data
