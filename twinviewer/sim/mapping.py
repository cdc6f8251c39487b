"""A simulation field on the twin's own surfaces: locate once, gather per step.

Design
------
:class:`FieldMapper` is built once from a result mesh (any VTK/pyvista dataset, typically an
unstructured grid of tetrahedra, hexahedra, wedges and pyramids, linear or quadratic) and the
target points (the twin model's vertices). Building it *locates* every target point in the
source mesh and keeps, per target, the ids of the containing cell's points and the cell's
interpolation weights at that point: two ``(N, m)`` arrays, ``m`` the largest number of points
of a cell (4 for linear tetrahedra, 8 for hexahedra, 10 for quadratic tetrahedra, 20 or 27 for
quadratic hexahedra). Mapping a point field is then a sparse matrix-vector product written as
one gather and one row sum (``einsum("ij,ij->i", values[index], weight)``): no geometry work,
so stepping an overlay through time steps costs a few milliseconds per million targets.

Locating is VTK's ``vtkProbeFilter`` over a ``vtkStaticCellLocator``, run once on an
*exploded* copy of the source in which every cell has its own points, each carrying a one-hot
vector of its position in its cell (``m`` components), and every cell its id. The probe
interpolates these like any point array, so its output *is* the weight matrix, computed by
VTK's own cell functions (whatever the cell type), and the probed cell id names the points.
For 1M tetrahedra and 0.5M targets this takes ~0.9 s on this class of machine (~1.3 times one
``DataSet.sample``; VTK's SMP backend gave no gain); every later step is ~100 times cheaper
than probing again (``twinviewer bench sim``). The exploded copy costs ``m * (3 + m)`` doubles
per cell (224 bytes for a tetrahedron, 704 for a hexahedron, 5.8 kB for a 27-node hexahedron):
beyond ``EXPLODE_BUDGET`` the grid is done in slabs along x, each with the targets in it and
every cell reaching within the tolerance of it.

Points outside the mesh map to NaN (:attr:`FieldMapper.valid` is False). CAD surfaces often
lie on or just outside the simulation domain (a faceted boundary is a chord of the true
surface): points within ``tolerance`` of the mesh snap to the cell that owns their nearest mesh
point, and take the value at the closest point of that cell (VTK's ``SnapToCellWithClosestPoint``;
at worst the nearest mesh point's value). Snapping is a second probe of the points the first,
strict one missed, on the same cell locator: a probe tolerance large enough to snap would also
let interior points take a neighbouring cell and extrapolate (an error of order
tolerance x cell size x curvature). ``tolerance=0`` turns snapping off, and then points that are
on the boundary only to within rounding may come out invalid.

Complexity: building is O(C) for the exploded copy and the cell locator (C cells) plus
O(N log C) for the look-ups; memory O(min(C, budget) * m^2) while building, O(N * m)
afterwards. Each :meth:`FieldMapper.map_point_field` is O(N * m) and memory-bound (random reads
into the source field): ~3.5 ms per million (target, weight) pairs on one core, i.e. ~14 ms
per million targets in tetrahedra and ~28 ms in hexahedra.

Accuracy: the weights are the cell's own interpolation functions at the point, so the mapped
value is what VTK's finite-element interpolation gives (``sample`` gives the same). A field
linear in x, y, z is reproduced exactly (to rounding) on linear cells: tetrahedra, triangles,
and hexahedra, wedges and pyramids (their shape functions contain the linear functions, and
inverting an affine or trilinear map converges exactly). VTK counts a point up to 1e-3
(parametric) outside a cell as inside it, so near a face either neighbour may be taken, with
slightly extrapolated weights: exact for linear fields, a tiny difference otherwise. Quadratic
cells (and higher-order ones) are inverted by VTK's Newton iteration, which stops once a step
is below ~1e-3 in parametric space: values are then accurate to ~1e-5 relative (a linear or
quadratic field on straight-edged quadratic tetrahedra), not exact, and at a node the node's
value is reproduced to the same accuracy. Snapped points get the value at the closest point
of the cell, not an extrapolation. Cell fields map as the value of the containing cell
(piecewise constant).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import numpy as np
from vtkmodules.util.numpy_support import numpy_to_vtk, numpy_to_vtkIdTypeArray, vtk_to_numpy
from vtkmodules.vtkCommonCore import VTK_UNSIGNED_CHAR, vtkPoints
from vtkmodules.vtkCommonDataModel import (
    VTK_POLYHEDRON,
    vtkCellArray,
    vtkDataSet,
    vtkPolyData,
    vtkStaticCellLocator,
    vtkUnstructuredGrid,
)
from vtkmodules.vtkFiltersCore import vtkProbeFilter

log = logging.getLogger(__name__)

#: Default snapping tolerance as a fraction of the source's bounding-box diagonal.
DEFAULT_TOLERANCE_FRACTION = 1e-3

_WEIGHTS = "twinviewer_weights"
_CELL_ID = "twinviewer_cell_id"


def _as_unstructured(source: object) -> vtkUnstructuredGrid:
    if isinstance(source, vtkUnstructuredGrid):
        return source
    if not isinstance(source, vtkDataSet):
        raise TypeError(f"expected a VTK/pyvista dataset, got {type(source).__name__}")
    import pyvista as pv

    return pv.wrap(source).cast_to_unstructured_grid()


def _cells(grid: vtkUnstructuredGrid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(connectivity, offsets (C + 1), cell types) of a grid as numpy arrays."""
    cells = grid.GetCells()
    if cells is None or grid.GetNumberOfCells() == 0:
        raise ValueError("the source mesh has no cells")
    conn = vtk_to_numpy(cells.GetConnectivityArray()).astype(np.intp, copy=False)
    offsets = vtk_to_numpy(cells.GetOffsetsArray()).astype(np.intp, copy=False)
    import pyvista as pv

    types = np.asarray(pv.wrap(grid).celltypes)  # GetCellTypes' signature changed in VTK 9.6
    if np.any(types == VTK_POLYHEDRON):
        raise ValueError("polyhedron cells are not supported; triangulate the result first")
    return conn, offsets, types


#: Memory for one exploded copy (points and one-hot weights), in bytes; bigger grids are
#: located in slabs along x.
EXPLODE_BUDGET = 256 * 2**20


def _exploded(
    points: np.ndarray,
    conn: np.ndarray,
    offsets: np.ndarray,
    types: np.ndarray,
    cells: np.ndarray,
    m: int,
) -> tuple[vtkUnstructuredGrid, list[np.ndarray]]:
    """Cells ``cells`` of the grid, each with private points carrying their one-hot corner index.

    Returns the grid and the numpy arrays it shares memory with (keep them alive while it is
    used).
    """
    sizes = offsets[cells + 1] - offsets[cells]
    sub_offsets = np.zeros(len(cells) + 1, dtype=np.int64)
    np.cumsum(sizes, out=sub_offsets[1:])
    n = int(sub_offsets[-1])
    local = np.arange(n) - np.repeat(sub_offsets[:-1], sizes)
    corner = np.repeat(offsets[cells], sizes) + local  # position in the source connectivity
    if np.all(sizes == m):
        onehot = np.tile(np.eye(m), (len(cells), 1))
    else:
        onehot = np.zeros((n, m))
        onehot[np.arange(n), local] = 1.0
    xyz = np.ascontiguousarray(points[conn[corner]], dtype=np.float64)
    ids = cells.astype(np.float64)  # exact up to 2**53 cells
    types_u8 = np.ascontiguousarray(types[cells], dtype=np.uint8)

    pts = vtkPoints()
    pts.SetData(numpy_to_vtk(xyz, deep=False))
    cell_array = vtkCellArray()
    cell_array.SetData(
        numpy_to_vtkIdTypeArray(sub_offsets, deep=True),
        numpy_to_vtkIdTypeArray(np.arange(n, dtype=np.int64), deep=True),
    )
    grid = vtkUnstructuredGrid()
    grid.SetPoints(pts)
    grid.SetCells(numpy_to_vtk(types_u8, deep=False, array_type=VTK_UNSIGNED_CHAR), cell_array)
    w = numpy_to_vtk(onehot, deep=False)
    w.SetName(_WEIGHTS)
    grid.GetPointData().AddArray(w)
    c = numpy_to_vtk(ids, deep=False)
    c.SetName(_CELL_ID)
    grid.GetCellData().AddArray(c)
    return grid, [xyz, onehot, ids, types_u8]


def _slabs(
    points: np.ndarray,
    conn: np.ndarray,
    offsets: np.ndarray,
    targets: np.ndarray,
    n_slabs: int,
    margin: float,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(cells, target rows) per slab along x; one slab: everything."""
    n_cells = len(offsets) - 1
    if n_slabs == 1:
        yield np.arange(n_cells), np.arange(len(targets))
        return
    sizes = np.diff(offsets)
    x = points[conn, 0]
    lo = np.minimum.reduceat(x, offsets[:-1])
    hi = np.maximum.reduceat(x, offsets[:-1])
    lo[sizes == 0] = np.inf
    edges = np.quantile((lo + hi) / 2, np.linspace(0, 1, n_slabs + 1))
    edges[0], edges[-1] = -np.inf, np.inf
    tx = targets[:, 0]
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        rows = np.flatnonzero((tx >= a) & (tx < b))
        if len(rows):
            yield np.flatnonzero((hi >= a - margin) & (lo <= b + margin)), rows


def _probe(
    source: vtkUnstructuredGrid,
    locator: vtkStaticCellLocator,
    targets: np.ndarray,
    names: tuple[str, ...],
    snap: float | None,
) -> tuple[list[np.ndarray], np.ndarray]:
    """The arrays ``names`` probed at the targets (copies), and the valid mask."""
    tpts = vtkPoints()
    tpts.SetData(numpy_to_vtk(targets, deep=False))
    probe_input = vtkPolyData()
    probe_input.SetPoints(tpts)
    probe = vtkProbeFilter()
    probe.SetInputData(probe_input)
    probe.SetSourceData(source)
    probe.SetCellLocator(locator)
    probe.PassPointArraysOff()
    probe.PassCellArraysOff()
    if snap is not None:
        probe.SnapToCellWithClosestPointOn()
        probe.SetSnappingRadius(snap)
        # the snapped cell must also pass the probe's distance test
        probe.ComputeToleranceOff()
        probe.SetTolerance(snap)
    probe.Update()
    out = probe.GetOutput().GetPointData()
    arrays = []
    for name in names:
        a = out.GetArray(name)
        arrays.append(vtk_to_numpy(a).reshape(len(targets), a.GetNumberOfComponents()).copy())
    valid = vtk_to_numpy(out.GetArray(probe.GetValidPointMaskArrayName())).astype(bool)
    return arrays, valid


def _locate(
    source: vtkUnstructuredGrid, targets: np.ndarray, names: tuple[str, ...], tolerance: float
) -> tuple[list[np.ndarray], np.ndarray, int]:
    """Probe strictly, then snap the points missed (within ``tolerance``): (arrays, valid,
    number snapped). One cell locator serves both passes.

    A probe tolerance large enough to snap would also let interior points take a neighbouring
    cell and extrapolate, hence two passes.
    """
    locator = vtkStaticCellLocator()
    arrays, valid = _probe(source, locator, targets, names, None)
    missed = np.flatnonzero(~valid)
    if tolerance <= 0 or not len(missed):
        return arrays, valid, 0
    # VTK 9.7's probe snaps nothing when it finds no point at all: lead with one point that
    # is found (a target found in the first pass, else the centre of the first cell).
    found = np.flatnonzero(valid)
    if len(found):
        anchor = targets[found[0]]
    else:
        first = vtk_to_numpy(source.GetCell(0).GetPoints().GetData())
        anchor = np.asarray(first, dtype=np.float64).mean(axis=0)
    again, valid2 = _probe(
        source, locator, np.vstack([anchor[None, :], targets[missed]]), names, tolerance
    )
    for whole, part in zip(arrays, again, strict=True):
        whole[missed] = part[1:]
    valid[missed] = valid2[1:]
    return arrays, valid, int(valid2[1:].sum())


class FieldMapper:
    """Interpolation of a result mesh's fields at fixed target points (see the module doc).

    ``source``: the result mesh (pyvista or VTK dataset; its geometry and topology only are
    used). ``targets``: (N, 3) points, e.g. the twin model's vertices. ``tolerance``: how far
    outside the mesh, in model units, a target still snaps to it (default 1e-3 of the
    source's bounding-box diagonal; 0: no snapping).
    """

    def __init__(self, source: object, targets: np.ndarray, tolerance: float | None = None):
        t0 = time.perf_counter()
        grid = _as_unstructured(source)
        targets = np.ascontiguousarray(targets, dtype=np.float64)
        if targets.ndim != 2 or targets.shape[1] != 3:
            raise ValueError(f"targets must be (N, 3), got {targets.shape}")
        conn, offsets, types = _cells(grid)
        points = vtk_to_numpy(grid.GetPoints().GetData()).astype(np.float64, copy=False)
        self.n_source_points = len(points)
        self.n_source_cells = len(types)
        b = np.asarray(grid.GetBounds()).reshape(3, 2)
        diagonal = float(np.linalg.norm(b[:, 1] - b[:, 0]))
        self.tolerance = (
            DEFAULT_TOLERANCE_FRACTION * diagonal if tolerance is None else float(tolerance)
        )
        if self.tolerance < 0:
            raise ValueError("tolerance must be >= 0")
        m = int(np.diff(offsets).max())
        n = len(targets)

        # The exploded copy costs m * (3 + m) doubles per cell: beyond EXPLODE_BUDGET, the
        # grid goes in slabs along x, each with the targets in it and every cell that reaches
        # within the tolerance of it (so each slab sees all the cells its targets could take).
        per_cell = m * (m + 3) * 8
        n_slabs = max(1, int(np.ceil(self.n_source_cells * per_cell / EXPLODE_BUDGET)))
        weights = np.zeros((n, m))
        cell = np.full(n, -1.0)
        valid = np.zeros(n, dtype=bool)
        n_snapped = n_exploded = 0
        for cells, rows in _slabs(points, conn, offsets, targets, n_slabs, self.tolerance):
            exploded, keep = _exploded(points, conn, offsets, types, cells, m)
            (w, c), v, snapped = _locate(
                exploded, targets[rows], (_WEIGHTS, _CELL_ID), self.tolerance
            )
            del exploded, keep
            weights[rows], cell[rows], valid[rows] = w, c[:, 0], v
            n_snapped += snapped
            n_exploded += len(cells)
        t1 = time.perf_counter()

        self.valid: np.ndarray = valid
        """(N,) bool: the target lies in (or within ``tolerance`` of) the source mesh."""
        self.cell_ids: np.ndarray = np.where(valid, cell, -1).astype(np.intp)
        """(N,) the containing cell of each target, -1 outside."""
        c = np.where(valid, self.cell_ids, 0)
        start = offsets[c][:, None] + np.arange(m)
        last = offsets[c + 1][:, None] - 1
        self.index: np.ndarray = conn[np.minimum(start, last)]
        """(N, m) source point ids per target (padding entries repeat the last point)."""
        self.weight: np.ndarray = np.where(valid[:, None], weights, 0.0)
        """(N, m) interpolation weights per target (zero for padding and invalid targets)."""
        self._invalid = np.flatnonzero(~valid)
        t3 = time.perf_counter()
        log.debug(
            "FieldMapper: %d targets in %d cells (m=%d, %d cells exploded in %d slabs): "
            "locate %.0f ms, index %.0f ms; %d snapped, %d outside",
            n,
            self.n_source_cells,
            m,
            n_exploded,
            n_slabs,
            (t1 - t0) * 1e3,
            (t3 - t1) * 1e3,
            n_snapped,
            len(self._invalid),
        )

    @property
    def n_targets(self) -> int:
        return len(self.valid)

    def map_point_field(self, values: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """A point field (P,) or (P, k) of the source, interpolated at the targets.

        Returns float64 (N,) or (N, k); NaN where the target is outside. ``out``, if given,
        is a float64 array of that shape to write into (no allocation per step).
        """
        values = np.asarray(values)
        if values.ndim not in (1, 2) or values.shape[0] != self.n_source_points:
            raise ValueError(
                f"expected ({self.n_source_points},) or ({self.n_source_points}, k) point "
                f"values, got {values.shape}"
            )
        shape = (self.n_targets,) + values.shape[1:]
        if out is None:
            out = np.empty(shape)
        elif out.shape != shape or out.dtype != np.float64:
            raise ValueError(f"out must be float64 {shape}, got {out.dtype} {out.shape}")
        if values.ndim == 1:
            np.einsum("ij,ij->i", values[self.index], self.weight, out=out)
        else:
            for j in range(values.shape[1]):
                column = np.ascontiguousarray(values[:, j])
                out[:, j] = np.einsum("ij,ij->i", column[self.index], self.weight)
        if len(self._invalid):
            out[self._invalid] = np.nan
        return out

    def map_cell_field(self, values: np.ndarray) -> np.ndarray:
        """A cell field (C,) or (C, k): each target takes its cell's value (NaN outside)."""
        values = np.asarray(values)
        if values.ndim not in (1, 2) or values.shape[0] != self.n_source_cells:
            raise ValueError(
                f"expected ({self.n_source_cells},) or ({self.n_source_cells}, k) cell "
                f"values, got {values.shape}"
            )
        out = values[np.maximum(self.cell_ids, 0)].astype(np.float64)
        if len(self._invalid):
            out[self._invalid] = np.nan
        return out


def lerp(a: np.ndarray, b: np.ndarray, w: float, out: np.ndarray | None = None) -> np.ndarray:
    """``a + (b - a) * w``: a field between two time steps (w = 0 at ``a``, 1 at ``b``).

    Mapping is linear, so lerping two mapped fields equals mapping the lerped field: lerp
    whichever side is smaller.
    """
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} and {b.shape}")
    out = np.subtract(b, a, out=out, dtype=np.float64)
    out *= w
    out += a
    return out


def warp(points: np.ndarray, vectors: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Deformed positions ``points + scale * vectors`` (both (N, 3)); NaN vectors move nothing."""
    points = np.asarray(points, dtype=np.float64)
    vectors = np.asarray(vectors, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 3:
        raise ValueError(f"points must be (N, 3), got {points.shape}")
    if vectors.shape != points.shape:
        raise ValueError(f"vectors must be {points.shape}, got {vectors.shape}")
    return np.where(np.isnan(vectors), 0.0, vectors) * scale + points
