"""A fleet: many units of one asset type, their sensors expanded from templates, and the
health of each unit rolled up into the NAMUR NE 107 states. Qt-free, vectorised.

Sensor layout
-------------
With ``T`` templates (the project's ``sensors:``) unit number ``u`` owns the sensor indices
``u*T .. u*T+T-1``, in template order: the sensor of unit ``u`` from template ``k`` is
``u*T + k``, whatever the number of units. A unit discovered while running is appended, so the
indices already handed out never change and every per-sensor array only grows at its end.

NE 107 roll-up
--------------
Each sensor's status (:class:`~twinviewer.core.colour.Status`) maps to an NE 107 state:

=====================  ==========================================================
sensor status          NE 107 state
=====================  ==========================================================
normal                 normal
warning                maintenance required (still in its limits, but heading out)
stale, no data         check function (what is shown cannot be trusted now)
alarm                  out of specification
alarm for longer than  failure (``fleet.failure_after`` seconds, default 10 min), or
``failure_after``      the prediction says the sensor is already past its alarm limit
=====================  ==========================================================

A component's state is its worst sensor's, a unit's its worst component's ("the worst
component wins"), which is its worst sensor's. NE 107 leaves the priority of its four signals to
the user; a fleet list ranks them by how soon a unit needs someone: failure > out of
specification > check function > maintenance required > normal (an alarm that is measured
outranks data that is late).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray

from twinviewer.core.binding import Binding
from twinviewer.core.colour import ComponentBinding, Status
from twinviewer.core.project import Project, Sensor
from twinviewer.core.project_fleet import UNIT_ID, split_sensor_id, unit_sensor_id

__all__ = [
    "HEALTH_LABELS",
    "MAX_UNITS",
    "FleetHealth",
    "FleetIndex",
    "Health",
    "expand_project",
    "expand_sensors",
    "ne107",
    "roll_up",
    "simulation_sensors",
    "tile_binding",
    "unit_binding",
]

MAX_UNITS = 20_000  # discovery stops here: a flood of made-up unit ids must not eat the memory


class Health(IntEnum):
    """NAMUR NE 107 states, ordered by how urgently a unit needs attention (worst last)."""

    NORMAL = 0
    MAINTENANCE = 1  # maintenance required
    CHECK = 2  # check function
    OUT_OF_SPEC = 3  # out of specification
    FAILURE = 4


#: The colour of each state, indexed by :class:`Health` (RGBA uint8): the Okabe-Ito palette,
#: told apart with any colour vision; the Fleet dock and the 3D fleet overview both use it.
HEALTH_RGBA = np.array(
    [
        [0, 158, 115, 255],  # normal: bluish green
        [0, 114, 178, 255],  # maintenance required: blue
        [230, 159, 0, 255],  # check function: orange
        [240, 228, 66, 255],  # out of specification: yellow
        [213, 94, 0, 255],  # failure: vermillion
    ],
    np.uint8,
)
NO_DATA_RGBA = np.array([128, 128, 128, 255], np.uint8)


HEALTH_LABELS = {
    Health.NORMAL: "Normal",
    Health.MAINTENANCE: "Maintenance required",
    Health.CHECK: "Check function",
    Health.OUT_OF_SPEC: "Out of specification",
    Health.FAILURE: "Failure",
}

# sensor Status -> Health (UNBOUND never is a sensor's status; it counts as normal)
_FROM_STATUS = np.zeros(len(Status), np.int8)
_FROM_STATUS[Status.NO_DATA] = Health.CHECK
_FROM_STATUS[Status.NORMAL] = Health.NORMAL
_FROM_STATUS[Status.STALE] = Health.CHECK
_FROM_STATUS[Status.WARNING] = Health.MAINTENANCE
_FROM_STATUS[Status.ALARM] = Health.OUT_OF_SPEC


# -- expansion ---------------------------------------------------------------------------------
def expand_sensors(templates: Sequence[Sensor], units: Sequence[str]) -> list[Sensor]:
    """Every unit's sensors, unit by unit in template order (see the module's layout): id
    ``<unit>/<template id>``, name ``<unit> <template name>``, the same component, limits and
    colours as the template."""
    out = []
    for u in units:
        for t in templates:
            out.append(
                t.model_copy(
                    update={"id": unit_sensor_id(u, t.id), "name": f"{u} {t.name or t.id}"}
                )
            )
    return out


def expand_project(project: Project, units: Sequence[str] | None = None) -> Project:
    """The project with its templates expanded for ``units`` (default: the listed ones); a
    project without ``fleet:`` as it is. The ``fleet`` block is kept."""
    if project.fleet is None:
        return project
    units = project.fleet.units if units is None else units
    return project.model_copy(update={"sensors": expand_sensors(project.sensors, units)})


def tile_binding(template: Binding, n_units: int) -> Binding:
    """The binding of ``n_units`` units from the templates' binding: each unit's sensors colour
    the same components as their templates (one model serves every unit)."""
    T = len(template.sensor_nodes)
    ps, pc = template.colouring.pair_sensor, template.colouring.pair_component
    offsets = np.repeat(np.arange(n_units, dtype=np.int32) * T, len(ps))
    return Binding(
        component_nodes=template.component_nodes,
        sensor_nodes=template.sensor_nodes * n_units,
        colouring=ComponentBinding(
            template.colouring.n_components,
            np.tile(ps, n_units) + offsets,
            np.tile(pc, n_units),
        ),
        unmatched_components=template.unmatched_components,
        unbound_sensors=template.unbound_sensors,  # template ids: the same for every unit
        unbound_parts=template.unbound_parts,
    )


def unit_binding(template: Binding, unit: int, n_units: int) -> Binding:
    """The binding of the fleet as seen with unit number ``unit`` selected: ``sensor_nodes``
    for every sensor of the fleet, but only that unit's sensors colour components (so that the
    3D view, the tree and the inspector show that unit)."""
    T = len(template.sensor_nodes)
    c = template.colouring
    return Binding(
        component_nodes=template.component_nodes,
        sensor_nodes=template.sensor_nodes * n_units,
        colouring=ComponentBinding(c.n_components, c.pair_sensor + unit * T, c.pair_component),
        unmatched_components=template.unmatched_components,
        unbound_sensors=template.unbound_sensors,
        unbound_parts=template.unbound_parts,
    )


def simulation_sensors(sensors: list[Sensor]) -> list[Sensor]:
    """The fleet's sensors as the simulator should see them: each unit's components are its
    own (``<unit>/<component>``), so that every unit runs its own load cycle with its own phase
    and noise instead of all units moving in step."""
    out = []
    for s in sensors:
        unit = split_sensor_id(s.id)[0] or ""
        out.append(s.model_copy(update={"component": f"{unit}/{s.component or s.id}"}))
    return out


# -- the index: sensor ids to indices, shared by the sources -----------------------------------
class FleetIndex:
    """Sensor ids of a fleet to indices; thread-safe, and growing when units are discovered.

    Sources call :meth:`get` (as they would a ``dict``) or :meth:`index` from their threads. An
    id of a unit not yet known adds the unit when ``discover`` is on (and its template exists):
    the unit is appended (its sensor indices follow the last unit's) and reported by
    :meth:`take_new` to the thread that owns the state, which grows its arrays before it takes
    the samples in (a source registers the unit before it emits the batch that needs it).
    """

    def __init__(self, templates: Sequence[str], units: Sequence[str], discover: bool) -> None:
        self.template_ids = list(templates)
        self._tpos = {t: k for k, t in enumerate(self.template_ids)}
        self._units: list[str] = list(units)
        self._upos = {u: i for i, u in enumerate(self._units)}
        self.discover = discover
        self.refused = 0  # unit ids refused (not a valid id, or past MAX_UNITS)
        self._lock = threading.Lock()
        self._new: list[str] = []

    @property
    def n_templates(self) -> int:
        return len(self.template_ids)

    @property
    def units(self) -> list[str]:
        with self._lock:
            return list(self._units)

    @property
    def n_units(self) -> int:
        return len(self._units)

    def position(self, unit: str) -> int:
        """The unit's number (-1: not known)."""
        return self._upos.get(unit, -1)

    def add(self, unit: str) -> int:
        """The unit's number, adding the unit if it is new (-1: not a valid unit id)."""
        u = self._upos.get(unit)
        if u is not None:
            return u
        if not isinstance(unit, str) or not UNIT_ID.fullmatch(unit):
            self.refused += 1
            return -1
        with self._lock:
            u = self._upos.get(unit)
            if u is None:
                if len(self._units) >= MAX_UNITS:
                    self.refused += 1
                    return -1
                u = len(self._units)
                self._units.append(unit)
                self._upos[unit] = u
                self._new.append(unit)
        return u

    def index(self, unit: str | None, template: str) -> int:
        """The index of ``unit``'s sensor from ``template`` (-1: unknown template, or an
        unknown unit while not discovering)."""
        k = self._tpos.get(template)
        if k is None or unit is None:
            return -1
        u = self._upos.get(unit)
        if u is None:
            if not self.discover:
                return -1
            u = self.add(unit)
            if u < 0:
                return -1
        return u * len(self.template_ids) + k

    def get(self, sensor_id: Any, default: int = -1) -> int:
        """Like ``dict.get`` on ``{"<unit>/<template>": index}`` (discovering as it goes)."""
        if not isinstance(sensor_id, str):
            return default
        unit, template = split_sensor_id(sensor_id)
        i = self.index(unit, template)
        return default if i < 0 else i

    def __contains__(self, sensor_id: object) -> bool:
        return isinstance(sensor_id, str) and self.get(sensor_id) >= 0

    def take_new(self) -> list[str]:
        """The units added since the last call, in the order they were added."""
        with self._lock:
            new, self._new = self._new, []
        return new

    def unit_of(self, sensor: int) -> int:
        """The unit number of a sensor index."""
        return sensor // max(len(self.template_ids), 1)


# -- health ------------------------------------------------------------------------------------
def ne107(
    status: NDArray[np.int8],
    alarm_age: NDArray[np.float64] | None = None,
    failure_after: float = 600.0,
    failed: NDArray[np.bool_] | None = None,
) -> NDArray[np.int8]:
    """The NE 107 state of every sensor from its status (see the module's table);
    ``alarm_age`` is how long each sensor's alarm has lasted (NaN: not in alarm), ``failed``
    marks sensors the prediction says are past their alarm limit."""
    h = _FROM_STATUS[status.astype(np.intp)]
    if alarm_age is not None:
        with np.errstate(invalid="ignore"):
            h[(status == Status.ALARM) & (alarm_age >= failure_after)] = Health.FAILURE
    if failed is not None:
        h[failed & (status != Status.NO_DATA) & (status != Status.STALE)] = Health.FAILURE
    return h


@dataclass
class FleetHealth:
    """The roll-up of every unit (arrays of length ``n_units``, unit order)."""

    health: NDArray[np.int8]  # Health, the worst sensor's
    worst: NDArray[np.int64]  # the index of the worst sensor (-1: the unit has no sensor)
    alarms: NDArray[np.int64]  # sensors in alarm now
    warnings: NDArray[np.int64]  # sensors in warning now
    last_time: NDArray[np.float64]  # the newest sample's time (NaN: none)
    time_to_alarm: NDArray[np.float64]  # seconds until the first alarm is forecast (NaN: none)

    @property
    def n(self) -> int:
        return len(self.health)


def roll_up(
    n_templates: int,
    health: NDArray[np.int8],
    status: NDArray[np.int8],
    frac: NDArray[np.float64],
    times: NDArray[np.float64],
    time_to_alarm: NDArray[np.float64] | None = None,
) -> FleetHealth:
    """Each unit's NE 107 state (its worst sensor's: the worst component wins), which sensor
    that is (ties: the highest in its range), alarm and warning counts, newest data and the
    soonest forecast alarm. Everything is per-sensor arrays in the fleet layout; a few
    reshapes, whatever the number of units."""
    T = max(n_templates, 1)
    U = len(health) // T if n_templates else 0
    n = U * T
    if U == 0:
        z = np.zeros(0, np.int64)
        return FleetHealth(np.zeros(0, np.int8), z, z, z, np.zeros(0), np.zeros(0))
    h = health[:n].reshape(U, T)
    rank = h.astype(np.float64) * 2.0 + np.clip(np.nan_to_num(frac[:n], nan=0.0), 0, 1).reshape(
        U, T
    )
    k = np.argmax(rank, axis=1)
    st = status[:n].reshape(U, T)
    with warnings.catch_warnings():  # an all-NaN unit (no data yet) is NaN, not a warning
        warnings.simplefilter("ignore", RuntimeWarning)
        last = np.nanmax(times[:n].reshape(U, T), axis=1)
        tta = (
            np.nanmin(time_to_alarm[:n].reshape(U, T), axis=1)
            if time_to_alarm is not None
            else np.full(U, np.nan)
        )
    return FleetHealth(
        health=h.max(axis=1).astype(np.int8),
        worst=np.arange(U, dtype=np.int64) * T + k,
        alarms=np.count_nonzero(st == Status.ALARM, axis=1).astype(np.int64),
        warnings=np.count_nonzero(st == Status.WARNING, axis=1).astype(np.int64),
        last_time=last,
        time_to_alarm=tta,
    )


def time_to_alarm(
    level: NDArray[np.float64],
    slope: NDArray[np.float64],
    alarm_low: NDArray[np.float64],
    alarm_high: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Seconds until a linear trend reaches a sensor's alarm limit (0: past it already; NaN:
    not heading to one)."""
    out = np.full(len(level), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        up = (slope > 0) & np.isfinite(alarm_high)
        out[up] = np.maximum((alarm_high[up] - level[up]) / slope[up], 0.0)
        down = (slope < 0) & np.isfinite(alarm_low)
        out[down] = np.maximum((level[down] - alarm_low[down]) / -slope[down], 0.0)
    return out
