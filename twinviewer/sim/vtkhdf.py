"""VTKHDF (``.vtkhdf``): VTK's HDF5 format, with time steps, through ``vtkHDFReader``.

Steps come from the reader's time values; a partitioned collection's datasets are the parts,
by the names the file gives them. The HDF5 signature is checked before VTK opens the file.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from twinviewer.sim.result import SimReadError, SimResult
from twinviewer.sim.vtkio import (
    open_reader,
    read_parts,
    time_steps,
)

log = logging.getLogger(__name__)

_VTKHDF = "a VTKHDF file (.vtkhdf)"
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def read_vtkhdf(path: Path) -> SimResult:
    from vtkmodules.vtkIOHDF import vtkHDFReader

    if not path.is_file():
        raise SimReadError(path, f"file not found (expected {_VTKHDF})")
    with path.open("rb") as f:
        if f.read(8) != _HDF5_MAGIC:
            raise SimReadError(path, f"not an HDF5 file (expected {_VTKHDF})")
    reader = vtkHDFReader()
    lock = threading.Lock()
    open_reader(reader, path, _VTKHDF)
    times = time_steps(reader)

    def load(step: int) -> list[tuple[str, Any]]:
        with lock:
            return read_parts(reader, path, times, step, _VTKHDF)

    return SimResult(path, times or [0.0], load, kind=_VTKHDF)
