"""Public benchmarks of the detectors: SKAB (multivariate, a test rig) and NAB (univariate).

Readers turn the benchmark files into arrays (read in place, never copied); evaluators run a
detector of :mod:`twinviewer.predict.detectors` the way the live monitor would, causally, and
score it with :mod:`twinviewer.predict.metrics`.

SKAB (Skoltech Anomaly Benchmark): each file is a run of a water-circulation rig at 1 Hz with
eight sensors and two label columns, ``anomaly`` (rows of an anomalous regime) and
``changepoint`` (the rows where a regime starts or ends). The protocol: the first 400 rows of
each file train the model (labels unused), the rest are scored; outlier metrics pooled over all
scored rows; changepoint detection scored with NAB's standard profile on windows of 60 s to the
right of each true changepoint, a predicted changepoint being a rising edge of the predicted
anomaly flags.

NAB (Numenta Anomaly Benchmark): single-valued series with labelled anomaly windows. A series
becomes vectors by a delay embedding (its level and its last few differences) so that the
multivariate detectors apply; the first 15 % of each file (NAB's probationary period) trains it
and holds no detection.

The alarm rules are generic and causal, the same a live monitor can apply:

- SKAB, ``persistence`` (default 3): the alarm switches on after that many consecutive rows
  above the limit and off after as many below it. At the detectors' 99 % limit a healthy row
  exceeds with probability ~0.01, three in a row ~1e-6 if they were independent; the symmetric
  release keeps a flag from flickering inside an anomaly (each flicker would be a false
  changepoint). It delays both edges by ``persistence - 1`` rows.
- NAB, ``hold_off`` (default 1/3 of the probationary period): after a detection further ones are
  suppressed for that long: one alarm per incident. The scale is the training window's, the
  only time scale the detector knows for a series.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from twinviewer.predict.detectors import F64, make_detector
from twinviewer.predict.metrics import (
    NabResult,
    OutlierCounts,
    changepoint_windows,
    nab_score,
    outlier_counts,
    rising_edges,
)

log = logging.getLogger(__name__)

BoolArray = NDArray[np.bool_]

SKAB_PUBLISHED: dict[str, dict[str, float]] = {
    "f1": {"Conv-AE": 0.78, "MSET": 0.78, "T2+Q": 0.76, "isolation forest": 0.29},
    "nab_standard": {"MSCRED": 32.4},
}
"""Figures published with SKAB (its leaderboard), for comparison with ours."""

NAB_PROBATION = 0.15
"""NAB's probationary period: the first 15 % of each file."""


def _epoch(text: str, where: str) -> float:
    """A naive timestamp such as ``2020-03-09 10:14:33`` as UTC epoch seconds."""
    try:
        stamp = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{where}: bad timestamp {text!r}") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return stamp.timestamp()


def _number(text: str, where: str, column: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{where}: column {column!r}: {text!r} is not a number") from None


def read_skab(
    path: Path | str,
) -> tuple[F64, F64, BoolArray, BoolArray, list[str]]:
    """Read a SKAB file: times (epoch s), sensors (n, p), anomaly, changepoint, sensor names.

    ``;``-separated with a header; ``datetime``, ``anomaly`` and ``changepoint`` are found by
    name and every other column is a sensor. A malformed file raises ValueError naming the file,
    the line and what was expected.
    """
    path = Path(path)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    if not lines or not lines[0].strip():
        raise ValueError(f"{path}: empty file, expected a ';'-separated header line")
    header = [h.strip() for h in lines[0].split(";")]
    for name in ("datetime", "anomaly", "changepoint"):
        if name not in header:
            error = UnlabelledFile if name != "datetime" else ValueError
            raise error(f"{path}, line 1: no {name!r} column in the header {header}")
    i_time, i_anom, i_cp = (header.index(n) for n in ("datetime", "anomaly", "changepoint"))
    sensor_cols = [i for i in range(len(header)) if i not in (i_time, i_anom, i_cp)]
    if not sensor_cols:
        raise ValueError(f"{path}, line 1: no sensor column besides datetime and the labels")
    times: list[float] = []
    rows: list[list[float]] = []
    anomaly: list[float] = []
    change: list[float] = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        where = f"{path}, line {number}"
        fields = line.split(";")
        if len(fields) != len(header):
            raise ValueError(f"{where}: {len(fields)} fields, expected {len(header)}")
        times.append(_epoch(fields[i_time], where))
        rows.append([_number(fields[i], where, header[i]) for i in sensor_cols])
        anomaly.append(_number(fields[i_anom], where, "anomaly"))
        change.append(_number(fields[i_cp], where, "changepoint"))
    if not rows:
        raise ValueError(f"{path}: a header but no data row")
    t = np.asarray(times)
    if np.any(np.diff(t) < 0):
        raise ValueError(f"{path}: timestamps go backwards")
    return (
        t,
        np.asarray(rows, dtype=np.float64),
        np.asarray(anomaly) > 0.5,
        np.asarray(change) > 0.5,
        [header[i] for i in sensor_cols],
    )


def persistent(flags: Any, persistence: int) -> BoolArray:
    """Causal debouncing: on after ``persistence`` consecutive raised rows, off after as many
    clear ones (module doc). ``persistence`` 1 returns the flags unchanged."""
    f = np.asarray(flags, dtype=bool)
    if persistence <= 1:
        return f.copy()
    out = np.zeros_like(f)
    state, run = False, 0
    for i, raised in enumerate(f):
        run = run + 1 if raised != state else 0
        if run >= persistence:
            state, run = not state, 0
        out[i] = state
    return out


class UnlabelledFile(ValueError):
    """A SKAB file without its label columns (SKAB's ``anomaly-free.csv``): nothing to score."""


def evaluate_skab(
    files: Sequence[Path],
    method: str = "t2q",
    train_rows: int = 400,
    persistence: int = 3,
    **params: Any,
) -> dict[str, Any]:
    """Run ``method`` on SKAB files: outlier F1/FAR/MAR pooled over all scored rows and the NAB
    standard score of the predicted changepoints (module doc). ``params`` go to the detector."""
    counts = OutlierCounts()
    nab = NabResult()
    per_file: list[dict[str, Any]] = []
    rows_scored = 0
    skipped: dict[str, str] = {}
    for path in files:
        try:
            times, X, anomaly, change, _ = read_skab(path)
        except UnlabelledFile as exc:  # e.g. anomaly-free.csv among the data set's files
            log.warning("skab: skipping %s", exc)
            skipped[Path(path).name] = str(exc)
            continue
        if len(X) <= train_rows:
            raise ValueError(f"{path}: {len(X)} rows, need more than {train_rows} to score any")
        detector = make_detector(method, **params).fit(X[:train_rows])
        flags = persistent(detector.score(X[train_rows:]).score > 1.0, persistence)
        t = times[train_rows:]
        c = outlier_counts(anomaly[train_rows:], flags)
        windows = changepoint_windows(t, change[train_rows:], width=60.0)
        r = nab_score(t, rising_edges(flags), windows)
        counts, nab = counts + c, nab + r
        rows_scored += len(t)
        per_file.append(
            {
                "file": Path(path).name,
                "rows": len(t),
                **c.as_dict(),
                "nab_raw": r.score,
                "nab_null": r.null,
                "nab_perfect": r.perfect,
            }
        )
        log.info("skab %s %s: f1 %.3f, NAB raw %.2f", method, Path(path).name, c.f1, r.score)
    if not per_file:
        raise ValueError(
            "no labelled SKAB file to score (each needs 'anomaly' and 'changepoint' columns): "
            + "; ".join(skipped.values())
        )
    return {
        "method": method,
        "f1": counts.f1,
        "far": counts.far,
        "mar": counts.mar,
        "nab_standard": nab.normalised,
        "files": per_file,
        "skipped": skipped,
        "rows_scored": rows_scored,
        "published": SKAB_PUBLISHED,
    }


def read_nab(path: Path | str) -> tuple[F64, F64]:
    """Read a NAB data file (CSV ``timestamp,value``): times (epoch s) and values."""
    path = Path(path)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    if not lines:
        raise ValueError(f"{path}: empty file, expected the header 'timestamp,value'")
    header = [h.strip() for h in lines[0].split(",")]
    if "timestamp" not in header or "value" not in header:
        raise ValueError(f"{path}, line 1: expected columns 'timestamp' and 'value', got {header}")
    i_t, i_v = header.index("timestamp"), header.index("value")
    times: list[float] = []
    values: list[float] = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split(",")
        where = f"{path}, line {number}"
        if len(fields) != len(header):
            raise ValueError(f"{where}: {len(fields)} fields, expected {len(header)}")
        times.append(_epoch(fields[i_t], where))
        values.append(_number(fields[i_v], where, "value"))
    if not values:
        raise ValueError(f"{path}: a header but no data row")
    return np.asarray(times), np.asarray(values, dtype=np.float64)


def read_nab_windows(path: Path | str) -> dict[str, list[tuple[float, float]]]:
    """NAB's ``combined_windows.json``: data file key -> [(start, end)] in epoch seconds."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected an object of file -> windows")
    out: dict[str, list[tuple[float, float]]] = {}
    for key, spans in raw.items():
        where = f"{path}, {key!r}"
        if not isinstance(spans, list) or any(
            not isinstance(s, list) or len(s) != 2 for s in spans
        ):
            raise ValueError(f"{where}: expected a list of [start, end] pairs")
        out[key] = [(_epoch(str(a), where), _epoch(str(b), where)) for a, b in spans]
    return out


def windows_for(
    windows: dict[str, list[tuple[float, float]]], path: Path
) -> list[tuple[float, float]]:
    """The windows of a data file: by ``folder/name`` key, else by its file name alone."""
    key = f"{path.parent.name}/{path.name}"
    if key in windows:
        return windows[key]
    matches = [k for k in windows if k.rsplit("/", 1)[-1] == path.name]
    if len(matches) != 1:
        found = "no key" if not matches else f"several keys {matches}"
        raise ValueError(f"NAB windows: {found} for the data file {path.name!r}")
    return windows[matches[0]]


def delay_embedding(values: F64, lags: int) -> F64:
    """Rows [x_t, x_t - x_{t-1}, ..., x_{t-lags+2} - x_{t-lags+1}] for t = lags-1 .. n-1.

    The level and the last ``lags - 1`` differences: the same information as the last ``lags``
    values, but each difference is standardised on its own, so the shape of the recent path
    weighs as much as its level.
    """
    x = np.asarray(values, dtype=np.float64)
    n = len(x)
    if lags < 1 or n < lags:
        raise ValueError(f"delay embedding of {lags} lags needs at least {lags} values, got {n}")
    cols = [x[lags - 1 :]]
    dx = np.diff(x)
    for j in range(lags - 1):
        cols.append(dx[lags - 2 - j : n - 1 - j])
    return np.column_stack(cols)


def hold_off_detections(flags: Any, hold_off: int) -> BoolArray:
    """Keep a raised row as a detection only if no detection was kept in the ``hold_off`` rows
    before it."""
    f = np.asarray(flags, dtype=bool)
    out = np.zeros_like(f)
    last = -(hold_off + 1)
    for i in np.flatnonzero(f):
        if i - last > hold_off:
            out[i] = True
            last = int(i)
    return out


def evaluate_nab(
    files: Sequence[Path],
    windows_json: Path,
    method: str = "mset",
    lags: int = 8,
    hold_off: float = 1.0 / 3.0,
    **params: Any,
) -> dict[str, Any]:
    """Run ``method`` on NAB files with a delay embedding; NAB standard score over all files.

    Per file: the embedding rows inside the probationary period (first 15 % of the rows) train
    the detector; every later row is scored and a detection is a row scoring above 1, kept only
    ``hold_off`` × (probationary rows) after the previous one. Windows stay counted even when
    they fall in the probationary period (an unavoidable miss, as in NAB).
    """
    windows = read_nab_windows(windows_json)
    total = NabResult()
    per_file: list[dict[str, Any]] = []
    for path in map(Path, files):
        times, values = read_nab(path)
        spans = windows_for(windows, path)
        n = len(values)
        probation = int(NAB_PROBATION * n)
        emb = delay_embedding(values, lags)  # row r is time index r + lags - 1
        first = lags - 1
        train = emb[: max(probation - first, 0)]
        detector = make_detector(method, **params).fit(train)
        scores = np.zeros(n)
        scores[first:] = detector.score(emb).score
        raised = scores > 1.0
        raised[:probation] = False
        detections = hold_off_detections(raised, max(1, int(round(hold_off * probation))))
        r = nab_score(times, detections, spans)
        total = total + r
        per_file.append(
            {
                "file": path.name,
                "rows": n,
                "probation": probation,
                "detections": int(detections.sum()),
                "raw": r.score,
                "null": r.null,
                "perfect": r.perfect,
                "tp": r.tp,
                "fp": r.fp,
                "fn": r.fn,
                "nab_standard": r.normalised,
            }
        )
        log.info(
            "nab %s %s: raw %.3f (%d TP, %d FP, %d FN)",
            method,
            path.name,
            r.score,
            r.tp,
            r.fp,
            r.fn,
        )
    return {"method": method, "nab_standard": total.normalised, "files": per_file}
