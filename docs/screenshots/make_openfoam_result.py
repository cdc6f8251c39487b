"""An OpenFOAM result opened by itself (``twinviewer open CASE``): its patches as components,
its pressure on them, its time steps on the timeline and the step slider in the Simulation dock.

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/screenshots/make_openfoam_result.py

The case is a lid-driven cavity written here (in a temporary folder) in OpenFOAM's own ASCII
format: a 0.1 m square box, 24 x 24 x 1 cells, patches ``movingWall``, ``fixedWalls`` and
``frontAndBack``, six time folders (0 to 0.5 s) of ``p`` and ``U`` with a vortex that spins up
under the moving lid. Writes ``openfoam-result.png`` (1600x1000, at step 4) and
``openfoam-result-small.png`` (the same window at 1024x700).
"""

from __future__ import annotations

import math
import sys
import tempfile
from pathlib import Path

from make_screenshots import pump, shot
from PySide6.QtCore import QSettings

from twinviewer.session.result_twin import open_result_twin
from twinviewer.ui.application import create_app
from twinviewer.ui.main_window import QtMainWindow
from twinviewer.ui.overlays.feature import OverlaysFeature

N = 24  # cells along x and y
SIZE = 0.1  # m
TIMES = ("0", "0.1", "0.2", "0.3", "0.4", "0.5")
HEADER = """FoamFile
{{
    version 2.0;
    format ascii;
    class {cls};
    object {obj};
}}
"""


def _write(path: Path, cls: str, obj: str, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER.format(cls=cls, obj=obj) + body + "\n")


def _list(items: list[str]) -> str:
    return f"{len(items)}\n(\n" + "\n".join(items) + "\n)"


def _face(points: tuple[int, ...]) -> str:
    return f"{len(points)}({' '.join(map(str, points))})"


def write_case(case: Path) -> Path:
    """A cavity case: blockMesh's numbering (internal faces, then the patches)."""
    d = SIZE / N

    def pid(i: int, j: int, k: int) -> int:
        return i + (N + 1) * (j + (N + 1) * k)

    def cid(i: int, j: int) -> int:
        return i + N * j

    points = [
        f"({i * d:g} {j * d:g} {k * d:g})"
        for k in range(2)
        for j in range(N + 1)
        for i in range(N + 1)
    ]
    faces: list[str] = []
    owner: list[int] = []
    neighbour: list[int] = []
    for j in range(N):
        for i in range(N):
            if i + 1 < N:
                a = (pid(i + 1, j, 0), pid(i + 1, j + 1, 0), pid(i + 1, j + 1, 1), pid(i + 1, j, 1))
                faces.append(_face(a))
                owner.append(cid(i, j))
                neighbour.append(cid(i + 1, j))
            if j + 1 < N:
                a = (pid(i, j + 1, 0), pid(i, j + 1, 1), pid(i + 1, j + 1, 1), pid(i + 1, j + 1, 0))
                faces.append(_face(a))
                owner.append(cid(i, j))
                neighbour.append(cid(i, j + 1))
    n_internal = len(faces)
    patches: list[tuple[str, str, int, int]] = []

    def patch(name: str, kind: str, quads: list[tuple[tuple[int, ...], int]]) -> None:
        patches.append((name, kind, len(faces), len(quads)))
        for q, c in quads:
            faces.append(_face(q))
            owner.append(c)

    patch(
        "movingWall",
        "wall",
        [((pid(i, N, 0), pid(i, N, 1), pid(i + 1, N, 1), pid(i + 1, N, 0)), cid(i, N - 1))
         for i in range(N)],
    )  # fmt: skip
    walls = [((pid(0, j, 0), pid(0, j, 1), pid(0, j + 1, 1), pid(0, j + 1, 0)), cid(0, j))
             for j in range(N)]  # fmt: skip
    walls += [((pid(N, j, 0), pid(N, j + 1, 0), pid(N, j + 1, 1), pid(N, j, 1)), cid(N - 1, j))
              for j in range(N)]  # fmt: skip
    walls += [((pid(i, 0, 0), pid(i + 1, 0, 0), pid(i + 1, 0, 1), pid(i, 0, 1)), cid(i, 0))
              for i in range(N)]  # fmt: skip
    patch("fixedWalls", "wall", walls)
    sides = [((pid(i, j, 0), pid(i, j + 1, 0), pid(i + 1, j + 1, 0), pid(i + 1, j, 0)), cid(i, j))
             for j in range(N) for i in range(N)]  # fmt: skip
    sides += [((pid(i, j, 1), pid(i + 1, j, 1), pid(i + 1, j + 1, 1), pid(i, j + 1, 1)), cid(i, j))
              for j in range(N) for i in range(N)]  # fmt: skip
    patch("frontAndBack", "empty", sides)
    assert n_internal == 2 * N * (N - 1)

    mesh = case / "constant" / "polyMesh"
    _write(mesh / "points", "vectorField", "points", _list(points))
    _write(mesh / "faces", "faceList", "faces", _list(faces))
    _write(mesh / "owner", "labelList", "owner", _list([str(o) for o in owner]))
    _write(mesh / "neighbour", "labelList", "neighbour", _list([str(n) for n in neighbour]))
    boundary = [f"{name}\n{{\n type {kind};\n nFaces {n};\n startFace {start};\n}}"
                for name, kind, start, n in patches]  # fmt: skip
    _write(mesh / "boundary", "polyBoundaryMesh", "boundary", _list(boundary))
    _write(
        case / "system" / "controlDict",
        "dictionary",
        "controlDict",
        "application icoFoam;\nstartTime 0;\nendTime 0.5;\ndeltaT 0.005;\n",
    )
    (case / "case.foam").write_text("")
    for t in TIMES:
        _fields(case / t, float(t))
    return case


def _fields(folder: Path, t: float) -> None:
    """A vortex below the lid that spins up with time: low pressure at its core, high in the
    corner the lid drives the flow into."""
    d = SIZE / N
    spin = 1.0 - math.exp(-t / 0.15)
    cx, cy = 0.5 * SIZE + 0.1 * SIZE * spin, 0.62 * SIZE
    p, u = [], []
    for j in range(N):
        for i in range(N):
            x, y = (i + 0.5) * d, (j + 0.5) * d
            rx, ry = (x - cx) / SIZE, (y - cy) / SIZE
            r2 = rx * rx + ry * ry
            core = -0.9 * math.exp(-r2 / 0.03)
            corner = 1.2 * math.exp(-((x - SIZE) ** 2 + (y - SIZE) ** 2) / (0.2 * SIZE) ** 2)
            p.append(f"{spin * (core + corner):.6g}")
            u.append(f"({-spin * ry * 8:.5g} {spin * rx * 8:.5g} 0)")
    walls = "fixedWalls { type zeroGradient; }\nfrontAndBack { type empty; }\n"
    _write(
        folder / "p",
        "volScalarField",
        "p",
        "dimensions [0 2 -2 0 0 0 0];\ninternalField nonuniform List<scalar>\n"
        + _list(p)
        + ";\nboundaryField\n{\nmovingWall { type zeroGradient; }\n"
        + walls
        + "}\n",
    )
    _write(
        folder / "U",
        "volVectorField",
        "U",
        "dimensions [0 1 -1 0 0 0 0];\ninternalField nonuniform List<vector>\n"
        + _list(u)
        + ";\nboundaryField\n{\nmovingWall { type fixedValue; value uniform (1 0 0); }\n"
        "fixedWalls { type fixedValue; value uniform (0 0 0); }\n"
        "frontAndBack { type empty; }\n}\n",
    )


def main() -> int:
    app = create_app()
    case = write_case(Path(tempfile.mkdtemp(prefix="tv-openfoam-")) / "cavity")
    session = open_result_twin(case)  # what `twinviewer open CASE` does before the window
    if session is None:
        sys.stderr.write(f"{case} is not read as a result\n")
        return 1
    folder = Path(tempfile.mkdtemp(prefix="tv-settings-"))
    w = QtMainWindow(QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat))
    w.resize(1600, 1000)  # the window as it first opens, not as a previous run left it
    w.show()
    w.show_session(session)
    pump(app, 1.0)
    panel = w.feature(OverlaysFeature).panel
    panel.step_slider.setValue(4)  # t = 0.4 s: the vortex has spun up
    pump(app, 1.0)
    w.statusBar().clearMessage()  # "Opened …" would sit over the status line for 5 s
    shot(w, "openfoam-result.png")
    w.resize(1024, 700)
    pump(app, 0.5)
    w.action("views.fit").trigger()  # what a user does after shrinking the window (F)
    pump(app, 1.0)
    shot(w, "openfoam-result-small.png")
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
