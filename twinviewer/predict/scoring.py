"""Scoring the trained models incrementally, as time-ordered chunks of samples arrive.

:class:`HealthScorer` keeps each sensor's last value and its trend (:class:`TrendForecaster`),
and at every *tick* (a multiple of ``step`` seconds of data time) scores every group's
detector on the values held at that tick. A chunk that spans many ticks (the first pass over
a long history) is scored in blocks of ticks, each group's detector called once per block on
a matrix of rows, so the Python overhead is per group and block, not per sample. The output of
each tick is a row of prediction series (:class:`~twinviewer.predict.health.SeriesLayout`),
returned as columnar samples ready for a history store.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from twinviewer.predict.forecast import FAST, Trend, TrendForecaster, two_scale
from twinviewer.predict.health import (
    TREND_KINDS,
    HealthState,
    SeriesLayout,
    sensor_groups_index,
)
from twinviewer.predict.model_set import ModelSet

log = logging.getLogger(__name__)

F64 = NDArray[np.float64]
BLOCK = 64  # ticks scored together


@dataclass
class ScoredRows:
    """Prediction series at a run of ticks: ``values[k, j]`` is series j at ``times[k]``."""

    times: F64
    values: F64

    def columns(self) -> tuple[NDArray[np.int32], F64, F64]:
        """Columnar (series index, time, value) of the finite entries, time-major."""
        k, j = np.nonzero(np.isfinite(self.values))
        return j.astype(np.int32), self.times[k], self.values[k, j]


def attribute(shares: F64, z: F64) -> F64:
    """The sensors that drive a group's score: the detector's shares weighted by how unusual
    each sensor is on its own (``1 + z²``), rows summing to 1.

    When a correlation breaks, the multivariate statistic cannot tell which side broke it: two
    sensors that always moved together (a fan's current and vibration) share the residual
    equally. The one that also left its own normal values is the one to look at first; a sensor
    at its usual value keeps a share, so a pure correlation break is still reported."""
    w = shares * (1.0 + z * z)
    total = w.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, w / total, 0.0)


class HealthScorer:
    """Scores a :class:`ModelSet` over the project's sensors, tick by tick."""

    def __init__(
        self, models: ModelSet, sensor_ids: Sequence[str], step: float, trend_window: float
    ) -> None:
        self.models = models
        self.sensor_ids = list(sensor_ids)
        n = len(self.sensor_ids)
        self.n = n
        self.step = float(step)
        self.layout = SeriesLayout([g.id for g in models.groups], self.sensor_ids)
        index = {s: i for i, s in enumerate(self.sensor_ids)}
        self._members: list[NDArray[np.int64]] = []
        self._usable: list[bool] = []
        for g in models.groups:
            cols = [index.get(s, -1) for s in g.sensors]
            self._members.append(np.array(cols, np.int64))
            self._usable.append(all(c >= 0 for c in cols))
        self.sensor_group = sensor_groups_index(
            [g.sensors if ok else [] for g, ok in zip(models.groups, self._usable, strict=True)],
            self.sensor_ids,
        )
        self.normal_lo = np.full(n, np.nan)
        self.normal_hi = np.full(n, np.nan)
        for grp, members in zip(models.groups, self._members, strict=True):
            if len(grp.lo) == len(members) and (members >= 0).all():
                self.normal_lo[members] = grp.lo
                self.normal_hi[members] = grp.hi
        trained = set(models.sensors)
        self.untrained = np.array(
            [bool(trained) and s not in trained for s in self.sensor_ids], np.bool_
        )
        if self.untrained.any():
            new = [s for s, u in zip(self.sensor_ids, self.untrained, strict=True) if u]
            log.warning(
                "prediction: the models were trained before %d sensor(s) were added (%s): "
                "they are not forecast; train again (twinviewer predict PROJECT train)",
                len(new),
                ", ".join(new[:5]) + (", ..." if len(new) > 5 else ""),
            )
        self.forecaster = TrendForecaster(n, trend_window)
        self.fast = TrendForecaster(n, trend_window / FAST)
        self.last = np.full(n, np.nan)
        self.next_tick = -math.inf
        self.latest: HealthState | None = None
        self.ticks = 0
        self.samples = 0

    @property
    def ids(self) -> list[str]:
        return self.layout.ids

    def skip_to(self, t: float) -> None:
        """Resume after ``t`` (ticks up to it were scored before)."""
        self.next_tick = (math.floor(t / self.step) + 1) * self.step

    def feed(self, sensor: NDArray[np.int64], time: F64, value: F64, until: float) -> ScoredRows:
        """Take the samples (project indices) of a chunk, all at or before ``until`` and after
        the previous chunk's ``until``; score every tick up to ``until``."""
        sensor = np.asarray(sensor, np.int64)
        time = np.asarray(time, np.float64)
        value = np.asarray(value, np.float64)
        ok = (sensor >= 0) & (sensor < self.n) & np.isfinite(value)
        if not ok.all():
            sensor, time, value = sensor[ok], time[ok], value[ok]
        if len(time) > 1 and np.any(np.diff(time) < 0):
            order = np.argsort(time, kind="stable")
            sensor, time, value = sensor[order], time[order], value[order]
        self.samples += len(sensor)
        if not math.isfinite(self.next_tick):
            first = float(time[0]) if len(time) else until
            self.next_tick = (math.floor(first / self.step) + 1) * self.step
        if self.next_tick > until:
            self._take(sensor, time, value)
            return ScoredRows(np.zeros(0), np.zeros((0, len(self.ids))))
        count = int(math.floor((until - self.next_tick) / self.step + 1e-6)) + 1
        ticks = self.next_tick + self.step * np.arange(count, dtype=np.float64)
        self.next_tick = float(ticks[-1] + self.step)
        cut = np.searchsorted(time, ticks, side="right")
        outs = []
        start = 0
        for b in range(0, len(ticks), BLOCK):
            tb = ticks[b : b + BLOCK]
            held = np.empty((len(tb), self.n))
            trends = np.empty((len(TREND_KINDS), len(tb), self.n))
            for k, tick in enumerate(tb):
                end = cut[b + k]
                self._take(sensor[start:end], time[start:end], value[start:end])
                start = end
                held[k] = self.last
                tr = two_scale(
                    self.fast.trend(now=float(tick)), self.forecaster.trend(now=float(tick))
                )
                for q, kind in enumerate(TREND_KINDS):
                    trends[q, k] = getattr(tr, kind)
            outs.append(self._score(tb, held, trends))
        self._take(sensor[start:], time[start:], value[start:])
        self.ticks += len(ticks)
        rows = ScoredRows(ticks, np.concatenate([o for o in outs], axis=0))
        self.latest = self._state(rows.times[-1], rows.values[-1])
        return rows

    def _take(self, sensor: NDArray[np.int64], time: F64, value: F64) -> None:
        if len(sensor) == 0:
            return
        # the last sample of each sensor wins (the chunk is time-ordered)
        rev = sensor[::-1]
        u, first = np.unique(rev, return_index=True)
        self.last[u] = value[::-1][first]
        self.forecaster.feed(sensor, time, value)
        self.fast.feed(sensor, time, value)

    def _score(self, ticks: F64, held: F64, trends: F64) -> F64:
        lay = self.layout
        out = np.full((len(ticks), len(lay.ids)), np.nan)
        contrib = np.full((len(ticks), self.n), np.nan)
        for g, (grp, cols) in enumerate(zip(self.models.groups, self._members, strict=True)):
            if not self._usable[g]:
                continue
            X = held[:, cols]
            seen = ~np.isnan(X).all(axis=1)  # rows where no sensor of the group has data: skip
            if not seen.any():
                continue
            sc = grp.detector.score(X[seen])
            out[seen, g] = sc.score / grp.scale
            contrib[np.ix_(seen, cols)] = attribute(sc.contributions, grp.detector.zscores(X[seen]))
        out[:, lay.contrib()] = contrib
        for q, kind in enumerate(TREND_KINDS):
            out[:, lay.trend(kind)] = trends[q]
        return out

    def _state(self, t: float, row: F64) -> HealthState:
        trend = Trend(t, *(row[self.layout.trend(k)].copy() for k in TREND_KINDS))
        return HealthState(
            t,
            row[self.layout.anomaly()].copy(),
            row[self.layout.contrib()].copy(),
            trend,
            self.sensor_group,
            self.normal_lo,
            self.normal_hi,
            self.untrained,
        )
