"""Measured versus simulated, checked by hand; the overlay clock."""

from __future__ import annotations

import math

import numpy as np
import pytest

from twinviewer.core.fidelity import fidelity_table, summarise
from twinviewer.core.project import OverlayTime, Project
from twinviewer.core.simclock import SimClock, simulator_speed


def test_errors_and_pass_fail_by_hand() -> None:
    measured = np.array([100.0, 50.0, 0.0, np.nan, 20.0, -10.0])
    simulated = np.array([104.0, 53.0, 0.0, 5.0, np.nan, -10.4])
    rows = fidelity_table(range(6), measured, simulated, tolerance=0.05)
    # |104-100|/100 = 4 %, |53-50|/50 = 6 %, 0 vs 0 exact, no measurement, outside the domain,
    # |-10.4+10|/10 = 4 %
    np.testing.assert_allclose(rows["rel_error"][[0, 1, 2, 5]], [0.04, 0.06, 0.0, 0.04])
    np.testing.assert_allclose(rows["abs_error"][[0, 1, 2, 5]], [4.0, 3.0, 0.0, 0.4])
    assert rows["passed"].tolist() == [True, False, True, False, False, True]
    assert rows["compared"].tolist() == [True, True, True, False, False, True]
    assert math.isnan(rows["rel_error"][3]) and math.isnan(rows["rel_error"][4])
    summary = summarise(rows, 0.05)
    assert (summary.compared, summary.passed) == (4, 3)
    assert summary.share == 0.75
    assert summary.worst == [1]


def test_relative_to_the_range_span() -> None:
    rows = fidelity_table(
        [0, 1],
        np.array([0.5, 50.0]),
        np.array([3.0, 58.0]),
        0.05,
        "range",
        np.array([100.0, 100.0]),
    )
    np.testing.assert_allclose(rows["rel_error"], [0.025, 0.08])
    assert rows["passed"].tolist() == [True, False]
    with pytest.raises(ValueError, match="range span"):
        fidelity_table([0], np.ones(1), np.ones(1), 0.05, "range")


def test_zero_measured_with_a_nonzero_simulation_fails() -> None:
    rows = fidelity_table([0], np.array([0.0]), np.array([0.1]), 0.05)
    assert rows["compared"][0] and not rows["passed"][0] and np.isinf(rows["rel_error"][0])


def test_overlay_clock() -> None:
    clock = SimClock.of(OverlayTime(origin="2026-01-01T00:00:00Z", offset=60.0), 0.0)
    t0 = 1767225600.0  # 2026-01-01T00:00:00Z
    assert clock.to_twin(0.0) == t0 + 60.0
    assert clock.to_sim(t0 + 160.0) == 100.0
    fast = SimClock.of(OverlayTime(scale="simulator"), session_start=1000.0, simulator_speed=10.0)
    assert fast.to_sim(1030.0) == pytest.approx(300.0)  # 30 wall seconds at 10x
    assert fast.to_twin(300.0) == pytest.approx(1030.0)
    steps = SimClock.of(OverlayTime(mode="step_index", scale=5.0), session_start=0.0)
    assert steps.step_index and steps.to_sim(12.5) == 2.5


def test_simulator_speed_from_the_project() -> None:
    p = Project.model_validate(
        {"models": ["m.glb"], "sources": [{"type": "simulator", "speed": 4.0}]}
    )
    assert simulator_speed(p) == 4.0
    assert simulator_speed(p, override=10.0) == 10.0
    assert simulator_speed(Project.model_validate({"models": ["m.glb"]})) == 1.0


def test_residual_colours_take_each_components_worst_sensor() -> None:
    from twinviewer.core.colour import ComponentBinding
    from twinviewer.core.fidelity import residual_colours, residual_table

    # sensors 0, 1 on component 0; sensor 2 on component 1; component 2 has none
    binding = ComponentBinding(3, np.array([0, 1, 2], np.int32), np.array([0, 0, 1], np.int32))
    rows = fidelity_table(
        [0, 1, 2], np.array([100.0, 100.0, 100.0]), np.array([101.0, 105.0, 150.0]), 0.05
    )
    base = np.full((3, 4), 7, np.uint8)
    rgba = residual_colours(binding, rows, 3, 0.05, base)
    table = residual_table()
    np.testing.assert_array_equal(rgba[0], table[128])  # worst 5 % = the tolerance: the middle
    np.testing.assert_array_equal(rgba[1], table[255])  # 50 %: past twice the tolerance
    np.testing.assert_array_equal(rgba[2], base[2])
    assert tuple(table[0][:3]) != tuple(table[255][:3])


def test_overlay_clock_repeats_a_duty_cycle() -> None:
    clock = SimClock.of(OverlayTime(repeat=(60.0, 600.0)), session_start=0.0)
    assert clock.to_sim(500.0) == 500.0
    assert clock.to_sim(600.0) == 600.0
    assert clock.to_sim(610.0) == pytest.approx(70.0)  # 60 + (550 mod 540)
    assert clock.to_sim(600.0 + 540.0 * 3 + 5.0) == pytest.approx(605.0 - 540.0)
    with pytest.raises(ValueError, match="start < end"):
        OverlayTime(repeat=(10.0, 5.0))
