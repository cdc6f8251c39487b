"""The Timeline model (the current time): plain pytest, no Qt."""

from __future__ import annotations

import numpy as np
import pytest

from twinviewer.core.timeline import Timeline


class Recorder:
    """Every emission of a timeline's signals, in order."""

    def __init__(self, tl: Timeline) -> None:
        self.events: list[tuple] = []
        tl.changed.connect(lambda t: self.events.append(("changed", t)))
        tl.range_changed.connect(lambda a, b: self.events.append(("range", a, b)))
        tl.live_changed.connect(lambda on: self.events.append(("live", on)))
        tl.loop_changed.connect(lambda lp: self.events.append(("loop", lp)))

    def of(self, kind: str) -> list[tuple]:
        return [e for e in self.events if e[0] == kind]


def test_starts_live_at_the_end() -> None:
    tl = Timeline(10.0, 20.0)
    assert (tl.start, tl.end, tl.current, tl.live, tl.loop) == (10.0, 20.0, 20.0, True, None)
    with pytest.raises(ValueError):
        Timeline(5.0, 1.0)
    with pytest.raises(ValueError):
        Timeline(0.0, float("nan"))


def test_current_is_clamped_to_the_range() -> None:
    tl = Timeline(10.0, 20.0, live=False)
    tl.current = 5.0
    assert tl.current == 10.0
    tl.current = 15.5
    assert tl.current == 15.5
    tl.current = 1e12
    assert tl.current == 20.0
    with pytest.raises(ValueError):
        tl.current = float("inf")
    assert tl.current == 20.0


def test_live_follows_the_growing_range() -> None:
    tl = Timeline(0.0, 100.0)
    rec = Recorder(tl)
    tl.set_range(0.0, 110.0)
    tl.extend(125.0)
    assert tl.current == 125.0 and tl.end == 125.0 and tl.live
    assert rec.events == [
        ("range", 0.0, 110.0),
        ("changed", 110.0),
        ("range", 0.0, 125.0),
        ("changed", 125.0),
    ]
    tl.extend(50.0)  # inside the range: nothing changes, nothing is emitted
    assert len(rec.events) == 4


def test_a_move_before_the_end_ends_live_and_the_range_then_grows_alone() -> None:
    tl = Timeline(0.0, 100.0)
    rec = Recorder(tl)
    tl.current = 100.0  # at the end: still live, nothing moved
    assert tl.live and rec.events == []
    tl.current = 40.0
    assert not tl.live
    assert rec.events == [("live", False), ("changed", 40.0)]
    tl.set_range(0.0, 200.0)
    assert tl.current == 40.0 and tl.behind == 160.0
    tl.current = 200.0  # reaching the end by hand does not switch live back on
    assert not tl.live
    tl.set_range(0.0, 210.0)
    assert tl.current == 200.0


def test_go_live_jumps_to_the_end() -> None:
    tl = Timeline(0.0, 100.0)
    tl.current = 30.0
    rec = Recorder(tl)
    tl.go_live()
    assert tl.live and tl.current == 100.0
    assert rec.events == [("live", True), ("changed", 100.0)]
    tl.go_live()  # already live at the end: silent
    assert len(rec.events) == 2
    tl.live = False
    tl.live = False
    assert rec.events[2:] == [("live", False)]
    tl.live = True
    assert rec.events[3:] == [("live", True)]  # at the end already: no time change


def test_retention_shrinks_the_range_and_clamps_current_and_loop() -> None:
    tl = Timeline(0.0, 100.0, live=False)
    tl.current = 10.0
    tl.loop = (5.0, 50.0)
    rec = Recorder(tl)
    tl.set_range(20.0, 100.0)
    assert tl.current == 20.0 and tl.loop == (20.0, 50.0)
    assert rec.events == [("range", 20.0, 100.0), ("loop", (20.0, 50.0)), ("changed", 20.0)]
    tl.set_range(60.0, 100.0)
    assert tl.loop is None


def test_step_to_previous_and_next_candidate() -> None:
    tl = Timeline(0.0, 100.0, live=False)
    tl.current = 50.0
    samples = np.array([-5.0, 10.0, 20.0, 50.0, 70.0, 150.0])
    assert tl.step(samples, +1) == 70.0
    assert tl.step(samples, +1) is None  # 150 lies beyond the range: stay
    assert tl.current == 70.0
    assert tl.step(samples, -1) == 50.0
    assert tl.step(samples, -1) == 20.0
    assert tl.step(samples, -1) == 10.0
    assert tl.step(samples, -1) is None  # -5 lies before the range
    assert tl.current == 10.0
    assert tl.step(samples[::-1], +1) == 20.0  # any order works
    assert tl.step([], +1) is None and tl.step(samples, 0) is None
    # a time a hair past a sample (a slider round trip) steps back past that sample, not onto it
    tl.current = 50.0 + 1e-9
    assert tl.step(samples, -1) == 20.0


def test_stepping_to_the_end_keeps_live_off_and_back_ends_live() -> None:
    tl = Timeline(0.0, 100.0)
    assert tl.step([40.0, 100.0], -1) == 40.0
    assert not tl.live


def test_loop_bounds_are_ordered_clamped_and_validated() -> None:
    tl = Timeline(0.0, 100.0)
    rec = Recorder(tl)
    tl.loop = (80.0, 20.0)
    assert tl.loop == (20.0, 80.0)
    tl.loop = (20.0, 80.0)  # the same: silent
    tl.loop = (-50.0, 500.0)
    assert tl.loop == (0.0, 100.0)
    with pytest.raises(ValueError):
        tl.loop = (30.0, 30.0)
    with pytest.raises(ValueError):
        tl.loop = (200.0, 300.0)
    assert tl.loop == (0.0, 100.0)
    tl.loop = None
    assert rec.events == [("loop", (20.0, 80.0)), ("loop", (0.0, 100.0)), ("loop", None)]


def test_fraction_and_time_at_are_inverse_and_clamped() -> None:
    tl = Timeline(1_700_000_000.0, 1_700_086_400.0)
    for f in (0.0, 0.25, 0.5, 0.9999, 1.0):
        assert tl.fraction(tl.time_at(f)) == pytest.approx(f, abs=1e-9)
    assert tl.time_at(1.0) == tl.end and tl.time_at(2.0) == tl.end
    assert tl.time_at(-1.0) == tl.start
    assert tl.fraction(0.0) == 0.0 and tl.fraction() == 1.0
    empty = Timeline(5.0, 5.0)
    assert empty.fraction() == 1.0 and empty.time_at(0.3) == 5.0


def test_emits_only_on_real_changes() -> None:
    tl = Timeline(0.0, 100.0, live=False)
    tl.current = 50.0
    rec = Recorder(tl)
    tl.current = 50.0
    tl.set_range(0.0, 100.0)
    tl.current = 500.0  # clamped to the end
    tl.current = 100.0
    assert rec.events == [("changed", 100.0)]


def test_fit_holds_the_data_and_leaves_live() -> None:
    """An imported history (NAB: Dec 2013 - Feb 2014) opened in a timeline that reached "now"
    and followed live: fit holds exactly the data, at its end, and is no longer live."""
    data = (1_386_000_000.0, 1_393_000_000.0)
    tl = Timeline(data[0], 1_800_000_000.0)
    tl.loop = (1_390_000_000.0, 1_700_000_000.0)
    rec = Recorder(tl)
    tl.fit(*data)
    assert (tl.start, tl.end, tl.current, tl.live) == (*data, data[1], False)
    assert tl.loop == (1_390_000_000.0, data[1])  # clamped into the data too
    assert rec.events == [
        ("live", False),
        ("range", *data),
        ("loop", (1_390_000_000.0, data[1])),
        ("changed", data[1]),
    ]
    tl.fit(*data, current=1_380_000_000.0)  # a current time is clamped, like everywhere
    assert tl.current == data[0]
    tl.fit(*data, current=1_388_000_000.0)
    assert tl.current == 1_388_000_000.0 and not tl.live
    with pytest.raises(ValueError):
        tl.fit(data[1], data[0])
    with pytest.raises(ValueError):
        tl.fit(0.0, float("inf"))
