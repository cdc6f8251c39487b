#!/usr/bin/env python
"""Transient heat conduction in the locomotive's traction motors and axle bearings.

    python assets/solvers/locomotive_motor_heat.py            # writes assets/locomotive/sim/
    python assets/solvers/locomotive_motor_heat.py --out DIR  # writes DIR/motor_heat_*.vtu ...

The demo simulation result of the locomotive twin: the temperature field in the six traction
motors and the six axle units (axle plus its two axle boxes) of both bogies over the first
600 simulated seconds of the demo feed, written as ``motor_heat_NNN.vtu`` (one per 10 s) and
the ParaView series ``motor_heat.vtu.series`` (times in simulated seconds).

Physics
    Heat conduction in solids with a volumetric heat source and volumetric cooling,

        C dT/dt = div(k grad T) + q(t) - H (T - T_air)         in every body,
        -k dT/dn = h_s (T - T_air)                              on exposed faces,
        -k dT/dn = h_c (T - T_other)                            where two bodies touch.

    ``q(t)`` are the losses: for a motor its no-load (iron, windage) losses plus the load
    losses, which follow the load cycle the demo simulator drives for that motor (the public
    ``SignalModel.load``); for an axle unit the bearings' friction, proportional to the load of
    its axle box. ``H`` stands for the forced cooling air through the motor and the air stream
    over the bearings; ``h_s`` is the convection from exposed surfaces, ``h_c`` a contact
    conductance (insulating bushes, oil films) where a motor's nose-suspension bearing sits on
    its axle and where the two motors of neighbouring axles touch in the model. Losses and
    cooling are spread evenly over each body, so each body heats almost uniformly, a little
    cooler at its surface and where it touches a colder body.

Time scale
    The demo compresses a duty cycle of about an hour and a half into its 90 s load cycle, so
    the solver works in demo seconds: the heat capacity is the real one divided by the
    compression factor ``F = 60`` (one demo second is a minute of operation); conductivities,
    convection coefficients and powers are real values.

Parameters (identified from the healthy fleet; here: the demo simulator's fault-free model)
    For the body of each sensor (``tmN_winding_temperature`` on ``traction_motor_N``,
    ``axleN_bearing_temperature`` on ``axle_box_N``), the cooling ``H`` is chosen so that the
    body's time constant ``C V / (H V + h_s A)`` equals the thermal lag of that sensor's
    nominal signal (19-25 s), and the losses so that its steady temperature is the nominal one
    at every load: ``T_air`` = 18 degC (the bearings' no-load temperature), motor no-load rise
    17.4 K, full-load rise 104 K (motors) and 54 K (bearings). One calibration pass over the
    whole run then scales each body's losses (by 1.00-1.05, least squares) so that what the twin
    compares with the sensor, the field's mean over the component's vertices (mapped with the
    twin's own ``FieldMapper``), has that rise: the lumped balance leaves out the heat that
    flows into touching bodies and that the surface runs a few kelvin cooler than the inside.
    Material: ``rho c`` = 3.6 MJ/(m3 K); ``k`` = 150 W/(m K) in the motors (effective: copper,
    laminations and the internal air circulation), 45 W/(m K) in the axle units;
    ``h_s`` = 15 W/(m2 K), ``h_c`` = 40 W/(m2 K); thermal expansion 11.5e-6 /K. The model knows
    no faults: a bearing running hot (axle 4 in the demo) shows as a growing residual between
    the measured and the simulated temperature.

Discretisation
    Cell-centred finite volumes on a voxel grid of 0.1 m x 0.2 m x 0.1 m (0.2 m along the motor
    axes, y): the cells whose volume is at least half inside a part's shapes (taken from
    ``assets/generate_demos.py``; the 95 mm axle becomes a 0.2 m x 0.2 m bar); two-point fluxes
    (half-cells in series, plus the contact conductance between bodies); explicit Euler in time
    with dt = 0.5 s (stable below ~0.85 s). The run starts from the steady state at the initial
    load (300 s at frozen load), as the simulator's lag does. Output: an UnstructuredGrid of
    hexahedra in the twin's model coordinates (metres, Z up), each body with its own points;
    point data ``temperature`` (degC, cell values averaged to the points) and ``displacement``
    (m, free thermal expansion of each body about its centre, up to ~1.4 mm: warp by 100-300).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PROJECT = ROOT / "assets" / "locomotive" / "locomotive.twin.yaml"
OUT = ROOT / "assets" / "locomotive" / "sim"
STEM = "motor_heat"

# geometry of the running gear, as in assets/generate_demos.py
WHEEL_R = 0.508
AXLES = (8.4, 6.5, 4.6, -4.6, -6.5, -8.4)  # x of axles 1..6
BOGIE_X = (6.5, 6.5, 6.5, -6.5, -6.5, -6.5)

F = 60.0  # time compression: real seconds per demo second
RHO_C = 3.6e6  # J/(m3 K)
K_MOTOR = 150.0  # W/(m K): effective, copper, laminations and the internal air circulation
K_STEEL = 45.0  # W/(m K): axle and axle boxes
H_SURFACE = 15.0  # W/(m2 K)
H_CONTACT = 40.0  # W/(m2 K)
ALPHA = 11.5e-6  # 1/K
CELL = np.array([0.1, 0.2, 0.1])  # m: x, y (along the motor axes), z
DT = 0.5  # s
SPIN_UP = 300.0  # s at the initial load before t = 0
T_END = 600.0  # s
EVERY = 10.0  # s between written steps


def _motor_shape(n: int, p: np.ndarray) -> np.ndarray:
    """Points inside traction motor n (1..6): housing, end bell, bearing cap, gear case, nose."""
    xa, xb = AXLES[n - 1], BOGIE_X[n - 1]
    toward = -1.0 if xa > xb + 0.1 else 1.0
    xc, z0 = xa + toward * 0.62, WHEEL_R + 0.02
    x, y, z = p[:, 0], p[:, 1], p[:, 2]
    r2 = (x - xc) ** 2 + (z - z0) ** 2
    inside = (np.abs(y) <= 0.62) & (r2 <= 0.43**2)
    inside |= (y >= 0.62) & (y <= 0.72) & (r2 <= 0.3**2)
    low, high = z >= z0 - 0.28, z <= z0 + 0.2
    inside |= (np.abs(x - xa) <= 0.16) & (y >= -0.55) & (y <= -0.35) & low & high  # bearing cap
    low = z >= z0 - 0.45
    inside |= (np.abs(x - xa) <= 0.25) & (y >= 0.64) & (y <= 0.78) & low & high  # gear case
    nose0, nose1 = sorted((xc + toward * 0.35, xc + toward * 0.6))
    nose = (x >= nose0) & (x <= nose1) & (np.abs(y) <= 0.3)
    inside |= nose & (z >= z0 + 0.25) & (z <= z0 + 0.45)
    return inside


def _axle_shape(n: int, p: np.ndarray) -> np.ndarray:
    """Points inside axle unit n: the axle (as a 0.2 m square bar) and its two axle boxes."""
    xa = AXLES[n - 1]
    x, y, z = p[:, 0], p[:, 1], p[:, 2]
    inside = (np.abs(x - xa) <= 0.1) & (np.abs(y) <= 1.05) & (z >= 0.46) & (z <= 0.66)
    ay = np.abs(y)
    inside |= (ay >= 0.98) & (ay <= 1.22) & ((x - xa) ** 2 + (z - WHEEL_R) ** 2 <= 0.17**2)
    block = (np.abs(x - xa) <= 0.2) & (ay >= 1.0) & (ay <= 1.2)
    inside |= block & (z >= WHEEL_R + 0.1) & (z <= WHEEL_R + 0.28)
    return inside


class Grid:
    """The voxel cells of all bodies: index (i, j, k), body, neighbours, points."""

    def __init__(self) -> None:
        # planes: x = 0.1 i, y = 0.2 j, z = 0.06 + 0.1 k (the axle bar fills 0.46..0.66)
        self.x0 = np.array([-9.0, -1.4, 0.06])
        self.shape = (180, 14, 10)
        ii, jj, kk = np.meshgrid(*(np.arange(s) for s in self.shape), indexing="ij")
        ijk = np.column_stack([ii.ravel(), jj.ravel(), kk.ravel()])
        # 2 x 2 x 2 samples per cell: a cell belongs to a body when half of it is inside
        offs = np.array(
            [[a, b, c] for a in (0.25, 0.75) for b in (0.25, 0.75) for c in (0.25, 0.75)]
        )
        body = np.full(len(ijk), -1)
        # axle units first (bodies 6..11), then motors (0..5) where no axle is
        motor_votes = np.zeros((6, len(ijk)), np.int8)
        for o in offs:
            p = self.x0 + (ijk + o) * CELL
            for n in range(1, 7):
                motor_votes[n - 1] += _motor_shape(n, p)
        axle_votes = np.zeros((6, len(ijk)), np.int8)
        for o in offs:
            p = self.x0 + (ijk + o) * CELL
            for n in range(1, 7):
                axle_votes[n - 1] += _axle_shape(n, p)
        centre = self.x0 + (ijk + 0.5) * CELL
        m_in = motor_votes >= 4
        # where two motors overlap, the cell goes to the motor whose axis is nearer
        mx = np.array(
            [AXLES[n] + (-1.0 if AXLES[n] > BOGIE_X[n] + 0.1 else 1.0) * 0.62 for n in range(6)]
        )
        dist = np.where(m_in, np.abs(centre[:, 0][None, :] - mx[:, None]), np.inf)
        has_m = m_in.any(axis=0)
        body[has_m] = np.argmin(dist[:, has_m], axis=0)
        a_in = axle_votes >= 4
        has_a = a_in.any(axis=0)
        body[has_a] = 6 + np.argmax(a_in[:, has_a], axis=0)
        keep = body >= 0
        self.ijk = ijk[keep]
        self.body = body[keep]
        self.centre = centre[keep]
        self.n = len(self.body)
        # neighbours across the six faces
        lin = np.full(self.shape, -1)
        lin[tuple(self.ijk.T)] = np.arange(self.n)
        area = np.array([CELL[1] * CELL[2], CELL[0] * CELL[2], CELL[0] * CELL[1]])
        k = np.where(self.body < 6, K_MOTOR, K_STEEL)
        g_half = k[:, None] * area / (CELL / 2)  # (cell, axis): W/K through half a cell
        pairs, conductance = [], []
        self.g_out = np.zeros(self.n)  # W/K from each cell to the air through exposed faces
        for axis in range(3):
            step = np.zeros(3, int)
            step[axis] = 1
            for sign in (1, -1):
                nb = self.ijk + sign * step
                ok = np.all((nb >= 0) & (nb < np.array(self.shape)), axis=1)
                other = np.full(self.n, -1)
                other[ok] = lin[tuple(nb[ok].T)]
                # exposed: half a cell in series with the convection
                g_surf = 1.0 / (1.0 / g_half[:, axis] + 1.0 / (H_SURFACE * area[axis]))
                self.g_out += (other < 0) * g_surf
                if sign == 1:
                    has = other >= 0
                    a, b = np.arange(self.n)[has], other[has]
                    pairs.append(np.column_stack([a, b]))
                    # two half-cells in series, and the contact between two bodies
                    r = 1.0 / g_half[a, axis] + 1.0 / g_half[b, axis]
                    r += np.where(self.body[a] == self.body[b], 0.0, 1.0 / (H_CONTACT * area[axis]))
                    conductance.append(1.0 / r)
        self.pairs = np.vstack(pairs)
        self.g_pair = np.concatenate(conductance)

    def hexahedra(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Points (unique per body), VTK hexahedron connectivity and point -> body."""
        corner = np.array(
            [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 1, 1]]
        )
        nodes = self.ijk[:, None, :] + corner[None, :, :]  # (n, 8, 3)
        dims = np.array(self.shape) + 1
        key = ((self.body[:, None] * dims[0] + nodes[..., 0]) * dims[1] + nodes[..., 1]) * dims[
            2
        ] + nodes[..., 2]
        uniq, inverse = np.unique(key.ravel(), return_inverse=True)
        conn = inverse.reshape(-1, 8)
        rest, kz = np.divmod(uniq, dims[2])
        rest, jy = np.divmod(rest, dims[1])
        pbody, ix = np.divmod(rest, dims[0])
        points = self.x0 + np.column_stack([ix, jy, kz]) * CELL
        return points, conn, pbody


def sensor_models(project_path: Path) -> tuple[list[dict[str, float]], float]:
    """Per body: the nominal parameters of its sensor in the demo simulator; and T_air."""
    sys.path.insert(0, str(ROOT))
    from twinviewer.core.project import load_project
    from twinviewer.sources.simulator import SignalModel

    project, _ = load_project(project_path)
    config = next(s for s in project.sources if s.type == "simulator")
    model, sensors = SignalModel(project.sensors, config).plain  # no set-point read-backs
    index = {s.id: i for i, s in enumerate(sensors)}
    ids = [f"tm{n}_winding_temperature" for n in range(1, 7)]
    ids += [f"axle{n}_bearing_temperature" for n in range(1, 7)]
    out = []
    for sid in ids:
        i = index[sid]
        band = model.hi[i] - model.lo[i]
        out.append(
            {
                "index": i,
                "comp": int(model._comp[i]),
                "tau": float(model._tau[i]),
                "idle": float(model.lo[i] + band * model._base[i]),
                "rise": float(band * model._gain[i]),
            }
        )
    t_air = min(m["idle"] for m in out)
    return out, t_air, model  # type: ignore[return-value]


def surface_weights(points: np.ndarray, conn: np.ndarray) -> np.ndarray:
    """(body, point) weights: the mean of a point field over the vertices of each body's
    component in the twin's model (built by assets/generate_demos.py), interpolated as the twin
    does it (its ``FieldMapper``, with the overlay's snapping tolerance)."""
    import pyvista as pv

    from twinviewer.sim.mapping import FieldMapper

    spec = importlib.util.spec_from_file_location(
        "_generate_demos", ROOT / "assets" / "generate_demos.py"
    )
    assert spec is not None and spec.loader is not None
    gen = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    mesh = pv.UnstructuredGrid(
        {pv.CellType.HEXAHEDRON: conn.astype(np.int64)}, points.astype(np.float32)
    )
    b = np.asarray(mesh.bounds).reshape(3, 2)
    tolerance = 0.01 * float(np.linalg.norm(b[:, 1] - b[:, 0]))
    weights = np.zeros((12, len(points)))
    for body in range(12):
        n = body % 6 + 1
        xa, xb = AXLES[n - 1], BOGIE_X[n - 1]
        if body < 6:
            part = gen.traction_motor(xa, -1.0 if xa > xb + 0.1 else 1.0)
        else:
            part = gen.axle_box(xa)
        mapper = FieldMapper(mesh, np.unique(np.asarray(part.vertices), axis=0), tolerance)
        ok = mapper.valid
        np.add.at(weights[body], mapper.index[ok].ravel(), mapper.weight[ok].ravel())
        weights[body] /= ok.sum()
    return weights


def lumped(params: list[dict[str, float]], load, times: np.ndarray, lam0: np.ndarray) -> np.ndarray:
    """The lumped (one temperature per body) response the bodies are calibrated to."""
    tau = np.array([p["tau"] for p in params])
    idle = np.array([p["idle"] for p in params])
    rise = np.array([p["rise"] for p in params])
    lag = lam0.copy()
    out = np.empty((len(times), len(params)))
    for k, t in enumerate(times):
        if k:
            lag += (load(t) - lag) * (1.0 - np.exp(-(t - times[k - 1]) / tau))
        out[k] = idle + rise * lag
    return out


def solve(out: Path, t_end: float = T_END, every: float = EVERY) -> dict[str, float]:
    grid = Grid()
    params, t_air, model = sensor_models(PROJECT)
    nb = len(params)
    vol = float(np.prod(CELL))
    c_eff = RHO_C / F * vol  # J/K per cell, in demo seconds
    count = np.bincount(grid.body, minlength=nb).astype(float)
    g_out_body = np.bincount(grid.body, grid.g_out, minlength=nb)
    tau = np.array([p["tau"] for p in params])
    g_body = c_eff * count / tau  # W/K: the body's conductance to the cooling air
    h_vol = (g_body - g_out_body) / count  # W/K per cell of volumetric cooling
    if np.any(h_vol <= 0):
        raise RuntimeError("surface convection alone is faster than the wanted time constants")
    p0 = g_body * np.array([p["idle"] - t_air for p in params]) / count  # W per cell
    p1 = g_body * np.array([p["rise"] for p in params]) / count
    comp = np.array([p["comp"] for p in params])

    def load(t: float) -> np.ndarray:
        return model.load(t)[comp]

    b = grid.body
    i0, i1 = grid.pairs[:, 0], grid.pairs[:, 1]
    g_pair = grid.g_pair
    g_sink = h_vol[b] + grid.g_out

    def rate(temp: np.ndarray, q: np.ndarray) -> np.ndarray:
        flux = g_pair * (temp[i1] - temp[i0])
        net = q - g_sink * (temp - t_air)
        net += np.bincount(i0, flux, minlength=grid.n) - np.bincount(i1, flux, minlength=grid.n)
        return net / c_eff

    lam0 = load(0.0)

    def run(
        scale: np.ndarray, n_steps: int, write: Path | None
    ) -> tuple[np.ndarray, list[dict[str, object]]]:
        """Integrate from the steady state at t = 0; every body's mean surface temperature
        per step."""
        a0, a1 = scale * p0, scale * p1
        temp = np.array([p["idle"] + p["rise"] * x for p, x in zip(params, lam0, strict=True)])[b]
        q = (a0 + a1 * lam0)[b]
        for _ in range(int(round(SPIN_UP / DT))):
            temp = temp + DT * rate(temp, q)
        history, entries = [], []
        for s in range(n_steps + 1):
            t = s * DT
            tp = point_values(temp)
            history.append(surface @ tp)
            if write is not None and s % write_every == 0:
                k = s // write_every
                disp = ALPHA * (tp - t_air)[:, None] * (points - centre_b[pbody])
                name = f"{STEM}_{k:03d}.vtu"
                # stored to 1/64 K and 2^-20 m (~1 um): far below the model's accuracy, and the
                # rounded floats compress to a third
                data = {"temperature": _round(tp, 1 / 64), "displacement": _round(disp, 2**-20)}
                _write_vtu(write / name, points, conn, data)
                entries.append({"name": name, "time": round(t, 6)})
            if s < n_steps:
                temp = temp + DT * rate(temp, (a0 + a1 * load(t))[b])
        return np.array(history), entries

    points, conn, pbody = grid.hexahedra()
    centre_b = np.array([grid.centre[b == k].mean(axis=0) for k in range(nb)])
    # point values: the mean of the cells of the same body around the point
    cell_of = np.repeat(np.arange(grid.n), 8)
    n_around = np.bincount(conn.ravel(), minlength=len(points))
    # the twin compares a component's sensor with the mean of the field over its vertices
    surface = surface_weights(points, conn)

    def point_values(cell_values: np.ndarray) -> np.ndarray:
        return np.bincount(conn.ravel(), cell_values[cell_of], minlength=len(points)) / n_around

    write_every = int(round(every / DT))
    # Calibration: the body's heat balance above ignores what flows into the bodies it touches
    # and that its surface runs cooler than its inside; one pass measures the rise of the
    # surface's mean above T_air against the wanted rise (the lumped response) and scales
    # the losses to match. It always covers the whole run, so a shorter run (--until) gives
    # the same first steps.
    n_full = int(round(T_END / DT))
    history, _ = run(np.ones(nb), n_full, None)
    wanted = lumped(params, load, np.arange(n_full + 1) * DT, lam0) - t_air
    got = history - t_air
    scale = np.sum(got * wanted, axis=0) / np.sum(got * got, axis=0)
    out.mkdir(parents=True, exist_ok=True)
    _, entries = run(scale, int(round(t_end / DT)), out)
    series = {"file-series-version": "1.0", "files": entries}
    (out / f"{STEM}.vtu.series").write_text(json.dumps(series, indent=1) + "\n", encoding="utf-8")
    return {"cells": grid.n, "points": len(points), "steps": len(entries), "scale": scale}


def _round(values: np.ndarray, step: float) -> np.ndarray:
    return (np.round(values / step) * step).astype(np.float32)


def _write_vtu(
    path: Path, points: np.ndarray, conn: np.ndarray, point_data: dict[str, np.ndarray]
) -> None:
    """A hexahedral UnstructuredGrid as compact, reproducible XML: float32, int32 ids, LZMA."""
    import pyvista as pv
    import vtk

    grid = pv.UnstructuredGrid(
        {pv.CellType.HEXAHEDRON: conn.astype(np.int64)}, points.astype(np.float32)
    )
    for name, values in point_data.items():
        grid.point_data[name] = np.asarray(values, np.float32)
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
    print(  # noqa: T201  (a script: it reports what it wrote)
        f"motor heat: {stats['cells']} hexahedra, {stats['points']} points, {stats['steps']} "
        f"steps to {args.until:g} s, {size / 1e6:.2f} MB -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
