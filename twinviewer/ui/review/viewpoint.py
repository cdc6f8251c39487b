"""What the window shows, as a review :class:`~twinviewer.review.Viewpoint`, and back.

:func:`capture` reads the camera of the 3D view, the selection and the hidden components, the
section plane, the overlay shown, the colouring and the timeline's time; :func:`restore` puts
them back in the workbench (the features that own each piece redraw it) and moves the timeline
to the issue's moment. What cannot come back (an overlay or a quantity this project no longer
has, a component id the model lost) is reported, not guessed.

The review stores component *ids* (they survive a re-export that reorders parts), the window
works with component *indices*: ``TwinSession.component_ids`` and ``component_indices`` convert.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QImage

from twinviewer.render.pins import component_centre
from twinviewer.review import Camera, ClipPlane, Issue, Viewpoint

if TYPE_CHECKING:
    from twinviewer.session import TwinSession
    from twinviewer.ui.main_window import QtMainWindow
    from twinviewer.ui.view3d import QtView3D

SNAPSHOT_WIDTH = 1280  # px: larger views are scaled down (a review folder stays small)
STATUS_MODE = "status"
HEALTH_MODE = "health"
RESIDUAL_MODE = "residual"
DIFFERENCE_MODE = "difference"
QUANTITY_MODE = "quantity:"


Vec3 = tuple[float, float, float]


def issue_anchor(
    session: TwinSession, issue: Issue, centres: dict[str, Vec3 | None] | None = None
) -> Vec3 | None:
    """Where an issue's pin stands: its point, else its component's centre, else None.
    ``centres`` caches the centres by component id (a scan of the model's triangles each)."""
    if issue.point is not None:
        return issue.point
    cid = issue.component
    if cid is None:
        return None
    if centres is not None and cid in centres:
        return centres[cid]
    nodes, _ = session.component_indices([cid])
    below: list[int] = []
    for n in nodes:
        below.extend(session.model.subtree(n))
    centre = component_centre(session.model, below)
    at = None if centre is None else (float(centre[0]), float(centre[1]), float(centre[2]))
    if centres is not None:
        centres[cid] = at
    return at


def shown_values(session: TwinSession, component: int) -> dict[str, float]:
    """The values of a component's sensors as the window shows them now (finite ones)."""
    out: dict[str, float] = {}
    for k in session.binding.sensors_of(component):
        v = float(session.shown_value[k])
        if math.isfinite(v):
            out[session.sensors[k].id] = v
    return out


# -- capture -------------------------------------------------------------------------------------
def capture_camera(view: QtView3D) -> Camera:
    cam = view.interactor.renderer.GetActiveCamera()
    return Camera(
        position=tuple(float(x) for x in cam.GetPosition()),
        focal_point=tuple(float(x) for x in cam.GetFocalPoint()),
        up=tuple(float(x) for x in cam.GetViewUp()),
        view_angle=float(cam.GetViewAngle()),
        parallel=bool(cam.GetParallelProjection()),
        parallel_scale=max(float(cam.GetParallelScale()), 1e-9),
    )


def colour_mode(host: QtMainWindow) -> str:
    """What colours the twin: ``status``, ``quantity:<name>``, ``health``, ``residual``,
    ``difference``."""
    wb = host.workbench
    if wb.comparison is not None and wb.comparison.mode == "difference":
        return DIFFERENCE_MODE
    if wb.residual and wb.current_overlay:
        return RESIDUAL_MODE
    if wb.health_colours:
        return HEALTH_MODE
    return f"{QUANTITY_MODE}{wb.active_quantity}" if wb.active_quantity else STATUS_MODE


def shown_overlay(host: QtMainWindow) -> str | None:
    """The overlay on the twin: the current one if it is shown, else the first one shown."""
    wb = host.workbench
    shown = [name for name, view in wb.overlays.items() if view.visible]
    if wb.current_overlay in shown:
        return wb.current_overlay
    return shown[0] if shown else None


def section_plane(host: QtMainWindow) -> ClipPlane | None:
    if not host.workbench.section:
        return None
    plane = getattr(host.features.get("section"), "plane", None)
    if plane is None:
        return None
    origin, normal = plane
    return ClipPlane(origin=tuple(origin), normal=tuple(normal))


def capture(host: QtMainWindow) -> Viewpoint:
    """The window's view now: camera, selection, hidden, section, overlay, colouring, time."""
    s = host.session
    assert s is not None
    wb = host.workbench
    tl = wb.timeline
    return Viewpoint(
        camera=capture_camera(host.view),
        selection=s.component_ids(wb.selection),
        hidden=s.component_ids(wb.hidden),
        section=section_plane(host),
        overlay=shown_overlay(host),
        colour_mode=colour_mode(host),
        time=None if tl.live else float(tl.current),
    )


def snapshot_png(view: QtView3D, hide: Sequence[Any] = ()) -> bytes:
    """The 3D view drawn now, as PNG bytes (at most :data:`SNAPSHOT_WIDTH` wide); the
    ``hide`` objects' ``set_visible`` is switched off meanwhile (the review's own pins)."""
    for h in hide:
        h.set_visible(False)
    try:
        view.render_now()
        img = np.ascontiguousarray(view.interactor.screenshot(None, return_img=True))
    finally:
        for h in hide:
            h.set_visible(True)
        view.request_render()
    height, width = img.shape[:2]
    fmt = QImage.Format.Format_RGBA8888 if img.shape[2] == 4 else QImage.Format.Format_RGB888
    image = QImage(img.data, width, height, img.strides[0], fmt)
    if width > SNAPSHOT_WIDTH:
        image = image.scaledToWidth(SNAPSHOT_WIDTH, Qt.TransformationMode.SmoothTransformation)
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buf, "PNG")  # type: ignore[call-overload]  # PySide6 takes a str here
    buf.close()
    return bytes(data.data())


# -- restore -------------------------------------------------------------------------------------
def restore_camera(view: QtView3D, camera: Camera) -> None:
    view.scene.set_camera(camera.position, camera.focal_point, camera.up)
    cam = view.interactor.renderer.GetActiveCamera()
    cam.SetViewAngle(camera.view_angle)
    cam.SetParallelProjection(camera.parallel)
    cam.SetParallelScale(camera.parallel_scale)
    view.interactor.renderer.ResetCameraClippingRange()
    view.request_render()


def restore(host: QtMainWindow, vp: Viewpoint | None, moment: float | None) -> list[str]:
    """Put the window back to ``vp`` (None: only the time) at the twin time ``moment`` (None:
    live, when the twin has a live source). Returns notes on what could not be restored."""
    s = host.session
    if s is None:
        return []
    notes: list[str] = []
    if vp is not None:
        wb = host.workbench
        n = s.model.n_components
        if vp.shown_only is not None:
            shown, unknown = s.component_indices(vp.shown_only)
            keep = np.zeros(n, bool)
            for i in shown:
                keep[s.model.subtree(i)] = True
            hidden = [int(i) for i in np.flatnonzero(~keep)]
        else:
            hidden, unknown = s.component_indices(vp.hidden)
        selection, unknown_sel = s.component_indices(vp.selection)
        unknown += unknown_sel
        if unknown:
            notes.append(f"not in this twin: {', '.join(sorted(set(unknown)))}")
        wb.hidden = tuple(hidden)
        wb.selection = tuple(selection)
        _restore_section(host, vp.section)
        notes += _restore_overlay(host, vp.overlay)
        notes += _restore_colouring(host, vp.colour_mode)
        restore_camera(host.view, vp.camera)
    _restore_time(host, moment)
    return notes


def _restore_section(host: QtMainWindow, section: ClipPlane | None) -> None:
    feature = host.features.get("section")
    place = getattr(feature, "place", None)
    if section is None:
        host.workbench.section = False
    elif place is not None:
        place(section.origin, section.normal)
    else:
        host.workbench.section = True


def _restore_overlay(host: QtMainWindow, overlay: str | None) -> list[str]:
    s = host.session
    feature = host.features.get("overlays")
    show = getattr(feature, "show_overlay", None)
    if s is None or show is None:
        return []
    wb = host.workbench
    for name, view in list(wb.overlays.items()):
        if view.visible and name != overlay:
            show(name, False)
    if overlay is None:
        return []
    if overlay not in {o.name for o in s.project.overlays}:
        return [f"overlay {overlay} is not in this project"]
    if show(overlay, True) is None:
        return [f"overlay {overlay} could not be shown"]
    wb.current_overlay = overlay
    return []


def _restore_colouring(host: QtMainWindow, mode: str | None) -> list[str]:
    s = host.session
    wb = host.workbench
    if s is None or mode is None or mode == DIFFERENCE_MODE:
        return []  # a difference needs its scenario run: the compared run is left as it is
    if mode == RESIDUAL_MODE:
        if wb.current_overlay:
            wb.health_colours = False
            wb.residual = True
        return []
    if mode == HEALTH_MODE:
        if s.prediction is None:
            return ["health colours need trained models, which this twin has not"]
        wb.residual = False
        wb.health_colours = True
        return []
    quantity = mode.removeprefix(QUANTITY_MODE) if mode.startswith(QUANTITY_MODE) else None
    if quantity is not None and quantity not in s.quantities():
        return [f"no sensor measures {quantity} any more"]
    wb.residual = False
    wb.health_colours = False
    wb.active_quantity = quantity
    return []


def _restore_time(host: QtMainWindow, moment: float | None) -> None:
    s = host.session
    tl = host.workbench.timeline
    if s is None or s.history is None:
        return
    player = getattr(host.features.get("timeline"), "player", None)
    if player is not None:
        player.pause()
    if moment is None:
        if s.sources:
            tl.go_live()
        return
    if moment > tl.end:
        tl.extend(moment)
    tl.live = False
    tl.current = moment
