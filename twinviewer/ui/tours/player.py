"""Playing a tour in the window: a Qt timer over :class:`~twinviewer.core.tour_plan.TourPlan`.

The plan says, for any instant of the tour, which step plays, where the camera is and the
twin's time; the player only keeps the tour's clock (wall seconds elapsed while playing, so a
slow frame makes the next step larger) and shows what the plan says. Entering a step puts its
state on the window through the same functions that bring back a review viewpoint
(:func:`twinviewer.ui.review.viewpoint.restore`): the highlight is the selection, ``isolate``
and ``hide`` the hidden set, ``transparent`` X-ray with those parts translucent, the section
plane, the colouring, the overlay and the moment; its callouts are pinned to the view and
updated every frame. A step says the whole picture: what it does not name is not shown (no
highlight, nothing hidden, no section, no overlay; the colouring it does not name stays as it
was before the tour). The next step replaces it, and stopping the tour puts back the window as
it was when the tour started (camera, selection, hidden parts, X-ray, section, overlay,
colouring, time).

A ``wait`` step holds once the camera has arrived until :meth:`QtTourPlayer.next`. A trainee
may :meth:`~QtTourPlayer.leave` the tour to look around (the tour pauses, the window is theirs)
and :meth:`~QtTourPlayer.return_to_step` brings the step back as it was.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal

from twinviewer.core.project_tours import STANDARD, Tour, TourStep
from twinviewer.core.tour_plan import Pose, TourPlan, step_cameras, step_times
from twinviewer.review import Camera, ClipPlane, Viewpoint
from twinviewer.ui.review.viewpoint import (
    HEALTH_MODE,
    QUANTITY_MODE,
    STATUS_MODE,
    capture,
    restore,
    restore_camera,
)
from twinviewer.ui.tours.callouts import TourCallouts
from twinviewer.ui.tours.capture import expand, hidden_by

if TYPE_CHECKING:
    from twinviewer.ui.main_window import QtMainWindow

log = logging.getLogger(__name__)

TICK_MS = 33
MAX_STEP_S = 0.5  # wall seconds: after a stall, do not leap across steps


class Before:
    """The window as it was when the tour started, to put back when it stops."""

    def __init__(self, host: QtMainWindow) -> None:
        tl = host.workbench.timeline
        self.viewpoint = capture(host)
        self.xray = host.workbench.xray
        self.moment: float | None = None if tl.live else float(tl.current)


class QtTourPlayer(QObject):
    """Play, pause, previous, next, restart and leave/return over one tour at a time."""

    stepChanged = Signal(int)  # the step entered; -1: the tour stopped
    playingChanged = Signal(bool)
    changed = Signal()  # anything the controls show (left the tour, reached the end)
    finished = Signal()

    def __init__(self, host: QtMainWindow, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(host)
        self.host = host
        self._clock = clock
        self.tour: Tour | None = None
        self.plan: TourPlan | None = None
        self.index = -1
        self.t = 0.0
        self.left = False  # the trainee left the tour to look around
        self.notes: list[str] = []  # what the step entered last could not show
        self._before: Before | None = None
        self._arrived = False
        self._moment: float | None = math.nan  # the twin time shown last (NaN: none yet)
        self._last = 0.0
        self.callouts = TourCallouts(host.view)
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)

    # -- state -----------------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        return self.tour is not None

    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    @property
    def step(self) -> TourStep | None:
        if self.tour is None or self.index < 0:
            return None
        return self.tour.steps[self.index]

    @property
    def holding(self) -> bool:
        """A ``wait`` step has arrived and waits for Next."""
        if self.plan is None or self.index < 0:
            return False
        timing = self.plan.timings[self.index]
        return timing.wait and self.t >= self._hold_point(self.index) - 1e-9

    # -- the plan --------------------------------------------------------------------------------
    def _pose_now(self) -> Pose:
        cam = self.host.view.interactor.renderer.GetActiveCamera()
        return Pose(
            tuple(float(x) for x in cam.GetPosition()),  # type: ignore[arg-type]
            tuple(float(x) for x in cam.GetFocalPoint()),  # type: ignore[arg-type]
            tuple(float(x) for x in cam.GetViewUp()),  # type: ignore[arg-type]
            float(cam.GetViewAngle()),
        )

    def _view_pose(self, name: str) -> Pose:
        s = self.host.session
        assert s is not None
        for v in s.project.views:
            if v.name == name:
                return Pose(v.position, v.focal_point, v.up, self._pose_now().view_angle)
        if name not in STANDARD:
            raise ValueError(f"no view {name!r}")
        now = self._pose_now()  # a standard view fits the model: compute it, then go back
        self.host.view.scene.standard_view(name)
        pose = self._pose_now()
        self._set_camera(now)
        return pose

    def make_plan(self, tour: Tour) -> TourPlan:
        """The tour's timetable on this twin (ValueError: a time it cannot resolve)."""
        s = self.host.session
        if s is None:
            raise ValueError("no twin is open")
        held = s.history.time_range() if s.history is not None else None
        start = self._pose_now()
        cameras = step_cameras(tour, start, self._view_pose)
        return TourPlan(tour, cameras, step_times(tour, held), start)

    # -- controls --------------------------------------------------------------------------------
    def start(self, tour: Tour, index: int = 0, play: bool = True) -> None:
        """Play ``tour`` from step ``index`` (paused when ``play`` is false: a preview). A tour
        already playing is replaced; the window is put back as before the first one."""
        plan = self.make_plan(tour)
        if self._before is None:
            self._before = Before(self.host)
        self.tour, self.plan = tour, plan
        self.index = -1
        index = max(0, min(index, len(tour.steps) - 1))
        # the first step flies from where the camera is; a later one is cut to
        self._seek(plan.timings[index].start if index == 0 else plan.timings[index].arrive)
        if play:
            self.play()
        self.changed.emit()

    def stop(self) -> None:
        """End the tour and put the window back as it was when the tour started."""
        if self.tour is None:
            return
        self._timer.stop()
        self.callouts.clear()
        before, self._before = self._before, None
        self.tour, self.plan, self.index = None, None, -1
        self.left = False
        if before is not None:
            self._apply_state(before.viewpoint, before.moment, [], before.viewpoint.camera)
            self.host.workbench.xray = before.xray
            self.host.view.scene.set_xray_emphasis(None)
        self.playingChanged.emit(False)
        self.stepChanged.emit(-1)
        self.changed.emit()

    def play(self) -> None:
        if self.plan is None or self.playing:
            return
        if self.left:
            self.return_to_step()
        if self.t >= self.plan.duration:
            self._seek(0.0)
        self._last = self._clock()
        self._timer.start()
        self.playingChanged.emit(True)
        self.changed.emit()

    def pause(self) -> None:
        if not self.playing:
            return
        self._timer.stop()
        self.playingChanged.emit(False)
        self.changed.emit()

    def toggle(self) -> None:
        """Space: go on from a waiting step, else play or pause."""
        if self.holding and self.playing:
            self.next()
        elif self.playing:
            self.pause()
        else:
            self.play()

    def next(self) -> None:
        """The next step (flying there); at the last step, its end."""
        if self.plan is None or self.tour is None:
            return
        self.left = False
        if self.index + 1 < len(self.tour.steps):
            self._seek(self.plan.timings[self.index + 1].start)
        else:
            self._seek(self.plan.duration)
            self._end()
        self.changed.emit()

    def previous(self) -> None:
        """The step before (cut to it); on the first step, its start."""
        if self.plan is None:
            return
        self.left = False
        if self.index > 0:
            self._seek(self.plan.timings[self.index - 1].arrive)
        else:
            self._seek(0.0)
        self.changed.emit()

    def go_to(self, index: int) -> None:
        """Step ``index`` at once (cut), paused or playing as before."""
        if self.plan is None or not 0 <= index < len(self.plan.timings):
            return
        self.left = False
        self._seek(self.plan.timings[index].arrive)
        self.changed.emit()

    def restart(self) -> None:
        if self.plan is None:
            return
        self.left = False
        self._seek(0.0)
        self.play()

    def leave(self) -> None:
        """Look around: the tour pauses and leaves the window to the trainee."""
        if self.plan is None:
            return
        self.pause()
        self.left = True
        self.changed.emit()

    def return_to_step(self) -> None:
        """Back to the step being shown, as it was (its state and its camera)."""
        if self.plan is None or self.index < 0:
            return
        self.left = False
        k = self.index
        self.index = -1  # enter it again
        self._seek(max(self.t, self.plan.timings[k].arrive))
        self.changed.emit()

    # -- the clock -------------------------------------------------------------------------------
    def _tick(self) -> None:
        now = self._clock()
        elapsed = min(max(now - self._last, 0.0), MAX_STEP_S)
        self._last = now
        self.advance(elapsed)

    def advance(self, seconds: float) -> None:
        """Move the tour's clock on by ``seconds`` (the timer's tick; tests call it)."""
        if self.plan is None or self.index < 0:
            return
        t = self.t + seconds
        hold = self._hold_point(self.index)
        if self.plan.timings[self.index].wait and self.t <= hold:
            t = min(t, hold)
        if t >= self.plan.duration:
            self._seek(self.plan.duration)
            self._end()
            return
        self._seek(t)

    def _hold_point(self, k: int) -> float:
        assert self.plan is not None
        timing = self.plan.timings[k]
        if self.plan.times[k].kind == "replay":
            return timing.end - 1e-6  # the replay runs, then the step waits
        return timing.arrive

    def _end(self) -> None:
        if self.playing:
            self._timer.stop()
            self.playingChanged.emit(False)
        self.finished.emit()

    def _seek(self, t: float) -> None:
        assert self.plan is not None and self.tour is not None
        self.t = min(max(t, 0.0), self.plan.duration)
        k = self.plan.index_at(self.t)
        if self.t >= self.plan.duration:
            k = len(self.plan.timings) - 1
        if k != self.index:
            self._enter(k)
        timing = self.plan.timings[k]
        if self.t < timing.arrive:
            self._arrived = False
            self._set_camera(self.plan.camera_at(self.t))
        elif not self._arrived:
            self._arrived = True
            self._set_camera(self.plan.cameras[k])  # exactly the step's camera
        self._show_time(self.plan.twin_time_at(self.t))

    # -- showing a step --------------------------------------------------------------------------
    def _enter(self, k: int) -> None:
        assert self.tour is not None and self.plan is not None
        s = self.host.session
        before = self._before
        if s is None or before is None:
            return
        self.index = k
        self._arrived = False
        step = self.tour.steps[k]
        model = s.model
        comps = s.component_indices
        isolate, unknown = comps(step.isolate)
        hide, unknown_hide = comps(step.hide)
        transparent, unknown_t = comps(step.transparent)
        hidden = np.flatnonzero(hidden_by(model, isolate, hide))
        vp = Viewpoint(
            camera=_camera(self._pose_now()),
            selection=list(step.highlight),
            hidden=s.component_ids(int(i) for i in hidden),
            section=None if step.section is None else ClipPlane(
                origin=step.section.origin, normal=step.section.normal
            ),
            overlay=step.overlay,
            colour_mode=_colour_mode(step.colour) or before.viewpoint.colour_mode,
        )  # fmt: skip
        missing = sorted({*unknown, *unknown_hide, *unknown_t})
        notes = [f"not in this twin: {', '.join(missing)}"] if missing else []
        self._moment = math.nan
        moment = self.plan.twin_time_at(self.plan.timings[k].start)
        self._apply_state(vp, self._resolved(moment), notes, None)
        scene = self.host.view.scene
        if transparent:
            scene.set_xray_emphasis(~expand(model, transparent))
            self.host.workbench.xray = True
        else:
            scene.set_xray_emphasis(None)
            self.host.workbench.xray = False
        lost = self.callouts.show(s, list(step.callouts))
        if lost:
            notes.append(f"no callout for {', '.join(lost)}")
        self.notes = notes
        if notes:
            self.host.statusBar().showMessage(f"Step {k + 1}: {'; '.join(notes)}", 8000)
        self.stepChanged.emit(k)

    def _resolved(self, moment: float | None) -> float | None:
        """A plan's twin time, with NaN (nothing set yet) as the time before the tour."""
        if moment is not None and math.isnan(moment):
            return self._before.moment if self._before is not None else None
        return moment

    def _apply_state(
        self, vp: Viewpoint, moment: float | None, notes: list[str], camera: Camera | None
    ) -> None:
        if camera is not None:
            vp = vp.model_copy(update={"camera": camera})
        notes += restore(self.host, vp, moment)
        self._moment = moment

    def _show_time(self, moment: float | None) -> None:
        moment = self._resolved(moment)
        same = moment is None and self._moment is None
        if not same and (
            moment is None or self._moment is None or abs(moment - self._moment) > 1e-9
        ):
            self._moment = moment
            restore(self.host, None, moment)

    def _set_camera(self, pose: Pose) -> None:
        restore_camera(self.host.view, _camera(pose))

    def frame(self) -> None:
        """A frame is drawn: the callouts read the values now."""
        s = self.host.session
        if s is not None and self.tour is not None:
            self.callouts.update(s)


def _camera(pose: Pose) -> Camera:
    return Camera(
        position=pose.position,
        focal_point=pose.focal_point,
        up=pose.up,
        view_angle=pose.view_angle,
    )


def _colour_mode(colour: str | None) -> str | None:
    if colour is None:
        return None
    if colour in (STATUS_MODE, HEALTH_MODE):
        return colour
    return f"{QUANTITY_MODE}{colour}"
