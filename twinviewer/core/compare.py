"""A scenario against the baseline: per-sensor differences and their colours.

The difference of a sensor is ``scenario - baseline`` as a fraction of the sensor's range, so
that one colour scale reads every quantity. A component shows its sensor with the largest
absolute difference on a diverging map (blue: the scenario is lower, red: higher, white: the
same), saturating at ``scale`` (default 20 % of the range).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from twinviewer.core.colour import COLORMAPS, ComponentBinding

F64 = NDArray[np.float64]
DIFFERENCE_SCALE = 0.2  # a fifth of the sensor's range saturates the colour


def difference_table() -> NDArray[np.uint8]:
    return COLORMAPS["coolwarm"]


def relative_difference(baseline: F64, scenario: F64, span: F64) -> F64:
    """``(scenario - baseline) / span`` per sensor; NaN where either value is missing."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return (np.asarray(scenario, np.float64) - np.asarray(baseline, np.float64)) / span


def difference_colours(
    binding: ComponentBinding,
    diff: F64,
    base: NDArray[np.uint8],
    scale: float = DIFFERENCE_SCALE,
) -> NDArray[np.uint8]:
    """Colour each component by its sensor with the largest |difference| (``diff`` as from
    :func:`relative_difference`); components without one keep ``base``."""
    out = base.copy()
    d = diff[binding.pair_sensor]
    ok = np.isfinite(d)
    comp, d = binding.pair_component[ok], d[ok]
    if not len(d):
        return out
    order = np.lexsort((np.abs(d), comp))  # by component, then |d|: the last of each wins
    comp, d = comp[order], d[order]
    last = np.r_[comp[1:] != comp[:-1], True]
    table = difference_table()
    frac = np.clip(d[last] / scale, -1.0, 1.0) * 0.5 + 0.5
    out[comp[last]] = table[np.round(frac * (len(table) - 1)).astype(np.int64)]
    return out
