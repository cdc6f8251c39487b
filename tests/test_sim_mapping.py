"""FieldMapper: a result field at the twin's vertices, checked against analytic fields."""

from __future__ import annotations

import time

import numpy as np
import pytest
import pyvista as pv
import vtk

from twinviewer.sim import mapping
from twinviewer.sim.mapping import FieldMapper, lerp, warp

A, B, C, D = 2.0, -3.0, 0.5, 1.0


def linear(p: np.ndarray) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    return A * p[:, 0] + B * p[:, 1] + C * p[:, 2] + D


def quadratic(p: np.ndarray) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    return p[:, 0] ** 2 - 2 * p[:, 1] * p[:, 2] + 0.5 * p[:, 2] + 1.0


def tet_grid(n: int = 8) -> pv.UnstructuredGrid:
    grid = pv.ImageData(dimensions=(n + 1,) * 3, spacing=(1 / n,) * 3).triangulate()
    grid = grid.cast_to_unstructured_grid()
    grid.points = np.asarray(grid.points, dtype=np.float64)
    return grid


def sphere_points(radius: float = 0.4) -> np.ndarray:
    s = pv.Sphere(radius=radius, center=(0.5, 0.5, 0.5), theta_resolution=30, phi_resolution=20)
    return np.asarray(s.points, dtype=np.float64)


def assert_exact(got: np.ndarray, want: np.ndarray) -> None:
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_linear_field_on_tetrahedra_is_exact() -> None:
    grid = tet_grid()
    targets = sphere_points()
    mapper = FieldMapper(grid, targets)
    assert mapper.valid.all()
    assert_exact(mapper.map_point_field(linear(grid.points)), linear(targets))


def test_linear_field_on_delaunay_tetrahedra_of_random_points() -> None:
    rng = np.random.default_rng(3)
    cloud = np.vstack(
        [rng.random((400, 3)), np.array(np.meshgrid(*[[0.0, 1.0]] * 3)).reshape(3, -1).T]
    )
    grid = pv.PolyData(cloud).delaunay_3d()
    targets = sphere_points(0.3)
    mapper = FieldMapper(grid, targets)
    assert mapper.valid.all()
    assert_exact(mapper.map_point_field(linear(grid.points)), linear(targets))


def test_linear_field_on_hexahedra_is_exact() -> None:
    # a sheared, stretched structured grid: hexahedra (not voxels), trilinear interpolation
    x, y, z = np.meshgrid(*[np.linspace(0, 1, 7)] * 3, indexing="ij")
    sg = pv.StructuredGrid(x + 0.2 * y, 1.3 * y + 0.1 * z, z)
    grid = sg.cast_to_unstructured_grid()
    assert set(np.unique(grid.celltypes)) == {vtk.VTK_HEXAHEDRON}
    targets = sphere_points(0.3) + [0.1, 0.15, 0.0]
    mapper = FieldMapper(grid, targets)
    assert mapper.valid.all()
    assert_exact(mapper.map_point_field(linear(grid.points)), linear(targets))


def test_image_data_voxels() -> None:
    img = pv.ImageData(dimensions=(6, 6, 6), spacing=(0.2, 0.2, 0.2))
    targets = sphere_points()
    mapper = FieldMapper(img, targets)
    assert_exact(mapper.map_point_field(linear(img.points)), linear(targets))


def quadratic_tets(n: int = 4) -> pv.UnstructuredGrid:
    """Straight-edged 10-node tetrahedra (mid-edge nodes at the edge midpoints)."""
    lin = tet_grid(n)
    tets = lin.cells_dict[vtk.VTK_TETRA]
    pts = np.asarray(lin.points, dtype=np.float64)
    pairs = [(0, 1), (1, 2), (2, 0), (0, 3), (1, 3), (2, 3)]  # VTK's edge order
    edges = np.stack([np.sort(tets[:, [a, b]], axis=1) for a, b in pairs], axis=1)
    unique, inverse = np.unique(edges.reshape(-1, 2), axis=0, return_inverse=True)
    mids = pts[unique].mean(axis=1)
    mid_ids = len(pts) + inverse.reshape(-1, 6)
    cells = np.hstack([tets, mid_ids])
    return pv.UnstructuredGrid({vtk.VTK_QUADRATIC_TETRA: cells}, np.vstack([pts, mids]))


def test_quadratic_tetrahedra() -> None:
    grid = quadratic_tets()
    targets = sphere_points()
    mapper = FieldMapper(grid, targets)
    assert mapper.valid.all()
    assert mapper.index.shape == (len(targets), 10)
    # VTK inverts a quadratic cell's map by Newton steps that stop once a step is below 1e-3
    # in parametric space: values are as close as VTK's own probe gets, not exact.
    grid.point_data["f"] = linear(grid.points)
    got = mapper.map_point_field(grid.point_data["f"])
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, linear(targets), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got, pv.PolyData(targets).sample(grid)["f"], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(
        mapper.map_point_field(quadratic(grid.points)), quadratic(targets), rtol=1e-4, atol=1e-4
    )
    # at the nodes (corner or mid-edge) the weights pick the node's value
    nodes = np.asarray(grid.points)[::7]
    at_nodes = FieldMapper(grid, nodes).map_point_field(quadratic(grid.points))
    np.testing.assert_allclose(at_nodes, quadratic(nodes), rtol=1e-4, atol=1e-4)


def test_mixed_cell_sizes() -> None:
    tets = tet_grid(4)
    hexes = pv.ImageData(dimensions=(5, 5, 5), spacing=(0.25,) * 3, origin=(1, 0, 0))
    grid = tets.merge(hexes.cast_to_unstructured_grid(), merge_points=False)
    targets = np.array([[0.3, 0.4, 0.6], [1.3, 0.4, 0.6], [1.9, 0.9, 0.1]])
    mapper = FieldMapper(grid, targets)
    assert mapper.index.shape == (3, 8)
    assert_exact(mapper.map_point_field(linear(grid.points)), linear(targets))


def test_outside_boundary_and_tolerance() -> None:
    grid = tet_grid()
    values = linear(grid.points)
    targets = np.array(
        [
            [1.0, 0.5, 0.5],  # on a face
            [1.0 + 1e-12, 0.5, 0.5],  # on it up to rounding
            [0.0, 0.0, 0.0],  # a corner
            [1.0, 1.0, 1.0],
            [1.0005, 0.52, 0.5],  # just outside: within the default tolerance (1.7e-3)
            [1.1, 0.5, 0.5],  # well outside
            [5.0, 5.0, 5.0],
        ]
    )
    mapper = FieldMapper(grid, targets)
    assert mapper.tolerance == pytest.approx(mapping.DEFAULT_TOLERANCE_FRACTION * np.sqrt(3))
    np.testing.assert_array_equal(mapper.valid, [1, 1, 1, 1, 1, 0, 0])
    got = mapper.map_point_field(values)
    assert_exact(got[:4], linear(targets[:4]))
    # a snapped point takes the value at the closest point of the mesh
    assert got[4] == pytest.approx(linear(np.array([[1.0, 0.52, 0.5]]))[0], rel=1e-9)
    assert np.isnan(got[5:]).all()
    assert (mapper.cell_ids[5:] == -1).all()

    strict = FieldMapper(grid, targets, tolerance=0.0)
    assert not strict.valid[4]
    # snapping also works when no target lies inside (VTK's probe alone would snap none)
    alone = FieldMapper(grid, targets[4:6])
    np.testing.assert_array_equal(alone.valid, [True, False])
    assert alone.map_point_field(values)[0] == got[4]
    wide = FieldMapper(grid, targets, tolerance=0.2)
    assert wide.valid[5] and not wide.valid[6]
    assert wide.map_point_field(values)[5] == pytest.approx(linear(targets[:1])[0])


def test_big_grids_go_in_slabs(monkeypatch: pytest.MonkeyPatch) -> None:
    # a budget of ~40 exploded hexahedra: the grid is located in slabs along x
    monkeypatch.setattr(mapping, "EXPLODE_BUDGET", 40 * 8 * 11 * 8)
    img = pv.ImageData(dimensions=(9, 9, 9), spacing=(0.125,) * 3)
    targets = np.vstack([sphere_points(), [[1.0005, 0.5, 0.5], [1.2, 0.5, 0.5], [-0.0005, 0, 0]]])
    mapper = FieldMapper(img, targets)
    whole = FieldMapper(img, targets, tolerance=mapper.tolerance)
    assert mapper.valid[:-2].all() and not mapper.valid[-2] and mapper.valid[-1]
    got = mapper.map_point_field(linear(img.points))
    assert_exact(got[:-3], linear(targets[:-3]))
    monkeypatch.undo()
    whole = FieldMapper(img, targets)
    np.testing.assert_array_equal(whole.valid, mapper.valid)
    np.testing.assert_allclose(whole.map_point_field(linear(img.points)), got, rtol=1e-9)


def test_cell_and_vector_fields() -> None:
    grid = tet_grid(4)
    # off the grid's planes, so that no target lies on a face between two cells
    inner = sphere_points(0.3) + [0.013, 0.007, 0.011]
    targets = np.vstack([inner, [[3.0, 3.0, 3.0]]])
    mapper = FieldMapper(grid, targets)
    cell_values = np.arange(grid.n_cells, dtype=np.float64) * 1.5
    got = mapper.map_cell_field(cell_values)
    np.testing.assert_array_equal(got[:-1], cell_values[mapper.cell_ids[:-1]])
    # the cell's weights rebuild the point (within the tolerance VTK may take a neighbour
    # cell and extrapolate slightly: still exact for linear fields)
    cell_points = np.asarray(grid.points)[mapper.index[:-1]]
    assert_exact(np.einsum("ij,ijk->ik", mapper.weight[:-1], cell_points), inner)
    # without tolerance each target lies in the cell it took (VTK's inside test allows 1e-3 in
    # parametric coordinates)
    strict = FieldMapper(grid, inner, tolerance=0.0)
    assert strict.weight.min() > -5e-3
    assert (strict.cell_ids == grid.find_containing_cell(inner)).mean() > 0.9
    assert np.isnan(got[-1])

    vec = np.column_stack([linear(grid.points), 2 * linear(grid.points), -grid.points[:, 2]])
    mapped = mapper.map_point_field(vec)
    assert mapped.shape == (len(targets), 3)
    want = np.column_stack([linear(targets), 2 * linear(targets), -targets[:, 2]])
    assert_exact(mapped[:-1], want[:-1])
    assert np.isnan(mapped[-1]).all()
    cell_vec = mapper.map_cell_field(np.column_stack([cell_values, cell_values]))
    assert cell_vec.shape == (len(targets), 2)


def test_stepping_reuses_the_location(monkeypatch: pytest.MonkeyPatch) -> None:
    grid = tet_grid()
    targets = sphere_points()
    mapper = FieldMapper(grid, targets)

    def no_probe(*args: object, **kwargs: object) -> None:
        raise AssertionError("a new step must not locate again")

    monkeypatch.setattr(mapping, "vtkProbeFilter", no_probe)
    out = np.empty(len(targets))
    for step in range(5):
        values = linear(grid.points) * (step + 1)
        t0 = time.perf_counter()
        mapper.map_point_field(values, out=out)
        assert time.perf_counter() - t0 < 0.05
        assert_exact(out, linear(targets) * (step + 1))


def test_same_values_as_pyvista_sample() -> None:
    grid = tet_grid(6)
    rng = np.random.default_rng(5)
    grid.point_data["f"] = quadratic(grid.points)  # not linear: the choice of cell shows
    targets = np.vstack([sphere_points(0.45), rng.uniform(-0.2, 1.2, (200, 3))])
    sampled = pv.PolyData(targets).sample(grid)
    both = sampled["vtkValidPointMask"].astype(bool)
    mapper = FieldMapper(grid, targets, tolerance=0.0)
    got = mapper.map_point_field(grid.point_data["f"])
    assert both.sum() > 300
    assert (both == mapper.valid).mean() > 0.99
    both &= mapper.valid
    # VTK accepts a point up to 1e-3 (parametric) outside a cell: near a face either side's
    # cell may be taken, with slightly extrapolated weights; elsewhere the values are equal
    np.testing.assert_allclose(got[both], sampled["f"][both], atol=1e-3)
    assert np.isclose(got[both], sampled["f"][both], rtol=1e-12).mean() > 0.9


def test_lerp_and_warp() -> None:
    a = np.array([0.0, 1.0, np.nan])
    b = np.array([2.0, 3.0, 1.0])
    np.testing.assert_allclose(lerp(a, b, 0.25), [0.5, 1.5, np.nan])
    with pytest.raises(ValueError):
        lerp(a, b[:2], 0.5)
    pts = np.zeros((2, 3))
    vec = np.array([[1.0, 0, 0], [np.nan, np.nan, np.nan]])
    np.testing.assert_allclose(warp(pts, vec, 10.0), [[10, 0, 0], [0, 0, 0]])
    with pytest.raises(ValueError):
        warp(pts, vec[:1], 1.0)
    with pytest.raises(ValueError):
        warp(np.zeros((2, 2)), np.zeros((2, 2)))


def test_bad_inputs() -> None:
    grid = tet_grid(2)
    mapper = FieldMapper(grid, sphere_points())
    with pytest.raises(ValueError):
        mapper.map_point_field(np.zeros(grid.n_points + 1))
    with pytest.raises(ValueError):
        mapper.map_cell_field(np.zeros(grid.n_points))
    with pytest.raises(ValueError):
        FieldMapper(grid, np.zeros((3, 2)))
    with pytest.raises(TypeError):
        FieldMapper(object(), np.zeros((3, 3)))
    empty = FieldMapper(grid, np.zeros((0, 3)))
    assert empty.map_point_field(np.zeros(grid.n_points)).shape == (0,)
