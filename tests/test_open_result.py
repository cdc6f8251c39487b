"""``twinviewer open RESULT`` (issue 14, items 5 and 8): a simulation result opened by itself
becomes a twin (its surface the model, its parts the components, itself a visible overlay whose
steps are the time), for every format the readers support, written here with VTK's own writers,
meshio or by hand, and for every result in ../shared/corpus/sim; a broken result ends the
command with the readers' one-line error and no window."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import CORPUS
from tests.test_sim_ensight import hex_grid, write_cgns, write_ensight_ascii, write_ensight_binary
from tests.test_sim_openfoam import write_cavity
from tests.test_sim_readers import _write_exodus
from twinviewer.core.project import load_project
from twinviewer.session import TwinSession
from twinviewer.session.result_twin import bare_result, open_result_twin, result_model
from twinviewer.sim import SimReadError, is_result, read_result

pv = pytest.importorskip("pyvista")
pytest.importorskip("vtkmodules.vtkIOGeometry")


def _cube(t: float = 0.0, offset: float = 0.0) -> pv.UnstructuredGrid:
    """A 2 x 2 x 2 block of hexahedra whose field ``h`` is x + 10 t."""
    x, y, z = np.meshgrid(*(np.arange(3.0),) * 3, indexing="ij")
    grid = pv.StructuredGrid(x + offset, y, z).cast_to_unstructured_grid()
    grid.point_data["h"] = np.asarray(grid.points[:, 0] + 10 * t, float)
    return grid


# -- one writer per format: (folder) -> the path a user opens, and its step times ----------


def _openfoam(folder: Path) -> tuple[Path, list[float]]:
    return write_cavity(folder / "cavity"), [0.0, 0.1, 0.2]


def _openfoam_foam_file(folder: Path) -> tuple[Path, list[float]]:
    return write_cavity(folder / "cavity") / "case.foam", [0.0, 0.1, 0.2]


def _openfoam_decomposed(folder: Path) -> tuple[Path, list[float]]:
    return write_cavity(folder / "cavity", processors=2) / "system" / "controlDict", [0, 0.1, 0.2]


def _ensight_ascii(folder: Path) -> tuple[Path, list[float]]:
    return write_ensight_ascii(folder / "ensight"), [0.0, 0.5, 1.0]


def _ensight_binary(folder: Path) -> tuple[Path, list[float]]:
    return write_ensight_binary(folder / "ensight"), [0.0, 1.0, 2.0]


def _cgns(folder: Path) -> tuple[Path, list[float]]:
    pytest.importorskip("vtkmodules.vtkIOCGNSReader")
    pytest.importorskip("h5py")
    grid = hex_grid()
    fields = {"Temperature": np.arange(grid.n_points, dtype=float)}
    return write_cgns(folder / "zone.cgns", np.asarray(grid.points), grid.cells_dict[12], fields), [
        0.0
    ]


def _exodus(folder: Path) -> tuple[Path, list[float]]:
    path = folder / "run.exo"
    _write_exodus(path)
    return path, [0.0, 0.5, 2.0]


def _xdmf(folder: Path) -> tuple[Path, list[float]]:
    meshio = pytest.importorskip("meshio")
    pytest.importorskip("h5py")
    grid = _cube()
    cells = [("hexahedron", grid.cells_dict[12])]
    path = folder / "run.xdmf"
    here = Path.cwd()
    os.chdir(folder)  # meshio writes run.h5 into the working folder
    try:
        with meshio.xdmf.TimeSeriesWriter(path.name) as writer:
            writer.write_points_cells(np.asarray(grid.points), cells)
            for t in (0.0, 1.5, 3.0):
                writer.write_data(t, point_data={"h": np.asarray(grid.points[:, 0] + 10 * t)})
    finally:
        os.chdir(here)
    return path, [0.0, 1.5, 3.0]


def _vtkhdf(folder: Path) -> tuple[Path, list[float]]:
    from vtkmodules.util.vtkAlgorithm import VTKPythonAlgorithmBase
    from vtkmodules.vtkCommonDataModel import vtkUnstructuredGrid
    from vtkmodules.vtkCommonExecutionModel import vtkStreamingDemandDrivenPipeline as SDDP

    try:
        from vtkmodules.vtkIOHDF import vtkHDFWriter
    except ImportError:
        pytest.skip("this VTK has no vtkHDFWriter")
    times = [0.0, 1.0, 2.5]

    class Source(VTKPythonAlgorithmBase):
        def __init__(self) -> None:
            super().__init__(nInputPorts=0, nOutputPorts=1, outputType="vtkUnstructuredGrid")

        def RequestInformation(self, request, in_info, out_info):  # noqa: N802
            info = out_info.GetInformationObject(0)
            info.Set(SDDP.TIME_STEPS(), times, len(times))
            info.Set(SDDP.TIME_RANGE(), [times[0], times[-1]], 2)
            return 1

        def RequestData(self, request, in_info, out_info):  # noqa: N802
            info = out_info.GetInformationObject(0)
            t = info.Get(SDDP.UPDATE_TIME_STEP()) if info.Has(SDDP.UPDATE_TIME_STEP()) else 0.0
            vtkUnstructuredGrid.GetData(out_info).ShallowCopy(_cube(t))
            return 1

    source = Source()
    path = folder / "run.vtkhdf"
    writer = vtkHDFWriter()
    writer.SetInputConnection(source.GetOutputPort())
    writer.SetFileName(str(path))
    writer.SetWriteAllTimeSteps(True)
    writer.Write()
    return path, times


def _vtu(folder: Path) -> tuple[Path, list[float]]:
    path = folder / "steady.vtu"
    _cube().save(path)
    return path, [0.0]


def _vtm(folder: Path) -> tuple[Path, list[float]]:
    blocks = pv.MultiBlock()
    blocks["pump"] = _cube()
    blocks["pipe"] = _cube(offset=3.0)
    path = folder / "plant.vtm"
    blocks.save(path)
    return path, [0.0]


def _series(folder: Path, kind: str) -> tuple[Path, list[float]]:
    (folder / "data").mkdir(parents=True, exist_ok=True)
    times = [0.0, 2.0, 5.0]
    for i, t in enumerate(times):
        _cube(t).save(folder / "data" / f"run_{i}.vtu")
    if kind == "pvd":
        path = folder / "run.pvd"
        rows = "".join(
            f'<DataSet timestep="{t}" part="0" file="data/run_{i}.vtu"/>'
            for i, t in enumerate(times)
        )
        path.write_text(
            f'<?xml version="1.0"?><VTKFile type="Collection" version="0.1"><Collection>{rows}'
            "</Collection></VTKFile>"
        )
    else:
        path = folder / "run.vtu.series"
        files = [{"name": f"data/run_{i}.vtu", "time": t} for i, t in enumerate(times)]
        path.write_text(json.dumps({"file-series-version": "1.0", "files": files}))
    return path, times


def _meshio(folder: Path, fmt: str, suffix: str) -> tuple[Path, list[float]]:
    """A mesh in a format meshio writes (Abaqus input files carry no field: a bare mesh)."""
    meshio = pytest.importorskip("meshio")
    grid = _cube()
    mesh = meshio.Mesh(
        np.asarray(grid.points),
        [("hexahedron", grid.cells_dict[12])],
        point_data={"h": np.asarray(grid.point_data["h"])} if fmt != "abaqus" else {},
    )
    path = folder / f"part{suffix}"
    mesh.write(path, file_format=fmt)
    return path, [0.0]


FORMATS: dict[str, Callable[[Path], tuple[Path, list[float]]]] = {
    "openfoam-folder": _openfoam,
    "openfoam-foam-file": _openfoam_foam_file,
    "openfoam-decomposed": _openfoam_decomposed,
    "ensight-ascii": _ensight_ascii,
    "ensight-binary": _ensight_binary,
    "cgns": _cgns,
    "exodus": _exodus,
    "xdmf": _xdmf,
    "vtkhdf": _vtkhdf,
    "vtu": _vtu,
    "vtm": _vtm,
    "pvd": lambda f: _series(f, "pvd"),
    "vtu-series": lambda f: _series(f, "series"),
    "gmsh": lambda f: _meshio(f, "gmsh", ".msh"),
    "abaqus": lambda f: _meshio(f, "abaqus", ".inp"),
}


def listing(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")}


def assert_result_twin(session: TwinSession, times: list[float] | None = None) -> None:
    """Components with triangles, one visible overlay on the result's own steps, placed on a
    clock whose twin times are the step times (or the step indices); a mesh without fields
    (Gmsh, Abaqus, Nastran ... meshes) is its surface alone."""
    model = session.model
    parts = [c for c in model.components if c.kind == "part"]
    assert parts and model.n_triangles > 0
    assert (model.triangle_counts()[[model.index_of(c.id) for c in parts]] > 0).all()
    if not read_result(session.path).fields:
        assert session.project.overlays == [] and session.results == {}
        return
    (cfg,) = session.project.overlays
    assert cfg.visible and cfg.show == "surface"
    result = session.results[cfg.name]
    assert not session.sensors and not session.project.sources
    sim = session.overlay(cfg.name, session_start=1e9)  # the origin is fixed, not the session
    steps = sim.step_times()
    assert len(steps) == result.n_steps >= 1
    if times is not None:
        np.testing.assert_allclose(result.times, times)
    expected = result.times if cfg.time.mode == "clock" else np.arange(result.n_steps)
    np.testing.assert_allclose(steps, expected)
    assert len(sim.vertices) > 0
    frame = sim.frame(float(steps[0]))
    assert np.isfinite(frame.values).any()


@pytest.mark.parametrize("kind", sorted(FORMATS))
def test_every_format_opens_as_a_twin(tmp_path: Path, kind: str) -> None:
    (tmp_path / "data").mkdir()
    path, times = FORMATS[kind](tmp_path / "data")
    assert is_result(path)
    before = listing(tmp_path)
    session = TwinSession.open(path)
    assert session.path == path
    assert_result_twin(session, times)
    assert listing(tmp_path) == before  # nothing written beside the user's result


def test_openfoam_patches_are_the_components(tmp_path: Path) -> None:
    """Each face is drawn once, by its patch: the internal mesh adds nothing of its own."""
    path, _ = _openfoam(tmp_path)
    session = TwinSession.open(path)
    model = session.model
    assert session.project.name == "cavity"
    ids = {c.id: c for c in model.components}
    assert set(ids) == {"boundary", "movingWall", "fixedWalls", "frontAndBack"}
    assert ids["boundary"].kind == "group"
    assert all(ids[p].parent == model.index_of("boundary") for p in ("movingWall", "fixedWalls"))
    counts = dict(zip([c.id for c in model.components], model.triangle_counts(), strict=True))
    # a 4 x 4 x 1 cavity: lid 4 quads, walls 12, front and back 32 -> two triangles each
    assert (counts["movingWall"], counts["fixedWalls"], counts["frontAndBack"]) == (8, 24, 64)
    assert session.binding is not None and model.bounds() == pytest.approx(
        (0, 0.1, 0, 0.1, 0, 0.025), abs=1e-6
    )
    # the values on the surface follow the steps (p = step time x cell number in the case)
    sim = session.overlay(session.project.overlays[0].name, 0.0)
    assert sim.field == "p"
    last = sim.frame(0.2).values
    assert np.nanmax(sim.frame(0.0).values) == 0.0 and np.nanmax(last) > 0.0
    np.testing.assert_allclose(sim.frame(0.1).values, last / 2, rtol=1e-5, atol=1e-9)


def test_decomposed_processors_meet_inside(tmp_path: Path) -> None:
    """The faces where two processors' pieces meet are inside: not drawn."""
    path, _ = _openfoam_decomposed(tmp_path)
    model = TwinSession.open(path).model
    assert "internalMesh" not in {c.id for c in model.components}
    assert model.n_triangles == 96  # the same outer surface as the reconstructed case


def test_multiblock_blocks_are_components(tmp_path: Path) -> None:
    path, _ = _vtm(tmp_path)
    model = TwinSession.open(path).model
    assert [c.id for c in model.components] == ["pump", "pipe"]
    assert model.triangle_counts().tolist() == [48, 48]  # a cube of 2 x 2 faces a side


def test_project_file_models_and_folders_are_not_results(tmp_path: Path) -> None:
    """A .vtu without fields is a model; an STL, a folder of parts and a project are not
    results; a result is not read twice to decide."""
    plain = tmp_path / "plain.vtu"
    pv.ImageData(dimensions=(3, 3, 3)).cast_to_unstructured_grid().save(plain)
    assert bare_result(plain) is None
    assert TwinSession.open(plain).project.overlays == []
    stl = tmp_path / "part.stl"
    pv.Cube().triangulate().save(stl)
    assert bare_result(stl) is None and open_result_twin(stl) is None
    parts = tmp_path / "parts"
    parts.mkdir()
    pv.Cube().triangulate().save(parts / "a.stl")
    assert bare_result(parts) is None
    fields, _ = _vtu(tmp_path)
    project = tmp_path / "twin.twin.yaml"
    project.write_text(f"name: t\nmodels: [{fields.name}]\n")
    assert bare_result(project) is None
    assert bare_result(fields) is not None


def test_step_index_when_times_do_not_increase(tmp_path: Path) -> None:
    """Steps without increasing times are played by their index."""
    (tmp_path / "data").mkdir()
    for i in range(3):
        _cube(i).save(tmp_path / "data" / f"run_{i}.vtu")
    series = tmp_path / "run.vtu.series"
    files = [{"name": f"data/run_{i}.vtu", "time": 1.0} for i in range(3)]
    series.write_text(json.dumps({"file-series-version": "1.0", "files": files}))
    session = TwinSession.open(series)
    assert session.project.overlays[0].time.mode == "step_index"
    assert_result_twin(session)


def test_a_cloud_of_points_has_no_surface(tmp_path: Path) -> None:
    cloud = pv.PolyData(np.random.default_rng(1).random((20, 3)))
    cloud.point_data["h"] = np.arange(20.0)
    path = tmp_path / "cloud.vtp"
    cloud.save(path)
    with pytest.raises(SimReadError) as exc:
        result_model(read_result(path))
    assert str(exc.value).startswith(str(path)) and "no surface" in str(exc.value)


@pytest.mark.skipif(not (CORPUS / "sim").is_dir(), reason="no corpus")
def test_every_corpus_result_opens_as_a_twin() -> None:
    """Every result in ../shared/corpus/sim, read in place."""
    root = CORPUS / "sim"
    found = [p for p in sorted(root.rglob("*")) if p.is_file() and is_result(p)]
    found = [p for p in found if p.parent.name != "ts" and "_P0" not in p.name]  # series parts
    assert len(found) >= 6
    for path in found:
        session = TwinSession.open(path)
        assert session.project.overlays, path
        assert_result_twin(session)


# -- the command line -----------------------------------------------------------------------


def twinviewer(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "twinviewer", *args], capture_output=True, text=True, timeout=300
    )


def _broken(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Broken and partial results, with a word their one-line error must contain."""
    no_control = write_cavity(tmp_path / "no_control")
    (no_control / "system" / "controlDict").unlink()
    no_mesh = write_cavity(tmp_path / "no_mesh")
    (no_mesh / "constant" / "polyMesh" / "faces").unlink()
    ensight = write_ensight_ascii(tmp_path / "ensight")
    (ensight.parent / "run.geo").unlink()
    cgns = tmp_path / "noise.cgns"
    cgns.write_bytes(b"not a cgns file at all" * 10)
    exo = tmp_path / "cut.exo"
    exo.write_bytes(b"\x89HDF\r\n" + b"\0" * 100)
    empty_pvd = tmp_path / "empty.pvd"
    empty_pvd.write_text("")
    series = tmp_path / "gone.vtu.series"
    series.write_text(json.dumps({"files": [{"name": "nowhere.vtu", "time": 0}]}))
    return {
        "openfoam without controlDict": (no_control, "controlDict"),
        "openfoam without faces": (no_mesh, "faces"),
        "ensight without geometry": (ensight, "run.geo"),
        "cgns noise": (cgns, "cgns"),
        "exodus cut": (exo, "exo"),
        "empty pvd": (empty_pvd, "empty"),
        "series naming a missing file": (series, "nowhere.vtu"),
    }


def test_open_a_broken_result_fails_with_one_line(tmp_path: Path) -> None:
    """No window, exit 1, the readers' one line (path: error: reason), no traceback."""
    for label, (path, word) in _broken(tmp_path).items():
        with pytest.raises(SimReadError):
            open_result_twin(path)
        r = twinviewer("open", str(path))
        assert r.returncode == 1, (label, r.stderr)
        assert r.stderr.count("\n") == 1, (label, r.stderr)
        line = r.stderr.strip()
        assert line.startswith(f"{path}: error: "), (label, line)
        assert word.lower() in line.lower(), (label, line)
        assert "Traceback" not in r.stderr and r.stdout == ""


def test_open_help_names_results() -> None:
    r = twinviewer("open", "--help")
    assert r.returncode == 0 and "OpenFOAM" in r.stdout


def test_the_project_is_never_written(tmp_path: Path) -> None:
    """The in-memory project is a valid project: the same written out (in a temporary folder
    here) loads back with its overlay."""
    import yaml

    path, _ = _openfoam(tmp_path / "data")
    session = TwinSession.open(path)
    out = tmp_path / "elsewhere" / "copy.twin.yaml"
    out.parent.mkdir()
    out.write_text(yaml.safe_dump(session.project.model_dump(mode="json")))
    project, _ = load_project(out)
    assert project.overlays[0].result == str(path.resolve())
    assert project.display.timezone == "UTC"
