"""Regenerate report-page-1.png and report-page-2.png: the first two pages of a review report.

    python docs/screenshots/make_report_screenshots.py [KEEP.pdf]   # KEEP.pdf: keep the report

No window and no display needed: the mine demo is copied to a temporary folder with four
minutes of its simulated feed recorded (the level 3 booster fan warns, then alarms), an issue
with a snapshot and a measurement are added to its review, ``twinviewer report`` writes the
PDF, and ``pdftoppm`` (poppler-utils) turns its first two pages into PNG.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from twinviewer.cli import main
from twinviewer.report.charts import png_bytes
from twinviewer.review import Measurement, new_issue
from twinviewer.session import TwinSession
from twinviewer.session.demos import demo_copy
from twinviewer.session.headless import draw_image
from twinviewer.session.review_book import ReviewBook

HERE = Path(__file__).resolve().parent
FEED = 240.0


def review(path: Path, zero: float) -> None:
    """An issue on the fan (with a snapshot of level 3 at its moment) and a measurement."""
    session = TwinSession.open(path)
    store = session.open_history()
    assert store is not None
    at = zero + 200.0
    value, times = store.at(at)
    session.update(at, value, times)
    session.close()
    image = draw_image(session, (900, 560), "Level 3", "Level 3 booster fan")
    book = ReviewBook(path)
    issue = new_issue(
        "Booster fan bearing running hot", "j.smith", component="l3_booster_fan", time=at,
        text="Vibration past the alarm limit since 14:42; bearing temperature follows. "
        "Check lubrication before the next shift.", priority="high",
        values={"l3_fan_vibration": float(value[session.sensor_index["l3_fan_vibration"]])},
    )  # fmt: skip
    book.add_issue(issue, snapshot_png=png_bytes(image))
    a, b = centre(session, "l3_booster_fan"), centre(session, "l3_ore_drive")
    book.add_measurement(
        Measurement(
            name="Fan to ore drive", kind="distance", points=[a, b],
            components=["l3_booster_fan", "l3_ore_drive"],
            value=float(np.linalg.norm(np.subtract(b, a))), unit=session.model.units or "m",
        )
    )  # fmt: skip


def centre(session: TwinSession, component: str) -> tuple[float, float, float]:
    """The middle of a component's triangles (a point to measure from)."""
    nodes = session.binding.component_nodes[component]
    mask = np.isin(session.model.cell_component, nodes)
    pts = session.model.points[np.unique(session.model.triangles[mask])]
    x, y, z = (pts.min(axis=0) + pts.max(axis=0)) / 2
    return float(x), float(y), float(z)


def run() -> int:
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        sys.stderr.write("pdftoppm not found: apt-get install poppler-utils\n")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path, zero = demo_copy("mine", folder / "mine", FEED, models=False)
        review(path, zero)
        out = Path(sys.argv[1]) if len(sys.argv) > 1 else folder / "report.pdf"
        began = time.perf_counter()
        code = main(["report", str(path), "--view", "Overview", "Level 3", "--author",
                     "J. Smith (shift engineer)", "-o", str(out)])  # fmt: skip
        if code:
            return code
        sys.stdout.write(f"report built in {time.perf_counter() - began:.1f} s\n")
        subprocess.run(
            [pdftoppm, "-r", "80", "-f", "1", "-l", "2", "-png", str(out), str(folder / "page")],
            check=True,
        )
        pages = {int(p.stem.rsplit("-", 1)[1]): p for p in folder.glob("page-*.png")}
        for k in (1, 2):  # pdftoppm pads the page number to the width of the last one
            shutil.copy(pages[k], HERE / f"report-page-{k}.png")
            sys.stdout.write(f"wrote {HERE / f'report-page-{k}.png'}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(run())
