"""A tour's timetable, its camera flights and the twin's time at any instant of it."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twinviewer.core.project_tours import Tour, resolve_tour_instant
from twinviewer.core.tour_plan import (
    Pose,
    StepTime,
    TourPlan,
    ease,
    interpolate,
    step_cameras,
    step_times,
)

EASINGS = ("linear", "in_out", "in", "out")


def tour(*steps: dict[str, Any]) -> Tour:
    return Tour.model_validate({"name": "T", "steps": list(steps)})


def camera(pose: Pose) -> dict[str, Any]:
    return {
        "position": list(pose.position),
        "focal_point": list(pose.focal_point),
        "up": list(pose.up),
        "view_angle": pose.view_angle,
    }


def plan_of(t: Tour, held: tuple[float, float] | None = None, **kw: Any) -> TourPlan:
    first = Pose((1.0, 1.0, 1.0), (0.0, 0.0, 0.0))
    cams = step_cameras(t, first, lambda name: first)
    return TourPlan(t, cams, step_times(t, held), **kw)


def vec(p: tuple[float, float, float]) -> np.ndarray:
    return np.asarray(p, float)


def seen_up(pose: Pose) -> np.ndarray:
    d = vec(pose.position) - vec(pose.focal_point)
    d /= np.linalg.norm(d)
    up = vec(pose.up) - np.dot(vec(pose.up), d) * d
    return up / np.linalg.norm(up)


# -- easing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", EASINGS)
def test_easing_endpoints_and_monotony(kind: str) -> None:
    assert ease(kind, 0.0) == 0.0
    assert ease(kind, 1.0) == 1.0
    assert ease(kind, -0.5) == 0.0 and ease(kind, 1.5) == 1.0  # clamped
    f = np.linspace(0, 1, 101)
    values = [ease(kind, x) for x in f]
    assert all(b >= a for a, b in zip(values, values[1:], strict=False))


def test_easing_shapes() -> None:
    assert ease("in_out", 0.5) == 0.5
    assert ease("in_out", 0.25) == pytest.approx(1 - ease("in_out", 0.75))
    assert ease("in", 0.5) < 0.5 < ease("out", 0.5)
    assert ease("linear", 0.3) == 0.3


# -- the camera -----------------------------------------------------------------------------

coord = st.floats(-500, 500, allow_nan=False, allow_infinity=False)
point = st.tuples(coord, coord, coord)


@st.composite
def poses(draw: st.DrawFn) -> Pose:
    focal = draw(point)
    offset = draw(st.tuples(coord, coord, coord).filter(lambda v: math.dist(v, (0, 0, 0)) > 1))
    position = tuple(f + o for f, o in zip(focal, offset, strict=True))
    axes = [(0.0, 0.0, 1.0), (0.0, 1.0, 0.0), (1.0, 0.0, 0.0)]
    # a usable camera: its up is not along its view direction
    usable = [a for a in axes if abs(np.dot(a, offset)) < 0.99 * math.dist(offset, (0, 0, 0))]
    up = draw(st.sampled_from(usable))
    angle = draw(st.floats(10, 90))
    return Pose(position, focal, up, angle)  # type: ignore[arg-type]


@st.composite
def steps(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["fly", "cut"]))
    return {
        "title": "s",
        "camera": camera(draw(poses())),
        "transition": {
            "type": kind,
            "duration": draw(st.floats(0.1, 20)),
            "easing": draw(st.sampled_from(EASINGS)),
        },
        "dwell": draw(st.floats(0.5, 30)),
    }


@settings(max_examples=60, deadline=None)
@given(st.lists(steps(), min_size=1, max_size=6), poses())
def test_every_camera_is_reached_exactly_on_arrival(
    step_list: list[dict[str, Any]], start: Pose
) -> None:
    t = tour(*step_list)
    cams = step_cameras(t, start, lambda name: start)
    plan = TourPlan(t, cams, step_times(t, None), start=start)
    for k, timing in enumerate(plan.timings):
        if k:  # one step ends exactly where the next begins
            assert timing.start == plan.timings[k - 1].end
        wanted = Pose.of(t.steps[k].camera)  # type: ignore[arg-type]
        assert plan.camera_at(timing.arrive) == wanted
        assert plan.camera_at((timing.arrive + timing.end) / 2) == wanted  # resting
        if timing.arrive > timing.start:  # a flight leaves from where the last step rested
            before = cams[k - 1] if k else start
            assert plan.camera_at(timing.start) == before
            # and stays well formed on its way
            mid = plan.camera_at((timing.start + timing.arrive) / 2)
            d = vec(mid.position) - vec(mid.focal_point)
            assert np.all(np.isfinite(d)) and np.linalg.norm(d) > 0
            assert np.linalg.norm(vec(mid.up)) == pytest.approx(1.0)
            assert np.all(np.isfinite(seen_up(mid)))


def test_flight_is_continuous_between_frames() -> None:
    a = Pose((100.0, 0.0, 20.0), (0.0, 0.0, 0.0))
    b = Pose((5.0, 5.0, 2.0), (40.0, -10.0, -3.0), view_angle=50)
    c = Pose((0.0, 0.0, 300.0), (0.0, 0.0, 0.0), up=(0.0, 1.0, 0.0))  # straight down
    t = tour(
        {"title": "a", "camera": camera(a), "transition": {"type": "cut"}, "dwell": 1},
        {"title": "b", "camera": camera(b), "transition": {"duration": 3}, "dwell": 1},
        {"title": "c", "camera": camera(c), "transition": {"duration": 4, "easing": "out"}},
    )
    plan = plan_of(t)

    def biggest_jump(fps: float) -> float:
        frames = [plan.camera_at(x) for x in plan.frame_times(fps)]
        pos = np.array([f.position for f in frames])
        return float(np.max(np.linalg.norm(np.diff(pos, axis=0), axis=1)))

    # Sampled twice as finely, the largest move between frames halves: no jump anywhere.
    coarse, fine = biggest_jump(100), biggest_jump(200)
    assert fine == pytest.approx(coarse / 2, rel=0.05)
    assert coarse < 5.0  # metres per 10 ms, on a flight across ~300 m
    # The view angle, the focal point and the up vector move smoothly too.
    frames = [plan.camera_at(x) for x in plan.frame_times(200)]
    angles = np.array([f.view_angle for f in frames])
    focal = np.array([f.focal_point for f in frames])
    # (the up the screen shows: VTK takes the part of the view-up across the view direction)
    up = np.array([seen_up(f) for f in frames])
    assert np.max(np.abs(np.diff(angles))) < 0.5
    assert np.max(np.linalg.norm(np.diff(focal, axis=0), axis=1)) < 1.0
    assert np.max(np.linalg.norm(np.diff(up, axis=0), axis=1)) < 0.05


def test_cut_jumps() -> None:
    a = Pose((10.0, 0.0, 0.0), (0.0, 0.0, 0.0))
    b = Pose((0.0, 50.0, 5.0), (0.0, 40.0, 0.0))
    t = tour(
        {"title": "a", "camera": camera(a), "dwell": 2, "transition": {"type": "cut"}},
        {"title": "b", "camera": camera(b), "dwell": 2, "transition": {"type": "cut"}},
    )
    plan = plan_of(t)
    cut = plan.timings[1]
    assert cut.start == cut.arrive == 2.0
    assert plan.camera_at(cut.start - 1e-9) == a
    assert plan.camera_at(cut.start) == b


def test_opposite_view_directions() -> None:
    focal = (3.0, 4.0, 5.0)
    east = Pose((13.0, 4.0, 5.0), focal)
    west = Pose((-7.0, 4.0, 5.0), focal)
    for f in np.linspace(0, 1, 41):
        p = interpolate(east, west, float(f))
        d = vec(p.position) - vec(focal)
        assert np.linalg.norm(d) == pytest.approx(10.0)  # same distance: it turns around
        assert abs(np.dot(vec(p.up), d)) < 1e-9
        assert vec(p.up) @ vec(p.up) == pytest.approx(1.0)
    half = interpolate(east, west, 0.5)
    d = vec(half.position) - vec(focal)
    assert abs(d[0]) < 1e-9  # a quarter of the way round at half time
    # Turning round turns about the up vector, never through looking along it.
    north = Pose((0.0, 2.0, 0.0), (0.0, 0.0, 0.0), up=(1.0, 0.0, 0.0))
    south = Pose((0.0, -2.0, 0.0), (0.0, 0.0, 0.0), up=(1.0, 0.0, 0.0))
    for f in np.linspace(0, 1, 41):
        p = interpolate(north, south, float(f))
        d = vec(p.position) / 2.0
        assert abs(np.dot(d, vec(p.up))) < 1e-9
        assert np.all(np.isfinite(seen_up(p)))
    # Rolling over (the same view, the up turned upside down) turns about the view direction.
    upright = Pose((5.0, 0.0, 0.0), (0.0, 0.0, 0.0), up=(0.0, 0.0, 1.0))
    upside_down = Pose((5.0, 0.0, 0.0), (0.0, 0.0, 0.0), up=(0.0, 0.0, -1.0))
    rolled = interpolate(upright, upside_down, 0.5)
    assert rolled.position == pytest.approx((5.0, 0.0, 0.0))
    assert abs(rolled.up[0]) < 1e-9 and abs(abs(rolled.up[1]) - 1.0) < 1e-9
    # Top to bottom (the view along the up axis of neither): no NaN, the distance kept.
    top = Pose((0.0, 0.0, 10.0), (0.0, 0.0, 0.0), up=(0.0, 1.0, 0.0))
    bottom = Pose((0.0, 0.0, -10.0), (0.0, 0.0, 0.0), up=(0.0, 1.0, 0.0))
    for f in np.linspace(0, 1, 41):
        p = interpolate(top, bottom, float(f))
        assert np.all(np.isfinite(p.position)) and np.all(np.isfinite(p.up))
        assert np.linalg.norm(vec(p.position)) == pytest.approx(10.0)


def test_zoom_is_geometric() -> None:
    far = Pose((1000.0, 0.0, 0.0), (0.0, 0.0, 0.0))
    near = Pose((10.0, 0.0, 0.0), (0.0, 0.0, 0.0))
    assert interpolate(far, near, 0.5).position[0] == pytest.approx(100.0)


def test_steps_without_a_camera_keep_the_last_and_views_are_looked_up() -> None:
    first = Pose((9.0, 9.0, 9.0), (0.0, 0.0, 0.0))
    saved = Pose((1.0, 2.0, 3.0), (0.0, 0.0, 0.0))
    own = Pose((5.0, 0.0, 0.0), (0.0, 0.0, 0.0))
    t = tour(
        {"title": "1"},
        {"title": "2", "view": "Saved"},
        {"title": "3"},
        {"title": "4", "camera": camera(own)},
        {"title": "5"},
    )
    asked: list[str] = []

    def view(name: str) -> Pose:
        asked.append(name)
        return saved

    cams = step_cameras(t, first, view)
    assert cams == [first, saved, saved, own, own]
    assert asked == ["Saved"]


# -- the timetable and the twin's time ------------------------------------------------------

HELD = (1_000_000.0, 1_000_600.0)  # ten minutes of recorded history


def test_timings_and_dwells() -> None:
    t = tour(
        {"title": "a", "transition": {"duration": 2}, "dwell": 3},
        {"title": "b", "transition": {"type": "cut", "duration": 9}},  # a cut takes no time
        {"title": "c", "transition": {"duration": 1.5}, "dwell": "wait"},
        {
            "title": "d",
            "transition": {"duration": 0},
            "time": {"from": "start", "to": "start+40s", "speed": 10},
        },
    )
    plan = plan_of(t, HELD, wait_seconds=4.0)
    got = [(x.start, x.arrive, x.end, x.wait) for x in plan.timings]
    assert got == [
        (0.0, 2.0, 5.0, False),
        (5.0, 5.0, 11.0, False),  # the default dwell
        (11.0, 12.5, 16.5, True),  # wait: wait_seconds where nobody waits
        (16.5, 16.5, 20.5, False),  # as long as its replay: 40 s at 10x
    ]
    assert plan.duration == 20.5
    assert [plan.index_at(x) for x in (0, 4.99, 5, 12, 16.5, 20.4, 20.5, 99)] == [
        0,
        0,
        1,
        2,
        3,
        3,
        3,
        3,
    ]


def test_replay_advances_at_speed_from_arrival_and_holds_at_the_end() -> None:
    t = tour(
        {"title": "before", "time": "start+10s", "dwell": 2, "transition": {"type": "cut"}},
        {
            "title": "replay",
            "transition": {"duration": 3},
            "time": {"from": "start+170s", "to": "start+230s", "speed": 5},
            "dwell": 20,
        },
        {"title": "after", "dwell": 4},
    )
    plan = plan_of(t, HELD)
    t0 = HELD[0] + 170
    assert plan.twin_time_at(1.0) == HELD[0] + 10
    assert plan.twin_time_at(2.0) == t0  # flying in: the replay waits at its start
    assert plan.twin_time_at(4.9) == t0
    assert plan.twin_time_at(5.0) == t0  # arrived
    assert plan.twin_time_at(7.0) == pytest.approx(t0 + 10)  # 2 s at 5x
    assert plan.twin_time_at(16.9) == pytest.approx(t0 + 59.5)
    assert plan.twin_time_at(17.0) == t0 + 60  # 60 s of twin time took 12 s: it holds
    assert plan.twin_time_at(24.9) == t0 + 60
    # 'keep': the next step stays where the replay ended
    assert plan.twin_time_at(25.0) == t0 + 60
    assert plan.twin_time_at(28.0) == t0 + 60


def test_keep_after_a_replay_cut_short() -> None:
    t = tour(
        {"title": "r", "time": {"from": "start", "to": "end", "speed": 2}, "dwell": 10},
        {"title": "k"},
        {"title": "k2"},
    )
    plan = plan_of(t, HELD)
    assert plan.twin_time_at(plan.timings[1].start + 1) == HELD[0] + 20  # 10 s at 2x
    assert plan.twin_time_at(plan.timings[2].arrive) == HELD[0] + 20


def test_live_moment_and_nothing_set() -> None:
    t = tour(
        {"title": "nothing yet"},
        {"title": "live", "time": "live"},
        {"title": "a moment", "time": "2026-11-24T03:12:00Z"},
        {"title": "keep"},
    )
    plan = plan_of(t, None)  # none of these needs a history
    mid = [(x.arrive + x.end) / 2 for x in plan.timings]
    assert math.isnan(plan.twin_time_at(mid[0]))  # type: ignore[arg-type]
    assert plan.twin_time_at(mid[1]) is None
    moment = resolve_tour_instant("2026-11-24T03:12:00Z", None)
    assert plan.twin_time_at(mid[2]) == moment
    assert plan.twin_time_at(mid[3]) == moment


def test_relative_times_resolve_against_the_history() -> None:
    t = tour(
        {"title": "a", "time": "start+170s"},
        {"title": "b", "time": "end-2m"},
        {"title": "c", "time": {"from": "start + 1.5m", "to": "end", "speed": 3}},
        {"title": "d", "time": "live"},
        {"title": "e", "time": "start+1h"},
        {"title": "f", "time": "2026-11-24T03:12:00+01:00"},
    )
    got = step_times(t, HELD)
    assert got[0] == StepTime("moment", HELD[0] + 170, HELD[0] + 170)
    assert got[1] == StepTime("moment", HELD[1] - 120, HELD[1] - 120)
    assert got[2] == StepTime("replay", HELD[0] + 90, HELD[1], 3.0)
    assert got[3] == StepTime("live")
    assert got[4].t0 == HELD[0] + 3600
    assert got[5].t0 == resolve_tour_instant("2026-11-24T02:12:00Z", None)


@pytest.mark.parametrize(
    ("time", "message"),
    [
        ("start+170s", "relative to the recorded history, and there is none"),
        ({"from": "end-2m", "to": "end"}, "relative to the recorded history, and there is none"),
    ],
)
def test_relative_times_without_a_history_fail_clearly(time: Any, message: str) -> None:
    t = tour({"title": "a", "time": time})
    with pytest.raises(ValueError, match=message):
        step_times(t, None)


def test_bad_replays_fail_clearly() -> None:
    backwards = tour({"title": "back", "time": {"from": "end", "to": "start"}})
    with pytest.raises(ValueError, match="'back': the replay ends before it starts"):
        step_times(backwards, HELD)
    live = tour({"title": "lv", "time": {"from": "start", "to": "live"}})
    with pytest.raises(ValueError, match="'lv': a replay runs between two recorded times"):
        step_times(live, HELD)


@pytest.mark.parametrize(("duration", "fps"), [(20.5, 30), (7.0, 25), (0.3, 24), (12.34, 60)])
def test_frame_times(duration: float, fps: float) -> None:
    t = tour({"title": "a", "dwell": duration, "transition": {"type": "cut"}})
    plan = plan_of(t)
    assert plan.duration == duration
    frames = plan.frame_times(fps)
    assert len(frames) == round(duration * fps)
    assert frames[0] == 0.0
    assert np.allclose(np.diff(frames), 1 / fps)
    assert frames[-1] < duration


def test_one_camera_and_time_per_step() -> None:
    t = tour({"title": "a"}, {"title": "b"})
    with pytest.raises(ValueError, match="one camera and one time per step"):
        TourPlan(t, [Pose((1.0, 0.0, 0.0), (0.0, 0.0, 0.0))], step_times(t, None))
