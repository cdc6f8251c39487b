"""File > Add simulation result… in the window: a result in metres placed off a model in
millimetres is read, described and flagged (both boxes), Fit result to twin puts it on the twin,
OK writes the overlay into the project (comments kept), the Simulation dock lists and shows it,
and Ctrl+Z / Ctrl+Shift+Z take it out of the file and put it back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.gui

PROJECT = """\
# Pyramids on a plate: the thermal test rig (model in mm)
name: Pyramid rig
models: [{model}]
sensors:
  - {{id: T1, quantity: temperature, unit: degC, component: pyramid, range: [0, 100]}}
# results are added from File > Add simulation result…
overlays: []
"""


def _rig(corpus: Path, tmp_path: Path) -> Path:
    path = tmp_path / "rig.twin.yaml"
    path.write_text(PROJECT.format(model=corpus / "meshes" / "3mf" / "pyramids.3mf"))
    return path


def write_result(path: Path, origin=(2.0, 3.0, 0.0), size=(0.36, 0.17, 0.03)) -> Path:
    """A box of hexahedra in metres at ``origin`` with a point field ``temperature`` [degC]
    (the x coordinate in mm, so the field shows a gradient along the rig)."""
    import pyvista as pv
    from vtkmodules.vtkCommonCore import vtkStringArray

    grid = pv.ImageData(
        dimensions=(13, 7, 3), spacing=tuple(s / n for s, n in zip(size, (12, 6, 2), strict=True))
    )
    grid.origin = origin
    ugrid = grid.cast_to_unstructured_grid()
    x = np.asarray(ugrid.points[:, 0])
    ugrid.point_data["temperature"] = 20.0 + 1000.0 * (x - origin[0]) / 6.0
    unit = vtkStringArray()
    unit.SetName("temperature_unit")
    unit.InsertNextValue("degC")
    ugrid.GetFieldData().AddArray(unit)
    path.parent.mkdir(parents=True, exist_ok=True)
    ugrid.save(path)
    return path


def _open(qtbot, window, path: Path) -> None:
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        window.open_project(path, sources=[])


def _shortcut(qtbot, window, key, modifiers) -> None:
    window.activateWindow()  # shortcuts need the window active, the focus in it
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    window.view.interactor.setFocus()
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        qtbot.keyClick(window.view.interactor, key, modifiers)


def test_a_result_in_metres_is_fitted_added_shown_and_undone(
    qtbot, window, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QFileDialog

    from twinviewer.core.project import load_project

    project = _rig(corpus, tmp_path)
    before = project.read_text()
    result = write_result(tmp_path / "results" / "rig_heat.vtu")
    _open(qtbot, window, project)

    # the action opens the dialog; File… chooses the result, read on a worker thread
    feature = window.features["add-result"]
    window.action("file.add_result").trigger()
    dialog = feature.dialog
    assert dialog is not None and dialog.isVisible()
    assert not dialog.ok_button.isEnabled()  # nothing read yet
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(result), ""))
    with qtbot.waitSignal(dialog.loaded, timeout=30000):
        dialog.file_button.click()

    # what it is
    assert dialog.info["Format"].text() == "VTK XML unstructured grid"
    assert dialog.info["Time steps"].text() == "1"
    assert dialog.info["Fields"].text() == "temperature [degC] (point)"
    assert dialog.info["Bounds (result units)"].text() == "x 2 … 2.36, y 3 … 3.17, z 0 … 0.03"
    assert dialog.name_edit.text() == "rig_heat"
    assert dialog.field_combo.currentData() == "temperature"

    # placed as it is, it is off the twin and a thousand times too small: both boxes, in mm
    assert dialog.warning.isVisible()
    warning = dialog.warning_label.text()
    assert "does not overlap the twin and is 962× smaller than the twin" in warning
    assert "Result (placed): x 2 … 2.36, y 3 … 3.17, z 0 … 0.03 mm" in warning
    assert "Twin: x 5.012 … 351.7, y 5.024 … 168.1, z 10.02 … 35.03 mm" in warning
    assert dialog.fit_label.text() == "scale 1000 (m → mm), centred on the twin"

    # the warning follows the placement
    dialog.scale.setValue(1000.0)
    assert dialog.scale_hint.text() == "(m → mm)"
    assert "does not overlap the twin." in dialog.warning_label.text()
    assert "smaller" not in dialog.warning_label.text()

    # Fit result to twin: m -> mm, and the centre of the result on the centre of the twin
    dialog.scale.setValue(1.0)
    dialog.fit_button.click()
    assert dialog.scale.value() == 1000.0
    assert dialog.scale.text() == "1000"
    assert not dialog.warning.isVisible()
    assert dialog.bounds_label.text().startswith("<span style='color:#6ec88c'>On the twin.</span>")
    p = dialog.placement()
    centre = [(a + b) / 2 for a, b in ((5.01, 351.74), (5.02, 168.1), (10.02, 35.03))]
    placed = [
        p.translate[i] + 1000.0 * ((2.0, 3.0, 0.0)[i] + (0.36, 0.17, 0.03)[i] / 2) for i in range(3)
    ]
    assert np.allclose(placed, centre, atol=0.02)

    # the clock, visible on open, OK: the project file gets the overlay, comments kept
    dialog.offset_spin.setValue(60.0)
    dialog.colormap_combo.setCurrentText("viridis")
    dialog.visible_check.setChecked(True)
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        dialog.ok_button.click()
    text = project.read_text()
    tx, ty, tz = (f"{v:g}" for v in p.translate)
    head = before.replace("overlays: []\n", "overlays:\n")
    assert text.startswith(head)
    block = text[len(head) :]
    assert block.startswith(
        "  - name: rig_heat\n"
        "    result: results/rig_heat.vtu\n"
        "    field: temperature\n"
        "    placement:\n"
        "      translate: ["
    )
    assert block.endswith(
        "]\n      scale: 1000\n    time: {offset: 60}\n    colormap: viridis\n    visible: true\n"
    )
    overlay = load_project(project)[0].overlays[0]
    assert overlay.placement.scale == 1000.0
    assert np.allclose(overlay.placement.translate, p.translate)

    # the reopened twin: the Simulation dock lists the overlay, shown on the twin
    overlays = window.features["overlays"]
    panel = overlays.panel
    assert [panel.overlay_combo.itemText(i) for i in range(panel.overlay_combo.count())] == [
        "rig_heat"
    ]
    assert panel.current == "rig_heat"
    qtbot.waitUntil(lambda: "rig_heat" in overlays.sims, timeout=30000)
    sim = overlays.sims["rig_heat"]
    assert sim.field == "temperature" and len(sim.vertices) > 0  # the result reaches the twin

    # Ctrl+Z takes the overlay out of the file, Ctrl+Shift+Z puts it back
    assert "add overlay rig_heat" in window.action("edit.undo").text()
    _shortcut(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert project.read_text() == before
    assert panel.overlay_combo.count() == 0
    _shortcut(
        qtbot,
        window,
        Qt.Key.Key_Z,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert project.read_text() == text
    assert panel.current == "rig_heat"


def test_a_result_that_cannot_be_read_says_why(qtbot, window, corpus: Path, tmp_path: Path) -> None:
    from PySide6.QtWidgets import QMessageBox

    project = _rig(corpus, tmp_path)
    before = project.read_text()
    broken = tmp_path / "broken.vtu"
    broken.write_text("<VTKFile type='UnstructuredGrid'> cut short")
    _open(qtbot, window, project)
    dialog = window.features["add-result"].open_dialog()
    assert dialog is not None
    with qtbot.waitSignal(dialog.failed, timeout=30000) as failed:
        dialog.read(broken)
    why = failed.args[0]
    assert why.startswith(f"{broken}: ") and "\n" not in why
    box = dialog.findChild(QMessageBox, "read-error")
    assert box is not None and box.isVisible() and box.text() == why
    assert dialog.status.text() == why
    assert not dialog.ok_button.isEnabled()

    # a folder that is no OpenFOAM case, chosen with Folder…
    with qtbot.waitSignal(dialog.failed, timeout=5000) as failed:
        dialog.read(tmp_path)
    assert "without system/controlDict (expected an OpenFOAM case folder)" in failed.args[0]
    dialog.reject()
    assert project.read_text() == before


def test_the_name_must_be_new(qtbot, window, corpus: Path, tmp_path: Path) -> None:
    project = _rig(corpus, tmp_path)
    project.write_text(
        project.read_text().replace(
            "overlays: []\n", "overlays:\n  - {name: rig_heat, result: results/rig_heat.vtu}\n"
        )
    )
    result = write_result(tmp_path / "results" / "rig_heat.vtu")
    _open(qtbot, window, project)
    dialog = window.features["add-result"].open_dialog(result)
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.sim is not None, timeout=30000)
    assert dialog.name_edit.text() == "rig_heat 2"  # the file's name is taken
    dialog.name_edit.setText("rig_heat")
    assert not dialog.ok_button.isEnabled()
    assert dialog.status.text() == "the project has an overlay named 'rig_heat' already"
    dialog.name_edit.setText("rig_heat run 2")
    assert dialog.ok_button.isEnabled()
    dialog.origin_edit.setText("yesterday")
    assert not dialog.ok_button.isEnabled()
    assert "origin must be an ISO 8601 instant" in dialog.status.text()


def test_an_openfoam_case_folder_and_a_cancelled_read(
    qtbot, window, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QFileDialog

    from tests.test_sim_openfoam import write_cavity

    case = write_cavity(tmp_path / "cavity")
    project = _rig(corpus, tmp_path)
    _open(qtbot, window, project)
    dialog = window.features["add-result"].open_dialog()
    assert dialog is not None

    # a read cancelled: its result is dropped when it arrives
    dialog.read(case)
    assert dialog.reading_row.isVisibleTo(dialog)
    dialog.cancel_button.click()
    assert not dialog.reading_row.isVisibleTo(dialog)
    assert dialog.status.text() == "Reading cancelled."
    qtbot.wait(500)
    assert dialog.sim is None and not dialog.ok_button.isEnabled()

    # Folder…: the case folder, its time directories as steps
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(case))
    with qtbot.waitSignal(dialog.loaded, timeout=30000):
        dialog.folder_button.click()
    assert dialog.info["Format"].text() == "OpenFOAM case"
    assert dialog.info["Time steps"].text() == "3, t = 0 … 0.2 s"
    assert "p [m2/s2] (point)" in dialog.info["Fields"].text()
    assert "U [m/s] (cell, 3 components)" in dialog.info["Fields"].text()
    assert dialog.info["Parts"].text().startswith("4: internalMesh, boundary/movingWall")
    assert dialog.name_edit.text() == "cavity"
    assert dialog.mode_combo.currentData() == "clock"
    overlay = dialog.overlay()
    assert overlay.result == "cavity" and overlay.field == "p"
