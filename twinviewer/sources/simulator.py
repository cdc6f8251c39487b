"""The built-in simulator: plausible, deterministic signals for every sensor of a project.

:class:`SignalModel` is the pure part: given the sensors and a :class:`SimulatorSource` it steps
simulated time forward and returns one value per sensor, vectorised over sensors. What a sensor
does is chosen from its ``quantity`` (with hints from its id and name, e.g. ``fuel`` or ``oil``)
and scaled into the part of its ``range`` that is below its warning limits, so that a healthy
plant stays green while still moving across the colour map:

* every component runs a load cycle of ``config.cycle`` seconds (a shift-like trapezoid or a
  smooth swell) with its own phase; components whose ids differ only by a trailing number
  (``tm_1`` .. ``tm_6``) run in step;
* currents, voltages, vibration and airflow follow that load within seconds; temperatures follow
  it through a first-order thermal lag; speeds through a slower mechanical one;
* gases sit on a low, wandering baseline with occasional small puffs; sump levels fill and are
  pumped down; pump pressures cycle; receivers are charged by their compressor; fuel falls;
* the read-back sensor of a :class:`~twinviewer.core.project_setpoints.Setpoint` (the config's
  ``setpoints``) shows its actuator, which obeys commands (:meth:`SignalModel.apply_command`,
  :meth:`Simulator.apply_command`): it ramps to the commanded value, and the sensors it
  ``drives`` follow after their lags (a fan slowed down vibrates less, its bearing cools); see
  :mod:`twinviewer.sources.setpoints`. Without a command every other sensor has the values it
  has without setpoints;
* the sensors of a :class:`~twinviewer.core.project_motion.Trip` (the config's ``trips``) give
  the position, heading and grade of a part going back and forth along a path, exactly (a hoist
  skip's depth, a loader's x, y, z on the decline): see :class:`TripPath`.

Each :class:`Fault` makes its sensor drift away from normal from ``start`` on, crossing the
warning limit half-way and the alarm limit at ``start + duration``, then creeping a little beyond.

:func:`simulate` runs the model headless from t=0; :class:`Simulator` is the live source.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
import zlib
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from twinviewer.core.project import Project, Sensor, SimulatorSource
from twinviewer.core.project_motion import Trip
from twinviewer.core.samples import SampleBatch
from twinviewer.sources.base import Source, SourceState
from twinviewer.sources.setpoints import Actuators

log = logging.getLogger(__name__)

__all__ = ["SignalModel", "Simulator", "classify", "simulate"]

# Kinds of signal. Each is a recipe: what drives it, how fast it follows, how noisy it is.
GAS = "gas"
TEMPERATURE = "temperature"
CURRENT = "current"
VOLTAGE = "voltage"
VIBRATION = "vibration"
AIRFLOW = "airflow"
FLOW = "flow"
PUMP_PRESSURE = "pump_pressure"
OIL_PRESSURE = "oil_pressure"
BRAKE_PRESSURE = "brake_pressure"
RESERVOIR = "reservoir"
SUMP_LEVEL = "sump_level"
FUEL_LEVEL = "fuel_level"
SPEED = "speed"
SLOW = "slow"
GENERIC = "generic"
TRIP = "trip"  # a moving part's position on its path (see TripPath), not a signal

# kind: (base, gain, lag tau in s (None: thermal, from the cycle), OU sd, white-noise sd), all
# as fractions of the sensor's normal band.
_RECIPES: dict[str, tuple[float, float, float | None, float, float]] = {
    GAS: (0.06, 1.0, 0.5, 0.025, 0.006),
    TEMPERATURE: (0.08, 0.84, None, 0.006, 0.004),
    CURRENT: (0.05, 0.88, 1.5, 0.01, 0.012),
    VOLTAGE: (0.3, 0.6, 2.0, 0.008, 0.006),
    VIBRATION: (0.12, 0.62, 2.0, 0.03, 0.025),
    AIRFLOW: (0.22, 0.68, 6.0, 0.02, 0.01),
    FLOW: (0.1, 0.8, 3.0, 0.015, 0.01),
    PUMP_PRESSURE: (0.12, 0.78, 3.0, 0.01, 0.012),
    OIL_PRESSURE: (0.28, 0.6, 3.0, 0.01, 0.008),
    BRAKE_PRESSURE: (0.04, 0.88, 2.5, 0.005, 0.006),
    RESERVOIR: (0.15, 0.75, 1.0, 0.004, 0.004),
    SUMP_LEVEL: (0.08, 0.84, 1.0, 0.006, 0.004),
    FUEL_LEVEL: (0.1, 0.82, 1.0, 0.002, 0.002),
    SPEED: (0.03, 0.9, 18.0, 0.01, 0.003),
    SLOW: (0.2, 0.6, 10.0, 0.04, 0.004),
    GENERIC: (0.1, 0.8, 8.0, 0.02, 0.01),
}

_MARGIN = 0.04  # fraction of the normal band kept clear of the limits on each side
_MAX_PUFF = 0.6  # the most a gas puff can add (fraction of the band): stays under warning


def _words(text: str) -> set[str]:
    return set(re.split(r"[^a-z0-9]+", text.lower())) - {""}


def classify(sensor: Sensor) -> str:
    """The signal recipe for a sensor, from its quantity (and its id/name for sub-kinds)."""
    q = sensor.quantity.lower()
    qw = _words(q)
    hint = _words(f"{sensor.id} {sensor.name or ''} {sensor.quantity}")
    if qw & {"methane", "ch4", "co", "co2", "h2s", "no2", "gas", "nox", "so2"} or (
        "monoxide" in q or "dioxide" in q
    ):
        return GAS
    if "temp" in q:
        return TEMPERATURE
    if qw & {"current", "power", "load", "torque"}:
        return CURRENT
    if "voltage" in qw:
        return VOLTAGE
    if "vibration" in q:
        return VIBRATION
    if "airflow" in q or ({"air"} <= qw and qw & {"flow", "velocity"}):
        return AIRFLOW
    if "flow" in q:
        return FLOW
    if "pressure" in q:
        if hint & {"oil", "lube", "lubrication"}:
            return OIL_PRESSURE
        if "brake" in hint:
            return BRAKE_PRESSURE
        if hint & {"reservoir", "receiver", "compressor", "air"}:
            return RESERVOIR
        return PUMP_PRESSURE
    if "level" in qw:
        return FUEL_LEVEL if hint & {"fuel", "diesel"} else SUMP_LEVEL
    if qw & {"speed", "velocity", "rpm", "frequency"}:
        return SPEED
    if qw & {"humidity", "oxygen", "o2", "dust", "ambient"}:
        return SLOW
    return GENERIC


def _unit(key: str) -> float:
    """A stable number in [0, 1) from a string (not Python's salted ``hash``)."""
    return zlib.crc32(key.encode("utf-8")) / 2**32


def _group(component: str) -> str:
    """Components that differ only by a trailing number run their load cycles in step."""
    return re.sub(r"[_\-\s#.]*\d+$", "", component) or component


def _smoothstep(x: NDArray[np.float64]) -> NDArray[np.float64]:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _trapezoid(p: NDArray[np.float64]) -> NDArray[np.float64]:
    """A shift-like load over one cycle (p in [0, 1)): ramp up, hold, ramp down, idle."""
    up = _smoothstep(p / 0.12)
    down = _smoothstep((p - 0.5) / 0.12)
    return up - down


class SignalModel:
    """Values of all sensors at increasing simulated times. Deterministic for a seed.

    The model is stateful (thermal lags, random walks, gas puffs), so :meth:`step` must be called
    with non-decreasing ``t``; the same seed and the same sequence of ``t`` give identical values.
    """

    def __init__(self, sensors: Sequence[Sensor], config: SimulatorSource) -> None:
        self.sensors = list(sensors)
        self.config = config
        n = self.n = len(self.sensors)
        index = {s.id: i for i, s in enumerate(self.sensors)}
        self._trips = [TripPath(trip, index, config.id) for trip in config.trips]
        self._actuators = Actuators(self.sensors, config.setpoints, config.id)
        # Sensors on trips and setpoints' read-backs are no signals: the others are simulated by
        # a model of their own, so that they get exactly the values (and random draws) they get
        # without the trips and setpoints.
        moving = {sid for trip in config.trips for sid in trip.all_sensors()} & set(index)
        moving |= {self.sensors[c].id for c in self._actuators.columns}
        self._others: SignalModel | None = None
        if moving:
            self._still = np.array([i for i, s in enumerate(self.sensors) if s.id not in moving])
            others = [self.sensors[i] for i in self._still]
            plain = config.model_copy(update={"trips": [], "setpoints": []})
            self._others = SignalModel(others, plain)
            self.kinds = [TRIP] * n
            self.lo = np.array([s.range[0] for s in self.sensors], np.float64)
            self.hi = np.array([s.range[1] for s in self.sensors], np.float64)
            for at, i in enumerate(self._still):
                self.kinds[i] = self._others.kinds[at]
                self.lo[i], self.hi[i] = self._others.lo[at], self._others.hi[at]
            return
        seed = config.seed
        cycle = config.cycle
        self.kinds = [classify(s) for s in self.sensors]
        self._rng = np.random.default_rng(seed)

        # Components (the sensor's own id when it names none) and their load cycles.
        comps = [s.component or s.id for s in self.sensors]
        unique = sorted(set(comps))
        where = {c: i for i, c in enumerate(unique)}
        self._comp = np.array([where[c] for c in comps], np.intp)
        self._c_phase = np.array(
            [
                (_unit(f"{seed}:phase:{_group(c)}") + 0.1 * (_unit(f"{seed}:jitter:{c}") - 0.5))
                % 1.0
                for c in unique
            ]
        )
        self._c_smooth = np.array([_unit(f"{seed}:shape:{_group(c)}") < 0.35 for c in unique])
        self._c_idle = np.array([0.08 + 0.12 * _unit(f"{seed}:idle:{c}") for c in unique])
        self._c_peak = np.array([0.86 + 0.12 * _unit(f"{seed}:peak:{c}") for c in unique])
        self._c_wobble = np.zeros(len(unique))

        # Per-sensor recipe.
        base, gain, tau, ou_sd, noise_sd = (np.zeros(n) for _ in range(5))
        thermal = float(np.clip(0.25 * cycle, 12.0, 60.0))
        for i, (s, k) in enumerate(zip(self.sensors, self.kinds, strict=True)):
            b, g, tk, o, w = _RECIPES[k]
            jitter = 0.85 + 0.3 * _unit(f"{seed}:tau:{s.id}")
            base[i], gain[i], ou_sd[i], noise_sd[i] = b, g, o, w
            tau[i] = (thermal if tk is None else tk) * jitter
        self._base, self._gain, self._tau = base, gain, tau
        self._ou_sd, self._noise_sd = ou_sd, noise_sd
        self._ou_tau = np.where(np.array([k == GAS for k in self.kinds]), 25.0, 12.0)
        self._s_phase = np.array([_unit(f"{seed}:own:{s.id}") for s in self.sensors])
        self._period = cycle * np.array(
            [0.9 + 0.4 * _unit(f"{seed}:period:{s.id}") for s in self.sensors]
        )
        self._masks = {k: np.array([x == k for x in self.kinds], bool) for k in _RECIPES}

        # Normal band: inside the range and clear of every warning/alarm limit.
        self.lo = np.zeros(n)
        self.hi = np.zeros(n)
        for i, s in enumerate(self.sensors):
            self.lo[i], self.hi[i] = _normal_band(s)

        # Faults: a path through the warning limit (half-way) to the alarm limit (at the end).
        self._f_start = np.full(n, np.nan)
        self._f_dur = np.full(n, np.nan)
        self._f_ref = np.zeros(n)
        self._f_warn = np.zeros(n)
        self._f_alarm = np.zeros(n)
        index = {s.id: i for i, s in enumerate(self.sensors)}
        self._silences: list[tuple[NDArray[np.bool_], float, float]] = []  # (mask, from, to)
        for f in config.faults:
            if f.kind == "silence":  # a sensor, or every sensor of a fleet unit, goes quiet
                ids = [s.id for s in self.sensors]
                mask = np.array([i == f.sensor or i.startswith(f.sensor + "/") for i in ids])
                if not mask.any():
                    log.warning("simulator %s: silence names unknown %r", config.id, f.sensor)
                    continue
                self._silences.append((mask, f.start, f.start + f.duration))
                continue
            j = index.get(f.sensor)
            if j is None:
                log.warning("simulator %s: fault names unknown sensor %r", config.id, f.sensor)
                continue
            if not math.isnan(self._f_start[j]):
                log.warning("simulator %s: second fault on sensor %r ignored", config.id, f.sensor)
                continue
            ref = 0.5 * (self.lo[j] + self.hi[j])
            warn, alarm = _fault_limits(self.sensors[j], ref, self.lo[j], self.hi[j])
            self._f_start[j], self._f_dur[j] = f.start, f.duration
            self._f_ref[j], self._f_warn[j], self._f_alarm[j] = ref, warn, alarm
        self._faulty = ~np.isnan(self._f_start)

        # State.
        self._t: float | None = None
        self._lag = np.zeros(n)
        self._ou = np.zeros(n)
        self._puff = np.zeros(n)
        self._puff_src = np.zeros(n)

    # -- the model ---------------------------------------------------------------------------

    def load(self, t: float) -> NDArray[np.float64]:
        """Load (0..1) of every component at time ``t``, without the random wobble."""
        p = (t / self.config.cycle + self._c_phase) % 1.0
        shape = np.where(self._c_smooth, 0.5 - 0.5 * np.cos(2 * np.pi * p), _trapezoid(p))
        return self._c_idle + (self._c_peak - self._c_idle) * shape

    def _drive(self, t: float) -> NDArray[np.float64]:
        """What each sensor follows (0..1) before lag and noise."""
        m = self._masks
        load = np.clip(self.load(t) + self._c_wobble, 0.0, 1.0)[self._comp]
        drive = load.copy()
        p = (t / self._period + self._s_phase) % 1.0
        # A pump runs while its sump is high: on for 45% of its cycle, off the rest.
        on = _smoothstep(p / 0.04) - _smoothstep((p - 0.45) / 0.04)
        drive[m[PUMP_PRESSURE]] = on[m[PUMP_PRESSURE]]
        drive[m[FLOW]] = on[m[FLOW]] * (0.7 + 0.3 * load[m[FLOW]])
        # Sump: fills slowly (70% of its period), is pumped down fast.
        q = (t / (1.5 * self._period) + self._s_phase) % 1.0
        saw = np.where(q < 0.7, q / 0.7, 1.0 - (q - 0.7) / 0.3)
        drive[m[SUMP_LEVEL]] = saw[m[SUMP_LEVEL]]
        # Air receiver: drawn down slowly, charged quickly by the compressor.
        r = (t / (0.5 * self._period) + self._s_phase) % 1.0
        rec = np.where(r < 0.7, 1.0 - r / 0.7, (r - 0.7) / 0.3)
        drive[m[RESERVOIR]] = rec[m[RESERVOIR]]
        # Fuel: falls over ten cycles, then the tank is refilled.
        f = (t / (10.0 * self._period) + self._s_phase) % 1.0
        drive[m[FUEL_LEVEL]] = 1.0 - f[m[FUEL_LEVEL]]
        # Brakes are applied when the load (traction) is low.
        drive[m[BRAKE_PRESSURE]] = _smoothstep((0.45 - load[m[BRAKE_PRESSURE]]) / 0.3)
        # Slow environmental drift (humidity, oxygen...).
        slow = 0.5 + 0.4 * np.sin(2 * np.pi * (t / (3.0 * self._period) + self._s_phase))
        drive[m[SLOW]] = slow[m[SLOW]]
        # Gas follows its own puffs, not the load.
        drive[m[GAS]] = 0.0
        return drive

    def step(self, t: float) -> NDArray[np.float64]:
        """Advance to simulated time ``t`` (seconds since the start) and return all values."""
        t = float(t)
        if self._others is not None:
            value = np.empty(self.n)
            value[self._still] = self._others.step(t)
            for trip in self._trips:
                trip.write(t, value)
            self._actuators.write(t, value)
            return value
        if self._t is not None and t < self._t:
            raise ValueError(f"time went backwards: {t} after {self._t}")
        dt = 0.0 if self._t is None else t - self._t
        rng = self._rng
        # Draw the same amount of randomness on every step: determinism by step sequence.
        z_wobble = rng.standard_normal(len(self._c_wobble))
        z_ou = rng.standard_normal(self.n)
        z_noise = rng.standard_normal(self.n)
        u_puff = rng.random(self.n)
        a_puff = rng.random(self.n)

        if self._t is None:
            self._lag = self._drive(t)
            # start some gases part-way through clearing a small puff, so they move at once
            gas = self._masks[GAS]
            self._puff[gas] = 0.3 * a_puff[gas]
        else:
            decay = math.exp(-dt / 8.0)
            self._c_wobble = self._c_wobble * decay + 0.05 * math.sqrt(1 - decay * decay) * z_wobble
            d = np.exp(-dt / self._ou_tau)
            self._ou = self._ou * d + self._ou_sd * np.sqrt(1 - d * d) * z_ou
            # Gas puffs: about one every 40 s per sensor; each rises over ~4 s, clears in ~15 s.
            gas = self._masks[GAS]
            new = gas & (u_puff < dt / 40.0)
            self._puff_src[new] += 0.15 + 0.35 * a_puff[new]
            rise = 1.0 - math.exp(-dt / 4.0)
            moved = self._puff_src * rise
            self._puff_src -= moved
            self._puff = np.minimum(self._puff * math.exp(-dt / 15.0) + moved, _MAX_PUFF)
            drive = self._drive(t)
            self._lag += (drive - self._lag) * (1.0 - np.exp(-dt / self._tau))
        self._t = t

        x = self._base + self._gain * self._lag + self._ou + self._noise_sd * z_noise + self._puff
        x = np.clip(x, 0.0, 1.0)
        value = self.lo + x * (self.hi - self.lo)
        if self._faulty.any():
            value = self._apply_faults(t, value, z_noise)
        for mask, t0, t1 in self._silences:
            if t0 <= t < t1:
                value[mask] = np.nan  # silent: not sent (Simulator and publisher skip NaN)
        self._actuators.write(t, value)  # sensors held by a command (no setpoints here)
        return value

    def apply_command(self, command_id_or_sensor: str, value: float) -> str:
        """Obey a command: set the setpoint whose ``command`` id or read-back sensor is
        ``command_id_or_sensor`` to ``value`` (see :class:`~twinviewer.sources.setpoints.
        Actuators`); a sensor that is no setpoint is held at ``value``. Thread-safe; takes
        effect from the next :meth:`step`. Returns the read-back sensor's id; ValueError for an
        unknown id or a value that is not a finite number."""
        return self._actuators.apply(command_id_or_sensor, value)

    def _apply_faults(
        self, t: float, value: NDArray[np.float64], z: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        i = self._faulty
        u = (t - self._f_start[i]) / self._f_dur[i]
        ref, warn, alarm = self._f_ref[i], self._f_warn[i], self._f_alarm[i]
        path = np.where(
            u <= 0.5,
            ref + (warn - ref) * (u / 0.5),
            np.where(
                u <= 1.0,
                warn + (alarm - warn) * ((u - 0.5) / 0.5),
                alarm + 0.3 * (alarm - warn) * (1.0 - np.exp(-(u - 1.0) / 0.4)),
            ),
        )
        # Blend in over the first 40% so the drift starts from wherever the signal was, and is
        # on its path (and on time) well before it reaches the warning limit.
        w = _smoothstep(u / 0.4)
        jitter = 0.004 * np.abs(alarm - ref) * z[i]
        out = value.copy()
        out[i] = np.where(u > 0, (1.0 - w) * value[i] + w * (path + jitter), value[i])
        return out

    def run(self, times: NDArray[np.float64]) -> NDArray[np.float64]:
        """Step through ``times``; returns an array (len(times), n_sensors)."""
        out = np.empty((len(times), self.n))
        for k, t in enumerate(times):
            out[k] = self.step(float(t))
        return out

    @property
    def plain(self) -> tuple[SignalModel, list[Sensor]]:
        """The model of the ordinary sensors (no trip, no setpoint read-back) and those sensors,
        in its order: what the demo solvers read the load cycles and thermal constants of."""
        if self._others is None:
            return self, self.sensors
        return self._others, [self.sensors[i] for i in self._still]


class TripPath:
    """A :class:`~twinviewer.core.project_motion.Trip` as the simulator runs it: where along
    its path the part is at time ``t``, written into the values of its sensors."""

    ACCEL = 0.15  # fraction of a run spent accelerating (and as much braking)

    def __init__(self, trip: Trip, index: dict[str, int], source: str) -> None:
        self.trip = trip
        missing = [s for s in trip.all_sensors() if s not in index]
        if missing:
            log.warning("simulator %s: trip names unknown sensor %r", source, missing[0])
        self.columns = [index.get(s, -1) for s in trip.sensors]
        self.heading = index.get(trip.heading, -1) if trip.heading else -1
        self.grade = index.get(trip.grade, -1) if trip.grade else -1
        self.path = np.asarray(trip.path, np.float64)
        steps = np.diff(self.path, axis=0)
        self.lengths = np.linalg.norm(steps, axis=1)
        self.along = np.concatenate([[0.0], np.cumsum(self.lengths)])
        flat = np.linalg.norm(steps[:, :2], axis=1) if steps.shape[1] >= 2 else self.lengths
        self.headings = (
            np.degrees(np.arctan2(steps[:, 1], steps[:, 0]))
            if steps.shape[1] >= 2
            else np.zeros(len(steps))
        )
        rise = steps[:, 2] if steps.shape[1] >= 3 else np.zeros(len(steps))
        self.grades = np.degrees(np.arctan2(rise, flat))
        self.period = 2.0 * (trip.travel + trip.dwell)

    def fraction(self, t: float) -> float:
        """How far along the path (0 start .. 1 far end) the part is at time ``t``."""
        trip = self.trip
        c = (t / self.period + trip.phase) % 1.0 * self.period
        half = trip.travel + trip.dwell
        back = c >= half
        u = (c - half if back else c) / trip.travel
        if u >= 1.0:
            s = 1.0  # dwelling at the end it reached
        else:
            a = self.ACCEL
            v = 1.0 / (1.0 - a)  # top speed, so that the run covers the path in `travel`
            if u < a:
                s = 0.5 * v * u * u / a
            elif u > 1.0 - a:
                s = 1.0 - 0.5 * v * (1.0 - u) ** 2 / a
            else:
                s = v * (u - 0.5 * a)
        return 1.0 - s if back else s

    def write(self, t: float, value: NDArray[np.float64]) -> None:
        total = float(self.along[-1])
        d = self.fraction(t) * total
        k = int(np.clip(np.searchsorted(self.along, d, side="right") - 1, 0, len(self.lengths) - 1))
        w = (d - self.along[k]) / self.lengths[k] if self.lengths[k] > 0 else 0.0
        point = self.path[k] + w * (self.path[k + 1] - self.path[k])
        for col, x in zip(self.columns, point, strict=True):
            if col >= 0:
                value[col] = x
        if self.heading >= 0:
            value[self.heading] = self.headings[k]
        if self.grade >= 0:
            value[self.grade] = self.grades[k]


def _normal_band(s: Sensor) -> tuple[float, float]:
    """The part of the range a healthy sensor moves in: below warnings, above low limits."""
    lo, hi = s.range
    for band in (s.warning, s.alarm):
        if band is not None:
            if band.high is not None:
                hi = min(hi, band.high)
            if band.low is not None:
                lo = max(lo, band.low)
    if hi <= lo:  # the limits leave nothing of the range; fall back to the range itself
        lo, hi = s.range
    pad = _MARGIN * (hi - lo)
    return lo + pad, hi - pad


def _fault_limits(s: Sensor, ref: float, lo: float, hi: float) -> tuple[float, float]:
    """Warning and alarm levels a fault passes through, on the side the sensor fails towards."""
    w, a = s.warning, s.alarm
    wh, ah = (w.high if w else None), (a.high if a else None)
    wl, al = (w.low if w else None), (a.low if a else None)
    rising = wh is not None or ah is not None or (wl is None and al is None)
    if rising:
        warn, alarm, edge, sign = wh, ah, max(s.range[1], hi), 1.0
    else:
        warn, alarm, edge, sign = wl, al, min(s.range[0], lo), -1.0
    if warn is None and alarm is None:
        warn = hi + 0.04 * (hi - lo) if rising else lo - 0.04 * (hi - lo)
        alarm = edge if sign * (edge - warn) > 0 else warn + sign * 0.25 * (hi - lo)
    elif warn is None:
        assert alarm is not None
        warn = ref + 0.5 * (alarm - ref)
    elif alarm is None:
        alarm = warn + 0.5 * (warn - ref)
    return float(warn), float(alarm)


def _batch(values: NDArray[np.float64], stamps: NDArray[np.float64]) -> SampleBatch:
    m, n = values.shape
    batch = SampleBatch(
        np.tile(np.arange(n, dtype=np.int32), m),
        np.repeat(np.asarray(stamps, np.float64), n),
        np.ascontiguousarray(values, np.float64).ravel(),
    )
    sent = ~np.isnan(batch.value)  # a silenced sensor sends nothing
    if sent.all():
        return batch
    return SampleBatch(batch.sensor[sent], batch.time[sent], batch.value[sent])


def simulate(project: Project, config: SimulatorSource, until: float) -> SampleBatch:
    """All samples from t=0 to ``until`` simulated seconds at ``config.rate`` per sensor.

    Times in the batch are simulated seconds since the start of the feed.
    """
    if until < 0:
        raise ValueError(f"until must not be negative, got {until}")
    model = SignalModel(project.sensors, config)
    steps = int(math.floor(until * config.rate + 1e-9)) + 1
    times = np.arange(steps, dtype=np.float64) / config.rate
    return _batch(model.run(times), times)


class Simulator(Source):
    """The simulator as a live source: emits the samples due every ``tick`` seconds of wall time.

    Simulated time runs at ``config.speed`` times wall time; each sample is stamped with the
    wall-clock epoch time at which it falls due (``start + t_sim / speed``), so stamps increase.
    """

    #: most samples per sensor computed in one tick; a feed that falls further behind skips ahead
    max_steps_per_tick = 2000

    def __init__(
        self, sensors: Sequence[Sensor], config: SimulatorSource, tick: float = 0.1
    ) -> None:
        super().__init__(config.id)
        self.sensors = list(sensors)
        self.config = config
        self.tick = tick
        self.sim_time = 0.0  # simulated seconds of the last sample emitted
        self._lock = threading.Lock()
        self._commanded: dict[str, float] = {}  # every command obeyed, in order, for a restart
        self._model: SignalModel | None = None
        # an unknown command id fails here, before the feed runs
        self._check = Actuators(self.sensors, config.setpoints, config.id)

    def apply_command(self, command_id_or_sensor: str, value: float) -> str:
        """Obey a command sent to the simulated plant (what the command engine calls when the
        running source is this simulator): the setpoint whose ``command`` id or read-back sensor
        is ``command_id_or_sensor`` moves to ``value`` at its ramp rate, and its read-back sensor
        and the sensors it drives follow in the samples emitted from then on (see
        :mod:`twinviewer.core.project_setpoints`). A sensor that is no setpoint is held at
        ``value``. Thread-safe. Returns the read-back sensor's id; ValueError for an unknown id
        or a value that is not a finite number."""
        with self._lock:
            sensor = self._check.apply(command_id_or_sensor, value)
            self._commanded[command_id_or_sensor] = float(value)
            if self._model is not None:
                self._model.apply_command(command_id_or_sensor, value)
        return sensor

    def run(self) -> None:
        cfg = self.config
        model = SignalModel(self.sensors, cfg)
        with self._lock:
            for key, value in self._commanded.items():
                model.apply_command(key, value)
            self._model = model
        start_wall = time.time()
        start = time.monotonic()
        sent = 0  # index of the next sample (sample k is at simulated time k / rate)
        self.status.state = SourceState.LIVE
        self.status.message = f"simulating {model.n} sensors at {cfg.rate:g}/s" + (
            f", x{cfg.speed:g}" if cfg.speed != 1 else ""
        )
        while not self.stopping:
            due = int(math.floor((time.monotonic() - start) * cfg.speed * cfg.rate + 1e-9)) + 1
            if due - sent > self.max_steps_per_tick:
                sent = due - self.max_steps_per_tick
            if due > sent:
                t_sim = np.arange(sent, due, dtype=np.float64) / cfg.rate
                values = model.run(t_sim)
                self.emit(_batch(values, start_wall + t_sim / cfg.speed))
                self.sim_time = float(t_sim[-1])
                sent = due
            self._stop.wait(self.tick)
