"""Fleet overview layouts: every unit's transform and label anchor, exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest

from twinviewer.core.fleet_layout import (
    GAP,
    layout_data,
    layout_fleet,
    layout_grid,
    layout_row,
    row_axis,
    transform_points,
)

# A locomotive-like box: 28 long (x), 4.8 wide (y), 5 high (z), not centred on the origin.
LOCO = (-14.0, 14.0, -2.4, 2.4, 0.0, 5.0)
# A pump-like box narrower along x.
PUMP = (0.0, 2.0, 0.0, 3.0, 0.0, 1.0)


def test_row_axis_is_the_narrower_horizontal_axis() -> None:
    assert row_axis(LOCO) == 1
    assert row_axis(PUMP) == 0
    assert row_axis((0, 1, 0, 1, 0, 9)) == 0  # a tie: x; height never counts


def test_row_default_spacing_is_gap_times_width() -> None:
    placement = layout_row(LOCO, 4)
    assert placement.row_axis == 1
    assert placement.spacing == pytest.approx(GAP * 4.8)
    expected = np.array([[0, i * GAP * 4.8, 0] for i in range(4)])
    np.testing.assert_allclose(placement.transforms[:, :3, 3], expected)
    np.testing.assert_array_equal(placement.transforms[:, :3, :3], np.tile(np.eye(3), (4, 1, 1)))
    # labels above each unit's top centre (8% of its height above)
    np.testing.assert_allclose(placement.anchors, expected + [0, 0, 5.0 * 1.08])


def test_row_with_given_spacing_along_x() -> None:
    placement = layout_row(PUMP, 3, spacing=10.0)
    np.testing.assert_allclose(placement.transforms[:, 0, 3], [0, 10, 20])
    np.testing.assert_allclose(placement.transforms[:, 1:3, 3], 0)
    np.testing.assert_allclose(placement.anchors[0], [1.0, 1.5, 1.08])


def test_grid_columns_and_rows() -> None:
    placement = layout_grid(PUMP, 7, spacing=2.5, columns=3)
    offsets = placement.transforms[:, :3, 3]
    # along x (the row axis) 3 columns 2.5 apart; rows along y 1.25 x depth (3.75) apart
    np.testing.assert_allclose(offsets[:, 0], [0, 2.5, 5, 0, 2.5, 5, 0])
    np.testing.assert_allclose(offsets[:, 1], [0, 0, 0, 3.75, 3.75, 3.75, 7.5])
    np.testing.assert_allclose(offsets[:, 2], 0)


def test_grid_default_is_square_and_rows_never_closer_than_spacing() -> None:
    placement = layout_grid((0, 1, 0, 1, 0, 1), 10, spacing=4.0)
    offsets = placement.transforms[:, :3, 3]
    assert sorted(set(offsets[:, 0])) == [0, 4, 8, 12]  # ceil(sqrt(10)) = 4 columns
    assert sorted(set(offsets[:, 1])) == [0, 4, 8]


def test_data_positions_and_heading() -> None:
    placement = layout_data(LOCO, [(100.0, 50.0, 2.0, 90.0), (0.0, 0.0, 0.0, 0.0)])
    t = placement.transforms[0]
    # the model's origin goes to the position; +x of the model turns to +y
    np.testing.assert_allclose(transform_points(t, [[0, 0, 0]])[0], [100, 50, 2])
    np.testing.assert_allclose(transform_points(t, [[1, 0, 0]])[0], [100, 51, 2], atol=1e-12)
    np.testing.assert_allclose(placement.transforms[1], np.eye(4))
    np.testing.assert_allclose(placement.anchors[0], [100, 50, 2 + 5.4], atol=1e-12)
    assert placement.unplaced == ()


def test_data_units_without_position_stand_in_a_row_beyond_the_placed() -> None:
    placement = layout_data(PUMP, [(0.0, 0.0, 0.0, 0.0), None, None], spacing=3.0)
    assert placement.unplaced == (1, 2)
    offsets = placement.transforms[:, :3, 3]
    # placed unit reaches y = 3; the row starts a quarter of the depth (0.75) further on
    np.testing.assert_allclose(offsets[1], [0, 3.75, 0])
    np.testing.assert_allclose(offsets[2], [3, 3.75, 0])


def test_layout_fleet_dispatch_and_errors() -> None:
    row = layout_fleet("data", LOCO, 3, positions=[None, None, None])
    np.testing.assert_allclose(row.transforms, layout_row(LOCO, 3).transforms)
    assert len(layout_fleet("grid", LOCO, 5, columns=2)) == 5
    with pytest.raises(ValueError, match="expected row, grid or data"):
        layout_fleet("ring", LOCO, 3)
    with pytest.raises(ValueError, match="spacing must be > 0"):
        layout_row(LOCO, 3, spacing=0.0)
    with pytest.raises(ValueError, match=r"\(x, y, z, heading degrees\)"):
        layout_data(LOCO, [(0.0, 0.0, math.nan, 0.0)])
    with pytest.raises(ValueError, match="2 positions for 3 units"):
        layout_fleet("data", LOCO, 3, positions=[(0.0, 0.0, 0.0, 0.0), None])
