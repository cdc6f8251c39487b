"""OpenFOAM cases through VTK's ``vtkOpenFOAMReader`` (``vtkPOpenFOAMReader`` for decomposed ones).

A case is a folder with ``system/controlDict``. It is opened by the folder itself, by its
``system/controlDict`` file, or by any ``*.foam`` / ``*.OpenFOAM`` file inside it (ParaView's
convention: an empty ``case.foam`` beside ``system``). What is read:

- **Parts**: the internal mesh (``internalMesh``) and every boundary patch (``patch/<name>``
  in the reader's terms, ``boundary/<name>`` as parts). Lagrangian clouds and zones are left out.
- **Steps**: the case's time folders (``0``, ``0.1``, ...), as VTK lists them.
- **Decomposed cases**: where ``processor0/`` ... hold the time folders and the top level has
  no mesh (or fewer time folders than ``processor0``), the processors are read and joined.
- **Fields**: every volume field of the time folders, as cell arrays and (interpolated by the
  reader) point arrays, named as in the files; the unit comes from each field's
  ``dimensions`` entry (``[0 1 -1 0 0 0 0]`` -> ``m/s``).

Problems are found before VTK sees the case (no controlDict, no ``constant/polyMesh``, mesh
files missing) and reported as one :class:`SimReadError` line, as the other readers do.
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path
from typing import Any

from twinviewer.sim.result import SimReadError, SimResult
from twinviewer.sim.vtkio import open_reader, read_parts, time_steps

log = logging.getLogger(__name__)

OPENFOAM = "an OpenFOAM case (a folder with system/controlDict and constant/polyMesh)"
CASE_SUFFIXES = (".foam", ".openfoam")
_MESH_FILES = ("points", "faces", "owner", "boundary")
_TIME_NAME = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
_UNIT_SUFFIX = re.compile(r"^(.*\S)\s*\[([^\[\]]*)\]$")


def is_openfoam_case(path: str | Path) -> bool:
    """Whether a path names an OpenFOAM case: a ``controlDict`` or ``*.foam`` / ``*.OpenFOAM``
    file (existing or not), or a folder with ``system/controlDict``, ``constant/polyMesh`` or
    ``processor0`` (so that a case missing its controlDict is told so, not "unsupported")."""
    path = Path(path)
    if path.suffix.lower() in CASE_SUFFIXES:
        return True
    if path.name == "controlDict" and not path.is_dir():
        return True
    if not path.is_dir():
        return False
    marks = (path / "system" / "controlDict", path / "constant" / "polyMesh", path / "processor0")
    return any(m.exists() for m in marks)


def case_folder(path: Path) -> Path:
    """The case folder of a case path (the folder, the controlDict's ``..``, the .foam's folder)."""
    if path.is_dir():
        return path
    if path.name == "controlDict" and path.parent.name == "system":
        return path.parent.parent
    return path.parent


def read_openfoam(path: Path) -> SimResult:
    """An OpenFOAM case, see the module docstring."""
    from vtkmodules.vtkIOGeometry import vtkOpenFOAMReader

    case = case_folder(path)
    _check_case(path, case)
    decomposed = _is_decomposed(case)
    if decomposed:
        from vtkmodules.vtkIOParallel import vtkPOpenFOAMReader

        reader: Any = vtkPOpenFOAMReader()
        reader.SetCaseType(0)  # 0: decomposed (processor*/), 1: reconstructed
    else:
        reader = vtkOpenFOAMReader()
    reader.AddDimensionsToArrayNamesOn()  # "U [m/s]": the unit, moved into UNITS_LABEL below
    reader.CreateCellToPointOn()
    reader.ReadZonesOff()
    # VTK finds the case from a file inside it; the controlDict is always there.
    target = path if path.is_file() else case / "system" / "controlDict"
    open_reader(reader, target, OPENFOAM)
    for i in range(reader.GetNumberOfPatchArrays()):
        name = reader.GetPatchArrayName(i)
        on = name == "internalMesh" or name.startswith("patch/")
        reader.SetPatchArrayStatus(name, 1 if on else 0)
    for i in range(reader.GetNumberOfLagrangianArrays()):
        reader.SetLagrangianArrayStatus(reader.GetLagrangianArrayName(i), 0)
    reader.UpdateInformation()
    times = time_steps(reader)
    lock = threading.Lock()
    kind = f"{OPENFOAM}{', decomposed' if decomposed else ''}"
    log.debug("%s: %s case, times %s", case, "decomposed" if decomposed else "", times)

    def load(step: int) -> list[tuple[str, Any]]:
        with lock:
            parts = read_parts(
                reader, path, times, step, kind, skip=frozenset({"lagrangian", "zones"})
            )
        for _, ds in parts:
            _units_out_of_names(ds)
        return parts

    return SimResult(path, times or [0.0], load, kind=kind)


def _check_case(path: Path, case: Path) -> None:
    if path.suffix.lower() in CASE_SUFFIXES and not path.is_file():
        raise SimReadError(path, f"file not found (expected {OPENFOAM})")
    if path.name == "controlDict" and not path.is_file():
        raise SimReadError(path, f"file not found (expected {OPENFOAM})")
    if not case.is_dir():
        raise SimReadError(path, f"folder not found (expected {OPENFOAM})")
    control = case / "system" / "controlDict"
    if not control.is_file():
        raise SimReadError(path, f"no system/controlDict in {case} (expected {OPENFOAM})")
    if control.stat().st_size == 0:
        raise SimReadError(path, f"system/controlDict is empty (expected {OPENFOAM})")
    mesh_owner = case / "processor0" if _is_decomposed(case) else case
    missing = _missing_mesh_files(mesh_owner)
    if missing is not None:
        raise SimReadError(path, f"{missing} (expected {OPENFOAM})")


def _missing_mesh_files(where: Path) -> str | None:
    """What is missing of ``constant/polyMesh`` under ``where``, or ``None``. A mesh that
    moves (``<time>/polyMesh``) counts too; files may be compressed (``points.gz``)."""
    meshes = [where / "constant" / "polyMesh"]
    meshes += [d / "polyMesh" for d in _time_dirs(where)]
    found = [m for m in meshes if m.is_dir()]
    if not found:
        rel = where.name + "/" if where.name.startswith("processor") else ""
        return f"no {rel}constant/polyMesh folder (the mesh)"
    mesh = found[0]
    for name in _MESH_FILES:
        if not (mesh / name).is_file() and not (mesh / f"{name}.gz").is_file():
            return f"the mesh has no {name} file ({mesh / name} is missing)"
        file = mesh / name if (mesh / name).is_file() else mesh / f"{name}.gz"
        if file.stat().st_size == 0:
            return f"the mesh's {name} file is empty ({file})"
    return None


def _time_dirs(where: Path) -> list[Path]:
    try:
        return [d for d in where.iterdir() if d.is_dir() and _TIME_NAME.match(d.name)]
    except OSError:
        return []


def _is_decomposed(case: Path) -> bool:
    """Read the processors when the top level has no mesh, or fewer time folders than
    ``processor0`` (a case decomposed and run, never reconstructed)."""
    proc = case / "processor0"
    if not proc.is_dir():
        return False
    if not (case / "constant" / "polyMesh").is_dir():
        return True
    return len(_time_dirs(proc)) > len(_time_dirs(case))


def _units_out_of_names(ds: Any) -> None:
    """``"U [m/s]"`` (the reader's dimensions in the name) -> ``"U"`` with UNITS_LABEL ``m/s``."""
    from vtkmodules.vtkCommonCore import vtkDataArray

    for data in (ds.GetPointData(), ds.GetCellData()):
        for i in range(data.GetNumberOfArrays()):
            array = data.GetAbstractArray(i)
            name = array.GetName() if array is not None else None
            match = _UNIT_SUFFIX.match(name or "")
            if match is None:
                continue
            field, unit = match.group(1), match.group(2).strip()
            array.SetName(field)
            if unit:
                array.GetInformation().Set(vtkDataArray.UNITS_LABEL(), unit)
