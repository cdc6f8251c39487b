"""How good a detector is: outlier metrics per row and the NAB score of early detection.

Written from the published definitions (SKAB's outlier metrics; the Numenta Anomaly Benchmark's
scoring), not from their code.

Outlier metrics, on boolean arrays of true and predicted anomalous rows:

- F1 = TP / (TP + (FP + FN) / 2)
- FAR (false alarm rate) = FP / (FP + TN)
- MAR (missed alarm rate) = FN / (FN + TP)

:class:`OutlierCounts` keeps the four counts so that a benchmark pools them over files (adds the
counts, then takes the ratios) rather than averaging ratios.

NAB scoring (:func:`nab_score`). Positions are counted in rows of the series (NAB works on the
rows' indices, not on durations). The scaled sigmoid is

    σ(y) = 2 / (1 + exp(5y)) - 1     (= 2·sigmoid(-5y) - 1), and σ(y) = -1 for y > 3.

σ(-1) ≈ 0.987 (early), σ(0) = 0, σ → -1 as y grows. For a labelled window holding rows a..b
(w = b - a + 1 rows):

- only the earliest detection in the window counts: at row i its relative position is
  y = -(b - i + 1) / w, so y = -1 at the window's first row and y = -1/w at its last; it scores
  A_TP · σ(y) / σ(-1), so a detection on the window's first row scores exactly A_TP and one on
  its last row close to 0;
- later detections in the same window are ignored;
- a window without a detection scores A_FN.

A detection outside every window is a false positive. After a window ending at row b (w rows),
its position is y = (i - b) / (w - 1) > 0 and it scores |A_FP| · σ(y), which is negative: close
to 0 right after the window (a late but relevant alarm) and the full A_FP once y > 3 or so.
Before the first window it costs the full A_FP. With the standard profile A_TP = 1,
A_FP = -0.11, A_FN = -1.

Normalised score: 100 · (S - S_null) / (S_perfect - S_null), with S_null the score of the
detector that never fires (every window an A_FN) and S_perfect that of one firing at each
window's first row and nowhere else (every window A_TP). As NAB does per data set, the raw S,
S_null and S_perfect are summed over the files before normalising (:func:`nab_normalised`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]


# -- outlier metrics ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OutlierCounts:
    """Confusion counts of row-wise anomaly flags; ``+`` pools them over files."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def __add__(self, other: OutlierCounts) -> OutlierCounts:
        return OutlierCounts(
            self.tp + other.tp, self.fp + other.fp, self.fn + other.fn, self.tn + other.tn
        )

    @property
    def f1(self) -> float:
        """TP / (TP + (FP + FN) / 2); 0 when there is nothing to count."""
        den = self.tp + 0.5 * (self.fp + self.fn)
        return self.tp / den if den > 0 else 0.0

    @property
    def far(self) -> float:
        """False alarm rate FP / (FP + TN); 0 without normal rows."""
        den = self.fp + self.tn
        return self.fp / den if den > 0 else 0.0

    @property
    def mar(self) -> float:
        """Missed alarm rate FN / (FN + TP); 0 without anomalous rows."""
        den = self.fn + self.tp
        return self.fn / den if den > 0 else 0.0

    def as_dict(self) -> dict[str, float]:
        """The counts and the three ratios."""
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "f1": self.f1,
            "far": self.far,
            "mar": self.mar,
        }


def outlier_counts(y_true: Any, y_pred: Any) -> OutlierCounts:
    """Count TP, FP, FN, TN of boolean arrays of the same length."""
    t = np.asarray(y_true, dtype=bool).ravel()
    p = np.asarray(y_pred, dtype=bool).ravel()
    if t.shape != p.shape:
        raise ValueError(f"y_true has {t.size} rows, y_pred {p.size}")
    return OutlierCounts(
        tp=int(np.sum(t & p)),
        fp=int(np.sum(~t & p)),
        fn=int(np.sum(t & ~p)),
        tn=int(np.sum(~t & ~p)),
    )


# -- NAB scoring --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NabProfile:
    """NAB's application profile: the weight of a true positive, false positive, false negative."""

    a_tp: float = 1.0
    a_fp: float = -0.11
    a_fn: float = -1.0


STANDARD = NabProfile()


def scaled_sigmoid(y: float) -> float:
    """NAB's σ(y) = 2 / (1 + exp(5y)) - 1, and -1 beyond y = 3."""
    if y > 3.0:
        return -1.0
    return float(2.0 / (1.0 + np.exp(5.0 * y)) - 1.0)


@dataclass
class NabResult:
    """A file's raw NAB score with its null and perfect references; ``+`` pools files."""

    score: float = 0.0
    null: float = 0.0
    perfect: float = 0.0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    detail: list[tuple[str, int, float]] = field(default_factory=list)
    """(kind "tp"/"fp"/"fn", row, points) for each scored event, for checking by hand."""

    def __add__(self, other: NabResult) -> NabResult:
        return NabResult(
            self.score + other.score,
            self.null + other.null,
            self.perfect + other.perfect,
            self.tp + other.tp,
            self.fp + other.fp,
            self.fn + other.fn,
        )

    @property
    def normalised(self) -> float:
        """100 (S - S_null) / (S_perfect - S_null); 0 when there is no window at all."""
        den = self.perfect - self.null
        return 100.0 * (self.score - self.null) / den if den > 0 else 0.0


def _detection_rows(times: F64, detections: Any) -> NDArray[np.intp]:
    """Row indices of the detections: a boolean flag per row, or detection times."""
    d = np.asarray(detections)
    if d.dtype == bool:
        if d.shape != times.shape:
            raise ValueError(f"{d.size} detection flags for {times.size} timestamps")
        return np.flatnonzero(d)
    when = np.asarray(d, dtype=np.float64).ravel()
    if len(when) == 0:
        return np.zeros(0, dtype=np.intp)
    # A detection time maps to the first row at or after it (a row's own time maps to itself).
    rows = np.searchsorted(times, when, side="left")
    return np.unique(np.clip(rows, 0, len(times) - 1))


def window_rows(times: F64, windows: Iterable[tuple[float, float]]) -> list[tuple[int, int]]:
    """Each window [start, end] (times) as its first and last row, in time order.

    Windows holding no row are dropped (they can neither be detected nor missed). Overlapping
    windows are cut so that each row belongs to one window: a window ends on the row before
    the next one starts.
    """
    spans: list[tuple[int, int]] = []
    for start, end in sorted((float(s), float(e)) for s, e in windows):
        a = int(np.searchsorted(times, start, side="left"))
        b = int(np.searchsorted(times, end, side="right")) - 1
        if a <= b:
            spans.append((a, b))
    cut: list[tuple[int, int]] = []
    for k, (a, b) in enumerate(spans):
        if cut and a <= cut[-1][1]:
            a = cut[-1][1] + 1
        if k + 1 < len(spans):
            b = min(b, max(spans[k + 1][0] - 1, a))
        if a <= b:
            cut.append((a, b))
    return cut


def nab_score(
    times: Any,
    detections: Any,
    windows: Iterable[tuple[float, float]],
    profile: NabProfile = STANDARD,
) -> NabResult:
    """The raw NAB score of one file's detections against its labelled windows (module doc).

    ``times`` are the rows' timestamps (increasing); ``detections`` a boolean per row or a
    sequence of detection times; ``windows`` (start, end) times, inclusive.
    """
    t = np.asarray(times, dtype=np.float64).ravel()
    spans = window_rows(t, windows)
    rows = _detection_rows(t, detections)
    top = scaled_sigmoid(-1.0)
    result = NabResult(null=profile.a_fn * len(spans), perfect=profile.a_tp * len(spans))
    starts = np.array([a for a, _ in spans], dtype=np.intp)
    detected = [False] * len(spans)
    for i in (int(r) for r in rows):
        k = int(np.searchsorted(starts, i, side="right")) - 1  # the last window starting <= i
        if k >= 0 and i <= spans[k][1]:
            if detected[k]:
                continue
            detected[k] = True
            a, b = spans[k]
            y = -(b - i + 1) / (b - a + 1)
            points = profile.a_tp * scaled_sigmoid(y) / top
            result.tp += 1
            result.detail.append(("tp", i, points))
        else:
            if k < 0:
                points = profile.a_fp
            else:
                a, b = spans[k]
                y = (i - b) / max(b - a, 1)
                points = abs(profile.a_fp) * scaled_sigmoid(y)
            result.fp += 1
            result.detail.append(("fp", i, points))
        result.score += points
    for k, hit in enumerate(detected):
        if not hit:
            result.fn += 1
            result.score += profile.a_fn
            result.detail.append(("fn", spans[k][0], profile.a_fn))
    return result


def nab_normalised(results: Iterable[NabResult]) -> float:
    """NAB's normalised score of several files: sum S, S_null, S_perfect, then normalise."""
    total = NabResult()
    for r in results:
        total = total + r
    return total.normalised


def changepoint_windows(
    times: Any, changepoints: Any, width: float = 60.0
) -> list[tuple[float, float]]:
    """SKAB's NAB windows: [t_cp, t_cp + width] to the right of each true changepoint.

    ``changepoints`` is a boolean flag per row or the changepoints' times; ``width`` in the
    units of ``times`` (seconds for SKAB: 60 s).
    """
    t = np.asarray(times, dtype=np.float64).ravel()
    cp = np.asarray(changepoints)
    when: Sequence[float]
    if cp.dtype == bool:
        if cp.shape != t.shape:
            raise ValueError(f"{cp.size} changepoint flags for {t.size} timestamps")
        when = t[cp].tolist()
    else:
        when = np.asarray(cp, dtype=np.float64).ravel().tolist()
    return [(float(c), float(c) + width) for c in when]


def rising_edges(flags: Any) -> NDArray[np.bool_]:
    """True on each row where ``flags`` turns on (a first row that is on counts as an edge)."""
    f = np.asarray(flags, dtype=bool).ravel()
    edges = f.copy()
    edges[1:] &= ~f[:-1]
    return edges
