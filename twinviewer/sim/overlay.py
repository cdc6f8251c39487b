"""A simulation overlay on one twin: the result placed in the twin, on the twin's clock.

:class:`SimOverlay` reads the result once, places it (scale, rotate, translate) and locates,
once, the twin vertices it colours and the sensors it is compared with (a
:class:`~twinviewer.sim.mapping.FieldMapper` each, in the result's own coordinates: the twin's
points are moved by the inverse placement, so the result mesh is never transformed). After that,
the field at any twin time is: clock -> simulation time -> the two steps around it -> one
gather per step (cached) -> a blend. That is what keeps playback cheap.

Which sensors are compared: those whose quantity is the overlay's ``quantity`` (default: the
field's name). A sensor with a ``position`` takes the field there; one without takes the mean
over its bound component's vertices inside the result. A sensor the result does not reach has no
simulated value (not compared).
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from twinviewer.core.binding import Binding
from twinviewer.core.fidelity import fidelity_table
from twinviewer.core.model import ModelData
from twinviewer.core.project import Overlay, Placement, Project, Sensor
from twinviewer.core.simclock import SimClock
from twinviewer.sim.mapping import FieldMapper, lerp
from twinviewer.sim.readers import read_result
from twinviewer.sim.result import SimResult

log = logging.getLogger(__name__)

F64 = NDArray[np.float64]
STEP_CACHE = 8


def placement_matrix(p: Placement) -> NDArray[np.float64]:
    """4x4 result -> twin: scale, rotate about x, y, z (degrees, in that order), translate."""
    rx, ry, rz = (math.radians(a) for a in p.rotate)
    cx, sx, cy, sy, cz, sz = (
        math.cos(rx),
        math.sin(rx),
        math.cos(ry),
        math.sin(ry),
        math.cos(rz),
        math.sin(rz),
    )
    rot_x = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    rot_y = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rot_z = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    m = np.eye(4)
    m[:3, :3] = rot_z @ rot_y @ rot_x * p.scale
    m[:3, 3] = p.translate
    return m


def _apply(matrix: NDArray[Any], points: Any) -> NDArray[np.float64]:
    pts = np.asarray(points, np.float64).reshape(-1, 3)
    return pts @ matrix[:3, :3].T + matrix[:3, 3]


@dataclass
class OverlayFrame:
    """The overlay at one twin time."""

    t: float  # twin time
    sim_time: float
    steps: tuple[int, int, float]  # (i, j, w): (1 - w) * step i + w * step j
    values: F64  # at the overlay's twin vertices (``SimOverlay.vertices``); NaN outside


class SimOverlay:
    def __init__(
        self,
        cfg: Overlay,
        project: Project,
        folder: Path,
        model: ModelData,
        binding: Binding,
        clock: SimClock,
        result: SimResult | None = None,
    ) -> None:
        self.cfg = cfg
        self.clock = clock
        self._cache: OrderedDict[int, tuple[F64, F64 | None]] = OrderedDict()
        self._mesh_cache: dict[int, F64] = {}
        self._vec_cache: dict[tuple[str, int, str], F64] = {}
        self._surf: tuple[F64, NDArray[np.int64], NDArray[np.int64]] | None = None
        self.result = result if result is not None else read_result(folder / cfg.result)
        self.field = cfg.field or self._default_field()
        self.quantity = cfg.quantity or self.field
        self.set_field(self.field)
        self.matrix = placement_matrix(cfg.placement)
        inverse = np.linalg.inv(self.matrix)

        # the twin vertices it colours: those of the chosen components (default: all parts)
        comps = self._components(model, binding)
        tri = np.isin(model.cell_component, comps)
        candidates = np.unique(model.triangles[tri])
        mesh0 = self.result.mesh(0)
        diag = float(np.linalg.norm(np.subtract(self.result.bounds[1::2], self.result.bounds[::2])))
        self.tolerance = 0.01 * diag
        self.mapper = FieldMapper(
            mesh0, _apply(inverse, model.points[candidates]), tolerance=self.tolerance
        )
        if not cfg.components:  # by default, only the components the result reaches
            reached = np.zeros(len(model.points), bool)
            reached[candidates[self.mapper.valid]] = True
            comp_hit = np.zeros(model.n_components, bool)
            comp_hit[model.cell_component[reached[model.triangles].any(axis=1)]] = True
            tri &= comp_hit[model.cell_component]
        self.triangle_mask = tri
        self.vertices = np.unique(model.triangles[tri])
        self.triangles = np.searchsorted(self.vertices, model.triangles[tri]).astype(np.int64)
        self._rows = np.searchsorted(candidates, self.vertices)  # mapper rows of the vertices

        # the sensors it is compared with
        self.sensors: list[int] = []
        positions: list[tuple[float, float, float]] = []
        self._by_component: list[tuple[int, NDArray[np.int64]]] = []  # (sensor, vertex rows)
        vertex_comp = np.full(len(model.points), -1, np.int64)  # (one of) its components
        vertex_comp[model.triangles.ravel()] = np.repeat(model.cell_component, 3)
        for k, s in enumerate(project.sensors):
            if s.quantity != self.quantity:
                continue
            if s.position is not None:
                self.sensors.append(k)
                positions.append(s.position)
            elif binding.sensor_nodes[k]:
                rows = np.flatnonzero(np.isin(vertex_comp[self.vertices], binding.sensor_nodes[k]))
                if len(rows):
                    self.sensors.append(k)
                    self._by_component.append((k, rows))
        self._positioned = [k for k in self.sensors if project.sensors[k].position is not None]
        self.probe = (
            FieldMapper(mesh0, _apply(inverse, np.array(positions)), tolerance=self.tolerance)
            if positions
            else None
        )

    def set_field(self, name: str) -> None:
        """Show (and compare) another field of the result; the located points are kept."""
        try:
            info = self.result.field_info(name)
        except KeyError:
            names = ", ".join(repr(f.name) for f in self.result.fields) or "none"
            raise ValueError(
                f"overlay {self.cfg.name!r}: {self.result.path.name} has no field {name!r} "
                f"(it has {names})"
            ) from None
        self.field = name
        self.association = info.association
        self.unit = info.unit or (self.cfg.unit if name == self.cfg.field else None)
        self._cache = OrderedDict()
        self._mesh_cache = {}

    # -- setup helpers ---------------------------------------------------------------------------
    def _default_field(self) -> str:
        fields = [f for f in self.result.fields if f.components == 1] or self.result.fields
        if not fields:
            raise ValueError(f"{self.result.path}: the result has no fields to show")
        points = [f for f in fields if f.association == "point"]
        return (points or fields)[0].name

    def _components(self, model: ModelData, binding: Binding) -> NDArray[np.int64]:
        if not self.cfg.components:
            return np.arange(model.n_components)
        kids = model.children()
        out: set[int] = set()
        for ref in self.cfg.components:
            nodes = binding.component_nodes.get(ref)
            if nodes is None:
                try:
                    nodes = [model.index_of(ref)]
                except KeyError:
                    raise ValueError(
                        f"overlay {self.cfg.name!r}: component {ref!r} is neither a twin "
                        "component nor a model node"
                    ) from None
            stack = list(nodes)
            while stack:
                i = stack.pop()
                if i not in out:
                    out.add(i)
                    stack.extend(kids[i])
        return np.array(sorted(out), np.int64)

    # -- values over time ------------------------------------------------------------------------
    def steps_at(self, t: float) -> tuple[float, tuple[int, int, float]]:
        """Simulation time and the blend of steps for twin time ``t``."""
        sim = self.clock.to_sim(t)
        r = self.result
        if self.clock.step_index:
            x = min(max(sim, 0.0), r.n_steps - 1.0)
            i = int(math.floor(x))
            j = min(i + 1, r.n_steps - 1)
            w = x - i if j != i else 0.0
        else:
            i, j, w = r.bracket(sim)
        if not self.clock.interpolate:
            i = j = i if w < 0.5 else j
            w = 0.0
        return sim, (i, j, w)

    def _step(self, step: int) -> tuple[F64, F64 | None]:
        hit = self._cache.get(step)
        if hit is not None:
            self._cache.move_to_end(step)
            return hit
        data = self.result.field(step, self.field, self.association)
        if data.ndim > 1:  # a vector: its magnitude
            data = np.linalg.norm(data, axis=1)
        if self.association == "point":
            at_vertices = self.mapper.map_point_field(data)[self._rows]
            at_sensors = self.probe.map_point_field(data) if self.probe is not None else None
        else:
            at_vertices = self.mapper.map_cell_field(data)[self._rows]
            at_sensors = self.probe.map_cell_field(data) if self.probe is not None else None
        out = (np.asarray(at_vertices, np.float64), at_sensors)
        self._cache[step] = out
        if len(self._cache) > STEP_CACHE:
            self._cache.popitem(last=False)
        return out

    def frame(self, t: float) -> OverlayFrame:
        sim, (i, j, w) = self.steps_at(t)
        a, _ = self._step(i)
        values = a if j == i or w == 0.0 else lerp(a, self._step(j)[0], w)
        return OverlayFrame(t, sim, (i, j, w), values)

    # -- vectors: deformation and arrows --------------------------------------------------------
    def _vectors_at(self, name: str, step: int, where: str) -> F64:
        """A vector point field of a step, in twin axes (rotated and scaled like the result),
        at the twin vertices (``where="vertices"``) or at the result's points (``"points"``)."""
        key = (name, step, where)
        hit = self._vec_cache.get(key)
        if hit is None:
            data = np.asarray(self.result.field(step, name, "point"), np.float64)
            if data.ndim != 2 or data.shape[1] not in (2, 3):
                raise ValueError(
                    f"{self.result.path}: {name!r} is not a vector field (it has shape "
                    f"{data.shape}; expected (points, 3))"
                )
            if data.shape[1] == 2:
                data = np.column_stack([data, np.zeros(len(data))])
            if where == "vertices":
                data = self.mapper.map_point_field(data)[self._rows]
            hit = data @ self.matrix[:3, :3].T
            self._vec_cache[key] = hit
            if len(self._vec_cache) > 2 * STEP_CACHE:
                self._vec_cache.pop(next(iter(self._vec_cache)))
        return hit

    def _blend_vectors(self, name: str, t: float, where: str) -> F64:
        _, (i, j, w) = self.steps_at(t)
        a = self._vectors_at(name, i, where)
        return a if j == i or w == 0.0 else lerp(a, self._vectors_at(name, j, where), w)

    def warped_vertices(self, points: F64, t: float) -> F64:
        """The overlay's twin vertices moved by the warp field times its scale (unchanged
        without a warp, and where the result does not reach)."""
        if self.cfg.warp is None:
            return points
        d = self._blend_vectors(self.cfg.warp.field, t, "vertices")
        return points + np.nan_to_num(d) * self.cfg.warp.scale

    def glyphs(self, t: float, max_arrows: int = 2000) -> tuple[F64, F64] | None:
        """Arrows of the ``glyphs`` vector field at (a subset of) the result's points, in twin
        coordinates: (points, vectors), or None without glyphs."""
        if self.cfg.glyphs is None:
            return None
        mesh = self.result.mesh(0)
        pts = _apply(self.matrix, np.asarray(mesh.points))
        vec = self._blend_vectors(self.cfg.glyphs, t, "points")
        every = max(1, len(pts) // max_arrows)
        return pts[::every], vec[::every]

    # -- the result mesh itself ------------------------------------------------------------------
    def _surface(self) -> tuple[F64, NDArray[np.int64], NDArray[np.int64]]:
        """The result's outer surface, triangulated, in twin coordinates: (points, triangles,
        the result point id of each surface point). Quadratic cells are subdivided once."""
        if self._surf is None:
            mesh = self.result.mesh(0)
            surf = mesh.extract_surface(
                pass_pointid=True, nonlinear_subdivision=1, algorithm="dataset_surface"
            ).triangulate()
            ids = np.asarray(surf.point_data["vtkOriginalPointIds"], np.int64)
            faces = np.asarray(surf.faces).reshape(-1, 4)[:, 1:].astype(np.int64)
            self._surf = (_apply(self.matrix, np.asarray(surf.points)), faces, ids)
        return self._surf

    def _mesh_step(self, step: int) -> F64:
        hit = self._mesh_cache.get(step)
        if hit is not None:
            return hit
        mesh = self.result.mesh(step)
        if self.association == "point":
            data = np.asarray(mesh.point_data[self.field])
        else:
            data = np.asarray(mesh.cell_data_to_point_data().point_data[self.field])
        if data.ndim > 1:
            data = np.linalg.norm(data, axis=1)
        ids = self._surface()[2]
        if len(data) <= int(ids.max(initial=0)):  # the mesh changed topology: not supported
            raise ValueError(
                f"{self.result.path}: step {step + 1} has another mesh than step 1; showing the "
                "result mesh needs the same points in every step"
            )
        values = data[ids].astype(np.float64)
        self._mesh_cache[step] = values
        if len(self._mesh_cache) > STEP_CACHE:
            self._mesh_cache.pop(next(iter(self._mesh_cache)))
        return values

    def mesh_frame(self, t: float) -> tuple[F64, NDArray[np.int64], F64]:
        """The result's surface at twin time ``t``: (points, triangles, values per point);
        the points moved by the warp field, if any."""
        _, (i, j, w) = self.steps_at(t)
        pts, tris, ids = self._surface()
        if self.cfg.warp is not None:
            d = self._blend_vectors(self.cfg.warp.field, t, "points")[ids]
            pts = pts + np.nan_to_num(d) * self.cfg.warp.scale
        a = self._mesh_step(i)
        values = a if j == i or w == 0.0 else lerp(a, self._mesh_step(j), w)
        return pts, tris, values

    def simulated_at_sensors(self, t: float) -> F64:
        """The simulated value of each of :attr:`sensors` at twin time ``t`` (NaN: not reached)."""
        _, (i, j, w) = self.steps_at(t)
        frame = self.frame(t)
        out = np.full(len(self.sensors), np.nan)
        where = {k: n for n, k in enumerate(self.sensors)}
        if self.probe is not None:
            a = self._step(i)[1]
            assert a is not None
            at = a if j == i or w == 0.0 else lerp(a, self._step(j)[1], w)  # type: ignore[arg-type]
            for n, k in enumerate(self._positioned):
                out[where[k]] = at[n]
        for k, rows in self._by_component:
            v = frame.values[rows]
            v = v[np.isfinite(v)]
            out[where[k]] = float(v.mean()) if len(v) else np.nan
        return out

    def step_times(self) -> F64:
        """The twin time of every step of the result."""
        r = self.result
        sim = np.arange(r.n_steps, dtype=np.float64) if self.clock.step_index else r.times
        return np.array([self.clock.to_twin(float(x)) for x in sim])

    def sensor_series(self, sensor: int) -> tuple[F64, F64]:
        """The simulated value of one compared project sensor at every step: (twin times,
        values), for a chart beside the measured series."""
        if sensor not in self.sensors:
            raise ValueError(f"sensor {sensor} is not compared by overlay {self.cfg.name!r}")
        values = np.full(self.result.n_steps, np.nan)
        rows = dict(self._by_component).get(sensor)
        for k in range(self.result.n_steps):
            at_vertices, at_sensors = self._step(k)
            if rows is not None:
                v = at_vertices[rows]
                v = v[np.isfinite(v)]
                values[k] = float(v.mean()) if len(v) else np.nan
            elif at_sensors is not None:
                values[k] = at_sensors[self._positioned.index(sensor)]
        return self.step_times(), values

    def fidelity(
        self, t: float, measured: F64, sensors: list[Sensor], tolerance: float, relative_to: str
    ) -> np.ndarray:
        """The fidelity table at twin time ``t``; ``measured`` holds every project sensor."""
        idx = np.array(self.sensors, np.int64)
        span = np.array([sensors[k].range[1] - sensors[k].range[0] for k in self.sensors])
        return fidelity_table(
            self.sensors,
            np.asarray(measured, np.float64)[idx] if len(idx) else np.zeros(0),
            self.simulated_at_sensors(t),
            tolerance,
            relative_to,
            span,
        )

    def data_range(self) -> tuple[float, float]:
        """The colour range: the project's, else the field's over the first and last steps."""
        if self.cfg.range is not None:
            return self.cfg.range
        vals = [self._step(0)[0], self._step(self.result.n_steps - 1)[0]]
        finite = np.concatenate([v[np.isfinite(v)] for v in vals])
        if not len(finite):
            return (0.0, 1.0)
        lo, hi = float(finite.min()), float(finite.max())
        return (lo, hi if hi > lo else lo + 1.0)
