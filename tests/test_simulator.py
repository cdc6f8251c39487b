"""The built-in simulator: deterministic, plausible, faults on time, a live source that stops."""

from __future__ import annotations

import threading
import time
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from twinviewer.core.project import Project, SimulatorSource, load_project
from twinviewer.core.samples import SampleBatch
from twinviewer.sources.base import SourceState
from twinviewer.sources.simulator import (
    GAS,
    GENERIC,
    SignalModel,
    Simulator,
    classify,
    simulate,
)

ASSETS = Path(__file__).resolve().parents[1] / "assets"
DEMOS = [ASSETS / "mine" / "mine.twin.yaml", ASSETS / "locomotive" / "locomotive.twin.yaml"]


def small_project(**sim: object) -> Project:
    """A handful of sensors of different kinds, one of each limit style."""
    return Project.model_validate(
        {
            "models": ["m.glb"],
            "sensors": [
                {
                    "id": "T",
                    "quantity": "temperature",
                    "unit": "degC",
                    "component": "pump_1",
                    "range": [20, 120],
                    "warning": {"high": 90},
                    "alarm": {"high": 105},
                },
                {
                    "id": "I",
                    "quantity": "current",
                    "unit": "A",
                    "component": "pump_1",
                    "range": [0, 200],
                    "warning": {"high": 170},
                    "alarm": {"high": 190},
                },
                {
                    "id": "Q",
                    "quantity": "airflow",
                    "unit": "m3/s",
                    "component": "drift",
                    "range": [0, 60],
                    "warning": {"low": 20},
                    "alarm": {"low": 12},
                },
                {
                    "id": "CH4",
                    "quantity": "methane",
                    "unit": "%LEL",
                    "component": "face",
                    "range": [0, 15],
                    "warning": {"high": 10},
                    "alarm": {"high": 20},
                },
                {
                    "id": "L",
                    "quantity": "water level",
                    "unit": "m",
                    "component": "sump",
                    "range": [0, 4],
                    "warning": {"high": 3.2},
                    "alarm": {"high": 3.6},
                },
                {"id": "X", "quantity": "flux capacitance", "unit": "GW", "range": [0, 1]},
            ],
            "sources": [{"type": "simulator", **sim}],
        }
    )


def demo(path: Path) -> tuple[Project, SimulatorSource]:
    project, _ = load_project(path)
    cfg = project.sources[0]
    assert isinstance(cfg, SimulatorSource)
    return project, cfg


@cache
def ten_minutes(path: Path) -> np.ndarray:
    """values[time, sensor] of a demo's first 10 simulated minutes (shared by several tests)."""
    project, cfg = demo(path)
    values = matrix(simulate(project, cfg, 600.0), len(project.sensors))[1]
    values.setflags(write=False)
    return values


def matrix(batch: SampleBatch, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(times, values[time, sensor]) of a batch from :func:`simulate`."""
    return batch.time.reshape(-1, n)[:, 0], batch.value.reshape(-1, n)


def first_crossing(t: np.ndarray, x: np.ndarray, limit: float, rising: bool) -> float:
    over = x > limit if rising else x < limit
    assert over.any(), f"never crossed {limit}"
    return float(t[np.argmax(over)])


# -- the signal model ------------------------------------------------------------------------


def test_same_seed_same_values_other_seed_other_values() -> None:
    project = small_project(seed=4, faults=[{"sensor": "T", "start": 5, "duration": 30}])
    cfg = project.sources[0]
    a = simulate(project, cfg, 60.0)
    b = simulate(project, cfg, 60.0)
    np.testing.assert_array_equal(a.value, b.value)
    np.testing.assert_array_equal(a.time, b.time)
    c = simulate(project, cfg.model_copy(update={"seed": 5}), 60.0)
    assert not np.array_equal(a.value, c.value)


def test_model_steps_are_deterministic_for_the_same_step_sequence() -> None:
    project = small_project(seed=1)
    times = np.cumsum(np.full(50, 0.37))
    one = SignalModel(project.sensors, project.sources[0]).run(times)
    two = SignalModel(project.sensors, project.sources[0]).run(times)
    np.testing.assert_array_equal(one, two)
    assert one.shape == (50, len(project.sensors))


def test_time_must_not_go_backwards() -> None:
    project = small_project()
    model = SignalModel(project.sensors, project.sources[0])
    model.step(10.0)
    model.step(10.0)
    with pytest.raises(ValueError, match="backwards"):
        model.step(9.0)


def test_simulate_returns_every_sample_in_columns() -> None:
    project = small_project(rate=4)
    batch = simulate(project, project.sources[0], 10.0)
    n = len(project.sensors)
    assert len(batch) == (10 * 4 + 1) * n
    t, _ = matrix(batch, n)
    np.testing.assert_allclose(t, np.arange(41) / 4)
    np.testing.assert_array_equal(batch.sensor[: 2 * n], np.tile(np.arange(n), 2))
    assert np.isfinite(batch.value).all()
    with pytest.raises(ValueError):
        simulate(project, project.sources[0], -1.0)


def test_quantities_choose_their_recipe() -> None:
    kinds = {s.id: classify(s) for s in small_project().sensors}
    assert kinds == {
        "T": "temperature",
        "I": "current",
        "Q": "airflow",
        "CH4": GAS,
        "L": "sump_level",
        "X": GENERIC,
    }


@pytest.mark.parametrize("path", DEMOS, ids=lambda p: p.stem.split(".")[0])
def test_normal_operation_stays_in_range_and_below_warning(path: Path) -> None:
    project, cfg = demo(path)
    faulty = {f.sensor for f in cfg.faults}
    n = len(project.sensors)
    v = ten_minutes(path)
    assert v.shape == (int(600 * cfg.rate) + 1, n)
    checked = 0
    for i, s in enumerate(project.sensors):
        if s.id in faulty:
            continue
        x = v[:, i]
        lo, hi = s.range
        assert x.min() >= lo and x.max() <= hi, f"{s.id} left its range: {x.min()}..{x.max()}"
        for band in (s.warning, s.alarm):
            if band and band.high is not None:
                assert x.max() < band.high, f"{s.id} reached {x.max()} >= {band.high}"
            if band and band.low is not None:
                assert x.min() > band.low, f"{s.id} fell to {x.min()} <= {band.low}"
        checked += 1
    assert checked == n - len(faulty)


@pytest.mark.parametrize("path", DEMOS, ids=lambda p: p.stem.split(".")[0])
def test_signals_move_visibly(path: Path) -> None:
    project, cfg = demo(path)
    v = ten_minutes(path)
    span = np.array([s.range[1] - s.range[0] for s in project.sensors])
    std = v.std(axis=0) / span
    held = {sp.sensor for sp in cfg.setpoints}  # read-backs of setpoints: still until commanded
    quiet = [
        s.id for s, x in zip(project.sensors, std, strict=True) if x < 0.04 and s.id not in held
    ]
    assert not quiet, f"sensors that hardly move over 10 minutes: {quiet}"
    # the demo must look alive: within the first minute most sensors cross a good part of
    # their colour range
    first_minute = np.ptp(v[: int(60 * cfg.rate) + 1], axis=0) / span
    assert np.median(first_minute) > 0.2
    assert (first_minute > 0.1).mean() > 0.75


@pytest.mark.parametrize("path", DEMOS, ids=lambda p: p.stem.split(".")[0])
def test_demo_fault_crosses_warning_then_alarm_on_time(path: Path) -> None:
    project, cfg = demo(path)
    assert len(cfg.faults) == 1
    fault = cfg.faults[0]
    ids = [s.id for s in project.sensors]
    i = ids.index(fault.sensor)
    s = project.sensors[i]
    assert s.warning is not None and s.alarm is not None
    assert s.warning.high is not None and s.alarm.high is not None
    t, v = matrix(simulate(project, cfg, fault.start + fault.duration + 120.0), len(ids))
    x = v[:, i]
    tol = 0.08 * fault.duration
    assert x[t < fault.start].max() < s.warning.high
    warn_at = first_crossing(t, x, s.warning.high, rising=True)
    alarm_at = first_crossing(t, x, s.alarm.high, rising=True)
    assert abs(warn_at - (fault.start + fault.duration / 2)) < tol
    assert abs(alarm_at - (fault.start + fault.duration)) < tol
    after = x[t > fault.start + fault.duration + 10]
    assert after.min() > s.alarm.high  # stays in alarm
    assert after[-1] > x[t <= fault.start + fault.duration][-1]  # and keeps rising a little
    # the demo's fault shows within about three minutes
    assert alarm_at < 185.0


def test_falling_fault_goes_through_the_low_limits() -> None:
    project = small_project(faults=[{"sensor": "Q", "start": 30, "duration": 100}])
    n = len(project.sensors)
    t, v = matrix(simulate(project, project.sources[0], 200.0), n)
    q = v[:, 2]
    assert q[t < 30].min() > 20
    assert abs(first_crossing(t, q, 20, rising=False) - 80) < 8
    assert abs(first_crossing(t, q, 12, rising=False) - 130) < 8
    # the other sensors are untouched by the fault
    ok = np.delete(v, [2, 5], axis=1)
    assert np.isfinite(ok).all() and (ok[:, 0] < 90).all()


def test_fault_without_limits_still_drifts_up() -> None:
    project = small_project(faults=[{"sensor": "X", "start": 0, "duration": 60}])
    n = len(project.sensors)
    t, v = matrix(simulate(project, project.sources[0], 90.0), n)
    x = v[:, 5]
    assert x[t >= 60].min() >= 0.99  # at the top of its range by the end of the fault


def test_unknown_fault_sensor_is_ignored_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    project = small_project(faults=[{"sensor": "nope", "start": 0, "duration": 10}])
    with caplog.at_level("WARNING"):
        SignalModel(project.sensors, project.sources[0]).step(0.0)
    assert "nope" in caplog.text


# -- the live source ---------------------------------------------------------------------------


def test_live_simulator_emits_increasing_wall_clock_batches_and_stops_promptly() -> None:
    project = small_project(rate=20, speed=10)
    n = len(project.sensors)
    batches: list[SampleBatch] = []
    lock = threading.Lock()

    def sink(batch: SampleBatch) -> None:
        with lock:
            batches.append(batch)

    sim = Simulator(project.sensors, project.sources[0])
    before = time.time()
    sim.start(sink)
    deadline = time.monotonic() + 5.0
    while len(batches) < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sim.status.state is SourceState.LIVE
    time.sleep(0.3)
    t0 = time.monotonic()
    sim.stop()
    assert time.monotonic() - t0 < 1.0
    assert sim.status.state is SourceState.STOPPED
    after = time.time()

    with lock:
        got = list(batches)
    assert len(got) >= 4
    all_ = SampleBatch.concat(got)
    assert sim.status.accepted == len(all_)
    assert len(all_) % n == 0
    # every sensor gets every sample; stamps are wall-clock and increase batch after batch
    for k in range(n):
        stamps = all_.time[all_.sensor == k]
        assert (np.diff(stamps) > 0).all()
        assert before - 0.5 <= stamps[0] and stamps[-1] <= after + 0.5
    lasts = [b.time.max() for b in got]
    firsts = [b.time.min() for b in got]
    assert all(f > prev for f, prev in zip(firsts[1:], lasts[:-1], strict=True))
    # simulated time runs at speed x wall time: 20 samples/s x 10 per second of wall time
    elapsed = after - before
    per_sensor = len(all_) / n
    assert 0.5 * 200 * elapsed < per_sensor < 1.5 * 200 * elapsed + 50
    assert sim.sim_time == pytest.approx((per_sensor - 1) / 20, abs=1e-6)


def test_live_simulator_stops_at_once_even_before_emitting() -> None:
    project = small_project(rate=0.2)
    sim = Simulator(project.sensors, project.sources[0], tick=0.1)
    got: list[SampleBatch] = []
    sim.start(got.append)
    time.sleep(0.15)
    t0 = time.monotonic()
    sim.stop()
    assert time.monotonic() - t0 < 1.0
    assert sum(len(b) for b in got) == len(project.sensors)  # only the sample at t = 0
