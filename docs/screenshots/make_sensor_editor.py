"""Binding sensors in the window, on a copy of the mine demo: the sensor dialog with a pattern
in its component field (the live preview lists the matches, the 3D view outlines them), and the
banner that names sensors bound to nothing.

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/screenshots/make_sensor_editor.py

Writes ``sensor-editor.png`` and ``unbound-banner.png`` at 1600x1000, and ``-small`` versions
at 1024x700. The dialog is a window of its own; it is painted onto the window's picture where
it stands (Xvfb has no window manager to draw its frame, so it gets a plain border).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from make_screenshots import pump  # the same folder: run as a script
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QApplication

from twinviewer.session.demos import demo_copy
from twinviewer.ui.application import create_app
from twinviewer.ui.inspector.feature import InspectorFeature
from twinviewer.ui.main_window import QtMainWindow
from twinviewer.ui.unbound_banner import UnboundBannerFeature

HERE = Path(__file__).resolve().parent
PATTERN = "l?_booster_fan"
FIELDS = {
    "id": "booster_fan_running",
    "name": "Booster fans running",
    "quantity": "status",
    "unit": "%",
    "range.min": "0",
    "range.max": "100",
    "warning.low": "50",
    "alarm.low": "10",
}
TYPOS = {  # what a hand-written project gets wrong
    "    component: l3_booster_fan\n": "    component: l3_boster_fan\n",
    "    component: l4_pump_2\n": "    component: l4_pmp_2\n",
}


def open_window(app: QApplication, project: Path, size: tuple[int, int]) -> QtMainWindow:
    w = QtMainWindow()
    w.resize(*size)
    w.show()
    w.open_project(project, sources=[])
    while w.session is None:
        pump(app, 0.2)
    pump(app, 1.0)
    w.resize(*size)  # opening fits the window to the screen; the size wanted again
    pump(app, 0.5)
    return w


def save(w: QtMainWindow, name: str, dialog: object = None) -> None:
    """The window, and ``dialog`` painted over it where it stands."""
    w.view.render_now()
    picture = w.grab()
    if dialog is not None:
        pos = dialog.frameGeometry().topLeft() - w.geometry().topLeft()  # type: ignore[attr-defined]
        painter = QPainter(picture)
        painter.drawPixmap(pos, dialog.grab())  # type: ignore[attr-defined]
        painter.setPen(QPen(QColor(140, 150, 165), 1))
        painter.drawRect(pos.x(), pos.y(), dialog.width() - 1, dialog.height() - 1)  # type: ignore[attr-defined]
        painter.end()
    picture.save(str(HERE / name))
    sys.stdout.write(f"wrote {HERE / name}\n")


def editor_shot(app: QApplication, project: Path, size: tuple[int, int], name: str) -> None:
    w = open_window(app, project, size)
    s = w.session
    assert s is not None
    w.workbench.selection = (s.model.index_of("l1_booster_fan"),)
    pump(app, 0.3)
    dialog = w.feature(InspectorFeature).add_sensor()
    assert dialog is not None
    for key, text in FIELDS.items():
        dialog.edits[key].setText(text)
    dialog.set_component(PATTERN)
    pump(app, 0.5)
    w.view.scene.standard_view("iso")
    w.view.scene.fit_components(dialog.matches)
    cam = w.view.interactor.renderer.GetActiveCamera()
    cam.Zoom(0.8)
    w.view.interactor.renderer.ResetCameraClippingRange()
    # the dialog low on the right, over the docks; the outlined fans in view on the left
    dialog.adjustSize()
    frame = w.geometry()
    x = frame.right() - dialog.width() - 12
    y = frame.bottom() - dialog.height() - 60
    dialog.move(x, max(frame.top() + 60, y))
    pump(app, 1.0)
    save(w, name, dialog)
    dialog.reject()
    w.close()


def banner_shot(app: QApplication, folder: Path, size: tuple[int, int], name: str) -> None:
    typo = Path(tempfile.mkdtemp(prefix="typos-", dir=folder))
    project, _ = demo_copy("mine", typo, 0.0, models=False)
    text = project.read_text()
    for right, wrong in TYPOS.items():
        text = text.replace(right, wrong, 1)
    project.write_text(text)
    w = open_window(app, project, size)
    if not w.feature(UnboundBannerFeature).shown:
        raise SystemExit("the banner did not show")
    save(w, name)
    w.close()


def main() -> int:
    app = create_app()
    folder = Path(tempfile.mkdtemp(prefix="tv-binding-"))
    project, _ = demo_copy("mine", folder, 0.0, models=False)
    for size, suffix in (((1600, 1000), ""), ((1024, 700), "-small")):
        editor_shot(app, project, size, f"sensor-editor{suffix}.png")
        banner_shot(app, folder, size, f"unbound-banner{suffix}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
