"""The timeline bar and the player under a virtual X server (pytest-xvfb), driven with pytest-qt."""

from __future__ import annotations

import time
from zoneinfo import ZoneInfo

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtGui import QAction, QColor, QKeySequence  # noqa: E402
from PySide6.QtWidgets import QMainWindow  # noqa: E402

from twinviewer.core.timeline import Timeline  # noqa: E402
from twinviewer.ui.player import QtPlayer  # noqa: E402
from twinviewer.ui.timeline_bar import QtTimelineBar, format_behind, format_time  # noqa: E402

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
