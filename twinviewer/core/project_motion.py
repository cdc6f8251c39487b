"""The ``motion:`` block of a project: components that move with the data.

Each entry moves the model nodes its ``component`` reference selects (a component id, a node
name, a glob or ``re:<regex>``, as a sensor's ``component``), *and everything below them in the
model's hierarchy*, by one of:

- ``translate``: along ``axis`` by ``scale * value + offset`` model units (a hoist skip's depth,
  a cylinder's stroke);
- ``rotate``: about ``axis`` through ``origin`` by ``scale * value + offset`` degrees (a boom
  angle, a valve position);
- ``place``: the component's point ``origin`` (where it stands in the model, at rest) is
  carried to the position given by ``x``/``y``/``z`` sensors (each ``scale * value + offset``
  model units; a coordinate without a sensor keeps the origin's) and turned by ``heading``
  degrees about ``axis`` through that point (a truck on a decline, a loader);
- ``joint``: the joint of that name in the model's kinematics (a URDF robot), driven by
  ``sensor`` in the joint's own unit (radians or metres, times ``scale`` plus ``offset``).
  A joint with a sensor of the same id is driven by it without a ``joint`` motion.

``limits`` clamp the amount (after scale and offset; degrees, model units or the joint's unit;
a joint's own limits apply when none are given); not for ``place``. Axes and origins are in the
model's *rest* coordinates. Motions compose in list order, the first outermost (the product of
exponentials of robotics: a boom listed before the bucket on it carries the bucket), so a chain
is written root first; ``joint`` motions compose in the kinematic tree's order (root first)
wherever they are listed. A sensor without a value (or NaN) leaves its amount at rest: no
travel, no turn, the origin's own coordinate. See :mod:`twinviewer.core.motion`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Vec3 = tuple[float, float, float]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Motion(_Strict):
    """One component's movement driven by sensor values."""

    component: str | None = Field(
        None,
        description="What moves (with everything below it): a component id, a node name, a "
        "glob or re:<regex>; for 'joint', default: the joint's child link",
    )
    kind: Literal["translate", "rotate", "place", "joint"] = Field(
        description="translate along an axis, rotate about one, place at x/y/z (+ heading), "
        "or drive a joint of the model's kinematics"
    )
    sensor: str | None = Field(None, description="The sensor giving the amount (not for place)")
    x: str | None = Field(None, description="place: sensor of the x position")
    y: str | None = Field(None, description="place: sensor of the y position")
    z: str | None = Field(None, description="place: sensor of the z position")
    heading: str | None = Field(None, description="place: sensor of the heading, degrees")
    joint: str | None = Field(None, description="joint: the joint's name in the model")
    axis: Vec3 = Field((0.0, 0.0, 1.0), description="Direction of travel or rotation axis")
    origin: Vec3 = Field(
        (0.0, 0.0, 0.0),
        description="A point on the rotation axis; for 'place', the point carried to x, y, z",
    )
    scale: float = Field(1.0, description="Amount = scale * value + offset")
    offset: float = 0.0
    limits: tuple[float, float] | None = Field(None, description="Clamp the amount [min, max]")

    @model_validator(mode="after")
    def _complete(self) -> Motion:
        if self.kind == "place":
            if not any((self.x, self.y, self.z, self.heading)):
                raise ValueError("a 'place' motion needs at least one of x, y, z or heading")
            if self.sensor is not None:
                raise ValueError("a 'place' motion takes x, y, z and heading, not 'sensor'")
        elif self.sensor is None:
            raise ValueError(f"a {self.kind!r} motion needs its 'sensor'")
        if self.kind == "joint":
            if self.joint is None:
                raise ValueError("a 'joint' motion needs the joint's name in 'joint'")
        elif self.component is None:
            raise ValueError(f"a {self.kind!r} motion needs the 'component' it moves")
        if self.kind in ("translate", "rotate") and not any(self.axis):
            raise ValueError("'axis' must not be [0, 0, 0]")
        if self.limits is not None and self.kind == "place":
            raise ValueError("'limits' do not apply to a 'place' motion")
        if self.limits is not None and self.limits[0] > self.limits[1]:
            raise ValueError("limits must be [min, max] with min <= max")
        return self

    def sensors(self) -> list[str]:
        """The sensor ids this motion reads."""
        return [s for s in (self.sensor, self.x, self.y, self.z, self.heading) if s]


class Trip(_Strict):
    """A journey the built-in simulator drives back and forth along a path, for the sensors of
    a moving part: a hoist skip between its loading pocket and the tip, a loader on the decline.

    One cycle is ``travel`` seconds out along ``path`` (accelerating, running, braking), ``dwell``
    seconds standing at the far end, the same back, and ``dwell`` at the start. Two skips in
    counterbalance are the same trip with ``phase`` 0 and 0.5. ``heading`` and ``grade`` are
    the path's direction in degrees (from +x towards +y, and up from the horizontal), the way
    out on the way back too (a loader reverses up the decline).
    """

    sensors: list[str] = Field(
        min_length=1,
        max_length=3,
        description="The sensors given the path's coordinates, in order (a skip's depth; a "
        "vehicle's x, y, z), in the sensors' units",
    )
    path: list[list[float]] = Field(
        min_length=2, description="The path's points, each one value per sensor"
    )
    heading: str | None = Field(None, description="Sensor given the direction of travel, deg")
    grade: str | None = Field(None, description="Sensor given the climb along the path, deg")
    travel: float = Field(60.0, gt=0, description="Seconds from one end of the path to the other")
    dwell: float = Field(10.0, ge=0, description="Seconds standing at each end")
    phase: float = Field(0.0, ge=0, lt=1, description="Fraction of its cycle the trip starts at")

    @model_validator(mode="after")
    def _consistent(self) -> Trip:
        n = len(self.sensors)
        bad = [p for p in self.path if len(p) != n]
        if bad:
            raise ValueError(f"each path point needs {n} values (one per sensor), got {bad[0]}")
        if (self.heading or self.grade) and n < 2:
            raise ValueError("'heading' and 'grade' need a path in x and y (two or three sensors)")
        return self

    def all_sensors(self) -> list[str]:
        return [*self.sensors, *(s for s in (self.heading, self.grade) if s)]
