"""The demo simulation results in assets/*/sim: readable, reproducible from their solvers in
assets/solvers/, and in agreement with the demo feed's healthy sensors (measured versus
simulated, as the twin compares them)."""

from __future__ import annotations

import importlib.util
import json
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import pyvista as pv

from twinviewer.core.project import Project, load_project
from twinviewer.sources.simulator import SignalModel

ASSETS = Path(__file__).resolve().parents[1] / "assets"

# twin: (solver, series, field, plausible range, overlay)
RESULTS = {
    "locomotive": (
        "locomotive_motor_heat",
        "sim/motor_heat.vtu.series",
        "temperature",
        (15.0, 140.0),
        "Motor and bearing heat (FV)",
    ),
    "mine": (
        "mine_methane",
        "sim/methane.vtu.series",
        "methane",
        (0.0, 10.0),
        "Methane (ventilation model)",
    ),
}
STEP = 10.0  # simulated seconds between steps
T_END = 600.0


@cache
def solver(name: str) -> ModuleType:
    path = ASSETS / "solvers" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_demo_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def series(folder: Path, rel: str) -> list[dict[str, object]]:
    data = json.loads((folder / rel).read_text(encoding="utf-8"))
    assert data["file-series-version"] == "1.0"
    return data["files"]


@cache
def steps(twin: str) -> list[pv.UnstructuredGrid]:
    rel = RESULTS[twin][1]
    folder = (ASSETS / twin / rel).parent
    return [pv.read(folder / str(f["name"])) for f in series(ASSETS / twin, rel)]


def project(twin: str) -> Project:
    return load_project(ASSETS / twin / f"{twin}.twin.yaml")[0]


class _Quiet:
    """A random generator that draws nothing: the simulator's noise-free (nominal) signal.

    ``random`` is drawn twice a step (puff chance, then puff size): 1 then 0, so no puff."""

    def __init__(self) -> None:
        self.calls = 0

    def standard_normal(self, n: int) -> np.ndarray:
        return np.zeros(n)

    def random(self, n: int) -> np.ndarray:
        self.calls += 1
        return np.ones(n) if self.calls % 2 else np.zeros(n)


def nominal(p: Project, times: np.ndarray, faults: bool = False) -> np.ndarray:
    """The simulator without noise, load wobble and gas puffs (and without its faults)."""
    config = next(s for s in p.sources if s.type == "simulator")
    if not faults:
        config = config.model_copy(update={"faults": []})
    model = SignalModel(p.sensors, config)
    model.plain[0]._rng = _Quiet()  # type: ignore[assignment]  # the ordinary sensors' model
    return model.run(times)


@pytest.mark.parametrize("twin", sorted(RESULTS))
def test_series_and_steps_are_readable(twin: str) -> None:
    _, rel, field, (lo, hi), overlay = RESULTS[twin]
    files = series(ASSETS / twin, rel)
    times = np.array([float(f["time"]) for f in files])  # type: ignore[arg-type]
    assert times[0] == 0.0 and times[-1] == T_END
    np.testing.assert_allclose(np.diff(times), STEP)
    meshes = steps(twin)
    assert len(meshes) == len(times)
    first = meshes[0]
    assert first.n_cells > 100
    assert set(np.unique(first.celltypes)) == {pv.CellType.HEXAHEDRON}
    for m in meshes:
        assert m.n_points == first.n_points and m.n_cells == first.n_cells
        values = np.asarray(m.point_data[field])
        assert np.all(np.isfinite(values))
        assert lo <= values.min() and values.max() <= hi, (m, values.min(), values.max())
    # the project shows it, and the files stay small
    cfg = next(o for o in project(twin).overlays if o.name == overlay)
    assert cfg.result == rel and cfg.field == field and cfg.quantity == field
    size = sum(f.stat().st_size for f in (ASSETS / twin / rel).parent.iterdir())
    assert size < 2.5e6


def test_results_lie_in_the_twins_model_coordinates() -> None:
    loco = steps("locomotive")[0]
    x0, x1, y0, y1, z0, z1 = loco.bounds
    assert -9.0 <= x0 < -8.0 and 8.0 < x1 <= 9.0  # outer axles at +-8.4 m
    assert -1.4 <= y0 and y1 <= 1.4 and 0.0 <= z0 and z1 <= 1.1  # under the deck, above rail
    mine = steps("mine")[0]
    x0, x1, y0, y1, z0, z1 = mine.bounds
    assert z0 == pytest.approx(-160.5) and z1 == pytest.approx(0.0)  # level 4 floor to collar
    for s in project("mine").sensors:
        if s.quantity == "methane":
            assert s.position is not None
            cell = mine.find_containing_cell(s.position)
            assert cell >= 0, f"{s.id} at {s.position} is outside the methane result"


@pytest.mark.parametrize("twin", sorted(RESULTS))
def test_solver_reproduces_the_committed_steps(twin: str, tmp_path: Path) -> None:
    name, rel, field, _, _ = RESULTS[twin]
    assert solver(name).main(["--out", str(tmp_path), "--until", "60"]) == 0
    files = series(tmp_path, Path(rel).name)
    committed = series(ASSETS / twin, rel)
    assert files == committed[: len(files)] and len(files) == 7
    for f, ref in zip(files, steps(twin), strict=False):
        m = pv.read(tmp_path / str(f["name"]))
        np.testing.assert_array_equal(m.points, ref.points)
        np.testing.assert_array_equal(m.cells, ref.cells)
        for key in ref.point_data.keys():
            np.testing.assert_allclose(m.point_data[key], ref.point_data[key], atol=1e-5)


def _overlay(twin: str):
    from twinviewer.session import TwinSession

    session = TwinSession.open(str(ASSETS / twin / f"{twin}.twin.yaml"))
    return session.overlay(RESULTS[twin][4], 0.0, simulator_speed=1.0), session.project


def test_locomotive_agrees_with_the_healthy_sensors_and_not_the_hot_bearing() -> None:
    """At the step times, the twin's simulated value of every healthy temperature sensor (the
    field's mean over its component) is within 5% of the feed's nominal value; the overheating
    axle 4 bearing is far off once its fault has grown."""
    sim, p = _overlay("locomotive")
    ids = [p.sensors[k].id for k in sim.sensors]
    assert sorted(ids) == sorted(
        [f"tm{n}_winding_temperature" for n in range(1, 7)]
        + [f"axle{n}_bearing_temperature" for n in range(1, 7)]
    )
    times = np.arange(0.0, T_END + 1e-9, 0.2)
    healthy = nominal(p, times)
    faulty = nominal(p, times, faults=True)
    for t in (30.0, 100.0, 200.0, 330.0, 460.0, 600.0):
        k = int(round(t / 0.2))
        simulated = sim.simulated_at_sensors(t)
        for n, s in enumerate(sim.sensors):
            rel = abs(simulated[n] - healthy[k, s]) / healthy[k, s]
            assert rel < 0.05, (p.sensors[s].id, t, simulated[n], healthy[k, s])
            if p.sensors[s].id == "axle4_bearing_temperature" and t >= 100:
                off = abs(simulated[n] - faulty[k, s]) / faulty[k, s]
                assert off > 0.3, (t, simulated[n], faulty[k, s])


def test_mine_methane_agrees_with_the_mean_gas_reading() -> None:
    """The methane readings are a low baseline plus random puffs: the model agrees with their
    mean (over the run, within 5%), and stays near it at every step (within 15%)."""
    sim, p = _overlay("mine")
    gas = [k for k in sim.sensors]
    assert sorted(p.sensors[k].id for k in gas) == [f"l{n}_methane" for n in range(1, 5)]
    config = next(s for s in p.sources if s.type == "simulator")
    model = SignalModel([p.sensors[k] for k in gas], config)
    readings = model.run(np.arange(0.0, 3000.0, 0.2))
    expected = float(readings.mean())  # the four sensors are alike: one long-run mean
    assert 1.8 < expected < 2.35
    simulated = np.array([sim.simulated_at_sensors(t) for t in np.arange(0.0, T_END + 1, STEP)])
    assert np.all(np.isfinite(simulated))
    np.testing.assert_allclose(simulated.mean(axis=0), expected, rtol=0.05)
    np.testing.assert_allclose(simulated, expected, rtol=0.15)
