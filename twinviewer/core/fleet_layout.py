"""Where each unit of a fleet stands in the 3D overview: a depot row, a grid, or data positions.

Every layout returns one rigid 4x4 transform per unit (model coordinates to overview
coordinates) and a label anchor per unit (just above the top centre of its bounding box). Z is
up, as in the rest of the viewer; units stand side by side along the *row axis*: the horizontal
axis (x or y) along which the model is narrower, so that locomotives stand on parallel tracks
and a row of pumps stands shoulder to shoulder.

* ``row``: unit ``i`` is the model moved by ``i * spacing`` along the row axis (unit 0 stays
  where the model is). ``spacing`` defaults to 1.25x the model's size along the row axis.
* ``grid``: ``columns`` units per row (default: the smallest square that holds them) along the
  row axis, ``spacing`` apart; rows are 1.25x the model's depth apart along the other
  horizontal axis (or ``spacing``, whichever is larger), so that no two units overlap.
* ``data``: each unit at its own position ``(x, y, z, heading)`` (model units, degrees about Z,
  the ``place`` motion's convention: the model's origin goes to the position); units without a
  position stand in a row beside the placed ones, past their far side.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "GAP",
    "FleetPlacement",
    "layout_data",
    "layout_fleet",
    "layout_grid",
    "layout_row",
    "row_axis",
    "transform_points",
]

#: Default centre-to-centre distance as a multiple of the model's size along the row axis.
GAP = 1.25
#: Label anchors sit this fraction of the model's height above its top.
LABEL_LIFT = 0.08

Bounds = Sequence[float]  # (xmin, xmax, ymin, ymax, zmin, zmax)
Position = tuple[float, float, float, float]  # x, y, z (model units), heading (degrees about Z)


@dataclass(frozen=True)
class FleetPlacement:
    """One unit per row of each array.

    Attributes
    ----------
    transforms : (N, 4, 4) float64
        Rigid transforms from model coordinates to overview coordinates.
    anchors : (N, 3) float64
        Where each unit's label goes: above the top centre of its bounding box.
    row_axis : int
        0 (x) or 1 (y): the axis units stand side by side along.
    spacing : float
        Centre-to-centre distance along the row axis (model units).
    unplaced : tuple of int
        ``data`` layout: the units that had no position (laid out in a row beside the rest).
    """

    transforms: NDArray[np.float64]
    anchors: NDArray[np.float64]
    row_axis: int
    spacing: float
    unplaced: tuple[int, ...] = ()

    def __len__(self) -> int:
        return len(self.transforms)


def _extent(bounds: Bounds) -> NDArray[np.float64]:
    b = np.asarray(bounds, np.float64)
    if b.shape != (6,) or not np.all(np.isfinite(b)):
        raise ValueError(f"model bounds must be 6 finite numbers (xmin, xmax, ...), got {bounds}")
    return np.maximum(b[1::2] - b[::2], 0.0)


def row_axis(bounds: Bounds) -> int:
    """The horizontal axis along which the model is narrower (x on a tie)."""
    size = _extent(bounds)
    return 1 if size[1] < size[0] else 0


def _step(size: float, spacing: float | None) -> float:
    if spacing is not None:
        if not spacing > 0:
            raise ValueError(f"fleet layout spacing must be > 0 model units, got {spacing}")
        return float(spacing)
    return GAP * size if size > 0 else 1.0


def _translations(offsets: NDArray[np.float64]) -> NDArray[np.float64]:
    out = np.tile(np.eye(4), (len(offsets), 1, 1))
    out[:, :3, 3] = offsets
    return out


def transform_points(transform: NDArray[np.float64], points: NDArray[np.floating]) -> NDArray:
    """``points`` (K, 3) through one 4x4 transform."""
    p = np.asarray(points, np.float64)
    return p @ transform[:3, :3].T + transform[:3, 3]


def _anchors(bounds: Bounds, transforms: NDArray[np.float64]) -> NDArray[np.float64]:
    b = np.asarray(bounds, np.float64)
    top = np.array([(b[0] + b[1]) / 2, (b[2] + b[3]) / 2, b[5] + LABEL_LIFT * (b[5] - b[4])])
    return np.einsum("nij,j->ni", transforms[:, :3, :3], top) + transforms[:, :3, 3]


def layout_row(bounds: Bounds, n: int, spacing: float | None = None) -> FleetPlacement:
    """A depot row: ``n`` units side by side along the row axis, ``spacing`` apart."""
    if n < 0:
        raise ValueError(f"number of units must be >= 0, got {n}")
    axis = row_axis(bounds)
    step = _step(float(_extent(bounds)[axis]), spacing)
    offsets = np.zeros((n, 3))
    offsets[:, axis] = np.arange(n) * step
    t = _translations(offsets)
    return FleetPlacement(t, _anchors(bounds, t), axis, step)


def layout_grid(
    bounds: Bounds, n: int, spacing: float | None = None, columns: int | None = None
) -> FleetPlacement:
    """Rows of ``columns`` units (default ``ceil(sqrt(n))``) along the row axis; unit ``i`` is
    in column ``i % columns`` of row ``i // columns``."""
    if n < 0:
        raise ValueError(f"number of units must be >= 0, got {n}")
    if columns is not None and columns < 1:
        raise ValueError(f"grid columns must be >= 1, got {columns}")
    size = _extent(bounds)
    axis = row_axis(bounds)
    other = 1 - axis
    step = _step(float(size[axis]), spacing)
    row_step = max(step, GAP * float(size[other])) if size[other] > 0 else step
    cols = columns or max(1, math.ceil(math.sqrt(n)))
    i = np.arange(n)
    offsets = np.zeros((n, 3))
    offsets[:, axis] = (i % cols) * step
    offsets[:, other] = (i // cols) * row_step
    t = _translations(offsets)
    return FleetPlacement(t, _anchors(bounds, t), axis, step)


def _placed(position: Sequence[float]) -> NDArray[np.float64]:
    if len(position) != 4 or not all(math.isfinite(float(v)) for v in position):
        raise ValueError(f"a unit position is (x, y, z, heading degrees), got {list(position)}")
    x, y, z, heading = (float(v) for v in position)
    a = math.radians(heading)
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0, x], [s, c, 0, y], [0, 0, 1, z], [0, 0, 0, 1]], np.float64)


def layout_data(
    bounds: Bounds, positions: Sequence[Position | None], spacing: float | None = None
) -> FleetPlacement:
    """Each unit at its position ``(x, y, z, heading)``: the model's origin moved there and
    turned by ``heading`` degrees about Z. Units whose position is ``None`` stand in a row
    (``spacing`` apart along the row axis) past the far side of the placed ones."""
    axis = row_axis(bounds)
    size = _extent(bounds)
    other = 1 - axis
    step = _step(float(size[axis]), spacing)
    n = len(positions)
    transforms = np.tile(np.eye(4), (n, 1, 1))
    placed = [i for i, p in enumerate(positions) if p is not None]
    unplaced = tuple(i for i, p in enumerate(positions) if p is None)
    for i in placed:
        pos = positions[i]
        assert pos is not None
        transforms[i] = _placed(pos)
    if unplaced:
        origin = np.zeros(3)
        if placed:
            b = np.asarray(bounds, np.float64)
            corners = np.array([[x, y, z] for x in b[:2] for y in b[2:4] for z in b[4:]])
            reach = np.concatenate([transform_points(transforms[i], corners) for i in placed])
            origin[axis] = reach[:, axis].min() - b[2 * axis]
            gap = (GAP - 1.0) * (size[other] if size[other] > 0 else step)
            origin[other] = reach[:, other].max() + gap - b[2 * other]
        for k, i in enumerate(unplaced):
            transforms[i, :3, 3] = origin
            transforms[i, axis, 3] += k * step
    return FleetPlacement(transforms, _anchors(bounds, transforms), axis, step, unplaced)


def layout_fleet(
    kind: str,
    bounds: Bounds,
    n: int,
    spacing: float | None = None,
    columns: int | None = None,
    positions: Sequence[Position | None] | None = None,
) -> FleetPlacement:
    """The layout a project's ``fleet.layout`` asks for (``kind``: row, grid or data).

    ``data`` without any position (no ``place`` motion, or nothing received yet) falls back to
    a row, so that the overview always shows every unit.
    """
    if kind == "row":
        return layout_row(bounds, n, spacing)
    if kind == "grid":
        return layout_grid(bounds, n, spacing, columns)
    if kind == "data":
        if positions is None or all(p is None for p in positions):
            return layout_row(bounds, n, spacing)
        if len(positions) != n:
            raise ValueError(f"data layout: {len(positions)} positions for {n} units")
        return layout_data(bounds, positions, spacing)
    raise ValueError(f"fleet layout kind {kind!r}: expected row, grid or data")
