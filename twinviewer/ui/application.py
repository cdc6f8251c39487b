"""The QApplication and its look (Fusion with a dark palette)."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from importlib.resources import files

from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication

from twinviewer.session.file_types import APP_ID

log = logging.getLogger(__name__)
_xvfb: subprocess.Popen | None = None


def ensure_display() -> None:
    """On a Linux machine with no screen, start a virtual one (Xvfb) so the app still runs.

    A workstation has ``DISPLAY`` or ``WAYLAND_DISPLAY`` set and nothing happens. On a server
    (or a fresh container) the window is drawn on Xvfb: nobody sees it, but the demo, the feed
    and screenshots work; ``twinviewer render`` is the headless way to get pictures.
    """
    global _xvfb
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        log.warning("no display and no Xvfb: install xvfb or run on a desktop")
        return
    read_fd, write_fd = os.pipe()
    _xvfb = subprocess.Popen(
        [xvfb, "-displayfd", str(write_fd), "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as f:
        number = f.readline().strip()
    os.environ["DISPLAY"] = f":{number}"
    log.warning("no display found: drawing on a virtual screen (Xvfb %s)", os.environ["DISPLAY"])


def apply_dark_theme(app: QApplication) -> None:
    """Fusion with a dark palette: the look of an engineering workstation tool."""
    app.setStyle("Fusion")
    pal = QPalette()
    base, window, text = QColor(30, 33, 38), QColor(43, 46, 52), QColor(222, 226, 230)
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: QColor(37, 40, 45),
        QPalette.ColorRole.ToolTipBase: window,
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: window,
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: QColor(255, 80, 80),
        QPalette.ColorRole.Highlight: QColor(42, 130, 218),
        QPalette.ColorRole.HighlightedText: QColor(255, 255, 255),
        QPalette.ColorRole.Link: QColor(90, 170, 255),
        QPalette.ColorRole.PlaceholderText: QColor(130, 136, 144),
    }
    for role, colour in roles.items():
        pal.setColor(role, colour)
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
        QPalette.ColorRole.WindowText,
    ):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor(110, 115, 122))
    app.setPalette(pal)


def create_app(argv: list[str] | None = None) -> QApplication:
    if QApplication.instance() is None:
        ensure_display()
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(argv or sys.argv[:1])
    app.setOrganizationName("TwinViewer")
    app.setApplicationName("TwinViewer")  # the X11 WM_CLASS too: the entry's StartupWMClass
    app.setDesktopFileName(APP_ID)  # the Wayland app id: docks match the window to the entry
    app.setWindowIcon(QIcon(str(files("twinviewer.ui") / "icons" / "twinviewer.svg")))
    apply_dark_theme(app)
    return app
