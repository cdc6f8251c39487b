"""Measured versus simulated: errors per sensor, pass/fail against the tolerance, a summary.

The relative error is ``|simulated - measured| / |measured|`` (``relative_to: value``, the
usual definition of a twin's fidelity), or over the sensor's range span (``relative_to:
range``, for quantities that cross zero). A sensor is *compared* when it has both a measured
and a simulated value (a sensor outside the simulated domain has none); a measured value of
exactly zero with ``relative_to: value`` counts as infinitely far unless the simulation is zero
too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from twinviewer.core.colour import ComponentBinding

F64 = NDArray[np.float64]

ROW_DTYPE = np.dtype(
    [
        ("sensor", "<i4"),  # project sensor index
        ("measured", "<f8"),
        ("simulated", "<f8"),
        ("abs_error", "<f8"),
        ("rel_error", "<f8"),
        ("passed", "?"),
        ("compared", "?"),
    ]
)


@dataclass
class FidelitySummary:
    compared: int
    passed: int
    tolerance: float
    worst: list[int] = field(default_factory=list)  # sensor indices, worst first

    @property
    def share(self) -> float:
        """Share of the compared sensors within tolerance (NaN when none compared)."""
        return self.passed / self.compared if self.compared else float("nan")


def fidelity_table(
    sensors: Sequence[int],
    measured: F64,
    simulated: F64,
    tolerance: float,
    relative_to: str = "value",
    span: F64 | None = None,
) -> np.ndarray:
    """One row per sensor (same order): errors and pass/fail. ``span`` is needed for
    ``relative_to="range"`` (each sensor's range max - min)."""
    n = len(sensors)
    rows = np.zeros(n, ROW_DTYPE)
    m = np.asarray(measured, np.float64)
    s = np.asarray(simulated, np.float64)
    rows["sensor"] = np.asarray(sensors, np.int32)
    rows["measured"], rows["simulated"] = m, s
    ok = np.isfinite(m) & np.isfinite(s)
    diff = np.abs(s - m)
    if relative_to == "range":
        if span is None:
            raise ValueError("relative_to='range' needs each sensor's range span")
        base = np.abs(np.asarray(span, np.float64))
    elif relative_to == "value":
        base = np.abs(m)
    else:
        raise ValueError(f"relative_to must be 'value' or 'range', got {relative_to!r}")
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(diff == 0, 0.0, diff / base)
    rows["abs_error"] = np.where(ok, diff, np.nan)
    rows["rel_error"] = np.where(ok, rel, np.nan)
    rows["compared"] = ok
    rows["passed"] = ok & (rel <= tolerance)
    return rows


def summarise(rows: np.ndarray, tolerance: float, worst: int = 5) -> FidelitySummary:
    comp = rows[rows["compared"]]
    order = np.argsort(-comp["rel_error"], kind="stable")
    failing = comp[order]
    failing = failing[~failing["passed"]]
    return FidelitySummary(
        compared=len(comp),
        passed=int(comp["passed"].sum()),
        tolerance=tolerance,
        worst=[int(i) for i in failing["sensor"][:worst]],
    )


def residual_table(n: int = 256) -> NDArray[np.uint8]:
    """Green (agrees) -> yellow (at the tolerance, the middle) -> red (twice the tolerance)."""
    x = np.linspace(0.0, 1.0, n)
    stops = np.array([0.0, 0.5, 1.0])
    rgb = np.stack(
        [
            np.interp(x, stops, [40, 235, 220]),
            np.interp(x, stops, [170, 200, 40]),
            np.interp(x, stops, [90, 40, 50]),
        ],
        axis=1,
    )
    out = np.full((n, 4), 255, np.uint8)
    out[:, :3] = np.round(rgb).astype(np.uint8)
    return out


def residual_colours(
    binding: ComponentBinding,
    rows: np.ndarray,
    n_sensors: int,
    tolerance: float,
    base: NDArray[np.uint8],
) -> NDArray[np.uint8]:
    """Colour each component by the worst relative error of its compared sensors over
    ``[0, 2 * tolerance]`` (:func:`residual_table`); components with none keep ``base``."""
    rel = np.full(n_sensors, np.nan)
    comp = rows[rows["compared"]]
    rel[comp["sensor"]] = comp["rel_error"]
    worst = np.full(binding.n_components, -np.inf)
    pair_rel = rel[binding.pair_sensor]
    ok = ~np.isnan(pair_rel)
    np.maximum.at(worst, binding.pair_component[ok], pair_rel[ok])
    out = base.copy()
    has = worst > -np.inf
    table = residual_table()
    frac = np.clip(worst[has] / (2.0 * tolerance), 0.0, 1.0)
    out[has] = table[np.round(frac * (len(table) - 1)).astype(np.int64)]
    return out
