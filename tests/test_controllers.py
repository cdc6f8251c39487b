"""Controller tests without a window (ndv's pattern): the views are mocks, the workbench model
and the twin are real, and each test asserts what the controller asked of its views."""

from __future__ import annotations

from pathlib import Path
from unittest.mock import MagicMock

import numpy as np
import pytest

from twinviewer.core.alarms import AlarmLog
from twinviewer.core.colour import STATUS_COLOURS, Status
from twinviewer.core.samples import SampleBatch
from twinviewer.core.workbench import Workbench
from twinviewer.session import TwinSession
from twinviewer.ui.alarms.controller import AlarmsController
from twinviewer.ui.charts.controller import ChartsController
from twinviewer.ui.timeline.controller import TimelineController

T0 = 1_388_534_400.0  # 2014-01-01: an imported history, long before "now"


@pytest.fixture
def twin(building: Path):
    session = TwinSession.open(building)
    session.open_history()
    assert session.history is not None
    session.history.append(
        SampleBatch.of(
            [0, 0, 0, 2, 0], [T0, T0 + 5, T0 + 10, T0 + 12, T0 + 20], [20, 65, 90, 40, 30]
        )
    )
    session.history.flush()
    yield session
    session.close()


def timeline_controller(wb: Workbench) -> tuple[TimelineController, MagicMock, MagicMock]:
    bar, player = MagicMock(name="bar"), MagicMock(name="player")
    messages: list[str] = []
    ctl = TimelineController(wb, bar, player, messages.append)
    ctl.messages = messages  # type: ignore[attr-defined]
    return ctl, bar, player


def test_history_only_twin_opens_fitted_to_its_data_without_live(twin: TwinSession) -> None:
    wb = Workbench(twin=twin)
    ctl, bar, player = timeline_controller(wb)
    ctl.opened(tz=None, now=T0 + 10 * 365 * 86400)
    tl = wb.timeline
    assert (tl.start, tl.end) == (T0, T0 + 20)  # the data held, not up to "now"
    assert not tl.live and tl.current == T0 + 20
    bar.set_live_available.assert_called_once_with(False)
    bar.setEnabled.assert_called_with(True)
    player.pause.assert_called()


def test_twin_with_a_live_source_opens_live_up_to_now(twin: TwinSession) -> None:
    twin.sources = [MagicMock(name="a live source")]
    wb = Workbench(twin=twin)
    ctl, bar, _ = timeline_controller(wb)
    now = T0 + 1000
    ctl.opened(tz=None, now=now)
    assert wb.timeline.live and (wb.timeline.start, wb.timeline.end) == (T0, now)
    bar.set_live_available.assert_called_once_with(True)


def test_alarm_markers_steps_and_sample_steps(twin: TwinSession) -> None:
    wb = Workbench(twin=twin)
    ctl, bar, player = timeline_controller(wb)
    ctl.opened(tz=None)
    ctl.step_alarm(-1)
    assert ctl.messages == ["No alarms or warnings recorded"]  # type: ignore[attr-defined]

    log = AlarmLog(twin.rules)
    log.feed(*twin.history.read())  # type: ignore[union-attr]
    intervals = log.intervals()
    wb.alarms = intervals
    times, colours = bar.set_markers.call_args.args
    assert sorted(np.asarray(times).tolist()) == [T0 + 5, T0 + 10, T0 + 12]
    levels = {
        float(t): int(lv) for t, lv in zip(intervals["start"], intervals["level"], strict=True)
    }
    for t, rgb in zip(times, colours, strict=True):
        assert tuple(int(c) for c in rgb) == tuple(
            int(c) for c in STATUS_COLOURS[Status(levels[float(t)])][:3]
        )

    wb.timeline.current = T0 + 11
    ctl.step_alarm(-1)
    assert wb.timeline.current == T0 + 10
    ctl.step_alarm(+1)
    assert wb.timeline.current == T0 + 12
    ctl.step_alarm(+1)
    assert ctl.messages[-1] == "No later alarm"  # type: ignore[attr-defined]

    wb.selection = (twin.model.index_of("floor_2"),)  # its sensor F2_CO has one sample
    wb.timeline.current = T0
    ctl.step_sample(+1)
    assert wb.timeline.current == T0 + 12
    ctl.step_sample(+1)
    assert ctl.messages[-1] == "No later sample nearby"  # type: ignore[attr-defined]
    assert player.pause.call_count >= 4  # every step stops a replay


def test_jump_leaves_live_and_extends_the_range(twin: TwinSession) -> None:
    wb = Workbench(twin=twin)
    ctl, _, player = timeline_controller(wb)
    wb.timeline.set_range(T0, T0 + 20)
    wb.timeline.go_live()
    ctl.jump_to(T0 + 30)
    assert not wb.timeline.live and wb.timeline.current == T0 + 30 and wb.timeline.end == T0 + 30
    player.pause.assert_called_once()


def test_charts_follow_the_selection_and_feed_every_panel(twin: TwinSession) -> None:
    wb = Workbench()
    main, extra = MagicMock(name="main"), MagicMock(name="extra")
    ctl = ChartsController(wb, main, lambda: extra)
    main.bind.assert_called_once_with(wb.timeline)

    wb.selection = (0,)  # no twin yet: nothing to chart
    main.set_sensors.assert_not_called()
    wb.twin = twin
    ctl.opened(tz=None)
    main.set_catalogue.assert_called_once_with(twin.sensors)
    main.show_all.assert_called_once()  # no live source: the whole history held
    main.set_live_available.assert_called_with(False)
    assert main.set_source.call_args.args[0] == twin.history.series  # type: ignore[union-attr]

    floor_0 = twin.model.index_of("floor_0")
    wb.selection = (floor_0,)
    (rows,) = main.set_sensors.call_args.args
    assert [s.id for _, s in rows] == ["F0_T"]

    panel = ctl.new_panel()
    assert panel is extra
    extra.bind.assert_called_once_with(wb.timeline)
    extra.set_catalogue.assert_called_once_with(twin.sensors)
    ctl.refresh()
    main.refresh.assert_called_once()
    extra.refresh.assert_called_once()
    ctl.closed()
    extra.set_source.assert_called_with(None)
    main.set_catalogue.assert_called_with([])


def test_alarms_name_their_rows_follow_the_store_and_jump(twin: TwinSession) -> None:
    wb = Workbench(twin=twin)
    view, watcher, jumps = MagicMock(name="list"), MagicMock(name="watcher"), []
    ctl = AlarmsController(wb, view, watcher, jumps.append)
    ctl.opened(tz=None)
    ids, names, units, comps, comp_names, _acks = view.set_context.call_args.args
    assert ids == ["F0_T", "F1_T", "F2_CO"] and units == ["degC", "degC", "ppm"]
    assert comp_names[comps[0]] == "floor_0"
    alarms, store, project_ids = watcher.start.call_args.args
    assert store is twin.history and project_ids == ids

    intervals = np.zeros(2, dtype=[("start", "f8"), ("level", "i1")])
    ctl.intervals_changed(intervals)
    view.set_intervals.assert_called_once_with(intervals)
    assert wb.alarms is intervals

    ctl.jump(T0 + 10, comps[0])
    assert jumps == [T0 + 10] and wb.selection == (comps[0],)
    ctl.closed()
    watcher.stop.assert_called_once()
    view.clear.assert_called_once()
    assert wb.alarms is None
