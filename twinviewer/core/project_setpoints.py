"""The simulator's ``setpoints:``: what a command moves in a simulated plant, and what follows.

A :class:`Setpoint` makes one sensor the read-back of an actuator the simulator obeys: it
starts at ``initial``; a command (``apply_command`` of the simulator, fed by ``twinviewer
simulate`` from MQTT, Sparkplug or OPC UA writes) sets its target, and the sensor moves there at
``ramp`` units per second, the way a drive ramps a fan's speed. Each of its ``drives`` is a
sensor that follows the actuator after a first-order lag of ``lag`` seconds:

- ``scale``: the sensor's rise above ``base`` is multiplied by ``(value / nominal) ** power``
  (a fan's vibration grows with the square of its speed, power 2; a bearing's heating roughly
  with the speed, power 1; a motor's current with the cube of a fan's speed, power 3);
- ``cap``: the rise above ``base`` is held below ``(value / nominal) ** power`` of ``full``
  minus ``base`` (a traction power limit caps the motors' current, power 1, and their
  temperature rise, power 2).

``base`` defaults to the low end of the sensor's range, ``full`` to its high end, ``nominal`` to
``initial``. While the setpoint is at ``nominal`` (no command yet) every sensor has exactly the
values the simulator gives it without setpoints.

Example (the mine's level 3 booster fan)::

    setpoints:
      - sensor: l3_fan_speed
        initial: 100
        ramp: 3
        drives:
          - {sensor: l3_fan_vibration, power: 2, lag: 6}
          - {sensor: l3_fan_bearing_temperature, power: 1, lag: 40}
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Drive(_Strict):
    """A sensor that follows a setpoint after a lag."""

    sensor: str = Field(min_length=1, description="The sensor that follows the setpoint")
    mode: Literal["scale", "cap"] = Field(
        "scale", description="scale its rise above base, or cap it (a limit)"
    )
    power: float = Field(1.0, description="Follows (setpoint / nominal) to this power")
    lag: float = Field(10.0, gt=0, description="Seconds of its first-order lag")
    base: float | None = Field(None, description="Its value at zero (default: its range's low)")
    full: float | None = Field(None, description="cap: its value at 100% (default: range's high)")


class Setpoint(_Strict):
    """A sensor that reads back an actuator's setpoint, and the sensors that follow it."""

    sensor: str = Field(min_length=1, description="The read-back sensor of the actuator")
    command: str | None = Field(
        None, description="Id of the command that sets it (default: the sensor's id)"
    )
    initial: float = Field(description="The value before any command, in the sensor's unit")
    nominal: float | None = Field(
        None, description="Where the driven sensors run as simulated (default: initial)"
    )
    ramp: float | None = Field(
        None, gt=0, description="Units per second the actuator moves (default: at once)"
    )
    drives: list[Drive] = Field(default_factory=list)
