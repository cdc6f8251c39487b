"""Scenario versus baseline colours, checked by hand."""

from __future__ import annotations

import numpy as np

from twinviewer.core.colour import ComponentBinding
from twinviewer.core.compare import difference_colours, difference_table, relative_difference


def test_each_component_shows_its_largest_difference() -> None:
    # sensors 0 and 1 on component 0, sensor 2 on component 1, nothing on component 2
    binding = ComponentBinding(3, np.array([0, 1, 2], np.int32), np.array([0, 0, 1], np.int32))
    span = np.array([100.0, 10.0, 50.0])
    diff = relative_difference(np.array([50.0, 5.0, 20.0]), np.array([55.0, 2.0, 20.0]), span)
    np.testing.assert_allclose(diff, [0.05, -0.3, 0.0])
    base = np.full((3, 4), 9, np.uint8)
    rgba = difference_colours(binding, diff, base)
    table = difference_table()
    np.testing.assert_array_equal(rgba[0], table[0])  # -30 % of range: saturated blue end
    np.testing.assert_array_equal(rgba[1], table[128])  # no difference: the middle
    np.testing.assert_array_equal(rgba[2], base[2])


def test_missing_values_leave_the_base_colour() -> None:
    binding = ComponentBinding(1, np.array([0], np.int32), np.array([0], np.int32))
    diff = relative_difference(np.array([np.nan]), np.array([1.0]), np.array([1.0]))
    base = np.full((1, 4), 3, np.uint8)
    np.testing.assert_array_equal(difference_colours(binding, diff, base), base)
