"""Remaining useful life (RUL): a gradient-boosted regressor on run-to-failure histories.

A *run* is the multivariate sensor history of one unit, sampled at increasing times, up to its
failure (training) or up to now (prediction). The model learns, at every time step, the time
left before failure from features that only look at the past of the run, so that the same
function serves for training (every step of every finished run) and for prediction (the last
step of a running unit).

Method
------
* **Sensors.** Each sensor is standardised with its mean and standard deviation over the training
  rows; sensors that are constant on the training set carry no information and are dropped (the
  kept names are recorded in the model). Missing values are forward-filled within the run; a
  sensor still missing at the start of a run takes its training mean (0 after standardisation).
* **Features** (per kept sensor, over the last ``window`` steps, fewer at the start of a run):
  the current value, the rolling mean, the rolling standard deviation, the rolling least-squares
  slope against time, and the drift of the rolling mean from the run's own baseline (the mean of
  its first ``window`` steps; units start with different wear and manufacturing variation, so the
  change from the unit's own start is more telling than the absolute level). One more feature:
  the time since the start of the run. Rolling statistics are computed on explicit windows with
  centred two-pass formulas (no running sums of squares), which stays accurate on long runs.
* **Target.** The piecewise-linear RUL ``min(failure - time, cap)``: far from failure the
  remaining life is not observable from the sensors, so it is held constant at ``cap``. Censored
  runs (no failure yet) still contribute their steps that are at least ``cap`` before their last
  observation, whose capped target is known exactly.
* **Models.** LightGBM with squared loss for the estimate and one quantile-loss model per quantile
  (0.1 and 0.9 by default) for the band. Training is deterministic (fixed seeds,
  ``deterministic=True``, two threads). Predictions are clipped to ``[0, cap]`` and, at each step,
  the three values are sorted so that lower <= estimate <= upper.
* **Storage.** A JSON file of metadata and one LightGBM text model per booster. Nothing is ever
  pickled: loading a model reads numbers and tree text, it cannot execute code.
"""

from __future__ import annotations

import json
import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import lightgbm as lgb
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

if TYPE_CHECKING:
    from typing import Self

log = logging.getLogger(__name__)

F64 = NDArray[np.float64]

FORMAT = "twinviewer.rul-model"
VERSION = 1

#: Generic LightGBM settings: moderate trees, shrinkage and row/column subsampling. Not tuned to
#: any particular data set; ``params`` of :class:`RulModel` overrides any of them.
DEFAULT_PARAMS: dict[str, Any] = {
    "learning_rate": 0.05,
    "num_iterations": 400,
    "num_leaves": 31,
    "min_data_in_leaf": 40,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
}

_STATS = ("value", "mean", "std", "slope", "drift")
_CHUNK = 4096  # rows per block of rolling windows, bounds memory to CHUNK * window * sensors


@dataclass
class Run:
    """One unit's history up to failure (training) or up to now (prediction).

    ``time`` is increasing (cycles or seconds), ``X`` holds one row of sensor values per time (NaN
    allowed), ``failure`` is the time of failure or None for a censored / still running unit.
    """

    time: F64
    X: F64
    failure: float | None = None

    def __post_init__(self) -> None:
        self.time = np.asarray(self.time, dtype=np.float64).reshape(-1)
        X = np.asarray(self.X, dtype=np.float64)
        if X.ndim == 1:
            X = X.reshape(-1, 1)
        self.X = X
        if X.ndim != 2 or X.shape[0] != self.time.size:
            raise ValueError(f"run: X has shape {X.shape}, expected ({self.time.size}, p)")
        if not np.all(np.isfinite(self.time)):
            raise ValueError("run: time has NaN or infinite values")
        if np.any(np.diff(self.time) < 0):
            raise ValueError("run: time is not increasing")
        if self.failure is not None:
            self.failure = float(self.failure)


def _forward_fill(X: F64) -> F64:
    """Replace each NaN by the last valid value above it in its column (leading NaN remain)."""
    n = X.shape[0]
    valid = ~np.isnan(X)
    idx = np.where(valid, np.arange(n)[:, None], 0)
    np.maximum.accumulate(idx, axis=0, out=idx)
    out = X[idx, np.arange(X.shape[1])[None, :]]
    return np.asarray(out, dtype=np.float64)


def _rolling(t: F64, Z: F64, window: int) -> tuple[F64, F64, F64]:
    """Rolling mean, standard deviation and slope against ``t`` over the last ``window`` rows.

    The first rows use the shorter history available. Windows are explicit strided views of the
    data padded in front with NaN times (which mark the missing positions); the statistics are
    centred two-pass sums, computed block by block to bound memory.
    """
    n, q = Z.shape
    w = max(1, window)
    tp = np.concatenate([np.full(w - 1, np.nan), t])
    Zp = np.concatenate([np.zeros((w - 1, q)), Z], axis=0)
    tv = sliding_window_view(tp, w)  # (n, w)
    Zv = sliding_window_view(Zp, w, axis=0)  # (n, q, w)
    mean = np.empty((n, q))
    std = np.empty((n, q))
    slope = np.empty((n, q))
    for a in range(0, n, _CHUNK):
        b = min(n, a + _CHUNK)
        tw = tv[a:b]
        valid = ~np.isnan(tw)
        k = valid.sum(axis=1).astype(np.float64)  # >= 1: the current row is always there
        zw = np.where(valid[:, None, :], Zv[a:b], 0.0)
        m = zw.sum(axis=2) / k[:, None]
        dev = np.where(valid[:, None, :], zw - m[:, :, None], 0.0)
        tm = np.where(valid, tw, 0.0).sum(axis=1) / k
        tc = np.where(valid, tw - tm[:, None], 0.0)
        stt = (tc * tc).sum(axis=1)
        sxt = (dev * tc[:, None, :]).sum(axis=2)
        mean[a:b] = m
        std[a:b] = np.sqrt((dev * dev).sum(axis=2) / k[:, None])
        with np.errstate(divide="ignore", invalid="ignore"):
            slope[a:b] = np.where(stt[:, None] > 0, sxt / stt[:, None], 0.0)
    return mean, std, slope


def _check_number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{what}: expected a finite number, found {value!r}")
    return float(value)


class RulModel:
    """Remaining-useful-life regressor with a quantile band; see the module docstring."""

    def __init__(
        self,
        window: int = 30,
        cap: float = 125.0,
        quantiles: Sequence[float] = (0.1, 0.9),
        params: Mapping[str, Any] | None = None,
        seed: int = 0,
    ) -> None:
        if int(window) < 1:
            raise ValueError(f"window must be at least 1, got {window}")
        if not cap > 0:
            raise ValueError(f"cap must be positive, got {cap}")
        qs = tuple(float(q) for q in quantiles)
        if len(qs) not in (0, 2) or any(not 0.0 < q < 1.0 for q in qs):
            raise ValueError(f"quantiles: expected none or two in (0, 1), got {quantiles}")
        self.window = int(window)
        self.cap = float(cap)
        self.quantiles: tuple[float, ...] = tuple(sorted(qs))
        self.params: dict[str, Any] = dict(params or {})
        self.seed = int(seed)
        # Set by fit (or load).
        self.sensors: list[str] = []  # names of all input columns
        self.kept: list[int] = []  # indices of the columns used
        self.mean: F64 = np.zeros(0)
        self.scale: F64 = np.zeros(0)
        self.boosters: dict[str, lgb.Booster] = {}

    # -- features -------------------------------------------------------------------------

    @property
    def fitted(self) -> bool:
        """True once the model has been trained or loaded."""
        return "estimate" in self.boosters

    @property
    def sensors_used(self) -> list[str]:
        """Names of the sensors the model uses (the non-constant ones of the training set)."""
        return [self.sensors[j] for j in self.kept]

    def feature_names(self) -> list[str]:
        """Readable names of the feature columns, in order."""
        names = [f"{s}.{stat}" for stat in _STATS for s in self.sensors_used]
        return [*names, "time_since_start"]

    def _standardise(self, X: F64) -> F64:
        if self.kept:
            if X.shape[1] != len(self.sensors):
                raise ValueError(
                    f"run has {X.shape[1]} sensors, the model expects {len(self.sensors)}"
                )
            return (X[:, self.kept] - self.mean) / self.scale
        return X  # unfitted: raw values

    def features(self, run: Run) -> F64:
        """One feature row per time step of ``run``, each using only the steps up to it.

        Columns (see :meth:`feature_names`): for every kept sensor its standardised current value,
        rolling mean, rolling standard deviation, rolling slope per unit of time and drift from
        the run's baseline, then the time since the start of the run.
        """
        Z = _forward_fill(self._standardise(run.X))
        Z = np.where(np.isnan(Z), 0.0, Z)  # still missing at the start: the training mean
        n = Z.shape[0]
        if n == 0:
            return np.zeros((0, 5 * Z.shape[1] + 1))
        mean, std, slope = _rolling(run.time, Z, self.window)
        # Baseline: the mean of the first `window` steps (expanding before that), known in the past.
        base = mean[min(n, self.window) - 1]
        early = np.arange(n) < self.window
        drift = np.where(early[:, None], 0.0, mean - base[None, :])
        since = (run.time - run.time[0])[:, None]
        return np.concatenate([Z, mean, std, slope, drift, since], axis=1)

    # -- training -------------------------------------------------------------------------

    def _target(self, run: Run) -> tuple[NDArray[np.bool_], F64]:
        """Rows usable for training and their capped RUL target."""
        if run.failure is not None:
            rul = run.failure - run.time
            return rul >= 0, np.minimum(rul, self.cap)
        if run.time.size == 0:
            return np.zeros(0, dtype=bool), np.zeros(0)
        # Censored: steps at least `cap` before the last observation have a known target, cap.
        known = run.time[-1] - run.time >= self.cap
        return known, np.full(run.time.size, self.cap)

    def _lgb_params(self, objective: str, alpha: float | None = None) -> tuple[dict[str, Any], int]:
        p: dict[str, Any] = {**DEFAULT_PARAMS, **self.params}
        rounds = int(p.pop("num_iterations", 400))
        for alias in ("n_estimators", "num_boost_round", "num_rounds", "num_trees"):
            if alias in p:
                rounds = int(p.pop(alias))
        p.update(
            objective=objective,
            seed=self.seed,
            bagging_seed=self.seed + 1,
            feature_fraction_seed=self.seed + 2,
            data_random_seed=self.seed + 3,
            deterministic=True,
            force_col_wise=True,
            num_threads=2,
            verbosity=-1,
        )
        if alpha is not None:
            p["alpha"] = alpha
        return p, rounds

    def fit(self, runs: Sequence[Run], sensors: Sequence[str] | None = None) -> Self:
        """Train the estimate and band models on ``runs`` (see the module docstring).

        ``sensors`` names the columns of ``X`` (default ``x0``, ``x1``, ...). Sensors constant on
        the training rows are dropped and the kept ones recorded. Returns the model.
        """
        if not runs:
            raise ValueError("fit: no runs")
        p = runs[0].X.shape[1]
        if any(r.X.shape[1] != p for r in runs):
            raise ValueError("fit: runs have different numbers of sensors")
        names = [str(s) for s in sensors] if sensors is not None else [f"x{j}" for j in range(p)]
        if len(names) != p:
            raise ValueError(f"fit: {len(names)} sensor names for {p} sensor columns")
        if not any(r.failure is not None for r in runs):
            raise ValueError("fit: no run has a failure time")
        allX = np.concatenate([r.X for r in runs], axis=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: handled below
            mu = np.nanmean(allX, axis=0)
            sd = np.nanstd(allX, axis=0)
        tol = 1e-9 * np.maximum(1.0, np.abs(mu))
        kept = [j for j in range(p) if np.isfinite(sd[j]) and sd[j] > tol[j]]
        if not kept:
            raise ValueError("fit: every sensor is constant on the training runs")
        dropped = [names[j] for j in range(p) if j not in kept]
        if dropped:
            log.info("RUL model: dropping constant sensors %s", ", ".join(dropped))
        self.sensors, self.kept = names, kept
        self.mean, self.scale = mu[kept], sd[kept]
        rows, targets = [], []
        for r in runs:
            use, y = self._target(r)
            if use.any():
                rows.append(self.features(r)[use])
                targets.append(y[use])
        if not rows:
            raise ValueError("fit: no training rows (no run has a step before its failure)")
        F, y = np.concatenate(rows, axis=0), np.concatenate(targets)
        self.boosters = {}
        fnames = [f"f{i}" for i in range(F.shape[1])]  # LightGBM-safe names; readable ones in meta
        data = lgb.Dataset(F, label=y, feature_name=fnames, free_raw_data=False)
        jobs: list[tuple[str, str, float | None]] = [("estimate", "regression", None)]
        jobs += [(f"q{q:g}", "quantile", q) for q in self.quantiles]
        for key, objective, alpha in jobs:
            params, rounds = self._lgb_params(objective, alpha)
            self.boosters[key] = lgb.train(params, data, num_boost_round=rounds)
        log.info("RUL model: %d rows, %d features, %d runs", F.shape[0], F.shape[1], len(runs))
        return self

    # -- prediction -----------------------------------------------------------------------

    def predict(self, run: Run) -> tuple[F64, F64, F64]:
        """RUL estimate, lower and upper band at every step of ``run``.

        Without quantile models the band collapses onto the estimate.
        """
        if not self.fitted:
            raise ValueError("predict: the model is not fitted")
        F = self.features(run)
        if F.shape[0] == 0:
            empty = np.zeros(0)
            return empty, empty.copy(), empty.copy()
        est = np.asarray(self.boosters["estimate"].predict(F), dtype=np.float64)
        if len(self.quantiles) == 2:
            lo = np.asarray(self.boosters[f"q{self.quantiles[0]:g}"].predict(F), dtype=np.float64)
            hi = np.asarray(self.boosters[f"q{self.quantiles[1]:g}"].predict(F), dtype=np.float64)
        else:
            lo, hi = est.copy(), est.copy()
        trio = np.sort(np.clip(np.stack([lo, est, hi], axis=1), 0.0, self.cap), axis=1)
        return trio[:, 1].copy(), trio[:, 0].copy(), trio[:, 2].copy()

    def predict_last(self, run: Run) -> tuple[float, float, float]:
        """RUL estimate, lower and upper band at the last step of ``run``."""
        if run.time.size == 0:
            raise ValueError("predict_last: the run is empty")
        est, lo, hi = self.predict(run)
        return float(est[-1]), float(lo[-1]), float(hi[-1])

    # -- storage --------------------------------------------------------------------------

    def _meta(self, name: str) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "window": self.window,
            "cap": self.cap,
            "quantiles": list(self.quantiles),
            "params": self.params,
            "seed": self.seed,
            "sensors": self.sensors,
            "kept": self.kept,
            "mean": [float(v) for v in self.mean],
            "scale": [float(v) for v in self.scale],
            "features": self.feature_names(),
            "boosters": {key: f"{name}.{key}.txt" for key in self.boosters},
        }

    def save(self, folder: Path, name: str) -> None:
        """Write ``<name>.json`` (metadata) and ``<name>.<model>.txt`` (LightGBM text) files."""
        if not self.fitted:
            raise ValueError("save: the model is not fitted")
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        meta = self._meta(name)
        for key, booster in self.boosters.items():
            (folder / meta["boosters"][key]).write_text(booster.model_to_string(), encoding="utf-8")
        (folder / f"{name}.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, name: str) -> RulModel:
        """Read a model written by :meth:`save`; a file that is not one raises ValueError."""
        path = Path(folder) / f"{name}.json"
        what = f"a TwinViewer RUL model ({FORMAT} JSON written by RulModel.save)"
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ValueError(f"{path}: no such file, expected {what}") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}: not readable as JSON ({exc}), expected {what}") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ValueError(f"{path}: not {what}")
        if meta.get("version") != VERSION:
            raise ValueError(f"{path}: model version {meta.get('version')!r}, expected {VERSION}")
        try:
            model = cls._from_meta(meta, path)
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, ValueError) and str(exc).startswith(str(path)):
                raise
            raise ValueError(f"{path}: malformed {what}: {exc!r}") from None
        for key, fname in meta["boosters"].items():
            bpath = Path(folder) / str(fname)
            if Path(str(fname)).name != str(fname):
                raise ValueError(f"{path}: booster file name {fname!r} is not a plain file name")
            try:
                text = bpath.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ValueError(f"{bpath}: cannot read the LightGBM text model ({exc})") from None
            if not text.startswith("tree\n"):
                raise ValueError(f"{bpath}: not a LightGBM text model (expected a 'tree' header)")
            try:
                booster = lgb.Booster(model_str=text)
            except lgb.basic.LightGBMError as exc:
                raise ValueError(f"{bpath}: corrupt LightGBM text model ({exc})") from None
            nfeat = len(model.feature_names())
            if booster.num_feature() != nfeat:
                raise ValueError(
                    f"{bpath}: LightGBM model has {booster.num_feature()} features, "
                    f"the metadata in {path.name} describes {nfeat}"
                )
            model.boosters[str(key)] = booster
        expected = {"estimate", *(f"q{q:g}" for q in model.quantiles)}
        if set(model.boosters) != expected:
            raise ValueError(
                f"{path}: boosters {sorted(model.boosters)}, expected {sorted(expected)}"
            )
        return model

    @classmethod
    def _from_meta(cls, meta: dict[str, Any], path: Path) -> RulModel:
        params = meta["params"]
        if not isinstance(params, dict):
            raise ValueError(f"{path}: 'params' is not an object")
        model = cls(
            window=int(_check_number(meta["window"], "window")),
            cap=_check_number(meta["cap"], "cap"),
            quantiles=[_check_number(q, "quantile") for q in meta["quantiles"]],
            params=params,
            seed=int(_check_number(meta["seed"], "seed")),
        )
        sensors = [str(s) for s in meta["sensors"]]
        kept = [int(_check_number(j, "kept")) for j in meta["kept"]]
        mean = np.array([_check_number(v, "mean") for v in meta["mean"]], dtype=np.float64)
        scale = np.array([_check_number(v, "scale") for v in meta["scale"]], dtype=np.float64)
        if not kept or any(not 0 <= j < len(sensors) for j in kept):
            raise ValueError(f"{path}: 'kept' does not index the {len(sensors)} sensors")
        if mean.size != len(kept) or scale.size != len(kept) or np.any(scale <= 0):
            raise ValueError(f"{path}: 'mean'/'scale' do not match the kept sensors")
        if not isinstance(meta["boosters"], dict):
            raise ValueError(f"{path}: 'boosters' is not an object")
        model.sensors, model.kept, model.mean, model.scale = sensors, kept, mean, scale
        return model
