"""The chart panel under a virtual X server (pytest-xvfb), driven with pytest-qt.

The data comes through the panel's real interface, a ``fetch(sensor, t0, t1, pixels)``
function; here it computes true min/max buckets of numpy arrays, like the history store does.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QPoint, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from twinviewer.core.project import Limits, Sensor  # noqa: E402
from twinviewer.core.timeline import Timeline  # noqa: E402
from twinviewer.ui.charts.panel import DEFAULT_WINDOW, LIVE_MARGIN, QtChartPanel  # noqa: E402
from twinviewer.ui.charts.ranges import ALL_DATA  # noqa: E402

T0 = 1_700_000_000.0


def bucket_series(
    t: np.ndarray, v: np.ndarray, t0: float, t1: float, pixels: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``HistoryStore.series`` semantics over arrays: raw samples when few, else buckets of
    equal time width with their start time, exact min, max and last value."""
    keep = (t >= t0) & (t <= t1)
    tt, vv = t[keep], v[keep]
    if len(tt) < 2 * pixels:
        return tt, vv, vv, vv
    width = (t1 - t0) / pixels
    bucket = np.minimum(((tt - t0) // width).astype(np.int64), pixels - 1)
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    ends = np.r_[starts[1:], len(tt)] - 1
    return (
        t0 + bucket[starts] * width,
        np.minimum.reduceat(vv, starts),
        np.maximum.reduceat(vv, starts),
        vv[ends],
    )


class ArraySource:
    """A fetch function over one array per sensor, recording its calls."""

    def __init__(self, data: dict[int, tuple[np.ndarray, np.ndarray]]) -> None:
        self.data = data
        self.calls: list[tuple[int, float, float, int]] = []
        self.fail: dict[int, Exception] = {}

    def __call__(self, index: int, t0: float, t1: float, pixels: int):
        self.calls.append((index, t0, t1, pixels))
        if index in self.fail:
            raise self.fail[index]
        t, v = self.data[index]
        return bucket_series(t, v, t0, t1, pixels)

    def last_call(self, index: int) -> tuple[int, float, float, int]:
        return [c for c in self.calls if c[0] == index][-1]


def sensor(sid: str, **kw) -> Sensor:
    args = {"id": sid, "quantity": "temperature", "unit": "degC", "range": (0.0, 100.0)}
    args.update(kw)
    return Sensor(**args)


def noisy(seed: int, n: int = 20_000, span: float = 3600.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = T0 + np.sort(rng.uniform(0.0, span, n))
    v = 50.0 + 10.0 * np.sin(t / 300.0) + rng.normal(0.0, 1.0, n)
    return t, v


@pytest.fixture
def make_panel(qtbot):
    from twinviewer.ui.application import create_app

    create_app()

    def make(sensors, source=None, timeline=None, width=900, height=600):
        panel = QtChartPanel()
        qtbot.addWidget(panel)  # closed and deleted after the test
        panel.resize(width, height)
        panel.show()
        qtbot.waitExposed(panel)
        if timeline is not None:
            panel.bind(timeline)
        panel.set_source(source)
        panel.set_sensors(sensors)
        QApplication.processEvents()
        return panel

    return make


def test_envelope_matches_the_buckets_and_keeps_every_spike(make_panel) -> None:
    t, v = noisy(1)
    v[7_000] = 400.0  # one sample spikes: buckets must not hide it
    v[12_000] = -250.0
    src = ArraySource({3: (t, v)})
    tl = Timeline(T0, T0 + 3600.0, live=False)
    panel = make_panel([(3, sensor("TT-1"))], src, tl)
    panel.set_x_range(T0 + 600.0, T0 + 3000.0)
    panel.refresh()
    index, t0, t1, pixels = src.last_call(3)
    assert index == 3
    assert (t0, t1) == pytest.approx((T0 + 600.0, T0 + 3000.0), abs=1e-3)
    row = panel.rows[0]
    assert pixels == pytest.approx(row.plot.getViewBox().width(), abs=1)
    et, emin, emax, elast = bucket_series(t, v, t0, t1, pixels)
    assert len(et) < 2 * pixels < int(((t >= t0) & (t <= t1)).sum())  # really bucketed
    for curve, expected in ((row.min_curve, emin), (row.max_curve, emax), (row.last_curve, elast)):
        x, y = curve.getData()
        np.testing.assert_array_equal(x, et)
        np.testing.assert_array_equal(y, expected)
    _, ymax = row.max_curve.getData()
    _, ymin = row.min_curve.getData()
    assert ymax.max() == 400.0 and ymin.min() == -250.0
    assert np.all(ymin <= ymax)
    lo, hi = row.plot.getViewBox().viewRange()[1]
    assert lo < -250.0 and hi > 400.0  # the spikes are in view
    assert not row.message.is_visible()


def test_few_samples_are_drawn_raw(make_panel) -> None:
    t = T0 + np.arange(0.0, 600.0, 60.0)
    v = np.arange(len(t), dtype=float)
    src = ArraySource({0: (t, v)})
    tl = Timeline(T0, T0 + 600.0)
    panel = make_panel([(0, sensor("PT-1", unit="bar"))], src, tl)
    panel.set_x_range(T0 - 10.0, T0 + 610.0)
    panel.refresh()
    row = panel.rows[0]
    x, y = row.last_curve.getData()
    np.testing.assert_array_equal(x, t)
    np.testing.assert_array_equal(y, v)
    assert row.last_value == v[-1]  # live: the newest value
    assert "9 bar" in row.header.plain_text()
    tl.current = T0 + 130.0  # the header shows the value at the cursor (latest at or before)
    assert row.last_value == 2.0 and "2 bar" in row.header.plain_text()
    assert row.plot.getAxis("left").labelText == "bar"


def test_threshold_bands_lie_at_the_limits(make_panel) -> None:
    s = sensor(
        "TT-2",
        warning=Limits(low=10.0, high=80.0),
        alarm=Limits(low=5.0, high=90.0),
    )
    t, v = noisy(2, n=500)
    panel = make_panel([(0, s)], ArraySource({0: (t, v)}), Timeline(T0, T0 + 3600.0))
    row = panel.rows[0]
    y0, y1 = row.plot.getViewBox().viewRange()[1]
    assert y0 < 5.0 and y1 > 90.0  # the limits are in view even though the data is not there
    assert row.bands["warning.high"].getRegion() == pytest.approx((80.0, 90.0))
    assert row.bands["alarm.high"].getRegion() == pytest.approx((90.0, y1))
    assert row.bands["warning.low"].getRegion() == pytest.approx((5.0, 10.0))
    assert row.bands["alarm.low"].getRegion() == pytest.approx((y0, 5.0))
    assert row.normal_band.getRegion() == pytest.approx((0.0, 100.0))
    for key, value in (("warning.high", 80.0), ("alarm.high", 90.0), ("warning.low", 10.0)):
        assert row.limit_lines[key].value() == value
    assert all(b.isVisible() for b in row.bands.values())
    states = [row.state_of(x) for x in (50.0, 85.0, 95.0, 7.0, 3.0, float("nan"))]
    assert states == ["normal", "warning", "alarm", "warning", "alarm", "normal"]
    warn = row.bands["warning.high"].brush.color()
    alarm = row.bands["alarm.high"].brush.color()
    assert warn.red() > 200 and 120 < warn.green() < 200 and 0 < warn.alpha() < 100  # amber
    assert alarm.red() > 200 and alarm.green() < 80 and 0 < alarm.alpha() < 100  # red


def test_a_warning_without_alarm_reaches_the_edge_and_no_limits_no_bands(make_panel) -> None:
    t, v = noisy(3, n=300)
    src = ArraySource({0: (t, v), 1: (t, v)})
    panel = make_panel(
        [(0, sensor("A", warning=Limits(high=70.0))), (1, sensor("B"))],
        src,
        Timeline(T0, T0 + 3600.0),
    )
    a, b = panel.rows
    top = a.plot.getViewBox().viewRange()[1][1]
    assert a.bands["warning.high"].getRegion() == pytest.approx((70.0, top))
    assert set(a.bands) == {"warning.high"} and b.bands == {}


def test_moving_the_cursor_scrubs_the_timeline(make_panel) -> None:
    t, v = noisy(4, n=1000)
    tl = Timeline(T0, T0 + 3600.0, live=True)
    src = ArraySource({0: (t, v), 1: (t, v)})
    panel = make_panel([(0, sensor("A")), (1, sensor("B"))], src, tl)
    seen: list[float] = []
    tl.changed.connect(seen.append)
    cursor = panel.rows[1].cursor
    cursor.setValue(T0 + 3000.0)
    cursor.sigDragged.emit(cursor)
    assert tl.current == T0 + 3000.0 and not tl.live
    cursor.setValue(T0 + 2500.0)
    cursor.sigPositionChangeFinished.emit(cursor)
    assert tl.current == T0 + 2500.0
    assert seen == [T0 + 3000.0, T0 + 2500.0]
    assert panel.rows[0].cursor.value() == T0 + 2500.0  # the other rows follow
    cursor.setValue(T0 - 500.0)  # before the range held: the timeline clamps, the cursor too
    cursor.sigDragged.emit(cursor)
    assert tl.current == T0
    assert [r.cursor.value() for r in panel.rows] == [T0, T0]


def _send_mouse(widget, kind, pos: QPointF, buttons) -> None:
    button = (
        Qt.MouseButton.LeftButton if kind != QMouseEvent.Type.MouseMove else Qt.MouseButton.NoButton
    )
    global_pos = QPointF(widget.mapToGlobal(pos.toPoint()))
    event = QMouseEvent(kind, pos, global_pos, button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def test_dragging_the_cursor_with_the_mouse_scrubs_during_the_drag(qtbot, make_panel) -> None:
    t, v = noisy(5, n=1000)
    tl = Timeline(T0, T0 + 3600.0, live=False)
    tl.current = T0 + 1800.0
    panel = make_panel([(0, sensor("A"))], ArraySource({0: (t, v)}), tl)
    panel.set_x_range(T0, T0 + 3600.0)
    row = panel.rows[0]
    vb = row.plot.getViewBox()
    view = panel.view

    def to_widget(x: float) -> QPointF:
        y = vb.viewRange()[1]
        scene = vb.mapViewToScene(QPointF(x, (y[0] + y[1]) / 2))
        return QPointF(view.mapFromScene(scene))

    seen: list[float] = []
    tl.changed.connect(seen.append)
    held = Qt.MouseButton.LeftButton
    viewport = view.viewport()
    start = to_widget(T0 + 1800.0)
    # pyqtgraph drops mouse moves closer than 1/mouseRateLimit s apart: pace them like a hand
    _send_mouse(viewport, QMouseEvent.Type.MouseMove, start, Qt.MouseButton.NoButton)
    qtbot.wait(25)
    _send_mouse(viewport, QMouseEvent.Type.MouseButtonPress, start, held)
    for x in (T0 + 1500.0, T0 + 1200.0, T0 + 900.0):
        qtbot.wait(25)
        _send_mouse(viewport, QMouseEvent.Type.MouseMove, to_widget(x), held)
    during = list(seen)
    _send_mouse(viewport, QMouseEvent.Type.MouseButtonRelease, to_widget(T0 + 900.0), held)
    assert len(during) >= 2, "the time must follow the drag, not only the release"
    assert during[0] > during[-1]
    assert tl.current == pytest.approx(T0 + 900.0, abs=3600.0 / 100)
    assert row.cursor.value() == tl.current
    assert panel.x_range() == pytest.approx((T0, T0 + 3600.0))  # the drag moved the line, no pan


def test_a_timeline_change_moves_the_cursor(make_panel) -> None:
    t, v = noisy(6, n=1000)
    tl = Timeline(T0, T0 + 3600.0, live=False)
    panel = make_panel(
        [(0, sensor("A")), (1, sensor("B"))], ArraySource({0: (t, v), 1: (t, v)}), tl
    )
    x0, x1 = panel.x_range()  # not live, following: a default window around the cursor
    assert x1 - x0 == pytest.approx(DEFAULT_WINDOW) and x0 < tl.current < x1
    tl.current = T0 + 1234.5
    assert [r.cursor.value() for r in panel.rows] == [T0 + 1234.5] * 2
    assert panel.cursor_value() == T0 + 1234.5
    assert panel.cursor_label.text().startswith("2023-11-1")
    # following (not live): a cursor that leaves the view brings the view with it
    panel.follow()
    x0, x1 = panel.x_range()
    tl.current = x0 - 100.0
    nx0, nx1 = panel.x_range()
    assert nx0 <= tl.current <= nx1
    assert nx1 - nx0 == pytest.approx(x1 - x0)


def test_live_follows_the_edge_until_the_user_zooms(qtbot, make_panel) -> None:
    t, v = noisy(7, n=1000, span=7200.0)
    tl = Timeline(T0, T0 + 3600.0, live=True)
    src = ArraySource({0: (t, v)})
    panel = make_panel([(0, sensor("A"))], src, tl)
    end = T0 + 3600.0
    assert panel.x_range() == pytest.approx(
        (end - DEFAULT_WINDOW, end + DEFAULT_WINDOW * LIVE_MARGIN), abs=1e-3
    )
    tl.extend(T0 + 4000.0)
    assert panel.x_range()[0] == pytest.approx(T0 + 4000.0 - DEFAULT_WINDOW, abs=1e-3)
    assert panel.rows[0].cursor.value() == T0 + 4000.0
    qtbot.waitUntil(lambda: src.calls and src.calls[-1][2] > T0 + 4000.0, timeout=2000)
    # a wheel zoom over the plot is the user's: following stops, the view stays
    vb = panel.rows[0].plot.getViewBox()
    centre = QPoint(
        *(int(c) for c in panel.view.mapFromScene(vb.sceneBoundingRect().center()).toTuple())
    )
    qtbot.mouseMove(panel.view.viewport(), centre)
    from PySide6.QtGui import QWheelEvent

    gpos = QPointF(panel.view.viewport().mapToGlobal(centre))
    wheel = QWheelEvent(
        QPointF(centre),
        gpos,
        QPoint(),
        QPoint(0, 240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(panel.view.viewport(), wheel)
    zoomed = panel.x_range()
    assert zoomed[1] - zoomed[0] < DEFAULT_WINDOW * 0.9
    assert not panel.following and not panel.follow_button.isChecked()
    tl.extend(T0 + 4500.0)
    assert panel.x_range() == pytest.approx(zoomed)
    qtbot.mouseClick(panel.follow_button, Qt.MouseButton.LeftButton)
    assert panel.following
    assert panel.x_range()[1] == pytest.approx(T0 + 4500.0 + DEFAULT_WINDOW * LIVE_MARGIN)
    panel.set_window(60.0)
    assert panel.x_range()[0] == pytest.approx(T0 + 4500.0 - 60.0)
    assert panel.window_combo.currentText() == "1 min"


def test_a_failing_fetch_shows_a_message_and_the_other_rows_still_draw(make_panel, caplog) -> None:
    t, v = noisy(8, n=2000)
    src = ArraySource({0: (t, v), 1: (t, v)})
    src.fail[1] = OSError("segment 000000000007-m.parquet is unreadable")
    tl = Timeline(T0, T0 + 3600.0, live=False)
    panel = make_panel([(0, sensor("A")), (1, sensor("B"))], src, tl)
    panel.set_x_range(T0, T0 + 3600.0)
    panel.refresh()
    good, bad = panel.rows
    assert bad.message.is_visible()
    assert "unreadable" in bad.message.plain_text() and "B" in bad.message.plain_text()
    empty_x, _ = bad.last_curve.getData()
    assert empty_x is None or len(empty_x) == 0
    assert not good.message.is_visible() and len(good.last_curve.getData()[0]) > 0
    assert panel.fetch_errors >= 1
    assert "unreadable" in caplog.text  # logged (once per distinct error, not per refresh)
    panel.refresh()
    assert sum("unreadable" in r.getMessage() for r in caplog.records) == 1
    del src.fail[1]  # the store recovers: the next refresh draws and hides the message
    panel.refresh()
    assert not bad.message.is_visible() and len(bad.last_curve.getData()[0]) > 0


def test_malformed_series_is_an_error_too(make_panel) -> None:
    def fetch(index, t0, t1, pixels):
        return np.arange(3.0), np.arange(2.0), np.arange(3.0), np.arange(3.0)

    panel = make_panel([(0, sensor("A"))], fetch, Timeline(T0, T0 + 10.0))
    assert "differ in length" in panel.rows[0].message.plain_text()


def test_no_source_no_sensors_and_replacing_sensors(make_panel) -> None:
    panel = make_panel([], None, Timeline(T0, T0 + 10.0))
    assert panel.rows == [] and not panel.view.isVisible() and panel.empty_label.isVisible()
    panel.set_sensors([(0, sensor("A"))])
    assert panel.view.isVisible() and "No history" in panel.rows[0].message.plain_text()
    t, v = noisy(9, n=100)
    panel.set_source(ArraySource({0: (t, v), 5: (t, v)}))
    panel.set_sensors([(5, sensor("C", name="Coolant")), (0, sensor("A"))])
    assert [r.index for r in panel.rows] == [5, 0]
    assert "C · Coolant" in panel.rows[0].header.plain_text()
    assert len(panel.view.ci.items) == 2


def test_sensors_dragged_from_the_inspector_and_alarm_list_onto_charts(
    qtbot, window, building: Path
) -> None:
    """Drag and drop: the inspector's rows onto the chart add that sensor and keep it across
    selections; a second chart panel charts only what is dropped on it."""
    from PySide6.QtGui import QDropEvent

    from tests.test_gui import open_and_wait
    from twinviewer.core.samples import SampleBatch

    w = window
    open_and_wait(qtbot, w, building)
    try:
        s = w.session
        floor_0 = s.model.index_of("floor_0")
        w.features["components"].tree.select([floor_0])
        w.workbench.selection = (floor_0,)
        assert w.features["charts"].panel.sensor_indices() == [0]

        def drop(panel, mime) -> None:
            ev = QDropEvent(
                QPointF(20, 20),
                Qt.DropAction.CopyAction,
                mime,
                Qt.MouseButton.LeftButton,
                Qt.KeyboardModifier.NoModifier,
            )
            panel.dropEvent(ev)

        # the inspector of floor_2 offers F2_CO; drop it onto the main chart
        floor_2 = s.model.index_of("floor_2")
        w.workbench.selection = (floor_2,)
        w.refresh_panels()
        table = w.features["inspector"].inspector.table
        mime = table.mimeData([table.item(0, 0)])
        w.workbench.selection = (floor_0,)
        drop(w.features["charts"].panel, mime)
        assert w.features["charts"].panel.sensor_indices() == [0, 2]
        w.workbench.selection = (s.model.index_of("floor_1"),)
        assert w.features["charts"].panel.sensor_indices() == [1, 2]  # the dropped sensor stays
        w.features["charts"].panel.clear_added()
        assert w.features["charts"].panel.sensor_indices() == [1]

        # an alarm row dragged onto a new chart panel
        now = time.time()
        s.history.append(SampleBatch.of([1], [now - 5], [99.0]))
        s.history.flush()
        w.features["alarms"].watcher.poke()
        qtbot.waitUntil(lambda: len(w.features["alarms"].alarm_list.listed()) == 1, timeout=10000)
        extra = w.features["charts"].new_chart_panel()
        assert extra.sensor_indices() == []
        model = w.features["alarms"].alarm_list.model
        drop(extra, model.mimeData([model.index(0, 1)]))
        assert extra.sensor_indices() == [1]
        w.workbench.selection = (floor_0,)
        assert extra.sensor_indices() == [1]  # it does not follow the selection
    finally:
        w.close_session()


# -- time windows: all data, a custom range, old data -------------------------------------------
def _choose(panel, text: str) -> None:
    """Pick a time window in the panel's combo, as a click does."""
    i = panel.window_combo.findText(text)
    assert i >= 0, f"no {text!r} among the windows"
    panel.window_combo.setCurrentIndex(i)
    panel.window_combo.activated.emit(i)


def test_all_data_shows_the_range_the_timeline_holds(make_panel) -> None:
    t, v = noisy(10, n=3000, span=30 * 86400.0)
    src = ArraySource({0: (t, v)})
    tl = Timeline(T0, T0 + 30 * 86400.0, live=False)
    tl.current = T0 + 86400.0
    panel = make_panel([(0, sensor("A"))], src, tl)
    panel.set_x_range(T0 + 100.0, T0 + 200.0)  # zoomed in, not following
    _choose(panel, "All data")
    assert panel.time_window == ALL_DATA and panel.following
    assert panel.x_range() == pytest.approx((tl.start, tl.end), abs=1.0)
    panel.refresh()
    _, t0, t1, _ = src.last_call(0)
    assert (t0, t1) == pytest.approx((tl.start, tl.end), abs=1.0)
    assert len(panel.rows[0].last_curve.getData()[0]) > 0
    tl.current = T0 + 20 * 86400.0  # the cursor moves: the view stays on all of it
    assert panel.x_range() == pytest.approx((tl.start, tl.end), abs=1.0)
    tl.set_range(T0, T0 + 40 * 86400.0)  # more data: still all of it
    assert panel.x_range() == pytest.approx((T0, T0 + 40 * 86400.0), abs=1.0)
    tl.go_live()  # live: a margin right of the edge, as for the fixed windows
    x0, x1 = panel.x_range()
    assert x0 == pytest.approx(T0, abs=1.0) and x1 > tl.end
    _choose(panel, "1 h")
    assert panel.x_range() == pytest.approx(
        (tl.end - 3600.0, tl.end + 3600.0 * LIVE_MARGIN), abs=1e-3
    )


def test_a_custom_range_is_applied_and_a_bad_one_refused(qtbot, make_panel) -> None:
    ny = ZoneInfo("America/New_York")
    t, v = noisy(11, n=2000, span=86400.0)
    tl = Timeline(T0, T0 + 86400.0, live=False)
    panel = make_panel([(0, sensor("A"))], ArraySource({0: (t, v)}), tl)
    panel.set_time_zone(ny)
    _choose(panel, "Custom…")
    dialog = panel.range_dialog
    assert dialog is not None and dialog.isVisible()
    assert "America/New_York" in dialog.zone_label.text()
    x0, x1 = panel.x_range()  # it starts from the visible range (to the second)
    assert dialog.time_range() == pytest.approx((x0, x1), abs=1.0)
    # the fields are New York wall-clock time
    want0 = datetime(2023, 11, 14, 20, 0, tzinfo=ny).timestamp()
    want1 = datetime(2023, 11, 15, 1, 30, tzinfo=ny).timestamp()
    dialog.set_time_range(want0, want1)
    assert dialog.from_edit.text() == "2023-11-14 20:00:00"
    assert dialog.to_edit.text() == "2023-11-15 01:30:00"
    assert not dialog.message.isVisible()
    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert panel.x_range() == pytest.approx((want0, want1), abs=1e-3)
    assert not panel.following and panel.window_combo.currentText() == "Custom…"
    assert panel.range_dialog is None
    # from after to: refused, with a message, and the view stays
    bad = panel.choose_custom_range()
    bad.set_time_range(want1, want0)
    ok = bad.buttons.button(bad.buttons.StandardButton.Ok)
    assert bad.message.isVisible() and "before" in bad.message.text()
    assert not ok.isEnabled()
    bad.accept()  # even if asked directly
    assert bad.isVisible() and bad.error() is not None
    bad.set_time_range(want0, want0)  # an empty range too
    assert bad.message.isVisible()
    bad.reject()
    assert panel.x_range() == pytest.approx((want0, want1), abs=1e-3)
    with pytest.raises(ValueError, match="from < to"):
        panel.set_custom_range(want1, want0)
    panel.follow()  # following again shows the window followed, not "Custom…"
    assert panel.window_combo.currentText() == "10 min"


def test_old_data_not_live_is_shown_around_the_cursor(make_panel) -> None:
    """NAB: five-minute samples from Dec 2013 to Feb 2014, opened years later. While the
    timeline reaches "now" live, the chart shows an empty window; once the timeline holds the
    data (fit, not live), the chart shows the data around the current time."""
    start = datetime(2013, 12, 2, 21, 15, tzinfo=timezone.utc).timestamp()
    t = start + np.arange(0.0, 70 * 86400.0, 300.0)
    v = 80.0 + 5.0 * np.sin(t / 86400.0)
    src = ArraySource({0: (t, v)})
    now = time.time()
    tl = Timeline(start, now, live=True)
    panel = make_panel([(0, sensor("machine_temperature", unit="degF"))], src, tl)
    assert panel.rows[0].message.plain_text() == "No data in this time range"
    panel.set_x_range(now - 3600.0, now)  # the user even zoomed there: not following
    tl.fit(float(t[0]), float(t[-1]))
    x0, x1 = panel.x_range()
    assert x0 <= tl.current <= x1 and x1 - x0 == pytest.approx(3600.0)  # the width kept
    assert panel.following
    panel.refresh()
    row = panel.rows[0]
    assert not row.message.is_visible() and len(row.last_curve.getData()[0]) > 0
    assert row.last_value == pytest.approx(v[-1])
    tl.current = start + 20 * 86400.0  # scrubbing the old data: the chart goes along
    x0, x1 = panel.x_range()
    assert x0 <= tl.current <= x1
    panel.show_all()
    assert panel.x_range() == pytest.approx((t[0], t[-1]), abs=1.0)


# -- time zone -----------------------------------------------------------------------------------
def _hour_labels(panel) -> list[tuple[float, str]]:
    """The bottom axis's tick values and labels as pyqtgraph draws them, for ``HH:MM`` ticks."""
    row = panel.rows[-1]
    axis = row.plot.getAxis("bottom")
    x0, x1 = panel.x_range()
    out = []
    for spacing, values in axis.tickValues(x0, x1, row.plot.getViewBox().width()):
        for value, text in zip(values, axis.tickStrings(values, 1.0, spacing), strict=True):
            if ":" in text:
                out.append((value, text))
    return out


def test_the_axis_and_cursor_use_the_time_zone_of_the_data_date(qtbot, make_panel) -> None:
    """New York in July is UTC-4 (EDT), whatever the date today: the axis labels and the cursor
    clock agree with the zone at the data's date, in the main panel and in an extra one."""
    ny = ZoneInfo("America/New_York")
    t0 = datetime(2023, 7, 10, 6, 0, tzinfo=ny).timestamp()
    t = t0 + np.arange(0.0, 8 * 3600.0, 60.0)
    tl = Timeline(t0, t0 + 8 * 3600.0, live=False)
    tl.current = t0 + 3600.0
    src = ArraySource({0: (t, np.ones_like(t)), 1: (t, np.ones_like(t))})
    panel = make_panel([(0, sensor("A")), (1, sensor("B"))], src, tl)
    panel.set_time_zone(ny)
    panel.set_x_range(t0, t0 + 6 * 3600.0)
    labels = _hour_labels(panel)
    assert len(labels) >= 3
    for value, text in labels:
        assert text == f"{datetime.fromtimestamp(value, ny):%H:%M}"
    assert "06:00" in [text for _, text in labels]
    assert panel.cursor_label.text() == "2023-07-10 07:00:00.0 EDT"
    # an extra panel made with the zone (as the window's "new chart panel" does) agrees
    extra = QtChartPanel(tz="America/New_York")
    qtbot.addWidget(extra)
    extra.resize(800, 400)
    extra.show()
    qtbot.waitExposed(extra)
    extra.bind(tl)
    extra.set_source(src)
    extra.set_sensors([(1, sensor("B"))])
    extra.set_x_range(t0, t0 + 6 * 3600.0)
    extra.view.grab()  # drawn once, as on screen (pyqtgraph measures its fonts there)
    assert _hour_labels(extra) == labels
    assert extra.cursor_label.text() == panel.cursor_label.text()
    # and a later change of zone reaches rows that already exist
    panel.set_time_zone(ZoneInfo("Asia/Kathmandu"))
    for value, text in _hour_labels(panel):
        assert text == f"{datetime.fromtimestamp(value, ZoneInfo('Asia/Kathmandu')):%H:%M}"
    assert panel.cursor_label.text().endswith("+0545")
