"""The kinds of file TwinViewer opens, by MIME type: one table for the desktop and the window.

Each suffix the model readers (:func:`~twinviewer.formats.registry.supported_suffixes`) and the
result readers (:func:`~twinviewer.sim.result_suffixes`) claim belongs to one :class:`FileType`
here. The Linux desktop integration (``packaging/linux/share``: the shared-mime-info package,
the ``.desktop`` entry's ``MimeType``) declares the same types, and the start page's Open dialog
filters by the same globs; ``tests/test_desktop_integration.py`` checks that none of them drift.

A type is either ``standard`` (shared-mime-info's freedesktop.org.xml defines it: glTF, OBJ, STL,
3MF; we only claim it) or defined by our package ``share/mime/packages/APP_ID.xml``.
"""

from __future__ import annotations

from dataclasses import dataclass

from twinviewer.formats.registry import supported_suffixes
from twinviewer.sim import result_suffixes

# The desktop id: the name of the .desktop entry, the icon, the MIME package and the AppStream
# metainfo, and the Wayland app id the window announces (QGuiApplication.setDesktopFileName).
APP_ID = "io.github.twinviewer.TwinViewer"

PROJECT_SUFFIX = ".twin.yaml"
PROJECT_MIME_TYPE = "application/x-twinviewer-project"


@dataclass(frozen=True)
class FileType:
    mime_type: str
    description: str
    suffixes: tuple[str, ...]
    standard: bool = False  # defined by shared-mime-info itself, not by our package

    @property
    def globs(self) -> tuple[str, ...]:
        return tuple(f"*{s}" for s in self.suffixes)


PROJECT = FileType(PROJECT_MIME_TYPE, "TwinViewer twin project", (PROJECT_SUFFIX,))

MODEL_TYPES: tuple[FileType, ...] = (
    FileType("model/gltf-binary", "glTF binary model", (".glb",), standard=True),
    FileType("model/gltf+json", "glTF model", (".gltf",), standard=True),
    FileType("model/obj", "Wavefront OBJ model", (".obj",), standard=True),
    FileType("model/stl", "STL model", (".stl",), standard=True),
    FileType("model/3mf", "3MF model", (".3mf",), standard=True),
    FileType("model/step", "STEP CAD model", (".step", ".stp")),
    FileType("model/x-ply", "PLY polygon model", (".ply",)),
    FileType("application/x-urdf+xml", "URDF robot description", (".urdf",)),
)

# VTK's files are models and results alike (a part's mesh, or a step with fields)
VTK_TYPES: tuple[FileType, ...] = (
    FileType("application/x-vtk", "VTK legacy data", (".vtk",)),
    FileType(
        "application/x-vtk-xml",
        "VTK XML data",
        tuple(".vtu .vtp .vts .vtr .vti .vtm .pvtu .pvtp .pvts .pvtr .pvti".split()),
    ),
)

RESULT_TYPES: tuple[FileType, ...] = (
    FileType("application/x-paraview-pvd", "ParaView data collection", (".pvd",)),
    FileType("application/x-vtk-series", "VTK file series", (".series",)),
    FileType("application/x-vtkhdf", "VTKHDF data", (".vtkhdf",)),
    FileType("application/x-xdmf", "XDMF simulation result", (".xdmf", ".xmf")),
    FileType("application/x-exodus", "Exodus II result", (".e", ".exo", ".ex2", ".exii")),
    FileType("application/x-ensight", "EnSight Gold case", (".case", ".encas")),
    FileType("application/x-cgns", "CGNS simulation data", (".cgns",)),
    FileType("application/x-openfoam", "OpenFOAM case", (".foam", ".openfoam")),
    FileType("application/x-gmsh", "Gmsh mesh", (".msh",)),
    FileType("application/x-abaqus-input", "Abaqus input", (".inp",)),
    FileType("application/x-salome-med", "Salome MED mesh", (".med",)),
    FileType("application/x-nastran-bulk", "Nastran bulk data", (".bdf", ".fem", ".nas")),
    FileType("application/x-medit-mesh", "Medit mesh", (".mesh", ".meshb")),
    FileType("application/x-su2-mesh", "SU2 mesh", (".su2",)),
    FileType("application/x-kratos-mdpa", "Kratos model part", (".mdpa",)),
    FileType("application/x-moab-h5m", "MOAB mesh", (".h5m",)),
    FileType("application/x-flac3d-grid", "FLAC3D grid", (".f3grid",)),
    FileType("application/x-ugrid", "UGRID mesh", (".ugrid",)),
)

FILE_TYPES: tuple[FileType, ...] = (PROJECT, *MODEL_TYPES, *VTK_TYPES, *RESULT_TYPES)


def file_type_of(suffix: str) -> FileType | None:
    """The type a suffix (``.stl``, ``.twin.yaml``) belongs to, or None."""
    return next((t for t in FILE_TYPES if suffix.lower() in t.suffixes), None)


def opened_suffixes() -> list[str]:
    """Every suffix the app opens: projects, models, results."""
    return sorted({PROJECT_SUFFIX, *supported_suffixes(), *result_suffixes()})


def mime_types() -> list[str]:
    """The MIME types of everything the app opens (the .desktop entry's ``MimeType``), in the
    table's order: the project first."""
    wanted = set(opened_suffixes())
    return [t.mime_type for t in FILE_TYPES if wanted.intersection(t.suffixes)]


def model_globs() -> list[str]:
    """The Open dialog's patterns for projects and models."""
    return [f"*{PROJECT_SUFFIX}", *(f"*{s}" for s in supported_suffixes())]


def result_globs() -> list[str]:
    """The Open dialog's patterns for simulation results: an OpenFOAM case is opened by its
    ``system/controlDict`` too, and a file series is ``NAME.vtu.series`` (``*.*.series``)."""
    globs = [f"*{s}" for s in result_suffixes() if s != ".series"]
    if ".series" in result_suffixes():
        globs.append("*.*.series")
    return ["controlDict", *globs]


def open_dialog_filters() -> list[str]:
    """The Open dialog's name filters: everything first, then projects and models, then
    results, then all files."""
    models, results = " ".join(model_globs()), " ".join(result_globs())
    return [
        f"Twin projects, models and results ({models} {results})",
        f"Twin projects and models ({models})",
        f"Simulation results ({results})",
        "All files (*)",
    ]
