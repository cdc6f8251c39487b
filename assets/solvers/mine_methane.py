#!/usr/bin/env python
"""Methane carried by the ventilation air through the mine's drifts and up the upcast shaft.

    python assets/solvers/mine_methane.py            # writes assets/mine/sim/
    python assets/solvers/mine_methane.py --out DIR  # writes DIR/methane_*.vtu ...

The demo simulation result of the mine twin: the methane concentration (%LEL, as the mine's
gas sensors read it) in the airways of the four levels and in the upcast ventilation shaft over
the first 600 simulated seconds of the demo feed, written as ``methane_NNN.vtu`` (one per 10 s)
and the ParaView series ``methane.vtu.series`` (times in simulated seconds).

Physics
    One-dimensional advection-dispersion on the network of airways, each well mixed across its
    section::

        A dc/dt + d(Q c)/ds = d/ds(D A dc/ds) + e(s) + sum of point sources,

    with ``c`` in %LEL (100 %LEL = 5 % CH4 by volume), ``Q`` the airflow, ``A`` the section,
    ``D`` the turbulent (Taylor) dispersion coefficient and ``e`` the gas given off by the
    exposed ore. On every level, fresh air from the hoisting (intake) shaft passes the booster
    fan along the crosscut into the ore drive, runs north through it and leaves through the
    return airway into the upcast shaft, where the four levels' returns mix on their way up to
    the main fan. The dead-end headings (the south end of the ore drive and the three drawpoints)
    are ventilated by auxiliary fans: ducts bring fresh air to their faces and the air comes
    back along the heading into the ore drive. Methane comes from the broken ore at the
    drawpoint brows (which follows production: the load cycle the demo simulator runs for the
    level's ore drive, the public ``SignalModel.load``), from the south face, and from the
    walls of the ore drive and the drawpoints (a constant rate per metre).

Parameters
    Airflow 43 m3/s per level (the mean of the demo's crosscut airflow readings; 172 m3/s up
    the shaft), 4 m3/s per auxiliary duct; sections 5 m x 3.2 m (drifts) and 4.8 m x 4.8 m
    (shaft); D = 5 m2/s; a brow gives off 1 unit x (0.8 + 0.4 x load), the south face 0.8 unit,
    the walls 0.02 unit per metre. The one unit (0.0086 m3/s of CH4, about 0.52 m3/min) is fitted
    so that the concentration at the ore drive's gas sensors (y = 20 m), averaged over the run
    and the four levels, is the long-run mean of the demo's methane readings, 2.07 %LEL. Those
    readings are a low baseline (0.95 %LEL) plus random puffs and slow wander (standard
    deviation about 1.2 %LEL), which a deterministic model cannot follow: the model agrees with
    their mean, not with each reading.

Discretisation
    Finite volumes of about 4 m along each airway (first-order upwind advection, central
    dispersion, junctions joining the last cells of the incoming airways to the first cell of
    the outgoing one), backward Euler with dt = 1 s (one dense LU factorisation); the run starts
    from the steady state of t = 0. Output: an UnstructuredGrid of hexahedra (one per finite
    volume round the airway's centre line, enclosing its section with the walls and the floor
    slab, so that the field maps onto the twin's drifts) in the twin's model coordinates
    (metres, Z up); point data ``methane`` (%LEL, cell values averaged to
    the points along each airway) and ``air_velocity`` (m/s).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PROJECT = ROOT / "assets" / "mine" / "mine.twin.yaml"
OUT = ROOT / "assets" / "mine" / "sim"
STEM = "methane"

# geometry, as in assets/generate_demos.py
LEVEL_Z = (-40.0, -80.0, -120.0, -160.0)
ORE_X = tuple(54.0 + 8.0 * k for k in range(4))
VENT = (46.0, 46.0)  # upcast shaft axis
SENSOR_Y = 20.0  # the ore drive gas sensors: (ore x, 20, level + 2.9)

Q_LEVEL = 43.0  # m3/s
Q_DUCT = 4.0  # m3/s
WIDTH, HEIGHT = 5.0, 3.2  # m
SHAFT = 4.8  # m, side of the shaft's square section
DISPERSION = 5.0  # m2/s
BROW, FACE, WALL = 1.0, 0.8, 0.02  # units; WALL per metre
TARGET = 2.07  # %LEL
LEL_PER_FLOW = 100.0 / 0.05  # %LEL per (m3/s CH4 per m3/s air)
CELL = 4.0  # m
DT = 1.0  # s
T_END = 600.0
EVERY = 10.0


@dataclass
class Edge:
    """One airway between junctions, cut into ``cells`` finite volumes from p0 to p1 (the way
    the air flows)."""

    level: int
    name: str
    p0: np.ndarray
    p1: np.ndarray
    cells: int
    first: int
    flow: float  # m3/s
    wall: float  # units per metre
    point: float  # units at its first cell (a face or a brow)
    section: tuple[float, float] = (WIDTH, HEIGHT)

    @property
    def last(self) -> int:
        return self.first + self.cells - 1

    @property
    def length(self) -> float:
        return float(np.linalg.norm(self.p1 - self.p0))


# (name, from, to, flow, wall emission, point emission at the first cell)
def _level_edges(
    xd: float,
) -> list[tuple[str, tuple[float, float], tuple[float, float], float, float, float]]:
    x_dp = xd + WIDTH / 2 + 0.4  # drawpoint mouths: the ore drive's east wall
    vent = (VENT[0] + SHAFT / 2, VENT[1] - SHAFT / 2)
    return [
        ("crosscut", (12.0, 0.0), (xd - WIDTH / 2, 0.0), Q_LEVEL - 4 * Q_DUCT, 0.0, 0.0),
        ("south_end", (xd, -38.0), (xd, -24.0), Q_DUCT, WALL, FACE),
        ("drawpoint_1", (xd + 14.0, -24.0), (x_dp, -24.0), Q_DUCT, WALL, BROW),
        ("south_drive", (xd, -24.0), (xd, 0.0), 2 * Q_DUCT, WALL, 0.0),
        ("drawpoint_2", (xd + 14.0, 0.0), (x_dp, 0.0), Q_DUCT, WALL, BROW),
        ("north_drive", (xd, 0.0), (xd, 24.0), Q_LEVEL - Q_DUCT, WALL, 0.0),
        ("drawpoint_3", (xd + 14.0, 24.0), (x_dp, 24.0), Q_DUCT, WALL, BROW),
        ("north_end", (xd, 24.0), (xd, 38.0), Q_LEVEL, WALL, 0.0),
        ("return", (xd, 38.4), vent, Q_LEVEL, 0.0, 0.0),
    ]


_JOINS = [
    ("crosscut", "north_drive"),
    ("south_end", "south_drive"),
    ("drawpoint_1", "south_drive"),
    ("south_drive", "north_drive"),
    ("drawpoint_2", "north_drive"),
    ("north_drive", "north_end"),
    ("drawpoint_3", "north_end"),
    ("north_end", "return"),
]


class Network:
    """Finite volumes on the airways: edges, links between them, sources, sensor places."""

    def __init__(self) -> None:
        self.edges: list[Edge] = []
        by_name: dict[tuple[int, str], Edge] = {}
        n_cells = 0
        for level, (zl, xd) in enumerate(zip(LEVEL_Z, ORE_X, strict=True)):
            for name, a, b, flow, wall, point in _level_edges(xd):
                p0, p1 = np.array([*a, zl]), np.array([*b, zl])
                cells = max(1, int(round(np.linalg.norm(p1 - p0) / CELL)))
                e = Edge(level, name, p0, p1, cells, n_cells, flow, wall, point)
                self.edges.append(e)
                by_name[(level, name)] = e
                n_cells += cells
        # the upcast shaft from the bottom level to the collar, one edge, the flow growing
        # by a level's air at each level
        bottom = LEVEL_Z[-1]
        cells = int(round(-bottom / CELL))
        shaft = Edge(
            -1,
            "upcast_shaft",
            np.array([*VENT, bottom]),
            np.array([*VENT, 0.0]),
            cells,
            n_cells,
            0.0,
            0.0,
            0.0,
            (SHAFT, SHAFT),
        )
        self.edges.append(shaft)
        n_cells += cells
        self.n = n_cells
        self.links: list[tuple[int, int, float]] = []  # (upstream cell, downstream cell, Q)
        self.sensors: list[tuple[int, int, float]] = []  # (cell, next cell, weight of next)
        shaft_z = bottom + CELL * np.arange(cells)  # bottom of each shaft cell
        self.shaft_flow = np.zeros(cells)
        for level, zl in enumerate(LEVEL_Z):
            for up, down in _JOINS:
                e = by_name[(level, up)]
                self.links.append((e.last, by_name[(level, down)].first, e.flow))
            k = int(np.searchsorted(shaft_z, zl + 1e-6) - 1)
            self.links.append((by_name[(level, "return")].last, shaft.first + k, Q_LEVEL))
            self.shaft_flow[k:] += Q_LEVEL
            e = by_name[(level, "north_drive")]
            s = (SENSOR_Y - e.p0[1]) / (e.p1[1] - e.p0[1]) * e.cells - 0.5
            i = int(np.floor(s))
            self.sensors.append((e.first + i, e.first + i + 1, float(s - i)))
        self.shaft = shaft
        self.by_name = by_name

    def matrices(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Volumes, the transport matrix A (V dc/dt = -A c + S), and the steady sources split
        into the production-driven part (brows, per level) and the constant rest."""
        n = self.n
        vol = np.zeros(n)
        a = np.zeros((n, n))
        brow = np.zeros((len(LEVEL_Z), n))
        rest = np.zeros(n)

        def face(i: int, j: int, q: float, area: float, dx: float) -> None:
            a[i, i] += q  # upwind: what leaves i arrives in j
            a[j, i] -= q
            g = DISPERSION * area / dx
            a[i, i] += g
            a[j, j] += g
            a[i, j] -= g
            a[j, i] -= g

        for e in self.edges:
            dx = e.length / e.cells
            area = e.section[0] * e.section[1]
            idx = np.arange(e.first, e.first + e.cells)
            vol[idx] = area * dx
            flows = self.shaft_flow if e is self.shaft else np.full(e.cells, e.flow)
            for k in range(e.cells - 1):
                face(idx[k], idx[k + 1], flows[k], area, dx)
            rest[idx] += e.wall * dx
            if e.name.startswith("drawpoint"):
                brow[e.level, e.first] += e.point
            else:
                rest[e.first] += e.point
        for i, j, q in self.links:
            face(i, j, q, WIDTH * HEIGHT, CELL)
        top = self.shaft.last
        a[top, top] += self.shaft_flow[-1]  # out through the main fan
        # inflows of fresh air (crosscuts, ducts) carry no methane: nothing to add
        return vol, a, brow * LEL_PER_FLOW, rest * LEL_PER_FLOW


def production(times: np.ndarray) -> np.ndarray:
    """(len(times), levels): the brow emission factor, 0.8 + 0.4 x the ore drive's load."""
    sys.path.insert(0, str(ROOT))
    from twinviewer.core.project import load_project
    from twinviewer.sources.simulator import SignalModel

    project, _ = load_project(PROJECT)
    config = next(s for s in project.sources if s.type == "simulator")
    model, sensors = SignalModel(project.sensors, config).plain  # no skips, no set-points
    ids = [s.id for s in sensors]
    comp = [int(model._comp[ids.index(f"l{n + 1}_methane")]) for n in range(len(LEVEL_Z))]
    return np.array([0.8 + 0.4 * model.load(float(t))[comp] for t in times])


def solve(out: Path, t_end: float = T_END, every: float = EVERY) -> dict[str, float]:
    net = Network()
    vol, a, brow, rest = net.matrices()
    # the emission unit is fitted over the whole run, so a shorter run (--until) gives the
    # same first steps
    n_steps = int(round(max(t_end, T_END) / DT))
    times = np.arange(n_steps + 1) * DT
    prod = production(times)
    step = np.linalg.inv(np.diag(vol / DT) + a)
    steady = np.linalg.inv(a)
    ia, ib, w = (np.array(x) for x in zip(*net.sensors, strict=True))

    def run(
        unit: float, until: float, write: Path | None
    ) -> tuple[np.ndarray, list[dict[str, object]]]:
        c = steady @ (unit * (prod[0] @ brow + rest))
        history, entries = [], []
        for s, t in enumerate(times[times <= until + 1e-9]):
            if s:
                c = step @ (vol / DT * c + unit * (prod[s] @ brow + rest))
            history.append((1 - w) * c[ia] + w * c[ib])
            if write is not None and s % int(round(every / DT)) == 0:
                name = f"{STEM}_{len(entries):03d}.vtu"
                _write(write / name, mesh, c)
                entries.append({"name": name, "time": round(float(t), 6)})
        return np.array(history), entries

    mesh = _mesh(net)
    # the one emission unit: the sensors' mean over the run is linear in it
    history, _ = run(1.0, T_END, None)
    unit = TARGET / float(history.mean())
    out.mkdir(parents=True, exist_ok=True)
    history, entries = run(unit, t_end, out)
    series = {"file-series-version": "1.0", "files": entries}
    (out / f"{STEM}.vtu.series").write_text(json.dumps(series, indent=1) + "\n", encoding="utf-8")
    return {
        "cells": net.n,
        "steps": len(entries),
        "unit": unit,
        "sensor_mean": history.mean(axis=0),
    }


def _mesh(net: Network) -> dict[str, np.ndarray]:
    """Hexahedra round each airway's centre line, points shared along an airway; which cells
    each point's value comes from; the air velocity at the points."""
    points, conn, cell_of_point, velocity = [], [], [], []
    base = 0
    for e in net.edges:
        along = (e.p1 - e.p0) / e.length
        # the mesh encloses the airway with its walls and floor slab (0.4 m, 0.5 m), so that
        # the field can be mapped onto the twin's drifts; the model's section is inside it
        if e is net.shaft:
            side, up = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
            w = h = e.section[0] + 1.0
            lift = 0.0
            flows = np.concatenate([net.shaft_flow, net.shaft_flow[-1:]])
        else:
            side = np.cross(along, [0.0, 0.0, 1.0])
            side /= np.linalg.norm(side)
            up = np.array([0.0, 0.0, 1.0])
            w, h = e.section[0] + 0.8, e.section[1] + 0.5
            lift = e.section[1] / 2 - 0.25
            flows = np.full(e.cells + 1, e.flow)
        area = e.section[0] * e.section[1]
        centre = e.p0 + np.outer(np.linspace(0.0, 1.0, e.cells + 1), e.p1 - e.p0) + lift * up
        ring = [(-1, -1), (1, -1), (1, 1), (-1, 1)]
        for c in centre:
            for sx, sy in ring:
                points.append(c + sx * side * w / 2 + sy * up * h / 2)
        for k in range(e.cells + 1):
            # a point's value: the mean of the (one or two) cells it belongs to
            cells = (
                [e.first + k - 1, e.first + k]
                if 0 < k < e.cells
                else [e.first + min(k, e.cells - 1)]
            )
            cell_of_point.extend([cells] * 4)
            velocity.extend([along * flows[min(k, e.cells - 1)] / area] * 4)
        for k in range(e.cells):
            r0, r1 = base + 4 * k, base + 4 * (k + 1)
            conn.append([r0, r0 + 1, r0 + 2, r0 + 3, r1, r1 + 1, r1 + 2, r1 + 3])
        base += 4 * (e.cells + 1)
    first = np.array([c[0] for c in cell_of_point])
    second = np.array([c[-1] for c in cell_of_point])
    return {
        "points": np.array(points),
        "conn": np.array(conn),
        "first": first,
        "second": second,
        "velocity": np.array(velocity),
    }


def _write(path: Path, mesh: dict[str, np.ndarray], c: np.ndarray) -> None:
    """Compact, reproducible XML: float32, int32 ids, LZMA; values to 1/1024 %LEL."""
    import pyvista as pv
    import vtk

    grid = pv.UnstructuredGrid(
        {pv.CellType.HEXAHEDRON: mesh["conn"].astype(np.int64)}, mesh["points"].astype(np.float32)
    )
    value = 0.5 * (c[mesh["first"]] + c[mesh["second"]])
    grid.point_data["methane"] = (np.round(value * 1024) / 1024).astype(np.float32)
    grid.point_data["air_velocity"] = (np.round(mesh["velocity"] * 1024) / 1024).astype(np.float32)
    writer = vtk.vtkXMLUnstructuredGridWriter()
    writer.SetFileName(str(path))
    writer.SetInputData(grid)
    writer.SetDataModeToAppended()
    writer.EncodeAppendedDataOff()
    writer.SetIdTypeToInt32()
    writer.SetHeaderTypeToUInt32()
    writer.SetCompressorTypeToLZMA()
    writer.SetCompressionLevel(9)
    if not writer.Write():
        raise OSError(f"could not write {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"output folder (default: {OUT})")
    parser.add_argument("--until", type=float, default=T_END, help="simulated seconds")
    args = parser.parse_args(argv)
    stats = solve(args.out, args.until)
    size = sum(f.stat().st_size for f in args.out.glob(f"{STEM}*"))
    means = ", ".join(f"{m:.2f}" for m in stats["sensor_mean"])
    print(  # noqa: T201  (a script: it reports what it wrote)
        f"methane: {stats['cells']} finite volumes, {stats['steps']} steps to {args.until:g} s, "
        f"unit {stats['unit'] * 60:.3f} m3/min CH4, sensor means {means} %LEL, "
        f"{size / 1e6:.2f} MB -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
