"""Commands from the twin, on the mine demo (issue 16):

- ``command-dialog.png``: an operator signed in (status bar), the level 3 booster fan selected
  (its command in the Inspector), and the command dialog for ``l3_fan_speed`` with 70 % and a
  reason entered; the yellow bar says the demo allows insecure links.
- ``command-audit.png``: after a confirmed command (100 % → 70 %, read back by the fan's speed
  sensor from the in-process simulator) and a refused one (30 %, below the minimum): their
  banners on the timeline (green, grey) and their rows in the alarm and event list.

Each at 1600x1000 and, with ``-small``, at 1024x700::

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/screenshots/make_command_screenshots.py

The mine is a copy in a temporary folder with two minutes of recorded history, so that the
timeline has a past; its simulator runs live (the command is delivered to it in-process).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from make_screenshots import pump  # the same folder: run as a script
from PySide6.QtWidgets import QApplication, QToolTip

from twinviewer.core.users import UserBook
from twinviewer.session.commands import CommandState
from twinviewer.session.demos import demo_copy
from twinviewer.ui.application import create_app
from twinviewer.ui.main_window import QtMainWindow

HERE = Path(__file__).resolve().parent
PASSWORD = "operator-demo-password"


def grab(app: QApplication, w: QtMainWindow, name: str) -> None:
    """The screen where the window is: the window and the dialog over it."""
    w.view.render_now()
    pump(app, 0.3)
    g = w.frameGeometry()
    screen = app.primaryScreen()
    screen.grabWindow(0, g.x(), g.y(), g.width(), g.height()).save(str(HERE / name))
    sys.stdout.write(f"wrote {HERE / name}\n")


def open_mine(app: QApplication, folder: Path, size: tuple[int, int]) -> QtMainWindow:
    project, _ = demo_copy("mine", folder, history=120.0, models=False)
    UserBook(folder / "users.json").add("olga", "operator", PASSWORD, replace=True)
    w = QtMainWindow()
    w.resize(*size)
    w.move(0, 0)
    w.show()
    w.open_project(project)
    while w.session is None:
        pump(app, 0.2)
    pump(app, 1.0)
    w.resize(*size)  # opening fits the window to the screen; the size wanted again
    w.move(0, 0)
    s = w.session
    w.workbench.selection = (s.model.index_of("l3_booster_fan"),)
    w.view.frame_components(list(w.workbench.selection)) if hasattr(
        w.view, "frame_components"
    ) else None
    feature = w.features["commands"]
    assert feature.sign_in("olga", PASSWORD) is None  # type: ignore[attr-defined]
    service = s.commands
    command = service.command("l3_fan_speed")
    deadline = time.monotonic() + 20
    while service.availability(command, True) is not None and time.monotonic() < deadline:
        pump(app, 0.3)
        w.refresh_panels()
    w.refresh_panels()
    pump(app, 0.5)
    return w


def dialog_shot(app: QApplication, size: tuple[int, int], name: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        w = open_mine(app, Path(tmp), size)
        feature = w.features["commands"]
        feature.section.buttons["l3_fan_speed"].click()  # type: ignore[attr-defined]
        dialog = feature.dialog  # type: ignore[attr-defined]
        assert dialog is not None
        dialog.set_value(70)
        dialog.reason_edit.setText("L3 fan bearing running hot: slow the fan until it is checked")
        pump(app, 0.5)
        g = w.frameGeometry()
        dialog.move(g.x() + (g.width() - dialog.width()) // 2, g.y() + g.height() // 4)
        pump(app, 0.5)
        grab(app, w, name)
        dialog.reject()
        w.close()


def audit_shot(app: QApplication, size: tuple[int, int], name: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        w = open_mine(app, Path(tmp), size)
        feature = w.features["commands"]
        feature.section.buttons["l3_fan_speed"].click()  # type: ignore[attr-defined]
        dialog = feature.dialog  # type: ignore[attr-defined]
        dialog.set_value(70)
        dialog.reason_edit.setText("L3 fan bearing running hot")
        dialog.ok_button.click()
        dialog.send_button.click()
        deadline = time.monotonic() + 30
        while dialog.state is CommandState.PENDING and time.monotonic() < deadline:
            pump(app, 0.2)
        sys.stdout.write(f"command: {dialog.state} {dialog.attempt.message}\n")
        dialog.close_button.click()
        pump(app, 3.0)
        service = w.session.commands
        command = service.command("l3_fan_speed")
        service.send(command, 30, "trying a lower speed", live=True)  # below the minimum
        pump(app, 3.0)
        w.refresh_panels()
        tl = w.workbench.timeline
        bar = w.features["timeline"].bar
        bar.set_view_range(tl.end - 45, tl.end)  # the last 45 s: both banners apart
        w.refresh_panels()
        pump(app, 1.0)
        # the confirmed command's banner hovered: its tooltip names who, what, why, the result
        t = float(bar.flags("commands")[0][0])
        v0, v1 = bar.view_range()
        x = round(bar.slider.x_of((t - v0) / (v1 - v0)))
        at = bar.slider.mapToGlobal(bar.slider.rect().topLeft())
        at.setX(at.x() + x)
        QToolTip.showText(at, bar.hover_text(t), bar.slider)
        pump(app, 0.5)
        grab(app, w, name)
        QToolTip.hideText()
        w.close()


def main() -> None:
    app = create_app()
    dialog_shot(app, (1600, 1000), "command-dialog.png")
    dialog_shot(app, (1024, 700), "command-dialog-small.png")
    audit_shot(app, (1600, 1000), "command-audit.png")
    audit_shot(app, (1024, 700), "command-audit-small.png")


if __name__ == "__main__":
    main()
