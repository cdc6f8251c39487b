"""File > Export video… in the window: the dialog, the progress, the file."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

pytestmark = pytest.mark.gui


def test_export_action_writes_a_replay_video(qtbot, window, tmp_path: Path) -> None:
    from PySide6.QtWidgets import QDialogButtonBox

    from twinviewer.session.demos import demo_copy

    path, _ = demo_copy("mine", tmp_path / "mine", 240.0, models=False)
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        window.open_project(path, sources=[])
    feature = window.features["video"]
    window.action("video.export").trigger()  # File > Export video…
    dialog = feature.dialog
    assert dialog is not None and dialog.isVisible()
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    dialog.path_edit.setText(str(tmp_path / "replay.avi"))
    assert not ok.isEnabled()  # neither .mp4 nor .webm
    out = tmp_path / "out" / "replay.mp4"
    dialog.path_edit.setText(str(out))
    assert ok.isEnabled() and "H.264" in dialog.format_label.text()
    dialog.what.setCurrentIndex(dialog.what.findText("History replay"))
    held = window.session.history.time_range()
    end = dialog.to_edit.dateTime().addSecs(0)
    dialog.from_edit.setDateTime(end.addSecs(-40))
    dialog.speed.setValue(20.0)
    dialog.camera.setCurrentIndex(dialog.camera.findText("Level 3"))
    dialog.size_box.setCurrentIndex(dialog.size_box.count() - 1)  # the smallest
    dialog.fps.setValue(5.0)
    ok.click()

    qtbot.waitUntil(lambda: feature.progress is not None or feature.exported is not None)
    qtbot.waitUntil(lambda: feature.exported is not None, timeout=90000)
    assert out.is_file() and not feature.exporting
    with av.open(str(out)) as container:
        frames = list(container.decode(video=0))
    assert len(frames) == 10  # 40 s of history at 20x = 2 s at 5 fps
    assert (frames[0].width, frames[0].height) == (640, 360)
    assert held is not None
    assert str(out) in window.statusBar().currentMessage()
    assert window.action("video.export").isEnabled()
