"""Authoring in the window: a new twin from a bare model; sensors added, edited and removed
through the inspector, each undoable."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from twinviewer.core.project import load_project  # noqa: E402
from twinviewer.ui import authoring  # noqa: E402

pytestmark = pytest.mark.gui


@pytest.fixture
def bare_model(corpus: Path, tmp_path: Path) -> Path:
    model = tmp_path / "building.glb"
    shutil.copy(corpus / "meshes" / "gltf" / "no_indices_3storybuilding.glb", model)
    return model


def new_twin(qtbot, window, model: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """File > New twin from model… with the file dialog answered ``model``."""
    monkeypatch.setattr(authoring, "ask_model", lambda _host: model)
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        window.action("file.new_twin").trigger()
    return model.with_suffix(".twin.yaml")


def test_new_twin_from_model_writes_and_opens_the_project(
    qtbot, window, bare_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert window.action("file.new_twin").isEnabled()  # no twin open yet
    path = new_twin(qtbot, window, bare_model, monkeypatch)
    assert path.is_file()
    project, _ = load_project(path)
    assert project.components  # the model's top-level nodes
    assert "# Sensors: one entry per measured signal" in path.read_text()
    assert window.session is not None and window.session.path.resolve() == path.resolve()
    assert window.windowTitle().startswith(project.name)


def test_new_twin_asks_before_overwriting(
    qtbot, window, bare_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = bare_model.with_suffix(".twin.yaml")
    path.write_text("# mine\n")
    asked: list[Path] = []

    def refuse(_host: object, p: Path) -> bool:
        asked.append(p)
        return False

    monkeypatch.setattr(authoring, "confirm_overwrite", refuse)
    monkeypatch.setattr(authoring, "ask_model", lambda _host: bare_model)
    window.action("file.new_twin").trigger()
    assert asked == [path]
    assert path.read_text() == "# mine\n"  # kept
    assert window.session is None

    monkeypatch.setattr(authoring, "confirm_overwrite", lambda _h, _p: True)
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        window.action("file.new_twin").trigger()
    assert "twinviewer: 1" in path.read_text()


def sensors_in(path: Path) -> dict:
    return {s.id: s for s in load_project(path)[0].sensors}


def key(qtbot, window, k, modifiers) -> None:
    """A key pressed in the inspector's sensor list (shortcuts need the window active)."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    table = window.features["inspector"].inspector.table
    table.setFocus()
    qtbot.keyClick(table, k, modifiers)


def test_sensors_added_edited_removed_in_the_inspector_and_undone(
    qtbot, window, bare_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QMessageBox

    from twinviewer.ui.inspector import feature as inspector_module

    path = new_twin(qtbot, window, bare_model, monkeypatch)
    original = path.read_text()
    s = window.session
    i = int(s.model.cell_component[0])  # a component with geometry
    component = s.component_ids([i])[0]
    window.workbench.selection = (i,)
    inspector = window.features["inspector"]
    view = inspector.inspector
    assert view.add_button.isEnabled() and not view.edit_button.isEnabled()

    # add: the dialog checks as typed, the error under its field, OK disabled meanwhile
    view.add_button.click()
    dialog = inspector.dialog
    assert dialog is not None and dialog.isVisible()
    assert not dialog.ok_button.isEnabled()
    for name, text in {"id": "T1", "name": "Floor temperature", "quantity": "temperature",
                       "unit": "degC", "range.min": "50", "range.max": "10",
                       "warning.high": "60", "alarm.high": "80"}.items():  # fmt: skip
        dialog.edits[name].setText(text)
    assert "min < max" in dialog.problems()["range"]
    assert dialog.errors["range"].isVisible() and not dialog.ok_button.isEnabled()
    dialog.edits["range.min"].setText("0")
    dialog.edits["range.max"].setText("100")
    dialog.edits["alarm.high"].setText("55")  # below the warning
    assert "alarm.high" in dialog.problems()["alarm"] and not dialog.ok_button.isEnabled()
    dialog.edits["alarm.high"].setText("80")
    dialog.edits["deadband"].setText("many")
    assert dialog.problems() == {"deadband": "'many' is not a number"}
    dialog.edits["deadband"].setText("1.5")
    assert dialog.problems() == {} and dialog.ok_button.isEnabled()
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        dialog.ok_button.click()
    t1 = sensors_in(path)["T1"]
    assert (t1.component, t1.range, t1.deadband) == (component, (0.0, 100.0), 1.5)
    assert t1.warning is not None and t1.warning.high == 60
    text = path.read_text()
    comments = [line for line in original.splitlines() if line.lstrip().startswith("#")]
    assert all(c in text for c in comments)  # every comment kept
    assert window.workbench.selection == (i,)  # the twin reopened on the same component
    assert view.sensor_ids() == ["T1"]
    after_add = text

    # edit
    assert view.select_sensor("T1") and view.edit_button.isEnabled()
    view.edit_button.click()
    dialog = inspector.dialog
    assert dialog.edits["id"].isReadOnly() and dialog.edits["alarm.high"].text() == "80"
    dialog.edits["alarm.high"].setText("90")
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        dialog.ok_button.click()
    assert sensors_in(path)["T1"].alarm.high == 90
    assert window.action("edit.undo").text() == "&Undo edit sensor T1"

    # Ctrl+Z: the edit undone (the old sensor back); Ctrl+Shift+Z: done again
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert path.read_text() == after_add
    assert sensors_in(path)["T1"].alarm.high == 80
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        key(
            qtbot,
            window,
            Qt.Key.Key_Z,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
        )
    assert sensors_in(path)["T1"].alarm.high == 90

    # remove (after asking), then undo brings it back
    monkeypatch.setattr(
        inspector_module.QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes
    )
    assert view.select_sensor("T1") and view.remove_button.isEnabled()
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        view.remove_button.click()
    assert "T1" not in sensors_in(path)
    assert view.sensor_ids() == []
    assert path.read_text() == original  # sensors: [] again, every other line as it was
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        window.action("edit.undo").trigger()
    assert sensors_in(path)["T1"].alarm.high == 90
    assert view.sensor_ids() == ["T1"]
    # undoing the edit and the add: the file as it was made
    for _ in range(2):
        with qtbot.waitSignal(window.sessionOpened, timeout=30000):
            window.action("edit.undo").trigger()
    assert path.read_text() == original
