"""Does a placed simulation result sit on the twin, and the placement that puts it there.

A result is often written in other units than the model (a CFD case in metres on a CAD model
in millimetres) or about another origin, and then it colours nothing. :func:`check_bounds`
compares the bounding box of the placed result with the twin's: a warning when they do not
overlap or differ in size by more than :data:`MAX_RATIO`. :func:`fit_to_twin` gives the
placement that puts the result's box on the twin's box, keeping its rotation:

- the scale: the current one when the sizes already agree (within :data:`MAX_RATIO`: only the
  position is off); else the unit conversion nearest to the ratio of the two boxes' diagonals
  when it is within :data:`SNAP` of it (1000 for m -> mm, 25.4 for in -> mm, ...); else that
  ratio itself (an exact fit);
- the translation: the centre of the result's box on the centre of the twin's.

Boxes are ``(xmin, xmax, ymin, ymax, zmin, zmax)``. A placed box is the box around the eight
placed corners of the result's box (exact without rotation, a little larger with one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from twinviewer.core.project import Placement
from twinviewer.sim.overlay import placement_matrix

Bounds = tuple[float, float, float, float, float, float]

#: Sizes differing by more than this factor (either way) are suspicious: other units.
MAX_RATIO = 10.0
#: A unit conversion is used for a fit when it is within this factor of the exact fit.
SNAP = 1.5

#: Result units to model units: the scales a fit snaps to, and what each one converts.
UNIT_SCALES: tuple[tuple[float, str], ...] = (
    (1.0, "same units"),
    (1000.0, "m → mm"),
    (0.001, "mm → m"),
    (100.0, "m → cm"),
    (0.01, "cm → m"),
    (10.0, "cm → mm"),
    (0.1, "mm → cm"),
    (25.4, "in → mm"),
    (1 / 25.4, "mm → in"),
    (0.0254, "in → m"),
    (1 / 0.0254, "m → in"),
    (304.8, "ft → mm"),
    (1 / 304.8, "mm → ft"),
    (0.3048, "ft → m"),
    (1 / 0.3048, "m → ft"),
)


def unit_hint(scale: float) -> str | None:
    """What a placement scale converts (``"m → mm"`` for 1000), None when it is no unit
    conversion (within one part in a million)."""
    for value, label in UNIT_SCALES:
        if math.isclose(scale, value, rel_tol=1e-6):
            return label
    return None


def placed_bounds(bounds: Bounds, placement: Placement) -> Bounds:
    """The box around the result's box ``bounds`` scaled, rotated and moved by ``placement``."""
    m = placement_matrix(placement)
    xs, ys, zs = bounds[0:2], bounds[2:4], bounds[4:6]
    corners = np.array([(x, y, z) for x in xs for y in ys for z in zs], np.float64)
    placed = corners @ m[:3, :3].T + m[:3, 3]
    lo, hi = placed.min(axis=0), placed.max(axis=0)
    return (
        float(lo[0]),
        float(hi[0]),
        float(lo[1]),
        float(hi[1]),
        float(lo[2]),
        float(hi[2]),
    )


def diagonal(b: Bounds) -> float:
    """Length of a box's diagonal."""
    return math.sqrt(sum((b[2 * i + 1] - b[2 * i]) ** 2 for i in range(3)))


def centre(b: Bounds) -> tuple[float, float, float]:
    return ((b[0] + b[1]) / 2, (b[2] + b[3]) / 2, (b[4] + b[5]) / 2)


def overlaps(a: Bounds, b: Bounds) -> bool:
    """Whether two boxes share a point (touching counts; a flat box may lie on a face)."""
    tol = 1e-9 * max(diagonal(a), diagonal(b), 1e-300)
    return all(a[2 * i] <= b[2 * i + 1] + tol and b[2 * i] <= a[2 * i + 1] + tol for i in range(3))


@dataclass(frozen=True)
class BoundsCheck:
    """The placed result's box against the twin's; ``problem`` says what is wrong (empty: OK)."""

    result: Bounds  # placed, in model units
    twin: Bounds
    overlap: bool
    ratio: float  # result diagonal / twin diagonal (nan: the twin has no size)
    problem: str

    @property
    def ok(self) -> bool:
        return not self.problem


def check_bounds(result_bounds: Bounds, placement: Placement, twin_bounds: Bounds) -> BoundsCheck:
    """Whether the result, placed by ``placement``, lies on the twin and has about its size."""
    placed = placed_bounds(result_bounds, placement)
    size = diagonal(twin_bounds)
    ratio = diagonal(placed) / size if size > 0 else math.nan
    overlap = overlaps(placed, twin_bounds)
    problems = []
    if not overlap:
        problems.append("does not overlap the twin")
    if math.isfinite(ratio) and ratio > MAX_RATIO:
        problems.append(f"is {_factor(ratio)}× the twin's size")
    elif math.isfinite(ratio) and ratio < 1 / MAX_RATIO:
        smaller = f"is {_factor(1 / ratio)}× smaller than the twin" if ratio > 0 else ""
        problems.append(smaller or "has no size (a point)")
    problem = "The placed result " + " and ".join(problems) if problems else ""
    return BoundsCheck(placed, twin_bounds, overlap, ratio, problem)


@dataclass(frozen=True)
class Fit:
    """A placement putting the result on the twin, and how its scale was chosen."""

    placement: Placement
    how: str  # "kept", a unit conversion ("m → mm"), or "exact fit"


def fit_to_twin(result_bounds: Bounds, placement: Placement, twin_bounds: Bounds) -> Fit:
    """The placement (``placement``'s rotation kept) that puts the result's box on the twin's:
    see the module docstring for how the scale is chosen. A result or twin without size keeps
    its scale and is only moved."""
    unit = Placement(rotate=placement.rotate)  # rotated, scale 1, not moved
    rotated = placed_bounds(result_bounds, unit)
    size, target = diagonal(rotated), diagonal(twin_bounds)
    scale, how = placement.scale, "kept"
    current = size * placement.scale / target if target > 0 else 1.0
    if size > 0 and target > 0 and not 1 / MAX_RATIO <= current <= MAX_RATIO:
        exact = target / size
        value, label = min(UNIT_SCALES, key=lambda u: abs(math.log(u[0] / exact)))
        if abs(math.log(value / exact)) <= math.log(SNAP):
            scale, how = value, label
        else:
            scale, how = _round(exact), "exact fit"
    c, t = centre(rotated), centre(twin_bounds)
    translate = (t[0] - scale * c[0], t[1] - scale * c[1], t[2] - scale * c[2])
    return Fit(
        Placement(translate=translate, rotate=placement.rotate, scale=scale),
        how,
    )


def _factor(x: float) -> str:
    """A size factor as read aloud: ``962``, ``1,000``, ``12.5``."""
    return f"{round(x):,}" if x >= 999.5 else f"{x:.3g}"


def _round(x: float, digits: int = 4) -> float:
    """``x`` to ``digits`` significant digits (an exact fit need not claim more)."""
    return float(f"{x:.{digits}g}")


def format_bounds(b: Bounds, unit: str | None = None) -> str:
    """``x 5 … 352, y 5 … 168, z 10 … 35 mm``."""
    parts = [f"{axis} {_num(b[2 * i])} … {_num(b[2 * i + 1])}" for i, axis in enumerate("xyz")]
    return ", ".join(parts) + (f" {unit}" if unit else "")


def _num(v: float) -> str:
    text = f"{v:.4g}"
    return "0" if text == "-0" else text
