"""The simulator obeys commands: setpoints ramp to the commanded value and the sensors they drive
follow after their lags; without a command nothing changes (simulated time, no threads)."""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from twinviewer.core.project import Project, SimulatorSource, load_project
from twinviewer.core.samples import SampleBatch
from twinviewer.sources.simulator import SignalModel, Simulator

ASSETS = Path(__file__).resolve().parents[1] / "assets"
MINE = ASSETS / "mine" / "mine.twin.yaml"
LOCO = ASSETS / "locomotive" / "locomotive.twin.yaml"
RATE = 5.0


@cache
def demo(path: Path) -> tuple[Project, SimulatorSource]:
    project, _ = load_project(path)
    cfg = project.sources[0]
    assert isinstance(cfg, SimulatorSource)
    return project, cfg


def run(
    model: SignalModel, until: float, commands: dict[float, tuple[str, float]] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(times, values[time, sensor]); ``commands`` {simulated second: (id, value)}."""
    times = np.arange(int(until * RATE) + 1) / RATE
    out = np.empty((len(times), model.n))
    for k, t in enumerate(times):
        for at, (key, value) in (commands or {}).items():
            if abs(t - at) < 1e-9:
                model.apply_command(key, value)
        out[k] = model.step(float(t))
    return times, out


def column(project: Project, sensor: str) -> int:
    return [s.id for s in project.sensors].index(sensor)


def window(t: np.ndarray, x: np.ndarray, t0: float, t1: float) -> np.ndarray:
    return x[(t >= t0) & (t < t1)]


def test_without_commands_the_other_sensors_are_as_without_setpoints() -> None:
    project, cfg = demo(MINE)
    with_sp = SignalModel(project.sensors, cfg)
    others = [s for s in project.sensors if s.id != "l3_fan_speed"]
    plain = SignalModel(others, cfg.model_copy(update={"setpoints": []}))
    _, a = run(with_sp, 120.0)
    _, b = run(plain, 120.0)
    keep = [i for i, s in enumerate(project.sensors) if s.id != "l3_fan_speed"]
    np.testing.assert_array_equal(a[:, keep], b)  # bit for bit, NaNs where silent
    assert (a[:, column(project, "l3_fan_speed")] == 100.0).all()


def test_mine_fan_speed_ramps_and_vibration_and_bearing_follow() -> None:
    project, cfg = demo(MINE)
    t, cmd = run(SignalModel(project.sensors, cfg), 260.0, {100.0: ("l3_fan_speed", 70.0)})
    _, ref = run(SignalModel(project.sensors, cfg), 260.0)
    speed = cmd[:, column(project, "l3_fan_speed")]
    # the drive ramps 3 %/s: 30 % takes 10 s, read back exactly at the end
    assert (speed[t < 100.0] == 100.0).all()
    assert 90.0 < speed[t == 103.0][0] < 92.0
    assert (speed[t >= 110.0 + 1e-9] == 70.0).all()
    np.testing.assert_array_equal(cmd[t < 100.0], ref[t < 100.0])  # nothing before the command
    vib, ref_vib = (x[:, column(project, "l3_fan_vibration")] for x in (cmd, ref))
    bearing, ref_bearing = (x[:, column(project, "l3_fan_bearing_temperature")] for x in (cmd, ref))
    # vibration ~ speed^2 with a 6 s lag: about half once the fan has slowed (0.7^2 = 0.49)
    late = (t > 150.0) & (t < 260.0)
    np.testing.assert_allclose(vib[late] / ref_vib[late], 0.49, rtol=1e-3)
    # and it takes a while: just after the command it is still close to what it was
    assert vib[t == 101.0][0] / ref_vib[t == 101.0][0] > 0.95
    # the bearing (rise above 20 degC ~ speed, 40 s lag) cools: lower, more so later
    rise = (bearing - 20.0) / (ref_bearing - 20.0)
    assert 0.85 < rise[t == 130.0][0] < 0.97
    assert rise[t == 250.0][0] == pytest.approx(0.7, abs=0.02)
    # the fault that takes the reference past the alarm (11 mm/s) stays under the warning
    assert window(t, ref_vib, 180.0, 260.0).max() > 11.0
    assert window(t, vib, 180.0, 260.0).max() < 7.1
    # sensors the fan does not drive are untouched
    other = column(project, "l2_fan_vibration")
    np.testing.assert_array_equal(cmd[:, other], ref[:, other])


def test_speed_up_again_returns_to_the_reference() -> None:
    project, cfg = demo(MINE)
    commands = {20.0: ("l3_fan_speed", 60.0), 60.0: ("l3_fan_speed", 100.0)}
    t, cmd = run(SignalModel(project.sensors, cfg), 200.0, commands)
    _, ref = run(SignalModel(project.sensors, cfg), 200.0)
    j = column(project, "l3_fan_current")
    assert window(t, cmd[:, j] / ref[:, j], 45.0, 60.0).max() < 0.25  # current ~ speed^3
    # the lags run out: back to the reference bit for bit
    np.testing.assert_array_equal(
        window(t, cmd[:, j], 150.0, 200.0), window(t, ref[:, j], 150.0, 200.0)
    )


def test_locomotive_power_limit_caps_traction_current_and_temperature() -> None:
    project, cfg = demo(LOCO)
    t, cmd = run(SignalModel(project.sensors, cfg), 300.0, {30.0: ("traction_power_limit", 40.0)})
    _, ref = run(SignalModel(project.sensors, cfg), 300.0)
    assert cmd[t == 40.0, column(project, "traction_power_limit")][0] == 40.0  # 10 %/s
    for n in range(1, 7):
        cur = cmd[:, column(project, f"tm{n}_current")]
        ref_cur = ref[:, column(project, f"tm{n}_current")]
        assert window(t, ref_cur, 50.0, 300.0).max() > 700.0
        assert window(t, cur, 60.0, 300.0).max() <= 0.4 * 1400.0 + 0.01  # 40 % of full scale
        temp = cmd[:, column(project, f"tm{n}_winding_temperature")]
        ref_temp = ref[:, column(project, f"tm{n}_winding_temperature")]
        # rise ~ I^2: capped at 0.4^2 of 160 K above 20 degC, reached over its 60 s lag
        assert window(t, temp, 250.0, 300.0).max() <= 20.0 + 0.2 * 160.0
        assert window(t, ref_temp, 250.0, 300.0).max() > 60.0
    # below the cap nothing changes
    np.testing.assert_array_equal(cmd[t < 30.0], ref[t < 30.0])


def test_unknown_command_and_bad_values_are_refused() -> None:
    project, cfg = demo(MINE)
    model = SignalModel(project.sensors, cfg)
    with pytest.raises(ValueError, match="no setpoint or sensor 'fan_9_speed'"):
        model.apply_command("fan_9_speed", 50.0)
    with pytest.raises(ValueError, match="not a finite number"):
        model.apply_command("l3_fan_speed", float("nan"))
    with pytest.raises(ValueError, match="not a number"):
        model.apply_command("l3_fan_speed", "fast")  # type: ignore[arg-type]
    # beyond the range the actuator stops at its end
    assert model.apply_command("l3_fan_speed", 250.0) == "l3_fan_speed"
    model.step(0.0)
    assert model.step(100.0)[column(project, "l3_fan_speed")] == 100.0


def test_a_sensor_without_a_setpoint_is_held_at_the_commanded_value() -> None:
    project, cfg = demo(MINE)
    model = SignalModel(project.sensors, cfg)
    model.step(0.0)
    assert model.apply_command("l1_fan_current", 42.0) == "l1_fan_current"
    assert model.step(0.2)[column(project, "l1_fan_current")] == 42.0


def test_setpoint_command_id_may_differ_from_the_sensor() -> None:
    project, cfg = demo(MINE)
    sp = cfg.setpoints[0].model_copy(update={"command": "fan3_speed_cmd"})
    model = SignalModel(project.sensors, cfg.model_copy(update={"setpoints": [sp]}))
    model.step(0.0)
    assert model.apply_command("fan3_speed_cmd", 55.0) == "l3_fan_speed"
    assert model.step(30.0)[column(project, "l3_fan_speed")] == 55.0


def test_live_simulator_obeys_from_another_thread() -> None:
    project, cfg = demo(MINE)
    sim = Simulator(project.sensors, cfg.model_copy(update={"speed": 20.0}), tick=0.02)
    got: list[SampleBatch] = []
    lock = threading.Lock()

    def sink(batch: SampleBatch) -> None:
        with lock:
            got.append(batch)

    j = column(project, "l3_fan_speed")
    with pytest.raises(ValueError):
        sim.apply_command("nope", 1.0)
    sim.apply_command("l3_fan_speed", 50.0)  # before it runs: obeyed from its first step
    sim.start(sink)
    try:
        threading.Event().wait(1.5)  # 30 simulated seconds: 50 % reached after 17 s
    finally:
        sim.stop()
    with lock:
        values = np.concatenate([b.value[b.sensor == j] for b in got])
    assert values[0] == 100.0 and values[-1] == 50.0
    assert (np.diff(values) <= 0).all()
