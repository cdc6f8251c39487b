"""Edits of the project file from the window (ui/project_edits.py): the twin opens again as the
user left it, undo puts back the file's very bytes, and an undo after the file changed since
reverses the edit by meaning (or refuses, saying why) instead of losing the later change."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from twinviewer.core.project import load_project  # noqa: E402

pytestmark = pytest.mark.gui


def open_twin(qtbot, window, path: Path) -> None:
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        window.open_project(path, sources=[])


def reopened(qtbot, window, action) -> None:
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        action()


def test_an_edit_reopens_the_twin_as_it_was_left(qtbot, window, building: Path) -> None:
    from PySide6.QtCore import Qt

    open_twin(qtbot, window, building)
    s = window.session
    floor = s.model.index_of("floor_1")
    window.workbench.selection = (floor,)
    window.view.scene.standard_view("top")
    inspector, charts = window.dock("Inspector"), window.dock("Charts")
    window.resizeDocks([inspector, charts], [420, 300], Qt.Orientation.Vertical)
    qtbot.wait(50)
    sizes = (inspector.height(), charts.height())
    camera = window.view.scene.camera()
    sensor = s.sensors[s.sensor_index["F1_T"]]
    reopened(qtbot, window, lambda: window.features["inspector"].write(
        sensor, sensor.model_copy(update={"name": "First floor"}), "edit sensor F1_T", "said"
    ))  # fmt: skip
    qtbot.wait(50)
    assert window.session is not s and load_project(building)[0].sensors[1].name == "First floor"
    assert abs(inspector.height() - sizes[0]) <= 2 and abs(charts.height() - sizes[1]) <= 2
    for got, want in zip(window.view.scene.camera(), camera, strict=True):
        assert got == pytest.approx(want)
    assert window.workbench.selection == (floor,)
    assert window.statusBar().currentMessage() == "said"


def test_undo_after_another_change_reverses_by_meaning_or_refuses(
    qtbot, window, building: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_twin(qtbot, window, building)
    original = building.read_bytes()
    s = window.session
    inspector = window.features["inspector"]
    sensor = s.sensors[s.sensor_index["F1_T"]]
    renamed = sensor.model_copy(update={"name": "First floor"})
    reopened(qtbot, window, lambda: inspector.write(sensor, renamed, "edit sensor F1_T"))
    edited = building.read_bytes()

    # undo and redo while the file holds what the edit wrote: its very bytes
    reopened(qtbot, window, window.action("edit.undo").trigger)
    assert building.read_bytes() == original
    reopened(qtbot, window, window.action("edit.redo").trigger)
    assert building.read_bytes() == edited

    # the file changed since (a comment added by hand): undo writes the old sensor back
    building.write_bytes(edited + b"# a note added in an editor\n")
    reopened(qtbot, window, window.action("edit.undo").trigger)
    text = building.read_text()
    assert text.endswith("# a note added in an editor\n")
    assert load_project(building)[0].sensors[1].name == sensor.name

    # an edit without a reverse by meaning (a tag import) refuses, and says why
    errors: list[tuple[str, str]] = []
    monkeypatch.setattr(window, "error", lambda title, text: errors.append((title, text)))
    from twinviewer.ui.project_edits import edit_project

    stack = window.features["tags_import"].stack
    reopened(qtbot, window, lambda: edit_project(
        window, stack, "tag import (1 added)",
        lambda: building.write_text(building.read_text() + "# imported\n"),
    ))  # fmt: skip
    building.write_text(building.read_text() + "# later\n")
    before = building.read_bytes()
    stack.undo()
    assert building.read_bytes() == before
    assert errors and "changed since 'tag import (1 added)'" in errors[0][1]
