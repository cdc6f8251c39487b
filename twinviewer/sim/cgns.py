"""CGNS (``.cgns``, ADF or HDF5) through VTK's ``vtkCGNSReader`` (in the ``vtk`` wheels since 9.1).

Every zone is a part (``Base/Zone`` as VTK names them), boundary patches are left out (the
zones are the volume); all point and cell solution arrays are read; time steps are the base's
``BaseIterativeData`` times when the file has them. Where the ``vtk`` installed lacks the module,
opening a CGNS file says so in one line.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from twinviewer.sim.result import SimReadError, SimResult
from twinviewer.sim.vtkio import open_reader, read_parts, time_steps

log = logging.getLogger(__name__)

CGNS = "a CGNS file (HDF5 or ADF)"
_MAGIC = (b"\x89HDF\r\n\x1a\n", b"@(#)ADF")


def cgns_available() -> bool:
    """Whether the installed VTK has its CGNS reader."""
    try:
        from vtkmodules.vtkIOCGNSReader import vtkCGNSReader  # noqa: F401
    except ImportError:
        return False
    return True


def read_cgns(path: Path) -> SimResult:
    try:
        from vtkmodules.vtkIOCGNSReader import vtkCGNSReader
    except ImportError:
        raise SimReadError(
            path,
            "this VTK has no CGNS reader (vtkmodules.vtkIOCGNSReader); install a vtk wheel "
            f"built with it (expected {CGNS})",
        ) from None
    with path.open("rb") as f:
        head = f.read(16)
    if not any(m in head for m in _MAGIC):
        raise SimReadError(path, f"not an HDF5 or ADF file (expected {CGNS})")
    reader = vtkCGNSReader()
    open_reader(reader, path, CGNS)
    reader.EnableAllPointArrays()
    reader.EnableAllCellArrays()
    reader.SetLoadBndPatch(False)
    for i in range(reader.GetNumberOfBaseArrays()):
        reader.SetBaseArrayStatus(reader.GetBaseArrayName(i), 1)
    reader.UpdateInformation()
    times = time_steps(reader)
    lock = threading.Lock()

    def load(step: int) -> list[tuple[str, Any]]:
        with lock:
            return read_parts(reader, path, times, step, CGNS)

    return SimResult(path, times or [0.0], load, kind=CGNS)
