"""Measurements drawn in 3D on any pyvista plotter: the window's view and the headless report.

:class:`MeasurementLayer` draws :class:`~twinviewer.review.Measurement` s as world-anchored
thin lines and small points with a screen-space label (name, value and unit; a distance also
its dX, dY, dZ), an arc for an angle and the outline for an area. It also draws what a tool is
in the middle of (the points picked so far) and the snap marker under the cursor.

Everything is drawn by a renderer of its own in a layer above the scene's, sharing its camera:

- the section plane cuts the scene's mappers only, so measurements stay whole when the model
  is cut, and a clearance inside a bore stays visible through the shaft around it;
- the live colours are untouched: lines are two pixels wide, labels small and translucent;
- the scene's picker only ever sees the scene's renderer, so annotations are never picked.

How values read (see :func:`value_text`): lengths and areas are stored in the unit the model
was measured in (``Measurement.unit``; areas in that unit squared), angles in degrees; any
length unit of :data:`~twinviewer.core.measure.UNITS` can be shown.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyvista as pv
import vtk
from numpy.typing import ArrayLike, NDArray

from twinviewer.core.measure import distance, format_area, format_length, format_location
from twinviewer.review import Measurement

log = logging.getLogger(__name__)

MEASURE_COLOUR = (1.0, 0.36, 0.86)  # magenta: no status colour and not the cyan selection
SELECTED_COLOUR = (1.0, 1.0, 1.0)
PENDING_COLOUR = (1.0, 0.72, 0.95)
SNAP_COLOUR = (1.0, 0.93, 0.25)  # drawn over a dark outline, so it reads on any colour
LABEL_BACKGROUND = (0.08, 0.09, 0.11)
SNAP_RADIUS_PX = 9.0
LABEL_OFFSET_PX = (9, 7)
ARC_SEGMENTS = 32


# -- what a measurement reads ---------------------------------------------------------------


def value_text(m: Measurement, unit: str | None = None) -> str:
    """A measurement's result as shown, lengths and areas in ``unit`` (None: its own unit)."""
    if m.kind == "angle":
        return f"{m.value:.2f}°"
    if m.kind == "area":
        return format_area(m.value, m.unit, unit)
    if m.kind == "point":
        return format_location(m.points[0], m.unit, unit)
    return format_length(m.value, m.unit, unit)


def components_text(m: Measurement, unit: str | None = None) -> str:
    """A distance's X, Y and Z components (``"dX 1 m  dY 0 m  dZ -0.5 m"``); else empty."""
    if m.kind != "distance":
        return ""
    d = distance(m.points[0], m.points[1])
    return "  ".join(
        f"d{axis} {format_length(v, m.unit, unit)}" for axis, v in zip("XYZ", d[1:], strict=True)
    )


def label_text(m: Measurement, unit: str | None = None) -> str:
    """The label drawn beside a measurement: its name and value, and a distance's components."""
    if m.kind == "point":
        return f"{m.name}\n{value_text(m, unit)}"
    text = f"{m.name}: {value_text(m, unit)}"
    extra = components_text(m, unit)
    return f"{text}\n{extra}" if extra else text


# -- geometry ---------------------------------------------------------------------------------


def arc_points(a: ArrayLike, vertex: ArrayLike, c: ArrayLike, radius: float) -> NDArray:
    """Points of the arc from arm ``vertex->a`` to arm ``vertex->c`` at ``radius``."""
    o = np.asarray(vertex, np.float64)
    u = np.asarray(a, np.float64) - o
    v = np.asarray(c, np.float64) - o
    u /= np.linalg.norm(u)
    v /= np.linalg.norm(v)
    theta = math.atan2(float(np.linalg.norm(np.cross(u, v))), float(np.dot(u, v)))
    w = v - np.dot(u, v) * u  # v's part perpendicular to u
    norm = float(np.linalg.norm(w))
    if norm < 1e-12:  # straight or folded back: any perpendicular will do
        w = np.cross(u, [1.0, 0.0, 0.0] if abs(u[0]) < 0.9 else [0.0, 1.0, 0.0])
        norm = float(np.linalg.norm(w))
    w /= norm
    t = np.linspace(0.0, theta, ARC_SEGMENTS + 1)[:, None]
    return o + radius * (np.cos(t) * u + np.sin(t) * w)


def shape(m: Measurement) -> tuple[list[NDArray], NDArray, NDArray]:
    """What a measurement draws: polylines (each a (k, 3) array; an area's is closed), its
    points, and where its label is anchored."""
    p = np.asarray(m.points, np.float64)
    if m.kind in ("distance", "clearance"):
        return [p], p, 0.5 * (p[0] + p[1])
    if m.kind == "angle":
        a, o, c = p
        radius = 0.3 * min(float(np.linalg.norm(a - o)), float(np.linalg.norm(c - o)))
        lines = [np.stack([a, o, c])]
        if radius > 0:
            arc = arc_points(a, o, c, radius)
            lines.append(arc)
            return lines, p, arc[len(arc) // 2]
        return lines, p, o
    if m.kind == "area":
        return [np.concatenate([p, p[:1]])], p[:0], p.mean(axis=0)
    return [], p, p[0]


def _polydata(lines: Sequence[NDArray], points: NDArray) -> pv.PolyData:
    """One polydata of polylines and vertex cells (either may be empty)."""
    chunks = [np.asarray(line, np.float64) for line in lines if len(line) >= 2]
    pts = np.concatenate([*chunks, np.asarray(points, np.float64).reshape(-1, 3)])
    mesh = pv.PolyData(pts if len(pts) else np.zeros((0, 3)))
    cells: list[int] = []
    start = 0
    for chunk in chunks:
        cells += [len(chunk), *range(start, start + len(chunk))]
        start += len(chunk)
    if cells:
        mesh.lines = np.asarray(cells, np.int64)
    n = len(points)
    if n:
        verts = np.empty((n, 2), np.int64)
        verts[:, 0] = 1
        verts[:, 1] = np.arange(start, start + n)
        mesh.verts = verts.ravel()
    return mesh


def world_per_pixel(renderer: vtk.vtkRenderer, point: ArrayLike) -> float:
    """How long one pixel of the display is at ``point``'s depth (world units)."""
    p = np.asarray(point, np.float64)
    renderer.SetWorldPoint(*p, 1.0)
    renderer.WorldToDisplay()
    x, y, z = renderer.GetDisplayPoint()
    renderer.SetDisplayPoint(x + 10.0, y, z)
    renderer.DisplayToWorld()
    w = np.asarray(renderer.GetWorldPoint(), np.float64)
    if w[3] == 0:
        return 0.0
    return float(np.linalg.norm(w[:3] / w[3] - p)) / 10.0


def _snap_glyph(kind: str, r: float = SNAP_RADIUS_PX) -> NDArray:
    """The marker of a snap kind as a closed outline in pixels around the point, as CAD tools
    draw them: a square on a vertex, a triangle on an edge midpoint, a diamond on an edge, a
    circle on a surface."""
    if kind == "vertex":
        pts = [(-r, -r), (r, -r), (r, r), (-r, r)]
    elif kind == "edge_midpoint":
        pts = [(-r, -0.75 * r), (r, -0.75 * r), (0.0, 0.95 * r)]
    elif kind == "edge":
        pts = [(0.0, -r), (r, 0.0), (0.0, r), (-r, 0.0)]
    else:
        t = np.linspace(0, 2 * np.pi, 24, endpoint=False)
        pts = list(zip(r * np.cos(t), r * np.sin(t), strict=True))
    return np.array([(x, y, 0.0) for x, y in pts], np.float64)


# -- the layer --------------------------------------------------------------------------------


class MeasurementLayer:
    """Measurements, the tool's picks so far and the snap marker over a plotter's scene.

    It never renders: the owner draws (the window coalesces renders, a report renders once).
    """

    def __init__(self, plotter: Any, font_size: int = 12) -> None:
        self.plotter = plotter
        self.font_size = font_size
        main: vtk.vtkRenderer = plotter.renderer
        window = main.GetRenderWindow()
        if window is None:
            raise ValueError("the plotter's renderer has no render window yet")
        self._main = main
        self._window = window
        self.renderer = vtk.vtkRenderer()
        layer = window.GetNumberOfLayers()
        window.SetNumberOfLayers(layer + 1)
        self.renderer.SetLayer(layer)
        self.renderer.SetInteractive(False)
        self.renderer.SetViewport(main.GetViewport())
        self.renderer.SetActiveCamera(main.GetActiveCamera())
        window.AddRenderer(self.renderer)
        # a view may be handed another camera (a scenario beside the twin shares one)
        self._observer = main.AddObserver("StartEvent", self._follow_camera)
        self.renderer.AddObserver("StartEvent", self._layout_labels)
        self.measurements: list[Measurement] = []
        self.unit: str | None = None
        self.selected: str | None = None
        self.labels: dict[str, vtk.vtkTextActor] = {}
        self._actors: list[vtk.vtkProp] = []
        self._pending: list[vtk.vtkProp] = []
        self._snap: list[vtk.vtkActor2D] = []
        self.snap_kind: str | None = None

    def _follow_camera(self, *_: object) -> None:
        camera = self._main.GetActiveCamera()
        if self.renderer.GetActiveCamera() is not camera:
            self.renderer.SetActiveCamera(camera)
        self.renderer.SetViewport(self._main.GetViewport())

    def _layout_labels(self, *_: object) -> None:
        """Before each draw: every label beside its point, turned inward at the view's edges,
        and moved up past the labels already placed so that none covers another."""
        width, height = self.renderer.GetSize()
        actors = [
            *self.labels.values(),
            *(a for a in self._pending if isinstance(a, vtk.vtkTextActor)),
        ]
        placed: list[tuple[float, float, float, float]] = []
        box = [0.0, 0.0, 0.0, 0.0]
        gap_x, gap_y = LABEL_OFFSET_PX
        for actor in actors:
            ref = actor.GetPositionCoordinate().GetReferenceCoordinate()
            if ref is None:
                continue
            x, y = ref.GetComputedDoubleDisplayValue(self.renderer)
            actor.GetBoundingBox(self.renderer, box)
            w, h = box[1] - box[0], box[3] - box[2]
            left = x + gap_x if x + gap_x + w <= width else x - gap_x - w
            bottom = y + gap_y if y + gap_y + h <= height else y - gap_y - h
            for _attempt in range(len(placed)):
                hit = next(
                    (p for p in placed
                     if left < p[0] + p[2] and p[0] < left + w
                     and bottom < p[1] + p[3] and p[1] < bottom + h),
                    None,
                )  # fmt: skip
                if hit is None:
                    break
                bottom = hit[1] + hit[3] + 2
            placed.append((left, bottom, w, h))
            actor.GetPositionCoordinate().SetValue(left - x, bottom - y)

    # -- measurements ---------------------------------------------------------------------------
    def set_measurements(
        self, measurements: Sequence[Measurement], unit: str | None = None
    ) -> None:
        """Draw these measurements (replacing those drawn), lengths in ``unit`` (None: each
        measurement's own)."""
        self.measurements = list(measurements)
        self.unit = unit
        self._rebuild()

    def set_unit(self, unit: str | None) -> None:
        """Show every label in another unit."""
        self.unit = unit
        for m in self.measurements:
            label = self.labels.get(m.id)
            if label is not None:
                label.SetInput(label_text(m, unit))

    def select(self, measurement_id: str | None) -> None:
        """Draw one measurement in white and a little thicker (the row chosen in a list)."""
        if measurement_id != self.selected:
            self.selected = measurement_id
            self._rebuild()

    def _rebuild(self) -> None:
        for actor in self._actors:
            self.renderer.RemoveViewProp(actor)
        self._actors = []
        self.labels = {}
        ids = {m.id for m in self.measurements}
        if self.selected not in ids:
            self.selected = None
        for chosen in (False, True):
            group = [m for m in self.measurements if (m.id == self.selected) == chosen]
            lines: list[NDArray] = []
            points: list[NDArray] = []
            for m in group:
                m_lines, m_points, anchor = shape(m)
                lines += m_lines
                points.append(m_points)
                self._add_label(m, anchor, chosen)
            if group:
                colour = SELECTED_COLOUR if chosen else MEASURE_COLOUR
                mesh = _polydata(lines, np.concatenate(points) if points else np.zeros((0, 3)))
                self._add_geometry(mesh, colour, 3.0 if chosen else 2.0, self._actors)

    def _add_geometry(
        self, mesh: pv.PolyData, colour: tuple[float, float, float], width: float, into: list
    ) -> None:
        if mesh.n_points == 0:
            return
        mapper = vtk.vtkPolyDataMapper()
        mapper.SetInputData(mesh)
        mapper.ScalarVisibilityOff()
        actor = vtk.vtkActor()
        actor.SetMapper(mapper)
        actor.SetPickable(False)
        prop = actor.GetProperty()
        prop.SetColor(*colour)
        prop.SetLineWidth(width)
        prop.SetPointSize(2.5 * width + 2)
        prop.SetRenderPointsAsSpheres(True)
        prop.LightingOff()
        self.renderer.AddViewProp(actor)
        into.append(actor)

    def _add_label(self, m: Measurement, anchor: NDArray, chosen: bool) -> None:
        actor = self._text_actor(anchor, SELECTED_COLOUR if chosen else MEASURE_COLOUR)
        actor.SetInput(label_text(m, self.unit))
        self.renderer.AddViewProp(actor)
        self._actors.append(actor)
        self.labels[m.id] = actor

    def _text_actor(self, anchor: ArrayLike, frame: tuple[float, float, float]) -> vtk.vtkTextActor:
        """A small label whose lower left corner sits a few pixels beside a world point."""
        actor = vtk.vtkTextActor()
        actor.SetPickable(False)
        prop = actor.GetTextProperty()
        prop.SetFontFamilyToArial()
        prop.SetFontSize(self.font_size)
        prop.SetColor(0.97, 0.97, 0.97)
        prop.SetBackgroundColor(*LABEL_BACKGROUND)
        prop.SetBackgroundOpacity(0.72)
        prop.SetFrame(True)
        prop.SetFrameColor(*frame)
        prop.SetFrameWidth(1)
        prop.SetJustificationToLeft()
        prop.SetVerticalJustificationToBottom()
        _anchor(actor, anchor, LABEL_OFFSET_PX)
        return actor

    # -- a tool at work ---------------------------------------------------------------------------
    def set_pending(
        self, points: Sequence[ArrayLike], closed: bool = False, text: str = ""
    ) -> None:
        """The points a tool has picked so far, joined in order (and closed for a polygon),
        with an optional label at the last one; no points clears it."""
        for actor in self._pending:
            self.renderer.RemoveViewProp(actor)
        self._pending = []
        if not len(points):
            return
        p = np.asarray(points, np.float64).reshape(-1, 3)
        line = np.concatenate([p, p[:1]]) if closed and len(p) > 2 else p
        self._add_geometry(_polydata([line], p), PENDING_COLOUR, 2.0, self._pending)
        if text:
            actor = self._text_actor(p[-1], PENDING_COLOUR)
            actor.SetInput(text)
            self.renderer.AddViewProp(actor)
            self._pending.append(actor)

    def show_snap(self, point: ArrayLike, kind: str) -> None:
        """The magnified snap marker at ``point``: its shape tells the kind (see
        :func:`_snap_glyph`), its yellow over a dark outline reads on any live colour."""
        if not self._snap or kind != self.snap_kind:
            self.hide_snap()
            glyph = _snap_glyph(kind)
            outline = pv.PolyData(glyph)
            outline.lines = np.array([len(glyph) + 1, *range(len(glyph)), 0], np.int64)
            dot = pv.PolyData(np.zeros((1, 3)))
            dot.verts = np.array([1, 0], np.int64)
            for mesh, colour, width in (
                (outline, (0.0, 0.0, 0.0), 4.5),
                (outline, SNAP_COLOUR, 2.0),
                (dot, SNAP_COLOUR, 4.0),
            ):
                mapper = vtk.vtkPolyDataMapper2D()
                mapper.SetInputData(mesh)
                mapper.ScalarVisibilityOff()
                actor = vtk.vtkActor2D()
                actor.SetMapper(mapper)
                actor.SetPickable(False)
                prop = actor.GetProperty()
                prop.SetColor(*colour)
                prop.SetLineWidth(width)
                prop.SetPointSize(width)
                self.renderer.AddViewProp(actor)
                self._snap.append(actor)
            self.snap_kind = kind
        for actor in self._snap:
            _anchor(actor, point, (0, 0))
            actor.SetVisibility(True)

    def hide_snap(self) -> None:
        for actor in self._snap:
            self.renderer.RemoveViewProp(actor)
        self._snap = []
        self.snap_kind = None

    @property
    def snap_shown(self) -> bool:
        return bool(self._snap)

    # -- the end ----------------------------------------------------------------------------------
    def clear(self) -> None:
        """Nothing drawn: no measurement, no pending picks, no snap marker."""
        self.set_pending([])
        self.hide_snap()
        self.set_measurements([])

    def close(self) -> None:
        """Take the layer off the plotter."""
        self.clear()
        self._main.RemoveObserver(self._observer)
        self._window.RemoveRenderer(self.renderer)


def _anchor(actor: vtk.vtkActor2D, point: ArrayLike, offset: tuple[float, float]) -> None:
    """Put a 2D actor ``offset`` pixels from a world point (it follows the camera)."""
    ref = vtk.vtkCoordinate()
    ref.SetCoordinateSystemToWorld()
    ref.SetValue(*(float(v) for v in np.asarray(point, np.float64)))
    coord = actor.GetPositionCoordinate()
    coord.SetCoordinateSystemToDisplay()
    coord.SetReferenceCoordinate(ref)
    coord.SetValue(float(offset[0]), float(offset[1]))
