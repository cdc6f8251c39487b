"""Sensor fields on a surface: interpolation weights from point sensors to surface points.

A *field* spreads the values of one quantity's point sensors over the twin's surface. The
weights depend only on the geometry and on where the sensors are, never on the values, so they
are computed once as a matrix ``W`` (surface points x sensors) and every frame is one sparse
product, ``W @ values`` (:func:`apply_weights`). Three ways to make ``W``:

``idw``
    Inverse-distance weighting in a straight line: each point takes the ``k`` nearest sensors
    with weights ``1 / d**power`` (Shepard). Exact at a sensor (a point at distance zero takes
    that sensor's value alone), bounded by the values it mixes, and sparse (``k`` per row).
``rbf``
    Radial basis functions (:class:`scipy.interpolate.RBFInterpolator`, thin-plate spline with
    a linear polynomial, no smoothing): exact at the sensors and smooth between them; it may
    overshoot the sensor values. The interpolant is linear in the data, so interpolating the
    unit vectors of the sensors gives ``W`` in one call (dense, points x sensors: fine for the
    tens of sensors of one quantity). Weights of RBF are not positive, so a missing sensor is
    handled by fitting again without it (:func:`rbf_weights` with ``present``), not by
    renormalising.
``geodesic``
    Inverse-distance weighting of distances measured *along the surface*: shortest paths over
    the surface graph (mesh edges with their lengths) with Dijkstra's algorithm
    (:func:`scipy.sparse.csgraph.dijkstra`, stopped at ``cutoff``). In a network of tunnels or
    pipes a value then travels along the airway, not through the rock between two drifts that
    are close in a straight line but far apart along the network. Points no sensor reaches
    within the cutoff get no weight and stay uncoloured.

The surface graph (:func:`surface_graph`) copes with real models: coincident vertices are
welded first (many files repeat the vertices of every triangle), long triangles are cut into strips
until no edge is longer than the graph's resolution (:func:`refine`; a 70 m drift floor of
two triangles would otherwise have no vertex between its ends), and small gaps between
separate parts (a drift floor that stops on another one, parts modelled apart that touch) are
bridged when two vertices of different connected pieces are within ``bridge`` of each other.
A sensor need not sit on the surface (it is in the air of a drift): it is joined to the
vertices near it by edges of their straight-line length, one way only, so that no path passes
*through* a sensor.

Why not a library: the pieces are a k-d tree, a sparse graph and Dijkstra, all in scipy;
geodesic libraries (potpourri3d's heat method, pygeodesic's exact MMP) need a single manifold
mesh, which models of plants and mines rarely are, and would add a compiled dependency to the
pure core.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

log = logging.getLogger(__name__)

Method = Literal["geodesic", "idw", "rbf"]
METHODS: tuple[Method, ...] = ("geodesic", "idw", "rbf")
METHOD_LABELS: dict[Method, str] = {
    "geodesic": "along the mesh",
    "idw": "inverse distance (straight line)",
    "rbf": "radial basis functions",
}


# -- applying weights -----------------------------------------------------------------------------
def apply_weights(
    weights: sparse.csr_matrix | NDArray[np.float64], values: NDArray[np.floating]
) -> NDArray[np.float64]:
    """Field values at the points: ``W @ values`` where every sensor has a value.

    Sensors without a value (NaN) are left out and the weights of the others renormalised per
    point (right for non-negative weights, such as inverse distances); a point whose sensors
    all lack a value, or that no sensor reaches (a row of zeros), is NaN.
    """
    v = np.asarray(values, np.float64)
    present = np.isfinite(v)
    num = weights @ np.where(present, v, 0.0)
    den = weights @ present.astype(np.float64)
    out = np.full(len(num), np.nan)
    ok = den > 1e-12
    out[ok] = num[ok] / den[ok]
    return out


def _idw_rows(
    dist: NDArray[np.float64], index: NDArray[np.int64], n_sensors: int, power: float
) -> sparse.csr_matrix:
    """Rows of inverse-distance weights from each point's candidate sensors (``dist`` inf where
    there is none), normalised to one; a point at distance zero takes that sensor alone."""
    n, k = dist.shape
    with np.errstate(divide="ignore"):
        w = np.where(np.isfinite(dist), 1.0 / np.maximum(dist, 1e-300) ** power, 0.0)
    zero = np.isfinite(dist) & (dist <= 1e-12)
    exact = zero.any(axis=1)
    if exact.any():  # exact at a sensor: that sensor only (the first if two coincide)
        first = np.argmax(zero[exact], axis=1)
        w[exact] = 0.0
        w[np.flatnonzero(exact), first] = 1.0
    total = w.sum(axis=1)
    w[total > 0] /= total[total > 0, None]
    rows = np.repeat(np.arange(n), k)
    keep = w.ravel() > 0
    return sparse.csr_matrix(
        (w.ravel()[keep], (rows[keep], index.ravel()[keep])), shape=(n, n_sensors)
    )


def default_cutoff(sensors: NDArray[np.floating]) -> float:
    """How far a field reaches from its sensors by default: three times the median spacing of
    the sensors (distance from each to its nearest neighbour), so that parts far from every
    sensor are left uncoloured rather than painted with a guess."""
    pos = np.asarray(sensors, np.float64).reshape(-1, 3)
    if len(pos) < 2:
        return float("inf")
    d, _ = cKDTree(pos).query(pos, k=2)
    spacing = d[:, 1][d[:, 1] > 0]
    return 3.0 * float(np.median(spacing)) if len(spacing) else float("inf")


# -- straight-line methods -------------------------------------------------------------------------
def idw_weights(
    targets: NDArray[np.floating],
    sensors: NDArray[np.floating],
    k: int = 4,
    power: float = 2.0,
    cutoff: float = float("inf"),
) -> sparse.csr_matrix:
    """Inverse-distance weights (straight line) of the ``k`` nearest sensors within
    ``cutoff`` of each target point: a sparse (targets x sensors) matrix, rows summing to one
    (zero for a point with no sensor within the cutoff)."""
    pos = np.asarray(sensors, np.float64).reshape(-1, 3)
    pts = np.asarray(targets, np.float64).reshape(-1, 3)
    if not len(pos):
        return sparse.csr_matrix((len(pts), 0))
    k = max(1, min(k, len(pos)))
    dist, index = cKDTree(pos).query(pts, k=k, distance_upper_bound=cutoff)
    dist = np.asarray(dist, np.float64).reshape(len(pts), k)
    index = np.asarray(index, np.int64).reshape(len(pts), k)
    index[~np.isfinite(dist)] = 0
    return _idw_rows(dist, index, len(pos), power)


def rbf_weights(
    targets: NDArray[np.floating],
    sensors: NDArray[np.floating],
    kernel: str = "thin_plate_spline",
    cutoff: float = float("inf"),
    present: NDArray[np.bool_] | None = None,
) -> NDArray[np.float64]:
    """The linear map from sensor values to target values of an RBF interpolant that is exact
    at the sensors: dense (targets x sensors). Columns of sensors not ``present`` are zero (the
    interpolant is fitted to the others); rows of targets farther than ``cutoff`` from every
    present sensor are zero.

    Sensors in a line or a plane cannot carry the thin-plate spline's linear polynomial; the
    linear kernel with a constant is used for them instead (still exact at the sensors)."""
    from scipy.interpolate import RBFInterpolator

    pos = np.asarray(sensors, np.float64).reshape(-1, 3)
    pts = np.asarray(targets, np.float64).reshape(-1, 3)
    use = np.ones(len(pos), bool) if present is None else np.asarray(present, bool)
    out = np.zeros((len(pts), len(pos)))
    idx = np.flatnonzero(use)
    if not len(idx) or not len(pts):
        return out
    sub = pos[idx]
    if len(idx) == 1:
        out[:, idx[0]] = 1.0
    else:
        eye = np.eye(len(idx))
        flat = np.linalg.matrix_rank(np.c_[sub, np.ones(len(sub))]) < 4
        if kernel == "thin_plate_spline" and flat:
            kernel = "linear"
        degree = 0 if kernel == "linear" else 1
        try:
            fitted = RBFInterpolator(sub, eye, kernel=kernel, degree=degree, smoothing=0.0)
        except (np.linalg.LinAlgError, ValueError):
            fitted = RBFInterpolator(sub, eye, kernel="linear", degree=0, smoothing=0.0)
        out[:, idx] = fitted(pts)
    if np.isfinite(cutoff):
        near = np.isfinite(cKDTree(sub).query(pts, distance_upper_bound=cutoff)[0])
        out[~near] = 0.0
    return out


# -- the surface graph -----------------------------------------------------------------------------
def weld(points: NDArray[np.floating], tol: float) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Merge vertices closer than about ``tol`` (same cell of a ``tol`` grid): the welded
    points and, for each input point, its welded index."""
    pts = np.asarray(points, np.float64).reshape(-1, 3)
    if not len(pts):
        return pts, np.zeros(0, np.int64)
    keys = np.round(pts / tol).astype(np.int64)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    return pts[first], inverse.ravel().astype(np.int64)


def refine(
    points: NDArray[np.floating],
    triangles: NDArray[np.integer],
    max_edge: float,
    max_rounds: int = 8,
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    """Cut triangles into strips until no edge is longer than ``max_edge``: the points (the
    originals first, then the new ones), the triangles, and the original triangle each came
    from. A long triangle is cut across its two long edges (:func:`_strips`); a strip still
    wider than ``max_edge`` is cut again the other way. Neighbours that cut a shared edge into
    different numbers of steps keep T-junctions; the field is drawn per vertex and the graph
    bridges them, so that leaves no visible crack on a flat surface and no break in a path."""
    pts = np.asarray(points, np.float64).reshape(-1, 3)
    tri = np.asarray(triangles, np.int64).reshape(-1, 3)
    parent = np.arange(len(tri), dtype=np.int64)
    done_tri: list[NDArray[np.int64]] = []
    done_parent: list[NDArray[np.int64]] = []
    for _ in range(max_rounds):
        # only the triangles the last round made can still be too long
        pts, kept, kept_from, tri, step_parent = _strips(pts, tri, max_edge)
        done_tri.append(kept)
        done_parent.append(parent[kept_from])
        parent = parent[step_parent]
        if not len(tri):
            break
    done_tri.append(tri)
    done_parent.append(parent)
    return pts, np.concatenate(done_tri), np.concatenate(done_parent)


def _strips(
    pts: NDArray[np.float64], tri: NDArray[np.int64], max_edge: float
) -> tuple[
    NDArray[np.float64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]
]:
    """Cut long triangles into strips across their two long edges: the apex opposite the
    shortest edge is joined by ``n`` equal steps along both long edges to the short one (a
    2 x 160 m sliver of a tube becomes 2n triangles, where bisection would make thousands).
    Returns points (originals first), the triangles left as they were and the row each came
    from, and the new triangles and the row each was cut from."""
    lengths = np.empty((len(tri), 3))
    for i in range(3):  # column i: the edge opposite vertex i
        d = pts[tri[:, (i + 2) % 3]] - pts[tri[:, (i + 1) % 3]]
        lengths[:, i] = np.sqrt(np.einsum("ij,ij->i", d, d))
    apex = np.argmin(lengths, axis=1)
    rows = np.arange(len(tri))
    a = tri[rows, apex]
    b = tri[rows, (apex + 1) % 3]
    c = tri[rows, (apex + 2) % 3]
    long_edge = np.maximum(lengths[rows, (apex + 1) % 3], lengths[rows, (apex + 2) % 3])
    n = np.maximum(np.ceil(long_edge / max_edge).astype(np.int64), 1)
    cut = n > 1
    keep_tri, keep_parent = tri[~cut], rows[~cut]
    if not cut.any():
        return pts, keep_tri, keep_parent, tri[:0], rows[:0]
    a, b, c, n, parent = a[cut], b[cut], c[cut], n[cut], rows[cut]
    # new points P_i on AB and Q_i on AC, i = 1..n-1, for each cut triangle
    inner = n - 1
    owner = np.repeat(np.arange(len(n)), inner)
    start = np.cumsum(inner) - inner
    step = np.arange(int(inner.sum())) - np.repeat(start, inner) + 1  # i = 1..n-1
    frac = (step / n[owner])[:, None]
    p_new = pts[a[owner]] + (pts[b[owner]] - pts[a[owner]]) * frac
    q_new = pts[a[owner]] + (pts[c[owner]] - pts[a[owner]]) * frac
    base_p = len(pts) + start  # index of P_1 of each triangle; Q_1 follows all the P's
    base_q = len(pts) + int(inner.sum()) + start

    def p_of(t: NDArray[np.int64], i: NDArray[np.int64]) -> NDArray[np.int64]:
        return np.where(i == 0, a[t], np.where(i == n[t], b[t], base_p[t] + i - 1))

    def q_of(t: NDArray[np.int64], i: NDArray[np.int64]) -> NDArray[np.int64]:
        return np.where(i == 0, a[t], np.where(i == n[t], c[t], base_q[t] + i - 1))

    # strip i (0..n-1): (P_i, P_i+1, Q_i+1) and, for i > 0, (P_i, Q_i+1, Q_i)
    t = np.repeat(np.arange(len(n)), n)
    i = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    first = np.stack([p_of(t, i), p_of(t, i + 1), q_of(t, i + 1)], axis=1)
    t2, i2 = t[i > 0], i[i > 0]
    second = np.stack([p_of(t2, i2), q_of(t2, i2 + 1), q_of(t2, i2)], axis=1)
    out_pts = np.concatenate([pts, p_new, q_new])
    new_tri = np.concatenate([first, second])
    new_parent = np.concatenate([parent[t], parent[t2]])
    return out_pts, keep_tri, keep_parent, new_tri, new_parent


@dataclass
class SurfaceGraph:
    """Vertices of a surface joined by its edges (and by bridges over small gaps)."""

    points: NDArray[np.float64]  # (V, 3) welded vertices
    edges: sparse.csr_matrix  # (V, V) symmetric, edge lengths
    vertex_of: NDArray[np.int64]  # for each input point, its welded vertex
    bridges: int  # edges added over gaps between separate pieces
    pieces: int  # connected pieces after bridging


def surface_graph(
    points: NDArray[np.floating],
    triangles: NDArray[np.integer],
    bridge: float = 0.0,
    weld_tol: float | None = None,
) -> SurfaceGraph:
    """The graph of a triangle surface: welded vertices, every triangle edge with its length,
    and bridges between vertices of different connected pieces closer than ``bridge``."""
    pts = np.asarray(points, np.float64).reshape(-1, 3)
    tri = np.asarray(triangles, np.int64).reshape(-1, 3)
    if weld_tol is None:
        span = float(np.ptp(pts, axis=0).max()) if len(pts) else 1.0
        weld_tol = max(span, 1e-9) * 1e-7
    welded, vertex_of = weld(pts, weld_tol)
    n = len(welded)
    t = vertex_of[tri]
    a = np.concatenate([t[:, 0], t[:, 1], t[:, 2]])
    b = np.concatenate([t[:, 1], t[:, 2], t[:, 0]])
    keep = a != b
    a, b = a[keep], b[keep]
    length = np.linalg.norm(welded[a] - welded[b], axis=1)
    graph = sparse.coo_matrix((length, (a, b)), shape=(n, n)).tocsr()
    graph = graph.maximum(graph.T).tocsr()  # undirected; duplicate edges keep one length
    n_bridges = 0
    if bridge > 0 and n > 1:
        n_pieces, label = connected_components(graph, directed=False)
        if n_pieces > 1:
            pairs = _nearest_across(welded, label, bridge)
            if len(pairs):
                d = np.linalg.norm(welded[pairs[:, 0]] - welded[pairs[:, 1]], axis=1)
                d = np.maximum(d, 1e-9)  # welded apart yet touching: a zero would be no edge
                extra = sparse.coo_matrix((d, (pairs[:, 0], pairs[:, 1])), shape=(n, n)).tocsr()
                graph = graph.maximum(extra.maximum(extra.T)).tocsr()
                n_bridges = len(pairs)
    pieces = connected_components(graph, directed=False)[0] if n else 0
    return SurfaceGraph(welded, graph, vertex_of, n_bridges, int(pieces))


def _nearest_across(
    points: NDArray[np.float64], label: NDArray[np.int32], reach: float, k: int = 12
) -> NDArray[np.int64]:
    """For each vertex, its nearest vertex of another connected piece within ``reach`` (among
    its ``k`` nearest): pairs (i, j). One bridge per vertex keeps the graph small where two
    pieces run close over a long way (the two walls of a tube)."""
    k = min(k, len(points))
    dist, idx = cKDTree(points).query(points, k=k, distance_upper_bound=reach)
    dist = np.asarray(dist).reshape(len(points), k)
    idx = np.asarray(idx).reshape(len(points), k)
    ok = np.isfinite(dist)
    safe = np.where(ok, idx, 0)
    other = ok & (label[safe] != label[:, None])
    has = other.any(axis=1)
    col = np.argmax(other, axis=1)  # the first (nearest) in another piece
    i = np.flatnonzero(has)
    return np.stack([i, safe[i, col[i]]], axis=1).astype(np.int64)


def geodesic_weights(
    graph: SurfaceGraph,
    sensors: NDArray[np.floating],
    k: int = 4,
    power: float = 2.0,
    cutoff: float | None = None,
    attach: float = 0.0,
) -> sparse.csr_matrix:
    """Inverse-distance weights of the ``k`` sensors nearest *along the surface* to each input
    point of ``graph`` (rows: the points the graph was built from; columns: sensors).

    Each sensor is a source node joined one way to the vertices within ``1.5 x`` its distance
    to the nearest vertex (plus ``attach``), with edges of their straight-line length; Dijkstra
    runs from each sensor in turn, keeping the ``k`` best distances per vertex. Distances
    beyond ``cutoff`` count as unreached; ``None`` takes 1.5 times the median distance along
    the surface from a sensor to its nearest reachable neighbour (straight-line spacing would
    be too short for a network: neighbours are farther apart along it). Rows of points no
    sensor reaches are zero."""
    pos = np.asarray(sensors, np.float64).reshape(-1, 3)
    n = len(graph.points)
    n_s = len(pos)
    if not n_s or not n:
        return sparse.csr_matrix((len(graph.vertex_of), n_s))
    tree = cKDTree(graph.points)
    d0, anchor = tree.query(pos)
    rows: list[NDArray[np.int64]] = []
    cols: list[NDArray[np.int64]] = []
    vals: list[NDArray[np.float64]] = []
    for j in range(n_s):
        near = np.asarray(tree.query_ball_point(pos[j], 1.5 * d0[j] + attach + 1e-9), np.int64)
        if len(near) > 64:  # the 64 nearest are plenty to enter the surface
            near = np.asarray(tree.query(pos[j], k=64)[1], np.int64)
        rows.append(np.full(len(near), n + j, np.int64))
        cols.append(near)
        vals.append(np.maximum(np.linalg.norm(graph.points[near] - pos[j], axis=1), 1e-300))
    size = n + n_s
    edges = graph.edges.tocoo()
    full = sparse.coo_matrix(
        (
            np.concatenate([edges.data, *vals]),
            (np.concatenate([edges.row, *rows]), np.concatenate([edges.col, *cols])),
        ),
        shape=(size, size),
    ).tocsr()
    k = max(1, min(k, n_s))
    best_d = np.full((n, k), np.inf)
    best_i = np.zeros((n, k), np.int64)
    between = np.full((n_s, n_s), np.inf)  # along the surface, sensor to sensor
    limit = np.inf if cutoff is None else cutoff
    for j in range(n_s):
        d = dijkstra(full, directed=True, indices=n + j, limit=limit)[:n]
        # a sensor exactly on a vertex reaches it at (almost) zero: make that exact
        d[d <= 1e-200] = 0.0
        between[j] = d[anchor] + d0
        cand_d = np.concatenate([best_d, d[:, None]], axis=1)
        cand_i = np.concatenate([best_i, np.full((n, 1), j, np.int64)], axis=1)
        order = np.argsort(cand_d, axis=1, kind="stable")[:, :k]
        best_d = np.take_along_axis(cand_d, order, axis=1)
        best_i = np.take_along_axis(cand_i, order, axis=1)
    if cutoff is None:
        np.fill_diagonal(between, np.inf)
        nearest = between.min(axis=1)
        nearest = nearest[np.isfinite(nearest) & (nearest > 0)]
        if len(nearest):
            best_d[best_d > 1.5 * float(np.median(nearest))] = np.inf
    per_vertex = _idw_rows(best_d, best_i, n_s, power)
    return per_vertex[graph.vertex_of]


def sensor_spread(weights: sparse.csr_matrix | NDArray[np.float64]) -> NDArray[np.bool_]:
    """Which rows (points) any sensor reaches: the points a field can colour."""
    if sparse.issparse(weights):
        return np.asarray(abs(weights).sum(axis=1)).ravel() > 0
    return np.abs(np.asarray(weights)).sum(axis=1) > 0


def check_method(method: str) -> Method:
    """``method`` as a :data:`Method`, or a ValueError naming the choices."""
    if method not in METHODS:
        raise ValueError(f"unknown field method {method!r}; expected one of {', '.join(METHODS)}")
    return method
