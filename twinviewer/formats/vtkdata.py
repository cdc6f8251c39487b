"""VTK-family reader (``.vtp``, ``.vtu``, ``.vtk``, ``.vtm``): outer surface as triangles.

Read with VTK's own readers and filters (not pyvista's wrappers) so that a reader error is caught
on the reader itself and reported as the file's fault, instead of a warning printed to the
console and an empty model. Volume data (block models, FEA meshes) is reduced to its outer
surface: the viewer colours what can be seen.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from twinviewer.core.model import ModelBuilder, ModelData, ModelReadError
from twinviewer.formats.registry import Progress, reader

log = logging.getLogger(__name__)

_MAX_DEPTH = 32
_OBJECT_PREFIX = re.compile(r"^\w+ \(0x[0-9a-fA-F]+\): ")


@reader("VTK", (".vtp", ".vtu", ".vtk", ".vtm"))
def load_vtk(path: Path, progress: Progress) -> ModelData:
    """Read a VTK file: one component named by the stem, or one per block of a multiblock
    (nested multiblocks become groups; blocks are named as the file names them).
    """
    data = _read(path)
    progress(0.5)
    builder = ModelBuilder(path)
    if data.IsA("vtkMultiBlockDataSet"):
        _add_blocks(builder, path, data, -1, 0, progress)
    elif data.IsA("vtkDataSet"):
        points, faces = _surface(data)
        builder.add(path.stem, -1, points, faces)
    else:
        raise ModelReadError(path, f"holds a {data.GetClassName()}, which has no surface to show")
    return builder.build()


def _read(path: Path) -> Any:
    from vtkmodules.util.misc import calldata_type
    from vtkmodules.util.vtkConstants import VTK_STRING
    from vtkmodules.vtkCommonCore import vtkCommand
    from vtkmodules.vtkIOLegacy import vtkGenericDataObjectReader
    from vtkmodules.vtkIOXML import (
        vtkXMLMultiBlockDataReader,
        vtkXMLPolyDataReader,
        vtkXMLUnstructuredGridReader,
    )

    readers: dict[str, Any] = {
        ".vtp": vtkXMLPolyDataReader,
        ".vtu": vtkXMLUnstructuredGridReader,
        ".vtm": vtkXMLMultiBlockDataReader,
        ".vtk": vtkGenericDataObjectReader,
    }
    vtk_reader = readers[path.suffix.lower()]()
    errors: list[str] = []

    # An observer both collects the error and stops VTK printing it to the console.
    @calldata_type(VTK_STRING)
    def on_error(_obj: Any, _event: str, message: str | None = None) -> None:
        errors.append(_clean(message))

    vtk_reader.AddObserver(vtkCommand.ErrorEvent, on_error)
    vtk_reader.GetExecutive().AddObserver(vtkCommand.ErrorEvent, on_error)
    vtk_reader.SetFileName(str(path))
    vtk_reader.Update()
    output = vtk_reader.GetOutputDataObject(0)
    if errors or output is None:
        reason = next((e for e in errors if e), "no data")
        raise ModelReadError(path, f"not a readable VTK file ({reason})")
    return output


def _clean(message: str | None) -> str:
    """The reason in a VTK error text, without its source line and object address."""
    lines = [ln.strip() for ln in str(message or "").splitlines() if ln.strip()]
    lines = [ln for ln in lines if not ln.startswith("ERROR: In ")]
    return _OBJECT_PREFIX.sub("", lines[0]) if lines else ""


def _add_blocks(
    builder: ModelBuilder, path: Path, data: Any, parent: int, depth: int, progress: Progress
) -> None:
    from vtkmodules.vtkCommonDataModel import vtkCompositeDataSet

    if depth > _MAX_DEPTH:
        raise ModelReadError(path, "multiblock nests too deeply")
    n = data.GetNumberOfBlocks()
    for i in range(n):
        block = data.GetBlock(i)
        if block is None:
            continue
        meta = data.GetMetaData(i) if data.HasMetaData(i) else None
        name = meta.Get(vtkCompositeDataSet.NAME()) if meta is not None else None
        if block.IsA("vtkMultiBlockDataSet"):
            group = builder.add(name, parent)
            _add_blocks(builder, path, block, group, depth + 1, progress)
        elif block.IsA("vtkDataSet"):
            points, faces = _surface(block)
            if len(faces):
                builder.add(name, parent, points, faces)
        if depth == 0:
            progress(0.5 + 0.5 * (i + 1) / n)


def _surface(data: Any) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Outer surface of any dataset, as points and triangles."""
    from vtkmodules.util.numpy_support import vtk_to_numpy
    from vtkmodules.vtkFiltersCore import vtkTriangleFilter
    from vtkmodules.vtkFiltersGeometry import vtkDataSetSurfaceFilter

    surface = vtkDataSetSurfaceFilter()
    surface.SetInputData(data)
    triangles = vtkTriangleFilter()
    triangles.SetInputConnection(surface.GetOutputPort())
    triangles.PassLinesOff()
    triangles.PassVertsOff()
    triangles.Update()
    poly = triangles.GetOutput()
    if poly.GetNumberOfPolys() == 0 or poly.GetPoints() is None:
        return np.zeros((0, 3)), np.zeros((0, 3), np.int64)
    points = vtk_to_numpy(poly.GetPoints().GetData())
    cells = poly.GetPolys()
    offsets = vtk_to_numpy(cells.GetOffsetsArray())
    connectivity = vtk_to_numpy(cells.GetConnectivityArray()).astype(np.int64)
    if not np.all(np.diff(offsets) == 3):  # the triangle filter leaves only triangles
        raise ValueError("surface has non-triangle polygons after triangulation")
    return np.asarray(points, dtype=np.float64), connectivity.reshape(-1, 3)
