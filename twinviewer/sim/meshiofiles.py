"""Mesh formats that meshio reads and VTK does not: Gmsh, Abaqus, MED, Nastran, Medit, SU2 ...

Each is one step with one part (named by the file's stem); meshio's cell blocks become one
grid, quadratic cells included (``tetra10`` stays a quadratic tetrahedron). Needs the optional
``meshio`` package (``pip install meshio h5py``, the ``sim`` extra); without it the file gets a
clear message. What meshio writes as Python warnings or on stderr goes to the debug log.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from twinviewer.sim.result import SimReadError, SimResult
from twinviewer.sim.vtkio import quiet_stderr

log = logging.getLogger(__name__)

#: suffix -> what the file should be, for messages.
MESHIO_FORMATS: dict[str, str] = {
    ".msh": "a Gmsh mesh (.msh)",
    ".inp": "an Abaqus input file (.inp)",
    ".med": "a Salome MED file (.med)",
    ".bdf": "a Nastran bulk data file (.bdf)",
    ".fem": "a Nastran bulk data file (.fem)",
    ".nas": "a Nastran bulk data file (.nas)",
    ".mesh": "a Medit mesh (.mesh)",
    ".meshb": "a Medit mesh (.meshb)",
    ".su2": "an SU2 mesh (.su2)",
    ".mdpa": "a Kratos model part (.mdpa)",
    ".h5m": "a MOAB mesh (.h5m)",
    ".f3grid": "a FLAC3D grid (.f3grid)",
    ".ugrid": "a UGRID mesh (.ugrid)",
}


def read_meshio(path: Path) -> SimResult:
    what = MESHIO_FORMATS.get(path.suffix.lower(), f"a mesh meshio reads ({path.suffix})")
    try:
        import meshio
    except ImportError:
        raise SimReadError(
            path, f"reading this needs meshio (pip install meshio h5py) (expected {what})"
        ) from None
    try:
        with warnings.catch_warnings(record=True) as caught, quiet_stderr():
            warnings.simplefilter("always")
            mesh = meshio.read(path)
        for warning in caught:
            log.debug("meshio on %s: %s", path.name, warning.message)
        data = to_vtk(mesh)
    except SimReadError:
        raise
    except MemoryError:
        raise
    except Exception as exc:
        log.debug("meshio failed on %s", path, exc_info=True)
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SimReadError(path, f"not readable by meshio: {text} (expected {what})") from None
    return SimResult(path, [0.0], lambda _step: [(path.stem, data)], kind=what)


def to_vtk(mesh: Any) -> Any:
    """A meshio mesh as a VTK unstructured grid (2D points get z = 0)."""
    import pyvista as pv

    points = np.asarray(mesh.points, dtype=np.float64)
    if points.ndim == 2 and points.shape[1] < 3:
        mesh.points = np.hstack([points, np.zeros((len(points), 3 - points.shape[1]))])
    return pv.from_meshio(mesh)
