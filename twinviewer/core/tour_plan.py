"""When each step of a tour happens, where the camera is at any instant, and the twin's time.

A tour is played on its own clock, ``t`` seconds from its start. Step ``k`` begins at
``start[k]``, flies (or cuts) to its camera until ``arrive[k] = start[k] + transition``, then
dwells until ``end[k] = arrive[k] + dwell`` where the next step begins. :class:`TourPlan` holds
those times and answers, for any ``t``: which step and phase, the camera (:meth:`camera_at`) and
the twin's time (:meth:`twin_time_at`). The window's player and the video exporter both ask it,
so a tour plays the same on screen and in a video, where frames are rendered at exact times.

The camera between two steps: the focal point moves in a straight line, the distance to it
changes geometrically (zooming in from far away does not crawl at the end), the view
direction and the up vector turn on great circles (spherical linear interpolation), the view
angle linearly; the easing (``in_out``: smoothstep) is applied to the fraction of the flight.
That is ParaView's camera interpolation idea in closed form rather than VTK's
``vtkCameraInterpolator`` spline: a spline through all the steps' cameras overshoots between
them, and this keeps core free of VTK. Each step's camera is reached exactly at ``arrive[k]``.

Pure numpy; no Qt, no VTK.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from twinviewer.core.project_tours import (
    DEFAULT_DWELL,
    WAIT_IN_VIDEO,
    Replay,
    Tour,
    TourCamera,
    resolve_tour_instant,
)

F64 = NDArray[np.float64]


@dataclass(frozen=True)
class Pose:
    """A camera: position, focal point, up, and the vertical view angle in degrees."""

    position: tuple[float, float, float]
    focal_point: tuple[float, float, float]
    up: tuple[float, float, float] = (0.0, 0.0, 1.0)
    view_angle: float = 30.0

    @classmethod
    def of(cls, camera: TourCamera) -> Pose:
        return cls(camera.position, camera.focal_point, camera.up, camera.view_angle)


def ease(kind: str, f: float) -> float:
    """Easing of a flight's fraction ``f`` in [0, 1]: ``linear``, ``in_out`` (smoothstep),
    ``in`` (slow start), ``out`` (slow end). 0 and 1 map to themselves exactly."""
    f = min(1.0, max(0.0, f))
    if kind == "in_out":
        return f * f * (3.0 - 2.0 * f)
    if kind == "in":
        return f * f
    if kind == "out":
        return 1.0 - (1.0 - f) * (1.0 - f)
    return f


def _unit(v: F64) -> F64:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def slerp(a: F64, b: F64, f: float, about: F64 | None = None) -> F64:
    """Spherical interpolation between unit vectors ``a`` and ``b``. Opposite vectors turn
    about ``about`` (its part across ``a``) when given and usable, else about any axis across
    ``a``: a camera turning round to look back turns about its up, not over its head."""
    dot = float(np.clip(np.dot(a, b), -1.0, 1.0))
    if dot > 0.9995:  # nearly the same direction: a straight line is exact enough
        return _unit(a + f * (b - a))
    if dot < -0.9995:
        axis = np.zeros(3)
        if about is not None:
            axis = about - np.dot(about, a) * a
        if np.linalg.norm(axis) < 1e-6:
            axis = np.cross(a, [1.0, 0.0, 0.0])
        if np.linalg.norm(axis) < 1e-6:
            axis = np.cross(a, [0.0, 1.0, 0.0])
        b = _unit(np.cross(_unit(axis), a))  # a quarter turn, twice
        return slerp(a, b, 2 * f) if f < 0.5 else slerp(b, -a, 2 * f - 1)
    omega = math.acos(dot)
    s = math.sin(omega)
    return (math.sin((1 - f) * omega) / s) * a + (math.sin(f * omega) / s) * b


def interpolate(a: Pose, b: Pose, f: float) -> Pose:
    """The camera a fraction ``f`` of the way from ``a`` to ``b`` (``f`` already eased);
    ``f = 0`` gives ``a`` and ``f = 1`` gives ``b`` exactly."""
    if f <= 0.0:
        return a
    if f >= 1.0:
        return b
    fa, fb = np.asarray(a.focal_point, float), np.asarray(b.focal_point, float)
    da = np.asarray(a.position, float) - fa
    db = np.asarray(b.position, float) - fb
    la, lb = float(np.linalg.norm(da)), float(np.linalg.norm(db))
    focal = fa + f * (fb - fa)
    dist = la * (lb / la) ** f if la > 0 and lb > 0 else la + f * (lb - la)
    up_a, up_b = _unit(np.asarray(a.up, float)), _unit(np.asarray(b.up, float))
    direction = slerp(_unit(da), _unit(db), f, about=up_a)  # turning round: about the up
    up = slerp(up_a, up_b, f, about=_unit(da))  # rolling over: about the view direction
    up = up - np.dot(up, direction) * direction  # keep it perpendicular to the view
    if np.linalg.norm(up) < 1e-9:
        up = np.asarray(b.up, float)
    position = focal + dist * direction
    return Pose(
        tuple(float(x) for x in position),  # type: ignore[arg-type]
        tuple(float(x) for x in focal),  # type: ignore[arg-type]
        tuple(float(x) for x in _unit(up)),  # type: ignore[arg-type]
        a.view_angle + f * (b.view_angle - a.view_angle),
    )


@dataclass(frozen=True)
class StepTime:
    """The twin's time on a step: ``keep`` (the time the previous step ended on), ``live``,
    a fixed ``moment``, or a ``replay`` of ``[t0, t1]`` at ``speed``."""

    kind: str
    t0: float = 0.0
    t1: float = 0.0
    speed: float = 1.0


@dataclass(frozen=True)
class Timing:
    """When step ``index`` starts, arrives (the flight is over) and ends, in tour seconds;
    ``wait``: the step waits for the trainee (a player holds at ``arrive``)."""

    index: int
    start: float
    arrive: float
    end: float
    easing: str
    wait: bool


def step_times(tour: Tour, held: tuple[float, float] | None) -> list[StepTime]:
    """Each step's twin time resolved against the history's ``(first, last)`` sample times
    (ValueError when a step names a time relative to a history there is not)."""
    out = []
    for step in tour.steps:
        if step.time is None:
            out.append(StepTime("keep"))
        elif isinstance(step.time, Replay):
            t0 = resolve_tour_instant(step.time.start, held)
            t1 = resolve_tour_instant(step.time.end, held)
            if t0 is None or t1 is None:
                raise ValueError(f"step {step.title!r}: a replay runs between two recorded times")
            if t1 < t0:
                raise ValueError(f"step {step.title!r}: the replay ends before it starts")
            out.append(StepTime("replay", t0, t1, step.time.speed))
        else:
            t = resolve_tour_instant(step.time, held)
            out.append(StepTime("live") if t is None else StepTime("moment", t, t))
    return out


def step_cameras(tour: Tour, first: Pose, view: Callable[[str], Pose]) -> list[Pose]:
    """Each step's camera: its own, its saved view's (``view(name)``), or the one before it
    (``first`` for a first step that names none)."""
    out: list[Pose] = []
    current = first
    for step in tour.steps:
        if step.camera is not None:
            current = Pose.of(step.camera)
        elif step.view is not None:
            current = view(step.view)
        out.append(current)
    return out


class TourPlan:
    """The timetable of a tour and what the screen shows at any instant of it.

    ``wait_seconds`` is how long a ``wait`` dwell lasts where nobody waits (a video); a player
    holds at the step's ``arrive`` instead.
    """

    def __init__(
        self,
        tour: Tour,
        cameras: Sequence[Pose],
        times: Sequence[StepTime],
        start: Pose | None = None,
        wait_seconds: float = WAIT_IN_VIDEO,
    ) -> None:
        if len(cameras) != len(tour.steps) or len(times) != len(tour.steps):
            raise ValueError("one camera and one time per step")
        self.tour = tour
        self.cameras = list(cameras)
        self.times = list(times)
        self.start_pose = start if start is not None else self.cameras[0]
        self.timings: list[Timing] = []
        t = 0.0
        for k, step in enumerate(tour.steps):
            fly = step.transition.seconds
            wait = step.dwell == "wait"
            if isinstance(step.dwell, (int, float)):
                dwell = float(step.dwell)
            elif wait:
                dwell = wait_seconds
            elif self.times[k].kind == "replay":
                st = self.times[k]
                dwell = (st.t1 - st.t0) / st.speed
            else:
                dwell = DEFAULT_DWELL
            easing = step.transition.easing
            # one sum each, so that a step ends exactly where the next one starts
            arrive = t + fly
            end = arrive + dwell
            self.timings.append(Timing(k, t, arrive, end, easing, wait))
            t = end
        self.duration = t

    def index_at(self, t: float) -> int:
        """The step playing at tour time ``t`` (the last one from its end on)."""
        for timing in self.timings:
            if t < timing.end:
                return timing.index
        return len(self.timings) - 1

    def camera_at(self, t: float) -> Pose:
        """The camera at tour time ``t``: flying towards a step's camera, or resting on it."""
        k = self.index_at(t)
        timing = self.timings[k]
        target = self.cameras[k]
        if t >= timing.arrive:
            return target
        before = self.cameras[k - 1] if k > 0 else self.start_pose
        f = (t - timing.start) / (timing.arrive - timing.start)
        return interpolate(before, target, ease(timing.easing, f))

    def twin_time_at(self, t: float) -> float | None:
        """The twin's time at tour time ``t`` (None: live; NaN: nothing set yet, keep the
        current time). A replay starts when the step arrives and holds its end."""
        k = self.index_at(t)
        return self._time_of(k, t)

    def _time_of(self, k: int, t: float) -> float | None:
        st = self.times[k]
        timing = self.timings[k]
        if st.kind == "live":
            return None
        if st.kind == "moment":
            return st.t0
        if st.kind == "replay":
            run = max(0.0, min(t, timing.end) - timing.arrive) * st.speed
            return min(st.t0 + run, st.t1)
        if k == 0:
            return math.nan
        return self._time_of(k - 1, self.timings[k - 1].end)

    def frame_times(self, fps: float) -> F64:
        """The tour times of a video's frames: ``n = round(duration * fps)`` frames at
        ``i / fps`` exactly (the last frame shows the end of the last step)."""
        n = max(1, int(round(self.duration * fps)))
        return np.arange(n, dtype=float) / fps
