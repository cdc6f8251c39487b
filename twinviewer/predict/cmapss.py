"""NASA C-MAPSS turbofan run-to-failure data: reader and the usual evaluation protocol.

The files (Saxena et al., PHM08) hold one row per engine and operating cycle: unit number,
cycle, three operating settings and 21 sensors, whitespace-separated. Training files run every
engine to failure; test files stop before failure and a separate file gives the true remaining
useful life (RUL) after the last cycle of each test engine.

Protocol (:func:`evaluate_cmapss`)
----------------------------------
* **Operating conditions.** FD002 and FD004 mix six flight conditions, which move the sensors far
  more than wear does. The settings are clustered (:class:`OperatingConditions`: k-means on the
  standardised non-constant settings, the smallest number of clusters that explains 99.9 % of
  their variance, so that sensor noise on the settings of single-condition subsets never forms
  spurious conditions) and each sensor is standardised with the mean and deviation of its
  condition on the training set. With one condition this is a plain standardisation. The settings
  themselves are not features.
* **Sensors** constant on the training set are dropped by :class:`RulModel`; the rest feed its
  past-only features. Target: the piecewise-linear RUL capped at 125 cycles.
* **Scoring.** One prediction per evaluated engine at its last observed cycle, compared with the
  true (uncapped) RUL: RMSE and the asymmetric PHM08 score, which punishes late predictions
  (over-estimates) more than early ones.
* **Test mode** (``test`` and ``rul`` given): train on all training engines, score every test
  engine.
* **Cross-validation mode**: engines are split into ``folds`` groups by unit (a seeded permutation
  of the unit numbers, then consecutive slices), so no engine is on both sides. Each held-out
  engine is cut ``cuts`` times; each cut leaves a true RUL drawn uniformly from 1 to
  ``min(150, length - 30)`` cycles (seeded per engine), which mimics the test sets (FD001's true
  RULs run from 7 to 145 with mean 75, and its shortest test history is 31 cycles). The model
  predicts at the cut from the truncated history only.
"""

from __future__ import annotations

import logging
import math
import time as _time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from twinviewer.predict.rul import F64, RulModel, Run

log = logging.getLogger(__name__)

N_SETTINGS = 3
N_SENSORS = 21
N_COLUMNS = 2 + N_SETTINGS + N_SENSORS
SENSOR_NAMES = [f"s{j}" for j in range(1, N_SENSORS + 1)]
CAP = 125.0
WINDOW = 30
MIN_HISTORY = 30  # cycles kept before a cross-validation cut (FD001's shortest test run: 31)
MAX_RUL = 150  # largest true RUL drawn at a cut (FD001's test RULs reach 145)

#: Published RMSE on the FD001 test set, for comparison (not computed here).
PUBLISHED = {
    "rmse": {
        "DCNN (Li 2018)": 12.61,
        "gradient boosting": 15.67,
        "random forest": 17.9,
        "best deep (published)": 10.6,
    }
}

Engine = tuple[F64, F64, F64]  # cycles (n,), settings (n, 3), sensors (n, 21)


# -- scores ------------------------------------------------------------------------------------


def rmse(pred: Sequence[float] | F64, true: Sequence[float] | F64) -> float:
    """Root mean squared error of ``pred`` against ``true``."""
    p, t = _pair(pred, true)
    return float(np.sqrt(np.mean((p - t) ** 2)))


def phm08_score(pred: Sequence[float] | F64, true: Sequence[float] | F64) -> float:
    """PHM08 challenge score: sum of exp(-d/13) - 1 for d < 0 and exp(d/10) - 1 for d >= 0.

    ``d = pred - true``: late predictions (d > 0, the engine fails before the predicted time)
    cost more than early ones. Lower is better; 0 is perfect.
    """
    p, t = _pair(pred, true)
    d = p - t
    return float(np.sum(np.where(d < 0, np.expm1(-d / 13.0), np.expm1(d / 10.0))))


def _pair(pred: Sequence[float] | F64, true: Sequence[float] | F64) -> tuple[F64, F64]:
    p = np.asarray(pred, dtype=np.float64).reshape(-1)
    t = np.asarray(true, dtype=np.float64).reshape(-1)
    if p.shape != t.shape or p.size == 0:
        raise ValueError(f"pred and true: expected equal non-empty lengths, got {p.size}, {t.size}")
    return p, t


# -- reading ------------------------------------------------------------------------------------


def _number(token: str, path: Path, line: int, column: int) -> float:
    try:
        value = float(token)
    except ValueError:
        raise ValueError(
            f"{path}: line {line}, column {column}: {token!r} is not a number"
        ) from None
    if not math.isfinite(value):
        raise ValueError(f"{path}: line {line}, column {column}: {token!r} is not finite")
    return value


def _is_header(tokens: list[str]) -> bool:
    try:
        for tok in tokens:
            float(tok)
    except ValueError:
        return not tokens[0][0].isdigit() and tokens[0][0] not in "+-."
    return False


def read_cmapss(path: Path | str) -> dict[int, Engine]:
    """Read a C-MAPSS train or test file: {unit: (cycles, settings (n, 3), sensors (n, 21))}.

    Accepts the original NASA files (no header, trailing spaces) and copies with one header line
    of column names. Rows are sorted by cycle within each unit. A malformed row (not 26 columns, a
    non-number, a non-integer unit or cycle, a repeated cycle) raises ValueError naming the file
    and the line.
    """
    path = Path(path)
    rows: dict[int, list[list[float]]] = {}
    seen: dict[int, dict[float, int]] = {}
    first = True
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line_no, line in enumerate(fh, start=1):
            tokens = line.split()
            if not tokens:
                continue
            if first:
                first = False
                if _is_header(tokens):
                    continue
            if len(tokens) != N_COLUMNS:
                raise ValueError(
                    f"{path}: line {line_no}: expected {N_COLUMNS} columns (unit, cycle, "
                    f"{N_SETTINGS} settings, {N_SENSORS} sensors), found {len(tokens)}"
                )
            values = [_number(tok, path, line_no, c + 1) for c, tok in enumerate(tokens)]
            unit, cycle = values[0], values[1]
            if not unit.is_integer() or not cycle.is_integer():
                raise ValueError(f"{path}: line {line_no}: unit and cycle must be integers")
            u = int(unit)
            cycles = seen.setdefault(u, {})
            if cycle in cycles:
                raise ValueError(
                    f"{path}: line {line_no}: unit {u} cycle {int(cycle)} repeats line "
                    f"{cycles[cycle]}"
                )
            cycles[cycle] = line_no
            rows.setdefault(u, []).append(values[1:])
    if not rows:
        raise ValueError(f"{path}: no data rows (expected {N_COLUMNS} numbers per line)")
    out: dict[int, Engine] = {}
    for u in sorted(rows):
        a = np.array(rows[u], dtype=np.float64)
        a = a[np.argsort(a[:, 0], kind="stable")]
        out[u] = (a[:, 0].copy(), a[:, 1 : 1 + N_SETTINGS].copy(), a[:, 1 + N_SETTINGS :].copy())
    return out


def read_rul(path: Path | str) -> F64:
    """Read a C-MAPSS RUL file: the true RUL of each test engine, one number per line, in order."""
    path = Path(path)
    values: list[float] = []
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line_no, line in enumerate(fh, start=1):
            tokens = line.split()
            if not tokens:
                continue
            if len(tokens) != 1:
                raise ValueError(
                    f"{path}: line {line_no}: expected one number, found {len(tokens)}"
                )
            values.append(_number(tokens[0], path, line_no, 1))
    if not values:
        raise ValueError(f"{path}: no RUL values")
    return np.array(values, dtype=np.float64)


# -- operating conditions ---------------------------------------------------------------------


def _kmeans(Z: F64, k: int, rng: np.random.Generator, iters: int = 50) -> tuple[F64, F64]:
    """Lloyd's k-means with k-means++ seeding; returns (centres, within-cluster sum of squares)."""
    n = Z.shape[0]
    centres = [Z[int(rng.integers(n))]]
    d2 = ((Z - centres[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        total = d2.sum()
        if total <= 0:
            break
        centres.append(Z[int(rng.choice(n, p=d2 / total))])
        d2 = np.minimum(d2, ((Z - centres[-1]) ** 2).sum(axis=1))
    C = np.array(centres)
    for _ in range(iters):
        label = ((Z[:, None, :] - C[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
        count = np.bincount(label, minlength=C.shape[0]).astype(np.float64)
        sums = np.stack([np.bincount(label, Z[:, j], C.shape[0]) for j in range(Z.shape[1])], 1)
        new = np.where(count[:, None] > 0, sums / np.maximum(count, 1.0)[:, None], C)
        if np.allclose(new, C):
            break
        C = new
    dist = ((Z[:, None, :] - C[None, :, :]) ** 2).sum(axis=2)
    return C, np.asarray(dist.min(axis=1).sum(), dtype=np.float64)


class OperatingConditions:
    """Clusters of operating settings and per-cluster sensor standardisation.

    :meth:`fit` standardises the non-constant settings, then tries k = 1..``max_k`` clusters and
    keeps the smallest k whose clusters explain at least ``explained`` of the settings' variance.
    Real flight conditions are separated by far more than the settings' noise, so they pass the
    test at their true number; noise alone never comes near 99.9 %. Sensors are then
    standardised with their mean and deviation within each condition.
    """

    def __init__(self, max_k: int = 10, explained: float = 0.999, seed: int = 0) -> None:
        self.max_k = max_k
        self.explained = explained
        self.seed = seed
        self.columns: NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self.s_mean: F64 = np.zeros(0)
        self.s_scale: F64 = np.zeros(0)
        self.centres: F64 = np.zeros((1, 0))
        self.x_mean: F64 = np.zeros((1, 0))
        self.x_scale: F64 = np.zeros((1, 0))

    @property
    def count(self) -> int:
        """Number of operating conditions found."""
        return int(self.centres.shape[0])

    def _scaled(self, settings: F64) -> F64:
        return (settings[:, self.columns] - self.s_mean) / self.s_scale

    def assign(self, settings: F64) -> NDArray[np.int64]:
        """Index of the nearest condition for each row of ``settings``."""
        if self.columns.size == 0:
            return np.zeros(settings.shape[0], dtype=np.int64)
        Z = self._scaled(settings)
        dist = ((Z[:, None, :] - self.centres[None, :, :]) ** 2).sum(axis=2)
        return np.asarray(dist.argmin(axis=1), dtype=np.int64)

    def fit(self, settings: F64, sensors: F64) -> OperatingConditions:
        """Find the conditions in ``settings`` (n, s) and each sensor's statistics within them."""
        mu, sd = settings.mean(axis=0), settings.std(axis=0)
        self.columns = np.flatnonzero(sd > 1e-9 * np.maximum(1.0, np.abs(mu))).astype(np.int64)
        self.s_mean, self.s_scale = mu[self.columns], sd[self.columns]
        self.centres = np.zeros((1, self.columns.size))
        if self.columns.size:
            Z = self._scaled(settings)
            rng = np.random.default_rng(self.seed)
            # Conditions are large groups of rows: a sample of a few thousand finds them all.
            sample = Z if Z.shape[0] <= 5000 else Z[rng.choice(Z.shape[0], 5000, replace=False)]
            total = float(((sample - sample.mean(axis=0)) ** 2).sum())
            for k in range(1, self.max_k + 1):
                # A few seedings per k: one unlucky k-means++ start must not merge two conditions.
                C, within = min((_kmeans(sample, k, rng) for _ in range(3)), key=lambda r: r[1])
                if total <= 0 or 1.0 - float(within) / total >= self.explained:
                    self.centres = C
                    break
            else:
                self.centres = sample.mean(axis=0, keepdims=True)  # no clear clusters: one
        label = self.assign(settings)
        k = self.count
        self.x_mean = np.zeros((k, sensors.shape[1]))
        self.x_scale = np.ones((k, sensors.shape[1]))
        for c in range(k):
            rows = sensors[label == c]
            if rows.shape[0]:
                self.x_mean[c] = rows.mean(axis=0)
                sd_c = rows.std(axis=0)
                self.x_scale[c] = np.where(sd_c > 0, sd_c, 1.0)
        log.info("C-MAPSS: %d operating condition(s)", k)
        return self

    def transform(self, settings: F64, sensors: F64) -> F64:
        """Sensors standardised within the condition of each row."""
        label = self.assign(settings)
        return np.asarray((sensors - self.x_mean[label]) / self.x_scale[label], dtype=np.float64)


# -- protocol -----------------------------------------------------------------------------------


def _runs(engines: Mapping[int, Engine], cond: OperatingConditions, failed: bool) -> list[Run]:
    runs = []
    for cycles, settings, sensors in engines.values():
        X = cond.transform(settings, sensors)
        runs.append(Run(cycles, X, float(cycles[-1]) if failed else None))
    return runs


def _fit(
    engines: Mapping[int, Engine], seed: int, params: Mapping[str, Any] | None
) -> tuple[OperatingConditions, RulModel, float]:
    start = _time.perf_counter()
    settings = np.concatenate([e[1] for e in engines.values()], axis=0)
    sensors = np.concatenate([e[2] for e in engines.values()], axis=0)
    cond = OperatingConditions(seed=seed).fit(settings, sensors)
    model = RulModel(window=WINDOW, cap=CAP, quantiles=(), params=params, seed=seed)
    model.fit(_runs(engines, cond, failed=True), SENSOR_NAMES)
    return cond, model, _time.perf_counter() - start


def _cuts(cycles: F64, count: int, seed: int, unit: int) -> list[int]:
    """Lengths of the truncated histories for a held-out engine (seeded by engine)."""
    n = cycles.size
    rng = np.random.default_rng([seed, unit])
    top = max(1, min(MAX_RUL, n - MIN_HISTORY))
    top = min(top, n - 1) if n > 1 else 0
    if top < 1:
        return [n]
    return [n - int(r) for r in rng.integers(1, top + 1, size=count)]


def evaluate_cmapss(
    train: Path | str,
    test: Path | str | None = None,
    rul: Path | str | None = None,
    folds: int = 5,
    seed: int = 0,
    *,
    cuts: int = 5,
    params: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Score the RUL model on a C-MAPSS subset (see the module docstring for the protocol).

    Test mode when ``test`` and ``rul`` are given, else ``folds``-fold cross-validation by
    engine with ``cuts`` cut points per held-out engine. ``params`` overrides LightGBM settings
    (e.g. fewer trees for a quick run). The estimate model only is trained (no quantile band).

    Returns ``rmse``, ``score`` (PHM08), ``train_seconds`` (the model's training time; in
    cross-validation the mean over folds, with ``train_seconds_folds`` per fold), ``engines``
    (engines evaluated), ``cases`` (predictions scored), ``mode`` ("test" or "cv-<folds>"),
    ``sensors_used``, ``conditions`` (operating conditions found) and ``published``.
    """
    engines = read_cmapss(train)
    if (test is None) != (rul is None):
        raise ValueError("evaluate_cmapss: give both test and rul, or neither")
    pred: list[float] = []
    true: list[float] = []
    if test is not None and rul is not None:
        test_engines = read_cmapss(test)
        truth = read_rul(rul)
        if truth.size != len(test_engines):
            raise ValueError(
                f"{rul}: {truth.size} RUL values for {len(test_engines)} test engines in {test}"
            )
        cond, model, seconds = _fit(engines, seed, params)
        for run, r in zip(_runs(test_engines, cond, failed=False), truth, strict=True):
            pred.append(model.predict_last(run)[0])
            true.append(float(r))
        report: dict[str, Any] = {
            "mode": "test",
            "train_seconds": seconds,
            "engines": len(test_engines),
            "sensors_used": model.sensors_used,
            "conditions": cond.count,
        }
    else:
        units = np.array(sorted(engines), dtype=np.int64)
        if not 2 <= folds <= units.size:
            raise ValueError(f"folds must be between 2 and {units.size}, got {folds}")
        order = np.random.default_rng(seed).permutation(units)
        times: list[float] = []
        used: set[str] = set()
        counts: list[int] = []
        for held in np.array_split(order, folds):
            held_set = {int(u) for u in held}
            fit_on = {u: e for u, e in engines.items() if u not in held_set}
            cond, model, seconds = _fit(fit_on, seed, params)
            times.append(seconds)
            used.update(model.sensors_used)
            counts.append(cond.count)
            for u in sorted(held_set):
                cycles, settings, sensors = engines[u]
                X = cond.transform(settings, sensors)
                for m in _cuts(cycles, cuts, seed, u):
                    run = Run(cycles[:m], X[:m], None)
                    pred.append(model.predict_last(run)[0])
                    true.append(float(cycles[-1] - cycles[m - 1]))
        report = {
            "mode": f"cv-{folds}",
            "train_seconds": float(np.mean(times)),
            "train_seconds_folds": times,
            "engines": int(units.size),
            "sensors_used": [s for s in SENSOR_NAMES if s in used],
            "conditions": max(counts),
        }
    report.update(
        rmse=rmse(pred, true),
        score=phm08_score(pred, true),
        cases=len(pred),
        published=PUBLISHED,
    )
    log.info("C-MAPSS %s: RMSE %.2f, score %.1f", report["mode"], report["rmse"], report["score"])
    return report
