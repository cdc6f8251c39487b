"""Training the models of normal behaviour from a window of the twin's history.

Which sensors are modelled together (:func:`sensor_groups`): the project's ``prediction.groups``
first, then every remaining sensor with the others of its ``component:``; a sensor with no
component is a group of its own. Each group's training matrix is the history resampled on a
grid of ``prediction.step`` seconds by sample-and-hold (:func:`resample`): the same view of the
data that live scoring has, one row per scoring step.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone

import numpy as np
from numpy.typing import NDArray

from twinviewer.core.alarms import SampleReader
from twinviewer.core.project import Project
from twinviewer.predict.detectors import make_detector
from twinviewer.predict.model_set import GroupModel, ModelSet

log = logging.getLogger(__name__)

F64 = NDArray[np.float64]
MIN_ROWS = 30  # fewer rows than this in the window: the group is skipped, with the reason


def sensor_groups(project: Project) -> list[tuple[str, list[str]]]:
    """``(group id, sensor ids)`` for every group, in project order."""
    taken: set[str] = set()
    groups: list[tuple[str, list[str]]] = []
    for g in project.prediction.groups:
        comps = set(g.components)
        ids = list(
            dict.fromkeys([*g.sensors, *(s.id for s in project.sensors if s.component in comps)])
        )
        ids = [i for i in ids if i not in taken]
        taken.update(ids)
        if ids:
            groups.append((g.id, ids))
    by_comp: dict[str, list[str]] = {}
    for s in project.sensors:
        if s.id not in taken:
            by_comp.setdefault(s.component or s.id, []).append(s.id)
    used = {gid for gid, _ in groups}
    for comp, ids in by_comp.items():
        gid = comp if comp not in used else f"{comp}-sensors"
        groups.append((gid, ids))
    return groups


def group_methods(project: Project) -> dict[str, str]:
    explicit = {g.id: g.method for g in project.prediction.groups if g.method}
    return {gid: explicit.get(gid, project.prediction.method) for gid, _ in sensor_groups(project)}


def window_bound(text: str | float | None, first: float, default: float) -> float:
    """A training bound: ISO 8601, or seconds after the history's ``first`` sample."""
    if text is None:
        return default
    if isinstance(text, (int, float)):
        return first + float(text)
    s = str(text).strip()
    try:
        return first + float(s)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"training window bound {text!r}: expected an ISO 8601 time or seconds after the "
            "history's first sample"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


def resample(
    sensor: NDArray[np.int64], t: F64, v: F64, n: int, grid: F64, start: F64 | None = None
) -> F64:
    """Sample-and-hold of samples (project indices ``0..n-1``, time-ordered) on ``grid``:
    row k holds each sensor's last value at or before ``grid[k]`` (``start``: the value held
    before the first sample, NaN by default). Returns ``(len(grid), n)``."""
    out = np.full((len(grid), n), np.nan)
    if start is not None:
        out[:] = start
    order = np.lexsort((t, sensor))
    s, tt, vv = sensor[order], t[order], v[order]
    bounds = np.searchsorted(s, np.arange(n + 1))
    for j in range(n):
        a, b = bounds[j], bounds[j + 1]
        if a == b:
            continue
        k = np.searchsorted(tt[a:b], grid, side="right") - 1
        have = k >= 0
        out[have, j] = vv[a:b][k[have]]
    return out


def training_matrix(
    store: SampleReader, sensor_ids: Sequence[str], t0: float, t1: float, step: float
) -> tuple[F64, F64]:
    """The history of ``sensor_ids`` in ``[t0, t1]`` on a grid of ``step`` seconds."""
    index = {sid: i for i, sid in enumerate(sensor_ids)}
    to_proj = np.array([index.get(sid, -1) for sid in store.sensor_ids], np.int64)
    s, t, v = store.read(t0, t1)
    ps = to_proj[s] if len(s) else np.zeros(0, np.int64)
    keep = ps >= 0
    grid = np.arange(t0 + step, t1 + 1e-9, step)
    return grid, resample(ps[keep], t[keep], v[keep], len(sensor_ids), grid)


def train(
    project: Project,
    store: SampleReader,
    t_from: str | float | None = None,
    t_to: str | float | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> ModelSet:
    """Fit a detector per group on the healthy window (``t_from``/``t_to`` override the
    project's ``prediction.train_from``/``train_to``)."""
    held = store.time_range()
    if held is None:
        raise ValueError("the history holds no samples yet: record some healthy operation first")
    pred = project.prediction
    t0 = window_bound(t_from if t_from is not None else pred.train_from, held[0], held[0])
    t1 = window_bound(t_to if t_to is not None else pred.train_to, held[0], held[1])
    t0, t1 = max(t0, held[0]), min(t1, held[1])
    if not t1 > t0:
        raise ValueError(
            f"the training window is empty: from {_iso(t0)} to {_iso(t1)} "
            f"(the history holds {_iso(held[0])} to {_iso(held[1])})"
        )
    ids = [s.id for s in project.sensors]
    grid, X = training_matrix(store, ids, t0, t1, pred.step)
    col = {sid: j for j, sid in enumerate(ids)}
    methods = group_methods(project)
    groups = sensor_groups(project)
    models: list[GroupModel] = []
    skipped: dict[str, str] = {}
    for k, (gid, sids) in enumerate(groups):
        if progress:
            progress(k / max(len(groups), 1), f"Training {gid}")
        Xg = X[:, [col[s] for s in sids]]
        rows = int(np.isfinite(Xg).all(axis=1).sum())
        if rows < MIN_ROWS:
            skipped[gid] = (
                f"{rows} scoring steps of {pred.step:g} s with every sensor of the group in the "
                f"window (need {MIN_ROWS}): is the window long enough, are all recorded there?"
            )
            continue
        started = time.perf_counter()
        try:
            det = make_detector(methods[gid]).fit(Xg)
        except ValueError as exc:
            skipped[gid] = str(exc)
            continue
        log.info(
            "predict: %s (%d sensors, %d rows) trained in %.2f s",
            gid,
            len(sids),
            rows,
            time.perf_counter() - started,
        )
        complete = Xg[np.isfinite(Xg).all(axis=1)]
        lo = [float(x) for x in complete.min(axis=0)]
        hi = [float(x) for x in complete.max(axis=0)]
        scale = calibrate(det.score(complete).score)
        models.append(GroupModel(gid, sids, det, rows, lo, hi, scale))
    rul = []
    if project.degradation:
        from twinviewer.predict.degradation import train_rul

        if progress:
            progress(0.95, "Training remaining-useful-life models")
        rul = train_rul(project, store, pred.step)
    if progress:
        progress(1.0, "Trained")
    return ModelSet(
        models,
        train_from=t0,
        train_to=t1,
        step=pred.step,
        skipped=skipped,
        rul=rul,
        sensors=ids,
    )


def calibrate(train_scores: F64) -> float:
    """The factor a group's scores are divided by, so that its whole healthy window scores
    below the limit: ``max(1, 1.05 * the highest training score)``.

    A detector's own limit assumes Gaussian scatter (Hotelling's F distribution, a 99%
    quantile); real plants have heavy tails - a gas puff, a pump starting - that the healthy
    window holds and that must not be reported as anomalies when they happen again. The window
    was declared healthy, so everything in it is normal by definition."""
    finite = train_scores[np.isfinite(train_scores)]
    if not len(finite):
        return 1.0
    return float(max(1.0, 1.05 * finite.max()))


def _iso(t: float) -> str:
    if not math.isfinite(t):
        return str(t)
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="seconds")
