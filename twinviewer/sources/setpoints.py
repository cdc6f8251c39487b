"""The simulator's actuators: the setpoints commands move, and the sensors that follow them.

:class:`Actuators` runs the simulator config's ``setpoints:`` (see
:mod:`twinviewer.core.project_setpoints`) beside the signal model. :meth:`Actuators.apply` is
what a command does (thread-safe: ``twinviewer simulate`` calls it from its MQTT or OPC UA
thread); :meth:`Actuators.write` is called by the model on every step, after the other sensors
have their values, and

* writes each setpoint's read-back sensor: the actuator's position, moving towards the
  commanded value at its ``ramp`` rate;
* moves each driven sensor: its rise above ``base`` scaled (or capped) by a first-order lag of
  ``(position / nominal) ** power``. A lag that is exactly 1 (no command yet) leaves the value
  untouched, bit for bit;
* holds a sensor that is no declared setpoint at the value last commanded to it (a command
  whose read-back the simulator has no actuator for still reads back; nothing follows it).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from twinviewer.core.project import Sensor
from twinviewer.core.project_setpoints import Setpoint

log = logging.getLogger(__name__)

__all__ = ["Actuators"]


@dataclass
class _Follower:
    column: int
    mode: str
    power: float
    lag: float
    base: float
    full: float
    level: float = 1.0  # the lagged (position / nominal) ** power


@dataclass
class _Actuator:
    setpoint: Setpoint
    column: int
    lo: float
    hi: float
    nominal: float
    position: float
    target: float
    followers: list[_Follower] = field(default_factory=list)


class Actuators:
    """The setpoints of one simulator over ``sensors`` (the model's columns)."""

    def __init__(self, sensors: Sequence[Sensor], setpoints: Sequence[Setpoint], source: str):
        self.source = source
        self.sensors = list(sensors)
        index = {s.id: i for i, s in enumerate(self.sensors)}
        self._index = index
        self._lock = threading.Lock()
        self._t: float | None = None
        self._held: dict[int, float] = {}  # column -> value commanded to a plain sensor
        self._actuators: list[_Actuator] = []
        self._by_key: dict[str, _Actuator] = {}
        for sp in setpoints:
            col = index.get(sp.sensor)
            if col is None:
                log.warning("simulator %s: setpoint names unknown sensor %r", source, sp.sensor)
                continue
            lo, hi = (float(x) for x in self.sensors[col].range)
            initial = min(max(float(sp.initial), lo), hi)
            nominal = float(sp.initial if sp.nominal is None else sp.nominal)
            act = _Actuator(sp, col, lo, hi, nominal, initial, initial)
            for d in sp.drives:
                j = index.get(d.sensor)
                if j is None:
                    log.warning("simulator %s: setpoint %r drives unknown sensor %r",
                                source, sp.sensor, d.sensor)  # fmt: skip
                    continue
                s = self.sensors[j]
                base = float(s.range[0] if d.base is None else d.base)
                full = float(s.range[1] if d.full is None else d.full)
                f = _Follower(j, d.mode, float(d.power), float(d.lag), base, full)
                f.level = self._goal(act, f)
                act.followers.append(f)
            self._actuators.append(act)
            self._by_key[sp.sensor] = act
            self._by_key.setdefault(sp.command or sp.sensor, act)

    @property
    def columns(self) -> set[int]:
        """The read-back columns: no signals of their own (the model leaves them out)."""
        return {a.column for a in self._actuators}

    def __bool__(self) -> bool:
        return bool(self._actuators)

    @staticmethod
    def _goal(act: _Actuator, f: _Follower) -> float:
        if act.nominal == 0:
            return 1.0
        return float(max(act.position / act.nominal, 0.0) ** f.power)

    def apply(self, key: str, value: float) -> str:
        """Command ``value`` to the setpoint whose command id or read-back sensor is ``key``
        (or hold the sensor ``key`` at it); returns the sensor that reads it back. The value is
        clamped to the sensor's range, as an actuator stops at its end. ValueError for an
        unknown ``key`` or a value that is not a finite number."""
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"command {key!r}: value {value!r} is not a number") from None
        if not math.isfinite(v):
            raise ValueError(f"command {key!r}: value {v} is not a finite number")
        with self._lock:
            act = self._by_key.get(key)
            if act is not None:
                clamped = min(max(v, act.lo), act.hi)
                if clamped != v:
                    log.warning("simulator %s: %s = %g clamped to its range [%g, %g]",
                                self.source, key, v, act.lo, act.hi)  # fmt: skip
                act.target = clamped
                log.info("simulator %s: %s set to %g", self.source, act.setpoint.sensor, clamped)
                return act.setpoint.sensor
            col = self._index.get(key)
            if col is None:
                known = sorted(self._by_key) or ["(none)"]
                raise ValueError(
                    f"simulator {self.source}: no setpoint or sensor {key!r} to command "
                    f"(setpoints: {', '.join(known)})"
                )
            lo, hi = self.sensors[col].range
            self._held[col] = min(max(v, float(lo)), float(hi))
            log.info("simulator %s: sensor %s held at %g", self.source, key, self._held[col])
            return key

    def target(self, key: str) -> float | None:
        """The value last commanded to ``key`` (its initial value before any command)."""
        with self._lock:
            act = self._by_key.get(key)
            if act is not None:
                return act.target
            col = self._index.get(key)
            return None if col is None else self._held.get(col)

    def write(self, t: float, value: NDArray[np.float64]) -> None:
        """Step the actuators to simulated time ``t`` and write their effect into ``value``."""
        dt = 0.0 if self._t is None else max(0.0, t - self._t)
        self._t = t
        with self._lock:
            held = dict(self._held)
            for act in self._actuators:
                ramp = act.setpoint.ramp
                gap = act.target - act.position
                if ramp is None or abs(gap) <= ramp * dt:
                    act.position = act.target
                else:
                    act.position += math.copysign(ramp * dt, gap)
        for act in self._actuators:
            value[act.column] = act.position
            for f in act.followers:
                goal = self._goal(act, f)
                if f.level != goal:
                    f.level = goal + (f.level - goal) * math.exp(-dt / f.lag)
                    if abs(f.level - goal) < 1e-9:  # settled: exactly, so unchanged bit for bit
                        f.level = goal
                self._follow(f, value)
        for col, v in held.items():
            value[col] = v

    @staticmethod
    def _follow(f: _Follower, value: NDArray[np.float64]) -> None:
        v = value[f.column]
        if math.isnan(v):
            return
        if f.mode == "scale":
            if f.level != 1.0:
                value[f.column] = f.base + (v - f.base) * f.level
        elif f.level < 1.0:  # a limit at or above nominal limits nothing
            cap = f.base + f.level * (f.full - f.base)
            if v > cap:
                value[f.column] = cap
