"""Data > Import tag list… in the window: the column mapping preview, bad rows with their line,
unbound tags with suggestions, the import into the project file, and Ctrl+Z."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.gui

TAGS = """\
Tag,Description,Eng Units,Equipment,Range,HH,Limit
F0_H,Floor 0 humidity,%,floor_0,0-100,95,70
F0_T,Floor 0 temperature,degC,floor_0,0-100,85,60
F1_P,Floor 1 pressure,mbar,floor_1,900-1100,,1050
BAD_1,Broken range,degC,floor_1,hot,,
F2_CO2,Floor 2 CO2,ppm,flor_2,0-5000,2000,1000
"""


def _open(qtbot, window, path: Path) -> None:
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        window.open_project(path, sources=[])


def _column(table, header: str) -> int:
    return next(
        c for c in range(table.columnCount()) if table.horizontalHeaderItem(c).text() == header
    )


def _cells(table, column: int) -> list[str]:
    return [table.item(r, column).text() for r in range(table.rowCount())]


def test_a_tag_list_is_previewed_mapped_bound_imported_and_undone(
    qtbot, window, building: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QFileDialog

    from twinviewer.core.project import load_project
    from twinviewer.ui.tags_import import KEEP_UNBOUND

    building.write_text("# handed over by the plant, March\n" + building.read_text())
    before = building.read_text()
    tags = tmp_path / "tags.csv"
    tags.write_text(TAGS)
    _open(qtbot, window, building)

    # the action: a file dialog (answered here), then the preview
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(tags), ""))
    feature = window.features["tags_import"]
    window.action("tags.import").trigger()
    dialog = feature.dialog
    assert dialog is not None and dialog.isVisible()

    # the detected mapping above the columns, the file's line numbers beside the rows
    assert dialog.field_of("Tag") == "id"
    assert dialog.field_of("Eng Units") == "unit"
    assert dialog.field_of("Equipment") == "component"
    assert dialog.field_of("HH") == "alarm_high"
    assert dialog.field_of("Limit") == "ignore"
    assert dialog.preview.verticalHeaderItem(1).text() == "line 2"
    assert dialog.preview.item(1, 0).text() == "F0_H"

    # the rows to import, the bad row with its line, the unbound tag with a suggestion
    assert _cells(dialog.rows_view, 1) == ["F0_H", "F0_T", "F1_P", "F2_CO2"]
    assert _cells(dialog.rows_view, 7) == ["add", "update", "add", "add"]
    summary = dialog.summary.text().replace("<b>", "").replace("</b>", "")
    assert "4 tags to import: 3 added, 1 updated, 0 unchanged; 1 bad row" in summary
    assert dialog.bad_view.rowCount() == 1
    assert _cells(dialog.bad_view, 0) == ["line 5"]
    assert _cells(dialog.bad_view, 1) == ["BAD_1"]
    assert "hot" in dialog.bad_view.item(0, 2).text()
    assert _cells(dialog.unbound_view, 1) == ["F2_CO2"]
    assert _cells(dialog.unbound_view, 2) == ["flor_2"]
    assert _cells(dialog.unbound_view, 3)[0].startswith("floor_2")
    combo = dialog.unbound_combo("F2_CO2")
    assert combo.currentText() == KEEP_UNBOUND
    assert combo.itemText(1) == "floor_2 (suggested)"
    assert dialog.tabs.tabText(1) == "Bad rows (1)" and dialog.tabs.tabText(2) == "Unbound (1)"

    # remap a column: Limit becomes the warning high; the parse runs again at once
    dialog.set_field("Limit", "warning_high")
    high = {s.id: s.warning.high if s.warning else None for s in dialog.sensors()}
    assert high == {"F0_H": 70.0, "F0_T": 60.0, "F1_P": 1050.0, "F2_CO2": 1000.0}
    # a field goes to one column only: HH as alarm high, then Limit too; HH lets go
    dialog.set_field("Limit", "alarm_high")
    assert dialog.field_of("HH") == "ignore"
    assert {s.id: s.alarm for s in dialog.sensors()}["F1_P"] is not None
    dialog.set_field("HH", "alarm_high")
    dialog.set_field("Limit", "warning_high")
    assert dialog.field_of("HH") == "alarm_high"

    # choose the suggestion: the tag is bound before the import
    combo = dialog.unbound_combo("F2_CO2")
    combo.setCurrentIndex(1)
    assert {s.id: s.component for s in dialog.sensors()}["F2_CO2"] == "floor_2"
    assert "floor_2 (bound here)" in _cells(dialog.rows_view, 5)

    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        dialog.import_button.click()
    text = building.read_text()
    assert text.startswith("# handed over by the plant, March\n")
    project, _ = load_project(building)
    sensors = {s.id: s for s in project.sensors}
    assert {"F0_H", "F1_P", "F2_CO2", "F0_T", "F1_T", "F2_CO"} <= set(sensors)
    assert "BAD_1" not in sensors
    assert sensors["F2_CO2"].component == "floor_2"
    assert sensors["F2_CO2"].warning is not None and sensors["F2_CO2"].warning.high == 1000.0
    assert sensors["F0_T"].alarm is not None and sensors["F0_T"].alarm.high == 85.0

    # the reopened twin shows the new sensor in the inspector of floor_2
    session = window.session
    assert "F2_CO2" in [s.id for s in session.sensors]
    floor_2 = [c.id for c in session.model.components].index("floor_2")
    window.workbench.selection = (floor_2,)
    inspector = window.features["inspector"].inspector
    qtbot.waitUntil(lambda: "F2_CO2" in _cells(inspector.table, 0), timeout=5000)
    assert "F2_CO" in _cells(inspector.table, 0)

    # Ctrl+Z: the project as it was, the twin opened again without the imported sensors
    assert "tag import" in window.action("edit.undo").text()
    window.activateWindow()  # shortcuts need the window active, the focus in it
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    window.view.interactor.setFocus()
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        qtbot.keyClick(window.view.interactor, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert building.read_text() == before
    assert "F2_CO2" not in [s.id for s in window.session.sensors]


def test_a_tag_list_without_an_id_column_says_so_and_imports_nothing(
    qtbot, window, building: Path, tmp_path: Path
) -> None:
    tags = tmp_path / "tags.csv"
    tags.write_text("Point,Units,Range\nA,degC,0-100\n")
    _open(qtbot, window, building)
    dialog = window.features["tags_import"].preview(tags)
    assert dialog is not None
    assert dialog.field_of("Point") == "id"
    dialog.set_field("Point", "name")  # now no column is the tag id
    assert "no tag id column" in dialog.summary.text()
    assert not dialog.import_button.isEnabled()
    dialog.set_field("Point", "id")
    assert dialog.import_button.isEnabled()
    assert _cells(dialog.rows_view, 1) == ["A"]
