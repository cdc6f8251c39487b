"""The alarm list in the window: intervals from the recorded history, jump, acknowledge, filter,
markers on the timeline and stepping between alarms and samples."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from twinviewer.core.colour import ALARM_COLOUR, COLORMAPS, Status  # noqa: E402
from twinviewer.core.samples import SampleBatch  # noqa: E402

from .test_gui import cells_of, open_and_wait  # noqa: E402


def _record(window, rows: list[tuple[int, float, float]]) -> None:
    s = window.session
    sensor, t, v = zip(*rows, strict=True)
    s.history.append(SampleBatch.of(sensor, t, v))
    s.history.flush()
    window.features["alarms"].watcher.poke()


def test_alarm_list_jump_acknowledge_filter_and_step(qtbot, window, building: Path) -> None:
    open_and_wait(qtbot, window, building)
    now = time.time()
    t0 = now - 60
    window.workbench.timeline.set_range(t0 - 10, now)
    _record(
        window,
        [
            (0, t0, 20.0),  # F0_T normal
            (0, t0 + 5, 65.0),  # warning
            (0, t0 + 10, 90.0),  # alarm
            (2, t0 + 12, 40.0),  # F2_CO alarm
            (0, t0 + 20, 30.0),  # F0_T normal again
            (2, t0 + 25, 10.0),  # F2_CO normal
        ],
    )
    lst = window.features["alarms"].alarm_list
    qtbot.waitUntil(lambda: len(lst.listed()) == 3, timeout=10000)
    listed = lst.listed()
    assert listed["start"].tolist() == [t0 + 12, t0 + 10, t0 + 5]  # newest first
    assert listed["level"].tolist() == [Status.ALARM, Status.ALARM, Status.WARNING]
    assert listed["end"].tolist() == [t0 + 25, t0 + 20, t0 + 10]
    assert lst.model.data(lst.model.index(1, 6)) == "90 degC"
    times, colours = window.features["timeline"].bar.markers()
    assert sorted(times.tolist()) == [t0 + 5, t0 + 10, t0 + 12]

    # a click on the F0_T alarm: the timeline goes there, floor_0 is selected and red
    lst.select_row(1)
    tl = window.workbench.timeline
    assert not tl.live and tl.current == t0 + 10
    floor_0 = window.session.model.index_of("floor_0")
    assert window.workbench.selection == (floor_0,)
    qtbot.waitUntil(lambda: (cells_of(window, "floor_0") == ALARM_COLOUR).all(), timeout=3000)

    # previous/next alarm start, previous/next sample of the selected component's sensor
    window.features["timeline"].controller.step_alarm(+1)
    assert tl.current == t0 + 12
    window.features["timeline"].controller.step_alarm(-1)
    window.features["timeline"].controller.step_alarm(-1)
    assert tl.current == t0 + 5
    window.features["timeline"].controller.step_sample(+1)
    assert tl.current == t0 + 10  # F0_T's next sample (F2_CO's at t0+12 is not selected)
    window.features["timeline"].controller.step_sample(+1)
    assert tl.current == t0 + 20
    past = COLORMAPS["viridis"][int(0.3 * 255)]  # 30 degC on 0..100
    qtbot.waitUntil(lambda: (cells_of(window, "floor_0") == past).all(), timeout=3000)

    # acknowledge the selected row; it survives a restart of the list
    lst.select_row(1)
    assert lst.acknowledge_selected() == 1
    assert lst.model.data(lst.model.index(1, 7)) == "✓"
    lst.filter_combo.setCurrentIndex(3)  # unacknowledged
    assert lst.listed()["start"].tolist() == [t0 + 12, t0 + 5]
    lst.filter_combo.setCurrentIndex(1)  # alarms only
    assert lst.listed()["level"].tolist() == [Status.ALARM, Status.ALARM]
    lst.filter_combo.setCurrentIndex(0)
    lst.search.setText("F2_CO")
    assert lst.listed()["sensor"].tolist() == [2]
    lst.search.setText("")
    saved = json.loads((window.session.history.folder / "acknowledged.json").read_text())
    assert saved["acknowledged"][0]["sensor"] == "F0_T"
    assert saved["acknowledged"][0]["start"] == t0 + 10

    window.workbench.timeline.go_live()
    window.close_session()
    assert len(lst.listed()) == 0
    open_and_wait(qtbot, window, building)
    qtbot.waitUntil(lambda: len(window.features["alarms"].alarm_list.listed()) == 3, timeout=10000)
    window.features["alarms"].alarm_list.filter_combo.setCurrentIndex(3)
    assert len(window.features["alarms"].alarm_list.listed()) == 2  # the acknowledgement was kept


def test_active_alarm_has_no_end_and_counts(qtbot, window, building: Path) -> None:
    open_and_wait(qtbot, window, building)
    now = time.time()
    _record(window, [(1, now - 30, 85.0), (1, now - 20, 95.0)])
    lst = window.features["alarms"].alarm_list
    qtbot.waitUntil(lambda: len(lst.listed()) == 1, timeout=10000)
    rec = lst.listed()[0]
    assert np.isnan(rec["end"]) and rec["peak"] == 95.0
    assert lst.model.data(lst.model.index(0, 4)) == "active"
    assert "1 active" in lst.count_label.text()


def test_project_time_zone_is_used_by_the_bar_and_the_list(qtbot, window, building: Path) -> None:
    building.write_text(building.read_text() + "display: {timezone: Asia/Tokyo}\n")
    open_and_wait(qtbot, window, building)
    assert window.features["timeline"].bar.time_label.text().endswith("JST")
    assert "UTC" in window.features["timeline"].bar.time_label.toolTip()
    now = time.time()
    _record(window, [(0, now - 30, 95.0)])
    lst = window.features["alarms"].alarm_list
    qtbot.waitUntil(lambda: len(lst.listed()) == 1, timeout=10000)
    assert lst.model.data(lst.model.index(0, 3)).endswith("JST")


def test_window_on_a_postgresql_history_shows_the_recorders_alarms(
    qtbot, window, building: Path, pg_url: str
) -> None:
    """Control room: a recorder writes to PostgreSQL; a window opened with that URL scrubs it
    and lists its alarms."""
    from twinviewer.core.project import load_project
    from twinviewer.history.postgres import PostgresHistoryStore

    project, _ = load_project(building)
    ids = [s.id for s in project.sensors]
    now = time.time()
    recorder = PostgresHistoryStore(pg_url, ids, writer_thread=False)
    try:
        recorder.append(
            SampleBatch.of([0, 0, 0], [now - 30, now - 20, now - 10], [20.0, 95.0, 20.0])
        )
        recorder.flush()
        with qtbot.waitSignal(window.sessionOpened, timeout=30000):
            window.open_project(building, history=pg_url)
        s = window.session
        assert isinstance(s.history, PostgresHistoryStore)
        lst = window.features["alarms"].alarm_list
        qtbot.waitUntil(lambda: len(lst.listed()) == 1, timeout=10000)
        assert lst.listed()[0]["start"] == now - 20
        lst.select_row(0)
        qtbot.waitUntil(lambda: (cells_of(window, "floor_0") == ALARM_COLOUR).all(), timeout=3000)
        window.close_session()
    finally:
        recorder.close()
