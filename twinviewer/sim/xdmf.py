"""XDMF (``.xdmf``, ``.xmf``) with heavy data in HDF5: VTK's reader first, meshio as fallback.

VTK's XDMF 2 reader crashes the process on some broken files (a missing HDF5 file is enough),
so the light XML is checked here first: it must parse, hold a ``<Domain>`` with a ``<Grid>``,
and every HDF5 or binary data item must name a file that exists (and, with h5py installed, a
dataset in it). Grids that other grids only include by ``xpointer`` (meshio's time series keeps
the mesh in a separate grid ``mesh``) are definitions, not parts, and are left out. When VTK
cannot read the file, meshio's XDMF reader is tried (``pip install meshio h5py``).
"""

from __future__ import annotations

import logging
import re
import threading
import weakref
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np

from twinviewer.sim.result import SimReadError, SimResult
from twinviewer.sim.vtkio import (
    open_reader,
    read_parts,
    time_steps,
)

log = logging.getLogger(__name__)

_XDMF = "an XDMF file with its HDF5 data (.xdmf, .xmf)"
_INCLUDED = re.compile(r"""Grid\[@Name=["']([^"']+)["']\]""")


def read_xdmf(path: Path) -> SimResult:
    root = _check(path)
    skip = {n for e in root.iter() for v in e.attrib.values() for n in _INCLUDED.findall(v)}
    try:
        return _read_with_vtk(path, skip)
    except SimReadError as vtk_error:
        try:
            import meshio  # noqa: F401
        except ImportError:
            raise vtk_error from None
        log.debug("VTK could not read %s (%s); trying meshio", path, vtk_error.reason)
        try:
            return read_with_meshio(path, root)
        except SimReadError:
            raise vtk_error from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _check(path: Path) -> ET.Element:
    """The parsed XML, once the heavy data it names is known to be there."""
    if not path.is_file():
        raise SimReadError(path, f"file not found (expected {_XDMF})")
    if path.stat().st_size == 0:
        raise SimReadError(path, f"file is empty (expected {_XDMF})")
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise SimReadError(path, f"not well-formed XML: {exc} (expected {_XDMF})") from None
    if _local(root.tag) != "Xdmf":
        raise SimReadError(path, f"root element is <{_local(root.tag)}> (expected {_XDMF})")
    domain = next((e for e in root if _local(e.tag) == "Domain"), None)
    if domain is None or not any(_local(e.tag) == "Grid" for e in domain.iter()):
        raise SimReadError(path, f"has no <Domain> with a <Grid> (expected {_XDMF})")
    _check_data_items(path, root)
    _check_grids(path, root)
    return root


# Nodes per cell of the fixed-size XDMF topology types (the others are not checked).
_NODES_PER_CELL = {
    "polyvertex": 1,
    "triangle": 3,
    "quadrilateral": 4,
    "tetrahedron": 4,
    "pyramid": 5,
    "wedge": 6,
    "hexahedron": 8,
    "edge_3": 3,
    "triangle_6": 6,
    "quadrilateral_8": 8,
    "quadrilateral_9": 9,
    "tetrahedron_10": 10,
    "pyramid_13": 13,
    "wedge_15": 15,
    "wedge_18": 18,
    "hexahedron_20": 20,
    "hexahedron_24": 24,
    "hexahedron_27": 27,
}


def _dimensions(item: ET.Element) -> int | None:
    try:
        dims = [int(d) for d in (item.get("Dimensions") or "").split()]
    except ValueError:
        return None
    return int(np.prod(dims)) if dims else None


def _check_grids(path: Path, root: ET.Element) -> None:
    """Every uniform grid has a topology and a geometry (its own or included by xpointer),
    and a fixed-size topology has data for all its cells."""
    grids = [e for e in root.iter() if _local(e.tag) == "Grid"]
    by_name = {g.get("Name"): g for g in grids if g.get("Name")}
    for grid in grids:
        if (grid.get("GridType") or "Uniform").lower() != "uniform":
            continue
        children = list(grid)
        for child in grid:
            if _local(child.tag) == "include":
                for name in _INCLUDED.findall(child.get("xpointer") or ""):
                    children.extend(by_name[name] if name in by_name else [])
        tags = {_local(c.tag): c for c in children}
        label = grid.get("Name") or "(unnamed)"
        for needed in ("Topology", "Geometry"):
            if needed not in tags:
                raise SimReadError(
                    path,
                    f"grid {label!r} has no {needed} "
                    f"(expected a Topology and a Geometry in each grid of {_XDMF})",
                )
        topology = tags["Topology"]
        kind = (topology.get("TopologyType") or topology.get("Type") or "").lower()
        per_cell = _NODES_PER_CELL.get(kind)
        if kind in ("polyvertex", "polyline") and topology.get("NodesPerElement"):
            per_cell = int(topology.get("NodesPerElement") or 1)
        item = next((c for c in topology if _local(c.tag) == "DataItem"), None)
        size = _dimensions(item) if item is not None else None
        try:
            cells = int(topology.get("NumberOfElements") or topology.get("Dimensions") or 0)
        except ValueError:
            cells = 0
        if per_cell and size is not None and cells * per_cell > size:
            raise SimReadError(
                path,
                f"grid {label!r}: {cells} {kind} cells need {cells * per_cell} node numbers, "
                f"its topology holds {size} (expected {_XDMF})",
            )


def _check_data_items(path: Path, root: ET.Element) -> None:
    """Heavy data files exist and hold at least what each data item's Dimensions say."""
    try:
        import h5py
    except ImportError:
        h5py = None
    parents = {child: parent for parent in root.iter() for child in parent}
    opened: dict[Path, Any] = {}
    try:
        for item in root.iter():
            if _local(item.tag) != "DataItem":
                continue
            nested = _local(parents.get(item, root).tag) == "DataItem"  # hyperslabs, functions
            fmt = (item.get("Format") or "XML").upper()
            expected = None if nested else _dimensions(item)
            text = (item.text or "").strip()
            if fmt == "XML":
                if expected is not None and not len(item) and len(text.split()) < expected:
                    raise SimReadError(
                        path,
                        f"an XML data item holds {len(text.split())} values where its "
                        f"Dimensions say {expected} (expected {_XDMF})",
                    )
                continue
            if fmt not in ("HDF", "BINARY"):
                continue
            name, _, dataset = text.partition(":") if fmt == "HDF" else (text, "", "")
            name, dataset = name.strip(), dataset.strip()
            file = path.parent / name
            if not name or not file.is_file():
                raise SimReadError(
                    path,
                    f"names heavy data {name!r}, which does not exist (expected {_XDMF} beside it)",
                )
            if fmt == "BINARY":
                try:
                    need = int(item.get("Seek") or 0) + (expected or 0) * int(
                        item.get("Precision") or 4
                    )
                except ValueError:
                    need = 0
                if file.stat().st_size < need:
                    raise SimReadError(
                        path, f"{file.name} is shorter than its data items say (expected {_XDMF})"
                    )
                continue
            if h5py is None:
                continue
            if file not in opened:
                try:
                    opened[file] = h5py.File(file, "r")
                except OSError as exc:
                    raise SimReadError(
                        path, f"{file.name} is not a readable HDF5 file ({exc}) (expected {_XDMF})"
                    ) from None
            node = opened[file].get(dataset) if dataset else None
            if dataset and not isinstance(node, h5py.Dataset):
                raise SimReadError(
                    path, f"{file.name} has no dataset {dataset!r} (expected {_XDMF})"
                )
            if node is not None and expected is not None and node.size < expected:
                raise SimReadError(
                    path,
                    f"{file.name}:{dataset} holds {node.size} values where the XDMF says "
                    f"{expected} (expected {_XDMF})",
                )
    finally:
        for handle in opened.values():
            handle.close()


def _read_with_vtk(path: Path, skip: set[str]) -> SimResult:
    from vtkmodules.vtkIOXdmf2 import vtkXdmfReader

    reader = vtkXdmfReader()
    lock = threading.Lock()
    open_reader(reader, path, _XDMF, "not readable by VTK")
    times = time_steps(reader)

    def load(step: int) -> list[tuple[str, Any]]:
        with lock:
            return read_parts(
                reader, path, times, step, _XDMF, "not readable by VTK", frozenset(skip)
            )

    return SimResult(path, times or [0.0], load, kind=_XDMF)


def read_with_meshio(path: Path, root: ET.Element | None = None) -> SimResult:
    """Read with meshio: its ``TimeSeriesReader`` for a temporal collection, else one step."""
    import meshio
    import pyvista as pv

    root = _check(path) if root is None else root
    temporal = [
        g
        for g in root.iter()
        if _local(g.tag) == "Grid" and (g.get("CollectionType") or "").lower() == "temporal"
    ]
    name = path.stem
    lock = threading.Lock()

    def to_vtk(mesh: Any) -> Any:
        points = np.asarray(mesh.points, dtype=np.float64)
        if points.ndim == 2 and points.shape[1] < 3:  # 2D meshes: z = 0
            pad = np.zeros((len(points), 3 - points.shape[1]))
            mesh.points = np.hstack([points, pad])
        return pv.from_meshio(mesh)

    try:
        if not temporal:
            mesh = meshio.read(path)
            return SimResult(path, [0.0], lambda _step: [(name, to_vtk(mesh))], kind=_XDMF)
        series = meshio.xdmf.TimeSeriesReader(str(path))
        points, cells = series.read_points_cells()
        times = _times(temporal[0]) or [
            float(series.read_data(k)[0]) for k in range(series.num_steps)
        ]
    except SimReadError:
        raise
    except Exception as exc:
        log.debug("meshio failed on %s", path, exc_info=True)
        raise SimReadError(path, f"not readable by meshio: {exc} (expected {_XDMF})") from None

    order = np.argsort(times, kind="stable")

    def load(step: int) -> list[tuple[str, Any]]:
        with lock:
            _, point_data, cell_data = series.read_data(int(order[step]))
        return [(name, to_vtk(meshio.Mesh(points, cells, point_data, cell_data)))]

    result = SimResult(path, [times[i] for i in order], load, kind=_XDMF)
    # meshio keeps its HDF5 files open between steps; close them with the result.
    weakref.finalize(result, series.__exit__, None, None, None)
    return result


def _times(collection: ET.Element) -> list[float]:
    """The ``<Time Value=>`` of each grid of a temporal collection ([] when any is missing)."""
    out = []
    for grid in (g for g in collection if _local(g.tag) == "Grid"):
        time = next((e for e in grid if _local(e.tag) == "Time"), None)
        try:
            out.append(float(time.get("Value") or "") if time is not None else float("nan"))
        except ValueError:
            return []
    return [] if any(np.isnan(out)) else out
