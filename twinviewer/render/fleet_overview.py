"""The fleet overview: N copies of the twin's model side by side, each coloured by its unit's state.

All units are drawn by **one** ``vtkGlyph3DMapper`` (real instancing: one copy of the geometry on
the GPU, one draw call with per-instance position, orientation and colour), never by N actors.
Per unit the mapper's input carries a point (the unit's translation), a quaternion (its rotation)
and an RGBA colour (its state). Recolouring is a write into that (N, 4) array.

A 50k-triangle model times 100 units is 5M triangles: ~0.5 s per frame under llvmpipe
(PERFORMANCE-NOTES.md). So each instance draws a decimated stand-in of the model, sized so that
the whole fleet stays within :data:`REST_TRIANGLES` at rest and :data:`MOVE_TRIANGLES` while the
camera moves (:meth:`FleetOverview.begin_interaction`); a small fleet of a small model draws the
model itself. Stand-ins are made once per model and size (``vtkQuadricDecimation`` of the model
with coincident points merged; sizes are powers of two, so a fleet that grows by discovery makes
a new one only when it doubles).

Unit labels are one label-placement actor (labels that would overlap are left out until the
camera comes closer); a legend box keys the state colours; a clicked unit is found by casting the
pixel's ray through each unit's box and then its stand-in (:meth:`FleetOverview.pick`).

The palette (:data:`STATE_COLOURS`) is the Okabe-Ito colour-blind-safe set in the NAMUR NE 107
order: normal bluish green, maintenance required blue, check function orange, out of
specification yellow, failure vermillion (NE 107's own symbols are blue, orange, yellow and
red); grey is for a unit the overview has no state for. Each pair differs in
lightness as well as hue, so it reads under deuteranopia and protanopia too.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pyvista as pv
import vtk
from numpy.typing import NDArray
from vtk.util.numpy_support import vtk_to_numpy

from twinviewer.core.fleet import HEALTH_RGBA, NO_DATA_RGBA
from twinviewer.core.model import ModelData
from twinviewer.render.colourbars import make_status_legend

log = logging.getLogger(__name__)

__all__ = [
    "MOVE_TRIANGLES",
    "NE107_STATES",
    "NO_DATA",
    "REST_TRIANGLES",
    "STATE_COLOURS",
    "HEALTH_TABLE",
    "FleetOverview",
    "health_colours",
    "model_mesh",
    "quaternions",
    "stand_in",
    "state_colours",
    "state_legend",
]

#: NAMUR NE 107 states, least to most urgent, in the order of :class:`twinviewer.core.fleet.Health`
#: (a unit's health ``h`` is ``NE107_STATES[h]`` and is drawn in ``HEALTH_TABLE[h]``).
NE107_STATES = (
    "normal",
    "maintenance required",
    "check function",
    "out of specification",
    "failure",
)
NO_DATA = "no data"
#: RGBA uint8 per state (Okabe-Ito; see the module docstring).
STATE_COLOURS: dict[str, NDArray[np.uint8]] = {
    **{s: HEALTH_RGBA[h] for h, s in enumerate(NE107_STATES)},
    NO_DATA: NO_DATA_RGBA,
}
#: (5, 4) RGBA indexed by NE 107 state number (:data:`NE107_STATES`).
HEALTH_TABLE = np.stack([STATE_COLOURS[s] for s in NE107_STATES])
HIGHLIGHT_COLOUR = (0.2, 0.9, 1.0)  # the twin's selection colour: no state uses it
#: Triangles of the whole fleet drawn at rest, and while the camera moves (llvmpipe ~10M/s).
REST_TRIANGLES = 500_000
MOVE_TRIANGLES = 60_000
#: A stand-in never has fewer triangles than this (below it a unit stops looking like itself).
MIN_STAND_IN = 400
LEGEND_WIDTH, LEGEND_ROW = 170, 19  # pixels


def quaternions(transforms: NDArray[np.float64]) -> NDArray[np.float64]:
    """(w, x, y, z) unit quaternions of the rotation parts of (N, 4, 4) rigid transforms.

    ``ValueError`` when a transform scales or shears (the overview places units rigidly)."""
    r = np.asarray(transforms, np.float64)[:, :3, :3]
    should = np.broadcast_to(np.eye(3), r.shape)
    if len(r) and not np.allclose(np.einsum("nji,njk->nik", r, r), should, atol=1e-6):
        raise ValueError("fleet unit transforms must be rigid (rotation + translation only)")
    q = np.empty((len(r), 4))
    for k, m in enumerate(r):  # Shepperd's method: the largest diagonal term first
        tr = m[0, 0] + m[1, 1] + m[2, 2]
        if tr > 0:
            s = 2.0 * np.sqrt(tr + 1.0)
            q[k] = (
                0.25 * s,
                (m[2, 1] - m[1, 2]) / s,
                (m[0, 2] - m[2, 0]) / s,
                (m[1, 0] - m[0, 1]) / s,
            )
        elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
            s = 2.0 * np.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
            q[k] = (
                (m[2, 1] - m[1, 2]) / s,
                0.25 * s,
                (m[0, 1] + m[1, 0]) / s,
                (m[0, 2] + m[2, 0]) / s,
            )
        elif m[1, 1] > m[2, 2]:
            s = 2.0 * np.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
            q[k] = (
                (m[0, 2] - m[2, 0]) / s,
                (m[0, 1] + m[1, 0]) / s,
                0.25 * s,
                (m[1, 2] + m[2, 1]) / s,
            )
        else:
            s = 2.0 * np.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
            q[k] = (
                (m[1, 0] - m[0, 1]) / s,
                (m[0, 2] + m[2, 0]) / s,
                (m[1, 2] + m[2, 1]) / s,
                0.25 * s,
            )
    return q


def model_mesh(model: ModelData) -> pv.PolyData:
    """The model's triangles as one mesh (its own points, no cell data)."""
    faces = np.empty((model.n_triangles, 4), np.int64)
    faces[:, 0] = 3
    faces[:, 1:] = model.triangles
    return pv.PolyData(np.asarray(model.points, np.float32), faces=faces.ravel())


def stand_in(mesh: pv.PolyData, triangles: int) -> pv.PolyData:
    """``mesh`` decimated to about ``triangles`` triangles (``mesh`` itself when it has no more)."""
    if mesh.n_cells <= triangles:
        return mesh
    merged = mesh.clean(tolerance=1e-6, absolute=False)
    decimate = vtk.vtkQuadricDecimation()
    decimate.SetInputData(merged)
    decimate.SetTargetReduction(1.0 - triangles / merged.n_cells)
    decimate.Update()
    out = pv.wrap(decimate.GetOutput())
    return out if out.n_cells > 0 else mesh


class FleetOverview:
    """The units of a fleet drawn side by side on one renderer, one instance each.

    It draws on the ``vtkRenderer`` it is given (the overview's own layer in the app, a
    ``pyvista.Plotter``'s renderer in tests and benchmarks) and never renders by itself.
    """

    def __init__(self, renderer: vtk.vtkRenderer) -> None:
        self.renderer = renderer
        self.model: ModelData | None = None
        self.labels: list[str] = []
        self.interacting = False
        self._full: pv.PolyData | None = None
        self._cache: dict[int, pv.PolyData] = {}  # stand-ins by their triangle budget
        self._rest: pv.PolyData | None = None
        self._move: pv.PolyData | None = None
        self._units = pv.PolyData()
        self._transforms = np.zeros((0, 4, 4))
        self._inverse = np.zeros((0, 4, 4))
        self._mapper = vtk.vtkGlyph3DMapper()
        self._actor = vtk.vtkActor()
        self._actor.SetMapper(self._mapper)
        prop = self._actor.GetProperty()
        prop.SetAmbient(0.3)
        prop.SetDiffuse(0.7)
        prop.SetSpecular(0.05)
        self._label_points = pv.PolyData()
        self._label_actor: vtk.vtkActor2D | None = None
        self._highlight: vtk.vtkActor | None = None
        self._legend: vtk.vtkLegendBoxActor | None = None
        self._caption: vtk.vtkTextActor | None = None
        self._locator: vtk.vtkCellLocator | None = None
        self._highlighted: int | None = None

    # -- content -------------------------------------------------------------------------------
    def show(
        self,
        model: ModelData,
        transforms: NDArray[np.float64],
        labels: Sequence[str],
        anchors: NDArray[np.float64] | None = None,
        colours: NDArray[np.uint8] | None = None,
    ) -> None:
        """Draw ``len(transforms)`` units of ``model``: unit ``i`` through ``transforms[i]``
        (rigid 4x4), labelled ``labels[i]`` at ``anchors[i]`` (no labels when ``None``),
        coloured ``colours[i]`` (RGBA uint8; the no-data grey when ``None``)."""
        n = len(transforms)
        if len(labels) != n:
            raise ValueError(f"fleet overview: {len(labels)} labels for {n} units")
        if model is not self.model:
            self._cache = {}
            self._full = model_mesh(model)
        self.model = model
        self.labels = list(labels)
        assert self._full is not None
        self._rest = self._stand_in(REST_TRIANGLES, n)
        self._move = self._stand_in(MOVE_TRIANGLES, n)
        self._locator = None
        units = pv.PolyData(np.zeros((n, 3)))
        units.point_data["rgba"] = np.tile(STATE_COLOURS[NO_DATA], (n, 1))
        units.point_data["orientation"] = np.tile([1.0, 0.0, 0.0, 0.0], (n, 1))
        units.point_data["unit"] = np.arange(n, dtype=np.int32)
        self._units = units
        self._mapper = vtk.vtkGlyph3DMapper()
        self._mapper.SetInputData(units)
        self._mapper.SetSourceData(self._rest)
        self._mapper.SetOrientationModeToQuaternion()
        self._mapper.SetOrientationArray("orientation")
        self._mapper.OrientOn()
        self._mapper.ScalingOff()
        self._mapper.SetScalarModeToUsePointFieldData()
        self._mapper.SelectColorArray("rgba")
        self._mapper.SetColorModeToDirectScalars()
        self._mapper.ScalarVisibilityOn()
        self._actor.SetMapper(self._mapper)
        self.set_transforms(transforms, anchors)
        if colours is not None:
            self.set_colours(colours)
        if not self.renderer.HasViewProp(self._actor):
            self.renderer.AddActor(self._actor)
        self.interacting = False
        self.highlight(None)

    def _stand_in(self, budget: int, n: int) -> pv.PolyData:
        assert self._full is not None
        # a power of two: units discovered one by one reuse the stand-in until the fleet doubles
        share = max(MIN_STAND_IN, budget // max(n, 1))
        target = 1 << (share.bit_length() - 1)
        if self._full.n_cells <= target:
            return self._full
        if target not in self._cache:
            self._cache[target] = stand_in(self._full, target)
        return self._cache[target]

    def set_transforms(
        self, transforms: NDArray[np.float64], anchors: NDArray[np.float64] | None = None
    ) -> None:
        """Move the units (same number): one write into the instances' arrays."""
        t = np.asarray(transforms, np.float64)
        if t.shape != (self._units.n_points, 4, 4):
            raise ValueError(
                f"fleet overview: transforms of shape {t.shape}, expected "
                f"({self._units.n_points}, 4, 4)"
            )
        self._units.point_data["orientation"] = quaternions(t)
        self._units.points = t[:, :3, 3].copy()
        self._transforms = t.copy()
        self._inverse = np.asarray(np.linalg.inv(t) if len(t) else t.copy(), np.float64)
        self._units.Modified()
        self._set_labels(anchors)
        if self._highlighted is not None:
            self.highlight(self._highlighted)

    def set_colours(self, rgba: NDArray[np.uint8]) -> None:
        """One RGBA colour per unit (e.g. :func:`state_colours`)."""
        arr = self._units.point_data["rgba"]
        arr[:] = np.asarray(rgba, np.uint8)[: len(arr)]
        self._units.point_data.GetArray("rgba").Modified()
        self._units.Modified()

    @property
    def colours(self) -> NDArray[np.uint8]:
        """The (N, 4) RGBA the instances are drawn with (the mapper's own array)."""
        return vtk_to_numpy(self._mapper.GetInput().GetPointData().GetArray("rgba"))

    @property
    def transforms(self) -> NDArray[np.float64]:
        return self._transforms

    @property
    def n_units(self) -> int:
        return int(self._units.n_points)

    @property
    def mapper(self) -> vtk.vtkGlyph3DMapper:
        return self._mapper

    @property
    def actor(self) -> vtk.vtkActor:
        return self._actor

    @property
    def triangles_per_unit(self) -> int:
        """Triangles each instance draws now (the stand-in in use)."""
        source = self._mapper.GetSource()
        return int(source.GetNumberOfCells()) if source is not None else 0

    @property
    def full_triangles(self) -> int:
        return int(self._full.n_cells) if self._full is not None else 0

    def clear(self) -> None:
        """Remove every actor of the overview from its renderer."""
        for prop in (self._actor, self._label_actor, self._highlight, self._legend, self._caption):
            if prop is not None and self.renderer.HasViewProp(prop):
                self.renderer.RemoveViewProp(prop)
        self._label_actor = self._highlight = self._legend = self._caption = None
        self._highlighted = None

    # -- labels, legend, caption, highlight --------------------------------------------------------
    def _set_labels(self, anchors: NDArray[np.float64] | None) -> None:
        if self._label_actor is not None:
            self.renderer.RemoveViewProp(self._label_actor)
            self._label_actor = None
        if anchors is None or not len(anchors):
            return
        points = pv.PolyData(np.asarray(anchors, np.float64))
        text = vtk.vtkStringArray()
        text.SetName("label")
        for label in self.labels:
            text.InsertNextValue(label)
        points.GetPointData().AddArray(text)
        self._label_points = points
        hierarchy = vtk.vtkPointSetToLabelHierarchy()
        hierarchy.SetInputData(points)
        hierarchy.SetLabelArrayName("label")
        prop = hierarchy.GetTextProperty()
        prop.SetFontSize(13)
        prop.SetColor(0.95, 0.95, 0.95)
        prop.SetJustificationToCentered()
        prop.SetVerticalJustificationToBottom()
        prop.ShadowOff()
        mapper = vtk.vtkLabelPlacementMapper()
        mapper.SetInputConnection(hierarchy.GetOutputPort())
        mapper.SetShapeToRoundedRect()
        mapper.SetStyleToFilled()
        mapper.SetBackgroundColor(0.12, 0.13, 0.15)
        mapper.SetBackgroundOpacity(0.75)
        mapper.SetMargin(3)
        actor = vtk.vtkActor2D()
        actor.SetMapper(mapper)
        self.renderer.AddViewProp(actor)
        self._label_actor = actor

    def set_legend(self, entries: Sequence[tuple[str, NDArray[np.uint8]]]) -> None:
        """A key of the state colours, bottom right (empty: none)."""
        if self._legend is not None:
            self.renderer.RemoveViewProp(self._legend)
            self._legend = None
        if entries:
            # the twin's key, but a fixed size in pixels from the bottom right corner: NE 107's
            # names are long, and a box scaled with the view shrinks them past reading
            legend = make_status_legend(entries)
            corner = vtk.vtkCoordinate()
            corner.SetCoordinateSystemToNormalizedViewport()
            corner.SetValue(1.0, 0.0)
            width, height = LEGEND_WIDTH, LEGEND_ROW * len(entries)
            pos = legend.GetPositionCoordinate()
            pos.SetCoordinateSystemToViewport()
            pos.SetReferenceCoordinate(corner)
            pos.SetValue(-width - 10, 10)
            size = legend.GetPosition2Coordinate()  # relative to the position
            size.SetCoordinateSystemToViewport()
            size.SetValue(width, height)
            self._legend = legend
            self.renderer.AddViewProp(legend)

    def set_caption(self, text: str) -> None:
        """A title in the top left corner (empty: none)."""
        if self._caption is None and text:
            actor = vtk.vtkTextActor()
            prop = actor.GetTextProperty()
            prop.SetFontSize(14)
            prop.SetColor(0.92, 0.92, 0.92)
            prop.SetVerticalJustificationToTop()
            coord = actor.GetPositionCoordinate()
            coord.SetCoordinateSystemToNormalizedViewport()
            coord.SetValue(0.01, 0.985)
            self.renderer.AddViewProp(actor)
            self._caption = actor
        if self._caption is not None:
            self._caption.SetInput(text)
            self._caption.SetVisibility(bool(text))

    def highlight(self, unit: int | None) -> None:
        """Outline one unit's box in the selection colour (``None``: no outline)."""
        if self._highlight is not None:
            self.renderer.RemoveViewProp(self._highlight)
            self._highlight = None
        self._highlighted = None
        if unit is None or self._full is None or not 0 <= unit < self.n_units:
            return
        box = vtk.vtkOutlineSource()
        b = np.asarray(self._full.bounds, np.float64)
        pad = 0.03 * np.maximum(b[1::2] - b[::2], 1e-9)
        box.SetBounds(*np.ravel(np.stack([b[::2] - pad, b[1::2] + pad], 1)))
        mapper = vtk.vtkPolyDataMapper()
        mapper.SetInputConnection(box.GetOutputPort())
        actor = vtk.vtkActor()
        actor.SetMapper(mapper)
        actor.PickableOff()
        prop = actor.GetProperty()
        prop.SetColor(*HIGHLIGHT_COLOUR)
        prop.SetLineWidth(3)
        prop.LightingOff()
        matrix = vtk.vtkMatrix4x4()
        for i in range(4):
            for j in range(4):
                matrix.SetElement(i, j, float(self._transforms[unit, i, j]))
        actor.SetUserMatrix(matrix)
        self.renderer.AddActor(actor)
        self._highlight = actor
        self._highlighted = int(unit)

    @property
    def highlighted(self) -> int | None:
        return self._highlighted

    # -- camera moves --------------------------------------------------------------------------
    def begin_interaction(self) -> None:
        """While the camera moves, every instance draws the coarse stand-in."""
        if self._move is not None and not self.interacting:
            self.interacting = True
            self._mapper.SetSourceData(self._move)

    def end_interaction(self) -> None:
        if self.interacting and self._rest is not None:
            self.interacting = False
            self._mapper.SetSourceData(self._rest)

    def fit(self, direction: Sequence[float] | None = None, row_axis: int = 1) -> None:
        """Look at the whole fleet from ``direction`` (Z up); by default from across the row
        (``row_axis``: 0 x, 1 y), a little along it and from above, as one looks along the
        noses of locomotives standing in a depot."""
        if direction is None:
            direction = (1.0, -0.4, 0.75) if row_axis == 1 else (0.4, -1.0, 0.75)
        if not self.n_units:
            return
        cam = self.renderer.GetActiveCamera()
        cam.SetFocalPoint(0, 0, 0)
        cam.SetPosition(*direction)
        cam.SetViewUp(0, 0, 1)
        bounds = self._mapper.GetBounds()
        self.renderer.ResetCamera(bounds)
        # ResetCamera fits the bounding sphere: a long row then fills a third of the view.
        # Zoom until the box's corners span ~90% of the viewport's width or height.
        corners = np.array(
            [[x, y, z, 1.0] for x in bounds[:2] for y in bounds[2:4] for z in bounds[4:]]
        )
        for _ in range(2):
            span = self._view_span(corners)
            if span > 0:
                cam.Zoom(0.9 / span)
        self.renderer.ResetCameraClippingRange()

    def _view_span(self, corners: NDArray[np.float64]) -> float:
        """The larger of the width and height fractions of the viewport the points cover."""
        xy = []
        for c in corners:
            self.renderer.SetWorldPoint(*c)
            self.renderer.WorldToView()
            xy.append(self.renderer.GetViewPoint()[:2])
        v = np.asarray(xy)
        return float(max(np.ptp(v[:, 0]), np.ptp(v[:, 1])) / 2.0)

    # -- picking -------------------------------------------------------------------------------
    def pick(self, x: float, y: float) -> int | None:
        """The unit under display pixel (x, y) (VTK coordinates, origin bottom-left), or None.

        The pixel's ray is taken into each unit's model coordinates; units whose box it crosses
        are tried nearest first against the stand-in drawn at rest, and the nearest hit wins."""
        if self._rest is None or not self.n_units:
            return None
        ren = self.renderer
        ends = []
        for z in (0.0, 1.0):
            ren.SetDisplayPoint(float(x), float(y), z)
            ren.DisplayToWorld()
            w = np.array(ren.GetWorldPoint(), np.float64)
            ends.append(w[:3] / (w[3] if w[3] else 1.0))
        p0 = np.append(ends[0], 1.0)
        p1 = np.append(ends[1], 1.0)
        a = np.einsum("nij,j->ni", self._inverse, p0)[:, :3]
        b = np.einsum("nij,j->ni", self._inverse, p1)[:, :3]
        lo, hi = np.asarray(self._rest.bounds[::2]), np.asarray(self._rest.bounds[1::2])
        d = b - a
        with np.errstate(divide="ignore", invalid="ignore"):
            t1 = (lo - a) / d
            t2 = (hi - a) / d
        near = np.nanmax(np.where(d == 0, -np.inf, np.minimum(t1, t2)), axis=1)
        far = np.nanmin(np.where(d == 0, np.inf, np.maximum(t1, t2)), axis=1)
        inside = (d == 0) & ((a < lo) | (a > hi))
        crossed = (near <= far) & (far >= 0) & (near <= 1) & ~inside.any(axis=1)
        if self._locator is None:
            self._locator = vtk.vtkCellLocator()
            self._locator.SetDataSet(self._rest)
            self._locator.BuildLocator()
        best, best_t = None, np.inf
        for i in np.flatnonzero(crossed)[np.argsort(near[crossed])]:
            if near[i] > best_t:
                break
            t = vtk.reference(0.0)
            hit = [0.0, 0.0, 0.0]
            pcoords = [0.0, 0.0, 0.0]
            sub = vtk.reference(0)
            if self._locator.IntersectWithLine(a[i], b[i], 1e-9, t, hit, pcoords, sub):
                if float(t) < best_t:
                    best, best_t = int(i), float(t)
        return best

    def display_centre(self, unit: int) -> tuple[float, float]:
        """Where unit ``unit``'s box centre falls on the display (VTK pixels, bottom-left)."""
        assert self._full is not None
        b = np.asarray(self._full.bounds, np.float64)
        centre = np.append((b[::2] + b[1::2]) / 2, 1.0)
        world = self._transforms[unit] @ centre
        self.renderer.SetWorldPoint(*world)
        self.renderer.WorldToDisplay()
        x, y, _ = self.renderer.GetDisplayPoint()
        return float(x), float(y)


def state_colours(states: Sequence[str]) -> NDArray[np.uint8]:
    """(N, 4) RGBA for state names (:data:`NE107_STATES` or :data:`NO_DATA`; else grey)."""
    grey = STATE_COLOURS[NO_DATA]
    return np.array([STATE_COLOURS.get(s, grey) for s in states], np.uint8).reshape(-1, 4)


def health_colours(health: NDArray[np.integer]) -> NDArray[np.uint8]:
    """(N, 4) RGBA for NE 107 state numbers (:class:`twinviewer.core.fleet.Health`); a number
    outside 0..4 (no state) is grey."""
    h = np.asarray(health, np.int64)
    out = np.tile(STATE_COLOURS[NO_DATA], (len(h), 1))
    ok = (h >= 0) & (h < len(HEALTH_TABLE))
    out[ok] = HEALTH_TABLE[h[ok]]
    return out


def state_legend(no_data: bool = False) -> list[tuple[str, NDArray[np.uint8]]]:
    """The legend entries, most urgent first (and the no-state grey when ``no_data``)."""
    names = [*reversed(NE107_STATES), *([NO_DATA] if no_data else [])]
    return [(name, STATE_COLOURS[name]) for name in names]
