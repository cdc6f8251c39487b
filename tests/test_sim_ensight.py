"""EnSight Gold (issue 14): an ASCII case written by hand (two parts, three steps), a binary one
written by VTK's own vtkEnSightWriter, broken and cut-short cases failing with one line; and
CGNS through VTK's reader on a small file written with h5py."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from twinviewer.sim import SimReadError, is_result, read_result

pv = pytest.importorskip("pyvista")


def one_line(exc: pytest.ExceptionInfo[SimReadError], path: Path) -> str:
    message = str(exc.value)
    assert "\n" not in message
    assert message.startswith(str(path)) and "expected" in message
    return message


def write_ensight_ascii(folder: Path, times=(0.0, 0.5, 1.0), name="run") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    # part 1: 2x1x1 hexa8 block; part 2: its top face as quad4
    xs = [0.0, 1.0, 2.0]
    pts = [(x, y, z) for z in (0.0, 1.0) for y in (0.0, 1.0) for x in xs]

    def n(i, j, k):
        return 1 + i + 3 * j + 6 * k

    hexes = [
        [
            n(i, 0, 0),
            n(i + 1, 0, 0),
            n(i + 1, 1, 0),
            n(i, 1, 0),
            n(i, 0, 1),
            n(i + 1, 0, 1),
            n(i + 1, 1, 1),
            n(i, 1, 1),
        ]
        for i in range(2)
    ]
    top_pts = [(x, y, 1.0) for y in (0.0, 1.0) for x in xs]
    quads = [[1 + i, 2 + i, 5 + i, 4 + i] for i in range(2)]
    lines = ["EnSight Gold geometry written by hand", "two parts", "node id off", "element id off"]

    def part(number, desc, points, etype, cells):
        lines.extend(["part", f"{number:10d}", desc, "coordinates", f"{len(points):10d}"])
        for axis in range(3):
            lines.extend(f"{p[axis]:12.5e}" for p in points)
        lines.extend([etype, f"{len(cells):10d}"])
        lines.extend("".join(f"{v:10d}" for v in c) for c in cells)

    part(1, "fluid", pts, "hexa8", hexes)
    part(2, "wall", top_pts, "quad4", quads)
    (folder / f"{name}.geo").write_text("\n".join(lines) + "\n")
    for k in range(len(times)):
        sl = ["pressure at t", "part", f"{1:10d}", "coordinates"]
        sl += [f"{100.0 + 10 * k + i:12.5e}" for i in range(len(pts))]
        sl += ["part", f"{2:10d}", "coordinates"]
        sl += [f"{200.0 + 10 * k + i:12.5e}" for i in range(len(top_pts))]
        (folder / f"{name}.pressure.{k:04d}").write_text("\n".join(sl) + "\n")
        vl = ["velocity at t", "part", f"{1:10d}", "hexa8"]
        for axis in range(3):
            vl += [f"{(k + 1.0) * (axis == 0) + c:12.5e}" for c in range(2)]
        vl += ["part", f"{2:10d}", "quad4"]
        for axis in range(3):
            vl += [f"{(k + 1.0) * (axis == 1):12.5e}" for c in range(2)]
        (folder / f"{name}.velocity.{k:04d}").write_text("\n".join(vl) + "\n")
    case = folder / f"{name}.case"
    case.write_text(
        "FORMAT\ntype: ensight gold\n\nGEOMETRY\nmodel: " + f"{name}.geo\n\n"
        "VARIABLE\n"
        f"scalar per node: 1 pressure {name}.pressure.****\n"
        f"vector per element: 1 velocity {name}.velocity.****\n\n"
        "TIME\ntime set: 1\n"
        f"number of steps: {len(times)}\nfilename start number: 0\nfilename increment: 1\n"
        "time values: " + " ".join(f"{t:g}" for t in times) + "\n"
    )
    return case


def write_cgns(path: Path, points, hexes, fields: dict[str, np.ndarray]) -> Path:
    """A minimal unstructured CGNS/HDF5 file: one base, one zone of HEXA_8, vertex solutions."""
    import h5py

    def node(parent, name, label, kind, data=None):
        g = parent.create_group(name, track_order=True)
        g.attrs.create("name", np.bytes_(name.ljust(32, "\0")[:33]), dtype="S33")
        g.attrs.create("label", np.bytes_(label.ljust(32, "\0")[:33]), dtype="S33")
        g.attrs.create("type", np.bytes_(kind), dtype="S3")
        g.attrs.create("flags", np.array([1], dtype=np.int32))
        if data is not None:
            if kind == "C1":
                data = np.frombuffer(data.encode(), dtype=np.int8)
            g.create_dataset(" data", data=np.asarray(data))
        return g

    with h5py.File(path, "w", track_order=True) as f:
        f.attrs.create("name", np.bytes_("HDF5 MotherNode".ljust(32, "\0")), dtype="S33")
        f.attrs.create("label", np.bytes_("Root Node of HDF5 File".ljust(32, "\0")), dtype="S33")
        f.attrs.create("type", np.bytes_("MT"), dtype="S3")
        f.create_dataset(" format", data=np.frombuffer(b"IEEE_LITTLE_32\0", dtype=np.int8))
        f.create_dataset(
            " hdf5version",
            data=np.frombuffer(b"HDF5 Version 1.8.17".ljust(33, b"\0"), dtype=np.int8),
        )
        node(f, "CGNSLibraryVersion", "CGNSLibraryVersion_t", "R4", np.array([3.4], np.float32))
        base = node(f, "Base", "CGNSBase_t", "I4", np.array([3, 3], np.int32))
        zone = node(
            base, "Zone", "Zone_t", "I4", np.array([[len(points), len(hexes), 0]], np.int32)
        )
        node(zone, "ZoneType", "ZoneType_t", "C1", "Unstructured")
        gc = node(zone, "GridCoordinates", "GridCoordinates_t", "MT")
        for i, axis in enumerate("XYZ"):
            node(
                gc, f"Coordinate{axis}", "DataArray_t", "R8", np.asarray(points, float)[:, i].copy()
            )
        el = node(zone, "Hexa", "Elements_t", "I4", np.array([17, 0], np.int32))
        node(el, "ElementRange", "IndexRange_t", "I4", np.array([1, len(hexes)], np.int32))
        node(
            el,
            "ElementConnectivity",
            "DataArray_t",
            "I4",
            (np.asarray(hexes, np.int32) + 1).ravel(),
        )
        sol = node(zone, "FlowSolution", "FlowSolution_t", "MT")
        node(sol, "GridLocation", "GridLocation_t", "C1", "Vertex")
        for name, values in fields.items():
            node(sol, name, "DataArray_t", "R8", np.asarray(values, float))
    return path


def hex_grid() -> Any:
    x, y, z = np.meshgrid(np.arange(4.0), np.arange(3.0), np.arange(2.0), indexing="ij")
    return pv.StructuredGrid(x, y, z).cast_to_unstructured_grid()  # 6 hexahedra


def write_ensight_binary(folder: Path, steps: int = 3) -> Path:
    """Binary EnSight Gold by VTK's own writer (a case file ``bin.0.case``)."""
    from vtkmodules.vtkIOParallel import vtkEnSightWriter

    folder.mkdir(parents=True, exist_ok=True)
    grid = hex_grid()
    grid.cell_data["BlockId"] = np.ones(grid.n_cells, dtype=np.int32)
    writer = vtkEnSightWriter()
    writer.SetPath(str(folder))
    writer.SetBaseName("bin")
    writer.SetInputData(grid)
    for k in range(steps):
        grid.point_data["temperature"] = np.arange(grid.n_points, dtype=np.float32) + 100 * k
        grid.cell_data["stress"] = np.full((grid.n_cells, 3), k + 1.0, dtype=np.float32)
        writer.SetTimeStep(k)
        writer.Modified()
        writer.Write()
    writer.WriteCaseFile(steps)
    return folder / "bin.0.case"


# -- ASCII ------------------------------------------------------------------------------------


def test_ascii_two_parts_three_steps(tmp_path: Path) -> None:
    case = write_ensight_ascii(tmp_path / "ascii")
    assert is_result(case)
    result = read_result(case)
    assert list(result.times) == [0.0, 0.5, 1.0]
    assert result.parts == ["fluid", "wall"]
    assert {(f.name, f.association, f.components) for f in result.fields} == {
        ("pressure", "point", 1),
        ("velocity", "cell", 3),
    }
    assert result.bounds == pytest.approx((0, 2, 0, 1, 0, 1))
    grid = result.mesh(1)
    fluid = grid.point_data["pressure"][:12]
    assert np.allclose(fluid, 110 + np.arange(12))
    cells = grid.cell_data["part"] == 0
    assert (grid.celltypes[cells] == 12).all() and cells.sum() == 2
    velocity = result.field(2, "velocity", "cell")[cells]
    assert np.allclose(velocity, [[3, 0, 0], [4, 1, 1]])


def test_encas_suffix(tmp_path: Path) -> None:
    case = write_ensight_ascii(tmp_path / "fluent")
    encas = case.with_suffix(".encas")
    case.rename(encas)
    assert read_result(encas).n_steps == 3


def test_ascii_geometry_missing(tmp_path: Path) -> None:
    case = write_ensight_ascii(tmp_path / "nogeo")
    (case.parent / "run.geo").unlink()
    with pytest.raises(SimReadError) as exc:
        read_result(case)
    assert "run.geo" in one_line(exc, case) and "does not exist" in str(exc.value)


def test_ascii_variable_of_a_later_step_missing(tmp_path: Path) -> None:
    case = write_ensight_ascii(tmp_path / "novar")
    (case.parent / "run.pressure.0001").unlink()
    result = read_result(case)
    with pytest.raises(SimReadError) as exc:
        result.mesh(1)
    assert "run.pressure.0001" in one_line(exc, case)


@pytest.mark.parametrize("cut", [100, 200, 400, 600])
def test_ascii_geometry_cut_short(tmp_path: Path, cut: int) -> None:
    """VTK's ASCII reader can crash on these; they are stopped before it reads them."""
    case = write_ensight_ascii(tmp_path / "cut")
    geo = case.parent / "run.geo"
    geo.write_text(geo.read_text()[:cut])
    with pytest.raises(SimReadError) as exc:
        read_result(case)
    assert "run.geo" in one_line(exc, case)


@pytest.mark.parametrize("name", ["run.velocity.0002", "run.pressure.0002"])
@pytest.mark.parametrize("cut", [30, 60, 120])
def test_ascii_variable_cut_short(tmp_path: Path, name: str, cut: int) -> None:
    case = write_ensight_ascii(tmp_path / "cut")
    file = case.parent / name
    file.write_text(file.read_text()[:cut])
    result = read_result(case)
    with pytest.raises(SimReadError) as exc:
        result.mesh(2)
    one_line(exc, case)


def test_not_a_case_file(tmp_path: Path) -> None:
    case = tmp_path / "noise.case"
    case.write_text("hello world\n")
    with pytest.raises(SimReadError) as exc:
        read_result(case)
    assert "FORMAT" in one_line(exc, case)


# -- binary, by VTK's writer -------------------------------------------------------------------


def test_binary_written_by_vtk(tmp_path: Path) -> None:
    case = write_ensight_binary(tmp_path / "bin")
    result = read_result(case)
    assert list(result.times) == [0.0, 1.0, 2.0]
    fields = {f.name: (f.association, f.components) for f in result.fields}
    assert fields == {"temperature_n": ("point", 1), "stress_c": ("cell", 3)}
    assert np.allclose(result.field(2, "temperature_n"), 200 + np.arange(24))
    assert np.allclose(result.field(1, "stress_c"), 2.0)
    assert result.bounds == pytest.approx((0, 3, 0, 2, 0, 1))


def test_binary_geometry_cut_short(tmp_path: Path) -> None:
    case = write_ensight_binary(tmp_path / "bin")
    geo = tmp_path / "bin" / "bin.0.00000.geo"
    geo.write_bytes(geo.read_bytes()[:500])
    with pytest.raises(SimReadError) as exc:
        read_result(case).mesh(0)
    one_line(exc, case)


def test_check_describes_an_ensight_case(tmp_path: Path) -> None:
    case = write_ensight_ascii(tmp_path / "ascii")
    r = subprocess.run(
        [sys.executable, "-m", "twinviewer", "check", str(case)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert "EnSight Gold" in r.stdout and "3 time steps, t = 0 .. 1" in r.stdout
    assert "fluid" in r.stdout and "velocity" in r.stdout
    shutil.rmtree(tmp_path / "ascii")
    write_ensight_ascii(tmp_path / "ascii")
    (tmp_path / "ascii" / "run.geo").unlink()
    r = subprocess.run(
        [sys.executable, "-m", "twinviewer", "check", str(case)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1
    errors = [line for line in r.stderr.splitlines() if ": error:" in line]
    assert len(errors) == 1 and "run.geo" in errors[0]


# -- CGNS --------------------------------------------------------------------------------------


def test_cgns(tmp_path: Path) -> None:
    pytest.importorskip("vtkmodules.vtkIOCGNSReader")
    pytest.importorskip("h5py")
    grid = hex_grid()
    path = write_cgns(
        tmp_path / "zone.cgns",
        np.asarray(grid.points),
        grid.cells_dict[12],
        {"Temperature": np.arange(grid.n_points, dtype=float)},
    )
    result = read_result(path)
    assert result.parts == ["Base/Zone"] and result.n_steps == 1
    assert [(f.name, f.association) for f in result.fields] == [("Temperature", "point")]
    assert result.mesh(0).n_cells == 6
    assert result.bounds == pytest.approx((0, 3, 0, 2, 0, 1))


def test_cgns_broken(tmp_path: Path) -> None:
    pytest.importorskip("vtkmodules.vtkIOCGNSReader")
    noise = tmp_path / "noise.cgns"
    noise.write_bytes(b"not a cgns file at all" * 10)
    with pytest.raises(SimReadError) as exc:
        read_result(noise)
    assert "HDF5" in one_line(exc, noise)
