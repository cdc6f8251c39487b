"""Colour rules and the latest-value state, on plain arrays (no Qt, no VTK)."""

from __future__ import annotations

import numpy as np

from twinviewer.core.binding import bind
from twinviewer.core.colour import (
    ALARM_COLOUR,
    COLORMAPS,
    NEUTRAL,
    NO_DATA_COLOUR,
    STALE_COLOUR,
    WARNING_COLOUR,
    SensorRules,
    Status,
    component_colours,
    normalise,
    sensor_colours,
    sensor_rank,
    sensor_status,
)
from twinviewer.core.model import ModelBuilder
from twinviewer.core.project import Project
from twinviewer.core.samples import BatchQueue, LatestState, SampleBatch

TRI = (np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], float), np.array([[0, 1, 2]]))


def project(**extra: object) -> Project:
    data = {
        "models": ["m.glb"],
        "components": {"pumps": {"glob": "pump_*"}, "hoist": {"regex": "hoist(_house)?"}},
        "sensors": [
            {
                "id": "T1",
                "quantity": "temperature",
                "unit": "degC",
                "component": "pumps",
                "range": [0, 100],
                "warning": {"high": 70},
                "alarm": {"high": 80},
            },
            {
                "id": "A1",
                "quantity": "airflow",
                "unit": "m3/s",
                "component": "fan",
                "range": [0, 50],
                "warning": {"low": 20},
                "alarm": {"low": 10},
            },
            {
                "id": "H1",
                "quantity": "temperature",
                "unit": "degC",
                "component": "hoist",
                "range": [0, 100],
                "warning": {"high": 70},
                "alarm": {"high": 80},
            },
            {
                "id": "X1",
                "quantity": "vibration",
                "unit": "mm/s",
                "component": "nowhere",
                "range": [0, 10],
            },
        ],
    }
    data.update(extra)
    return Project.model_validate(data)


def model():
    b = ModelBuilder("test")
    site = b.add("site")
    b.add("pump_1", site, *TRI)
    b.add("pump_2", site, *TRI)
    b.add("fan", site, *TRI)
    b.add("hoist_house", site, *TRI)
    b.add("spare", site, *TRI)
    b.add("spare", site, *TRI)
    return b.build()


def test_builder_makes_duplicate_names_unique_and_reports_them() -> None:
    m = model()
    assert [c.id for c in m.components][-2:] == ["site/spare[1]", "site/spare[2]"]  # their paths
    assert m.warnings == [
        "duplicate component name 'spare' (2 nodes): each is identified by its path, "
        "e.g. 'site/spare[1]'"
    ]
    assert m.components[m.index_of("pump_1")].path == "site/pump_1"
    assert m.n_triangles == 6
    assert list(m.cell_component) == [1, 2, 3, 4, 5, 6]


def test_binding_by_glob_regex_and_direct_name() -> None:
    m = model()
    b = bind(project(), m)
    ids = lambda idx: sorted(m.components[i].id for i in idx)  # noqa: E731
    assert ids(b.component_nodes["pumps"]) == ["pump_1", "pump_2"]
    assert ids(b.component_nodes["hoist"]) == ["hoist_house"]
    assert ids(b.sensor_nodes[1]) == ["fan"]  # 'fan' is a node name, not a declared component
    assert b.unbound_sensors == ["X1"]
    assert ids(b.unbound_parts) == ["site/spare[1]", "site/spare[2]"]


def test_sensor_on_a_group_colours_its_children() -> None:
    m = model()
    p = project(
        sensors=[{"id": "S", "quantity": "q", "unit": "u", "component": "site", "range": [0, 1]}]
    )
    b = bind(p, m)
    assert len(b.sensor_nodes[0]) == m.n_components  # the group and all six parts


def rules_and_state():
    p = project()
    return SensorRules.from_sensors(p.sensors), LatestState(len(p.sensors))


def test_status_thresholds_stale_and_no_data() -> None:
    rules, _ = rules_and_state()
    value = np.array([75.0, 5.0, 50.0, np.nan])
    time = np.array([100.0, 100.0, 100.0, np.nan])
    st = sensor_status(rules, value, time, now=101.0)
    assert list(st) == [Status.WARNING, Status.ALARM, Status.NORMAL, Status.NO_DATA]
    st = sensor_status(rules, value, time, now=100.0 + 16.0)  # default stale_after is 15 s
    assert list(st) == [Status.STALE, Status.STALE, Status.STALE, Status.NO_DATA]


def test_sensor_colours_follow_colormap_and_threshold_colours() -> None:
    rules, _ = rules_and_state()
    value = np.array([0.0, 45.0, 100.0, np.nan])
    time = np.full(4, 10.0)
    st = sensor_status(rules, value, time, now=10.0)
    rgba = sensor_colours(rules, value, st)
    viridis = COLORMAPS["viridis"]
    assert tuple(rgba[0]) == tuple(viridis[0])  # bottom of range
    assert tuple(rgba[1]) == tuple(viridis[int(0.9 * 255)])  # 45 of 0..50
    assert tuple(rgba[2]) == tuple(ALARM_COLOUR)  # 100 > alarm 80
    assert tuple(rgba[3]) == tuple(NO_DATA_COLOUR)
    st[1] = Status.STALE
    assert tuple(sensor_colours(rules, value, st)[1]) == tuple(STALE_COLOUR)
    st[0] = Status.WARNING
    assert tuple(sensor_colours(rules, value, st)[0]) == tuple(WARNING_COLOUR)


def test_component_shows_worst_sensor_or_active_quantity() -> None:
    m = model()
    p = project(
        sensors=[
            {
                "id": "T",
                "quantity": "temperature",
                "unit": "degC",
                "component": "fan",
                "range": [0, 100],
                "alarm": {"high": 80},
            },
            {
                "id": "V",
                "quantity": "vibration",
                "unit": "mm/s",
                "component": "fan",
                "range": [0, 10],
            },
        ]
    )
    b = bind(p, m)
    rules = SensorRules.from_sensors(p.sensors)
    value, time = np.array([90.0, 2.0]), np.array([1.0, 1.0])
    st = sensor_status(rules, value, time, 1.0)
    rgba = sensor_colours(rules, value, st)
    rank = sensor_rank(st, normalise(value, rules.lo, rules.hi))
    base = np.tile(NEUTRAL, (m.n_components, 1))
    fan = m.index_of("fan")
    colours, shown = component_colours(b.colouring, rgba, rank, base)
    assert shown[fan] == 0 and tuple(colours[fan]) == tuple(ALARM_COLOUR)  # worst wins
    assert tuple(colours[m.index_of("pump_1")]) == tuple(NEUTRAL)  # no sensor: neutral
    vib_only = np.array([False, True])
    colours, shown = component_colours(b.colouring, rgba, rank, base, vib_only)
    assert shown[fan] == 1
    assert tuple(colours[fan]) == tuple(COLORMAPS["viridis"][int(0.2 * 255)])


def test_latest_state_keeps_newest_and_ignores_late_samples() -> None:
    state = LatestState(3)
    state.apply(SampleBatch.of([0, 0, 1, 0], [1.0, 3.0, 2.0, 2.0], [10, 30, 20, 99]))
    assert state.value[0] == 30 and state.time[0] == 3.0
    assert state.value[1] == 20 and np.isnan(state.value[2])
    changed = state.apply(SampleBatch.of([0, 1], [2.5, 5.0], [-1, 21]))  # sensor 0 is late
    assert changed == 1
    assert state.value[0] == 30 and state.value[1] == 21
    # out-of-range sensor indices and non-finite times are dropped, not raised
    state.apply(SampleBatch.of([7, -1, 2], [1.0, 1.0, np.inf], [1, 1, 1]))
    assert np.isnan(state.value[2])


def test_batch_columns_must_match() -> None:
    import pytest

    with pytest.raises(ValueError, match="differ in length"):
        SampleBatch.of([0, 1], [1.0], [1.0, 2.0])


def test_queue_hands_batches_across_threads() -> None:
    import threading

    q = BatchQueue()
    threads = [
        threading.Thread(
            target=lambda k=k: [q.put(SampleBatch.of([k], [float(i)], [i])) for i in range(500)]
        )
        for k in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    batch = q.drain()
    assert batch is not None and len(batch) == 2000 and q.drain() is None
    state = LatestState(4)
    state.apply(batch)
    assert list(state.value) == [499, 499, 499, 499]
