"""The review report, headless: the mine demo with a recorded past (its level 3 booster fan
warns at about 95 s of feed and alarms at 170 s), issues added through the review, written as
HTML and PDF by the command line and by the report layer."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from twinviewer.cli import main
from twinviewer.report import ReportBuilder, ReportCancelled, ReportOptions, resolve_window

FEED = 240.0  # seconds of history: the fan's warning and alarm both happen in it


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        msg = f"{tool} is not installed (apt-get install poppler-utils)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return path


class Refs(HTMLParser):
    """Every attribute that can make a page load something: src, href, srcset, data, poster."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "srcset", "data", "poster", "action", "background"):
                self.refs.append((tag, name, value or ""))


@pytest.fixture(scope="module")
def mine(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The mine with FEED s of history ending now, three issues and a measurement."""
    from twinviewer.review import Measurement, new_issue
    from twinviewer.session.demos import demo_copy
    from twinviewer.session.review_book import ReviewBook

    folder = tmp_path_factory.mktemp("mine")
    path, zero = demo_copy("mine", folder, FEED, models=False)
    book = ReviewBook(path)
    png = (Path(__file__).parents[1] / "assets" / "mine" / "preview.png").read_bytes()
    fan = new_issue(
        'Fan <b>bearing</b> & "noise"', "ann", component="l3_booster_fan", time=zero + 180.0,
        text="Vibration rising since the morning <script>alert(1)</script>",
    )  # fmt: skip
    book.add_issue(fan, snapshot_png=png)
    pump = new_issue("Sump pump cycling", "bob", component="l4_pump_1", time=zero + 60.0)
    pump.status = "resolved"  # resolved, but pinned in the window: reported
    book.add_issue(pump)
    old = new_issue("Old paint on the headframe", "bob", component="headframe", time=zero - 9e5)
    old.status = "closed"  # closed and long before the window: not reported
    book.add_issue(old)
    book.add_measurement(
        Measurement(
            name="Shaft clearance", kind="distance", points=[(0, 0, 0), (0, 0, 2.5)],
            components=["shaft"], value=2.5, unit="m",
        )
    )  # fmt: skip
    html = folder / "out" / "report.html"
    assert main(["report", str(path), "--view", "Overview", "Level 3", "-o", str(html)]) == 0
    return {"path": path, "zero": zero, "html": html, "issues": [fan, pump, old]}


def window_alarms(path: Path, t0: float, t1: float) -> list[tuple[str, str]]:
    """(sensor, level) of every warning and alarm interval of the window, computed here."""
    from twinviewer.core.alarms import AlarmLog, catch_up
    from twinviewer.core.colour import STATUS_LABELS, Status
    from twinviewer.session import TwinSession

    s = TwinSession.open(path)
    store = s.open_history()
    assert store is not None
    log = AlarmLog(s.rules)
    catch_up(log, store, [x.id for x in s.sensors], until=t1)
    iv = log.intervals()
    s.close()
    iv = iv[(iv["start"] <= t1) & ~(iv["end"] < t0)]
    return [(s.sensors[int(r["sensor"])].id, STATUS_LABELS[Status(int(r["level"]))]) for r in iv]


def test_html_is_self_contained_and_names_every_alarm_and_issue(mine: dict) -> None:
    text = mine["html"].read_text(encoding="utf-8")
    refs = Refs()
    refs.feed(text)
    assert refs.refs, "the snapshots and charts are images"
    for tag, name, value in refs.refs:
        assert name == "src" and value.startswith("data:image/png;base64,"), (tag, name, value)
    assert "link" not in refs.tags and "script" not in refs.tags and "iframe" not in refs.tags
    assert not re.search(r"https?:|url\(|@import|file:", text, re.I)

    # every alarm and warning of the window, by sensor and level, in the alarm table
    zero = mine["zero"]
    alarms = window_alarms(mine["path"], zero, zero + FEED)
    assert ("l3_fan_vibration", "alarm") in alarms and ("l3_fan_vibration", "warning") in alarms
    table = text[text.index("<h2>Alarms and events of the window</h2>") :]
    table = table[: table.index("</table>")]
    rows = re.findall(r"<tr><td><span class=\"badge (\w+)\">\w+</span></td><td>([^<]+)</td>", table)
    assert sorted((sensor, level) for level, sensor in rows) == sorted(alarms)

    # every issue that is open or pinned in the window, with user text escaped; not the old one
    fan, pump, old = mine["issues"]
    assert "Fan &lt;b&gt;bearing&lt;/b&gt; &amp; &quot;noise&quot;" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "<script>" not in text
    assert pump.title in text
    assert old.title not in text
    # the issue's snapshot, the measurement, the fidelity table and the state of each sensor
    issues = text[text.index("<h2>Issues</h2>") :]
    assert issues.count("data:image/png;base64,") == 1
    assert "Shaft clearance" in text and "2.5 m" in text
    assert "Methane (ventilation model)" in text and "l4_methane" in text
    assert text.count("class='num'>") > 60
    assert "Rejected samples by reason" in text
    assert re.search("not recorded by this history", text, re.I)  # said, not left out


def test_pdf_has_numbered_pages_that_are_not_blank(mine: dict, tmp_path: Path) -> None:
    from matplotlib.image import imread

    pdfinfo, pdftoppm, pdftotext = _need("pdfinfo"), _need("pdftoppm"), _need("pdftotext")
    out = tmp_path / "report.pdf"
    zero = mine["zero"]
    from datetime import datetime, timezone

    iso = datetime.fromtimestamp(zero + 200.0, timezone.utc).isoformat()
    code = main(
        ["report", str(mine["path"]), f"--at={iso}", "--sensor", "l1_methane", "-o", str(out)]
    )
    assert code == 0
    info = subprocess.run([pdfinfo, str(out)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))  # type: ignore[union-attr]
    assert pages >= 2
    words = subprocess.run(
        [pdftotext, "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert f"Page 1 of {pages}" in words and f"Page {pages} of {pages}" in words
    assert "l3_fan_vibration" in words and "l1_methane" in words
    subprocess.run(
        [pdftoppm, "-r", "50", "-f", "1", "-l", "2", "-png", str(out), str(tmp_path / "p")],
        check=True,
    )
    for k in (1, 2):
        (png,) = tmp_path.glob(f"p-*{k}.png")
        image = imread(png)
        assert image.shape[0] > image.shape[1] > 300  # portrait A4 at 50 dpi
        assert float(np.var(image[..., :3])) > 0.01, f"page {k} is blank"
    # page 2 holds the first view: a picture, mostly dark background, not text on white
    assert float(imread(next(tmp_path.glob("p-*2.png")))[..., :3].mean()) < 0.8


def test_cli_refuses_bad_times_views_and_outputs(mine: dict, tmp_path: Path, capsys) -> None:
    path = str(mine["path"])
    assert main(["report", path, "--at", "yesterday", "-o", str(tmp_path / "r.html")]) == 2
    assert "--at 'yesterday': expected ISO 8601" in capsys.readouterr().err
    assert main(["report", path, "--from", "soon", "-o", str(tmp_path / "r.html")]) == 2
    assert "--from 'soon'" in capsys.readouterr().err
    assert main(["report", path, "-o", str(tmp_path / "r.docx")]) == 2
    assert "written as .html or .pdf" in capsys.readouterr().err
    assert main(["report", path, "--view", "Nowhere", "-o", str(tmp_path / "r.html")]) == 1
    err = capsys.readouterr().err
    assert "unknown view 'Nowhere'" in err and "Level 3" in err
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert main(["report", path, "-o", str(blocker / "r.pdf")]) == 1
    assert "cannot write the report there" in capsys.readouterr().err
    assert main(["report", path, "--at=-30d", "-o", str(tmp_path / "r.html")]) == 1
    assert "before the first recorded sample" in capsys.readouterr().err
    assert main(["report", path, "--sensor", "nope", "-o", str(tmp_path / "r.html")]) == 1
    assert "no sensor 'nope'" in capsys.readouterr().err
    assert not list(tmp_path.glob("r.*")) and not list(blocker.parent.glob(".r.*"))


def test_window_defaults_and_errors() -> None:
    held = (1000.0, 9000.0)
    assert resolve_window(held, None, None, None) == (9000.0, 5400.0, 9000.0)  # the last hour
    assert resolve_window(held, 1500.0, None, None) == (1500.0, 1000.0, 1500.0)  # clipped
    assert resolve_window(held, None, 2000.0, 3000.0) == (3000.0, 2000.0, 3000.0)
    assert resolve_window(held, 2500.0, 2000.0, 3000.0) == (2500.0, 2000.0, 3000.0)
    with pytest.raises(ValueError, match="before the first recorded sample"):
        resolve_window(held, 10.0, None, None)
    with pytest.raises(ValueError, match="must start before it ends"):
        resolve_window(held, None, 4000.0, 3000.0)


def test_progress_runs_forward_and_cancel_stops(mine: dict) -> None:
    from twinviewer.session import TwinSession

    session = TwinSession.open(mine["path"])
    session.open_history()
    try:
        builder = ReportBuilder(session, ReportOptions(views=[("Top", "top")], size=(320, 200)))
        seen: list[tuple[float, str]] = []
        builder.snapshot_all(lambda f, m: seen.append((f, m)))
        content = builder.gather(lambda f, m: seen.append((f, m)))
        fractions = [f for f, _ in seen]
        assert fractions[0] == 0.0 and fractions[-1] == 1.0
        assert any("Charting l3_fan_vibration" in m for _, m in seen)
        assert [s.label for s in content.snapshots] == ["Top"]
        assert content.snapshots[0].png.startswith(b"\x89PNG")
        # the window's own session is untouched: the builder coloured a session of its own
        assert (session.sensor_state == 1).all()  # never updated: no data
        calls = []

        def cancelled() -> bool:
            calls.append(1)
            return len(calls) > 2

        with pytest.raises(ReportCancelled):
            builder.gather(cancelled=cancelled)
    finally:
        session.close()
