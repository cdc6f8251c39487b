"""Data-quality gaps in the window (issue 10, "gaps are data"): hatched on the charts and the
timeline, "data missing" in the inspector at a scrubbed time inside a gap, and counted per
source in the Data sources panel. Real window, real twin, real history store (pytest-qt under
pytest-xvfb); the gaps enter where a source hands them over (``session.gap_log`` or
``Source.report_gap``) and flow through ``TwinSession.drain`` like the samples."""

from __future__ import annotations

import gc
import time
from pathlib import Path
from unittest.mock import MagicMock

import pytest

pytest.importorskip("pytestqt")

import numpy as np  # noqa: E402
from PySide6.QtCore import QPointF, Qt  # noqa: E402

from twinviewer.core.gaps import DISCONNECTION, SEQUENCE, Gap  # noqa: E402
from twinviewer.core.samples import SampleBatch  # noqa: E402
from twinviewer.core.workbench import Workbench  # noqa: E402
from twinviewer.ui.charts.gaps import GAP_Z, GapRegion  # noqa: E402
from twinviewer.ui.timeline.controller import TimelineController  # noqa: E402
from twinviewer.ui.widgets.gaps import GapQuery, merge_spans, missing_text  # noqa: E402


@pytest.fixture(autouse=True)
def _delete_closed_windows():
    """Delete the windows of earlier tests now, on the GUI thread, before this test opens one.

    pytest-qt closes a test's window and calls ``deleteLater``, which only runs in the next
    event loop (the next test's, while its window opens); the Python side, a reference cycle,
    waits for the cyclic garbage collector, which may run on a worker thread (the model loader,
    the history writer). Either way a timer or a deferred event can reach a deleted object: a
    rare segfault while the next window opens. The module ends with tests without a window,
    so its own last window is deleted here too."""
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is not None:
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


def open_and_wait(qtbot, window, path: Path) -> None:
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        window.open_project(path)


@pytest.fixture
def twin_with_gap(qtbot, window, building: Path):
    """The building open in the window with F0_T's samples around a 70 s disconnection."""
    open_and_wait(qtbot, window, building)
    s = window.session
    assert s.history is not None  # a project records by default: gaps come from the store
    now = time.time()
    gap = Gap(
        "plc",
        ("F0_T",),
        start=now - 90.0,
        end=now - 20.0,
        missing=40,
        cause=DISCONNECTION,
        exact=False,
    )
    s.queue.put(
        SampleBatch.of([0, 0, 0, 1], [now - 100, now - 90, now - 20, now - 50], [20, 21, 30, 5])
    )
    s.gap_log.add(gap)  # as a source's gap sink does
    window.workbench.timeline.set_range(now - 120.0, now)
    window.tick(force=True)  # drains samples and the gap into the session and the history
    s.history.flush()
    assert s.gaps(now - 120, now, "F0_T") == [gap]
    return window, gap, now


def test_chart_hatches_the_gap_of_its_sensor_only(qtbot, twin_with_gap) -> None:
    window, gap, now = twin_with_gap
    s = window.session
    charts = window.features["charts"]
    window.workbench.selection = (s.model.index_of("floor_0"),)  # F0_T, the gap's sensor
    panel = charts.panel
    panel.add_sensors(["F1_T"])  # another sensor of the same twin, without a gap
    assert [r.sensor.id for r in panel.rows] == ["F0_T", "F1_T"]
    panel.set_x_range(now - 120.0, now + 1.0)
    panel.refresh()
    f0, f1 = panel.rows
    assert f1.gaps.items == []  # the gap names F0_T only
    (item,) = f0.gaps.items
    assert isinstance(item, GapRegion) and item.scene() is f0.plot.scene()
    assert item.getRegion() == pytest.approx((gap.start, gap.end), abs=1e-6)
    assert item.brush.style() == Qt.BrushStyle.BDiagPattern  # hatched, not a solid band
    assert item.zValue() == GAP_Z < min(c.zValue() for c in (f0.envelope, f0.last_curve))
    assert not item.movable
    for part in (item, *item.lines):  # the mouse pans, zooms and drags the cursor through it
        assert part.acceptedMouseButtons() == Qt.MouseButton.NoButton
    assert gap.describe() in item.toolTip()
    # it fills the plot's height whatever the y range
    y0, y1 = f0.plot.getViewBox().viewRange()[1]
    rect = item.boundingRect()
    assert rect.top() == pytest.approx(y0) and rect.bottom() == pytest.approx(y1)
    assert panel.gap_spans() == {"F0_T": [(gap.start, gap.end)], "F1_T": []}
    # one label says so, inside the span; the other row has none
    assert f0.gaps.label.isVisible() and f0.gaps.label.text() == "data missing"
    assert not f1.gaps.label.isVisible()
    vb = f0.plot.getViewBox()
    x_start = vb.mapFromView(QPointF(gap.start, 0.0)).x()
    x_end = vb.mapFromView(QPointF(gap.end, 0.0)).x()
    assert x_start < f0.gaps.label.pos().x() < x_end
    # the line stops at the gap instead of joining the samples either side of it
    x, y = f0.last_curve.getData()
    inside = (x > gap.start) & (x < gap.end)
    assert inside.any() and np.isnan(y[inside]).all()
    # at a cursor inside the gap the header's value is marked as held from before it
    window.workbench.timeline.live = False
    window.workbench.timeline.current = now - 50.0
    assert "21 degC (held)" in f0.header.plain_text()
    assert "held" not in f1.header.plain_text()
    window.workbench.timeline.current = now - 10.0
    assert "held" not in f0.header.plain_text()
    # a window without the gap drops the span; back over it, it returns
    panel.set_x_range(now - 15.0, now + 1.0)
    panel.refresh()
    assert f0.gaps.items == [] and not f0.gaps.label.isVisible()
    panel.set_x_range(now - 100.0, now - 60.0)  # inside the gap: spans the whole view
    panel.refresh()
    assert [it.getRegion() for it in f0.gaps.items] == [pytest.approx((gap.start, gap.end))]


def test_chart_asks_for_gaps_again_only_when_needed(qtbot, twin_with_gap) -> None:
    window, gap, now = twin_with_gap
    s = window.session
    window.workbench.selection = (s.model.index_of("floor_0"),)
    panel = window.features["charts"].panel
    panel.set_x_range(now - 120.0, now + 1.0)
    panel.refresh()
    query = panel._gap_query
    assert query is not None
    asked = query.queries
    for _ in range(5):
        panel.refresh()  # same window, no new gap: the store is not asked
    assert query.queries == asked
    later = Gap("plc", ("F0_T",), now - 15.0, now - 12.0, 3, SEQUENCE)
    s.gap_log.add(later)
    window.tick(force=True)
    panel.refresh()
    assert query.queries == asked + 1
    assert panel.gap_spans()["F0_T"] == [(gap.start, gap.end), (later.start, later.end)]
    row = panel.rows[0]
    assert len(row.gaps.items) == 2 and row.gaps.label.isVisible()  # one label for both


def test_timeline_hatches_every_gap_in_its_window(qtbot, twin_with_gap) -> None:
    window, gap, now = twin_with_gap
    s = window.session
    other = Gap("mqtt", (), now - 110.0, now - 105.0, 12, SEQUENCE)  # all sensors of a source
    s.gap_log.add(other)
    window.tick(force=True)
    window.refresh_panels()
    bar = window.features["timeline"].bar
    v0, v1 = bar.view_range()
    spans = bar.gap_spans()
    assert [(sp.start, sp.end) for sp in spans] == [
        (other.start, other.end),
        (gap.start, gap.end),
    ]
    fractions = bar.slider.gaps()
    expected = [((sp.start - v0) / (v1 - v0), (sp.end - v0) / (v1 - v0)) for sp in spans]
    assert [f for pair in fractions for f in pair] == pytest.approx(
        [f for pair in expected for f in pair]
    )
    # painted over the track where the fractions say
    rects = bar.slider.gap_rects()
    assert rects[1].left() == pytest.approx(bar.slider.x_of(fractions[1][0]), abs=0.5)
    assert rects[1].right() == pytest.approx(bar.slider.x_of(fractions[1][1]), abs=0.5)
    before = bar.slider.paints
    bar.slider.repaint()
    assert bar.slider.paints > before
    # the hover text over a gap summarises it; elsewhere only the time
    assert gap.describe() in bar.hover_text(now - 50.0)
    assert "missing" not in bar.hover_text(now - 5.0)
    # zoomed to a window without gaps: nothing hatched
    bar.set_view_range(now - 18.0, now)
    assert bar.gap_spans() == [] and bar.slider.gaps() == []
    bar.fit_view()
    assert len(bar.gap_spans()) == 2
    window.close_session()
    assert bar.gap_spans() == []


def test_inspector_says_data_missing_inside_a_gap(qtbot, twin_with_gap) -> None:
    window, gap, now = twin_with_gap
    s = window.session
    window.workbench.selection = (s.model.index_of("floor_0"),)
    inspector = window.features["inspector"].inspector
    tl = window.workbench.timeline
    window.refresh_panels()
    assert "data missing" not in (inspector.value_of("F0_T") or "")  # live: the newest value
    tl.live = False
    tl.current = now - 50.0  # scrubbed into the gap: the store holds 21 degC from before it
    window.tick(force=True)
    window.refresh_panels()
    text = inspector.value_of("F0_T") or ""
    assert text == "data missing (disconnection, ~40 samples)"
    assert "21" not in text  # not presented as the value at that time...
    r = next(
        r for r in range(inspector.table.rowCount()) if inspector.table.item(r, 0).text() == "F0_T"
    )
    assert inspector.table.item(r, 2).text() == "no data"  # not the held value's "normal"
    assert "(held)" in inspector.table.item(r, 3).text()
    tip = inspector.table.item(r, 1).toolTip()
    assert "Last value before the gap: 21.00 degC" in tip and gap.describe() in tip  # ...held
    tl.current = now - 10.0  # after the gap: the value again
    window.tick(force=True)
    window.refresh_panels()
    assert inspector.value_of("F0_T") == "30.00 degC"
    assert not inspector.table.item(r, 1).toolTip()  # the held-value tip went with the gap
    assert inspector.table.item(r, 2).text() == "normal"
    assert "held" not in inspector.table.item(r, 3).text()
    tl.current = now - 50.0  # a sensor the gap does not name is unaffected
    window.workbench.selection = (s.model.index_of("floor_1"),)
    window.tick(force=True)
    window.refresh_panels()
    assert inspector.value_of("F1_T") == "5.00 degC"


def test_sources_panel_counts_gaps_and_missing_samples(qtbot, window, building: Path) -> None:
    live = building.with_name("live.twin.yaml")  # the building with a live simulated feed
    live.write_text(building.read_text() + "sources:\n  - {type: simulator, id: sim, rate: 5}\n")
    open_and_wait(qtbot, window, live)
    try:
        s = window.session
        panel = window.features["data_sources"].panel
        header = [
            panel.table.horizontalHeaderItem(c).text() for c in range(panel.table.columnCount())
        ]
        gaps_col, missing_col = header.index("Gaps"), header.index("Missing")
        window.refresh_panels()
        assert panel.text(0, gaps_col) == "0" and panel.text(0, missing_col) == "0"
        src = s.sources[0]
        now = time.time()
        sid = s.sensors[0].id
        src.report_gap(Gap(src.id, (sid,), now - 30, now - 20, 1200, DISCONNECTION, exact=False))
        src.report_gap(Gap(src.id, (sid,), now - 10, now - 9, 34, SEQUENCE))
        window.refresh_panels()
        assert panel.text(0, gaps_col) == "2"
        assert panel.text(0, missing_col) == "1,234"
        tip = panel.table.item(0, missing_col).toolTip()
        assert "disconnection: 1,200" in tip and "sequence gap: 34" in tip
        assert tip.index("disconnection") < tip.index("sequence gap")  # largest first
        assert header[-1] == "Last message"
        # the source's gap sink is the session's: drained with the samples, into the history
        window.tick(force=True)
        assert len(s.live_gaps) == 2 and len(s.gaps(now - 60, now, sid)) == 2
    finally:
        window.close_session()


def test_timeline_controller_hands_the_bar_the_gaps_in_view(twin_with_gap) -> None:
    window, gap, now = twin_with_gap
    wb = Workbench(twin=window.session)
    bar = MagicMock(name="bar")
    bar.view_range.return_value = (now - 120.0, now)
    ctl = TimelineController(wb, bar, MagicMock(name="player"))
    ctl.update_gaps()
    bar.set_gaps.assert_called_with([gap])
    bar.view_range.return_value = (now - 10.0, now)
    ctl.update_gaps()
    bar.set_gaps.assert_called_with([])
    ctl.closed()
    bar.set_gaps.assert_called_with([])


# -- the pieces, without the window ----------------------------------------------------------


def test_gap_query_caches_by_window_and_version() -> None:
    calls: list[tuple] = []
    gaps = [Gap("a", ("x",), 10.0, 20.0, 5), Gap("a", ("x",), 500.0, 510.0, 5)]
    version = [0]

    def fetch(t0, t1, sensor):
        calls.append((t0, t1, sensor))
        return [g for g in gaps if g.overlaps(t0, t1)]

    q = GapQuery(fetch, lambda: version[0])
    assert q.get(0.0, 100.0) == gaps[:1]
    assert q.get(10.0, 110.0) == gaps[:1]  # within the margin fetched: not asked again
    assert len(calls) == 1 and calls[0][:2] == (-50.0, 150.0)
    version[0] = 1
    q.get(10.0, 110.0)
    assert len(calls) == 2  # a new gap was reported
    assert q.get(450.0, 550.0) == gaps[1:] and len(calls) == 3  # the window left the margin

    def broken(*_):
        raise OSError("store unreadable")

    bad = GapQuery(broken, lambda: 0)
    assert bad.get(0.0, 1.0) == [] and "store unreadable" in (bad.error or "")


def test_spans_merge_within_a_pixel_and_describe_the_loss() -> None:
    a = Gap("a", ("x",), 0.0, 10.0, 5)
    b = Gap("a", ("x",), 10.5, 12.0, 2)
    c = Gap("a", ("x",), 30.0, 31.0, 1)
    spans = merge_spans([c, b, a], join=1.0)
    assert [(s.start, s.end, len(s.gaps)) for s in spans] == [(0.0, 12.0, 2), (30.0, 31.0, 1)]
    assert "2 gaps, 7 samples" in spans[0].tooltip()
    assert [(s.start, s.end) for s in merge_spans([a, b])] == [(0.0, 10.0), (10.5, 12.0)]
    assert missing_text([a]) == "data missing (sequence gap, 5 samples)"
    shared = Gap("a", ("x", "y"), 0.0, 1.0, 81, DISCONNECTION, exact=False)
    assert missing_text([shared]) == "data missing (disconnection, ~40 samples)"
    every = Gap("a", (), 0.0, 90.0, 9000)  # all the source's sensors: how long, not how many
    assert missing_text([every]) == "data missing (sequence gap, 1.5 min)"
