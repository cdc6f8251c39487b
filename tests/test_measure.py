"""The measurement geometry (twinviewer.core.measure) against answers known in closed form.

Shapes are built here as ModelData: cubes, an icosphere, planes, grids. The clearance is also
checked against a brute force over every triangle pair, and the triangle-pair kernel against a
dense sampling of the two triangles, so that the pruning and the kernel are tested separately.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from scipy.spatial import cKDTree
from scipy.spatial.transform import Rotation

from twinviewer.core.measure import (
    UNITS,
    angle,
    clearance,
    convert,
    distance,
    faces_area,
    format_area,
    format_length,
    format_location,
    planar_region,
    point_location,
    polygon_area,
    region_outline,
    snap,
    triangle_distances,
)
from twinviewer.core.model import ModelBuilder, ModelData

# -- shapes ------------------------------------------------------------------------------------

CUBE_V = np.array(
    [[x, y, z] for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (-0.5, 0.5)], dtype=float
)
CUBE_F = np.array(
    [
        [0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5],  # x = -0.5, x = +0.5
        [0, 4, 5], [0, 5, 1], [2, 3, 7], [2, 7, 6],  # y = -0.5, y = +0.5
        [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3],  # z = -0.5, z = +0.5
    ]
)  # fmt: skip


def icosphere(subdivisions: int) -> tuple[np.ndarray, np.ndarray]:
    """A unit icosphere: an icosahedron whose faces are split in four, pushed onto the sphere."""
    t = (1 + 5**0.5) / 2
    v = np.array(
        [[-1, t, 0], [1, t, 0], [-1, -t, 0], [1, -t, 0], [0, -1, t], [0, 1, t],
         [0, -1, -t], [0, 1, -t], [t, 0, -1], [t, 0, 1], [-t, 0, -1], [-t, 0, 1]],
        dtype=float,
    )  # fmt: skip
    f = np.array(
        [[0, 11, 5], [0, 5, 1], [0, 1, 7], [0, 7, 10], [0, 10, 11], [1, 5, 9], [5, 11, 4],
         [11, 10, 2], [10, 7, 6], [7, 1, 8], [3, 9, 4], [3, 4, 2], [3, 2, 6], [3, 6, 8],
         [3, 8, 9], [4, 9, 5], [2, 4, 11], [6, 2, 10], [8, 6, 7], [9, 8, 1]]
    )  # fmt: skip
    for _ in range(subdivisions):
        edges = np.sort(np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]]), axis=1)
        unique, inverse = np.unique(edges, axis=0, return_inverse=True)
        mid = len(v) + inverse.reshape(3, -1)  # midpoint index of edges ab, bc, ca per face
        v = np.concatenate([v, 0.5 * (v[unique[:, 0]] + v[unique[:, 1]])])
        a, b, c = f.T
        ab, bc, ca = mid
        f = np.concatenate(
            [np.stack(x, axis=1) for x in ((a, ab, ca), (b, bc, ab), (c, ca, bc), (ab, bc, ca))]
        )
    return v / np.linalg.norm(v, axis=1, keepdims=True), f


def grid(nu: int, nv: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parameters (u, v) in [0, 1]^2 of an nu x nv grid and its 2 * nu * nv triangles."""
    u, v = np.meshgrid(np.linspace(0, 1, nu + 1), np.linspace(0, 1, nv + 1), indexing="ij")
    idx = np.arange((nu + 1) * (nv + 1)).reshape(nu + 1, nv + 1)
    a, b = idx[:-1, :-1].ravel(), idx[1:, :-1].ravel()
    c, d = idx[1:, 1:].ravel(), idx[:-1, 1:].ravel()
    faces = np.concatenate([np.stack([a, b, c], 1), np.stack([a, c, d], 1)])
    return u.ravel(), v.ravel(), faces


def plate(size: float, n: int, z: float) -> tuple[np.ndarray, np.ndarray]:
    u, v, f = grid(n, n)
    return np.stack([(u - 0.5) * size, (v - 0.5) * size, np.full_like(u, z)], 1), f


def uv_sphere(radius: float, nu: int, nv: int, centre) -> tuple[np.ndarray, np.ndarray]:
    u, v, f = grid(nu, nv)
    theta, phi = 2 * np.pi * u, np.pi * (0.001 + 0.998 * v)
    unit = np.stack([np.sin(phi) * np.cos(theta), np.sin(phi) * np.sin(theta), np.cos(phi)], 1)
    return radius * unit + np.asarray(centre, float), f


def model_of(*parts: tuple[np.ndarray, np.ndarray], units: str | None = "m") -> ModelData:
    """A model with one component per (vertices, faces) part, named p0, p1, ..."""
    b = ModelBuilder("test")
    for i, (v, f) in enumerate(parts):
        b.add(f"p{i}", -1, v, f)
    return b.build(units=units)


def brute_force(model: ModelData, a: int, b: int) -> float:
    pts = model.points.astype(float)
    ta = pts[model.triangles[model.cell_component == a]]
    tb = pts[model.triangles[model.cell_component == b]]
    ia, ib = np.meshgrid(np.arange(len(ta)), np.arange(len(tb)), indexing="ij")
    return float(triangle_distances(ta[ia.ravel()], tb[ib.ravel()])[0].min())


# -- units -------------------------------------------------------------------------------------


def test_unit_conversion_and_formatting() -> None:
    assert set(UNITS) >= {"mm", "cm", "m", "in", "ft"}
    assert convert(1.5, "m", "mm") == pytest.approx(1500)
    assert convert(12, "in", "ft") == pytest.approx(1)
    assert convert(1, "m", "in", power=2) == pytest.approx(1 / 0.0254**2)  # 1550.0031 in²
    assert convert(2, None, "cm") == pytest.approx(200)  # no units: metres
    assert format_length(1.5, "m", "mm") == "1,500 mm"
    assert format_length(1234.5, "mm") == "1,234.5 mm"
    assert format_length(0.0123456, "m") == "0.012346 m"
    assert format_length(-0.25, "m", "cm") == "-25 cm"
    assert format_length(0, "m", "mm") == "0 mm"
    assert format_length(2.0, None) == "2 m"
    assert format_area(1, "m", "in") == "1,550 in²"
    assert format_area(2.5e-6, "m", "mm") == "2.5 mm²"
    assert format_location((1.5, 0, -0.0254), "m", "mm") == "x 1,500 mm, y 0 mm, z -25.4 mm"
    assert point_location(np.array([1, 2, 3], np.float32)) == (1.0, 2.0, 3.0)


def test_unknown_unit_is_named() -> None:
    with pytest.raises(ValueError, match=r"unknown unit 'furlong'.*mm, cm, m, in, ft"):
        convert(1, "furlong", "m")
    with pytest.raises(ValueError, match="'yd'"):
        format_length(1, "m", "yd")


# -- point measurements ------------------------------------------------------------------------


def test_distance_between_points_of_two_components() -> None:
    m = model_of((CUBE_V, CUBE_F), (CUBE_V + [3, 4, 0], CUBE_F))
    a, b = m.points[m.triangles[0, 0]], m.points[m.triangles[12, 0]]
    d = distance(a, b)
    assert d.total == pytest.approx(5) and (d.dx, d.dy, d.dz) == pytest.approx((3, 4, 0))
    assert distance((1, 1, 1), (1, 1, 1)).total == 0
    with pytest.raises(ValueError, match="3D point"):
        distance((0, 0), (1, 1, 1))


def test_angles() -> None:
    assert angle((1, 0, 0), (0, 0, 0), (0, 5, 0)) == pytest.approx(90)
    assert angle((-2, 0, 0), (0, 0, 0), (3, 0, 0)) == pytest.approx(180)
    assert angle((3, 1, 1), (1, 1, 1), (2, 1, 1)) == pytest.approx(0)
    tri = np.array([[0, 0, 0], [1, 0, 0], [0.5, math.sqrt(3) / 2, 0]])
    for k in range(3):
        assert angle(tri[k - 1], tri[k], tri[(k + 1) % 3]) == pytest.approx(60)
    # far from the origin and tiny: still exact-ish
    far = np.array([1e6, 1e6, 1e6])
    assert angle(far + [1e-3, 0, 0], far, far + [0, 1e-3, 0]) == pytest.approx(90, abs=1e-6)
    with pytest.raises(ValueError, match="coincides with the vertex"):
        angle((0, 0, 0), (0, 0, 0), (1, 0, 0))


def test_polygon_area_tilted_square_and_hexagon() -> None:
    rot = Rotation.from_euler("xyz", [30, 50, -20], degrees=True)
    square = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], float)
    result = polygon_area(rot.apply(square) + [100, -50, 7])
    assert result.area == pytest.approx(1, rel=1e-12)
    assert result.normal == pytest.approx(rot.apply([0, 0, 1]))
    assert result.non_planarity < 1e-9
    side = 2.0
    ang = np.arange(6) * np.pi / 3
    hexagon = np.stack([side * np.cos(ang), side * np.sin(ang), np.zeros(6)], 1)
    assert polygon_area(hexagon).area == pytest.approx(3 * math.sqrt(3) / 2 * side**2)
    assert polygon_area(hexagon[::-1]).normal == pytest.approx((0, 0, -1))  # clockwise
    # concave (an L of area 3) and slightly warped
    ell = np.array([[0, 0, 0], [2, 0, 0], [2, 1, 0], [1, 1, 0], [1, 2, 0], [0, 2, 0.02]], float)
    warped = polygon_area(ell)
    assert warped.area == pytest.approx(3, rel=1e-3) and 0.005 < warped.non_planarity < 0.02


def test_polygon_area_rejects_degenerate_input() -> None:
    with pytest.raises(ValueError, match="at least 3 points"):
        polygon_area([[0, 0, 0], [1, 0, 0]])
    with pytest.raises(ValueError, match="one line"):
        polygon_area([[0, 0, 0], [1, 1, 1], [2, 2, 2], [3, 3, 3]])
    with pytest.raises(ValueError, match=r"\(k, 3\)"):
        polygon_area([[0, 0], [1, 0], [1, 1]])


def test_faces_area_of_a_cube() -> None:
    m = model_of((CUBE_V * 1, CUBE_F))
    assert faces_area(m, np.arange(12)) == pytest.approx(6)
    assert faces_area(m, [0, 1]) == pytest.approx(1)
    assert faces_area(m, [0, 0, 1, 1]) == pytest.approx(1)  # a face picked twice counts once
    assert faces_area(m, []) == 0
    with pytest.raises(ValueError, match="12 triangles"):
        faces_area(m, [12])


# -- the triangle-pair kernel ------------------------------------------------------------------


def _sampled(t: np.ndarray, n: int = 40) -> np.ndarray:
    i, j = np.meshgrid(np.arange(n + 1), np.arange(n + 1))
    keep = i + j <= n
    u, v = i[keep] / n, j[keep] / n
    return t[0] + u[:, None] * (t[1] - t[0]) + v[:, None] * (t[2] - t[0])


def test_triangle_distance_matches_dense_sampling() -> None:
    rng = np.random.default_rng(1)
    for _ in range(60):
        ta = rng.normal(size=(3, 3))
        tb = rng.normal(size=(3, 3)) + rng.normal(size=3)
        d, pa, pb = triangle_distances(ta[None], tb[None])
        sampled = cKDTree(_sampled(tb)).query(_sampled(ta))[0].min()
        assert d[0] <= sampled + 1e-12  # the exact minimum is never above any sampled pair
        assert sampled - d[0] < 0.15  # ... and the grid (step ~1/40 of a side) comes close
        assert np.linalg.norm(pa[0] - pb[0]) == pytest.approx(d[0], abs=1e-12)


def test_triangle_distance_special_configurations() -> None:
    flat = np.array([[0, 0, 0], [2, 0, 0], [0, 2, 0]], float)
    # an edge piercing the face: intersecting, distance 0 at the crossing point
    pin = np.array([[0.5, 0.5, -1], [0.5, 0.5, 1], [0.6, 0.5, 1]], float)
    d, pa, _ = triangle_distances(flat[None], pin[None])
    assert d[0] == 0 and pa[0][2] == 0 and 0.5 <= pa[0][0] <= 0.55  # on the crossing segment
    # a parallel copy above: face to face
    assert triangle_distances(flat[None], (flat + [0.1, 0.1, 0.3])[None])[0][0] == pytest.approx(
        0.3
    )
    # coplanar, overlapping, no vertex inside the other: edges cross
    star = np.array([[0.5, -0.5, 0], [0.5, 3, 0], [-1, 1, 0]], float)
    assert triangle_distances(flat[None], star[None])[0][0] == 0
    # a degenerate (zero-area) triangle is a segment
    sliver = np.array([[3, 0, 1], [3, 2, 1], [3, 1, 1]], float)
    assert triangle_distances(flat[None], sliver[None])[0][0] == pytest.approx(math.sqrt(2))


# -- clearance ---------------------------------------------------------------------------------


def test_clearance_between_two_cubes() -> None:
    m = model_of((CUBE_V, CUBE_F), (CUBE_V + [2.5, 0, 0], CUBE_F))
    c = clearance(m, 0, 1)
    assert c.distance == pytest.approx(1.5)
    assert c.point_a[0] == pytest.approx(0.5) and c.point_b[0] == pytest.approx(2.0)
    assert c.point_a[1:] == pytest.approx(c.point_b[1:])
    assert all(abs(x) <= 0.5 + 1e-9 for x in c.point_a[1:])  # on the facing faces
    assert m.cell_component[c.triangle_a] == 0 and m.cell_component[c.triangle_b] == 1
    assert clearance(m, "p1", "p0").distance == pytest.approx(1.5)  # by id, either order


def test_clearance_sphere_to_plane() -> None:
    v, f = icosphere(3)  # 1280 triangles
    plane_v, plane_f = plate(6, 12, 0)
    m = model_of((v + [0.1, -0.2, 1.75], f), (plane_v, plane_f))
    c = clearance(m, 0, 1)
    # the mesh is a convex polyhedron above the plane: its lowest vertex is the exact answer
    lowest = float(m.points[np.unique(m.triangles[m.cell_component == 0])][:, 2].min())
    assert c.distance == pytest.approx(lowest, abs=1e-6)
    assert 0.75 <= c.distance < 0.75 + 0.01  # the sphere's 0.75 within discretisation
    assert c.point_b[2] == pytest.approx(0, abs=1e-9)


def test_clearance_is_zero_when_touching_or_interpenetrating() -> None:
    touching = model_of((CUBE_V, CUBE_F), (CUBE_V + [1, 0.3, 0.2], CUBE_F))
    assert clearance(touching, 0, 1).distance == pytest.approx(0, abs=1e-9)
    inside = model_of((CUBE_V, CUBE_F), (CUBE_V * 0.9 + [0.6, 0.1, -0.2], CUBE_F))
    c = clearance(inside, 0, 1)
    assert c.distance == 0 and c.point_a == pytest.approx(c.point_b)
    # a small cube wholly inside a big one: surfaces apart although the solids overlap
    nested = model_of((CUBE_V * 4, CUBE_F), (CUBE_V, CUBE_F))
    assert clearance(nested, 0, 1).distance == pytest.approx(1.5)


def test_clearance_edge_to_edge() -> None:
    """A cube turned 45° about z meets one turned 45° about y edge to edge, across a gap."""
    gap = 0.3
    along = 2 * (math.sqrt(2) / 2) + gap
    a = Rotation.from_euler("z", 45, degrees=True).apply(CUBE_V)
    b = Rotation.from_euler("y", 45, degrees=True).apply(CUBE_V) + [along, 0, 0]
    m = model_of((a, CUBE_F), (b, CUBE_F))
    c = clearance(m, 0, 1)
    assert c.distance == pytest.approx(gap, abs=1e-6)
    assert c.distance == pytest.approx(brute_force(m, 0, 1), abs=1e-12)
    assert c.point_a == pytest.approx((math.sqrt(2) / 2, 0, 0), abs=1e-6)
    assert c.point_b == pytest.approx((along - math.sqrt(2) / 2, 0, 0), abs=1e-6)


def test_clearance_matches_brute_force_in_random_poses() -> None:
    rng = np.random.default_rng(7)
    v, f = icosphere(1)  # 80 triangles each: the brute force stays fast
    for _ in range(40):
        parts = []
        for shift in (np.zeros(3), rng.normal(size=3) * 2.2):
            rot = Rotation.random(random_state=rng)
            parts.append((rot.apply(v * rng.uniform(0.4, 1.6, 3)) + shift, f))
        m = model_of(*parts)
        assert clearance(m, 0, 1).distance == pytest.approx(brute_force(m, 0, 1), abs=1e-12)


def test_clearance_of_groups_and_errors() -> None:
    b = ModelBuilder("assembly")
    group = b.add("frame")
    b.add("left", group, CUBE_V, CUBE_F)
    b.add("right", group, CUBE_V + [3, 0, 0], CUBE_F)
    b.add("probe", -1, CUBE_V + [1.75, 2, 0], CUBE_F)
    m = b.build()
    probe = m.index_of("probe")
    assert clearance(m, m.subtree(group), probe).distance == pytest.approx(math.hypot(0.25, 1))
    with pytest.raises(ValueError, match="no triangles"):
        clearance(m, group, probe)
    with pytest.raises(ValueError, match="both sides"):
        clearance(m, probe, [probe, 1])
    with pytest.raises(ValueError, match="out of range"):
        clearance(m, probe, 99)
    with pytest.raises(KeyError):
        clearance(m, "nothing", probe)


def test_clearance_of_two_50k_triangle_components_is_fast() -> None:
    sphere = uv_sphere(1.0, 250, 100, (0.013, -0.021, 1.3))  # 50,000 triangles
    ground = plate(4.0, 158, 0.0)  # 49,928 triangles
    m = model_of(sphere, ground)
    start = time.perf_counter()
    c = clearance(m, 0, 1)
    elapsed = time.perf_counter() - start
    lowest = float(sphere[0][:, 2].min())
    assert c.distance == pytest.approx(lowest, abs=1e-6)
    assert elapsed < 5.0, f"clearance took {elapsed:.2f} s"
    # interpenetrating: stops at the first crossing found
    m = model_of(uv_sphere(1.0, 250, 100, (0, 0, 0)), uv_sphere(1.0, 250, 100, (1.2, 0.1, 0)))
    start = time.perf_counter()
    assert clearance(m, 0, 1).distance == 0
    assert time.perf_counter() - start < 5.0


# -- snapping ----------------------------------------------------------------------------------


def test_snapping() -> None:
    tri = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], float)
    m = model_of((tri, np.array([[0, 1, 2]])))
    tol = 0.05
    s = snap(m, 0, (0.97, 0.01, 0), tol)
    assert s.kind == "vertex" and s.point == pytest.approx((1, 0, 0))
    s = snap(m, 0, (0.52, 0.02, 0), tol)
    assert s.kind == "edge_midpoint" and s.point == pytest.approx((0.5, 0, 0))
    s = snap(m, 0, (0.49, 0.49, 0), tol)  # the hypotenuse's midpoint
    assert s.kind == "edge_midpoint" and s.point == pytest.approx((0.5, 0.5, 0))
    s = snap(m, 0, (0.3, 0.015, 0), tol)  # near the edge, far from its features
    assert s.kind == "edge" and s.point == pytest.approx((0.3, 0, 0))
    s = snap(m, 0, (0.3, 0.04, 0), tol)  # beyond tolerance / 2 of the edge
    assert s.kind == "surface" and s.point == pytest.approx((0.3, 0.04, 0))
    s = snap(m, 0, (0.25, 0.25, 0.001), tol)  # a pick slightly off the face lands on it
    assert s.kind == "surface" and s.point == pytest.approx((0.25, 0.25, 0))
    assert snap(m, 0, (0.25, 0.25, 0), 0).kind == "surface"
    with pytest.raises(ValueError, match="out of range"):
        snap(m, 1, (0, 0, 0), tol)
    with pytest.raises(ValueError, match="tolerance"):
        snap(m, 0, (0, 0, 0), -1)


# -- a picked face -----------------------------------------------------------------------------


def test_planar_region_of_a_cube_face_and_its_outline() -> None:
    m = model_of((CUBE_V * 2, CUBE_F), (CUBE_V + 5, CUBE_F))
    region = planar_region(m, 10)  # z = +1 face of the first cube
    assert region.tolist() == [10, 11]
    assert faces_area(m, region) == pytest.approx(4)
    (loop,) = region_outline(m, region)
    assert len(loop) == 4
    assert np.allclose(loop[:, 2], 1) and {tuple(p) for p in np.abs(loop[:, :2])} == {(1, 1)}
    # the other cube's coplanar-looking faces are another component: never in the region
    assert planar_region(m, 12 + 10).tolist() == [22, 23]


def test_planar_region_of_an_unwelded_tilted_grid_with_a_hole() -> None:
    u, v, f = grid(10, 10)
    pts = np.stack([u * 10, v * 10, np.zeros_like(u)], 1)
    keep = np.ones(len(f), bool)
    centre = pts[f].mean(axis=1)
    keep[(np.abs(centre[:, 0] - 5) < 2) & (np.abs(centre[:, 1] - 5) < 2)] = False  # 4 x 4 hole
    f = f[keep]
    rot = Rotation.from_euler("xyz", [30, 20, 10], degrees=True).as_matrix()
    soup = (pts[f].reshape(-1, 3) @ rot.T) + 100  # every triangle its own three points
    m = model_of((soup, np.arange(len(soup)).reshape(-1, 3)))
    region = planar_region(m, 0)
    assert len(region) == len(f)
    assert faces_area(m, region) == pytest.approx(100 - 16)
    loops = region_outline(m, region)
    assert [len(p) for p in loops] == [40, 16]  # outer square, then the hole
    assert polygon_area(loops[0]).area == pytest.approx(100)


def test_planar_region_stops_at_a_bend_and_on_another_plane() -> None:
    u, v, f = grid(4, 4)
    flat = np.stack([u * 4, v * 4, np.zeros_like(u)], 1)
    bent = flat.copy()
    bent[:, 2] = np.where(bent[:, 0] > 2, (bent[:, 0] - 2) * 0.1, 0.0)  # 5.7 degrees up at x = 2
    m = model_of((bent, f))
    region = planar_region(m, 0)
    assert faces_area(m, region) == pytest.approx(8)
    other = int(np.flatnonzero(m.points[m.triangles].mean(axis=1)[:, 0] > 3)[0])
    assert faces_area(m, planar_region(m, other)) == pytest.approx(8 * math.sqrt(1.01))
    # a wider angle tolerance does not join the two: they are not on one plane
    assert faces_area(m, planar_region(m, 0, angle_tolerance=10)) == pytest.approx(8)
    with pytest.raises(ValueError, match="out of range"):
        planar_region(m, len(f))


# -- the tools' picking (ui/measure/tool.py: no Qt) ---------------------------------------------


def test_measure_tool_state_machine() -> None:
    from twinviewer.ui.measure.tool import MeasureTool

    m = model_of((CUBE_V * 2, CUBE_F), (CUBE_V + (5, 0, 0), CUBE_F), units="mm")
    names: list[str] = []
    tool = MeasureTool(m, namer=lambda stem: names.append(stem) or f"{stem} {len(names)}")
    tool.start("distance")
    assert "first point" in tool.hint()
    first = tool.snap(10, (0.95, 0.97, 1.0), 0.1)  # near the corner (1, 1, 1)
    assert first.kind == "vertex" and first.point == (1, 1, 1)
    assert tool.click(first).measurement is None and "second point" in tool.hint()
    points, closed, text = tool.preview(tool.snap(10, (-1, -1, 1), 0.1))
    assert len(points) == 2 and not closed and text == "2.8284 mm"
    out = tool.click(tool.snap(10, (-0.98, -1, 1), 0.1))
    d = out.measurement
    assert d is not None and d.name == "Distance 1" and d.unit == "mm" and d.components == ["p0"]
    assert d.value == pytest.approx(8**0.5) and tool.picks == [] and tool.tool == "distance"
    # an angle with an arm of no length is refused, and the tool carries on
    tool.start("angle")
    corner = tool.snap(10, (1, 1, 1), 0.1)
    for p in (corner, corner):
        tool.click(p)
    assert "no direction" in tool.click(corner).message and tool.picks == []
    # a polygon closes on its first corner; Backspace takes one back
    tool.start("area")
    for xy in ((-1, -1), (1, -1), (1, 1), (0.5, 0.9)):
        tool.click(tool.snap(10, (*xy, 1), 0.01), 0.01)
    assert tool.back() and len(tool.picks) == 3
    tool.click(tool.snap(11, (-1, 1, 1), 0.01), 0.01)  # the other triangle of the face
    polygon = tool.finish().measurement  # Enter
    assert polygon is not None and polygon.kind == "area" and polygon.value == pytest.approx(4)
    assert "three corners" in tool.finish().message  # nothing left to close
    # clearance: the same component twice is refused; two give a request
    tool.start("clearance")
    tool.click(tool.snap(0, (-1, -0.5, -0.5), 0.1))
    assert "another component" in tool.click(tool.snap(1, (-1, 0.5, 0.5), 0.1)).message
    request = tool.click(tool.snap(12, (4.5, 0, 0), 0.1)).clearance
    assert request == (0, 1)
    c = tool.clearance_measurement(request, clearance(m, 0, 1))
    assert c.kind == "clearance" and c.value == pytest.approx(3.5) and c.components == ["p0", "p1"]
    # a face: the cube's +z face, outlined by its four corners
    tool.start("face")
    f = tool.click(tool.snap(10, (0.2, 0.3, 1), 0.1)).measurement
    assert f is not None and f.kind == "area" and f.value == pytest.approx(4)
    assert len(f.points) == 4 and f.name.startswith("Area")
    tool.cancel()
    assert not tool.active and tool.hint() == ""
