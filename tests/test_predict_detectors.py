"""The detectors of normal behaviour against results worked by hand.

T²/Q: a two-sensor set whose correlation matrix [[1, r], [r, 1]] has the eigenvectors
(1, 1)/√2 and (1, -1)/√2 and the eigenvalues 1 ± r, so T², Q and both limits follow from
explicit formulas; a three-sensor set checked against an eigendecomposition (not the SVD the
implementation uses). MSET: a memory of two states whose estimate is worked out with the 2×2
inverse written out.
"""

from __future__ import annotations

import io
import json
import math
from typing import Any, cast

import numpy as np
import pytest
from scipy import stats

from twinviewer.predict.detectors import (
    DETECTORS,
    Detector,
    Mset,
    PcaT2Q,
    load_detector,
    make_detector,
)


def two_sensors() -> np.ndarray:
    """20 rows of two strongly correlated sensors (deterministic)."""
    u = np.linspace(-1.0, 1.0, 20)
    wiggle = 0.05 * np.sin(7.0 * u)
    return np.column_stack([10.0 + 2.0 * u, 5.0 - 0.5 * (u + wiggle)])


def correlated(n: int, seed: int) -> np.ndarray:
    """Three sensors driven by one latent variable, plus noise."""
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal(n)
    noise = 0.2 * rng.standard_normal((n, 3)) * np.array([1.0, 2.0, 1.0])  # equal in z
    return np.column_stack([latent, 2.0 * latent + 1.0, -latent + 3.0]) + noise


def small(kind: str) -> Detector:
    """A detector of ``kind`` sized for quick tests (a 40-state MSET memory)."""
    return make_detector(kind, memory=40) if kind == "mset" else make_detector(kind)


def test_t2q_two_sensors_by_hand() -> None:
    X = two_sensors()
    n = len(X)
    mean = X.mean(axis=0)
    std = X.std(axis=0, ddof=1)
    Z = (X - mean) / std
    r = float(np.sum(Z[:, 0] * Z[:, 1]) / (n - 1))  # the sample correlation
    assert r < -0.95  # sensor 2 falls as sensor 1 rises: first eigenvector (1, -1)/√2
    lam1, lam2 = 1.0 - r, 1.0 + r  # 1 + |r| explained by the first component
    assert lam1 / 2.0 > 0.95  # so one component is kept

    x = np.array([11.0, 4.9])
    z = (x - mean) / std
    t = (z[0] - z[1]) / math.sqrt(2.0)
    t2 = t * t / lam1
    q = (z[0] + z[1]) ** 2 / 2.0  # the residual along (1, 1)/√2
    t2_lim = 1 * (n - 1) * (n + 1) / (n * (n - 1)) * stats.f.ppf(0.99, 1, n - 1)
    # Jackson–Mudholkar with a single residual eigenvalue: h0 = 1 - 2/3 = 1/3
    h0 = 1.0 / 3.0
    c = stats.norm.ppf(0.99)
    q_lim = lam2 * (
        c * math.sqrt(2.0 * lam2**2 * h0**2) / lam2 + 1.0 + lam2**2 * h0 * (h0 - 1.0) / lam2**2
    ) ** (1.0 / h0)

    det = PcaT2Q().fit(X)
    s = det.score(x)
    assert det.loadings_.shape == (2, 1)
    assert det.t2_limit == pytest.approx(t2_lim, rel=1e-9)
    assert det.q_limit == pytest.approx(q_lim, rel=1e-9)
    assert s.parts["t2"][0] == pytest.approx(t2, rel=1e-9)
    assert s.parts["q"][0] == pytest.approx(q, rel=1e-9)
    assert s.score[0] == pytest.approx(max(t2 / t2_lim, q / q_lim), rel=1e-9)
    # T² contributions z_i Σ P_i t / λ: both sensors positive here, shares by hand
    c_t2 = np.maximum(z * np.array([1.0, -1.0]) / math.sqrt(2.0) * t / lam1, 0.0)
    e = z - np.array([1.0, -1.0]) / math.sqrt(2.0) * t
    a, b = t2 / t2_lim, q / q_lim
    blend = a * c_t2 / c_t2.sum() + b * e**2 / np.sum(e**2)
    np.testing.assert_allclose(s.contributions[0], blend / blend.sum(), rtol=1e-9)


def test_t2q_three_sensors_against_an_eigendecomposition() -> None:
    X = correlated(60, seed=1)
    n = len(X)
    Z = (X - X.mean(axis=0)) / X.std(axis=0, ddof=1)
    lam, vec = np.linalg.eigh(Z.T @ Z / (n - 1))
    lam, vec = lam[::-1], vec[:, ::-1]
    k = int(np.argmax(np.cumsum(lam) / lam.sum() >= 0.95)) + 1
    P = vec[:, :k]
    z = Z[7] + np.array([0.0, 0.0, 1.5])
    t = P.T @ z
    t2 = float(np.sum(t**2 / lam[:k]))
    q = float(np.sum((z - P @ t) ** 2))
    det = PcaT2Q().fit(X)
    s = det.score(z * X.std(axis=0, ddof=1) + X.mean(axis=0))
    assert det.loadings_.shape[1] == k
    assert s.parts["t2"][0] == pytest.approx(t2, rel=1e-8)
    assert s.parts["q"][0] == pytest.approx(q, rel=1e-8)


@pytest.mark.parametrize("kind", sorted(DETECTORS))
def test_healthy_below_one_and_broken_correlation_above_with_the_right_sensor(kind: str) -> None:
    X = correlated(600, seed=2)
    det = make_detector(kind).fit(X)
    fresh = correlated(2000, seed=3)
    s = det.score(fresh)
    assert np.mean(s.score > 1.0) < 0.03  # a 99 % limit, checked on unseen healthy rows
    assert s.score.shape == (2000,) and s.contributions.shape == (2000, 3)
    np.testing.assert_allclose(s.contributions.sum(axis=1), 1.0, rtol=1e-9)
    # sensor 2 leaves the line it shares with the others, within its own range
    off = np.array([0.5, 2.0, 1.0])  # on the line: (0.5, 2.0, 2.5)
    healthy = det.score(np.array([0.5, 2.0, 2.5]))
    broken = det.score(off)
    assert healthy.score[0] < 1.0
    assert broken.score[0] > 1.0
    assert int(np.argmax(broken.contributions[0])) == 2


@pytest.mark.parametrize("kind", sorted(DETECTORS))
def test_round_trip_through_json_and_npz_gives_identical_scores(kind: str) -> None:
    X = correlated(300, seed=4)
    det = small(kind).fit(X)
    meta, arrays = det.to_arrays()
    assert meta["kind"] == kind
    buf = io.BytesIO()
    np.savez(buf, **cast(dict[str, Any], arrays))
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as npz:
        loaded = load_detector(json.loads(json.dumps(meta)), dict(npz))
    Y = correlated(50, seed=5)
    a, b = det.score(Y), loaded.score(Y)
    np.testing.assert_array_equal(a.score, b.score)
    np.testing.assert_array_equal(a.contributions, b.contributions)


@pytest.mark.parametrize("kind", sorted(DETECTORS))
def test_missing_values_are_imputed_and_explain_nothing(kind: str) -> None:
    X = correlated(300, seed=6)
    X[5, 1] = np.nan  # dropped from training
    det = small(kind).fit(X)
    assert det.n_train == 299
    row = np.array([0.3, np.nan, 9.0])
    s = det.score(row)
    assert np.isfinite(s.score[0])
    assert s.contributions[0, 1] == 0.0
    assert s.contributions[0].sum() == pytest.approx(1.0)


@pytest.mark.parametrize("kind", sorted(DETECTORS))
def test_constant_sensor_keeps_scale_one(kind: str) -> None:
    X = correlated(200, seed=7)
    X[:, 1] = 4.0
    det = small(kind).fit(X)
    assert det.scale_[1] == 1.0
    assert det.score(np.array([0.0, 4.0, 3.0])).score[0] < 1.0
    moved = det.score(np.array([0.0, 9.0, 3.0]))
    assert moved.score[0] > 1.0 and int(np.argmax(moved.contributions[0])) == 1


def test_t2q_with_one_sensor_is_t2_only() -> None:
    X = np.linspace(0.0, 1.0, 30)[:, None]
    det = PcaT2Q().fit(X)
    assert det.q_limit is None
    s = det.score(np.array([[0.6], [3.0]]))
    assert s.parts["q"].tolist() == [0.0, 0.0]
    z = (3.0 - 0.5) / X.std(ddof=1)
    assert s.parts["t2"][1] == pytest.approx(z * z, rel=1e-9)
    np.testing.assert_allclose(s.contributions[:, 0], [1.0, 1.0])
    meta, arrays = det.to_arrays()
    assert load_detector(meta, arrays).score(np.array([3.0])).score[0] == s.score[1]


def test_mset_estimate_with_a_two_state_memory_by_hand() -> None:
    d1, d2 = np.array([0.0, 0.0]), np.array([1.0, 2.0])
    h, ridge = 1.5, 0.1
    meta = {
        "kind": "mset",
        "n_features": 2,
        "memory": 2,
        "ridge": ridge,
        "alpha": 0.99,
        "folds": 5,
        "residual_floor": 0.05,
        "n_memory": 2,
        "bandwidth": h,
        "limit": 4.0,
    }
    arrays = {
        "mean": np.zeros(2),
        "scale": np.ones(2),
        "memory": np.vstack([d1, d2]),
        "residual_scale": np.array([0.5, 1.0]),
    }
    det = load_detector(meta, arrays)
    x = np.array([0.6, 0.9])
    k1 = math.exp(-(0.6**2 + 0.9**2) / (2 * h * h))
    k2 = math.exp(-(0.4**2 + 1.1**2) / (2 * h * h))
    g = math.exp(-(1.0 + 4.0) / (2 * h * h))
    det2 = (1 + ridge) ** 2 - g * g  # (G + ρI)⁻¹ = [[1+ρ, -g], [-g, 1+ρ]] / det2
    w1 = ((1 + ridge) * k1 - g * k2) / det2
    w2 = ((1 + ridge) * k2 - g * k1) / det2
    assert w1 > 0 and w2 > 0
    w1, w2 = w1 / (w1 + w2), w2 / (w1 + w2)
    estimate = w1 * d1 + w2 * d2
    r = (x - estimate) / np.array([0.5, 1.0])
    s = det.score(x)
    assert s.parts["spe"][0] == pytest.approx(float(np.sum(r * r)), rel=1e-10)
    assert s.score[0] == pytest.approx(float(np.sum(r * r)) / 4.0, rel=1e-10)
    np.testing.assert_allclose(s.contributions[0], r * r / np.sum(r * r), rtol=1e-10)
    # far from both states every similarity underflows: the estimate is the nearest state
    far = det.score(np.array([1.0, 200.0]))
    assert far.parts["spe"][0] == pytest.approx((0.0 / 0.5) ** 2 + 198.0**2, rel=1e-10)


def test_mset_memory_rule_is_extremes_then_norm_spreads() -> None:
    Z = np.array(
        [
            [0.0, 0.0],
            [3.0, 0.1],
            [-2.0, 0.2],
            [0.1, 4.0],
            [0.2, -1.0],
            [0.5, 0.5],
            [1.0, 1.0],
            [0.05, 0.05],
            [1.5, 1.5],
        ]
    )
    idx = Mset.select_memory(Z, 6)
    # min/max of sensor 0: rows 2, 1; of sensor 1: rows 4, 3; then rows 0, 5, 6, 7, 8 sorted
    # by norm are 0, 7, 5, 6, 8 and two of them evenly spread are the first and the last
    assert idx.tolist() == [2, 1, 4, 3, 0, 8]
    assert Mset.select_memory(Z, 3).tolist() == [2, 1, 4]
    # 8 states: 4 left, 3 by rank (positions 0, 2, 4 of 0, 7, 5, 6, 8: rows 0, 5, 8) and one
    # by value, the free row nearest the middle norm (max 4.0012 / 2): row 6 (√2)
    assert Mset.select_memory(Z, 8).tolist() == [2, 1, 4, 3, 0, 5, 8, 6]


def test_fit_with_too_few_rows_says_how_many() -> None:
    X = correlated(8, seed=8)
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"at least 10 complete rows.*got 7 of 8"):
        Mset().fit(X)
    with pytest.raises(ValueError, match=r"at least 5 complete rows .*got 2"):
        PcaT2Q().fit(X[:3])


def test_unknown_kind_and_wrong_width() -> None:
    with pytest.raises(ValueError, match="known: mset, t2q"):
        make_detector("forest")
    det = PcaT2Q().fit(correlated(50, seed=9))
    with pytest.raises(ValueError, match="3 sensors"):
        det.score(np.zeros(4))


@pytest.mark.parametrize("kind", sorted(DETECTORS))
def test_broken_saved_models_name_the_problem(kind: str) -> None:
    meta, arrays = small(kind).fit(correlated(100, seed=10)).to_arrays()
    big = "loadings" if kind == "t2q" else "memory"
    cases = [
        ({**meta, "kind": "other"}, arrays, "unknown kind 'other'"),
        ({k: v for k, v in meta.items() if k != "kind"}, arrays, "missing 'kind'"),
        (meta, {k: v for k, v in arrays.items() if k != "scale"}, "missing array 'scale'"),
        (meta, {**arrays, "mean": np.zeros(4)}, r"'mean' has shape \(4,\), expected \(3,\)"),
        (meta, {**arrays, big: arrays[big][:2]}, f"'{big}' has shape"),
        (meta, {**arrays, "scale": np.full(3, np.nan)}, "'scale' holds NaN"),
        ({**meta, "n_features": 0}, arrays, "'n_features' must be a positive integer"),
    ]
    for bad_meta, bad_arrays, message in cases:
        with pytest.raises(ValueError, match=message):
            load_detector(bad_meta, bad_arrays)
    with pytest.raises(ValueError, match="kind 't2q', expected 'mset'"):
        Mset.from_arrays({**meta, "kind": "t2q"}, arrays)
    limit = "t2_limit" if kind == "t2q" else "limit"
    with pytest.raises(ValueError, match=f"'{limit}' must be positive"):
        load_detector({**meta, limit: -1.0}, arrays)
