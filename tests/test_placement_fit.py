"""sim.placement_fit: the placed result's box against the twin's, and Fit result to twin."""

from __future__ import annotations

import math

import pytest

from twinviewer.core.project import Placement
from twinviewer.sim.placement_fit import (
    MAX_RATIO,
    check_bounds,
    fit_to_twin,
    format_bounds,
    overlaps,
    placed_bounds,
    unit_hint,
)

TWIN_MM = (5.0, 352.0, 5.0, 168.0, 10.0, 35.0)  # a model in millimetres
RESULT_M = (2.0, 2.347, 3.0, 3.163, 0.005, 0.03)  # the same part in metres, somewhere else


def _close(a, b, rel=1e-9, abs_=1e-9) -> bool:
    return all(math.isclose(x, y, rel_tol=rel, abs_tol=abs_) for x, y in zip(a, b, strict=True))


def test_placed_bounds_scale_rotate_translate() -> None:
    box = (0.0, 2.0, 0.0, 1.0, 0.0, 0.5)
    assert _close(placed_bounds(box, Placement()), box)
    assert _close(
        placed_bounds(box, Placement(scale=10, translate=(1, 2, 3))),
        (1.0, 21.0, 2.0, 12.0, 3.0, 8.0),
    )
    # 90° about z: x becomes y, y becomes -x
    assert _close(placed_bounds(box, Placement(rotate=(0, 0, 90))), (-1.0, 0.0, 0.0, 2.0, 0.0, 0.5))


def test_overlap_touching_and_flat() -> None:
    a = (0.0, 1.0, 0.0, 1.0, 0.0, 1.0)
    assert overlaps(a, (1.0, 2.0, 0.0, 1.0, 0.0, 1.0))  # a shared face
    assert overlaps(a, (0.2, 0.4, 0.2, 0.4, 0.5, 0.5))  # a flat box inside
    assert not overlaps(a, (1.5, 2.0, 0.0, 1.0, 0.0, 1.0))


def test_a_result_in_metres_off_a_model_in_millimetres() -> None:
    check = check_bounds(RESULT_M, Placement(), TWIN_MM)
    assert not check.ok and not check.overlap
    assert check.problem.startswith("The placed result does not overlap the twin and is ")
    assert check.problem.endswith("is 1,000× smaller than the twin")
    assert math.isclose(1 / check.ratio, 1000, rel_tol=0.01)

    fit = fit_to_twin(RESULT_M, Placement(), TWIN_MM)
    assert fit.how == "m → mm"
    assert fit.placement.scale == 1000.0
    placed = placed_bounds(RESULT_M, fit.placement)
    # the centres agree, the size is the unit conversion's
    assert _close(
        [(placed[i] + placed[i + 1]) / 2 for i in (0, 2, 4)],
        [(TWIN_MM[i] + TWIN_MM[i + 1]) / 2 for i in (0, 2, 4)],
        abs_=1e-6,
    )
    assert _close(placed, TWIN_MM, abs_=1e-6)
    assert check_bounds(RESULT_M, fit.placement, TWIN_MM).ok


@pytest.mark.parametrize(
    ("factor", "scale", "how"),
    [
        (1 / 1000, 1000.0, "m → mm"),
        (1000, 0.001, "mm → m"),
        (1 / 25.4, 25.4, "in → mm"),
        (1 / 304.8, 304.8, "ft → mm"),
        (100, 0.01, "cm → m"),
        (1 / 500, 500.0, "exact fit"),  # no unit conversion near: the exact ratio
        (1 / 3456.789, 3457.0, "exact fit"),  # to four significant digits
        (1 / 1234.5, 1000.0, "m → mm"),  # within a factor 1.5: the unit conversion
    ],
)
def test_the_fit_snaps_to_a_unit_conversion_when_near(factor: float, scale: float, how: str):
    result = tuple(v * factor for v in TWIN_MM)
    fit = fit_to_twin(result, Placement(), TWIN_MM)  # type: ignore[arg-type]
    assert fit.how == how
    assert math.isclose(fit.placement.scale, scale, rel_tol=1e-9)
    assert check_bounds(result, fit.placement, TWIN_MM).ok  # type: ignore[arg-type]


def test_only_moved_when_the_sizes_agree() -> None:
    result = (100.0, 400.0, 100.0, 250.0, 0.0, 20.0)  # mm too, a third smaller, off to the side
    moved = tuple(v + (1000.0 if i < 2 else 0.0) for i, v in enumerate(result))
    check = check_bounds(moved, Placement(), TWIN_MM)  # type: ignore[arg-type]
    assert check.problem == "The placed result does not overlap the twin"
    fit = fit_to_twin(moved, Placement(scale=1.0, rotate=(0, 0, 0)), TWIN_MM)  # type: ignore[arg-type]
    assert fit.how == "kept" and fit.placement.scale == 1.0
    assert check_bounds(moved, fit.placement, TWIN_MM).ok  # type: ignore[arg-type]


def test_rotation_is_kept_by_the_fit() -> None:
    fit = fit_to_twin(RESULT_M, Placement(rotate=(90, 0, 0)), TWIN_MM)
    assert fit.placement.rotate == (90, 0, 0)
    placed = placed_bounds(RESULT_M, fit.placement)
    assert overlaps(placed, TWIN_MM)
    centre = [(placed[i] + placed[i + 1]) / 2 for i in (0, 2, 4)]
    assert _close(centre, [178.5, 86.5, 22.5], abs_=1e-6)


def test_too_big_is_a_problem_too() -> None:
    k = MAX_RATIO * 3  # the twin's box grown about its centre
    big = tuple(
        (TWIN_MM[i] + TWIN_MM[i ^ 1]) / 2 + k * (TWIN_MM[i] - TWIN_MM[i ^ 1]) / 2 for i in range(6)
    )
    check = check_bounds(big, Placement(), TWIN_MM)  # type: ignore[arg-type]
    assert check.overlap
    assert "× the twin's size" in check.problem


def test_a_twin_without_size_is_not_judged_by_size() -> None:
    point = (1.0, 1.0, 2.0, 2.0, 3.0, 3.0)
    check = check_bounds(RESULT_M, Placement(), point)
    assert (
        math.isnan(check.ratio) and check.problem == "The placed result does not overlap the twin"
    )
    fit = fit_to_twin(RESULT_M, Placement(scale=2.0), point)
    assert fit.how == "kept" and fit.placement.scale == 2.0


def test_unit_hint_and_bounds_text() -> None:
    assert unit_hint(1000) == "m → mm"
    assert unit_hint(25.4) == "in → mm"
    assert unit_hint(1.0) == "same units"
    assert unit_hint(3.0) is None
    assert format_bounds(TWIN_MM, "mm") == "x 5 … 352, y 5 … 168, z 10 … 35 mm"
    assert format_bounds((-0.0, 1e-5, 0, 1, 0, 1)) == "x 0 … 1e-05, y 0 … 1, z 0 … 1"
