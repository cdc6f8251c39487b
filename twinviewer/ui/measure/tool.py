"""The measurement tools' picking, as a state machine without Qt or VTK.

The window turns a click into a :class:`Pick` (the triangle under the cursor and the point on
it, snapped with :meth:`MeasureTool.snap`) and hands it to :meth:`MeasureTool.click`; the tool
says what the click made (:class:`Outcome`): nothing yet, a finished
:class:`~twinviewer.review.Measurement`, a clearance to compute (two components, off the UI
thread), or why the click was refused. :meth:`MeasureTool.hint` is the status bar's line and
:meth:`MeasureTool.preview` what to draw while picking.

A tool stays on after a measurement, ready for the next one, until it is cancelled (Escape).

How values are stored (:class:`~twinviewer.review.Measurement`): points are model coordinates;
lengths (distance, clearance) are in the model's unit, ``Measurement.unit`` (``"m"`` for a model
that declares none), areas in that unit squared with the same ``unit``, angles in degrees with
``unit="deg"``; a point's result is its location (``points[0]``) and its ``value`` is 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import numpy as np

from twinviewer.core.measure import (
    Clearance,
    angle,
    distance,
    faces_area,
    format_area,
    format_length,
    planar_region,
    polygon_area,
    region_outline,
    snap,
)
from twinviewer.core.model import ModelData
from twinviewer.review import Measurement

ToolName = Literal["distance", "angle", "area", "face", "point", "clearance"]
TOOLS: tuple[ToolName, ...] = ("distance", "angle", "area", "face", "point", "clearance")
TITLES: dict[str, str] = {
    "distance": "Distance",
    "angle": "Angle",
    "area": "Area",
    "face": "Face area",
    "point": "Point",
    "clearance": "Clearance",
}
# the stem of a new measurement's name ("Distance 3")
STEMS: dict[str, str] = {**TITLES, "face": "Area"}
# how many picks make a measurement (the polygon is closed by the user)
_NEEDED: dict[str, int] = {"distance": 2, "angle": 3, "face": 1, "point": 1, "clearance": 2}
Vec3 = tuple[float, float, float]


class Pick(NamedTuple):
    """A click on the model: its triangle, the point (snapped), how it snapped, its component."""

    triangle: int
    point: Vec3
    kind: str  # "vertex", "edge_midpoint", "edge", "surface"
    component: int


class ClearanceRequest(NamedTuple):
    """Two components whose clearance is to be computed (slow: off the UI thread)."""

    component_a: int
    component_b: int


@dataclass
class Outcome:
    """What a click made: a measurement, a clearance to compute, or a refusal (``message``)."""

    measurement: Measurement | None = None
    clearance: ClearanceRequest | None = None
    message: str = ""


@dataclass
class MeasureTool:
    """The active tool and the picks made with it so far.

    ``namer`` gives a new measurement's name from a stem ("Distance" -> "Distance 3").
    """

    model: ModelData
    namer: Callable[[str], str] = field(default=lambda stem: f"{stem} 1")
    tool: ToolName | None = None
    picks: list[Pick] = field(default_factory=list)

    @property
    def unit(self) -> str:
        """The model's length unit (metres when it declares none)."""
        return self.model.units or "m"

    @property
    def active(self) -> bool:
        return self.tool is not None

    def start(self, tool: ToolName) -> None:
        if tool not in TOOLS:
            raise ValueError(f"unknown measurement tool {tool!r}; one of {', '.join(TOOLS)}")
        self.tool = tool
        self.picks = []

    def cancel(self) -> None:
        """Leave the tool (Escape)."""
        self.tool = None
        self.picks = []

    def back(self) -> bool:
        """Take back the last pick (Backspace); False when there was none."""
        if not self.picks:
            return False
        self.picks.pop()
        return True

    # -- picking ---------------------------------------------------------------------------------
    def snap(self, triangle: int, point: Vec3, tolerance: float) -> Pick:
        """The pick the user most likely meant: a vertex, an edge midpoint, an edge or the
        surface (see :func:`~twinviewer.core.measure.snap`); the face and clearance tools take
        the surface point as it is (they pick a face or a component, not a point)."""
        component = int(self.model.cell_component[triangle])
        if self.tool in ("face", "clearance"):
            return Pick(int(triangle), point, "surface", component)
        s = snap(self.model, triangle, point, tolerance)
        return Pick(int(triangle), s.point, s.kind, component)

    def click(self, pick: Pick, tolerance: float = 0.0) -> Outcome:
        """Take a pick. ``tolerance`` (world units) lets a polygon close on its first corner."""
        tool = self.tool
        if tool is None:
            return Outcome(message="No measurement tool is active")
        if tool == "area":
            if len(self.picks) >= 3 and _gap(pick.point, self.picks[0].point) <= tolerance:
                return self.finish()
            if self.picks and _gap(pick.point, self.picks[-1].point) <= tolerance * 1e-3:
                return Outcome()  # the same corner twice (a double click's first half)
            self.picks.append(pick)
            return Outcome()
        if tool == "clearance" and self.picks and pick.component == self.picks[0].component:
            name = self.model.components[pick.component].id
            return Outcome(message=f"{name} is already picked: click another component")
        self.picks.append(pick)
        if len(self.picks) < _NEEDED[tool]:
            return Outcome()
        picks, self.picks = self.picks, []
        if tool == "clearance":
            return Outcome(clearance=ClearanceRequest(picks[0].component, picks[1].component))
        try:
            return Outcome(measurement=self._measure(tool, picks))
        except ValueError as exc:  # a degenerate angle or polygon: pick again
            return Outcome(message=str(exc))

    def finish(self) -> Outcome:
        """Close the polygon (Enter, a double click, or a click on its first corner)."""
        if self.tool != "area":
            return Outcome()
        if len(self.picks) < 3:
            return Outcome(message="A polygon needs at least three corners")
        picks, self.picks = self.picks, []
        try:
            return Outcome(measurement=self._measure("area", picks))
        except ValueError as exc:
            return Outcome(message=str(exc))

    def _measure(self, tool: str, picks: list[Pick]) -> Measurement:
        points = [p.point for p in picks]
        value: float
        unit = self.unit
        if tool == "distance":
            value = distance(points[0], points[1]).total
        elif tool == "angle":
            value, unit = angle(*points), "deg"
        elif tool == "area":
            value = polygon_area(points).area
        elif tool == "face":
            region = planar_region(self.model, picks[0].triangle)
            value = faces_area(self.model, region)
            loops = region_outline(self.model, region)
            outline = loops[0] if loops and len(loops[0]) >= 3 else None
            if outline is None:
                corners = self.model.points[self.model.triangles[picks[0].triangle]]
                outline = np.asarray(corners, np.float64)
            points = [(float(x), float(y), float(z)) for x, y, z in outline]
        else:  # point
            value = 0.0
        return Measurement(
            name=self.namer(STEMS[tool]),
            kind="area" if tool == "face" else tool,
            points=points,
            components=self._component_ids(picks),
            value=value,
            unit=unit,
        )

    def _component_ids(self, picks: list[Pick]) -> list[str]:
        ids: list[str] = []
        for p in picks:
            cid = self.model.components[p.component].id
            if cid not in ids:
                ids.append(cid)
        return ids

    def clearance_measurement(self, request: ClearanceRequest, result: Clearance) -> Measurement:
        """The measurement of a computed clearance."""
        return Measurement(
            name=self.namer(STEMS["clearance"]),
            kind="clearance",
            points=[result.point_a, result.point_b],
            components=[
                self.model.components[request.component_a].id,
                self.model.components[request.component_b].id,
            ],
            value=result.distance,
            unit=self.unit,
        )

    # -- what the window shows -------------------------------------------------------------------
    def hint(self) -> str:
        """What to click next, for the status bar."""
        tool, n = self.tool, len(self.picks)
        if tool is None:
            return ""
        end = "Esc ends the tool"
        if tool == "distance":
            what = "the first point" if n == 0 else "the second point"
        elif tool == "angle":
            what = ("a point on the first arm", "the vertex", "a point on the second arm")[n]
        elif tool == "area":
            if n < 3:
                what = "the polygon's corners, in order"
            else:
                what = "more corners; the first corner, a double click or Enter closes it"
            end = "Backspace takes back a corner, Esc ends the tool"
        elif tool == "face":
            what = "a flat face"
        elif tool == "point":
            what = "a point"
        else:
            what = "the first component" if n == 0 else "the second component"
        return f"{TITLES[tool]}: click {what} ({end})"

    def preview(self, hover: Pick | None) -> tuple[list[Vec3], bool, str]:
        """The points to draw while picking (those picked, then the one under the cursor), if
        the polygon is to be drawn closed, and a running value at the cursor."""
        points = [p.point for p in self.picks]
        if self.tool in ("face", "clearance"):
            return (points, False, "")
        if hover is not None and self.picks:
            points.append(hover.point)
        text = ""
        try:
            if self.tool == "distance" and len(points) == 2:
                text = format_length(distance(points[0], points[1]).total, self.model.units)
            elif self.tool == "angle" and len(points) == 3:
                text = f"{angle(*points):.2f}°"
            elif self.tool == "area" and len(points) >= 3:
                text = format_area(polygon_area(points).area, self.model.units)
        except ValueError:
            text = ""
        return (points, self.tool == "area" and len(points) >= 3, text)


def _gap(a: Vec3, b: Vec3) -> float:
    return math.dist(a, b)
