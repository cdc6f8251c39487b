"""Decoding the messages of a fleet: ``{unit}`` topics and Sparkplug B devices name the unit.

:class:`FleetDecoder` is a :class:`~twinviewer.sources.payloads.PayloadDecoder` whose sensor
ids resolve through a :class:`~twinviewer.core.fleet.FleetIndex` (thread-safe; it adds units it
has not seen when the fleet discovers them):

* a topic template with ``{unit}`` (``twinviewer/fleet/{unit}/{component}/{sensor}``): the
  sensor named by the topic, or by the payload, is that unit's (``loco-07`` +
  ``axle4_temperature`` -> ``loco-07/axle4_temperature``);
* Sparkplug B: a device is a unit (``spBv1.0/<group>/DDATA/<node>/loco-07`` with the metric
  ``axle4_temperature``); node-level metrics (NBIRTH/NDATA) belong to the unit named like the
  edge node;
* anything else: the ids carry the unit themselves (``loco-07/axle4_temperature``).

A message of an unknown unit when the fleet does not discover is rejected and counted as an
``unknown_sensor`` like any sensor the project does not have.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from twinviewer.core.fleet import FleetIndex
from twinviewer.core.project import MqttSource, Sensor
from twinviewer.sources.payloads import PayloadDecoder

__all__ = ["FleetDecoder"]


class _UnitView:
    """``dict.get``-like: template ids of one unit to fleet sensor indices."""

    __slots__ = ("fleet", "unit")

    def __init__(self, fleet: FleetIndex, unit: str) -> None:
        self.fleet = fleet
        self.unit = unit

    def get(self, name: Any, default: int = -1) -> int:
        if not isinstance(name, str):
            return default
        i = self.fleet.index(self.unit, name)
        return default if i < 0 else i


class FleetDecoder(PayloadDecoder):
    """A payload decoder for a fleet (see the module). Not thread-safe, like its base; the
    :class:`FleetIndex` it resolves through is."""

    def __init__(self, config: MqttSource, sensors: Sequence[Sensor], fleet: FleetIndex) -> None:
        super().__init__(config, sensors)
        self.fleet = fleet
        self.index = fleet  # type: ignore[assignment]  # dict.get-like, and thread-safe
        self._views: dict[str, _UnitView] = {}

    def _view(self, unit: str) -> _UnitView:
        v = self._views.get(unit)
        if v is None:
            if len(self._views) > 4 * self.fleet.n_units + 1000:  # made-up units: bounded
                self._views.clear()
            v = self._views[unit] = _UnitView(self.fleet, unit)
        return v

    def add(self, topic: str, payload: bytes, arrival: float | None = None) -> None:
        if self.format != "sparkplug_b":
            unit = self.template.unit_of(topic)
            self.index = self.fleet if unit is None else self._view(unit)  # type: ignore[assignment]
        super().add(topic, payload, arrival)

    def _sparkplug(self, topic: str, payload: bytes, arrival: float) -> None:
        parts = topic.split("/")
        unit = parts[4] if len(parts) == 5 else parts[3] if len(parts) == 4 else None
        self.index = self.fleet if unit is None else self._view(unit)  # type: ignore[assignment]
        super()._sparkplug(topic, payload, arrival)

    def _spb_index(self, name: str) -> int:
        # not cached by name: the same metric name is another sensor on every device; a name
        # is a template id of the device's unit (or ends in one: "Bearings/axle4_temperature")
        i = self.index.get(name, -1)
        if i < 0 and "/" in name:
            i = self.index.get(name.rsplit("/", 1)[1], -1)
        return i

    def _flag(self, s: NDArray[np.int32], t: NDArray[np.float64]) -> dict[str, int]:
        if len(s) and int(s.max()) >= len(self._last):  # units discovered: more sensors
            grown = np.full(max(int(s.max()) + 1, 2 * len(self._last)), np.nan)
            grown[: len(self._last)] = self._last
            self._last = grown
        return super()._flag(s, t)
