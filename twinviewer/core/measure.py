"""The geometry of the design-review measurement tools: units, measurements and snapping.

Everything here is plain numpy on float64 arrays in *model units*; the window converts screen
picks into model points and shows the results with :func:`format_length` / :func:`format_area`.
A model whose file declares no units (``ModelData.units is None``) is treated as metres: the
formats that carry units (glTF, STEP: metres; 3MF: its ``unit`` attribute) say so, and for the
rest (STL, OBJ, PLY) metres is the convention of the twins this viewer shows.

The clearance between two components, with its pruning, lives in
:mod:`twinviewer.core.measure_clearance` and is re-exported here.
"""

from __future__ import annotations

import math
from typing import Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from twinviewer.core.measure_clearance import (
    Clearance,
    clearance,
    closest_on_segment,
    closest_on_triangle,
    triangle_distances,
)
from twinviewer.core.model import ModelData

__all__ = [
    "UNITS",
    "Clearance",
    "Distance",
    "PolygonArea",
    "Snap",
    "angle",
    "clearance",
    "convert",
    "distance",
    "faces_area",
    "format_area",
    "format_length",
    "format_location",
    "planar_region",
    "point_location",
    "polygon_area",
    "region_outline",
    "snap",
    "triangle_distances",
    "unit_scale",
]

#: Metres per unit. ``um`` is there because the 3MF reader reports micron models as ``"um"``.
UNITS: dict[str, float] = {
    "um": 1e-6,
    "mm": 0.001,
    "cm": 0.01,
    "m": 1.0,
    "in": 0.0254,
    "ft": 0.3048,
}

_DEFAULT_UNIT = "m"
_SUPERSCRIPT = {2: "²", 3: "³"}


# -- units -----------------------------------------------------------------------------------


def unit_scale(unit: str | None) -> float:
    """Metres per ``unit``; ``None`` (a model without units) is metres.

    An unknown unit raises ``ValueError`` naming it and the known ones.
    """
    key = _DEFAULT_UNIT if unit is None else unit
    try:
        return UNITS[key]
    except KeyError:
        known = ", ".join(UNITS)
        raise ValueError(f"unknown unit {unit!r}: known units are {known}") from None


def convert(value: float, from_unit: str | None, to_unit: str | None, power: int = 1) -> float:
    """``value`` measured in ``from_unit**power`` expressed in ``to_unit**power``.

    ``power`` is 1 for lengths, 2 for areas, 3 for volumes: 1 m² is 1e6 mm², not 1e3. ``None``
    means metres (see the module docstring).
    """
    return float(value) * (unit_scale(from_unit) / unit_scale(to_unit)) ** power


def _format_number(value: float, digits: int) -> str:
    """``value`` with thousands separators, ``digits`` significant digits, no trailing zeros.

    The integer part is always shown in full (1234567.8 -> "1,234,568"); at most 9 decimals.
    """
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = min(9, max(0, digits - 1 - magnitude))
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def format_length(
    value: float, model_unit: str | None, shown_unit: str | None = None, digits: int = 5
) -> str:
    """A length in model units, shown in ``shown_unit`` (the model's own by default).

    ``format_length(1.5, "m", "mm") == "1,500 mm"``; ``digits`` significant digits, trailing
    zeros dropped, thousands separated by commas.
    """
    unit = shown_unit if shown_unit is not None else (model_unit or _DEFAULT_UNIT)
    return f"{_format_number(convert(value, model_unit, unit), digits)} {unit}"


def format_area(
    value: float, model_unit: str | None, shown_unit: str | None = None, digits: int = 5
) -> str:
    """An area in model units squared, shown in ``shown_unit`` squared: ``"1.5 m²"``."""
    unit = shown_unit if shown_unit is not None else (model_unit or _DEFAULT_UNIT)
    shown = convert(value, model_unit, unit, power=2)
    return f"{_format_number(shown, digits)} {unit}{_SUPERSCRIPT[2]}"


# -- measurements ----------------------------------------------------------------------------


class Distance(NamedTuple):
    """A point-to-point distance: the total and its signed components ``b - a`` (model units)."""

    total: float
    dx: float
    dy: float
    dz: float


class PolygonArea(NamedTuple):
    """A polygon's area, its unit normal and how far it is from planar.

    ``non_planarity`` is the largest distance of a vertex from the plane through the vertices'
    centroid with that normal (model units; 0 for a planar polygon).
    """

    area: float
    normal: tuple[float, float, float]
    non_planarity: float


class Snap(NamedTuple):
    """Where a pick snapped: to a vertex, an edge midpoint, a point on an edge, or the surface."""

    kind: Literal["vertex", "edge_midpoint", "edge", "surface"]
    point: tuple[float, float, float]


def _point(p: ArrayLike, name: str) -> NDArray[np.float64]:
    """``p`` as a finite float64 3-vector, or a ``ValueError`` naming the argument."""
    v = np.asarray(p, dtype=np.float64)
    if v.shape != (3,):
        raise ValueError(f"{name} must be a 3D point (x, y, z), got shape {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} has a non-finite coordinate: {v.tolist()}")
    return v


def _triple(v: NDArray[np.float64]) -> tuple[float, float, float]:
    return (float(v[0]), float(v[1]), float(v[2]))


def distance(a: ArrayLike, b: ArrayLike) -> Distance:
    """The straight-line distance from point ``a`` to point ``b`` and its x, y, z components."""
    d = _point(b, "b") - _point(a, "a")
    return Distance(float(np.linalg.norm(d)), float(d[0]), float(d[1]), float(d[2]))


def angle(a: ArrayLike, vertex: ArrayLike, c: ArrayLike) -> float:
    """The angle ``a-vertex-c`` in degrees, 0 to 180.

    Computed as ``atan2(|u x v|, u . v)`` of the two arms, which stays accurate near 0 and 180
    degrees where ``acos`` of the normalised dot product loses digits. An arm of zero length (a
    point on the vertex) has no direction and raises ``ValueError``.
    """
    o = _point(vertex, "vertex")
    u, v = _point(a, "a") - o, _point(c, "c") - o
    scale = max(float(np.abs(o).max()), 1.0)
    for arm, name in ((u, "a"), (v, "c")):
        if float(np.linalg.norm(arm)) <= 1e-12 * scale:
            raise ValueError(
                f"angle: point {name} coincides with the vertex, so that arm has no direction"
            )
    return math.degrees(math.atan2(float(np.linalg.norm(np.cross(u, v))), float(np.dot(u, v))))


def polygon_area(points: ArrayLike) -> PolygonArea:
    """Area, normal and non-planarity of a planar or nearly planar 3D polygon (in order).

    Newell's method: the polygon's vector area is half the sum of ``p_i x p_(i+1)`` over its
    edges; it is exact for a planar polygon, convex or not, and for a nearly planar one it is the
    area of its projection on the best plane. Coordinates are taken relative to the centroid so
    that a polygon far from the origin keeps its digits. Fewer than three points, or points on
    one line (no area, no normal), raise ``ValueError``.
    """
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 3:
        raise ValueError(f"a polygon is a (k, 3) array of points, got shape {p.shape}")
    if len(p) < 3:
        raise ValueError(f"a polygon needs at least 3 points, got {len(p)}")
    if not np.all(np.isfinite(p)):
        raise ValueError("a polygon point has a non-finite coordinate")
    centre = p.mean(axis=0)
    q = p - centre
    vector = 0.5 * np.cross(q, np.roll(q, -1, axis=0)).sum(axis=0)
    area = float(np.linalg.norm(vector))
    size = float(np.abs(q).max())
    if area <= 1e-12 * size * size or size == 0:
        raise ValueError("the polygon's points lie on one line (or coincide): it has no area")
    normal = vector / area
    non_planarity = float(np.abs(q @ normal).max())
    return PolygonArea(area, _triple(normal), non_planarity)


def faces_area(model: ModelData, triangle_indices: ArrayLike) -> float:
    """Total area of the picked triangles of ``model`` (model units squared).

    A triangle picked twice counts once. An index outside the model raises ``ValueError``.
    """
    idx = np.unique(np.asarray(triangle_indices, dtype=np.int64).ravel())
    if len(idx) == 0:
        return 0.0
    if idx[0] < 0 or idx[-1] >= model.n_triangles:
        raise ValueError(
            f"triangle index out of range: the model has {model.n_triangles} triangles, "
            f"got {int(idx[0]) if idx[0] < 0 else int(idx[-1])}"
        )
    t = np.asarray(model.points, dtype=np.float64)[model.triangles[idx]]
    cross = np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0])
    return float(0.5 * np.linalg.norm(cross, axis=1).sum())


def point_location(p: ArrayLike) -> tuple[float, float, float]:
    """The coordinates of a picked point, as plain floats (model units)."""
    return _triple(_point(p, "p"))


def format_location(
    p: ArrayLike, model_unit: str | None, shown_unit: str | None = None, digits: int = 5
) -> str:
    """A point as ``"x 1,500 mm, y 0 mm, z -25.4 mm"`` in ``shown_unit``."""
    x, y, z = point_location(p)
    return ", ".join(
        f"{axis} {format_length(v, model_unit, shown_unit, digits)}"
        for axis, v in (("x", x), ("y", y), ("z", z))
    )


# -- snapping --------------------------------------------------------------------------------


def snap(model: ModelData, triangle: int, point: ArrayLike, tolerance: float) -> Snap:
    """Snap a pick on triangle ``triangle`` to the feature the user most likely meant.

    In order: the nearest of the triangle's three vertices and three edge midpoints if it is
    within ``tolerance`` (world units; the window converts its pixel tolerance at the picked
    depth); else the nearest point of an edge if within ``tolerance / 2``; else the surface point,
    which is the pick projected onto the triangle (a pick from the renderer is on it already).
    """
    if not 0 <= int(triangle) < model.n_triangles:
        raise ValueError(
            f"triangle {triangle} is out of range: the model has {model.n_triangles} triangles"
        )
    if not tolerance >= 0:
        raise ValueError(f"the snap tolerance must be >= 0, got {tolerance}")
    p = _point(point, "point")
    corners = np.asarray(model.points, dtype=np.float64)[model.triangles[int(triangle)]]
    ends = np.roll(corners, -1, axis=0)
    features = np.concatenate([corners, 0.5 * (corners + ends)])
    gaps = np.linalg.norm(features - p, axis=1)
    k = int(np.argmin(gaps))
    if gaps[k] <= tolerance:
        return Snap("vertex" if k < 3 else "edge_midpoint", _triple(features[k]))
    on_edges = closest_on_segment(np.broadcast_to(p[:, None], (3, 3)), corners.T, ends.T).T
    gaps = np.linalg.norm(on_edges - p, axis=1)
    k = int(np.argmin(gaps))
    if gaps[k] <= 0.5 * tolerance:
        return Snap("edge", _triple(on_edges[k]))
    surface = closest_on_triangle(p[:, None], *(corner[:, None] for corner in corners))[:, 0]
    return Snap("surface", _triple(surface))


# -- a picked face: the planar region around a triangle --------------------------------------


def _welded(model: ModelData, triangles: NDArray[np.intp]) -> NDArray[np.int64]:
    """The corners of ``triangles`` as ids shared by coincident points.

    Many files (STL, glTF without indices) repeat a vertex for every triangle around it, so
    neighbours are found by position: points are quantised to a millionth of the part's size.
    """
    corners = np.asarray(model.points, dtype=np.float64)[model.triangles[triangles]]
    flat = corners.reshape(-1, 3)
    lo, hi = flat.min(axis=0), flat.max(axis=0)
    step = max(float(np.linalg.norm(hi - lo)) * 1e-6, 1e-12)
    keys = np.round((flat - lo) / step).astype(np.int64)
    _, ids = np.unique(keys, axis=0, return_inverse=True)
    return ids.reshape(-1, 3).astype(np.int64)


def _edge_keys(ids: NDArray[np.int64]) -> NDArray[np.int64]:
    """Each triangle's three edges as (3 * n, 2) sorted pairs of welded ids (edge k of
    triangle t is row ``k * n + t``)."""
    edges = np.concatenate([ids[:, [0, 1]], ids[:, [1, 2]], ids[:, [2, 0]]])
    return np.sort(edges, axis=1)


def planar_region(
    model: ModelData, triangle: int, angle_tolerance: float = 1.0
) -> NDArray[np.int64]:
    """The triangles of the flat face that ``triangle`` lies on (sorted model indices).

    A face is what a user clicks on to measure its area: the triangles of the same component,
    connected to ``triangle`` through shared edges, whose normals are within ``angle_tolerance``
    degrees of its normal (same side) and which lie on its plane (within a ten-thousandth of the
    component's size). Edges are matched by position (see :func:`_welded`). Degenerate
    triangles (no normal) are left out; a degenerate ``triangle`` is its own region.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if not 0 <= int(triangle) < model.n_triangles:
        raise ValueError(
            f"triangle {triangle} is out of range: the model has {model.n_triangles} triangles"
        )
    if not 0 <= angle_tolerance < 90:
        raise ValueError(f"the angle tolerance must be within 0..90 degrees, got {angle_tolerance}")
    comp = model.cell_component[int(triangle)]
    same = np.flatnonzero(model.cell_component == comp)
    t = np.asarray(model.points, dtype=np.float64)[model.triangles[same]]
    cross = np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0])
    length = np.linalg.norm(cross, axis=1)
    seed = int(np.searchsorted(same, int(triangle)))
    if length[seed] == 0:
        return np.array([int(triangle)], np.int64)
    normal = cross / np.where(length > 0, length, 1.0)[:, None]
    n0 = normal[seed]
    size = float(np.linalg.norm(t.reshape(-1, 3).max(axis=0) - t.reshape(-1, 3).min(axis=0)))
    offset = np.abs((t - t[seed, 0]) @ n0).max(axis=1)
    flat = (length > 0) & (normal @ n0 >= math.cos(math.radians(angle_tolerance)))
    flat &= offset <= 1e-4 * size
    flat[seed] = True
    cand = np.flatnonzero(flat)
    ids = _welded(model, same[cand])
    edges = _edge_keys(ids)
    n = len(cand)
    owner = np.tile(np.arange(n), 3)
    _, edge_id = np.unique(edges, axis=0, return_inverse=True)
    edge_id = edge_id.ravel()
    order = np.argsort(edge_id, kind="stable")
    e_sorted, o_sorted = edge_id[order], owner[order]
    pair = e_sorted[1:] == e_sorted[:-1]  # consecutive triangles sharing an edge
    graph = coo_matrix(
        (np.ones(int(pair.sum())), (o_sorted[:-1][pair], o_sorted[1:][pair])), shape=(n, n)
    )
    _, labels = connected_components(graph, directed=False)
    k = int(np.searchsorted(cand, seed))
    return np.sort(same[cand[labels == labels[k]]]).astype(np.int64)


def region_outline(model: ModelData, triangles: ArrayLike) -> list[NDArray[np.float64]]:
    """The boundary loops of a set of triangles, longest first, each a (k, 3) array of points
    in order (the first point is not repeated at the end).

    Boundary edges are those used by exactly one of the triangles (matched by position). A
    boundary that is not a simple loop (two loops touching at a vertex) is split where it
    branches, so every returned chain is a walk along boundary edges.
    """
    idx = np.unique(np.asarray(triangles, dtype=np.int64).ravel())
    if len(idx) == 0:
        return []
    ids = _welded(model, idx)
    corners = np.asarray(model.points, dtype=np.float64)[model.triangles[idx]].reshape(-1, 3)
    where = np.zeros(int(ids.max()) + 1, np.int64)
    where[ids.ravel()] = np.arange(ids.size)
    position = corners[where]  # one point per welded id
    directed = np.concatenate([ids[:, [0, 1]], ids[:, [1, 2]], ids[:, [2, 0]]])
    keys = np.sort(directed, axis=1)
    _, inverse, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    boundary = directed[counts[inverse.ravel()] == 1]
    following: dict[int, list[int]] = {}
    for a, b in boundary.tolist():
        following.setdefault(a, []).append(b)
    loops: list[NDArray[np.float64]] = []
    while following:
        start = next(iter(following))
        chain = [start]
        current = start
        while True:
            nexts = following.get(current)
            if not nexts:
                break
            nxt = nexts.pop()
            if not nexts:
                del following[current]
            if nxt == start:
                break
            chain.append(nxt)
            current = nxt
        pts = position[np.asarray(chain)]
        loops.append(pts)
    loops.sort(key=lambda p: -float(np.linalg.norm(np.diff(p, axis=0, append=p[:1]), axis=1).sum()))
    return loops
