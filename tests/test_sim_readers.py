"""Simulation-result readers (issue 5): real files from ../shared/corpus/sim and generated ones."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from twinviewer.sim import (
    PART_ARRAY,
    FieldInfo,
    SimReadError,
    SimResult,
    read_result,
    result_suffixes,
)

pv = pytest.importorskip("pyvista")

VTK_QUADRATIC_TETRA = 24
VTK_QUADRATIC_HEXAHEDRON = 25
VTK_QUADRATIC_WEDGE = 26


def sim(corpus: Path, rel: str) -> Path:
    path = corpus / "sim" / rel
    if not path.exists():
        pytest.skip(f"{rel} not in the corpus")
    return path


def names(result: SimResult) -> set[tuple[str, str, int]]:
    return {(f.name, f.association, f.components) for f in result.fields}


def one_line(exc: pytest.ExceptionInfo[SimReadError], path: Path) -> str:
    message = str(exc.value)
    assert "\n" not in message
    assert str(path) in message and message.startswith(str(path))
    assert "expected" in message
    return message


# -- the corpus ------------------------------------------------------------------------------


def test_legacy_structured_grid(corpus: Path) -> None:
    result = read_result(sim(corpus, "building_cfd/office.binary.vtk"))
    assert result.n_steps == 1 and result.times.tolist() == [0.0]
    assert result.parts == ["office.binary"]
    assert names(result) == {("scalars", "point", 1), ("vectors", "point", 3)}
    assert all(f.unit is None for f in result.fields)
    grid = result.mesh(0)
    assert isinstance(grid, pv.UnstructuredGrid)
    assert (grid.n_points, grid.n_cells) == (8400, 7220)  # 21 x 20 x 20 structured grid
    assert set(np.unique(grid.celltypes)) == {pv.CellType.HEXAHEDRON}
    assert result.field(0, "vectors").shape == (8400, 3)
    assert result.field(0, "scalars").shape == (8400,)
    assert result.bounds == pytest.approx((0.01, 4.5, 0.01, 4.5, 0.01, 2.5))
    assert result.bracket(5.0) == (0, 0, 0.0) and result.step_at(-3.0) == 0


def test_fea_quadratic_cells_survive(corpus: Path) -> None:
    result = read_result(sim(corpus, "fea/notch_disp.vtu"))
    assert result.n_steps == 1 and result.parts == ["notch_disp"]
    assert result.fields == [FieldInfo("Nodal Displacement", "point", 3, None)]
    grid = result.mesh(0)
    assert (grid.n_points, grid.n_cells) == (12717, 2192)
    assert set(np.unique(grid.celltypes)) == {VTK_QUADRATIC_HEXAHEDRON, VTK_QUADRATIC_WEDGE}
    disp = result.field(0, "Nodal Displacement", "point")
    assert disp.shape == (12717, 3) and 0 < np.abs(disp).max() < 1e-5
    assert np.all(grid.cell_data[PART_ARRAY] == 0)


def test_pvd_two_parts_eleven_steps(corpus: Path) -> None:
    result = read_result(sim(corpus, "pvd_dualSphereAnimation/dualSphereAnimation.pvd"))
    assert result.n_steps == 11
    assert result.times.tolist() == [float(i) for i in range(11)]
    assert result.parts == ["P00", "P01"]
    assert names(result) == {("Normals", "point", 3), ("cellNormals", "cell", 3)}
    first, later = result.mesh(0), result.mesh(5)
    assert set(np.unique(first.cell_data[PART_ARRAY])) == {0, 1}
    moving = [m.extract_cells(m.cell_data[PART_ARRAY] == 1).points for m in (first, later)]
    assert moving[0].shape == moving[1].shape
    assert np.abs(moving[0] - moving[1]).max() > 0.1  # the second sphere moves
    assert result.field(3, "cellNormals", "cell").shape == (result.mesh(3).n_cells, 3)
    assert result.bracket(2.5) == (2, 3, pytest.approx(0.5))
    assert result.step_at(2.6) == 3 and result.step_at(2.6, "previous") == 2
    assert result.step_at(2.2, "next") == 3 and result.step_at(99.0) == 10


def test_vtp_series_times(corpus: Path) -> None:
    path = sim(corpus, "pvd_dualSphereAnimation/dualSphereAnimation/dualSphereAnimation.vtp.series")
    result = read_result(path)
    assert result.times.tolist() == [0, 3, 6, 9, 11, 12, 13, 16, 20, 21, 25]
    assert result.parts == ["dualSphereAnimation"]
    assert names(result) == {("Normals", "point", 3), ("cellNormals", "cell", 3)}
    assert result.mesh(0).n_points != result.mesh(3).n_points  # the P00 sphere changes
    assert result.bracket(10.0) == (3, 4, pytest.approx(0.5))
    assert result.bracket(-1.0) == (0, 0, 0.0) and result.bracket(30.0) == (10, 10, 0.0)
    assert result.step_at(12.4) == 5 and result.step_at(12.6) == 6
    assert result.step_at(14.0, "previous") == 6 and result.step_at(14.0, "next") == 7


def test_vtu_series_fifteen_steps(corpus: Path) -> None:
    result = read_result(sim(corpus, "vtu_series_wavy/mesh.vtu.series"))
    assert result.n_steps == 15
    assert result.times.tolist() == [float(i) for i in range(15)]
    assert result.parts == ["mesh"]
    assert result.fields == [FieldInfo("z", "point", 1, None)]
    a, b = result.field(0, "z"), result.field(7, "z")
    assert a.shape == b.shape == (6400,)
    assert np.abs(a - b).max() > 0.1  # the wave moves
    assert result.mesh(0).n_cells == 6241
    for step in (3, 4, 3, 0, 14, 3):  # back and forth through the cache
        assert result.field(step, "z").shape == (6400,)
    i, j, w = result.bracket(6.25)
    blend = (1 - w) * result.field(i, "z") + w * result.field(j, "z")
    assert (i, j, w) == (6, 7, 0.25) and blend.shape == (6400,)


def test_steps_from_threads(corpus: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    result = read_result(sim(corpus, "vtu_series_wavy/mesh.vtu.series"))
    with ThreadPoolExecutor(4) as pool:
        sums = list(pool.map(lambda k: float(result.field(k % 15, "z").sum()), range(30)))
    assert sums[:15] == sums[15:]


def test_xdmf_meshio_timeseries(corpus: Path) -> None:
    result = read_result(sim(corpus, "xdmf/meshio_timeseries/out.xdmf"))
    assert result.times.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    # the grid "mesh" that the time steps include by xpointer is not a part of its own
    assert result.parts == ["TimeSeries_meshio"]
    assert {(f.name, f.association) for f in result.fields} == {
        ("phi", "point"),
        ("u", "point"),
        ("a", "cell"),
    }
    assert result.field_info("phi").components == 1 and result.field_info("a").components == 1
    assert result.mesh(0).n_points == 4 and result.mesh(0).n_cells == 2
    for step, t in enumerate(result.times):
        assert np.allclose(result.field(step, "phi"), t)
        assert np.allclose(result.field(step, "u")[:, :2], t)
        assert np.allclose(result.field(step, "a", "cell"), [3.0, 4.2])


def test_xdmf_meshio_fallback(corpus: Path) -> None:
    pytest.importorskip("meshio")
    from twinviewer.sim.xdmf import read_with_meshio

    result = read_with_meshio(sim(corpus, "xdmf/meshio_timeseries/out.xdmf"))
    assert result.times.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert names(result) == {("phi", "point", 1), ("u", "point", 2), ("a", "cell", 1)}
    assert np.allclose(result.field(2, "phi"), 0.5)


# -- generated files -------------------------------------------------------------------------


def test_quadratic_tetra_survives(tmp_path: Path) -> None:
    points = np.array(
        [[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]]
        + [[0.5, 0, 0], [0.5, 0.5, 0], [0, 0.5, 0], [0, 0, 0.5], [0.5, 0, 0.5], [0, 0.5, 0.5]],
        dtype=float,
    )
    grid = pv.UnstructuredGrid(
        np.array([10, *range(10)]), np.array([VTK_QUADRATIC_TETRA], np.uint8), points
    )
    grid.point_data["T"] = np.arange(10.0)
    path = tmp_path / "tet10.vtu"
    grid.save(path)
    result = read_result(path)
    mesh = result.mesh(0)
    assert mesh.celltypes.tolist() == [VTK_QUADRATIC_TETRA] and mesh.n_points == 10
    assert result.field(0, "T").tolist() == list(range(10))


def test_multiblock_blocks_are_parts(tmp_path: Path) -> None:
    blocks = pv.MultiBlock()
    pump = pv.Sphere(theta_resolution=8, phi_resolution=8)
    pump.point_data["pressure"] = np.ones(pump.n_points)
    pipe = pv.Cylinder(resolution=8).triangulate().translate((3, 0, 0))
    pipe.cell_data["flow"] = np.full(pipe.n_cells, 2.0)
    blocks["pump"] = pump
    blocks["pipe"] = pipe
    path = tmp_path / "plant.vtm"
    blocks.save(path)
    result = read_result(path)
    assert result.parts == ["pump", "pipe"]
    assert names(result) >= {("pressure", "point", 1), ("flow", "cell", 1)}
    mesh = result.mesh(0)
    part = mesh.cell_data[PART_ARRAY]
    assert (part == 0).sum() == pump.n_cells and (part == 1).sum() == pipe.n_cells
    # an array only one part has is kept, NaN on the other part
    flow = result.field(0, "flow", "cell")
    assert np.all(flow[part == 1] == 2.0) and np.all(np.isnan(flow[part == 0]))


def test_units(tmp_path: Path) -> None:
    from vtkmodules.vtkCommonCore import vtkDataArray, vtkStringArray

    grid = pv.ImageData(dimensions=(3, 3, 3)).cast_to_unstructured_grid()
    grid.point_data["Pressure [Pa]"] = np.zeros(grid.n_points)
    grid.point_data["T"] = np.zeros(grid.n_points)
    grid.point_data["U"] = np.zeros((grid.n_points, 3))
    grid.cell_data["stress"] = np.zeros((grid.n_cells, 6))
    grid.point_data["count"] = np.zeros(grid.n_points, dtype=np.int32)
    grid.GetPointData().GetArray("T").GetInformation().Set(vtkDataArray.UNITS_LABEL(), "K")
    unit = vtkStringArray()
    unit.SetName("U_unit")
    unit.InsertNextValue("m/s")
    grid.GetFieldData().AddArray(unit)
    path = tmp_path / "units.vtu"
    grid.save(path)
    result = read_result(path)
    units = {f.name: f.unit for f in result.fields}
    assert units == {"Pressure [Pa]": "Pa", "T": "K", "U": "m/s", "stress": None, "count": None}
    assert result.field_info("stress").components == 6


def _write_exodus(path: Path) -> None:
    from vtkmodules.util.vtkAlgorithm import VTKPythonAlgorithmBase
    from vtkmodules.vtkCommonDataModel import vtkMultiBlockDataSet
    from vtkmodules.vtkCommonExecutionModel import vtkStreamingDemandDrivenPipeline as SDDP

    try:
        from vtkmodules.vtkIOExodus import vtkExodusIIWriter
    except ImportError:
        pytest.skip("this VTK has no vtkExodusIIWriter")
    times = [0.0, 0.5, 2.0]
    cube = pv.ImageData(dimensions=(3, 3, 3)).cast_to_unstructured_grid()

    class Source(VTKPythonAlgorithmBase):  # a time-aware source, so all steps are written
        def __init__(self) -> None:
            super().__init__(nInputPorts=0, nOutputPorts=1, outputType="vtkMultiBlockDataSet")

        def RequestInformation(self, request, in_info, out_info):  # noqa: N802
            info = out_info.GetInformationObject(0)
            info.Set(SDDP.TIME_STEPS(), times, len(times))
            info.Set(SDDP.TIME_RANGE(), [times[0], times[-1]], 2)
            return 1

        def RequestData(self, request, in_info, out_info):  # noqa: N802
            info = out_info.GetInformationObject(0)
            t = info.Get(SDDP.UPDATE_TIME_STEP()) if info.Has(SDDP.UPDATE_TIME_STEP()) else 0.0
            out = vtkMultiBlockDataSet.GetData(out_info)
            for i in range(2):
                block = cube.translate((3 * i, 0, 0))
                block.point_data["temp"] = np.full(block.n_points, t + i)
                block.cell_data["stress"] = np.full(block.n_cells, 10 * t)
                out.SetBlock(i, block)
                out.GetMetaData(i).Set(vtkMultiBlockDataSet.NAME(), f"block{i}")
            return 1

    source = Source()
    # With vtkIOParallelExodus loaded (``import vtk`` loads it) the factory hands out
    # vtkPExodusIIWriter, which crashes without an MPI controller: ask for the serial one.
    from vtkmodules.vtkCommonCore import vtkObjectFactory

    vtkObjectFactory.SetAllEnableFlags(0, "vtkExodusIIWriter")
    try:
        writer = vtkExodusIIWriter()
    finally:
        vtkObjectFactory.SetAllEnableFlags(1, "vtkExodusIIWriter")
    if writer.GetClassName() != "vtkExodusIIWriter":
        pytest.skip(f"VTK hands out {writer.GetClassName()} for vtkExodusIIWriter")
    writer.SetInputConnection(source.GetOutputPort())
    writer.SetFileName(str(path))
    writer.WriteAllTimeStepsOn()
    writer.Write()
    if not path.is_file():
        pytest.skip("vtkExodusIIWriter wrote no file")


def test_exodus(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "run.exo"
    _write_exodus(path)
    result = read_result(path)
    assert result.times.tolist() == [0.0, 0.5, 2.0]
    assert len(result.parts) == 2
    assert {("temp", "point", 1), ("stress", "cell", 1)} <= names(result)
    assert np.allclose(result.field(2, "stress", "cell"), 20.0)
    temp = result.field(1, "temp")
    part_of_point = np.zeros(result.mesh(1).n_points, int)
    assert temp.shape == part_of_point.shape and set(np.round(temp, 6)) == {0.5, 1.5}
    assert result.bracket(1.25) == (1, 2, pytest.approx(0.5))
    cut = tmp_path / "cut.exo"
    cut.write_bytes(path.read_bytes()[:300])
    capfd.readouterr()
    with pytest.raises(SimReadError) as exc:
        read_result(cut)
    one_line(exc, cut)
    assert capfd.readouterr().err == ""  # the Exodus library's own complaint is kept quiet


def test_vtkhdf_time_steps(tmp_path: Path) -> None:
    from vtkmodules.util.vtkAlgorithm import VTKPythonAlgorithmBase
    from vtkmodules.vtkCommonDataModel import vtkUnstructuredGrid
    from vtkmodules.vtkCommonExecutionModel import vtkStreamingDemandDrivenPipeline as SDDP

    try:
        from vtkmodules.vtkIOHDF import vtkHDFWriter
    except ImportError:
        pytest.skip("this VTK has no vtkHDFWriter")
    times = [0.0, 1.0, 2.5]
    cube = pv.ImageData(dimensions=(3, 3, 3)).cast_to_unstructured_grid()

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
            grid = cube.copy()
            grid.point_data["h"] = np.full(grid.n_points, t)
            vtkUnstructuredGrid.GetData(out_info).ShallowCopy(grid)
            return 1

    source = Source()
    path = tmp_path / "run.vtkhdf"
    writer = vtkHDFWriter()
    writer.SetInputConnection(source.GetOutputPort())
    writer.SetFileName(str(path))
    writer.SetWriteAllTimeSteps(True)
    writer.Write()
    result = read_result(path)
    assert result.times.tolist() == times and result.parts == ["run"]
    assert result.fields == [FieldInfo("h", "point", 1, None)]
    assert [float(result.field(k, "h")[0]) for k in range(3)] == times
    not_hdf = tmp_path / "fake.vtkhdf"
    not_hdf.write_text("not HDF5")
    with pytest.raises(SimReadError, match="HDF5") as exc:
        read_result(not_hdf)
    one_line(exc, not_hdf)


def test_meshio_formats_keep_quadratic_cells(tmp_path: Path) -> None:
    meshio = pytest.importorskip("meshio")
    points = np.array(
        [[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]]
        + [[0.5, 0, 0], [0.5, 0.5, 0], [0, 0.5, 0], [0, 0, 0.5], [0.5, 0, 0.5], [0, 0.5, 0.5]],
        dtype=float,
    )
    mesh = meshio.Mesh(
        points,
        [("tetra10", np.arange(10)[None])],
        point_data={"T": np.arange(10.0)},
        cell_data={"stress": [np.ones((1, 9))]},
    )
    msh = tmp_path / "part.msh"
    mesh.write(msh, file_format="gmsh")
    result = read_result(msh)
    assert result.mesh(0).celltypes.tolist() == [VTK_QUADRATIC_TETRA]
    assert {("T", "point", 1), ("stress", "cell", 9)} <= names(result)
    inp = tmp_path / "part.inp"
    mesh.write(inp)
    assert read_result(inp).mesh(0).celltypes.tolist() == [VTK_QUADRATIC_TETRA]
    broken = tmp_path / "broken.msh"
    broken.write_text("$MeshFormat\n4.1 0 8\n$EndMeshFormat\n$Nodes\n1 2")
    with pytest.raises(SimReadError, match="Gmsh") as exc:
        read_result(broken)
    one_line(exc, broken)


def test_pvd_and_series_written_here(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    for i in range(3):
        grid = pv.ImageData(dimensions=(3, 3, 3)).cast_to_unstructured_grid()
        grid.point_data["h"] = np.full(grid.n_points, float(i))
        grid.save(tmp_path / "data" / f"run_{i}.vtu")
    series = tmp_path / "run.vtu.series"
    entries = [{"name": f"data/run_{i}.vtu", "time": t} for i, t in ((2, 9.0), (0, 1.0), (1, 4))]
    series.write_text(json.dumps({"file-series-version": "1.0", "files": entries}))
    result = read_result(series)
    assert result.times.tolist() == [1.0, 4.0, 9.0]  # sorted by time
    assert result.parts == ["run"]
    assert [result.field(k, "h")[0] for k in range(3)] == [0.0, 1.0, 2.0]
    assert result.step_at(6.4) == 1 and result.step_at(6.6) == 2


# -- broken files ----------------------------------------------------------------------------


def _good_vtu(tmp_path: Path) -> Path:
    grid = pv.ImageData(dimensions=(4, 4, 4)).cast_to_unstructured_grid()
    grid.point_data["T"] = np.arange(grid.n_points, dtype=float)
    path = tmp_path / "good.vtu"
    grid.save(path)
    return path


def test_truncated_vtu(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    data = _good_vtu(tmp_path).read_bytes()
    path = tmp_path / "truncated.vtu"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(SimReadError) as exc:
        read_result(path)
    message = one_line(exc, path)
    assert "XML" in message or "parsing" in message
    assert capfd.readouterr().err == ""  # VTK's own complaint does not reach the console


def test_garbage_vtu(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "garbage.vtu"
    path.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(SimReadError) as exc:
        read_result(path)
    assert "VTK XML unstructured grid" in one_line(exc, path)
    assert capfd.readouterr().err == ""


def test_cut_short_files(corpus: Path, tmp_path: Path) -> None:
    """Binary data cut short: VTK only warns about some of these; they are errors here."""
    cases = {
        "building_cfd/office.binary.vtk": ("office.vtk", 100_000, "binary data"),
        "fea/notch_disp.vtu": ("notch.vtu", 200_000, "XML"),
        "pvd_dualSphereAnimation/dualSphereAnimation/dualSphereAnimation_P00T0003.vtp": (
            "sphere.vtp",
            3000,
            "too short",
        ),
    }
    for rel, (name, size, words) in cases.items():
        path = tmp_path / name
        path.write_bytes(sim(corpus, rel).read_bytes()[:size])
        with pytest.raises(SimReadError, match=words) as exc:
            read_result(path)
        one_line(exc, path)


def test_wrong_kind_of_vtk_file(corpus: Path, tmp_path: Path) -> None:
    rel = "pvd_dualSphereAnimation/dualSphereAnimation/dualSphereAnimation_P00T0003.vtp"
    path = tmp_path / "sphere.vtu"
    path.write_bytes(sim(corpus, rel).read_bytes())
    with pytest.raises(SimReadError, match="UnstructuredGrid") as exc:
        read_result(path)
    one_line(exc, path)


def test_empty_dataset(tmp_path: Path) -> None:
    path = tmp_path / "empty.vtu"
    pv.UnstructuredGrid().save(path)
    with pytest.raises(SimReadError, match="no points") as exc:
        read_result(path)
    one_line(exc, path)
    zero = tmp_path / "zero.vtp"
    zero.write_bytes(b"")
    with pytest.raises(SimReadError, match="empty") as exc:
        read_result(zero)
    one_line(exc, zero)


def test_pvd_naming_a_missing_file(tmp_path: Path) -> None:
    _good_vtu(tmp_path)
    path = tmp_path / "run.pvd"
    path.write_text(
        '<?xml version="1.0"?>\n<VTKFile type="Collection" version="0.1"><Collection>\n'
        '<DataSet timestep="0" part="0" file="good.vtu"/>\n'
        '<DataSet timestep="1" part="0" file="steps/missing_1.vtu"/>\n'
        "</Collection></VTKFile>\n"
    )
    with pytest.raises(SimReadError) as exc:
        read_result(path)
    assert "missing_1.vtu" in one_line(exc, path) and "does not exist" in str(exc.value)


def test_series_naming_a_missing_file_and_bad_json(tmp_path: Path) -> None:
    path = tmp_path / "run.vtu.series"
    path.write_text(json.dumps({"files": [{"name": "nowhere.vtu", "time": 0}]}))
    with pytest.raises(SimReadError, match="nowhere.vtu") as exc:
        read_result(path)
    one_line(exc, path)
    path.write_text('{"files": [')
    with pytest.raises(SimReadError, match="JSON") as exc:
        read_result(path)
    one_line(exc, path)


def test_broken_collection_xml(tmp_path: Path) -> None:
    path = tmp_path / "run.pvd"
    path.write_text('<?xml version="1.0"?>\n<VTKFile type="Collection"><Collection>\n<DataS')
    with pytest.raises(SimReadError, match="XML") as exc:
        read_result(path)
    one_line(exc, path)


def test_unknown_suffix_and_missing_file(tmp_path: Path) -> None:
    odd = tmp_path / "result.xyz"
    odd.write_text("1 2 3")
    with pytest.raises(SimReadError, match="unsupported") as exc:
        read_result(odd)
    assert ".vtu" in one_line(exc, odd)
    missing = tmp_path / "gone.vtu"
    with pytest.raises(SimReadError, match="not found") as exc:
        read_result(missing)
    one_line(exc, missing)


def test_broken_xdmf_and_exodus_do_not_crash(tmp_path: Path) -> None:
    xdmf = tmp_path / "bad.xdmf"
    xdmf.write_text(
        '<Xdmf Version="3.0"><Domain><Grid Name="g"><Topology TopologyType="Triangle" '
        'NumberOfElements="2"><DataItem Format="HDF" Dimensions="2 3">missing.h5:/d'
        "</DataItem></Topology></Grid></Domain></Xdmf>"
    )
    with pytest.raises(SimReadError, match="missing.h5") as exc:
        read_result(xdmf)
    one_line(exc, xdmf)
    xdmf.write_text("hello, not XML")
    with pytest.raises(SimReadError, match="XML") as exc:
        read_result(xdmf)
    one_line(exc, xdmf)
    exo = tmp_path / "bad.exo"
    exo.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(SimReadError, match="netCDF") as exc:
        read_result(exo)
    one_line(exc, exo)


def test_broken_xdmf_data(corpus: Path, tmp_path: Path) -> None:
    """Files VTK's XDMF reader would crash on are stopped before it sees them."""
    h5py = pytest.importorskip("h5py")
    source = sim(corpus, "xdmf/meshio_timeseries/out.xdmf")
    text = source.read_text()

    def variant(name: str, xml: str, edit: object = None) -> Path:
        h5 = tmp_path / f"{name}.h5"
        h5.write_bytes(source.with_suffix(".h5").read_bytes())
        if callable(edit):
            with h5py.File(h5, "a") as f:
                edit(f)
        path = tmp_path / f"{name}.xdmf"
        path.write_text(xml.replace("out.h5:", f"{name}.h5:"))
        return path

    def shrink(f: object) -> None:
        del f["data2"]  # type: ignore[attr-defined]
        f["data2"] = np.zeros(2)  # type: ignore[index]

    def bad_index(f: object) -> None:
        cells = f["data1"][...]  # type: ignore[index]
        cells[0, 0] = 1000
        del f["data1"]  # type: ignore[attr-defined]
        f["data1"] = cells  # type: ignore[index]

    start, end = text.index("<Topology"), text.index("</Topology>") + len("</Topology>")
    cases = [
        (variant("short", text, shrink), "holds 2 values"),
        (variant("notopo", text[:start] + text[end:]), "no Topology"),
        (variant("badindex", text, bad_index), "refers to point 1000"),
        (variant("nodataset", text.replace(":/data5<", ":/nothing<")), "no dataset"),
    ]
    for path, words in cases:
        with pytest.raises(SimReadError, match=words) as exc:
            read_result(path)
        one_line(exc, path)


def test_suffixes_and_steps() -> None:
    suffixes = result_suffixes()
    for s in (".vtu", ".vtp", ".vts", ".vtr", ".vti", ".vtk", ".vtm", ".pvd", ".series"):
        assert s in suffixes
    for s in (".xdmf", ".xmf", ".e", ".exo", ".ex2", ".exii", ".vtkhdf", ".msh", ".inp"):
        assert s in suffixes


def test_step_index_errors(tmp_path: Path) -> None:
    result = read_result(_good_vtu(tmp_path))
    assert result.mesh(-1).n_points == 64
    with pytest.raises(IndexError):
        result.mesh(1)
    with pytest.raises(KeyError, match="T \\(point\\)"):
        result.field(0, "nope")
    with pytest.raises(ValueError):
        result.step_at(0.0, mode="sideways")
    mesh = result.mesh(0)
    mesh.point_data["extra"] = np.zeros(mesh.n_points)
    assert "extra" not in result.mesh(0).point_data  # callers get a copy of the cached grid
