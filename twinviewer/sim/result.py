"""A simulation result: its time steps, fields and parts, with each step's mesh read on demand.

Design:

- **Lazy steps.** A reader hands :class:`SimResult` the step times (from the collection file,
  the series file or the reader's metadata) and a *step loader*: a function from a step index
  to that step's parts as ``(part name, VTK dataset)`` pairs. Only the first step is read when
  the result is opened (for its fields, parts and bounds); every other step is read when it is
  first asked for, and the last few merged meshes are kept (a small LRU) so that stepping back
  and forth is cheap.
- **Merged parts.** ``mesh(step)`` is one ``pyvista.UnstructuredGrid`` holding every part,
  with an ``int32`` cell array ``"part"`` indexing :attr:`SimResult.parts`. Cells keep their
  type, so quadratic cells stay quadratic. Point and cell arrays keep the file's names; an
  array that only some parts have is kept for all of them, as ``float64`` with NaN where a part
  has none. Geometry is as in the file (an Exodus displacement field is not applied).
- **Units.** A field's unit comes from, in this order: the array's ``UNITS_LABEL`` information
  key (VTK XML files keep it as ``<InformationKey name="UNITS_LABEL">``); a field-data string
  array named ``"<field>_unit"`` or ``"<field>_units"``; the name convention
  ``"Pressure [Pa]"`` (the unit in square brackets at the end; the name stays as in the file).
  Otherwise it is ``None``.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    import pyvista as pv

log = logging.getLogger(__name__)

PART_ARRAY = "part"
CACHE_SIZE = 4
_MODES = ("nearest", "previous", "next")
_UNIT_IN_NAME = re.compile(r"\[([^\[\]]+)\]\s*$")

StepLoader = Callable[[int], Sequence[tuple[str, Any]]]
"""A step index -> that step's parts as (part name, VTK dataset) pairs."""


class SimReadError(Exception):
    """A simulation result could not be read: ``"<file>: what went wrong (what was expected)"``."""

    def __init__(self, path: object, reason: str) -> None:
        self.path = str(path)
        self.reason = " ".join(str(reason).split())  # always one line
        super().__init__(f"{self.path}: {self.reason}")


@dataclass(frozen=True)
class FieldInfo:
    """One point or cell array of a result."""

    name: str  # as in the file
    association: str  # "point" | "cell"
    components: int  # 1 scalar, 3 vector, 6/9 tensor ...
    unit: str | None  # see the module docstring for where units come from


class SimResult:
    """Time steps, fields and parts of a simulation result; see the module docstring."""

    def __init__(
        self,
        path: str | Path,
        times: Sequence[float] | NDArray[np.float64],
        loader: StepLoader,
        kind: str = "a simulation result",
    ) -> None:
        self.path = Path(path)
        self.kind = kind
        times_array = np.asarray(times, dtype=np.float64).reshape(-1)
        if len(times_array) == 0:
            times_array = np.zeros(1)
        if np.any(np.diff(times_array) < 0):
            raise ValueError("step times must be ascending")
        self.times: NDArray[np.float64] = times_array
        self._loader = loader
        self._lock = threading.RLock()
        self._cache: OrderedDict[int, Any] = OrderedDict()
        self.parts: list[str] = []
        self._part_index: dict[str, int] = {}
        first = self._load_parts(0)
        if not first or sum(ds.GetNumberOfPoints() for _, ds in first) == 0:
            raise SimReadError(self.path, f"holds no points (expected {kind} with a mesh)")
        for name, _ in first:
            self._index_of(name)
        self.fields: list[FieldInfo] = _fields(first)
        grid = self._merge(first)
        self._cache[0] = grid
        self._bounds = tuple(float(v) for v in grid.bounds)

    # -- steps ---------------------------------------------------------------------------

    @property
    def n_steps(self) -> int:
        return len(self.times)

    @property
    def bounds(self) -> tuple[float, float, float, float, float, float]:
        """``(xmin, xmax, ymin, ymax, zmin, zmax)`` of the first step."""
        b = self._bounds
        return (b[0], b[1], b[2], b[3], b[4], b[5])

    def mesh(self, step: int) -> pv.UnstructuredGrid:
        """All parts of a step merged into one ``pyvista.UnstructuredGrid`` (a shallow copy of
        the cached grid: adding arrays to it does not change the cache)."""
        step = self._check_step(step)
        with self._lock:
            grid = self._cache.get(step)
            if grid is not None:
                self._cache.move_to_end(step)
            else:
                grid = self._merge(self._load_parts(step))
                self._cache[step] = grid
                while len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
            return grid.copy(deep=False)

    def field(self, step: int, name: str, association: str | None = None) -> NDArray[Any]:
        """A field's values at a step: ``(n,)`` for a scalar, ``(n, k)`` otherwise; read-only
        (it is the cached mesh's array).

        Without ``association`` a point array is preferred over a cell array of the same name.
        """
        if association not in (None, "point", "cell"):
            raise ValueError(f"association must be 'point' or 'cell', not {association!r}")
        grid = self.mesh(step)
        for assoc in ("point", "cell") if association is None else (association,):
            data = grid.point_data if assoc == "point" else grid.cell_data
            if name in data.keys():
                values = np.asarray(data[name]).view(np.ndarray)
                values.flags.writeable = False
                return values
        known = ", ".join(f"{f.name} ({f.association})" for f in self.fields) or "none"
        raise KeyError(f"no field {name!r} in {self.path.name} (fields: {known})")

    def step_at(self, t: float, mode: str = "nearest") -> int:
        """The step for time ``t``: ``"nearest"`` (ties go to the earlier step), ``"previous"``
        (the last step at or before ``t``) or ``"next"`` (the first at or after ``t``); clamped
        to the first and last step."""
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {', '.join(_MODES)}, not {mode!r}")
        times = self.times
        n = len(times)
        if mode == "previous":
            return int(np.clip(np.searchsorted(times, t, side="right") - 1, 0, n - 1))
        if mode == "next":
            return int(np.clip(np.searchsorted(times, t, side="left"), 0, n - 1))
        i, j, w = self.bracket(t)
        return j if w > 0.5 else i

    def bracket(self, t: float) -> tuple[int, int, float]:
        """Steps ``i <= j`` and weight ``w`` in [0, 1] with ``value = (1 - w) * a_i + w * a_j``;
        before the first step ``(0, 0, 0.0)``, after the last ``(n-1, n-1, 0.0)``."""
        times = self.times
        n = len(times)
        if n == 1 or not t > times[0]:
            return 0, 0, 0.0
        if not t < times[-1]:
            return n - 1, n - 1, 0.0
        j = int(np.searchsorted(times, t, side="right"))
        i = j - 1
        span = float(times[j] - times[i])
        w = float((t - times[i]) / span) if span > 0 else 0.0
        return i, j, min(max(w, 0.0), 1.0)

    def field_info(self, name: str, association: str | None = None) -> FieldInfo:
        for f in self.fields:
            if f.name == name and (association is None or f.association == association):
                return f
        raise KeyError(f"no field {name!r} in {self.path.name}")

    def __repr__(self) -> str:
        return (
            f"SimResult({self.path.name!r}, steps={self.n_steps}, parts={self.parts}, "
            f"fields={[f.name for f in self.fields]})"
        )

    # -- internals -------------------------------------------------------------------------

    def _check_step(self, step: int) -> int:
        n = self.n_steps
        index = int(step)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"step {step} out of range: {self.path.name} has {n} steps")
        return index

    def _load_parts(self, step: int) -> list[tuple[str, Any]]:
        try:
            parts = list(self._loader(step))
            for name, ds in parts:
                problem = cell_problem(ds)
                if problem:
                    raise SimReadError(
                        self.path, f"step {step}, part {name!r}: {problem} (expected {self.kind})"
                    )
            return parts
        except SimReadError:
            raise
        except MemoryError:
            raise SimReadError(self.path, f"not enough memory to read step {step}") from None
        except Exception as exc:  # a reader library failing on bad bytes is the file's fault
            log.debug("reading step %d of %s failed", step, self.path, exc_info=True)
            raise SimReadError(
                self.path, f"step {step} is not readable: {_reason(exc)} (expected {self.kind})"
            ) from None

    def _index_of(self, name: str) -> int:
        index = self._part_index.get(name)
        if index is None:
            index = len(self.parts)
            self.parts.append(name)
            self._part_index[name] = index
        return index

    def _merge(self, parts: list[tuple[str, Any]]) -> Any:
        with self._lock:
            indexed = [(self._index_of(name), ds) for name, ds in parts]
        return merge_parts(indexed)


def merge_parts(parts: Sequence[tuple[int, Any]]) -> Any:
    """One unstructured grid from ``(part index, VTK dataset)`` pairs, cells tagged ``"part"``."""
    import pyvista as pv

    grids = []
    for index, ds in parts:
        grid = _as_unstructured(ds)
        if PART_ARRAY in grid.cell_data.keys():
            log.warning("renaming the file's cell array %r to 'part (file)'", PART_ARRAY)
            grid.cell_data["part (file)"] = grid.cell_data.pop(PART_ARRAY)
        grid.cell_data[PART_ARRAY] = np.full(grid.n_cells, index, dtype=np.int32)
        grids.append(grid)
    if not grids:
        return pv.UnstructuredGrid()
    if len(grids) == 1:
        return grids[0]
    _pad_arrays(grids, "point")
    _pad_arrays(grids, "cell")
    from vtkmodules.vtkFiltersCore import vtkAppendFilter

    append = vtkAppendFilter()
    append.MergePointsOff()
    for grid in grids:
        append.AddInputData(grid)
    append.Update()
    return pv.wrap(append.GetOutput())


def cell_problem(ds: Any) -> str:
    """What is wrong with a dataset's cells ('' when nothing): point numbers out of range would
    crash VTK's filters and renderers later, so a broken file is stopped here."""
    from vtkmodules.util.numpy_support import vtk_to_numpy

    if ds.IsA("vtkUnstructuredGrid"):
        arrays = [ds.GetCells()]
    elif ds.IsA("vtkPolyData"):
        arrays = [ds.GetVerts(), ds.GetLines(), ds.GetPolys(), ds.GetStrips()]
    else:
        return ""
    n = ds.GetNumberOfPoints()
    for cells in arrays:
        if cells is None or cells.GetNumberOfCells() == 0:
            continue
        connectivity = vtk_to_numpy(cells.GetConnectivityArray())
        if len(connectivity) and (connectivity.min() < 0 or connectivity.max() >= n):
            bad = int(connectivity.max() if connectivity.max() >= n else connectivity.min())
            return f"a cell refers to point {bad}, but there are {n} points"
    return ""


def _as_unstructured(ds: Any) -> Any:
    """A new unstructured grid for a dataset, sharing its arrays where it can (cells keep their
    types: quadratic cells are not linearised)."""
    import pyvista as pv

    if ds.IsA("vtkUnstructuredGrid"):
        grid = pv.UnstructuredGrid()
        grid.ShallowCopy(ds)
        return grid
    return pv.wrap(ds).cast_to_unstructured_grid()


def _pad_arrays(grids: list[Any], association: str) -> None:
    """Give every grid every array of the others (vtkAppendFilter keeps only common arrays)."""

    def data_of(g: Any) -> Any:
        return g.point_data if association == "point" else g.cell_data

    names: dict[str, list[tuple[np.dtype[Any], tuple[int, ...]]]] = {}
    for g in grids:
        d = data_of(g)
        for name in d.keys():
            a = np.asarray(d[name])
            names.setdefault(name, []).append((a.dtype, a.shape[1:]))
    for name, seen in names.items():
        shapes = {s for _, s in seen}
        if len(shapes) > 1:
            log.warning(
                "dropping %s array %r: its components differ between parts", association, name
            )
            for g in grids:
                if name in data_of(g).keys():
                    data_of(g).remove(name)
            continue
        if len(seen) == len(grids) and len({dt for dt, _ in seen}) == 1:
            continue
        shape = next(iter(shapes))
        for g in grids:
            d = data_of(g)
            n = g.n_points if association == "point" else g.n_cells
            if name in d.keys():
                if np.asarray(d[name]).dtype.kind in "fiub":
                    d[name] = np.asarray(d[name], dtype=np.float64)
            else:
                d[name] = np.full((n, *shape), np.nan)


def _fields(parts: Sequence[tuple[str, Any]]) -> list[FieldInfo]:
    """The point and cell arrays of a step's parts (union, first seen first), with units."""
    out: dict[tuple[str, str], FieldInfo] = {}
    for _, ds in parts:
        for association, data in (("point", ds.GetPointData()), ("cell", ds.GetCellData())):
            for i in range(data.GetNumberOfArrays()):
                array = data.GetAbstractArray(i)
                name = array.GetName() if array is not None else None
                if not name or name == PART_ARRAY or name.startswith("vtk"):
                    continue
                if (name, association) in out:
                    continue
                out[(name, association)] = FieldInfo(
                    name, association, int(array.GetNumberOfComponents()), unit_of(ds, array)
                )
    return list(out.values())


def unit_of(ds: Any, array: Any) -> str | None:
    """The unit of an array, by the convention in the module docstring, or ``None``."""
    from vtkmodules.vtkCommonCore import vtkDataArray

    info = array.GetInformation()
    key = vtkDataArray.UNITS_LABEL()
    if info is not None and info.Has(key):
        unit = str(info.Get(key)).strip()
        if unit:
            return unit
    name = array.GetName()
    field_data = ds.GetFieldData()
    if field_data is not None:
        for suffix in ("_unit", "_units"):
            unit_array = field_data.GetAbstractArray(name + suffix)
            if unit_array is not None and unit_array.GetNumberOfValues() > 0:
                unit = str(unit_array.GetVariantValue(0).ToString()).strip()
                if unit:
                    return unit
    match = _UNIT_IN_NAME.search(name)
    return match.group(1).strip() if match else None


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
