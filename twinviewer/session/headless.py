"""Headless rendering (``twinviewer render``): a twin to a PNG, with no window and no X server."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from twinviewer.render.offscreen import offscreen_plotter
from twinviewer.render.scene import TwinScene, configure_for_software_rendering
from twinviewer.session import TwinSession

if TYPE_CHECKING:
    from twinviewer.review import Measurement
    from twinviewer.session.field import SensorField
    from twinviewer.sim.overlay import OverlayFrame, SimOverlay

log = logging.getLogger(__name__)

Camera = tuple[Sequence[float], Sequence[float], Sequence[float]]
"""A camera as (position, focal point, view up)."""


def apply_feed(session: TwinSession, seconds: float) -> float:
    """Run the project's simulators for ``seconds`` of simulated time into the session's state.

    Returns the simulated 'now' to colour at (0 when the project has no simulator).
    """
    from twinviewer.sources.simulator import simulate

    now = 0.0
    for cfg in session.project.sources:
        if cfg.type == "simulator" and seconds > 0:
            session.state.apply(simulate(session.project, cfg, seconds))
            now = seconds
    return now


def apply_pose(scene: TwinScene, session: TwinSession) -> bool:
    """Move the scene's moving parts (and the markers on them) to the session's pose; a pose
    already drawn costs nothing. True when something was written."""
    pose = session.pose
    if not pose.active:
        return False
    if not scene.set_model_points(pose.points, pose.moving_vertices, pose.moving_components):
        return False
    idx, pos = session.sensor_positions()
    if len(idx):
        scene.set_marker_positions(pose.sensor_positions(idx, pos, session.binding.sensor_nodes))
    return True


def draw_session(scene: TwinScene, session: TwinSession) -> None:
    """Push the session's current pose, colours, legend and markers into a scene."""
    apply_pose(scene, session)
    scene.set_component_colours(session.component_rgba)
    legend = session.legend()
    if legend is not None:
        scene.set_legend(legend.title, legend.table, legend.lo, legend.hi)
        scene.set_status_legend(session.status_legend())
    idx, _ = session.sensor_positions()
    if len(idx):
        scene.set_marker_colours(session.sensor_rgba[idx])


def parse_instant(text: str, now: float | None = None) -> float | None:
    """``live``, ISO 8601 (UTC unless a zone is given) or relative to now (``-10m``, ``-2h``,
    ``-90s``, ``-1d``). Returns epoch seconds, or None for ``live``."""
    now = time.time() if now is None else now
    text = text.strip()
    if text.lower() == "live":
        return None
    m = re.fullmatch(r"-(\d+(?:\.\d+)?)\s*([smhd])", text)
    if m:
        return now - float(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"--at {text!r}: expected 'live', an ISO 8601 time such as 2026-11-24T03:12:00Z, "
            "or a relative time such as -10m, -2h, -1d"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


def recorded_state(
    session: TwinSession, at: str
) -> tuple[float, np.ndarray, np.ndarray, tuple[float, float]]:
    """What the history held at ``at`` (``live``: its newest sample): the instant, every
    sensor's value and time, and the range held. Closes the session's store and sources."""
    store = session.open_history()
    if store is None:
        raise ValueError(f"{session.path}: no history (a bare model?)")
    try:
        held = store.time_range()
        if held is None:
            raise ValueError(f"{session.path}: the history store holds no samples yet")
        t = parse_instant(at)
        t = held[1] if t is None else t
        if t < held[0]:
            first = datetime.fromtimestamp(held[0], timezone.utc).isoformat(timespec="seconds")
            raise ValueError(f"--at {at!r} is before the first recorded sample ({first})")
        value, times = store.at(t)
    finally:
        session.close()
    return t, value, times, held


def apply_history(session: TwinSession, at: str) -> float:
    """Colour the session as the history store held it at ``at``; returns that instant."""
    t, value, times, _ = recorded_state(session, at)
    session.update(t, value, times)
    return t


def render_png(
    path: str | Path,
    out: str | Path,
    size: tuple[int, int] = (1600, 1000),
    view: str | None = None,
    after: float = 0.0,
    quantity: str | None = None,
    at: str | None = None,
    history: str | None = None,
    overlay: str | None = None,
    field: str | None = None,
    sensor_field: str | None = None,
    field_method: str = "geodesic",
) -> Path:
    """Render a project to ``out``. ``view`` is a saved view's name or a standard view;
    ``at`` renders the recorded state at that instant instead of a simulated feed, read from
    ``history`` (a PostgreSQL URL) when given, else from the project's store. ``field`` is the
    overlay's field; ``sensor_field`` spreads that quantity's positioned sensors over the
    surface by ``field_method`` (see :mod:`twinviewer.session.field`)."""
    configure_for_software_rendering()
    session = TwinSession.open(path)
    session.history_url = history
    if sensor_field is not None:
        quantity = sensor_field
    if quantity is not None:
        session.set_active_quantity(quantity)
    spread = None
    if sensor_field is not None:
        from twinviewer.session.field import FieldBook

        spread = FieldBook(session).field(sensor_field, field_method)
    now = 0.0
    when = None
    start = 0.0  # the overlay clock's 'session' origin: 0 s of a headless simulated feed
    if at is not None:
        when, value, times, held = recorded_state(session, at)
        session.update(when, value, times)
        start = held[0]  # an overlay's 'session' origin: the first recorded sample
    else:
        now = apply_feed(session, after)
        session.update(now if now else None)
    sim = None
    t = when if when is not None else now
    if overlay is not None:
        sim = session.overlay(overlay, start, simulator_speed=None if when else 1.0)
        if field is not None:
            sim.set_field(field)
    moment = f"t = {after:g} s of simulated feed" if after and now else ""
    if when is not None:
        stamp = datetime.fromtimestamp(when, timezone.utc).isoformat(timespec="seconds")
        moment = f"at {stamp} (recorded)"
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    draw_image(
        session, size, view, session.project.name, sim, t, moment, out=out, sensor_field=spread
    )
    return out


def draw_image(
    session: TwinSession,
    size: tuple[int, int] = (1600, 1000),
    view: str | Camera | None = None,
    title: str = "",
    overlay: SimOverlay | None = None,
    t: float = 0.0,
    when: str = "",
    out: Path | None = None,
    measurements: Sequence[Measurement] = (),
    sensor_field: SensorField | None = None,
) -> NDArray[np.uint8]:
    """Draw the session as it stands (its colours, legend and markers) on an off-screen scene
    and return the picture (height x width x 3); also written to ``out`` as a PNG if given.

    ``view`` is a saved view's name, a standard view or a camera; ``overlay`` is drawn at twin
    time ``t``; the caption is ``title``, then the overlay's description, then ``when``. This is
    what ``twinviewer render`` and the review report's snapshots both draw, the report with the
    review's ``measurements`` over the model; ``sensor_field`` is drawn over the twin with the
    session's shown values."""
    plotter = offscreen_plotter(size)
    try:
        scene = TwinScene(plotter, session.project.display.background)
        scene.show_model(session.model)
        idx, pos = session.sensor_positions()
        scene.show_markers(pos)
        draw_session(scene, session)
        apply_view(scene, session, view)
        caption = title
        if sensor_field is not None:
            caption += "   " + show_sensor_field(scene, session, sensor_field)
        if overlay is not None:
            caption += "   " + show_overlay(scene, session, overlay, t)
        if when:
            caption += "   " + when
        scene.set_caption("title", caption.strip(), "upper_left", 18)
        scene.set_caption("stats", _stats_line(session), "lower_left", 13)
        if measurements:
            from twinviewer.render.annotations import MeasurementLayer

            MeasurementLayer(plotter, font_size=13).set_measurements(measurements)
        image: NDArray[np.uint8] = plotter.screenshot(
            str(out) if out is not None else None, return_img=True
        )
    finally:
        plotter.close()
    return image


def show_sensor_field(scene: TwinScene, session: TwinSession, field: SensorField) -> str:
    """Draw ``field`` at the session's shown values, with its colour bar; returns a caption."""
    values = field.values(session.shown_value)
    scene.show_markers(field.positions)  # the field's own sensors, in its colours
    scene.set_marker_colours(session.sensor_rgba[field.sensors])
    scene.set_point_field(
        field.points, field.triangles, field.components, values, field.table, field.lo, field.hi
    )
    scene.set_legend(field.title, field.table, field.lo, field.hi)
    n = len(field.sensors)
    return f"field of {field.quantity} {field.label} from {n} sensors"


def show_overlay(scene: TwinScene, session: TwinSession, sim: SimOverlay, t: float) -> str:
    """Draw ``sim`` at twin time ``t`` on the components it covers (hidden underneath);
    returns a caption."""
    from twinviewer.core.colour import COLORMAPS

    frame = sim.frame(t)
    lo, hi = sim.data_range()
    model = session.model
    title = sim.field + (f" [{sim.unit}]" if sim.unit else "")
    table = COLORMAPS[sim.cfg.colormap]
    arrows = sim.glyphs(t)
    if arrows is not None:
        scene.set_glyphs(sim.cfg.name, *arrows)
    if sim.cfg.show in ("mesh", "both"):
        pts, tris, values = sim.mesh_frame(t)
        scene.set_overlay(
            f"{sim.cfg.name}:mesh", pts, tris, values, table, lo, hi, title, sim.cfg.opacity
        )
        if sim.cfg.show == "mesh":
            return _overlay_caption(sim, frame, title)
    scene.set_overlay(
        sim.cfg.name,
        sim.warped_vertices(model.points[sim.vertices].astype(np.float64), t),
        sim.triangles,
        frame.values,
        table,
        lo,
        hi,
        title if sim.cfg.show == "surface" else None,
        sim.cfg.opacity,
    )
    if sim.cfg.opacity >= 1.0:  # the overlay is drawn over these components: hide the twin's
        hidden = scene.hidden.copy()
        hidden[np.unique(model.cell_component[sim.triangle_mask])] = True
        scene.set_hidden(hidden)
    return _overlay_caption(sim, frame, title)


def _overlay_caption(sim: SimOverlay, frame: OverlayFrame, title: str) -> str:
    i, j, w = frame.steps
    step = f"step {i + 1}" if w == 0 or i == j else f"steps {i + 1}-{j + 1} ({w:.2f})"
    return f"overlay {sim.cfg.name}: {title} at simulation time {frame.sim_time:g} s ({step})"


def apply_view(scene: TwinScene, session: TwinSession, view: str | Camera | None) -> None:
    """Point the camera: a saved view by name, a standard view (``iso``, ``top``...), a camera
    (position, focal point, up), or the project's first saved view (``None``)."""
    saved = {v.name: v for v in session.project.views}
    if view is not None and not isinstance(view, str):
        scene.set_camera(*view)
    elif view is None:
        if session.project.views:
            v = session.project.views[0]
            scene.set_camera(v.position, v.focal_point, v.up)
        else:
            scene.standard_view("iso")
    elif view in saved:
        v = saved[view]
        scene.set_camera(v.position, v.focal_point, v.up)
    else:
        try:
            scene.standard_view(view)
        except ValueError:
            names = ", ".join([*saved, "iso", "top", "front", "..."])
            raise ValueError(f"unknown view {view!r}; expected one of {names}") from None


def _stats_line(session: TwinSession) -> str:
    counts = np.bincount(session.sensor_state, minlength=6)
    from twinviewer.core.colour import STATUS_LABELS, Status

    parts = [
        f"{counts[s]} {STATUS_LABELS[s]}"
        for s in (Status.ALARM, Status.WARNING, Status.STALE, Status.NORMAL, Status.NO_DATA)
        if counts[s]
    ]
    sensors = f"{len(session.sensors)} sensors" + (f": {', '.join(parts)}" if parts else "")
    m = session.model
    return f"{m.n_components} components, {m.n_triangles:,} triangles, {sensors}"
