"""Multivariate models of normal behaviour: fitted on a healthy window, they score new rows.

Two detectors share one contract (:class:`Detector`):

- :class:`PcaT2Q` (``"t2q"``): principal components of the standardised sensors; Hotelling's T²
  inside the retained subspace and Q (squared prediction error) outside it, each against its
  textbook control limit.
- :class:`Mset` (``"mset"``): a nonlinear state estimator (multivariate state estimation
  technique). A memory of healthy states reconstructs each new state from its similarity to
  them; what the memory cannot reconstruct is the residual.

Every score is normalised so that ``1.0`` is the detector's limit, and each row's score comes
with each sensor's share of it (``contributions``, rows summing to 1), which is what an operator
reads first ("which sensor?"). A model is plain data: :meth:`Detector.to_arrays` gives JSON-able
metadata and numpy arrays (saved as JSON + npz, never pickle) and :func:`load_detector` rebuilds
it, validating every array's presence and shape.

Scoring is vectorised (``score(X)`` with ``n`` rows is a handful of matrix products) and the
one-row path stays a few dozen numpy calls, since the live monitor scores every component about
once a second.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from numpy.typing import NDArray
from scipy import stats

if TYPE_CHECKING:
    from typing import Self  # Python 3.11; annotations only, so 3.10 runs this module

log = logging.getLogger(__name__)

F64 = NDArray[np.float64]

_TINY = 1e-12
"""Below this a standard deviation, an eigenvalue or a weight sum counts as zero."""

_BLOCKS_PER_FOLD = 4
"""MSET's cross-validation: contiguous blocks per fold (see :meth:`Mset.fit`)."""


@dataclass
class Scores:
    """What a detector says about ``n`` rows.

    ``score`` is the anomaly score normalised so that 1.0 is the detector's limit (above 1:
    anomalous at the detector's confidence). ``contributions`` is each sensor's share of the
    score, rows summing to 1 (all zero where the row has nothing to explain). ``parts`` holds the
    raw statistics, e.g. ``{"t2": ..., "q": ...}`` or ``{"spe": ...}``.
    """

    score: F64
    contributions: F64
    parts: dict[str, F64] = field(default_factory=dict)


def _as_rows(X: Any, n_features: int) -> F64:
    """``X`` as a float (n, p) array; a single (p,) row becomes (1, p)."""
    A = np.asarray(X, dtype=np.float64)
    if A.ndim == 1:
        A = A.reshape(1, -1)
    if A.ndim != 2 or A.shape[1] != n_features:
        raise ValueError(f"expected rows of {n_features} sensors, got an array of shape {A.shape}")
    return A


def _normalise_rows(C: F64) -> F64:
    """Scale each row of non-negative ``C`` to sum 1; rows summing to ~0 become all zero."""
    total = C.sum(axis=1, keepdims=True)
    total[total <= _TINY] = np.inf  # an all-zero row stays zero
    return C / total


def _require(arrays: dict[str, np.ndarray], name: str, shape: tuple[int, ...]) -> F64:
    """The array ``name`` from a saved model, checked for presence, shape and finiteness."""
    if name not in arrays:
        raise ValueError(f"model arrays: missing array {name!r} (have {sorted(arrays)})")
    a = np.asarray(arrays[name], dtype=np.float64)
    if a.shape != shape:
        raise ValueError(f"model arrays: {name!r} has shape {a.shape}, expected {shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"model arrays: {name!r} holds NaN or infinite values")
    return a


def _meta_number(meta: dict[str, Any], name: str) -> float:
    """A positive number from a saved model's metadata, checked."""
    if name not in meta:
        raise ValueError(f"model meta: missing {name!r}")
    value = meta[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
        raise ValueError(f"model meta: {name!r} must be a finite number, got {value!r}")
    if value <= 0:
        raise ValueError(f"model meta: {name!r} must be positive, got {value!r}")
    return float(value)


class Detector:
    """A model of normal behaviour: ``fit`` on healthy rows, ``score`` new ones.

    The base class owns what both detectors share: dropping incomplete training rows,
    standardising (training mean, standard deviation; a constant sensor keeps scale 1 so that
    any later movement of it is measured in its own units), imputing missing values at scoring
    time with the training mean, and the mean/scale part of the saved form.
    """

    kind: ClassVar[str] = ""

    def __init__(self) -> None:
        self.n_features = 0
        self.mean_: F64 = np.zeros(0)
        self.scale_: F64 = np.ones(0)
        self.n_train = 0

    def min_rows(self, n_features: int) -> int:
        """The fewest complete training rows the detector accepts for ``n_features`` sensors."""
        return max(3, n_features + 2)

    def _standardise_fit(self, X: Any) -> F64:
        """Drop rows with a NaN, check there are enough, learn mean and scale; return Z."""
        A = np.asarray(X, dtype=np.float64)
        if A.ndim != 2 or A.shape[1] < 1:
            raise ValueError(f"fit expects an (n, p) array of rows, got shape {A.shape}")
        complete = A[~np.isnan(A).any(axis=1)]
        need = self.min_rows(A.shape[1])
        if len(complete) < need:
            raise ValueError(
                f"{self.kind}: fitting {A.shape[1]} sensors needs at least {need} complete rows "
                f"(without NaN), got {len(complete)} of {len(A)}"
            )
        if not np.all(np.isfinite(complete)):
            raise ValueError(f"{self.kind}: training rows hold infinite values")
        self.n_features = A.shape[1]
        self.n_train = len(complete)
        self.mean_ = complete.mean(axis=0)
        std = complete.std(axis=0, ddof=1)
        self.scale_ = np.where(std > _TINY * np.maximum(1.0, np.abs(self.mean_)), std, 1.0)
        return (complete - self.mean_) / self.scale_

    def zscores(self, X: Any) -> F64:
        """Each value's distance from its training mean in training standard deviations
        (0 where missing): how unusual each sensor is on its own."""
        return self._standardise(X)[0]

    def _standardise(self, X: Any) -> tuple[F64, NDArray[np.bool_] | None]:
        """Rows standardised with the training mean and scale, NaN imputed by the mean (z = 0).

        Returns Z and the mask of missing entries (``None`` when nothing is missing, the
        common case, so that the callers skip the masking work).
        """
        if self.n_features == 0:
            raise ValueError(f"{self.kind}: score called before fit")
        A = _as_rows(X, self.n_features)
        Z = (A - self.mean_) / self.scale_
        missing = np.isnan(Z)
        if missing.any():
            Z[missing] = 0.0
            return Z, missing
        return Z, None

    def fit(self, X: F64) -> Self:
        """Learn normal behaviour from the rows of ``X`` (n, p)."""
        raise NotImplementedError

    def score(self, X: F64) -> Scores:
        """Score the rows of ``X`` ((n, p) or one (p,) row, giving arrays of length 1)."""
        raise NotImplementedError

    def params(self) -> dict[str, Any]:
        """The constructor's parameters, JSON-able."""
        raise NotImplementedError

    def to_arrays(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """The model as data: JSON-able metadata (``kind``, parameters) and numpy arrays."""
        if self.n_features == 0:
            raise ValueError(f"{self.kind}: cannot save a detector that was never fitted")
        meta: dict[str, Any] = {
            "kind": self.kind,
            "version": 1,
            "n_features": self.n_features,
            "n_train": self.n_train,
            **self.params(),
        }
        return meta, {"mean": self.mean_.copy(), "scale": self.scale_.copy()}

    @classmethod
    def _check_meta(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> Self:
        """A new instance with the shared part of a saved model restored and checked."""
        if not isinstance(meta, dict):
            raise ValueError(f"model meta must be a mapping, got {type(meta).__name__}")
        if meta.get("kind") != cls.kind:
            raise ValueError(f"model meta: kind {meta.get('kind')!r}, expected {cls.kind!r}")
        p = meta.get("n_features")
        if isinstance(p, bool) or not isinstance(p, int) or p < 1:
            raise ValueError(f"model meta: 'n_features' must be a positive integer, got {p!r}")
        params = {k: meta[k] for k in cls._param_names() if k in meta}
        try:
            det = cls(**params)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"model meta: bad parameters for {cls.kind!r}: {exc}") from exc
        det.n_features = p
        det.n_train = int(meta.get("n_train", 0))
        det.mean_ = _require(arrays, "mean", (p,))
        det.scale_ = _require(arrays, "scale", (p,))
        if np.any(det.scale_ <= 0):
            raise ValueError("model arrays: 'scale' must be positive")
        return det

    @classmethod
    def _param_names(cls) -> tuple[str, ...]:
        return ()

    @classmethod
    def from_arrays(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> Detector:
        """Rebuild a saved model; missing arrays, wrong shapes or kind raise ValueError."""
        raise NotImplementedError


class PcaT2Q(Detector):
    """PCA with Hotelling's T² and Q (SPE) control limits.

    Fitting: the standardised training rows Z (n, p) are decomposed by SVD, Z = U S Vᵀ; the
    component variances are λ_j = s_j² / (n - 1). The first k components that explain the
    fraction ``variance`` of the total are kept (at least 1, at most p - 1 when p > 1, so that a
    residual space exists for Q). For a row z: scores t = Pᵀz (P = the k loadings),
    T² = Σ t_j² / λ_j, residual e = z - P t, Q = ‖e‖².

    Limits at confidence ``alpha``: T²_lim = k (n-1)(n+1) / (n (n-k)) · F_alpha(k, n-k), the
    limit for a new observation when mean and covariance come from n rows. Q_lim is Jackson and
    Mudholkar's: with θ_i = Σ_{j>k} λ_j^i and h0 = 1 - 2θ1θ3 / (3θ2²),
    Q_lim = θ1 [c_alpha √(2θ2 h0²) / θ1 + 1 + θ2 h0 (h0 - 1) / θ1²]^(1/h0), c_alpha the normal
    quantile. When the residual eigenvalues are degenerate (θ1 ≈ 0 or h0 ≤ 0) the empirical
    ``alpha`` quantile of the training Q is used instead. score = max(T²/T²_lim, Q/Q_lim).

    Contributions: to T², c_i = z_i Σ_j P_ij t_j / λ_j (these sum to T²; negative ones clipped);
    to Q, e_i². Each set is normalised and the two are blended by the weight of each statistic
    relative to its limit, so the sensor list explains whichever statistic raised the alarm.
    """

    kind: ClassVar[str] = "t2q"

    def __init__(self, variance: float = 0.95, alpha: float = 0.99) -> None:
        super().__init__()
        if not 0.0 < variance <= 1.0:
            raise ValueError(f"variance must be in (0, 1], got {variance}")
        if not 0.5 < alpha < 1.0:
            raise ValueError(f"alpha must be in (0.5, 1), got {alpha}")
        self.variance = float(variance)
        self.alpha = float(alpha)
        self.loadings_: F64 = np.zeros((0, 0))
        self.eigenvalues_: F64 = np.zeros(0)
        self.t2_limit = 1.0
        self.q_limit: float | None = None
        self._w: F64 = np.zeros((0, 0))

    @classmethod
    def _param_names(cls) -> tuple[str, ...]:
        return ("variance", "alpha")

    def params(self) -> dict[str, Any]:
        return {"variance": self.variance, "alpha": self.alpha}

    def fit(self, X: F64) -> Self:
        """Standardise, decompose, choose k, and set the T² and Q limits (see the class doc)."""
        Z = self._standardise_fit(X)
        n, p = Z.shape
        _, s, Vt = np.linalg.svd(Z, full_matrices=False)
        lam = s**2 / (n - 1)
        total = lam.sum()
        if total > _TINY:
            explained = np.cumsum(lam) / total
            k = int(np.searchsorted(explained, self.variance - 1e-12) + 1)
        else:
            k = 1
        k = max(1, min(k, p - 1 if p > 1 else 1, n - 2))
        self.loadings_ = Vt[:k].T.copy()
        self.eigenvalues_ = np.maximum(lam[:k], _TINY * max(1.0, total))
        self.t2_limit = float(
            k * (n - 1) * (n + 1) / (n * (n - k)) * stats.f.ppf(self.alpha, k, n - k)
        )
        self._prepare()
        if p > k:
            residual_lam = np.zeros(p)
            residual_lam[: len(lam)] = lam
            self.q_limit = float(self._q_limit(residual_lam[k:], Z))
        else:
            self.q_limit = None
        log.debug("t2q fitted: n=%d p=%d k=%d T2lim=%.3g", n, p, k, self.t2_limit)
        return self

    def _q_limit(self, residual_lam: F64, Z: F64) -> float:
        """Jackson–Mudholkar's Q limit, or the empirical quantile when it is degenerate."""
        theta1, theta2, theta3 = (float(np.sum(residual_lam**i)) for i in (1, 2, 3))
        limit = float("nan")
        if theta1 > _TINY and theta2 > _TINY**2:
            h0 = 1.0 - 2.0 * theta1 * theta3 / (3.0 * theta2**2)
            if h0 > 1e-3:
                c = float(stats.norm.ppf(self.alpha))
                base = (
                    c * np.sqrt(2.0 * theta2 * h0**2) / theta1
                    + 1.0
                    + theta2 * h0 * (h0 - 1.0) / theta1**2
                )
                if base > 0:
                    limit = theta1 * base ** (1.0 / h0)
        if not np.isfinite(limit) or limit <= _TINY:
            q_train = self._statistics(Z)[1]
            limit = float(np.quantile(q_train, self.alpha))
            log.debug("t2q: degenerate residual eigenvalues, empirical Q limit %.3g", limit)
        # A residual space with no variance at all: any movement out of it is anomalous, at a
        # scale of a millionth of the standardised variance.
        return max(limit, 1e-6)

    def _prepare(self) -> None:
        """Precompute P / λ, used by both T² and its contributions."""
        self._w = self.loadings_ / self.eigenvalues_

    def _statistics(self, Z: F64) -> tuple[F64, F64, F64, F64]:
        """T², Q, the T² back-projection (per sensor) and the residual for standardised rows."""
        T = Z @ self.loadings_
        back = T @ self._w.T  # Σ_j P_ij t_j / λ_j for each sensor i
        t2 = (Z * back).sum(axis=1)
        E = Z - T @ self.loadings_.T
        q = (E * E).sum(axis=1)
        return t2, q, back, E

    def score(self, X: F64) -> Scores:
        """T²/T²_lim and Q/Q_lim for each row, their maximum, and the blended contributions."""
        Z, missing = self._standardise(X)
        t2, q, back, E = self._statistics(Z)
        if missing is not None:
            # An imputed value is no evidence: it neither adds to Q nor explains anything.
            E[missing] = 0.0
            q = (E * E).sum(axis=1)
        a = t2 / self.t2_limit
        # Each statistic's per-sensor shares, weighted by that statistic relative to its
        # limit: normalising the sum blends them in proportion a : b.
        C = _normalise_rows(np.maximum(Z * back, 0.0)) * a[:, None]
        if self.q_limit is None:
            b = np.zeros_like(a)
        else:
            b = q / self.q_limit
            C += _normalise_rows(E * E) * b[:, None]
        if missing is not None:
            C[missing] = 0.0
        return Scores(np.maximum(a, b), _normalise_rows(C), {"t2": t2, "q": q})

    def to_arrays(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        meta, arrays = super().to_arrays()
        meta.update(
            n_components=int(self.loadings_.shape[1]),
            t2_limit=self.t2_limit,
            q_limit=self.q_limit,
        )
        arrays.update(loadings=self.loadings_.copy(), eigenvalues=self.eigenvalues_.copy())
        return meta, arrays

    @classmethod
    def from_arrays(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> PcaT2Q:
        det = cls._check_meta(meta, arrays)
        p = det.n_features
        k = meta.get("n_components")
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= p:
            raise ValueError(f"model meta: 'n_components' must be an integer in 1..{p}, got {k!r}")
        det.loadings_ = _require(arrays, "loadings", (p, k))
        det.eigenvalues_ = _require(arrays, "eigenvalues", (k,))
        if np.any(det.eigenvalues_ <= 0):
            raise ValueError("model arrays: 'eigenvalues' must be positive")
        det.t2_limit = _meta_number(meta, "t2_limit")
        det.q_limit = None if meta.get("q_limit") is None else _meta_number(meta, "q_limit")
        if det.q_limit is None and k < p:
            raise ValueError("model meta: 'q_limit' missing although components < sensors")
        det._prepare()
        return det


class Mset(Detector):
    """Multivariate state estimation: a memory of healthy states reconstructs each new state.

    Memory D (m states, standardised, as columns d_j): the rows holding each sensor's minimum
    and maximum (so the memory spans the training range of every sensor); then three quarters
    of the rest evenly spread over the training rows sorted by their norm (from the centre of
    the data to its edge: states where the data are dense), and the last quarter the rows
    nearest to evenly spaced norm values (so the sparse tails of the healthy distribution are
    covered too: with the rank spread alone, uncommon healthy states raised ~3.5 % alarms at a
    99 % limit on synthetic Gaussian data, ~1 % with it). The same window gives the same model.

    Similarity: a Gaussian kernel K(a, b) = exp(-‖a - b‖² / (2h²)) in the standardised space,
    with the bandwidth h = the median distance from each memory state to its nearest other one
    (the memory's own spacing, so the kernel is local: the estimate of a state off the healthy
    manifold comes from the nearest healthy states and the residual measures the distance to
    them, not an extrapolation). Estimate, for a state x: w = (Dᵀ⊗D + ρI)⁻¹ (Dᵀ⊗x) with the
    Gram matrix G_ij = K(d_i, d_j) and a ridge ρ; negative weights are clipped and the rest
    normalised to sum 1, so x̂ = D w is a convex combination of healthy states (where every
    similarity underflows, the nearest state). Missing sensors are left out of the distances
    (rescaled to all p sensors), so their estimate is a genuine virtual-sensor value.

    Statistic: SPE = Σ_i (r_i / s_i)², r = x - x̂ in standardised units and s_i the sensor's
    residual scale (root mean square residual out of sample, floored at ``residual_floor``
    standard deviations, since no sensor is trusted to be reconstructed more precisely than
    that outside its training window). The out-of-sample residuals come from blocked
    cross-validation: the training window is cut into 4 × ``folds`` short contiguous blocks,
    dealt round robin to ``folds`` folds, and each fold is estimated by a memory built from the
    others. No row is scored by a memory holding it or its immediate neighbours (consecutive
    rows are near-duplicates), yet each held-out block lies between memory blocks, so what is
    measured is the reconstruction of unseen states inside the covered range, not an
    extrapolation past the window's ends.

    Limit: the empirical ``alpha`` quantile of the out-of-sample SPE times a margin
    1 + 1/√(n (1 - alpha)). n (1 - alpha) is the number of training rows expected beyond the
    quantile, which is all the evidence behind it, and 1/√ of it the relative uncertainty of
    that count: the margin is large when few rows back the tail (1.5 for 400 rows at 99 %) and
    tends to 1 as the window grows. (A distribution-free upper confidence bound of the quantile
    lands on the rows of any single disturbance in the window, and windows are never certain
    to be clean.)
    score = SPE / limit; contributions = (r_i / s_i)², normalised.
    """

    kind: ClassVar[str] = "mset"

    def __init__(
        self,
        memory: int = 100,
        alpha: float = 0.99,
        ridge: float = 0.1,
        folds: int = 5,
        residual_floor: float = 0.05,
    ) -> None:
        super().__init__()
        if int(memory) < 2:
            raise ValueError(f"memory must be at least 2 states, got {memory}")
        if not 0.5 < alpha < 1.0:
            raise ValueError(f"alpha must be in (0.5, 1), got {alpha}")
        if not ridge > 0 or int(folds) < 2 or not residual_floor > 0:
            raise ValueError("ridge and residual_floor must be positive, folds at least 2")
        self.memory = int(memory)
        self.alpha = float(alpha)
        self.ridge = float(ridge)
        self.folds = int(folds)
        self.residual_floor = float(residual_floor)
        self.memory_: F64 = np.zeros((0, 0))
        self.residual_scale_: F64 = np.ones(0)
        self.bandwidth = 1.0
        self.limit = 1.0
        self._ginv: F64 = np.zeros((0, 0))
        self._dnorm: F64 = np.zeros(0)
        self._dsq: F64 = np.zeros((0, 0))
        self._neg_inv_2h2 = -0.5

    @classmethod
    def _param_names(cls) -> tuple[str, ...]:
        return ("memory", "alpha", "ridge", "folds", "residual_floor")

    def params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._param_names()}

    def min_rows(self, n_features: int) -> int:
        return max(2 * self.folds, 2 * n_features + 2)

    @staticmethod
    def select_memory(Z: F64, size: int) -> NDArray[np.intp]:
        """Row indices of the memory: each sensor's extremes, then spreads over the norm."""
        n = len(Z)
        size = min(size, n)
        chosen: list[int] = []
        for j in range(Z.shape[1]):
            for i in (int(np.argmin(Z[:, j])), int(np.argmax(Z[:, j]))):
                if i not in chosen:
                    chosen.append(i)
        chosen = chosen[:size]
        taken = np.zeros(n, dtype=bool)
        taken[chosen] = True
        order = np.argsort(np.einsum("ij,ij->i", Z, Z), kind="stable")
        rest = order[~taken[order]]
        need = size - len(chosen)
        by_value = need // 4
        by_rank = need - by_value
        if by_rank > 0:
            picks = np.unique(np.round(np.linspace(0, len(rest) - 1, by_rank)).astype(np.intp))
            chosen.extend(int(i) for i in rest[picks])
            taken[rest[picks]] = True
        if by_value > 0:
            norm = np.sqrt(np.einsum("ij,ij->i", Z, Z))
            lo, hi = float(norm.min()), float(norm.max())
            for target in lo + (hi - lo) * (np.arange(by_value) + 0.5) / by_value:
                free = np.flatnonzero(~taken)
                i = int(free[np.argmin(np.abs(norm[free] - target))])
                taken[i] = True
                chosen.append(i)
        return np.asarray(chosen, dtype=np.intp)

    def _set_memory(self, D: F64, bandwidth: float | None = None) -> None:
        """Install memory D: its bandwidth (unless given) and the regularised Gram inverse."""
        self.memory_ = D
        self._dsq = D * D
        self._dnorm = self._dsq.sum(axis=1)
        d2 = np.maximum(self._dnorm[:, None] - 2.0 * D @ D.T + self._dnorm[None, :], 0.0)
        if bandwidth is None:
            off = d2 + np.diag(np.full(len(D), np.inf))
            nearest = np.sqrt(off.min(axis=1))
            nearest = nearest[np.isfinite(nearest) & (nearest > _TINY)]
            bandwidth = float(np.median(nearest)) if len(nearest) else 1.0
        self.bandwidth = bandwidth
        self._neg_inv_2h2 = -0.5 / bandwidth**2
        G = np.exp(d2 * self._neg_inv_2h2)
        self._ginv = np.asarray(np.linalg.inv(G + self.ridge * np.eye(len(D))), dtype=np.float64)

    def _estimate(self, Z: F64, missing: NDArray[np.bool_] | None) -> F64:
        """x̂ for standardised rows Z (see the class doc)."""
        D = self.memory_
        if missing is None:
            d2 = (Z * Z).sum(axis=1)[:, None] - 2.0 * Z @ D.T + self._dnorm
        else:
            seen = (~missing).astype(np.float64)
            Zs = Z * seen
            d2 = (Zs * Zs).sum(axis=1)[:, None] - 2.0 * Zs @ D.T + seen @ self._dsq.T
            d2 *= (Z.shape[1] / np.maximum(seen.sum(axis=1), 1.0))[:, None]
        K = np.exp(d2 * self._neg_inv_2h2)  # d2 may be a rounding error below 0: harmless
        W = np.maximum(K @ self._ginv, 0.0)  # G⁻¹ is symmetric: (G⁻¹ k)ᵀ = kᵀ G⁻¹
        total = W.sum(axis=1)
        weak = total <= _TINY
        if weak.any():
            W[weak] = 0.0
            W[weak, np.argmin(d2[weak], axis=1)] = 1.0
            total[weak] = 1.0
        return (W / total[:, None]) @ D

    def _residuals(self, Z: F64, missing: NDArray[np.bool_] | None) -> F64:
        R = Z - self._estimate(Z, missing)
        if missing is not None:
            R[missing] = 0.0
        return R

    def fit(self, X: F64) -> Self:
        """Out-of-sample residuals by blocked folds, residual scales, limit, then the memory."""
        Z = self._standardise_fit(X)
        n = len(Z)
        # _BLOCKS_PER_FOLD short contiguous blocks per fold, dealt round robin: a held-out
        # block has memory blocks on both sides (interpolation, what the memory is for), yet
        # its own neighbouring rows are out of the memory (no near-duplicate leak).
        blocks = np.array_split(np.arange(n), self.folds * _BLOCKS_PER_FOLD)
        fold_of = np.repeat(np.arange(len(blocks)) % self.folds, [len(b) for b in blocks])
        R = np.empty_like(Z)
        for fold in range(self.folds):
            block, rest = np.flatnonzero(fold_of == fold), np.flatnonzero(fold_of != fold)
            self._set_memory(Z[rest][self.select_memory(Z[rest], self.memory)])
            R[block] = self._residuals(Z[block], None)
        rms = np.sqrt(np.mean(R * R, axis=0))
        self.residual_scale_ = np.maximum(rms, self.residual_floor)
        spe = np.sum((R / self.residual_scale_) ** 2, axis=1)
        margin = 1.0 + 1.0 / np.sqrt(n * (1.0 - self.alpha))
        self.limit = max(float(np.quantile(spe, self.alpha)) * margin, _TINY)
        self._set_memory(Z[self.select_memory(Z, self.memory)])
        log.debug(
            "mset fitted: n=%d p=%d m=%d h=%.3g limit=%.3g",
            n,
            Z.shape[1],
            len(self.memory_),
            self.bandwidth,
            self.limit,
        )
        return self

    def score(self, X: F64) -> Scores:
        """SPE / limit per row and the per-sensor squared standardised residuals as shares."""
        Z, missing = self._standardise(X)
        S = (self._residuals(Z, missing) / self.residual_scale_) ** 2
        spe = S.sum(axis=1)
        return Scores(spe / self.limit, _normalise_rows(S), {"spe": spe})

    def to_arrays(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        meta, arrays = super().to_arrays()
        meta.update(n_memory=len(self.memory_), bandwidth=self.bandwidth, limit=self.limit)
        arrays.update(memory=self.memory_.copy(), residual_scale=self.residual_scale_.copy())
        return meta, arrays

    @classmethod
    def from_arrays(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> Mset:
        det = cls._check_meta(meta, arrays)
        p = det.n_features
        m = meta.get("n_memory")
        if isinstance(m, bool) or not isinstance(m, int) or m < 1:
            raise ValueError(f"model meta: 'n_memory' must be a positive integer, got {m!r}")
        D = _require(arrays, "memory", (m, p))
        det.residual_scale_ = _require(arrays, "residual_scale", (p,))
        if np.any(det.residual_scale_ <= 0):
            raise ValueError("model arrays: 'residual_scale' must be positive")
        det.limit = _meta_number(meta, "limit")
        det._set_memory(D, _meta_number(meta, "bandwidth"))
        return det


DETECTORS: dict[str, type[Detector]] = {"t2q": PcaT2Q, "mset": Mset}


def make_detector(kind: str, **params: Any) -> Detector:
    """A new, unfitted detector of ``kind`` with ``params``; unknown kinds raise ValueError."""
    if kind not in DETECTORS:
        raise ValueError(f"unknown detector kind {kind!r}; known: {', '.join(sorted(DETECTORS))}")
    return DETECTORS[kind](**params)


def load_detector(meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> Detector:
    """Rebuild a detector saved by :meth:`Detector.to_arrays`, dispatching on ``meta["kind"]``."""
    if not isinstance(meta, dict) or "kind" not in meta:
        raise ValueError("model meta: missing 'kind'")
    kind = meta["kind"]
    if kind not in DETECTORS:
        known = ", ".join(sorted(DETECTORS))
        raise ValueError(f"model meta: unknown kind {kind!r}; known: {known}")
    return DETECTORS[kind].from_arrays(meta, arrays)
