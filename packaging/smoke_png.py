"""Helpers of packaging/build-bundle.sh's smoke tests, run by the build venv's Python (never by
the bundle, which needs no Python): take a screenshot of an X display, and tell whether a PNG
shows a picture rather than a blank.

    python smoke_png.py check PNG [--min-colours N]
    python smoke_png.py grab OUT.png [--timeout S]   (of $DISPLAY, once the screen is settled)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def distinct_colours(path: Path) -> int:
    """How many different colours the picture has (a blank or single-colour one has 1)."""
    import numpy as np
    from PIL import Image

    with Image.open(path) as im:
        pixels = np.asarray(im.convert("RGB")).reshape(-1, 3)
    return len(np.unique(pixels, axis=0))


def check(path: Path, min_colours: int) -> int:
    if not path.is_file():
        sys.stderr.write(f"{path}: no such file\n")
        return 1
    n = distinct_colours(path)
    if n < min_colours:
        sys.stderr.write(f"{path}: looks blank ({n} colours, expected at least {min_colours})\n")
        return 1
    sys.stdout.write(f"{path}: {n} colours\n")
    return 0


def grab(out: Path, timeout: float, settle: float, min_colours: int) -> int:
    """Screenshot of the whole X screen (the root window, with every client's window on it):
    polled each second until it shows a picture, then taken again ``settle`` seconds later so
    that the window has drawn its content (a live window never stops changing)."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication([])
    screen = app.primaryScreen()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(1.0)
        screen.grabWindow(0).toImage().save(str(out))
        if distinct_colours(out) >= min_colours:
            time.sleep(settle)
            screen.grabWindow(0).toImage().save(str(out))
            return check(out, min_colours)
    sys.stderr.write(f"{out}: the screen showed no picture within {timeout:.0f} s\n")
    return 1


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="what", required=True)
    c = sub.add_parser("check")
    c.add_argument("png", type=Path)
    c.add_argument("--min-colours", type=int, default=16)
    g = sub.add_parser("grab")
    g.add_argument("png", type=Path)
    g.add_argument("--timeout", type=float, default=90)
    g.add_argument("--settle", type=float, default=8)
    g.add_argument("--min-colours", type=int, default=16)
    args = p.parse_args()
    if args.what == "check":
        return check(args.png, args.min_colours)
    return grab(args.png, args.timeout, args.settle, args.min_colours)


if __name__ == "__main__":
    raise SystemExit(main())
