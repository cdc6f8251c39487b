"""The demo twins in assets/: valid projects, readable models, every sensor bound, reproducible."""

from __future__ import annotations

import importlib.util
import math
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import trimesh

from twinviewer.core.binding import bind
from twinviewer.core.model import ModelData
from twinviewer.core.project import Project, SimulatorSource, load_project
from twinviewer.formats import read_model

ASSETS = Path(__file__).resolve().parents[1] / "assets"

# name: (minimum parts, minimum sensors, expected views, nodes that must be there)
DEMOS = {
    "mine": (
        60,
        40,
        ["Overview", "Shaft", "Level 3", "Pump station"],
        [
            "surface_headframe",
            "surface_main_fan",
            "shaft_skip",
            "shaft_cage",
            "l4_pump_1",
            "l4_sump_1",
            "l3_booster_fan",
            "orepass_1",
            "l4_crusher",
            "l3_refuge_chamber",
            "ramp_turn_1",
            "level_1",
            "level_4",
        ],
    ),
    "locomotive": (
        40,
        30,
        ["Overview", "Running gear", "Power unit"],
        [
            "cab_body",
            "engine_block",
            "turbocharger",
            "main_alternator",
            "fuel_tank",
            "bogie_front",
            "bogie_rear",
            *(f"wheelset_{n}" for n in range(1, 7)),
            *(f"traction_motor_{n}" for n in range(1, 7)),
            "coupler_front",
            "coupler_rear",
        ],
    ),
}
QUANTITIES = {
    "mine": {
        "methane",
        "carbon monoxide",
        "airflow",
        "temperature",
        "current",
        "vibration",
        "pressure",
        "water level",
    },
    "locomotive": {
        "temperature",
        "current",
        "pressure",
        "fuel level",
        "voltage",
        "vibration",
        "speed",
    },
}
names = pytest.mark.parametrize("name", list(DEMOS))


def project_path(name: str, root: Path = ASSETS) -> Path:
    return root / name / f"{name}.twin.yaml"


@cache
def project(name: str) -> Project:
    return load_project(project_path(name))[0]


@cache
def model(name: str) -> ModelData:
    return read_model(ASSETS / name / f"{name}.glb")


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_demos", ASSETS / "generate_demos.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it runs
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


# -- the project files -------------------------------------------------------------------------


@names
def test_project_is_valid_and_big_enough(name: str) -> None:
    p = project(name)
    _, min_sensors, views, _ = DEMOS[name]
    assert len(p.sensors) >= min_sensors
    assert p.models[0].path == f"{name}.glb"
    assert [v.name for v in p.views] == views
    assert p.display.active_quantity is None
    assert QUANTITIES[name] <= {s.quantity for s in p.sensors}
    kinds = {
        next(k for k in ("name", "glob", "regex") if getattr(sel, k))
        for sel in p.components.values()
    }
    assert {"glob", "regex"} <= kinds
    for s in p.sensors:
        assert s.warning is not None or s.alarm is not None, f"{s.id} has no limits"
        assert s.name
    # airflow, pressure-like and level quantities that fail low are guarded by low limits
    if name == "mine":
        airflow = [s for s in p.sensors if s.quantity == "airflow"]
        assert airflow and all(s.alarm and s.alarm.low is not None for s in airflow)


@names
def test_project_has_a_simulator_with_one_fault_on_a_guarded_sensor(name: str) -> None:
    p = project(name)
    enabled = [s for s in p.sources if s.enabled]
    assert len(enabled) == 1  # the live links (mqtt, opcua) start only on request
    sim = enabled[0]
    assert isinstance(sim, SimulatorSource)
    assert {s.type for s in p.sources if not s.enabled} == {"mqtt", "opcua"}
    opcua = next(s for s in p.sources if s.type == "opcua")
    assert set(opcua.nodes) == {s.id for s in p.sensors}
    assert len(sim.faults) == 1
    fault = sim.faults[0]
    sensor = next(s for s in p.sensors if s.id == fault.sensor)
    assert sensor.alarm is not None and sensor.alarm.high is not None
    assert 10 <= fault.start <= 30
    assert 120 <= fault.start + fault.duration <= 185  # alarm shows within about 3 minutes


@names
def test_project_file_has_header_and_schema_comment(name: str) -> None:
    lines = project_path(name).read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# TwinViewer demo twin")
    assert "# yaml-language-server: $schema=../../docs/twin-project.schema.json" in lines[:20]
    assert "assets/generate_demos.py" in "\n".join(lines[:8])


# -- the models ----------------------------------------------------------------------------------


@names
def test_glb_reads_back_with_named_hierarchy(name: str) -> None:
    min_parts, _, _, required = DEMOS[name]
    scene = trimesh.load(ASSETS / name / f"{name}.glb", force="scene")
    nodes = set(scene.graph.nodes) - {scene.graph.base_frame}
    parts = set(scene.graph.nodes_geometry)
    assert len(parts) >= min_parts
    assert set(required) <= nodes
    groups = nodes - parts
    assert len(groups) >= 4
    tris = sum(len(scene.geometry[scene.graph[n][1]].faces) for n in parts)
    assert 10_000 < tris < 50_000


@names
def test_model_reads_and_every_sensor_binds(name: str) -> None:
    min_parts, _, _, _ = DEMOS[name]
    m, p = model(name), project(name)
    assert not m.warnings
    assert sum(c.kind == "part" for c in m.components) >= min_parts
    assert m.n_triangles < 50_000
    b = bind(p, m)
    assert b.unmatched_components == []
    assert b.unbound_sensors == []
    assert all(b.sensor_nodes)
    # pattern selectors really select several parts
    for cid, sel in p.components.items():
        if sel.glob or sel.regex:
            assert len(b.component_nodes[cid]) >= 2, cid
    # enough of the model is live: most parts have a sensor
    parts = sum(c.kind == "part" for c in m.components)
    assert len(b.unbound_parts) < 0.7 * parts


def test_mine_conveyor_glob_selects_every_idler_section() -> None:
    m, p = model("mine"), project("mine")
    b = bind(p, m)
    selected = sorted(m.components[i].id for i in b.component_nodes["l4_conveyor"])
    assert selected == [f"l4_conveyor_{k:02d}" for k in range(1, 7)]


@names
def test_sensor_positions_lie_in_the_model(name: str) -> None:
    m, p = model(name), project(name)
    x0, x1, y0, y1, z0, z1 = m.bounds()
    placed = [s for s in p.sensors if s.position is not None]
    for s in placed:
        x, y, z = s.position  # type: ignore[misc]
        assert x0 <= x <= x1 and y0 <= y <= y1 and z0 <= z <= z1, s.id


@names
def test_saved_views_look_at_the_model(name: str) -> None:
    m, p = model(name), project(name)
    pts = m.points.astype(float)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    for v in p.views:
        pos, focal = np.array(v.position), np.array(v.focal_point)
        assert ((lo - 1.0 <= focal) & (focal <= hi + 1.0)).all(), v.name
        ahead = focal - pos
        distance = float(np.linalg.norm(ahead))
        assert distance > 1.0
        ahead /= distance
        up = np.array(v.up, float)
        assert abs(float(up @ ahead)) < 0.99  # up is not along the line of sight
        # a fair share of the model is inside a 30 degree view cone
        rel = pts - pos
        depth = rel @ ahead
        off = np.linalg.norm(rel - np.outer(depth, ahead), axis=1)
        inside = (depth > 0) & (off < depth * math.tan(math.radians(18)))
        assert inside.mean() > 0.05, v.name


# -- the generator -------------------------------------------------------------------------------


def test_generator_reproduces_the_committed_files(tmp_path: Path) -> None:
    gen = load_generator()
    assert gen.main(["--out", str(tmp_path)]) == 0
    for name in DEMOS:
        new = project_path(name, tmp_path).read_text(encoding="utf-8")
        assert new == project_path(name).read_text(encoding="utf-8"), (
            f"{name}.twin.yaml is out of date: run python assets/generate_demos.py"
        )
        a = trimesh.load(tmp_path / name / f"{name}.glb", force="scene")
        b = trimesh.load(ASSETS / name / f"{name}.glb", force="scene")
        assert set(a.graph.nodes) == set(b.graph.nodes)
        for node in a.graph.nodes_geometry:
            ga = a.geometry[a.graph[node][1]]
            gb = b.geometry[b.graph[node][1]]
            assert len(ga.faces) == len(gb.faces), node
            np.testing.assert_allclose(ga.bounds, gb.bounds, atol=1e-4, err_msg=node)


# -- the tours -----------------------------------------------------------------------------------

# name: (the tour, the faulty sensor, the feed second its fault passes the alarm limit)
TOURS = {
    "mine": ("Your first day underground", "l3_fan_vibration", 170.0),
    "locomotive": ("Running gear and the hot axle box", "axle4_bearing_temperature", 165.0),
}


@names
def test_demo_has_its_tour_and_every_name_in_it_exists(name: str) -> None:
    from twinviewer.core.project_tours import STANDARD
    from twinviewer.session.twin import TwinSession

    title, _, _ = TOURS[name]
    p = project(name)
    (tour,) = p.tours
    assert tour.name == title
    assert 5 <= len(tour.steps) <= 8
    sensors = {s.id for s in p.sensors}
    views = {v.name for v in p.views}
    session = TwinSession.open(project_path(name))
    try:
        for k, step in enumerate(tour.steps, 1):
            where = f"{name}, step {k} ({step.title})"
            ids = [c for _, c in step.components()]
            _, unknown = session.component_indices(ids)
            assert not unknown, f"{where}: no component {unknown}"
            assert {c.sensor for c in step.callouts} <= sensors, where
            assert step.view is None or step.view in views or step.view in STANDARD, where
            assert step.camera is not None or step.view is not None, where  # each step frames
            assert len(step.caption) > 150, f"{where}: a caption that teaches"
    finally:
        session.close()
    assert any(s.question is not None for s in tour.steps)
    assert tour.steps[-1].time == "live"


@names
def test_incident_replay_covers_the_fault(name: str, tmp_path: Path) -> None:
    from twinviewer.core.tour_plan import step_times
    from twinviewer.history.store import HistoryStore
    from twinviewer.session.demos import demo_copy

    _, sensor, alarm_at = TOURS[name]
    path, zero = demo_copy(name, tmp_path, 240.0, models=False)
    p, _ = load_project(path)
    (tour,) = p.tours
    ids = [s.id for s in p.sensors]
    store = HistoryStore.open(tmp_path / f"{name}.history", ids)
    try:
        held = store.time_range()
        assert held is not None
        replays = [
            (k, st)
            for k, st in enumerate(step_times(tour, held))
            if st.kind == "replay" and sensor in {c.sensor for c in tour.steps[k].callouts}
        ]
        assert len(replays) == 1, "one step replays the incident, its faulty sensor called out"
        k, st = replays[0]
        t, _, _, value = store.series(ids.index(sensor), st.t0, st.t1, 100_000)
    finally:
        store.close()
    limits = p.sensors[ids.index(sensor)]
    assert limits.alarm is not None and limits.warning is not None
    assert limits.alarm.high is not None and limits.warning.high is not None
    # The replay starts while the sensor is still normal and runs past its alarm.
    assert value[0] < limits.warning.high
    crossed = t[value > limits.alarm.high]
    assert len(crossed), f"{name}: the replay ends before the alarm"
    assert crossed[0] - zero == pytest.approx(alarm_at, abs=10.0)
    assert st.t0 - zero < alarm_at - 60 and st.t1 - zero > alarm_at + 5
    assert 5.0 <= (st.t1 - st.t0) / st.speed <= 30.0  # and it lasts a watchable while
