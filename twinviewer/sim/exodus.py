"""Exodus II (``.e``, ``.exo``, ``.ex2``, ``.exii``) through VTK's ``vtkExodusIIReader``.

Every element block is a part (named as the file names it); all nodal and element variables
are read, with the reader's grouping of ``disp_x``/``disp_y``/``disp_z`` into one vector
``disp``. Geometry stays as in the file: displacements are not applied. The reader's generated
id arrays are left out (the merged mesh has its own ``part`` array). The netCDF/HDF5 signature
is checked before VTK sees the file, and what the Exodus library prints straight to stderr
goes to the debug log.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from twinviewer.sim.result import SimReadError, SimResult
from twinviewer.sim.vtkio import leaves, open_reader, quiet_stderr, quiet_vtk, time_steps

log = logging.getLogger(__name__)

_EXODUS = "an Exodus II file (netCDF)"
_MAGIC = (b"CDF\x01", b"CDF\x02", b"CDF\x05", b"\x89HDF\r\n\x1a\n")


def read_exodus(path: Path) -> SimResult:
    from vtkmodules.vtkIOExodus import vtkExodusIIReader

    if not path.is_file():
        raise SimReadError(path, f"file not found (expected {_EXODUS})")
    with path.open("rb") as f:
        head = f.read(8)
    if not head:
        raise SimReadError(path, f"file is empty (expected {_EXODUS})")
    if not any(head.startswith(m) for m in _MAGIC):
        raise SimReadError(path, f"not a netCDF or HDF5 file (expected {_EXODUS})")

    reader = vtkExodusIIReader()
    lock = threading.Lock()
    open_reader(reader, path, _EXODUS)
    for kind in (reader.NODAL, reader.ELEM_BLOCK):
        reader.SetAllArrayStatus(kind, 1)
    reader.ApplyDisplacementsOff()
    reader.GenerateObjectIdCellArrayOff()
    reader.GenerateGlobalElementIdArrayOff()
    reader.GenerateGlobalNodeIdArrayOff()
    reader.GenerateImplicitElementIdArrayOff()
    reader.GenerateImplicitNodeIdArrayOff()
    reader.GenerateFileIdArrayOff()
    times = time_steps(reader)

    def load(step: int) -> list[tuple[str, Any]]:
        with lock, quiet_vtk() as messages, quiet_stderr():
            reader.SetTimeStep(step)
            reader.Update()
            output = reader.GetOutput()
            errors = messages.all_errors()
            if errors or output is None:
                reason = errors[0] if errors else "no data"
                raise SimReadError(path, f"step {step} not readable: {reason} (expected {_EXODUS})")
            blocks = output.GetBlock(0) if output.GetNumberOfBlocks() else None
            out = []
            for name, ds in leaves(blocks, path.stem):
                copy = ds.NewInstance()
                copy.DeepCopy(ds)  # the reader reuses its output on the next step
                out.append((name, copy))
            return out

    return SimResult(path, times or [0.0], load, kind=_EXODUS)
