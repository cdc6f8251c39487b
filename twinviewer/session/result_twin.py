"""A simulation result opened by itself (``twinviewer open RESULT``): the twin made from it.

A result is shown on a twin's model as an overlay (:mod:`twinviewer.sim.overlay`); a result
opened alone brings its own model:

- **The model** is the result's outer surface at its first step, one component per part
  (OpenFOAM patches, EnSight parts, CGNS zones, Exodus blocks, ``.vtm`` blocks), so the parts
  show in the component tree; ``boundary/movingWall`` becomes ``movingWall`` under a
  ``boundary`` group. Where a result holds both volume parts and boundary parts (an OpenFOAM
  ``internalMesh`` and its patches), the faces of a volume part's surface that a boundary part
  already draws are dropped, so that each face is drawn once and carries its patch's name.
- **The project** lives in memory only, nothing is written anywhere: one overlay, the result,
  visible at once and mapped onto that surface (none for a mesh without fields), on a clock
  whose origin is the Unix epoch (``twin time = simulation time``, shown in UTC: the timeline
  reads the solution time), or on the step index when the steps have no increasing times.
- **The session** is an ordinary :class:`~twinviewer.session.twin.TwinSession` with the result
  already read (``session.results``), no sensors, sources or history; the window puts the
  overlay's steps on the timeline because there is no live feed.

Which paths open this way: a simulation result (:func:`twinviewer.sim.is_result`) that is not
a project file. The VTK files that are also model files (``.vtu``, ``.vtp``, ``.vtk``,
``.vtm``) open as results only when they hold point or cell fields; plain geometry stays a
model.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from twinviewer.core.model import ModelBuilder, ModelData
from twinviewer.core.project import Display, ModelRef, Overlay, OverlayTime, Project
from twinviewer.formats.registry import find_reader
from twinviewer.session.twin import Progress, TwinSession, is_project_file
from twinviewer.sim import PART_ARRAY, SimReadError, SimResult, is_result, read_result
from twinviewer.sim.openfoam import case_folder, is_openfoam_case

log = logging.getLogger(__name__)

SIM_EPOCH = "1970-01-01T00:00:00Z"
"""The overlay clock's origin: twin time (Unix seconds) equals simulation time (seconds)."""
COLORMAP = "coolwarm"
SAME_FACE = 1e-7
"""Face centres closer than this fraction of the result's diagonal are the same face."""


def bare_result(path: str | Path) -> SimResult | None:
    """The simulation result at ``path`` when ``open`` shows it by itself, else ``None`` (a
    project, a model file, a folder of parts).

    Raises :class:`~twinviewer.sim.SimReadError` (one line naming the file) for a broken
    result. A ``.vtu``/``.vtp``/``.vtk``/``.vtm`` file that VTK cannot read as a result, or
    that holds no fields, is left to the model reader (``None``).
    """
    path = Path(path)
    if is_project_file(path) or not is_result(path):
        return None
    if path.is_file() and find_reader(path) is not None:  # also a model file
        try:
            result = read_result(path)
        except SimReadError:
            return None  # the model reader says what is wrong with it
        return result if result.fields else None
    return read_result(path)


def open_result_twin(path: str | Path, progress: Progress | None = None) -> TwinSession | None:
    """The twin of a bare result (see :func:`bare_result`), or ``None`` when ``path`` is not
    one. Raises :class:`~twinviewer.sim.SimReadError` for a broken result."""
    path = Path(path)
    if progress and is_result(path) and not is_project_file(path):
        progress(0.0, f"Reading {path.name}")
    result = bare_result(path)
    return None if result is None else result_twin(result, path, progress)


def result_twin(result: SimResult, path: Path, progress: Progress | None = None) -> TwinSession:
    """A session showing ``result`` by itself: its surface as the model, itself as the one
    (visible) overlay. ``path`` is what the user opened (a case folder, a ``.foam`` file ...)."""
    if progress:
        progress(0.5, "Extracting the surface of each part")
    model = result_model(result)
    project = result_project(result, path)
    if progress:
        progress(1.0, "Mapping the result onto its surface")
    session = TwinSession(project, path.parent, model, path)
    session.simulation_time = True  # its clock reads solution seconds, not instants
    for overlay in project.overlays:
        session.results[overlay.name] = result
    return session


def display_name(path: Path) -> str:
    """A name for a result: an OpenFOAM case's folder, else the file name without its suffixes
    (``mesh.vtu.series`` -> ``mesh``)."""
    if is_openfoam_case(path):
        return case_folder(path).resolve().name
    name = path.name.removesuffix(".series") if path.suffix.lower() == ".series" else path.name
    return Path(name).stem or name


def result_project(result: SimResult, path: Path) -> Project:
    """The in-memory project of a result opened by itself (see the module docstring); a mesh
    without fields (a Gmsh or Abaqus mesh) has no overlay: its surface is all there is."""
    name = display_name(path)
    times = result.times
    by_index = result.n_steps > 1 and not bool(np.all(np.diff(times) > 0))
    overlay = Overlay(
        name=name,
        result=str(result.path.resolve()),
        show="surface",
        visible=True,
        colormap=COLORMAP,
        time=OverlayTime(
            mode="step_index" if by_index else "clock", origin=SIM_EPOCH, interpolate=False
        ),
    )
    return Project(
        name=name,
        description=f"{result.kind} opened by itself ({result.path})",
        models=[ModelRef(path=str(result.path.resolve()))],
        overlays=[overlay] if result.fields else [],
        display=Display(timezone="UTC"),
    )


# -- the surface ------------------------------------------------------------------------------


def result_model(result: SimResult) -> ModelData:
    """The result's outer surface at its first step, one component per part.

    Raises :class:`~twinviewer.sim.SimReadError` when no part has a face to draw (a point
    cloud or a network of lines).
    """
    mesh = result.mesh(0)
    part = np.asarray(mesh.cell_data[PART_ARRAY])
    dims = cell_dimensions(np.asarray(mesh.celltypes))
    diag = float(np.linalg.norm(np.subtract(result.bounds[1::2], result.bounds[::2])))
    surfaces: list[tuple[int, Any, bool]] = []  # (part index, untriangulated surface, volume)
    for k in range(len(result.parts)):
        cells = np.flatnonzero(part == k)
        if not len(cells):
            continue
        surface = mesh.extract_cells(cells).extract_surface(
            pass_pointid=False,
            pass_cellid=False,
            nonlinear_subdivision=1,
            algorithm="dataset_surface",
        )
        surfaces.append((k, surface, bool(dims[cells].max() == 3)))
    tolerance = SAME_FACE * diag + 1e-12
    walls = [surf for _, surf, volume in surfaces if not volume and surf.n_cells]
    volumes = [surf for _, surf, volume in surfaces if volume and surf.n_cells]
    wall_tree = _centre_tree(walls)
    volume_tree = _centre_tree(volumes)
    builder = ModelBuilder(result.path)
    groups: dict[str, int] = {}
    for k, surface, volume in surfaces:
        if volume and surface.n_cells:
            # drawn by a boundary part, or inside: between two volume pieces (two blocks, two
            # processors of a decomposed case)
            centres = np.asarray(surface.cell_centers().points)
            hidden = np.zeros(len(centres), bool)
            if wall_tree is not None:
                hidden |= np.isfinite(wall_tree.query(centres, distance_upper_bound=tolerance)[0])
            assert volume_tree is not None
            twins = volume_tree.query(centres, k=2, distance_upper_bound=tolerance)[0]
            hidden |= np.isfinite(twins[:, 1])
            if hidden.any():
                surface = surface.remove_cells(hidden) if not hidden.all() else None
        points, triangles = _triangles(surface)
        if not len(triangles):
            log.debug("part %s: no faces of its own to draw", result.parts[k])
            continue
        parent, name = _group(builder, groups, result.parts[k])
        builder.add(name, parent, points, triangles)
    model = builder.build()
    if model.n_triangles == 0:
        raise SimReadError(
            result.path,
            "has no surface to show: its cells are points or lines "
            f"(expected {result.kind} with faces or volume cells)",
        )
    return model


def _centre_tree(surfaces: list[Any]) -> Any:
    """A k-d tree of the face centres of these surfaces (``None`` for none)."""
    if not surfaces:
        return None
    from scipy.spatial import cKDTree

    return cKDTree(np.concatenate([np.asarray(s.cell_centers().points) for s in surfaces]))


def cell_dimensions(celltypes: NDArray[np.integer]) -> NDArray[np.int8]:
    """The topological dimension (0 to 3) of each VTK cell type in ``celltypes``."""
    from vtkmodules.vtkCommonDataModel import vtkCellTypeUtilities

    out = np.zeros(len(celltypes), np.int8)
    for t in np.unique(celltypes):
        out[celltypes == t] = vtkCellTypeUtilities.GetDimension(int(t))
    return out


def _triangles(surface: Any) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Points and triangles of a surface (lines and vertices left out)."""
    if surface is None or surface.n_cells == 0:
        return np.zeros((0, 3)), np.zeros((0, 3), np.int64)
    tri = surface.triangulate()  # polygons only: lines and vertices are dropped
    faces = np.asarray(tri.faces, np.int64).reshape(-1, 4)
    return np.asarray(tri.points, np.float64), faces[:, 1:]


def _group(builder: ModelBuilder, groups: dict[str, int], part: str) -> tuple[int, str]:
    """The parent group (made on first use) and the leaf name of a ``group/name`` part."""
    *path, leaf = [p for p in part.split("/") if p] or [part]
    parent = -1
    for depth in range(len(path)):
        key = "/".join(path[: depth + 1])
        if key not in groups:
            groups[key] = builder.add(path[depth], parent)
        parent = groups[key]
    return parent, leaf
