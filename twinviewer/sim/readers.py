"""The simulation-result side of the reader registry: suffix -> reader, and :func:`read_result`.

Models (:mod:`twinviewer.formats.registry`) become one static triangle mesh; simulation results
keep their volume cells, time steps and fields, so they have their own small registry here. A
reader is a function ``(path) -> SimResult``; register more with :func:`register_reader`.
Every failure reaches the caller as one :class:`SimReadError` line naming the file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from twinviewer.sim.cgns import read_cgns
from twinviewer.sim.ensight import CASE_SUFFIXES as ENSIGHT_SUFFIXES
from twinviewer.sim.ensight import read_ensight
from twinviewer.sim.exodus import read_exodus
from twinviewer.sim.meshiofiles import MESHIO_FORMATS, read_meshio
from twinviewer.sim.openfoam import CASE_SUFFIXES, OPENFOAM, is_openfoam_case, read_openfoam
from twinviewer.sim.result import SimReadError, SimResult
from twinviewer.sim.vtkfiles import read_pvd, read_series, read_vtk
from twinviewer.sim.vtkhdf import read_vtkhdf
from twinviewer.sim.vtkio import LEGACY_SUFFIXES, XML_READERS, describe
from twinviewer.sim.xdmf import read_xdmf

log = logging.getLogger(__name__)

SimReader = Callable[[Path], SimResult]


@dataclass(frozen=True)
class SimReaderInfo:
    name: str
    suffixes: tuple[str, ...]
    function: SimReader


_READERS: list[SimReaderInfo] = []


def register_reader(name: str, suffixes: tuple[str, ...], function: SimReader) -> None:
    """Add a reader for the given lower-case suffixes (with the dot; ``.vtu.series`` style
    double suffixes are matched by their last part, e.g. ``.series``)."""
    _READERS.append(SimReaderInfo(name, tuple(s.lower() for s in suffixes), function))


register_reader("VTK", (*XML_READERS, *LEGACY_SUFFIXES), read_vtk)
register_reader("ParaView collection", (".pvd",), read_pvd)
register_reader("ParaView file series", (".series",), read_series)
register_reader("XDMF", (".xdmf", ".xmf"), read_xdmf)
register_reader("Exodus II", (".e", ".exo", ".ex2", ".exii"), read_exodus)
register_reader("VTKHDF", (".vtkhdf",), read_vtkhdf)
register_reader("meshio", tuple(MESHIO_FORMATS), read_meshio)
register_reader("EnSight Gold", ENSIGHT_SUFFIXES, read_ensight)
register_reader("CGNS", (".cgns",), read_cgns)
register_reader("OpenFOAM", CASE_SUFFIXES, read_openfoam)  # also a case folder, a controlDict


def sim_readers() -> list[SimReaderInfo]:
    return list(_READERS)


def result_suffixes() -> list[str]:
    """Every suffix :func:`read_result` reads (``.series`` stands for ``*.vtu.series`` etc.)."""
    return sorted({s for r in _READERS for s in r.suffixes})


def find_sim_reader(path: Path) -> SimReaderInfo | None:
    if is_openfoam_case(path):  # a case folder or its controlDict: no suffix to go by
        return next((r for r in reversed(_READERS) if r.name == "OpenFOAM"), None)
    suffix = path.suffix.lower()
    for info in reversed(_READERS):  # later registrations override
        if suffix in info.suffixes:
            return info
    return None


def is_result(path: str | Path) -> bool:
    """Whether a path's suffix is that of a simulation result, or it is an OpenFOAM case (a
    folder with system/controlDict, or that controlDict); files are not opened."""
    return find_sim_reader(Path(path)) is not None


def read_result(path: str | Path) -> SimResult:
    """Open a simulation result: its steps, fields and parts; meshes are read on demand.

    Raises :class:`SimReadError` (one line naming the file) for a missing, broken, empty or
    unsupported file.
    """
    path = Path(path)
    info = find_sim_reader(path)
    if info is None:
        raise SimReadError(
            path,
            f"unsupported file type {path.suffix or '(no suffix)'} "
            f"(expected one of {', '.join(result_suffixes())})",
        )
    suffix = path.suffix.lower()
    if info.name == "OpenFOAM":  # a folder, or an empty case.foam: checked by the reader
        return _run(info, path, OPENFOAM)
    if info.name == "VTK":
        expected = describe(suffix)
    elif info.name == "meshio":
        expected = MESHIO_FORMATS.get(suffix, f"a mesh meshio reads ({suffix})")
    else:
        expected = f"{_a(info.name)} file"
    if path.is_dir():
        raise SimReadError(path, f"is a folder (expected {expected})")
    if not path.exists():
        raise SimReadError(path, f"file not found (expected {expected})")
    if path.stat().st_size == 0:
        raise SimReadError(path, f"file is empty (expected {expected})")
    return _run(info, path, expected)


def _run(info: SimReaderInfo, path: Path, expected: str) -> SimResult:
    """``info.function(path)``; whatever goes wrong becomes one SimReadError line."""
    try:
        result = info.function(path)
    except SimReadError:
        raise
    except MemoryError:
        raise SimReadError(path, "not enough memory to read this result") from None
    except Exception as exc:  # a reader library failing on bad bytes is the file's fault
        log.debug("reader %s failed on %s", info.name, path, exc_info=True)
        raise SimReadError(path, f"not readable: {_reason(exc)} (expected {expected})") from None
    log.info(
        "opened %s: %d steps, %d parts, %d fields",
        path.name,
        result.n_steps,
        len(result.parts),
        len(result.fields),
    )
    return result


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _a(name: str) -> str:
    return f"{'an' if name[:1].upper() in 'AEIOX' else 'a'} {name}"
