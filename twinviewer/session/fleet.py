"""The fleet of an open twin: its units, the selected one, and every unit's health.

A project with ``fleet:`` (:mod:`twinviewer.core.project_fleet`) opens as one
:class:`~twinviewer.session.twin.TwinSession` whose sensors are every unit's
(:func:`twinviewer.core.fleet.expand_sensors`; unit ``u``'s sensor from template ``k`` is index
``u*T + k``). ``session.fleet`` is then a :class:`FleetState`:

* ``units`` the unit ids in order; ``selected`` the unit the 3D view, the component tree, the
  inspector, the charts and the timeline show (only its sensors colour the model: the session's
  ``binding`` is that unit's); ``select(unit)`` changes it;
* ``health()`` the NE 107 roll-up of every unit (:class:`~twinviewer.core.fleet.FleetHealth`),
  recomputed with the colours on every :meth:`TwinSession.update`; ``rows()`` the same as one
  :class:`UnitRow` per unit;
* ``unit_sensors(unit)`` the sensor indices of a unit; ``unit_of(sensor)`` the unit of one;
* ``index`` the thread-safe :class:`~twinviewer.core.fleet.FleetIndex` the sources resolve
  ``<unit>/<sensor>`` ids with. With ``discover: true`` a source that meets a new unit adds it
  there (on its thread); :meth:`TwinSession.drain` then calls :meth:`FleetState.grow` on the
  thread that owns the state, which appends the unit's sensors to every per-sensor array
  before the samples that need them are taken in.

Alarms, history and prediction cover every unit: they see all the sensors.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from twinviewer.core.binding import Binding, bind
from twinviewer.core.colour import STATUS_COLOURS, SensorRules, Status, normalise
from twinviewer.core.fleet import (
    HEALTH_LABELS,
    FleetHealth,
    FleetIndex,
    Health,
    expand_sensors,
    ne107,
    roll_up,
    simulation_sensors,
    time_to_alarm,
    unit_binding,
)
from twinviewer.core.model import ModelData
from twinviewer.core.project import Project, Sensor
from twinviewer.core.project_fleet import Fleet
from twinviewer.core.samples import LatestState

if TYPE_CHECKING:
    from twinviewer.session.twin import TwinSession
    from twinviewer.sources.base import Source

log = logging.getLogger(__name__)

__all__ = ["FleetState", "UnitRow"]

#: a jump of the shown time larger than this (a scrub) starts alarm durations afresh
_JUMP = 60.0


@dataclass(frozen=True)
class UnitRow:
    """One unit's line of the fleet list."""

    unit: str
    health: Health
    alarms: int
    warnings: int
    worst: int  # sensor index (-1: none)
    worst_value: float  # NaN: no data
    age: float  # seconds since the unit's newest sample (NaN: none yet)
    time_to_alarm: float  # seconds (NaN: no forecast)

    @property
    def label(self) -> str:
        return HEALTH_LABELS[self.health]


class FleetState:
    """The units of a fleet twin, the selected one, and their health (see the module)."""

    def __init__(self, project: Project, model: ModelData) -> None:
        fleet = project.fleet
        assert fleet is not None
        self.config: Fleet = fleet
        self.templates: list[Sensor] = list(project.sensors)
        self.template_project = project
        self.index = FleetIndex([s.id for s in self.templates], fleet.units, fleet.discover)
        self.index.take_new()  # the listed units are not news
        self.template_binding: Binding = bind(project, model)
        units = self.index.units
        self.project = project.model_copy(update={"sensors": expand_sensors(self.templates, units)})
        self.selected: str | None = units[0] if units else None
        #: called with the unit after :meth:`select`, and with the new units after :meth:`grow`
        self.selected_listeners: list[Callable[[str | None], None]] = []
        self.grown_listeners: list[Callable[[list[str]], None]] = []
        self.version = 0  # bumped when units are added
        T = len(self.templates)
        empty = np.zeros(0)
        self._health = roll_up(T, np.zeros(0, np.int8), np.zeros(0, np.int8), empty, empty)
        self._value = empty
        self._now = math.nan
        self._alarm_since = np.full(T * len(units), np.nan)
        self._last_now = math.nan
        self._session: TwinSession | None = None

    def attach(self, session: TwinSession) -> None:
        """The session this fleet belongs to (its binding, markers and moving parts follow
        :meth:`select`)."""
        self._session = session
        self.apply_markers(session)

    def pose_index(self) -> dict[str, int]:
        """Where each template sensor of the shown unit is in the session's sensors: what the
        project's ``motion:`` (written with template ids) reads for that unit's moving parts."""
        u = self.index.position(self.selected) if self.selected is not None else -1
        if u < 0:
            return {}
        T = self.n_templates
        return {s.id: u * T + k for k, s in enumerate(self.templates)}

    # -- units ---------------------------------------------------------------------------------
    @property
    def units(self) -> list[str]:
        return self.index.units

    @property
    def n_templates(self) -> int:
        return len(self.templates)

    @property
    def label(self) -> str:
        """What a unit is called (``fleet.label``): Locomotive, Truck..."""
        return self.config.label

    def position(self, unit: str) -> int:
        return self.index.position(unit)

    def unit_sensors(self, unit: str) -> NDArray[np.int64]:
        """The sensor indices of ``unit`` (empty for an unknown unit)."""
        u = self.index.position(unit)
        if u < 0:
            return np.zeros(0, np.int64)
        T = self.n_templates
        return np.arange(u * T, (u + 1) * T, dtype=np.int64)

    def unit_of(self, sensor: int) -> str:
        return self.units[self.index.unit_of(sensor)]

    def template_of(self, sensor: int) -> Sensor:
        return self.templates[sensor % max(self.n_templates, 1)]

    def binding(self) -> Binding:
        """The binding with the selected unit's sensors colouring the model."""
        u = self.index.position(self.selected) if self.selected is not None else -1
        n = len(self.project.sensors) // max(self.n_templates, 1)
        if u < 0:  # no unit yet: nothing colours the model
            c = self.template_binding.colouring
            empty = np.zeros(0, np.int32)
            b = unit_binding(self.template_binding, 0, n)
            b.colouring = type(c)(c.n_components, empty, empty)
            return b
        return unit_binding(self.template_binding, u, n)

    def select(self, unit: str | None) -> None:
        """Show ``unit`` (a known unit id) in the 3D view and the panels."""
        if unit is not None and self.index.position(unit) < 0:
            raise ValueError(f"no unit {unit!r} in the fleet (it has: {', '.join(self.units)})")
        if unit == self.selected:
            return
        self.selected = unit
        if self._session is not None:
            from twinviewer.session.motion import TwinPose

            self._session.binding = self.binding()
            self.apply_markers(self._session)
            s = self._session
            s.pose = TwinPose(self.template_project, s.model, self.pose_index())
            s.pose.update(s.shown_value)
        for f in list(self.selected_listeners):
            f(unit)

    # -- growing (discovered units) --------------------------------------------------------------
    def grow(self, session: TwinSession) -> list[str]:
        """Take in the units the sources discovered since the last call: every per-sensor array
        of ``session`` grows by their sensors; the history learns their ids. On the thread
        that owns the session's state, between frames. Returns the new units."""
        new = self.index.take_new()
        if not new:
            return []
        units = self.index.units
        n_old = len(session.sensors)
        sensors = list(session.sensors) + expand_sensors(
            self.templates, units[n_old // max(self.n_templates, 1) :]
        )
        n = len(sensors)
        self.project = session.project.model_copy(update={"sensors": sensors})
        session.project = self.project
        session.sensors = sensors
        session.sensor_index = {s.id: i for i, s in enumerate(sensors)}
        session.rules = SensorRules.from_sensors(sensors)
        state = LatestState(n)
        old = session.state
        state.value[:n_old], state.time[:n_old] = old.value, old.time
        state.samples, state.version = old.samples, old.version + 1
        session.state = state
        session.quantity_of = np.array([s.quantity for s in sensors], dtype=object)
        grow_status = np.full(n - n_old, Status.NO_DATA, np.int8)
        session.sensor_state = np.concatenate([session.sensor_state, grow_status])
        session.sensor_rgba = np.concatenate(
            [session.sensor_rgba, np.tile(STATUS_COLOURS[Status.NO_DATA], (n - n_old, 1))]
        )
        session.shown_value, session.shown_time = state.value, state.time
        self._alarm_since = np.concatenate([self._alarm_since, np.full(n - n_old, np.nan)])
        if self.selected is None:
            self.selected = units[0]
        session.binding = self.binding()
        self.apply_markers(session)
        store = session.history
        if store is not None:
            extend = getattr(store, "extend_sensors", None)
            if extend is not None:
                extend([s.id for s in sensors])
            else:
                why = "cannot learn new sensors; they are recorded once the twin is opened again"
                log.warning("history: %s %s (units %s)", type(store).__name__, why, new)
        self.version += 1
        log.info("fleet: %d unit(s) discovered: %s", len(new), ", ".join(new))
        for f in list(self.grown_listeners):
            f(new)
        return new

    def apply_markers(self, session: TwinSession) -> None:
        """The sensor markers (sensors with a ``position``) are the selected unit's."""
        u = self.index.position(self.selected) if self.selected is not None else -1
        T = self.n_templates
        k = [i for i, s in enumerate(self.templates) if s.position is not None]
        session._marker_sensors = np.asarray([u * T + i for i in k] if u >= 0 else [], np.int32)
        pos = [self.templates[i].position for i in k] if u >= 0 else []
        session._marker_positions = np.array(pos, float).reshape(-1, 3)

    # -- health --------------------------------------------------------------------------------
    def update(self, session: TwinSession, now: float) -> None:
        """Roll the session's sensor states (just computed for ``now``) up per unit."""
        status = session.sensor_state
        n = len(status)
        if len(self._alarm_since) != n:
            self._alarm_since = np.resize(self._alarm_since, n)
            self._alarm_since[:] = np.nan
        last = self._last_now
        if not math.isnan(last) and (now < last or now - last > _JUMP):
            self._alarm_since[:] = np.nan  # a scrub: alarm durations start again
        self._last_now = now
        alarm = status == Status.ALARM
        self._alarm_since[~alarm] = np.nan
        self._alarm_since[alarm & np.isnan(self._alarm_since)] = now
        rules = session.rules
        tta = None
        failed = None
        pred = session.prediction
        latest = pred.latest if pred is not None else None
        if latest is not None and len(latest.trend.level) == n:
            tr = latest.trend
            tta = time_to_alarm(tr.level, tr.slope, rules.alarm_low, rules.alarm_high)
            failed = tta == 0.0
        health = ne107(status, now - self._alarm_since, self.config.failure_after, failed)
        frac = normalise(session.shown_value, rules.lo, rules.hi)
        self._health = roll_up(self.n_templates, health, status, frac, session.shown_time, tta)
        self._value = session.shown_value
        self._now = now

    def health(self) -> FleetHealth:
        """Every unit's roll-up at the last :meth:`TwinSession.update` (arrays in unit order;
        units discovered since have none yet)."""
        return self._health

    def rows(self) -> list[UnitRow]:
        """:meth:`health` as one row per unit, in unit order."""
        h = self._health
        units = self.units[: h.n]
        value = self._value
        out = []
        for u, unit in enumerate(units):
            w = int(h.worst[u])
            out.append(
                UnitRow(
                    unit,
                    Health(int(h.health[u])),
                    int(h.alarms[u]),
                    int(h.warnings[u]),
                    w,
                    float(value[w]) if 0 <= w < len(value) else math.nan,
                    float(self._now - h.last_time[u]),
                    float(h.time_to_alarm[u]),
                )
            )
        return out

    def unit_colours(self, session: TwinSession, unit: str) -> NDArray[np.uint8]:
        """The component colours of ``unit`` at the last update (as if it were selected), for
        a second view beside the selected unit's."""
        from twinviewer.core.colour import component_colours, sensor_rank

        u = self.index.position(unit)
        n = len(session.sensors) // max(self.n_templates, 1)
        binding = unit_binding(self.template_binding, max(u, 0), n)
        frac = normalise(session.shown_value, session.rules.lo, session.rules.hi)
        rank = sensor_rank(session.sensor_state, frac)
        out, _ = component_colours(
            binding.colouring, session.sensor_rgba, rank, session.base_colours
        )
        return out

    # -- sources -------------------------------------------------------------------------------
    def adapt_sources(self, sources: list[Source]) -> list[Source]:
        """Make the project's sources (built for the listed units' sensors) fleet-aware: MQTT
        feeds resolve ``{unit}`` topics and Sparkplug devices through :attr:`index` (and
        discover units through it); the simulator runs every listed unit, each on its own
        load cycle."""
        for s in sources:
            if type(s).__name__ == "MqttFeed":
                s.index = self.index  # type: ignore[attr-defined]
            elif type(s).__name__ == "Simulator":
                s.sensors = simulation_sensors(list(self.project.sensors))  # type: ignore[attr-defined]
        return sources
