"""File > Export review report… in the window: the dialog, the progress, the file, cancel."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.gui

FEED = 240.0  # seconds of recorded feed: the level 3 booster fan warns, then alarms


def open_mine(qtbot, window, tmp_path: Path) -> Path:
    from twinviewer.session.demos import demo_copy

    path, _ = demo_copy("mine", tmp_path / "mine", FEED, models=False)
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        window.open_project(path, sources=[])
    return path


def test_export_action_writes_the_report(qtbot, window, tmp_path: Path) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QDialogButtonBox

    open_mine(qtbot, window, tmp_path)
    feature = window.features["report"]
    window.action("report.export").trigger()  # File > Export review report…
    dialog = feature.dialog
    assert dialog is not None and dialog.isVisible()
    tl = window.workbench.timeline
    at, start, end = dialog.times()
    assert abs(at - tl.current) < 1.0  # defaults: the timeline's time and range
    assert abs(start - tl.start) < 1.0 and abs(end - tl.end) < 1.0
    out = tmp_path / "out" / "report.docx"
    dialog.path_edit.setText(str(out))
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()  # neither .html nor .pdf
    out = out.with_suffix(".html")
    dialog.path_edit.setText(str(out))
    assert ok.isEnabled() and "HTML" in dialog.format_label.text()
    views = dialog.views
    assert [views.item(i).text() for i in range(views.count())][:2] == ["Current view", "Overview"]
    views.item(3).setCheckState(Qt.CheckState.Checked)  # Level 3
    ok.click()

    qtbot.waitUntil(lambda: feature.progress is not None or feature.written is not None)
    qtbot.waitUntil(lambda: feature.written is not None, timeout=90000)
    assert out.is_file() and not feature.building
    text = out.read_text(encoding="utf-8")
    assert text.count('<figure><img src="data:image/png;base64,') >= 3  # 2 views + the chart
    assert "Current view" in text and "Level 3" in text and "l3_fan_vibration" in text
    assert str(out) in window.statusBar().currentMessage()
    assert window.action("report.export").isEnabled()


def test_cancel_stops_the_report(qtbot, window, tmp_path: Path) -> None:
    from PySide6.QtWidgets import QPushButton

    open_mine(qtbot, window, tmp_path)
    feature = window.features["report"]
    out = tmp_path / "report.pdf"
    assert feature.export(out)
    assert feature.progress is not None and feature.progress.isVisible()
    (button,) = feature.progress.findChildren(QPushButton)
    assert button.text() == "Cancel"
    button.click()
    qtbot.waitUntil(lambda: not feature.building, timeout=60000)
    assert not out.exists() and feature.written is None
    assert "cancelled" in window.statusBar().currentMessage()


def test_a_moment_before_the_history_is_an_error_dialog(qtbot, window, tmp_path: Path) -> None:
    from PySide6.QtWidgets import QMessageBox

    from twinviewer.report import ReportOptions

    open_mine(qtbot, window, tmp_path)
    feature = window.features["report"]
    tl = window.workbench.timeline
    assert not feature.export(tmp_path / "r.html", ReportOptions(at=tl.start - 86400.0))
    box = window.findChild(QMessageBox, "load-error")
    assert box is not None and "before the first recorded sample" in box.text()
    assert not feature.building
