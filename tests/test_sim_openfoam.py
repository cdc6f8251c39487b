"""OpenFOAM cases (issue 14): a minimal cavity case written by hand, reconstructed and
decomposed, read through ``read_result``; broken cases fail with one line; and
``twinviewer check`` on these cases and on every result in ../shared/corpus/sim."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import CORPUS
from twinviewer.sim import SimReadError, is_result, read_result

pytest.importorskip("vtkmodules.vtkIOGeometry")

HEADER = """/*--------------------------------*- C++ -*----------------------------------*\\
  =========                 |
  \\\\      /  F ield         | written by hand for TwinViewer's tests
\\*---------------------------------------------------------------------------*/
FoamFile
{{
    version     2.0;
    format      ascii;
    class       {cls};
    object      {obj};
}}
// * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * //

"""


def foam_file(path: Path, cls: str, obj: str, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER.format(cls=cls, obj=obj) + body + "\n// ***** //\n")


def _list(items: list[str]) -> str:
    return f"{len(items)}\n(\n" + "\n".join(items) + "\n)\n"


def slab(i0: int, i1: int, nx: int, ny: int, size: float = 0.1) -> tuple[Any, ...]:
    """Columns i0..i1-1 of an nx by ny cavity, one cell thick: points, faces, owner, neighbour,
    patches [(name, type, start, n, extra)]."""
    d, dz = size / nx, size / nx
    cols = i1 - i0
    P: dict[tuple[int, int, int], int] = {}
    pts: list[tuple[float, float, float]] = []
    for k in range(2):
        for j in range(ny + 1):
            for i in range(i0, i1 + 1):
                P[(i, j, k)] = len(pts)
                pts.append((i * d, j * d, k * dz))
    cell = {(i, j): (i - i0) + cols * j for i in range(i0, i1) for j in range(ny)}
    faces: list[tuple[int, ...]] = []
    owner: list[int] = []
    neighbour: list[int] = []
    for j in range(ny):
        for i in range(i0, i1):
            c = cell[(i, j)]
            if i + 1 < i1:
                faces.append(
                    (P[i + 1, j, 0], P[i + 1, j + 1, 0], P[i + 1, j + 1, 1], P[i + 1, j, 1])
                )
                owner.append(c)
                neighbour.append(cell[(i + 1, j)])
            if j + 1 < ny:
                faces.append(
                    (P[i, j + 1, 0], P[i, j + 1, 1], P[i + 1, j + 1, 1], P[i + 1, j + 1, 0])
                )
                owner.append(c)
                neighbour.append(cell[(i, j + 1)])
    top = [
        ((P[i, ny, 0], P[i, ny, 1], P[i + 1, ny, 1], P[i + 1, ny, 0]), cell[(i, ny - 1)])
        for i in range(i0, i1)
    ]
    bottom = [
        ((P[i, 0, 0], P[i + 1, 0, 0], P[i + 1, 0, 1], P[i, 0, 1]), cell[(i, 0)])
        for i in range(i0, i1)
    ]
    left = [
        ((P[i0, j, 0], P[i0, j, 1], P[i0, j + 1, 1], P[i0, j + 1, 0]), cell[(i0, j)])
        for j in range(ny)
    ]
    right = [
        ((P[i1, j, 0], P[i1, j + 1, 0], P[i1, j + 1, 1], P[i1, j, 1]), cell[(i1 - 1, j)])
        for j in range(ny)
    ]
    fb = []
    for j in range(ny):
        for i in range(i0, i1):
            fb.append(
                ((P[i, j, 0], P[i, j + 1, 0], P[i + 1, j + 1, 0], P[i + 1, j, 0]), cell[(i, j)])
            )
            fb.append(
                ((P[i, j, 1], P[i + 1, j, 1], P[i + 1, j + 1, 1], P[i, j + 1, 1]), cell[(i, j)])
            )
    groups = [
        ("movingWall", "wall", top, ""),
        (
            "fixedWalls",
            "wall",
            bottom + (left if i0 == 0 else []) + (right if i1 == nx else []),
            "",
        ),
        ("frontAndBack", "empty", fb, ""),
    ]
    if i0 > 0:
        groups.append(("procBoundary1to0", "processor", left, "myProcNo 1; neighbProcNo 0;"))
    if i1 < nx:
        groups.append(("procBoundary0to1", "processor", right, "myProcNo 0; neighbProcNo 1;"))
    patches = []
    for name, kind, items, extra in groups:
        patches.append((name, kind, len(faces), len(items), extra))
        for f, c in items:
            faces.append(f)
            owner.append(c)
    return pts, faces, owner, neighbour, patches, len(cell)


def write_mesh(case: Path, i0: int, i1: int, nx: int, ny: int) -> tuple[int, list[str]]:
    pts, faces, owner, neighbour, patches, n_cells = slab(i0, i1, nx, ny)
    mesh = case / "constant" / "polyMesh"
    foam_file(
        mesh / "points", "vectorField", "points", _list([f"({x:g} {y:g} {z:g})" for x, y, z in pts])
    )
    foam_file(
        mesh / "faces",
        "faceList",
        "faces",
        _list([f"{len(f)}({' '.join(map(str, f))})" for f in faces]),
    )
    foam_file(mesh / "owner", "labelList", "owner", _list([str(o) for o in owner]))
    foam_file(mesh / "neighbour", "labelList", "neighbour", _list([str(n) for n in neighbour]))
    body = _list(
        [
            f"{name}\n{{\n    type {kind};\n    nFaces {n};\n    startFace {start};\n"
            f"    {extra}\n}}"
            for name, kind, start, n, extra in patches
        ]
    )
    foam_file(mesh / "boundary", "polyBoundaryMesh", "boundary", body)
    return n_cells, [p[0] for p in patches]


def write_fields(case: Path, time: str, n_cells: int, patches: list[str], scale: float) -> None:
    def boundary(uniform_wall: str, moving: str) -> str:
        out = []
        for name in patches:
            if name == "frontAndBack":
                out.append(f"    {name} {{ type empty; }}")
            elif name.startswith("procBoundary"):
                out.append(f"    {name} {{ type processor; value uniform {uniform_wall}; }}")
            elif name == "movingWall":
                out.append(f"    {name} {{ type fixedValue; value uniform {moving}; }}")
            else:
                out.append(f"    {name} {{ type fixedValue; value uniform {uniform_wall}; }}")
        return "boundaryField\n{\n" + "\n".join(out) + "\n}\n"

    p = [f"{scale * (i + 1):g}" for i in range(n_cells)]
    foam_file(
        case / time / "p",
        "volScalarField",
        "p",
        "dimensions [0 2 -2 0 0 0 0];\n\ninternalField nonuniform List<scalar>\n"
        + _list(p)
        + ";\n\n"
        + boundary("0", "0"),
    )
    U = [f"({scale:g} {scale * i:g} 0)" for i in range(n_cells)]
    foam_file(
        case / time / "U",
        "volVectorField",
        "U",
        "dimensions [0 1 -1 0 0 0 0];\n\ninternalField nonuniform List<vector>\n"
        + _list(U)
        + ";\n\n"
        + boundary("(0 0 0)", "(1 0 0)"),
    )


CONTROL = """application icoFoam;
startFrom startTime;
startTime 0;
stopAt endTime;
endTime 0.2;
deltaT 0.005;
writeControl timeStep;
writeInterval 20;
"""


def write_cavity(
    case: Path,
    nx: int = 4,
    ny: int = 4,
    times: tuple[str, ...] = ("0", "0.1", "0.2"),
    processors: int = 0,
) -> Path:
    foam_file(case / "system" / "controlDict", "dictionary", "controlDict", CONTROL)
    (case / "case.foam").write_text("")
    parts = (
        [(0, nx, case)]
        if not processors
        else [
            (k * nx // processors, (k + 1) * nx // processors, case / f"processor{k}")
            for k in range(processors)
        ]
    )
    for i0, i1, where in parts:
        n_cells, patches = write_mesh(where, i0, i1, nx, ny)
        for t in times:
            write_fields(where, t, n_cells, patches, float(t) if float(t) else 0.0)
    return case


def one_line(exc: pytest.ExceptionInfo[SimReadError], path: Path) -> str:
    message = str(exc.value)
    assert "\n" not in message
    assert message.startswith(str(path)) and "expected" in message
    return message


# -- reading ---------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", ["", "case.foam", "system/controlDict"])
def test_cavity_by_folder_foam_file_or_control_dict(tmp_path: Path, entry: str) -> None:
    case = write_cavity(tmp_path / "cavity")
    path = case / entry if entry else case
    assert is_result(path)
    result = read_result(path)
    assert list(result.times) == [0.0, 0.1, 0.2]
    assert result.parts == [
        "internalMesh",
        "boundary/movingWall",
        "boundary/fixedWalls",
        "boundary/frontAndBack",
    ]
    fields = {(f.name, f.association): (f.components, f.unit) for f in result.fields}
    assert fields[("p", "cell")] == (1, "m2/s2")
    assert fields[("U", "cell")] == (3, "m/s")
    assert ("p", "point") in fields
    assert result.bounds == pytest.approx((0, 0.1, 0, 0.1, 0, 0.025), abs=1e-6)
    grid = result.mesh(0)
    internal = grid.cell_data["part"] == 0
    assert internal.sum() == 16  # 4 x 4 hexahedra
    assert (grid.celltypes[internal] == 12).all()
    p = result.field(2, "p", "cell")[internal]
    assert np.allclose(np.sort(p), 0.2 * np.arange(1, 17))
    u = result.field(1, "U", "cell")[internal]
    assert np.allclose(u[:, 0], 0.1) and np.allclose(np.sort(u[:, 1]), 0.1 * np.arange(16))


def test_decomposed_case(tmp_path: Path) -> None:
    case = write_cavity(tmp_path / "cavity", processors=2)
    assert not (case / "constant").exists()
    result = read_result(case / "case.foam")
    assert "decomposed" in result.kind
    assert list(result.times) == [0.0, 0.1, 0.2]
    grid = result.mesh(2)
    internal = grid.cell_data["part"] == result.parts.index("internalMesh")
    assert internal.sum() == 16  # both processors' 8 cells
    p = result.field(2, "p", "cell")[internal]
    assert np.allclose(np.sort(p), np.sort(np.r_[0.2 * np.arange(1, 9), 0.2 * np.arange(1, 9)]))
    assert result.bounds == pytest.approx((0, 0.1, 0, 0.1, 0, 0.025), abs=1e-6)


def test_decomposed_run_beside_a_reconstructed_start(tmp_path: Path) -> None:
    """Top level with only 0/, processors with every time: the processors are read."""
    case = write_cavity(tmp_path / "cavity", processors=2)
    write_mesh(case, 0, 4, 4, 4)
    write_fields(case, "0", 16, ["movingWall", "fixedWalls", "frontAndBack"], 0.0)
    result = read_result(case)
    assert "decomposed" in result.kind and result.n_steps == 3


# -- broken cases ----------------------------------------------------------------------------


def test_missing_control_dict(tmp_path: Path) -> None:
    case = write_cavity(tmp_path / "cavity")
    (case / "system" / "controlDict").unlink()
    for path in (case, case / "case.foam"):
        with pytest.raises(SimReadError) as exc:
            read_result(path)
        assert "controlDict" in one_line(exc, path)


def test_missing_or_cut_mesh(tmp_path: Path) -> None:
    nomesh = write_cavity(tmp_path / "nomesh")
    shutil.rmtree(nomesh / "constant")
    with pytest.raises(SimReadError) as exc:
        read_result(nomesh)
    assert "polyMesh" in one_line(exc, nomesh)

    nopoints = write_cavity(tmp_path / "nopoints")
    (nopoints / "constant" / "polyMesh" / "points").unlink()
    with pytest.raises(SimReadError) as exc:
        read_result(nopoints)
    assert "points" in one_line(exc, nopoints)

    cut = write_cavity(tmp_path / "cut")
    faces = cut / "constant" / "polyMesh" / "faces"
    faces.write_text(faces.read_text()[:600])
    with pytest.raises(SimReadError) as exc:
        read_result(cut)
    assert "faces" in one_line(exc, cut)


def test_broken_field_in_a_later_step(tmp_path: Path) -> None:
    case = write_cavity(tmp_path / "cavity")
    p = case / "0.2" / "p"
    p.write_text(p.read_text()[:700])
    result = read_result(case)  # the first step is fine
    with pytest.raises(SimReadError) as exc:
        result.mesh(2)
    assert "step 2" in one_line(exc, case)


def test_missing_foam_file(tmp_path: Path) -> None:
    path = tmp_path / "nothing" / "case.foam"
    with pytest.raises(SimReadError) as exc:
        read_result(path)
    assert "not found" in one_line(exc, path)


# -- the command line -----------------------------------------------------------------------


def twinviewer(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "twinviewer", *args], capture_output=True, text=True, timeout=300
    )


def test_check_describes_a_case(tmp_path: Path) -> None:
    case = write_cavity(tmp_path / "cavity")
    r = twinviewer("check", str(case))
    assert r.returncode == 0, r.stderr
    assert "OpenFOAM" in r.stdout and "3 time steps" in r.stdout
    assert "p [m2/s2]" in r.stdout and "boundary/movingWall" in r.stdout
    assert "bounds: x 0 .. 0.1" in r.stdout
    r = twinviewer("check", str(case / "case.foam"), "--json")
    report = json.loads(r.stdout)
    assert report["ok"] and report["result"]["steps"] == 3
    assert {"name": "U", "association": "cell", "components": 3, "unit": "m/s"} in report["result"][
        "fields"
    ]


def test_check_a_broken_case_fails_with_one_line(tmp_path: Path) -> None:
    case = write_cavity(tmp_path / "cavity")
    (case / "system" / "controlDict").unlink()
    r = twinviewer("check", str(case))
    assert r.returncode == 1
    errors = [line for line in r.stderr.splitlines() if ": error:" in line]
    assert len(errors) == 1 and "controlDict" in errors[0] and "Traceback" not in r.stderr


CORPUS_RESULTS = (
    sorted(
        p
        for p in (CORPUS / "sim").rglob("*")
        if (p.is_file() or p.is_dir()) and is_result(p) and not p.name.startswith(".")
    )
    if (CORPUS / "sim").is_dir()
    else []
)


@pytest.mark.skipif(not CORPUS_RESULTS, reason="no ../shared/corpus/sim")
def test_check_every_corpus_result() -> None:
    """Every result in the corpus: `check --result` describes it and exits 0 (one process for
    all, in a loop: starting Python per file is the slow part)."""
    code = (
        "import sys, json\n"
        "from twinviewer.commands.check import check\n"
        "out = {}\n"
        "for p in sys.argv[1:]:\n"
        "    r = check(p, as_result=True)\n"
        "    out[p] = [r.ok, [str(x) for x in r.problems], r.result and r.result['steps']]\n"
        "print(json.dumps(out))\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, *map(str, CORPUS_RESULTS)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr
    reports = json.loads(r.stdout.strip().splitlines()[-1])
    for path, (ok, problems, steps) in reports.items():
        assert ok, (path, problems)
        assert steps and steps >= 1, path


def test_open_a_broken_case_fails_with_one_line(tmp_path: Path) -> None:
    """`open` shows a good case by itself (tests/test_open_result*.py); a broken one gets its
    one-line error without starting a window."""
    case = write_cavity(tmp_path / "cavity")
    (case / "system" / "controlDict").unlink()
    r = twinviewer("open", str(case))
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and "controlDict" in r.stderr
