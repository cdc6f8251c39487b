"""Outlier metrics and NAB scoring on examples worked by hand.

NAB's scaled sigmoid σ(y) = 2 / (1 + e^{5y}) - 1 is -tanh(2.5 y), which the expected values
below use. The series is 100 rows one second apart; the window [20 s, 29 s] holds rows 20..29
(w = 10 rows).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from twinviewer.predict.metrics import (
    NabProfile,
    OutlierCounts,
    changepoint_windows,
    nab_normalised,
    nab_score,
    outlier_counts,
    rising_edges,
    scaled_sigmoid,
    window_rows,
)

TIMES = np.arange(100.0)
WINDOW = [(20.0, 29.0)]
TOP = math.tanh(2.5)  # σ(-1), a detection on the window's first row


def flags(*rows: int) -> np.ndarray:
    f = np.zeros(100, dtype=bool)
    f[list(rows)] = True
    return f


def test_f1_far_mar_by_hand() -> None:
    y_true = np.array([1, 1, 1, 0, 0, 0, 0, 0], dtype=bool)
    y_pred = np.array([1, 1, 0, 1, 0, 0, 0, 0], dtype=bool)
    c = outlier_counts(y_true, y_pred)
    assert (c.tp, c.fp, c.fn, c.tn) == (2, 1, 1, 4)
    assert c.f1 == pytest.approx(2 / (2 + (1 + 1) / 2))
    assert c.far == pytest.approx(1 / 5)
    assert c.mar == pytest.approx(1 / 3)
    pooled = c + OutlierCounts(tp=0, fp=3, fn=1, tn=0)
    assert pooled.f1 == pytest.approx(2 / (2 + (4 + 2) / 2))
    assert pooled.as_dict()["far"] == pytest.approx(4 / 8)
    with pytest.raises(ValueError, match="8 rows"):
        outlier_counts(y_true, y_pred[:5])


def test_scaled_sigmoid() -> None:
    assert scaled_sigmoid(0.0) == 0.0
    assert scaled_sigmoid(-1.0) == pytest.approx(math.tanh(2.5))
    assert scaled_sigmoid(0.5) == pytest.approx(-math.tanh(1.25))
    assert scaled_sigmoid(3.5) == -1.0


def test_detection_at_the_window_start_is_perfect() -> None:
    r = nab_score(TIMES, flags(20), WINDOW)
    assert (r.score, r.null, r.perfect) == (pytest.approx(1.0), -1.0, 1.0)
    assert (r.tp, r.fp, r.fn) == (1, 0, 0)
    assert r.normalised == pytest.approx(100.0)


def test_detection_in_the_middle_and_at_the_end() -> None:
    # row 25: y = -(29 - 25 + 1) / 10 = -0.5
    assert nab_score(TIMES, flags(25), WINDOW).score == pytest.approx(math.tanh(1.25) / TOP)
    # row 29, the last: y = -1/10, worth little
    last = nab_score(TIMES, flags(29), WINDOW).score
    assert last == pytest.approx(math.tanh(0.25) / TOP)
    assert 0.2 < last < 0.3


def test_no_detection_is_a_miss() -> None:
    r = nab_score(TIMES, flags(), WINDOW)
    assert r.score == -1.0 and r.fn == 1
    assert r.normalised == 0.0


def test_false_positives_right_after_a_window_and_far_from_it() -> None:
    # row 30: y = (30 - 29) / (10 - 1) = 1/9, a small penalty
    near = nab_score(TIMES, flags(20, 30), WINDOW)
    assert near.score == pytest.approx(1.0 - 0.11 * math.tanh(2.5 / 9))
    assert near.fp == 1
    # row 90: y = 61/9 > 3, the full A_FP; row 5, before any window, the full A_FP too
    far = nab_score(TIMES, flags(5, 20, 90), WINDOW)
    assert far.score == pytest.approx(1.0 - 0.11 - 0.11)
    assert far.fp == 2


def test_only_the_first_detection_in_a_window_counts() -> None:
    # row 22: y = -(29 - 22 + 1) / 10 = -0.8; row 27 ignored
    r = nab_score(TIMES, flags(22, 27), WINDOW)
    assert r.score == pytest.approx(math.tanh(2.0) / TOP)
    assert (r.tp, r.fp) == (1, 0)


def test_detection_times_equal_detection_flags() -> None:
    by_time = nab_score(TIMES, [22.0, 27.0, 90.0], WINDOW)
    by_flag = nab_score(TIMES, flags(22, 27, 90), WINDOW)
    assert by_time.score == pytest.approx(by_flag.score)
    # a time between rows counts on the next row
    assert nab_score(TIMES, [21.5], WINDOW).score == pytest.approx(math.tanh(2.0) / TOP)


def test_normalisation_sums_files_first() -> None:
    perfect = nab_score(TIMES, flags(20), WINDOW)  # S 1, null -1, perfect 1
    missed = nab_score(TIMES, flags(90), WINDOW)  # S -1 - 0.11
    # (S - S_null) / (S_perfect - S_null) = (-0.11 + 2) / 4
    assert nab_normalised([perfect, missed]) == pytest.approx(100 * 1.89 / 4)
    assert missed.normalised == pytest.approx(100 * (-1.11 + 1) / 2)
    assert nab_normalised([]) == 0.0


def test_other_profile_and_two_windows() -> None:
    profile = NabProfile(a_tp=1.0, a_fp=-0.22, a_fn=-2.0)
    windows = [(20.0, 29.0), (60.0, 69.0)]
    r = nab_score(TIMES, flags(20, 95), windows, profile)
    # window 2 missed (-2); row 95 after window 2: y = 26/9 < 3, σ = -tanh(2.5·26/9)
    expected = 1.0 - 2.0 + 0.22 * -math.tanh(2.5 * 26 / 9)
    assert r.score == pytest.approx(expected)
    assert (r.null, r.perfect) == (-4.0, 2.0)


def test_windows_to_rows_drop_empty_and_cut_overlaps() -> None:
    t = np.arange(0.0, 200.0, 2.0)  # rows every 2 s
    assert window_rows(t, [(11.0, 11.5)]) == []  # no row inside
    assert window_rows(t, [(10.0, 20.0), (16.0, 30.0)]) == [(5, 7), (8, 15)]


def test_changepoint_windows_and_rising_edges() -> None:
    t = np.arange(10.0)
    cp = np.zeros(10, dtype=bool)
    cp[[2, 7]] = True
    assert changepoint_windows(t, cp, width=60.0) == [(2.0, 62.0), (7.0, 67.0)]
    assert changepoint_windows(t, [3.0]) == [(3.0, 63.0)]
    f = np.array([1, 1, 0, 1, 1, 1, 0, 0, 1, 0], dtype=bool)
    assert np.flatnonzero(rising_edges(f)).tolist() == [0, 3, 8]
