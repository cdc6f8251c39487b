"""The timeline bar and the player under a virtual X server (pytest-xvfb), driven with pytest-qt."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QPoint, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QAction, QColor, QKeySequence, QMouseEvent, QWheelEvent  # noqa: E402
from PySide6.QtWidgets import QApplication, QMainWindow  # noqa: E402

from twinviewer.core.timeline import Timeline  # noqa: E402
from twinviewer.ui.timeline.bar import QtTimelineBar, format_behind, format_time  # noqa: E402
from twinviewer.ui.timeline.player import QtPlayer  # noqa: E402
from twinviewer.ui.timeline.slider import TRACK_BAND  # noqa: E402
from twinviewer.ui.timeline.ticks import choose_step, time_ticks  # noqa: E402

T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC


@pytest.fixture
def make_bar(qtbot):
    from twinviewer.ui.application import create_app

    create_app()
    players: list[QtPlayer] = []

    def make(start: float = T0, end: float = T0 + 1000.0, live: bool = True, tz=None):
        tl = Timeline(start, end, live=live)
        player = QtPlayer(tl)
        players.append(player)
        bar = QtTimelineBar(tl, player, tz=tz)
        qtbot.addWidget(bar)  # closed and deleted after the test
        bar.resize(1000, 32)
        bar.show()
        qtbot.waitExposed(bar)
        return tl, player, bar

    yield make
    for p in players:
        p.pause()
        p.deleteLater()


def focus(qtbot, widget) -> None:
    window = widget.window()
    window.activateWindow()
    qtbot.waitActive(window)
    widget.setFocus()
    qtbot.waitUntil(widget.hasFocus, timeout=1000)


def handle_pos(bar: QtTimelineBar) -> QPoint:
    return bar.slider.handle_centre().toPoint()


def test_dragging_the_handle_scrubs_during_the_drag_and_ends_live(qtbot, make_bar) -> None:
    tl, _, bar = make_bar()
    assert tl.live and bar.slider.value() == 10_000
    seen: list[float] = []
    tl.changed.connect(seen.append)
    start = handle_pos(bar)
    slider = bar.slider
    qtbot.mousePress(slider, Qt.MouseButton.LeftButton, pos=start)
    for f in (0.8, 0.55, 0.3):
        qtbot.mouseMove(slider, QPoint(round(slider.x_of(f)), start.y()))
    during = list(seen)
    qtbot.mouseRelease(
        slider, Qt.MouseButton.LeftButton, pos=QPoint(round(slider.x_of(0.3)), start.y())
    )
    assert len(during) >= 3, "the time must follow the drag, not only the release"
    assert during[0] > during[-1]
    assert tl.current == pytest.approx(T0 + 300.0, abs=5.0)
    assert not tl.live
    assert not bar.live_button.isChecked()
    assert bar.behind_label.text() == format_behind(tl.end - tl.current)
    assert bar.behind_label.text().endswith("behind live")


def test_click_on_the_groove_jumps_there(qtbot, make_bar) -> None:
    tl, _, bar = make_bar(live=False)
    tl.current = T0
    y = bar.slider.height() // 2
    qtbot.mouseClick(
        bar.slider, Qt.MouseButton.LeftButton, pos=QPoint(round(bar.slider.x_of(0.75)), y)
    )
    assert tl.current == pytest.approx(T0 + 750.0, abs=5.0)


def test_live_button_returns_to_the_end(qtbot, make_bar) -> None:
    tl, _, bar = make_bar()
    tl.current = T0 + 100.0
    tl.set_range(T0, T0 + 2000.0)  # data kept arriving while we looked back
    assert tl.current == T0 + 100.0 and not bar.live_button.isChecked()
    qtbot.mouseClick(bar.live_button, Qt.MouseButton.LeftButton)
    assert tl.live and tl.current == T0 + 2000.0
    assert bar.live_button.isChecked() and bar.behind_label.text() == "LIVE"
    assert bar.slider.value() == 10_000
    qtbot.mouseClick(bar.live_button, Qt.MouseButton.LeftButton)  # clicking again stays live
    assert tl.live and bar.live_button.isChecked()
    tl.extend(T0 + 2500.0)
    assert tl.current == T0 + 2500.0


def test_play_at_600x_advances_by_wall_time_and_stops_at_the_end(qtbot, make_bar) -> None:
    tl, player, bar = make_bar(end=T0 + 600.0)
    bar.speed_combo.setCurrentIndex(bar.speed_combo.findData(600.0))
    bar.speed_combo.activated.emit(bar.speed_combo.currentIndex())
    assert player.speed == 600.0
    tl.current = T0
    before = time.monotonic()
    qtbot.mouseClick(bar.play_button, Qt.MouseButton.LeftButton)
    assert player.playing and bar.play_button.isChecked()
    qtbot.wait(300)
    advanced = tl.current - T0
    wall = time.monotonic() - before
    assert 600.0 * 0.15 < advanced <= 600.0 * wall + 1e-6
    # 600 s of history at 600x: the end is reached within about a second, and playback stops
    qtbot.waitUntil(lambda: not player.playing, timeout=3000)
    assert tl.current == tl.end and not tl.live  # only 1x turns into live
    assert not bar.play_button.isChecked()


def test_play_at_1x_into_the_live_edge_goes_live(qtbot, make_bar) -> None:
    tl, player, _ = make_bar()
    tl.current = tl.end - 0.1
    player.play()
    qtbot.waitUntil(lambda: tl.live, timeout=2000)
    assert tl.current == tl.end and not player.playing


def test_slow_frames_make_larger_steps_and_loops_wrap(make_bar) -> None:
    tl, _, _ = make_bar(live=False)
    now = [100.0]
    player = QtPlayer(tl, clock=lambda: now[0])
    player.set_speed(10.0)
    tl.loop = (T0 + 100.0, T0 + 200.0)
    tl.current = T0 + 500.0
    player.play()  # outside the loop: starts at its beginning
    assert tl.current == T0 + 100.0
    now[0] += 0.04
    player.advance()
    assert tl.current == pytest.approx(T0 + 100.4)
    now[0] += 0.4  # a slow frame: one big step, not several small ones late
    player.advance()
    assert tl.current == pytest.approx(T0 + 104.4)
    tl.current = T0 + 199.0
    now[0] += 0.3
    player.advance()
    assert tl.current == pytest.approx(T0 + 102.0)  # wrapped inside the loop
    assert player.playing
    player.pause()
    player.deleteLater()


def test_time_label_in_the_given_zone_with_utc_on_hover(make_bar) -> None:
    tl, _, bar = make_bar(live=False, tz="America/New_York")
    tl.current = T0 + 0.25
    assert bar.time_label.text() == "2023-11-14 17:13:20.2 EST"
    assert "2023-11-14 22:13:20.2 UTC" in bar.time_label.toolTip()
    bar.set_time_zone(ZoneInfo("Asia/Kathmandu"))
    assert bar.time_label.text() == "2023-11-15 03:58:20.2 +0545"
    tl.current = tl.end - 192.0
    assert bar.behind_label.text() == "-00:03:12 behind live"
    assert format_time(T0, None).startswith(time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(T0)))


def test_markers_are_kept_and_painted(qtbot, make_bar) -> None:
    tl, _, bar = make_bar()
    times = np.array([T0 + 250.0, T0 + 500.0, T0 + 5000.0])  # the last lies beyond the range
    colours = np.array([[230, 40, 50], [240, 170, 40], [0, 255, 0]], dtype=np.uint8)
    bar.set_markers(times, colours)
    got_t, got_c = bar.markers()
    np.testing.assert_array_equal(got_t, times)
    assert [c.getRgb()[:3] for c in got_c] == [(230, 40, 50), (240, 170, 40), (0, 255, 0)]
    painted = bar.slider.paints
    image = bar.slider.grab().toImage()
    assert bar.slider.paints > painted
    y = 3
    assert image.pixelColor(round(bar.slider.x_of(0.25)), y) == QColor(230, 40, 50)
    assert image.pixelColor(round(bar.slider.x_of(0.5)), y) == QColor(240, 170, 40)
    assert image.pixelColor(round(bar.slider.x_of(0.375)), y) != QColor(230, 40, 50)
    bar.set_markers([T0 + 10.0], "#00ff00")
    assert len(bar.markers()[0]) == 1
    with pytest.raises(ValueError):
        bar.set_markers(times, [QColor("red")])


def test_keys_step_jump_play_and_go_live(qtbot, make_bar) -> None:
    tl, player, bar = make_bar()
    focus(qtbot, bar)
    qtbot.keyClick(bar, Qt.Key.Key_Left)  # nobody answers the step request: a small fixed step
    assert tl.current == pytest.approx(T0 + 999.0) and not tl.live
    samples = np.array([T0 + 10.0, T0 + 400.0, T0 + 990.0])
    bar.stepRequested.connect(lambda d: tl.step(samples, d))
    qtbot.keyClick(bar, Qt.Key.Key_Left)
    assert tl.current == T0 + 990.0
    qtbot.keyClick(bar, Qt.Key.Key_Left)
    assert tl.current == T0 + 400.0
    qtbot.keyClick(bar, Qt.Key.Key_Right)
    assert tl.current == T0 + 990.0
    qtbot.keyClick(bar, Qt.Key.Key_Left, Qt.KeyboardModifier.ShiftModifier)
    assert tl.current == pytest.approx(T0 + 890.0)
    qtbot.keyClick(bar, Qt.Key.Key_Home)
    assert tl.current == T0
    qtbot.keyClick(bar, Qt.Key.Key_End)
    assert tl.current == tl.end and not tl.live
    qtbot.keyClick(bar, Qt.Key.Key_Home)
    qtbot.keyClick(bar, Qt.Key.Key_Space)
    assert player.playing
    qtbot.keyClick(bar, Qt.Key.Key_L)
    assert tl.live and not player.playing


def test_alarm_buttons_ask_the_window(qtbot, make_bar) -> None:
    tl, _, bar = make_bar()
    alarms = np.array([T0 + 100.0, T0 + 700.0])
    bar.alarmStepRequested.connect(lambda d: tl.step(alarms, d))
    with qtbot.waitSignal(bar.alarmStepRequested) as sig:
        qtbot.mouseClick(bar.alarm_back, Qt.MouseButton.LeftButton)
    assert sig.args == [-1] and tl.current == T0 + 700.0
    qtbot.mouseClick(bar.alarm_back, Qt.MouseButton.LeftButton)
    assert tl.current == T0 + 100.0
    qtbot.mouseClick(bar.alarm_forward, Qt.MouseButton.LeftButton)
    assert tl.current == T0 + 700.0


def test_space_reaches_the_focused_bar_before_a_window_shortcut(qtbot) -> None:
    from twinviewer.ui.application import create_app

    create_app()
    window = QMainWindow()
    qtbot.addWidget(window)
    fired: list[bool] = []
    act = QAction("Pause live colouring", window)
    act.setShortcut(QKeySequence("Space"))
    act.triggered.connect(lambda: fired.append(True))
    window.addAction(act)
    tl = Timeline(T0, T0 + 1000.0, live=False)
    tl.current = T0
    player = QtPlayer(tl, window)
    bar = QtTimelineBar(tl, player, parent=window)
    window.setCentralWidget(bar)
    window.show()
    qtbot.waitExposed(window)
    focus(qtbot, bar)
    qtbot.keyClick(bar, Qt.Key.Key_Space)
    assert player.playing and not fired
    player.pause()
    window.close()


def test_loop_button_and_brackets_set_the_loop(qtbot, make_bar) -> None:
    tl, _, bar = make_bar(live=False)
    qtbot.mouseClick(bar.loop_button, Qt.MouseButton.LeftButton)
    assert tl.loop == (tl.start, tl.end) and bar.loop_button.isChecked()
    focus(qtbot, bar)
    tl.current = T0 + 200.0
    qtbot.keyClick(bar, Qt.Key.Key_BracketLeft)
    tl.current = T0 + 300.0
    qtbot.keyClick(bar, Qt.Key.Key_BracketRight)
    assert tl.loop == (T0 + 200.0, T0 + 300.0)
    qtbot.mouseClick(bar.loop_button, Qt.MouseButton.LeftButton)
    assert tl.loop is None and not bar.loop_button.isChecked()


# -- no live source ------------------------------------------------------------------------------
def test_without_a_live_source_the_bar_claims_no_live(qtbot, make_bar) -> None:
    """Imported history only: no LIVE button, no "behind live", L does nothing, and replaying
    at 1x into the end stops there instead of switching to live."""
    tl, player, bar = make_bar(live=False)
    tl.current = T0 + 100.0
    assert bar.live_button.isVisible() and bar.behind_label.isVisible()  # the default
    bar.set_live_available(False)
    assert not bar.live_available and not player.live_available
    assert not bar.live_button.isVisible() and not bar.behind_label.isVisible()
    assert "live" not in bar.behind_label.text().lower()
    focus(qtbot, bar)
    qtbot.keyClick(bar, Qt.Key.Key_L)
    assert not tl.live and tl.current == T0 + 100.0
    now = [0.0]
    replay = QtPlayer(tl, clock=lambda: now[0])
    replay.set_live_available(False)
    tl.current = tl.end - 0.1
    replay.play()
    now[0] += 0.3
    replay.advance()
    assert tl.current == tl.end and not tl.live and not replay.playing
    replay.deleteLater()
    bar.set_live_available(True)  # a live source was added: as before
    assert bar.live_button.isVisible() and bar.behind_label.isVisible()
    qtbot.keyClick(bar, Qt.Key.Key_L)
    assert tl.live and bar.live_button.isChecked() and bar.behind_label.text() == "LIVE"


# -- the time axis -------------------------------------------------------------------------------
def test_axis_ticks_for_a_two_year_span() -> None:
    utc = timezone.utc
    t0 = datetime(2013, 12, 2, 9, 30, tzinfo=utc).timestamp()  # the NAB data starts about here
    t1 = datetime(2015, 12, 2, tzinfo=utc).timestamp()
    step = choose_step(t1 - t0, 600.0)
    assert step.unit == "month"
    ticks = time_ticks(t0, t1, 600.0, utc)
    labels = [k.label for k in ticks]
    assert 6 <= len(ticks) <= 15  # readable: roughly one label per 50-100 px
    assert "2014" in labels and "2015" in labels  # New Year names the year
    assert [k.major for k in ticks] == [k.label in ("2014", "2015") for k in ticks]
    times = [k.t for k in ticks]
    assert times == sorted(times) and t0 <= times[0] and times[-1] <= t1
    for k in ticks:  # every tick is at midnight on the 1st of a month, labelled as such
        d = datetime.fromtimestamp(k.t, utc)
        assert (d.day, d.hour, d.minute) == (1, 0, 0)
        assert k.label == (f"{d:%Y}" if d.month == 1 else f"{d:%b}")
    # wider: finer steps, narrower: coarser ones, never overlapping at ~7 px a character
    assert len(time_ticks(t0, t1, 1600.0, utc)) > len(ticks) > len(time_ticks(t0, t1, 200, utc))


def test_axis_ticks_for_a_one_minute_span_in_the_given_zone() -> None:
    tz = ZoneInfo("Asia/Kathmandu")  # +05:45: a zone whose hours are not UTC hours
    t0 = T0 + 3.5
    ticks = time_ticks(t0, t0 + 60.0, 600.0, tz)
    assert choose_step(60.0, 600.0).unit == "second"
    assert 4 <= len(ticks) <= 12
    for k in ticks:
        d = datetime.fromtimestamp(k.t, tz)
        assert d.second % 5 == 0 and d.microsecond == 0
        assert k.label == f"{d:%H:%M:%S}" and not k.major
    assert ticks[0].label == "03:58:30"  # 22:13:23.5 UTC is 03:58:23.5 in Kathmandu
    # midnight is a major tick naming the day
    midnight = datetime(2024, 3, 5, tzinfo=tz).timestamp()
    around = time_ticks(midnight - 30.0, midnight + 30.0, 600.0, tz)
    assert [k.label for k in around if k.major] == ["Mar 05"]


def test_axis_ticks_follow_daylight_saving() -> None:
    tz = ZoneInfo("Europe/Berlin")  # 2024-03-31 02:00 CET -> 03:00 CEST
    t0 = datetime(2024, 3, 30, 21, tzinfo=tz).timestamp()
    ticks = time_ticks(t0, t0 + 8 * 3600.0, 800.0, tz)
    labels = [k.label for k in ticks]
    assert labels[:6] == ["21:00", "22:00", "23:00", "Mar 31", "01:00", "03:00"]
    assert all(b.t - a.t == 3600.0 for a, b in zip(ticks, ticks[1:], strict=False))
    assert time_ticks(t0, t0, 800.0, tz) == [] and time_ticks(t0, t0 - 1.0, 800.0, tz) == []


def test_the_axis_is_painted_under_the_track(qtbot, make_bar) -> None:
    utc = timezone.utc
    t0 = datetime(2013, 12, 2, tzinfo=utc).timestamp()
    tl, _, bar = make_bar(start=t0, end=t0 + 2 * 365 * 86400.0, tz="UTC")
    slider = bar.slider
    ticks = slider.ticks()
    assert "2014" in [k.label for k in ticks]
    painted = slider.paints
    image = slider.grab().toImage()
    assert slider.paints > painted
    assert slider.height() >= TRACK_BAND + slider.fontMetrics().height()
    year = next(k for k in ticks if k.label == "2014")
    x = round(slider.x_of((year.t - tl.start) / tl.span))
    colours = {
        image.pixelColor(xx, yy).rgb()
        for xx in range(max(0, x - 12), min(image.width(), x + 12))
        for yy in range(TRACK_BAND + 2, image.height())
    }
    assert len(colours) > 2  # text under the tick, not an empty strip
    bar.set_time_zone("Asia/Tokyo")  # the labels follow the zone: the year starts 9 h earlier
    tokyo = next(k for k in slider.ticks() if k.label == "2014")
    assert tokyo.t == year.t - 9 * 3600.0


def test_the_bar_fits_a_narrow_window(make_bar) -> None:
    _, _, bar = make_bar()
    assert bar.minimumSizeHint().width() <= 760  # leaves room in an 800 px window
    bar.set_live_available(False)
    assert bar.minimumSizeHint().width() <= 700


# -- zoom and pan --------------------------------------------------------------------------------
def _wheel(widget, x: float, notches: float, shift: bool = False) -> None:
    pos = QPointF(x, TRACK_BAND / 2)
    event = QWheelEvent(
        pos,
        QPointF(widget.mapToGlobal(pos.toPoint())),
        QPoint(),
        QPoint(0, round(120 * notches)),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.ShiftModifier if shift else Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def _middle(widget, kind, x: float) -> None:
    """A middle-button press, move (with it held) or release at ``x`` on the track."""
    pos = QPointF(x, TRACK_BAND / 2)
    moving = kind == QMouseEvent.Type.MouseMove
    releasing = kind == QMouseEvent.Type.MouseButtonRelease
    button = Qt.MouseButton.NoButton if moving else Qt.MouseButton.MiddleButton
    held = Qt.MouseButton.NoButton if releasing else Qt.MouseButton.MiddleButton
    global_pos = QPointF(widget.mapToGlobal(pos.toPoint()))
    event = QMouseEvent(kind, pos, global_pos, button, held, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def test_wheel_zooms_about_the_mouse_and_the_slider_maps_into_the_window(qtbot, make_bar) -> None:
    tl, _, bar = make_bar(live=False)
    tl.current = T0 + 500.0
    slider = bar.slider
    assert bar.view_range() == (T0, T0 + 1000.0) and not bar.is_zoomed
    assert not bar.fit_button.isEnabled()
    windows: list[tuple[float, float]] = []
    bar.viewChanged.connect(lambda a, b: windows.append((a, b)))
    _wheel(slider, slider.x_of(0.25), 1.0)  # one notch in, about T0 + 250
    v0, v1 = bar.view_range()
    assert v1 - v0 == pytest.approx(800.0)
    assert (v0, v1) == pytest.approx((T0 + 50.0, T0 + 850.0))  # T0 + 250 stayed under the mouse
    assert bar.is_zoomed and bar.fit_button.isEnabled() and windows == [(v0, v1)]
    assert slider.value() == round((500.0 - 50.0) / 800.0 * 10_000)  # handle inside the window
    assert all(v0 <= k.t <= v1 for k in slider.ticks())  # the axis labels the window
    y = TRACK_BAND // 2
    qtbot.mouseClick(slider, Qt.MouseButton.LeftButton, pos=QPoint(round(slider.x_of(0.5)), y))
    assert tl.current == pytest.approx(T0 + 450.0, abs=2.0)  # the middle of the window
    _wheel(slider, slider.x_of(0.5), -1.0)  # out again: back to (almost) all of it
    _wheel(slider, slider.x_of(0.5), -3.0)
    assert bar.view_range() == (T0, T0 + 1000.0) and not bar.is_zoomed
    _wheel(slider, slider.x_of(0.5), 40.0)  # far in: stops at the minimum span
    v0, v1 = bar.view_range()
    assert v1 - v0 == pytest.approx(10.0)


def test_middle_drag_and_shift_wheel_pan_and_fit_shows_everything(qtbot, make_bar) -> None:
    tl, _, bar = make_bar(live=False)
    tl.current = T0 + 500.0
    slider = bar.slider
    bar.set_view_range(T0 + 400.0, T0 + 600.0)
    assert bar.view_range() == (T0 + 400.0, T0 + 600.0)
    _middle(slider, QMouseEvent.Type.MouseButtonPress, slider.x_of(0.5))
    _middle(slider, QMouseEvent.Type.MouseMove, slider.x_of(0.25))  # drag left: see later
    _middle(slider, QMouseEvent.Type.MouseButtonRelease, slider.x_of(0.25))
    assert bar.view_range() == pytest.approx((T0 + 450.0, T0 + 650.0))
    assert tl.current == T0 + 500.0  # panning is not scrubbing
    _wheel(slider, slider.x_of(0.5), 1.0, shift=True)  # Shift+wheel up: earlier
    assert bar.view_range() == pytest.approx((T0 + 430.0, T0 + 630.0))
    bar.pan(-1e6)  # clamped into the range held
    assert bar.view_range() == (T0, T0 + 200.0)
    qtbot.mouseClick(bar.fit_button, Qt.MouseButton.LeftButton)
    assert bar.view_range() == (T0, T0 + 1000.0) and not bar.is_zoomed
    with pytest.raises(ValueError):
        bar.set_view_range(T0 + 5.0, T0 + 5.0)


def test_a_zoomed_window_pages_with_replay_and_tracks_the_live_edge(make_bar) -> None:
    tl, _, bar = make_bar(live=False)
    tl.current = T0 + 150.0
    bar.set_view_range(T0 + 100.0, T0 + 200.0)
    tl.current = T0 + 230.0  # playback or a step left the window: it pages along
    assert bar.view_range() == pytest.approx((T0 + 220.0, T0 + 320.0))
    assert bar.slider.value() == 1_000
    tl.current = T0  # Home
    assert bar.view_range() == pytest.approx((T0, T0 + 100.0))
    # live: a window showing the end moves with it; one in the past stays where the user put it
    tl.go_live()  # the L key or the LIVE button: the window jumps to the edge
    assert bar.view_range() == (T0 + 900.0, T0 + 1000.0)
    tl.extend(T0 + 1100.0)
    assert bar.view_range() == (T0 + 1000.0, T0 + 1100.0) and bar.slider.value() == 10_000
    bar.set_view_range(T0 + 300.0, T0 + 400.0)
    tl.extend(T0 + 1200.0)
    assert bar.view_range() == (T0 + 300.0, T0 + 400.0) and tl.live
    assert bar.slider.value() == 10_000  # the handle at the right stop, an arrow beyond it
    tl.set_range(T0 + 50_000.0, T0 + 60_000.0)  # other data altogether: show all of it
    assert not bar.is_zoomed and bar.view_range() == (T0 + 50_000.0, T0 + 60_000.0)


def test_simulation_time_is_ticked_and_written_in_seconds() -> None:
    from twinviewer.ui.timeline.bar import format_time
    from twinviewer.ui.timeline.ticks import SIM_TIME, time_ticks

    ticks = time_ticks(0.0, 0.5, 800, SIM_TIME)
    step = ticks[1].t - ticks[0].t
    assert step in (0.02, 0.05, 0.1) and 5 <= len(ticks) <= 26  # round steps that fit
    assert [k.t for k in ticks] == pytest.approx([i * step for i in range(len(ticks))])
    assert "0.1 s" in [k.label for k in ticks] and ticks[0].major and not ticks[1].major
    assert [k.label for k in time_ticks(100.0, 3700.0, 600, SIM_TIME)] == [
        "1000 s",
        "2000 s",
        "3000 s",
    ]
    assert format_time(0.4, SIM_TIME) == "t = 0.4 s"
