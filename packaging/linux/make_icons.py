"""Render the app icon's PNG sizes from its SVG master, for the XDG icon theme (hicolor).

The master is ``twinviewer/ui/icons/twinviewer.svg`` (package data: the window's icon too). This
writes ``packaging/linux/share/icons/hicolor/{N}x{N}/apps/APPID.png`` for each size and copies
the master to ``.../scalable/apps/APPID.svg``. Run it after editing the SVG and commit the result:

    .venv/bin/python packaging/linux/make_icons.py

It uses PySide6's SVG renderer (no new dependency) on Qt's offscreen platform: no display needed.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from twinviewer.session.file_types import APP_ID  # noqa: E402

MASTER = ROOT / "twinviewer" / "ui" / "icons" / "twinviewer.svg"
HICOLOR = ROOT / "packaging" / "linux" / "share" / "icons" / "hicolor"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 (fonts, painting)
    renderer = QSvgRenderer(str(MASTER))
    if not renderer.isValid():
        sys.stderr.write(f"{MASTER}: error: not a valid SVG\n")
        return 1
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        out = HICOLOR / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        if not image.convertToFormat(QImage.Format.Format_ARGB32).save(str(out)):
            sys.stderr.write(f"{out}: error: could not write\n")
            return 1
        print(out.relative_to(ROOT))  # noqa: T201
    scalable = HICOLOR / "scalable" / "apps" / f"{APP_ID}.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(MASTER, scalable)
    print(scalable.relative_to(ROOT))  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
