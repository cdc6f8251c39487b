"""Exact closest points between triangles, and the clearance between two components.

The kernels here work on stacks of triangles (``(n, 3, 3)`` float64 arrays) so that numpy does
the loops. :func:`clearance` combines them with pruning so that two components of ~50k triangles
each are usually compared in a fraction of a second instead of testing all 2.5e9 triangle pairs.

How the clearance stays exact while skipping almost every pair
---------------------------------------------------------------
Every pruning step compares a *lower bound* of a pair's distance with an *upper bound* ``U`` of the
answer, and only drops a pair when its lower bound is at least ``U``: such a pair cannot hold a
distance below one already found, so the minimum is never lost.

1. ``U`` starts as an achieved distance. A KD-tree (``scipy.spatial.cKDTree``) of component B's
   vertices gives A's vertices their nearest vertex of B (a strided sample of A first, so that
   the full query may give up beyond that distance); the triangles around the eight closest
   vertex pairs are compared exactly, so ``U`` is a real triangle-pair distance, close to the
   answer on a fine mesh.
2. Each component's triangles go into a bounding-volume hierarchy: sorted once along a Z-order
   (Morton) curve through their centres, then halved by count level after level (a balanced,
   implicit tree whose nodes are runs of consecutive triangles), each node keeping the
   axis-aligned box of its triangles. The distance between two boxes is a lower bound of the
   distance between anything inside them.
3. Both trees are descended together, level by level, keeping only node pairs whose boxes are
   closer than ``U``.
4. The surviving leaf pairs are taken nearest box first, in batches. Their triangle pairs are
   filtered by the triangles' boxes, then by their separation along the centroid-to-centroid
   axis (:func:`_axis_bound`), and the survivors compared exactly, lowest bound first, in chunks;
   ``U`` shrinks as better pairs are found, and the search ends when the next bound reaches
   ``U`` (at once when ``U`` is 0).

Cost: touching, interpenetrating, far apart, or close in one region (a sphere over a plate), two
components of 50k triangles take ~0.05-0.15 s. The hard case is two surfaces that stay at almost
the same distance over their whole area with a gap wider than their triangles (a shaft in a bore):
every bound then has to be nearly exact to drop a pair, and a 50k x 50k shaft in a bore takes
seconds.

The exact triangle-triangle distance is the minimum over the nine edge-edge distances and the six
vertex-triangle distances, and zero when an edge of one triangle passes through the other (which
covers every way two triangles can intersect or touch).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from twinviewer.core.model import ModelData

log = logging.getLogger(__name__)

F64 = NDArray[np.float64]

_LEAF = 8  # triangles per leaf of the hierarchy (at most)
_SEED_PAIRS = 8  # closest vertex pairs whose triangles set the first upper bound
_LEAF_BATCH = 1024  # leaf pairs expanded at once
_EXACT_CHUNK = 1024  # triangle pairs compared exactly at once, at first
_EXACT_CHUNK_MAX = 32768  # ... and at most


class Clearance(NamedTuple):
    """The minimum distance between two components and where it is reached (model units).

    ``triangle_a`` and ``triangle_b`` are the model's indices of the triangles that hold
    ``point_a`` and ``point_b``.
    """

    distance: float
    point_a: tuple[float, float, float]
    point_b: tuple[float, float, float]
    triangle_a: int
    triangle_b: int


# -- kernels: vectorised closest points ------------------------------------------------------
#
# The kernels take vectors coordinate-first: a stack of n points is a (3, n) array, so that every
# arithmetic step is one contiguous numpy operation over the n pairs.


def _dot(u: F64, v: F64) -> F64:
    return u[0] * v[0] + u[1] * v[1] + u[2] * v[2]


def _cross(u: F64, v: F64) -> F64:
    return np.stack(
        [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]]
    )


def _safe_div(num: F64, den: F64) -> F64:
    """``num / den`` where ``den`` is non-zero, 0 elsewhere (the caller masks those entries)."""
    return np.divide(num, den, out=np.zeros_like(num), where=den != 0)


def closest_on_segments(p1: F64, q1: F64, p2: F64, q2: F64) -> tuple[F64, F64]:
    """The closest points of segments ``p1-q1`` and ``p2-q2`` (``(3, n)`` stacks).

    The segments are ``p1 + s d1`` and ``p2 + t d2`` with ``s, t`` in [0, 1]. For non-parallel
    segments the unconstrained optimum ``s`` is clamped to [0, 1], ``t`` follows from it and, when
    ``t`` leaves [0, 1], it is clamped and ``s`` recomputed for that end: the standard
    construction, which reaches the true minimum because the squared distance is convex in
    ``(s, t)``. Parallel segments start from ``s = 0`` and the same clamping ends on an endpoint
    and its projection, which is a closest pair. A zero-length segment is a point: its parameter
    stays 0 (the divisions by its zero length give 0).
    """
    d1, d2, r = q1 - p1, q2 - p2, p1 - p2
    a, e = _dot(d1, d1), _dot(d2, d2)
    b, c, f = _dot(d1, d2), _dot(d1, r), _dot(d2, r)
    denom = a * e - b * b
    general = denom > 1e-14 * a * e
    s_point = np.clip(_safe_div(-c, a), 0.0, 1.0)  # p2 against the first segment
    s = np.where(general, np.clip(_safe_div(b * f - c * e, denom), 0.0, 1.0), 0.0)
    s = np.where(e == 0, s_point, s)
    t = _safe_div(b * s + f, e)
    s = np.where(t < 0.0, s_point, s)
    s = np.where(t > 1.0, np.clip(_safe_div(b - c, a), 0.0, 1.0), s)
    t = np.clip(t, 0.0, 1.0)
    return p1 + s * d1, p2 + t * d2


def closest_on_segment(p: F64, a: F64, b: F64) -> F64:
    """The point of segment ``a-b`` nearest to ``p`` (``(3, n)`` stacks)."""
    ab = b - a
    t = np.clip(_safe_div(_dot(p - a, ab), _dot(ab, ab)), 0.0, 1.0)
    return a + t * ab


def closest_on_triangle(p: F64, a: F64, b: F64, c: F64) -> F64:
    """The point of triangle ``abc`` nearest to ``p`` (``(3, n)`` stacks).

    Where the point lies among the triangle's Voronoi regions (three vertices, three edges, the
    face) is read from six dot products; the regions are tested in a fixed order and the first
    that holds decides. A degenerate (zero-area) triangle that would fall in the face region is
    answered by its nearest edge instead.
    """
    ab, ac = b - a, c - a
    ap, bp, cp = p - a, p - b, p - c
    d1, d2 = _dot(ab, ap), _dot(ac, ap)
    d3, d4 = _dot(ab, bp), _dot(ac, bp)
    d5, d6 = _dot(ab, cp), _dot(ac, cp)
    vc = d1 * d4 - d3 * d2
    vb = d5 * d2 - d1 * d6
    va = d3 * d6 - d5 * d4
    regions = [  # in the order they are tested
        ((d1 <= 0) & (d2 <= 0), a),
        ((d3 >= 0) & (d4 <= d3), b),
        ((vc <= 0) & (d1 >= 0) & (d3 <= 0), a + _safe_div(d1, d1 - d3) * ab),
        ((d6 >= 0) & (d5 <= d6), c),
        ((vb <= 0) & (d2 >= 0) & (d6 <= 0), a + _safe_div(d2, d2 - d6) * ac),
        ((va <= 0) & (d4 >= d3) & (d5 >= d6), b + _safe_div(d4 - d3, d4 - d3 + d5 - d6) * (c - b)),
    ]
    total = va + vb + vc
    out = a + _safe_div(vb, total) * ab + _safe_div(vc, total) * ac
    in_face = np.ones(p.shape[1], dtype=bool)
    for inside, point in reversed(regions):  # the last applied, the first tested, wins
        out = np.where(inside, point, out)
        in_face &= ~inside
    flat = in_face & (total <= 0)
    if np.any(flat):  # degenerate triangle: the nearest of its three edges
        q, sa, sb, sc = p[:, flat], a[:, flat], b[:, flat], c[:, flat]
        edges = np.stack([closest_on_segment(q, u, v) for u, v in ((sa, sb), (sb, sc), (sc, sa))])
        gaps = ((edges - q) ** 2).sum(axis=1)
        out[:, flat] = edges[np.argmin(gaps, axis=0), :, np.arange(q.shape[1])].T
    return out


def _pierce(p: F64, q: F64, a: F64, b: F64, c: F64) -> tuple[NDArray[np.bool_], F64]:
    """Where segment ``p-q`` crosses triangle ``abc``, strictly from one side of its plane to the
    other (touching is found by the vertex and edge distances)."""
    n = _cross(b - a, c - a)
    dp, dq = _dot(n, p - a), _dot(n, q - a)
    crosses = dp * dq < 0
    x = p + _safe_div(dp, dp - dq) * (q - p)
    inside = (
        (_dot(n, _cross(b - a, x - a)) >= 0)
        & (_dot(n, _cross(c - b, x - b)) >= 0)
        & (_dot(n, _cross(a - c, x - c)) >= 0)
    )
    return crosses & inside, x


def _pair_distances(ta: F64, tb: F64) -> tuple[F64, F64, F64]:
    """:func:`triangle_distances` on ``(3 vertices, 3 coordinates, n)`` stacks; squared."""
    n = ta.shape[2]
    best = np.full(n, np.inf)
    pa = np.zeros((3, n))
    pb = np.zeros((3, n))
    for i in range(3):
        for j in range(3):
            x, y = closest_on_segments(ta[i], ta[(i + 1) % 3], tb[j], tb[(j + 1) % 3])
            d2 = _dot(x - y, x - y)
            better = d2 < best
            best, pa, pb = (
                np.where(better, d2, best),
                np.where(better, x, pa),
                np.where(better, y, pb),
            )
    for k in range(3):
        for x, y in (
            (ta[k], closest_on_triangle(ta[k], *tb)),
            (closest_on_triangle(tb[k], *ta), tb[k]),
        ):
            d2 = _dot(x - y, x - y)
            better = d2 < best
            best, pa, pb = (
                np.where(better, d2, best),
                np.where(better, x, pa),
                np.where(better, y, pb),
            )
    # an edge through the other triangle: only possible where the two boxes overlap
    overlap = np.all(
        (ta.min(axis=0) <= tb.max(axis=0)) & (tb.min(axis=0) <= ta.max(axis=0)), axis=0
    )
    sub = np.flatnonzero(overlap)
    if len(sub):
        sa, sb = ta[:, :, sub], tb[:, :, sub]
        for k in range(3):
            for first, second in ((sa, sb), (sb, sa)):
                hit, x = _pierce(first[k], first[(k + 1) % 3], *second)
                where = sub[hit]
                best[where] = 0.0
                pa[:, where] = pb[:, where] = x[:, hit]
    return best, pa, pb


def triangle_distances(tri_a: ArrayLike, tri_b: ArrayLike) -> tuple[F64, F64, F64]:
    """Exact distances and closest points of triangle pairs.

    ``tri_a`` and ``tri_b`` are ``(n, 3, 3)`` (pair ``i`` is ``tri_a[i]`` with ``tri_b[i]``).
    Returns ``(distance (n,), point_a (n, 3), point_b (n, 3))``. The distance is the minimum of
    the nine edge-edge and six vertex-triangle distances, and zero (at the crossing point) when an
    edge of either triangle passes through the other: every way two triangles can come closest,
    touch or intersect is one of these.
    """
    ta = np.asarray(tri_a, dtype=np.float64).reshape(-1, 3, 3)
    tb = np.asarray(tri_b, dtype=np.float64).reshape(-1, 3, 3)
    best, pa, pb = _pair_distances(
        np.ascontiguousarray(ta.transpose(1, 2, 0)), np.ascontiguousarray(tb.transpose(1, 2, 0))
    )
    return np.sqrt(best), pa.T.copy(), pb.T.copy()


# -- the bounding-volume hierarchy ------------------------------------------------------------


def _spread_bits(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """Spread the low 21 bits of ``x`` so that two zero bits follow each (Morton interleaving)."""
    for shift, mask in (
        (32, 0x1F00000000FFFF),
        (16, 0x1F0000FF0000FF),
        (8, 0x100F00F00F00F00F),
        (4, 0x10C30C30C30C30C3),
        (2, 0x1249249249249249),
    ):
        x = (x | (x << np.uint64(shift))) & np.uint64(mask)
    return x


def _morton_order(centre: F64) -> NDArray[np.intp]:
    """Triangles sorted along a Z-order curve through their centres (21 bits per axis)."""
    lo = centre.min(axis=0)
    size = float((centre.max(axis=0) - lo).max())
    scale = (2**21 - 1) / size if size > 0 else 0.0
    cells = ((centre - lo) * scale).astype(np.uint64)
    code = (
        _spread_bits(cells[:, 0])
        | (_spread_bits(cells[:, 1]) << np.uint64(1))
        | (_spread_bits(cells[:, 2]) << np.uint64(2))
    )
    return np.argsort(code, kind="stable")


class _Tree:
    """A balanced, implicit hierarchy of boxes over a set of triangles.

    The triangles are sorted once along a Z-order (Morton) curve through their centres, so that
    any run of consecutive triangles is a compact patch. Node ``i`` of level ``k`` is the run
    ``order[starts[k][i]:starts[k][i + 1]]`` with ``starts[k] = (arange(2**k + 1) * n) // 2**k``:
    a node's two children are the two halves of its run, and ``2**depth`` leaves hold at most
    ``_LEAF`` triangles each. ``lo[k]`` and ``hi[k]`` are the nodes' boxes, built from the leaves
    up; ``leaves`` is the ``(2**depth, width)`` table of each leaf's triangles, padded with -1.

    """

    def __init__(self, tri_lo: F64, tri_hi: F64) -> None:
        n = len(tri_lo)
        self.depth = int(np.ceil(np.log2(n / _LEAF))) if n > _LEAF else 0
        order = _morton_order((tri_lo + tri_hi) * 0.5)
        starts = self._starts(self.depth, n)
        lo = np.minimum.reduceat(tri_lo[order], starts[:-1])
        hi = np.maximum.reduceat(tri_hi[order], starts[:-1])
        self.lo: list[F64] = [lo]
        self.hi: list[F64] = [hi]
        for _ in range(self.depth):
            lo, hi = np.minimum(lo[0::2], lo[1::2]), np.maximum(hi[0::2], hi[1::2])
            self.lo.insert(0, lo)
            self.hi.insert(0, hi)
        sizes = np.diff(starts)
        column = np.arange(int(sizes.max()))
        self.leaves = np.where(
            column < sizes[:, None], order[np.minimum(starts[:-1, None] + column, n - 1)], -1
        )

    @staticmethod
    def _starts(level: int, n: int) -> NDArray[np.int64]:
        return (np.arange(2**level + 1, dtype=np.int64) * n) // 2**level


def _box_gap2(lo_a: F64, hi_a: F64, lo_b: F64, hi_b: F64) -> F64:
    """Squared distance between axis-aligned boxes (0 when they overlap)."""
    gap = np.maximum(np.maximum(lo_a - hi_b, lo_b - hi_a), 0.0)
    return np.square(gap).sum(axis=-1)


# -- the clearance ---------------------------------------------------------------------------


def _component_triangles(
    model: ModelData, comp: int | str | Sequence[int]
) -> tuple[set[int], NDArray[np.intp]]:
    """The component indices and the model's triangle indices of a component (index or id), or
    of a list of components."""
    if isinstance(comp, str):
        indices = [model.index_of(comp)]
    elif isinstance(comp, (int, np.integer)):
        indices = [int(comp)]
    else:
        indices = [int(i) for i in comp]
    for i in indices:
        if not 0 <= i < model.n_components:
            raise ValueError(f"component index {i} is out of range (0..{model.n_components - 1})")
    tris = np.flatnonzero(np.isin(model.cell_component, indices))
    if len(tris) == 0:
        names = ", ".join(repr(model.components[i].id) for i in indices)
        raise ValueError(
            f"component {names} has no triangles (a group? pass the indices of its subtree)"
        )
    return set(indices), tris


class _Search:
    """The running minimum of a clearance search: the best distance so far and where it is."""

    def __init__(self, ta: F64, tb: F64) -> None:
        self.ta, self.tb = ta, tb
        self.best = np.inf
        self.pair = (0, 0)
        self.points = (np.zeros(3), np.zeros(3))
        self.compared = 0

    def compare(self, ia: NDArray[np.intp], ib: NDArray[np.intp]) -> None:
        """Compare triangle pairs ``(ia[k], ib[k])`` exactly and keep the closest."""
        if len(ia) == 0:
            return
        d2, pa, pb = _pair_distances(
            np.ascontiguousarray(self.ta[ia].transpose(1, 2, 0)),
            np.ascontiguousarray(self.tb[ib].transpose(1, 2, 0)),
        )
        self.compared += len(ia)
        k = int(np.argmin(d2))
        if d2[k] < self.best**2:
            self.best = float(np.sqrt(d2[k]))
            self.pair = (int(ia[k]), int(ib[k]))
            self.points = (pa[:, k], pb[:, k])


def _used(tri: NDArray[np.int32], n_points: int) -> NDArray[np.intp]:
    """The point indices that the triangles use, each once."""
    used = np.zeros(n_points, dtype=bool)
    used[tri.ravel()] = True
    return np.flatnonzero(used)


def _seed(
    search: _Search, tri_a: NDArray[np.int32], tri_b: NDArray[np.int32], pts: NDArray[np.floating]
) -> None:
    """A first, achieved upper bound from the triangles around the closest vertex pairs."""
    verts_a, verts_b = _used(tri_a, len(pts)), _used(tri_b, len(pts))
    at_a, at_b = pts[verts_a].astype(np.float64), pts[verts_b].astype(np.float64)
    tree = cKDTree(at_b)
    # a sample of A's vertices bounds the answer first, so that the query of all of them may
    # give up on every vertex farther than that: far apart components would be slow otherwise
    sample = slice(None, None, max(1, len(verts_a) // 256))
    bound = float(tree.query(at_a[sample], k=1)[0].min())
    dist, nearest = tree.query(at_a, k=1, distance_upper_bound=bound * (1 + 1e-9) + 1e-300)
    closest = np.argsort(dist)[:_SEED_PAIRS]
    closest = closest[np.isfinite(dist[closest])]
    near_a = np.any(np.isin(tri_a, verts_a[closest]), axis=1)
    near_b = np.any(np.isin(tri_b, verts_b[nearest[closest]]), axis=1)
    grid_a, grid_b = np.meshgrid(np.flatnonzero(near_a), np.flatnonzero(near_b), indexing="ij")
    search.compare(grid_a.ravel(), grid_b.ravel())


def _leaf_pairs(tree_a: _Tree, tree_b: _Tree, bound: float) -> tuple[NDArray, NDArray, F64]:
    """Leaf pairs that may hold a distance below ``bound``, nearest first, with that lower bound.

    Both trees are descended together, a level at a time (the shallower tree waits at its
    leaves); a node pair is dropped when its boxes are at least ``bound`` apart.
    """
    na = nb = np.zeros(1, np.int64)
    low = np.zeros(1)
    for level in range(1, max(tree_a.depth, tree_b.depth) + 1):
        split_a, split_b = level <= tree_a.depth, level <= tree_b.depth
        ca = 2 * na[:, None] + np.arange(2) if split_a else na[:, None]
        cb = 2 * nb[:, None] + np.arange(2) if split_b else nb[:, None]
        shape = (len(na), ca.shape[1], cb.shape[1])
        na = np.broadcast_to(ca[:, :, None], shape).ravel()
        nb = np.broadcast_to(cb[:, None, :], shape).ravel()
        la, lb = min(level, tree_a.depth), min(level, tree_b.depth)
        low = np.sqrt(
            _box_gap2(tree_a.lo[la][na], tree_a.hi[la][na], tree_b.lo[lb][nb], tree_b.hi[lb][nb])
        )
        keep = low < bound
        na, nb, low = na[keep], nb[keep], low[keep]
    order = np.argsort(low, kind="stable")
    return na[order], nb[order], low[order]


def clearance(
    model: ModelData, comp_a: int | str | Sequence[int], comp_b: int | str | Sequence[int]
) -> Clearance:
    """The minimum distance between the surfaces of two components, exactly, in model units.

    ``comp_a`` and ``comp_b`` are component indices, ids, or lists of indices (for a group, pass
    ``model.subtree(i)``: the union of its parts' triangles). All triangles of each side count;
    the answer is zero when the two touch or intersect. A side without triangles, or components
    on both sides, raise ``ValueError``. See the module docstring for how the search prunes.
    """
    comps_a, sel_a = _component_triangles(model, comp_a)
    comps_b, sel_b = _component_triangles(model, comp_b)
    if comps_a & comps_b:
        raise ValueError("the same component is on both sides of the clearance")
    pts = model.points
    tri_a, tri_b = model.triangles[sel_a], model.triangles[sel_b]
    search = _Search(pts[tri_a].astype(np.float64), pts[tri_b].astype(np.float64))
    _seed(search, tri_a, tri_b, pts)
    if search.best > 0:
        _refine(search)
    log.debug(
        "clearance %d x %d triangles: %d pairs compared exactly, distance %g",
        len(sel_a),
        len(sel_b),
        search.compared,
        search.best,
    )
    pa, pb = search.points
    return Clearance(
        distance=search.best,
        point_a=(float(pa[0]), float(pa[1]), float(pa[2])),
        point_b=(float(pb[0]), float(pb[1]), float(pb[2])),
        triangle_a=int(sel_a[search.pair[0]]),
        triangle_b=int(sel_b[search.pair[1]]),
    )


def _boxes(t: F64) -> tuple[F64, F64]:
    """The axis-aligned boxes ``(lo, hi)`` of ``(n, 3, 3)`` triangles."""
    lo = np.minimum(np.minimum(t[:, 0], t[:, 1]), t[:, 2])
    hi = np.maximum(np.maximum(t[:, 0], t[:, 1]), t[:, 2])
    return lo, hi


def _axis_bound(
    ta: F64, tb: F64, ca: F64, cb: F64, ia: NDArray[np.intp], ib: NDArray[np.intp]
) -> F64:
    """A lower bound of each pair's distance: their separation along the centre-to-centre axis.

    With ``u`` the unit vector from centroid ``ca`` to ``cb``, every point ``x`` of triangle A and
    ``y`` of triangle B satisfy ``|y - x| >= u.(y - x) >= |cb - ca| - reach_a - reach_b``, where
    ``reach_a`` is how far A's vertices extend towards B along ``u`` and ``reach_b`` how far B's
    extend back. For two faces that face each other across a gap this is close to the true
    distance even where their boxes, tilted with the surface, overlap the gap.
    """
    w = cb[ib] - ca[ia]
    length = np.sqrt(np.square(w).sum(axis=1))
    u = w / np.where(length > 0, length, 1.0)[:, None]
    reach_a = np.einsum("kvi,ki->kv", ta[ia] - ca[ia, None], u).max(axis=1)
    reach_b = -np.einsum("kvi,ki->kv", tb[ib] - cb[ib, None], u).min(axis=1)
    return np.maximum(length - reach_a - reach_b, 0.0)


def _refine(search: _Search) -> None:
    """Descend both hierarchies below the seeded bound and compare what may still be closer.

    Leaf pairs are taken nearest box first, in batches; their triangle pairs are filtered by the
    triangles' boxes and then by :func:`_axis_bound`, and the survivors compared exactly, nearest
    bound first, in chunks that grow while nothing better turns up. Whatever is skipped has a
    lower bound at least the best distance found, so the minimum is never skipped.
    """
    lo_a, hi_a = _boxes(search.ta)
    lo_b, hi_b = _boxes(search.tb)
    ca, cb = search.ta.mean(axis=1), search.tb.mean(axis=1)
    tree_a, tree_b = _Tree(lo_a, hi_a), _Tree(lo_b, hi_b)
    leaf_a, leaf_b, leaf_low = _leaf_pairs(tree_a, tree_b, search.best)
    chunk = _EXACT_CHUNK
    for start in range(0, len(leaf_a), _LEAF_BATCH):
        if leaf_low[start] >= search.best:
            break  # every remaining leaf pair is at least as far as the best pair found
        rows_a = tree_a.leaves[leaf_a[start : start + _LEAF_BATCH]]
        rows_b = tree_b.leaves[leaf_b[start : start + _LEAF_BATCH]]
        shape = (len(rows_a), rows_a.shape[1], rows_b.shape[1])
        ia = np.broadcast_to(rows_a[:, :, None], shape).ravel()
        ib = np.broadcast_to(rows_b[:, None, :], shape).ravel()
        valid = (ia >= 0) & (ib >= 0)
        ia, ib = ia[valid], ib[valid]
        near = _box_gap2(lo_a[ia], hi_a[ia], lo_b[ib], hi_b[ib]) < search.best**2
        ia, ib = ia[near], ib[near]
        bound = _axis_bound(search.ta, search.tb, ca, cb, ia, ib)
        near = bound < search.best
        ia, ib, bound = ia[near], ib[near], bound[near]
        order = np.argsort(bound, kind="stable")
        done = 0
        while done < len(order):
            pick = order[done : done + chunk]
            if bound[pick[0]] >= search.best:
                break
            before = search.best
            search.compare(ia[pick], ib[pick])
            if search.best == 0:
                return
            done += len(pick)
            if search.best == before:  # nothing better: bigger chunks cost less per pair
                chunk = min(chunk * 2, _EXACT_CHUNK_MAX)
