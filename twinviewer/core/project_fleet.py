"""The ``fleet:`` block of a project: many units of one asset type.

The project's ``sensors:`` are then the type's templates: each unit has each of them, with the
id ``<unit>/<sensor id>`` (``loco-07/axle4_temperature``), its own history, alarms and
predictions; one model serves every unit. Units are listed, or discovered from the sources
(``discover: true``): the ``{unit}`` part of an MQTT topic template, a Sparkplug B device id
(``spBv1.0/<group>/DDATA/<node>/<device>``); a unit that starts publishing appears by itself.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

UNIT_ID = re.compile(r"[A-Za-z0-9_.\-]+")
SEPARATOR = "/"  # between a unit and a sensor id: <unit>/<sensor>


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class FleetLayout(_Strict):
    """How the fleet overview lays out the units in 3D."""

    kind: Literal["row", "grid", "data"] = Field(
        "row", description="a depot row, a grid, or at positions from 'place' motions"
    )
    spacing: float | None = Field(
        None, gt=0, description="Distance between units in model units (default: 1.25 x size)"
    )
    columns: int | None = Field(None, ge=1, description="grid: units per row (default: square)")


class Fleet(_Strict):
    """Units of one asset type sharing the model and the sensor templates."""

    label: str = Field("Unit", description="What a unit is called, e.g. Locomotive, Truck")
    units: list[str] = Field(default_factory=list, description="Unit ids known in advance")
    discover: bool = Field(
        False, description="Add units the sources publish for ({unit} in a topic, device ids)"
    )
    layout: FleetLayout = Field(default_factory=FleetLayout)
    failure_after: float = Field(
        600.0,
        gt=0,
        description="Seconds an alarm must last before the unit's NE 107 state is 'failure'",
    )

    @field_validator("units")
    @classmethod
    def _unit_ids(cls, v: list[str]) -> list[str]:
        seen: set[str] = set()
        for u in v:
            if not UNIT_ID.fullmatch(u):
                raise ValueError(
                    f"unit id {u!r}: letters, digits, '_', '.' and '-' only (it becomes part of "
                    "sensor ids and topics)"
                )
            if u in seen:
                raise ValueError(f"unit id {u!r} is listed twice")
            seen.add(u)
        return v


def unit_sensor_id(unit: str, sensor: str) -> str:
    """The id of a unit's sensor from its template's id."""
    return f"{unit}{SEPARATOR}{sensor}"


def split_sensor_id(sensor_id: str) -> tuple[str | None, str]:
    """(unit, template id) of a unit's sensor id; (None, id) for an id without a unit."""
    unit, sep, rest = sensor_id.partition(SEPARATOR)
    return (unit, rest) if sep else (None, sensor_id)
