"""The *Field* colour mode on an open twin: one quantity's point sensors spread over the surface.

:class:`FieldBook` belongs to one :class:`~twinviewer.session.TwinSession`. It makes the
surface the fields are drawn on once (the model's triangles cut into strips until no edge is
longer than the field's resolution, so that a long drift floor of two triangles gets vertices
between its ends; :func:`twinviewer.core.field.refine`) and, per (quantity, method), a
:class:`SensorField`: the weight matrix from that quantity's positioned sensors to the surface
points the field reaches (see :mod:`twinviewer.core.field` for the methods), built once and
cached. A frame is then ``W @ values`` over the reached points (a sparse product: about a
few milliseconds for 10^5 points) and one array copy into the scene, whose lookup table maps values
to colours on the GPU side of VTK: the same colour map and range as the quantity's legend, so
the field, the sensor markers and the colour bar agree.

Only the triangles the field reaches are part of the field's mesh; the rest of the twin keeps
its own colours (neutral where no sensor of the quantity is), so a part that no sensor reaches
along the mesh (the rock between two drifts, a separate building) stays uncoloured.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from twinviewer.core.colour import NEUTRAL, colormap_table
from twinviewer.core.field import (
    METHOD_LABELS,
    Method,
    SurfaceGraph,
    apply_weights,
    check_method,
    default_cutoff,
    geodesic_weights,
    idw_weights,
    rbf_weights,
    refine,
    sensor_spread,
    surface_graph,
)
from twinviewer.core.model import ModelData
from twinviewer.session.twin import TwinSession

log = logging.getLogger(__name__)

MAX_TRIANGLES = 150_000  # the refined surface stays below this (llvmpipe: ~15-25 ms to draw)
MIN_SENSORS = 2  # a field needs at least two positioned sensors of its quantity


def field_resolution(model: ModelData) -> float:
    """The longest edge of the field's surface to start from: a 300th of the model's diagonal
    (:meth:`FieldSurface.of` coarsens it while the surface would be too big to draw)."""
    pts = model.points.astype(np.float64)
    if not len(pts):
        return 1.0
    return max(float(np.linalg.norm(np.ptp(pts, axis=0))) / 300.0, 1e-9)


@dataclass
class FieldSurface:
    """The model's surface refined for fields, and its graph (made on first use)."""

    points: NDArray[np.float64]
    triangles: NDArray[np.int64]
    component: NDArray[np.int64]  # each triangle's model component
    resolution: float
    _graph: SurfaceGraph | None = field(default=None, repr=False)

    @classmethod
    def of(cls, model: ModelData, resolution: float | None = None) -> FieldSurface:
        h = field_resolution(model) if resolution is None else float(resolution)
        pts, tri, parent = refine(model.points, model.triangles, h)
        while resolution is None and len(tri) > max(MAX_TRIANGLES, 2 * model.n_triangles):
            h *= 1.5
            pts, tri, parent = refine(model.points, model.triangles, h)
        return cls(pts, tri, model.cell_component[parent].astype(np.int64), h)

    def graph(self) -> SurfaceGraph:
        """The surface graph, gaps up to one resolution bridged (made once)."""
        if self._graph is None:
            self._graph = surface_graph(self.points, self.triangles, bridge=self.resolution)
            log.info(
                "field graph: %d vertices, %d bridges over gaps, %d connected pieces",
                len(self._graph.points),
                self._graph.bridges,
                self._graph.pieces,
            )
        return self._graph


class SensorField:
    """One quantity's field by one method on a :class:`FieldSurface`.

    Attributes
    ----------
    sensors
        Indices (into the session's sensors) of the positioned sensors it interpolates.
    points, triangles, components
        The mesh it is drawn on: the surface triangles with a vertex some sensor reaches, over
        their own points; ``components`` is each triangle's model component.
    """

    def __init__(
        self,
        session: TwinSession,
        surface: FieldSurface,
        quantity: str,
        method: str = "geodesic",
        k: int = 4,
        power: float = 2.0,
        cutoff: float | None = None,
    ) -> None:
        self.quantity = quantity
        self.method: Method = check_method(method)
        idx, pos = session.sensor_positions()
        mine = session.quantity_of[idx] == quantity if len(idx) else np.zeros(0, bool)
        self.sensors = idx[mine].astype(np.int64)
        self.positions = pos[mine]
        if len(self.sensors) < MIN_SENSORS:
            raise ValueError(
                f"a field of {quantity!r} needs at least {MIN_SENSORS} sensors with a position; "
                f"the project has {len(self.sensors)}"
            )
        # straight-line methods reach 3x the sensors' spacing; along the mesh, the spacing is
        # measured along the mesh too (see geodesic_weights)
        self.cutoff: float | None = cutoff
        if cutoff is None and self.method != "geodesic":
            self.cutoff = default_cutoff(self.positions)
        self.k, self.power = k, power
        self.lo, self.hi = session.quantity_range(quantity)
        first = next(s for s in session.sensors if s.quantity == quantity)
        self.table = colormap_table(first.colormap)
        unit = session.unit_of(quantity)
        self.title = f"{quantity.replace('_', ' ').capitalize()} [{unit}]\nfield {self.label}"
        start = time.perf_counter()
        weights = self._weights(surface, surface.points, None)
        reached = sensor_spread(weights)
        tri_reached = reached[surface.triangles].any(axis=1)
        used, inverse = np.unique(surface.triangles[tri_reached], return_inverse=True)
        self.point_ids = used  # rows of the surface's points this field draws
        self.points = surface.points[used]
        self.triangles = inverse.reshape(-1, 3).astype(np.int64)
        self.components = surface.component[tri_reached]
        self._surface = surface
        self._full = self._rows(weights, used)
        self._by_present: dict[bytes, sparse.csr_matrix | NDArray[np.float64]] = {}
        self.build_seconds = time.perf_counter() - start
        log.info(
            "field %s (%s): %d sensors, %d points, %d triangles, built in %.2f s",
            quantity,
            self.method,
            len(self.sensors),
            len(self.points),
            len(self.triangles),
            self.build_seconds,
        )

    @property
    def _reach(self) -> float:
        return float("inf") if self.cutoff is None else self.cutoff

    @property
    def label(self) -> str:
        return METHOD_LABELS[self.method]

    @staticmethod
    def _rows(
        weights: sparse.csr_matrix | NDArray[np.float64], rows: NDArray[np.int64]
    ) -> sparse.csr_matrix | NDArray[np.float64]:
        return weights[rows] if sparse.issparse(weights) else np.asarray(weights)[rows]

    def _weights(
        self,
        surface: FieldSurface,
        targets: NDArray[np.float64],
        present: NDArray[np.bool_] | None,
    ) -> sparse.csr_matrix | NDArray[np.float64]:
        if self.method == "idw":
            return idw_weights(targets, self.positions, self.k, self.power, self._reach)
        if self.method == "rbf":
            return rbf_weights(targets, self.positions, cutoff=self._reach, present=present)
        return geodesic_weights(
            surface.graph(),
            self.positions,
            self.k,
            self.power,
            self.cutoff,
            attach=surface.resolution,
        )

    # -- every frame ---------------------------------------------------------------------------
    def weights(
        self, present: NDArray[np.bool_] | None = None
    ) -> sparse.csr_matrix | NDArray[np.float64]:
        """The weight matrix (drawn points x the field's sensors) for the sensors ``present``.

        Inverse-distance weights are renormalised over the present sensors at each frame; RBF
        weights are not positive, so RBF is fitted again without the missing sensors (cached
        per set of missing sensors: that set changes rarely)."""
        if self.method != "rbf" or present is None or present.all():
            return self._full
        key = np.packbits(present).tobytes()
        w = self._by_present.get(key)
        if w is None:
            if len(self._by_present) >= 16:
                self._by_present.clear()
            w = rbf_weights(self.points, self.positions, cutoff=self._reach, present=present)
            self._by_present[key] = w
        return w

    def values(self, sensor_values: NDArray[np.floating]) -> NDArray[np.float64]:
        """The field at the drawn points from every sensor's value (the session's
        ``shown_value``): NaN where no present sensor reaches."""
        v = np.asarray(sensor_values, np.float64)[self.sensors]
        present = np.isfinite(v)
        return apply_weights(self.weights(present), v)

    def colours(self, values: NDArray[np.floating]) -> NDArray[np.uint8]:
        """RGBA per point through the quantity's colour map and range (NaN: neutral); what the
        scene's lookup table draws, for tests and reports."""
        v = np.asarray(values, np.float64)
        n = len(self.table)
        span = self.hi - self.lo if self.hi > self.lo else 1.0
        frac = np.clip((np.nan_to_num(v, nan=self.lo) - self.lo) / span, 0.0, 1.0)
        out = self.table[np.round(frac * (n - 1)).astype(np.int64)].copy()
        out[~np.isfinite(v)] = NEUTRAL
        return out


class FieldBook:
    """The fields of one open twin: the refined surface and each (quantity, method)'s weights,
    made on first use and kept while the twin is open."""

    def __init__(self, session: TwinSession, resolution: float | None = None) -> None:
        self.session = session
        self._resolution = resolution
        self._surface: FieldSurface | None = None
        self._fields: dict[tuple[str, str], SensorField] = {}

    def quantities(self) -> list[str]:
        """The quantities with at least two positioned sensors (those a field can show)."""
        idx, _ = self.session.sensor_positions()
        if not len(idx):
            return []
        q, counts = np.unique(self.session.quantity_of[idx].astype(str), return_counts=True)
        return [str(x) for x, c in zip(q, counts, strict=True) if c >= MIN_SENSORS]

    @property
    def surface(self) -> FieldSurface:
        if self._surface is None:
            start = time.perf_counter()
            self._surface = FieldSurface.of(self.session.model, self._resolution)
            log.info(
                "field surface: %d triangles at %.3g resolution in %.2f s",
                len(self._surface.triangles),
                self._surface.resolution,
                time.perf_counter() - start,
            )
        return self._surface

    def field(self, quantity: str, method: str = "geodesic") -> SensorField:
        """The field of ``quantity`` by ``method`` (built once, then cached)."""
        key = (quantity, check_method(method))
        f = self._fields.get(key)
        if f is None:
            if quantity not in self.session.quantities():
                raise ValueError(f"no sensor measures {quantity!r}")
            f = SensorField(self.session, self.surface, quantity, method)
            self._fields[key] = f
        return f
