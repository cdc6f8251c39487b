"""What a tour shows at any instant of it, applied to a :class:`TwinScene` and its session.

:class:`TourScene` is the headless half of playing a tour: given a tour time ``t`` it points
the camera (:meth:`~twinviewer.core.tour_plan.TourPlan.camera_at`), puts the twin at its time
(the history store's state at :meth:`~twinviewer.core.tour_plan.TourPlan.twin_time_at`), and
shows what the step playing shows: highlighted, isolated, hidden and see-through components,
the section plane, the colour mode, a simulation overlay, the callouts of live values, the
step's title and caption, and the twin's time stamp. A step's state is applied when the tour
enters it and undone when it leaves it, so a step shows exactly what it says whatever came
before. The video exporter draws every frame through it; nothing here renders.

A history replay (``twinviewer replay``) is the same scene without steps: the twin's time runs
from a start at a speed, the camera fixed on a view or following a tour's flight
(:meth:`TourScene.replay`).
"""

from __future__ import annotations

import logging
import math
import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np
import vtk

from twinviewer.core.project_tours import Tour, TourStep
from twinviewer.core.tour_plan import Pose, TourPlan, step_cameras, step_times
from twinviewer.render.callouts import Callout, CalloutLayer, callout_text
from twinviewer.render.scene import TwinScene
from twinviewer.session.headless import apply_view, draw_session, show_overlay
from twinviewer.session.twin import TwinSession

if TYPE_CHECKING:
    from twinviewer.history.postgres import PostgresHistoryStore
    from twinviewer.history.store import HistoryStore
    from twinviewer.sim.overlay import SimOverlay

    Store = HistoryStore | PostgresHistoryStore

log = logging.getLogger(__name__)

TEXT_COLOUR = (0.95, 0.95, 0.95)
BOX_COLOUR = (0.06, 0.07, 0.09)
CAPTION_WIDTH = 64  # characters per caption line at any size (the font scales with the frame)
# font sizes (points) in a 1080-line frame; other sizes scale them (see font_size)
TITLE_PT, CAPTION_PT, STAMP_PT, CALLOUT_PT = 30, 24, 26, 20


def font_size(points: int, height: int) -> int:
    """A 1080p font size scaled to a frame ``height`` pixels high (never unreadably small)."""
    return max(7, round(points * max(0.35, height / 1080.0)))


# -- finding and planning a tour -----------------------------------------------------------------


def find_tour(session: TwinSession, name: str) -> Tour:
    """The project's tour ``name``; ValueError lists the tours there are."""
    for tour in session.project.tours:
        if tour.name == name:
            return tour
    known = ", ".join(repr(t.name) for t in session.project.tours) or "none"
    raise ValueError(f"{session.path}: no tour {name!r} (the project has: {known})")


def view_pose(scene: TwinScene, session: TwinSession, view: str | None) -> Pose:
    """The camera of a saved or standard view (None: the project's first view, else iso), as
    the scene computes it for this model."""
    apply_view(scene, session, view)
    position, focal, up = scene.camera()
    angle = float(scene.plotter.renderer.GetActiveCamera().GetViewAngle())
    return Pose(tuple(position), tuple(focal), tuple(up), angle)  # type: ignore[arg-type]


def plan_tour(
    session: TwinSession, scene: TwinScene, tour: Tour, held: tuple[float, float] | None
) -> TourPlan:
    """The timetable of ``tour`` on this twin: saved and standard views resolved on ``scene``,
    times relative to the history's ``held`` range. ValueError names what does not resolve."""
    first = view_pose(scene, session, None)
    cameras = step_cameras(tour, first, lambda name: view_pose(scene, session, name))
    return TourPlan(tour, cameras, step_times(tour, held), start=first)


# -- what is written over the picture ------------------------------------------------------------


def zone_of(session: TwinSession) -> tzinfo:
    """The project's display time zone (UTC when it names none: a video reads the same
    wherever it is made)."""
    name = session.project.display.timezone
    return ZoneInfo(name) if name else timezone.utc


def stamp_text(t: float, zone: tzinfo) -> str:
    """The burned-in time stamp of twin time ``t``: ``2026-11-24 03:12:05 AWST``."""
    when = datetime.fromtimestamp(t, zone)
    return when.strftime("%Y-%m-%d %H:%M:%S ") + (when.tzname() or "")


def plain(text: str) -> str:
    """A caption without its Markdown emphasis (``**bold**``, ``*italic*``, `` `code` ``)."""
    return re.sub(r"(\*\*|__|\*|`)(.+?)\1", r"\2", text)


def step_text(tour: Tour, k: int) -> tuple[str, str]:
    """The title line and the wrapped caption (and question) of step ``k``."""
    step = tour.steps[k]
    title = f"{tour.name}   {k + 1}/{len(tour.steps)}   {step.title}"
    lines: list[str] = []
    for para in plain(step.caption).splitlines():
        lines += textwrap.wrap(para, CAPTION_WIDTH) or [""]
    q = step.question
    if q is not None:
        lines += ["", *textwrap.wrap(f"Question: {q.text}", CAPTION_WIDTH)]
        lines += [f"  {i}. {a}" for i, a in enumerate(q.answers, 1)]
    return title, "\n".join(lines).strip()


class TextBox:
    """A line or block of text in a corner of the view, on an opaque box so that it reads over
    any colour of the model (the caption and the time stamp of a video)."""

    CORNERS = {  # x, y (normalised viewport), horizontal and vertical justification
        "upper_left": (0.012, 0.985, 0, 2),
        "lower_left": (0.012, 0.015, 0, 0),
        "lower_right": (0.988, 0.015, 2, 0),
        "upper_right": (0.988, 0.985, 2, 2),
    }

    def __init__(self, renderer: vtk.vtkRenderer, corner: str, size: int, bold: bool = False):
        self.renderer = renderer
        self.actor = vtk.vtkTextActor()
        self.actor.SetPickable(False)
        prop = self.actor.GetTextProperty()
        prop.SetFontFamilyToArial()
        prop.SetFontSize(size)
        prop.SetBold(bold)
        prop.SetColor(*TEXT_COLOUR)
        prop.SetBackgroundColor(*BOX_COLOUR)
        prop.SetBackgroundOpacity(1.0)
        x, y, just, vjust = self.CORNERS[corner]
        prop.SetJustification(just)
        prop.SetVerticalJustification(vjust)
        coord = self.actor.GetPositionCoordinate()
        coord.SetCoordinateSystemToNormalizedViewport()
        coord.SetValue(x, y)
        self.actor.SetVisibility(False)
        renderer.AddViewProp(self.actor)

    def set(self, text: str) -> None:
        self.actor.SetInput(text or " ")
        self.actor.SetVisibility(bool(text))

    @property
    def text(self) -> str:
        return str(self.actor.GetInput()) if self.actor.GetVisibility() else ""

    def box(self) -> tuple[int, int, int, int]:
        """Where the box was drawn last: (left, bottom, right, top) display pixels."""
        b = [0.0, 0.0, 0.0, 0.0]
        self.actor.GetBoundingBox(self.renderer, b)  # about the actor's anchor
        x, y = self.actor.GetPositionCoordinate().GetComputedDisplayValue(self.renderer)
        return x + int(b[0]), y + int(b[2]), x + int(b[1]), y + int(b[3])

    def remove(self) -> None:
        self.renderer.RemoveViewProp(self.actor)


# -- the scene -----------------------------------------------------------------------------------


@dataclass
class Shown:
    """What a frame shows: the step (-1 in a replay), the twin's time (NaN: none) and the
    stamp written on it."""

    step: int
    twin_time: float
    stamp: str


class TourScene:
    """A tour (or a replay) applied to a scene at any tour time (see the module doc).

    ``store`` is the open history (None: the twin is shown as its session stands). ``clock``
    overrides the plan's twin time (a replay); with ``steps=False`` only the plan's camera is
    used (a replay following a tour), and with ``plan=None`` the camera stays where ``view``
    put it.
    """

    def __init__(
        self,
        session: TwinSession,
        scene: TwinScene,
        plan: TourPlan | None,
        store: Store | None = None,
        *,
        clock: Callable[[float], float] | None = None,
        steps: bool = True,
        view: str | None = None,
        title: str = "",
        font_scale: float = 1.0,
    ) -> None:
        self.session = session
        self.scene = scene
        self.plan = plan
        self.store = store
        self.clock = clock
        self.steps = steps and plan is not None
        self.held = store.time_range() if store is not None else None
        self.zone = zone_of(session)
        self.quantity = session.active_quantity  # the colour mode a step's colour undoes to
        renderer = scene.plotter.renderer
        height = int((renderer.GetRenderWindow().GetSize()[1] or 1080) * font_scale)
        self.title_box = TextBox(renderer, "upper_left", font_size(TITLE_PT, height), bold=True)
        self.caption_box = TextBox(renderer, "lower_left", font_size(CAPTION_PT, height))
        self.stamp_box = TextBox(renderer, "lower_right", font_size(STAMP_PT, height))
        self.callouts = CalloutLayer(scene.plotter, font_size=font_size(CALLOUT_PT, height))
        self.title = title
        self.title_box.set(title)
        self.current = -2  # no step entered yet
        self.twin_time = math.nan
        self._drawn = False  # the first frame applies the twin's time whatever it is
        self._health = False
        self._overlay: SimOverlay | None = None
        self._callout_sensors: list[tuple[str, int, str]] = []  # key, sensor index, label
        if plan is None:
            apply_view(scene, session, view)

    @classmethod
    def replay(
        cls,
        session: TwinSession,
        scene: TwinScene,
        store: Store,
        start: float,
        end: float,
        speed: float,
        view: str | None = None,
        follow: Tour | None = None,
        font_scale: float = 1.0,
    ) -> TourScene:
        """The history from ``start`` to ``end`` at ``speed`` twin seconds per second, the
        camera fixed on ``view`` or flying ``follow``'s tour (holding its last camera)."""
        held = store.time_range()
        plan = plan_tour(session, scene, follow, held) if follow is not None else None

        def clock(t: float) -> float:
            return min(start + t * speed, end)

        where = f"following the tour {follow.name!r}" if follow else (view or "")
        title = f"{session.project.name}: replay at {speed:g}x {where}".rstrip()
        return cls(
            session, scene, plan, store, clock=clock, steps=False, view=view, title=title,
            font_scale=font_scale,
        )  # fmt: skip

    # -- each frame ---------------------------------------------------------------------------
    def show(self, t: float) -> Shown:
        """Make the scene show tour time ``t`` (the caller renders)."""
        plan = self.plan
        entered = False
        if self.steps and plan is not None:
            k = plan.index_at(t)
            if k != self.current:
                self._enter(k)
                entered = True
        if plan is not None:
            pose = plan.camera_at(t)
            self.scene.set_camera(pose.position, pose.focal_point, pose.up)
            self.scene.plotter.renderer.GetActiveCamera().SetViewAngle(pose.view_angle)
            self.scene.plotter.renderer.ResetCameraClippingRange()
        self._set_twin_time(self._twin_time_at(t), force=entered or not self._drawn)
        self._drawn = True
        return Shown(self.current if self.steps else -1, self.twin_time, self.stamp_box.text)

    def _twin_time_at(self, t: float) -> float:
        """The twin's time at tour time ``t``; a tour's 'live' (or no time set yet) is the
        history's newest sample. NaN: no history."""
        if self.clock is not None:
            return self.clock(t)
        when = self.plan.twin_time_at(t) if self.plan is not None else None
        if when is None or math.isnan(when):
            return self.held[1] if self.held is not None else math.nan
        return when

    def _set_twin_time(self, when: float, force: bool = False) -> None:
        same = when == self.twin_time or (math.isnan(when) and math.isnan(self.twin_time))
        if same and not force:
            return
        self.twin_time = when
        s = self.session
        if self.store is not None and not math.isnan(when):
            value, times = self.store.at(when)
            s.update(when, value, times)
        self._recolour()
        if self._overlay is not None:
            show_overlay(self.scene, s, self._overlay, when if not math.isnan(when) else 0.0)
        self._update_callouts()
        self.stamp_box.set("" if math.isnan(when) else stamp_text(when, self.zone))

    def _recolour(self) -> None:
        s = self.session
        draw_session(self.scene, s)
        if self._health:
            colours = self._health_colours()
            if colours is not None:
                self.scene.set_component_colours(colours)

    def _health_colours(self) -> np.ndarray | None:
        from twinviewer.core.colour import component_colours
        from twinviewer.predict.health import health_rgba

        s = self.session
        service = s.open_prediction() if s.history is not None else None
        state = service.state_at(self.twin_time) if service is not None else None
        if state is None:
            return None
        health = state.sensor_health()
        rank = np.where(np.isnan(health), -np.inf, -health)
        colours, _ = component_colours(
            s.binding.colouring, health_rgba(health), rank, s.base_colours
        )
        return colours

    # -- entering and leaving a step ----------------------------------------------------------
    def _enter(self, k: int) -> None:
        """Undo what the step shown did, then do what step ``k`` says."""
        assert self.plan is not None
        self._leave()
        self.current = k
        tour = self.plan.tour
        step = tour.steps[k]
        title, caption = step_text(tour, k)
        self.title_box.set(title)
        self.caption_box.set(caption)
        self._show_components(step)
        if step.section is not None:
            self.scene.set_clip_plane(step.section.origin, step.section.normal)
        if step.colour == "health":
            self._health = True
        elif step.colour == "status":
            self.session.set_active_quantity(None)
        elif step.colour is not None:
            self.session.set_active_quantity(step.colour)
        if step.overlay is not None:
            origin = self.held[0] if self.held is not None else 0.0
            self._overlay = self.session.overlay(step.overlay, origin)
        self._set_callouts(step)

    def _leave(self) -> None:
        """Back to the twin as the tour found it."""
        scene = self.scene
        scene.highlight([])
        n = scene.model.n_components if scene.model is not None else 0
        if scene.hidden.any():
            scene.set_hidden(np.zeros(n, bool))
        if scene.xray:
            scene.set_xray_emphasis(None)
            scene.set_xray(False)
        if scene.clip_plane is not None:
            scene.set_clip_plane(None)
        if self._overlay is not None:
            name = self._overlay.cfg.name
            for key in (name, f"{name}:mesh"):
                scene.clear_overlay(key)
            scene.clear_glyphs(name)
            self._overlay = None
        self._health = False
        self.session.set_active_quantity(self.quantity)
        self.callouts.clear()
        self._callout_sensors = []
        self.caption_box.set("")

    def _subtrees(self, ids: Sequence[str], key: str) -> np.ndarray:
        """A mask over components: the named ones and everything under them."""
        s = self.session
        mask = np.zeros(s.model.n_components, bool)
        found, unknown = s.component_indices(ids)
        if unknown:
            log.warning("tour: %s names no component %s", key, ", ".join(unknown))
        for i in found:
            mask[s.model.subtree(i)] = True
        return mask

    def _show_components(self, step: TourStep) -> None:
        scene = self.scene
        if step.isolate or step.hide:
            hidden = np.zeros(self.session.model.n_components, bool)
            if step.isolate:
                hidden = ~self._subtrees(step.isolate, "isolate")
            if step.hide:
                hidden |= self._subtrees(step.hide, "hide")
            scene.set_hidden(hidden)
        if step.transparent:
            scene.set_xray_emphasis(~self._subtrees(step.transparent, "transparent"))
            scene.set_xray(True)
        if step.highlight:
            scene.highlight(np.flatnonzero(self._subtrees(step.highlight, "highlight")).tolist())

    # -- callouts -----------------------------------------------------------------------------
    def callout_position(self, sensor: int) -> tuple[float, float, float] | None:
        """Where a sensor's callout is pinned (see ``TwinSession.sensor_anchor``)."""
        return self.session.sensor_anchor(sensor)

    def _set_callouts(self, step: TourStep) -> None:
        s = self.session
        self._callout_sensors = []
        shown: list[Callout] = []
        for c in step.callouts:
            i = s.sensor_index.get(c.sensor)
            if i is None:
                continue
            where = self.callout_position(i)
            if where is None:
                log.warning("tour: sensor %s has no position and no component", c.sensor)
                continue
            label = c.label or s.sensors[i].name or c.sensor
            self._callout_sensors.append((c.sensor, i, label))
            shown.append(Callout(c.sensor, self._callout(i, label), where))
        self.callouts.set_callouts(shown)

    def _callout(self, i: int, label: str) -> str:
        s = self.session
        value = float(s.shown_value[i]) if len(s.shown_value) > i else math.nan
        return callout_text(label, value, s.sensors[i].unit)

    def _update_callouts(self) -> None:
        if self._callout_sensors:
            self.callouts.set_texts(
                {key: self._callout(i, label) for key, i, label in self._callout_sensors}
            )

    def close(self) -> None:
        """Take what the tour added off the scene."""
        self._leave()
        self.callouts.close()
        for box in (self.title_box, self.caption_box, self.stamp_box):
            box.remove()
