"""Fleets: templates expanded per unit, per-unit alarms, the NE 107 roll-up, the selected unit's
colours, units discovered while running, and the fleet demo's simulator."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from twinviewer.core.colour import Status
from twinviewer.core.fleet import (
    FleetIndex,
    Health,
    expand_project,
    ne107,
    roll_up,
    time_to_alarm,
)
from twinviewer.core.project import SimulatorSource, load_project
from twinviewer.core.samples import SampleBatch
from twinviewer.session import TwinSession
from twinviewer.session.demos import demo_project

FLEET = """\
name: Pumps
models: [pumps.stl]
fleet:
  label: Pump
  units: [p1, p2, p3]
  discover: {discover}
  failure_after: 30
sensors:
  - {{id: temp, quantity: temperature, unit: degC, component: casing, range: [0, 100],
      warning: {{high: 60}}, alarm: {{high: 80}}, stale_after: 10}}
  - {{id: vib, quantity: vibration, unit: mm/s, component: casing, range: [0, 20],
      warning: {{high: 7}}, alarm: {{high: 11}}, stale_after: 10}}
  - {{id: flow, quantity: flow, unit: m3/h, component: outlet, range: [0, 50],
      alarm: {{low: 5}}, stale_after: 10}}
"""


def _stl(path: Path) -> None:
    """Two parts (casing and outlet) as a two-solid ASCII STL."""
    solids = []
    for name, x in (("casing", 0.0), ("outlet", 2.0)):
        facets = (
            f"facet normal 0 0 1\n outer loop\n  vertex {x} 0 0\n  vertex {x + 1} 0 0\n"
            f"  vertex {x} 1 0\n endloop\nendfacet\n"
        )
        solids.append(f"solid {name}\n{facets}endsolid {name}\n")
    path.write_text("".join(solids))


@pytest.fixture
def fleet_twin(tmp_path: Path):
    def make(discover: bool = False) -> TwinSession:
        _stl(tmp_path / "pumps.stl")
        path = tmp_path / "pumps.twin.yaml"
        path.write_text(FLEET.format(discover=str(discover).lower()))
        return TwinSession.open(path)

    return make


def test_expansion_ids_and_bindings(fleet_twin) -> None:
    s = fleet_twin()
    assert s.fleet is not None
    assert s.fleet.units == ["p1", "p2", "p3"]
    assert [x.id for x in s.sensors[:4]] == ["p1/temp", "p1/vib", "p1/flow", "p2/temp"]
    assert len(s.sensors) == 9
    assert s.sensors[4].component == "casing" and s.sensors[4].name == "p2 vib"
    assert s.fleet.unit_sensors("p2").tolist() == [3, 4, 5]
    assert s.fleet.unit_of(7) == "p3"
    # every unit's sensors colour the same components (one model)
    nodes = s.binding.sensor_nodes
    assert nodes[0] == nodes[3] == nodes[6] and nodes[2] == nodes[8] and nodes[0] != nodes[2]
    # only the selected unit's sensors colour: p1's
    assert sorted(set(s.binding.colouring.pair_sensor.tolist())) == [0, 1, 2]
    casing = s.binding.component_nodes["casing"][0]
    assert s.binding.sensors_of(casing) == [0, 1]
    s.fleet.select("p3")
    assert s.binding.sensors_of(casing) == [6, 7]
    with pytest.raises(ValueError, match="no unit 'p9'"):
        s.fleet.select("p9")


def test_selected_units_colours(fleet_twin) -> None:
    """The 3D colours are the selected unit's: p2 in alarm shows red, p1 normal does not."""
    s = fleet_twin()
    now = 1000.0
    s.queue.put(SampleBatch.of([0, 1, 2, 3, 4, 5], [now] * 6, [20, 2, 30, 95, 2, 30]))
    s.drain()
    s.update(now)
    casing = s.binding.component_nodes["casing"][0]
    p1 = s.component_rgba[casing].copy()
    assert s.component_state[casing] == Status.NORMAL
    s.fleet.select("p2")
    s.update(now)
    assert s.component_state[casing] == Status.ALARM
    assert not np.array_equal(p1, s.component_rgba[casing])
    assert s.component_sensor[casing] == 3  # p2/temp is shown


def test_per_unit_alarms_and_roll_up(fleet_twin) -> None:
    """Each unit's alarms are its own; the unit's state is its worst component's."""
    s = fleet_twin()
    t = 1000.0
    # p1: all normal; p2: vibration warning (casing), flow normal; p3: flow alarm (outlet)
    s.queue.put(
        SampleBatch.of(
            range(9),
            [t] * 9,
            [20, 2, 30, 20, 8, 30, 20, 2, 1],  # p3/flow below its low alarm
        )
    )
    s.drain()
    s.update(t)
    rows = {r.unit: r for r in s.fleet.rows()}
    assert rows["p1"].health == Health.NORMAL and rows["p1"].alarms == 0
    assert rows["p2"].health == Health.MAINTENANCE and rows["p2"].warnings == 1
    assert rows["p2"].worst == 4 and rows["p2"].worst_value == 8
    assert rows["p3"].health == Health.OUT_OF_SPEC and rows["p3"].alarms == 1
    assert rows["p3"].worst == 8
    assert rows["p1"].age == pytest.approx(0.0)
    # the alarm persists past failure_after (30 s): failure
    s.queue.put(SampleBatch.of(range(9), [t + 35] * 9, [20, 2, 30, 20, 8, 30, 20, 2, 1]))
    s.drain()
    s.update(t + 35)
    assert {r.unit: r.health for r in s.fleet.rows()}["p3"] == Health.FAILURE
    # p1 goes quiet: stale is "check function"
    s.queue.put(SampleBatch.of(range(3, 9), [t + 50] * 6, [20, 2, 30, 20, 2, 30]))
    s.drain()
    s.update(t + 50)
    rows = {r.unit: r for r in s.fleet.rows()}
    assert rows["p1"].health == Health.CHECK and rows["p1"].age == pytest.approx(15.0)
    assert rows["p3"].health == Health.NORMAL


def test_ne107_mapping_and_worst_component_wins() -> None:
    st = np.array(
        [Status.NORMAL, Status.WARNING, Status.STALE, Status.NO_DATA, Status.ALARM, Status.ALARM],
        np.int8,
    )
    age = np.array([np.nan, np.nan, np.nan, np.nan, 5.0, 700.0])
    h = ne107(st, age, failure_after=600.0)
    assert h.tolist() == [
        Health.NORMAL,
        Health.MAINTENANCE,
        Health.CHECK,
        Health.CHECK,
        Health.OUT_OF_SPEC,
        Health.FAILURE,
    ]
    failed = np.array([False, True, False, False, False, False])
    assert ne107(st, age, 600.0, failed)[1] == Health.FAILURE  # the prediction says so
    # two units of three sensors: the worst sensor (component) wins
    fh = roll_up(3, h, st, np.zeros(6), np.arange(6.0))
    assert fh.health.tolist() == [Health.CHECK, Health.FAILURE]
    assert fh.worst.tolist() == [2, 5] and fh.alarms.tolist() == [0, 2]
    assert fh.last_time.tolist() == [2.0, 5.0]


def test_time_to_alarm() -> None:
    tta = time_to_alarm(
        np.array([50.0, 50.0, 90.0, 10.0]),
        np.array([1.0, -1.0, 1.0, -2.0]),
        np.array([np.nan, np.nan, np.nan, 4.0]),
        np.array([80.0, 80.0, 80.0, np.nan]),
    )
    assert tta[0] == 30.0 and np.isnan(tta[1]) and tta[2] == 0.0 and tta[3] == 3.0


def test_index_discovers_units_thread_safe() -> None:
    idx = FleetIndex(["a", "b"], ["u1"], discover=True)
    assert idx.get("u1/b") == 1
    assert idx.get("u1/zzz") == -1 and idx.n_units == 1  # unknown template: no unit
    found: list[int] = []

    def worker(k: int) -> None:
        for j in range(200):
            found.append(idx.get(f"n{j % 50}/a"))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert idx.n_units == 51
    assert sorted(set(found)) == [2 * u for u in range(1, 51)]  # each unit got one slot
    assert len(idx.take_new()) == 50 and idx.take_new() == []
    assert idx.get("bad unit/a") == -1 and idx.refused == 1
    closed = FleetIndex(["a"], ["u1"], discover=False)
    assert closed.get("u2/a") == -1 and closed.n_units == 1


def test_discovered_unit_grows_the_session(fleet_twin, tmp_path: Path) -> None:
    s = fleet_twin(discover=True)
    s.open_history()
    assert s.history is not None
    i = s.fleet.index.get("p4/vib")  # a source meets p4 (on its thread)
    assert i == 10
    s.queue.put(SampleBatch.of([i, 0], [500.0, 500.0], [9.0, 20.0]))
    assert s.drain() == 2
    assert s.fleet.units[-1] == "p4" and len(s.sensors) == 12
    assert s.sensors[10].id == "p4/vib" and s.state.value[10] == 9.0
    s.update(501.0)
    rows = {r.unit: r for r in s.fleet.rows()}
    assert rows["p4"].health == Health.CHECK  # p4/temp and p4/flow: no data yet
    assert len(s.binding.sensor_nodes) == 12
    s.fleet.select("p4")
    assert 10 in s.binding.colouring.pair_sensor
    s.history.flush()
    value, _ = s.history.at(600.0)
    assert value[10] == 9.0  # the history stores the new unit's sensors
    s.close()


def test_fleet_demo_project_and_simulator() -> None:
    """The demo: twelve locomotives from the locomotive's templates; the simulator feeds every
    unit (each its own), loco-07's bearing drifts into alarm and loco-11 falls silent."""
    from twinviewer.core.fleet import simulation_sensors
    from twinviewer.sources.simulator import simulate

    project, folder = load_project(demo_project("fleet"))
    loco, _ = load_project(demo_project("locomotive"))
    assert (folder / project.models[0].path).resolve() == (
        demo_project("locomotive").parent / "locomotive.glb"
    )
    (sim_loco,) = [s for s in loco.sources if isinstance(s, SimulatorSource)]
    held = {sp.sensor for sp in sim_loco.setpoints}  # read-backs of commands: not in the fleet
    assert held and [s.id for s in project.sensors] == [
        s.id for s in loco.sensors if s.id not in held
    ]
    fleet = expand_project(project)
    assert len(fleet.sensors) == 12 * len(project.sensors)
    sim = project.sources[0]
    batch = simulate(
        fleet.model_copy(update={"sensors": simulation_sensors(fleet.sensors)}), sim, 200.0
    )
    ids = [s.id for s in fleet.sensors]
    T = len(project.sensors)
    last = {}
    for k, t, v in zip(batch.sensor, batch.time, batch.value, strict=True):
        last[ids[k]] = (t, v)
    assert last["loco-07/axle4_bearing_temperature"][1] > 95  # past its alarm limit
    assert last["loco-03/axle4_bearing_temperature"][1] < 85
    assert last["loco-11/tm1_current"][0] < 61  # silent since 60 s
    # units differ (their own phases): not the same values at the same time
    v1 = batch.value[(batch.sensor < T) & (batch.time == 100.0)]
    v2 = batch.value[(batch.sensor >= T) & (batch.sensor < 2 * T) & (batch.time == 100.0)]
    assert not np.allclose(v1, v2)


def test_moving_parts_follow_the_shown_unit(fleet_twin, tmp_path: Path) -> None:
    """``motion:`` is written with template ids; each unit's own values move its parts."""
    _stl(tmp_path / "pumps.stl")
    path = tmp_path / "pumps.twin.yaml"
    path.write_text(
        FLEET.format(discover="false")
        + "  - {id: stroke, quantity: position, unit: m, range: [0, 5]}\n"
        + "motion:\n  - {component: outlet, kind: translate, sensor: stroke, axis: [0, 0, 1]}\n"
    )
    s = TwinSession.open(path)
    outlet = s.model.index_of("outlet")
    rest = s.model.points[np.unique(s.model.triangles[s.model.cell_component == outlet])]
    ids = {x.id: i for i, x in enumerate(s.sensors)}
    s.state.apply(
        SampleBatch(
            np.array([ids["p1/stroke"], ids["p2/stroke"]], np.int32),
            np.full(2, 1000.0),
            np.array([1.0, 3.0]),
        )
    )

    def outlet_z() -> float:
        s.update(now=1001.0)
        pts = s.posed_points[np.unique(s.model.triangles[s.model.cell_component == outlet])]
        return float(pts[:, 2].mean() - rest[:, 2].mean())

    assert outlet_z() == pytest.approx(1.0)  # p1 is shown first
    s.fleet.select("p2")
    assert outlet_z() == pytest.approx(3.0)
    s.fleet.select("p3")  # no value: at rest
    assert outlet_z() == pytest.approx(0.0)


def test_check_accepts_the_fleet_demo() -> None:
    """Faults name a unit's sensor (loco-07/…) or a whole unit (silence): both are known."""
    from twinviewer.commands.check import check

    report = check(demo_project("fleet"))
    assert [str(p) for p in report.problems if p.severity == "error"] == []
