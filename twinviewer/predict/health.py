"""What the models say at one moment: health, anomaly scores, contributors, trends, forecasts.

The scorer (:mod:`twinviewer.predict.scoring`) writes its output as ordinary series into a
history store, so that scrubbing back shows what the models said then. :class:`SeriesLayout`
names those series::

    anomaly/<group>      the group's anomaly score (1.0 = the detector's limit)
    contrib/<sensor>     the sensor's share of its group's score (0..1)
    level/<sensor>       trend level, slope (per second), the slope's standard error, the
    slope/<sensor>       noise around the trend and the slow scale's slope (see
    slope_se/<sensor>    :mod:`twinviewer.predict.forecast`)
    sd/<sensor>
    slow/<sensor>

Everything else (health index, time to limits, predicted alarms) is derived from these by the
pure functions here, for live and recorded moments alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from twinviewer.core.colour import SensorRules
from twinviewer.predict.forecast import Trend, Z, crossing_times

F64 = NDArray[np.float64]

TREND_KINDS = ("level", "slope", "slope_se", "sd", "slow")

#: Health index bands (0-100): at or above GOOD the group is normal; below POOR it is anomalous
#: (its score is past the detector's limit, where the index is 50).
GOOD = 80.0
POOR = 50.0
MARGIN = 0.1  # of a sensor's normal span: how far its trend may stray before it is projected


def _health_table() -> NDArray[np.uint8]:
    """Colour table of the health index, 0 (red) through orange and yellow to 100 (green)."""
    anchors = np.array(
        [(200, 30, 30), (240, 120, 30), (245, 215, 50), (150, 205, 80), (40, 160, 70)], float
    )
    x = np.array([0.0, POOR / 100 * 0.6, POOR / 100, GOOD / 100, 1.0])
    xs = np.linspace(0.0, 1.0, 256)
    out = np.full((256, 4), 255, np.uint8)
    for k in range(3):
        out[:, k] = np.round(np.interp(xs, x, anchors[:, k])).astype(np.uint8)
    return out


HEALTH_TABLE = _health_table()


def health_rgba(health: F64) -> NDArray[np.uint8]:
    """RGBA of health values 0-100 (NaN: grey)."""
    h = np.asarray(health, np.float64)
    idx = np.clip(np.nan_to_num(h, nan=0.0) / 100.0 * 255.0, 0, 255).astype(np.int64)
    out = HEALTH_TABLE[idx].copy()
    out[np.isnan(h)] = (128, 128, 128, 255)
    return out


def health_index(score: F64) -> F64:
    """Health 0-100 from an anomaly score (1.0 = the limit): ``100 / (1 + score**4)``.

    100 for a state the model has seen, 50 exactly at the limit, falling fast beyond it (6 at
    twice the limit). The fourth power keeps ordinary scatter (scores around 0.3-0.6) near the
    top of the scale so that only departures from normal show."""
    s = np.maximum(np.asarray(score, np.float64), 0.0)
    return 100.0 / (1.0 + s**4)


class SeriesLayout:
    """Indices of the prediction series of a set of groups over the project's sensors."""

    def __init__(self, group_ids: list[str], sensor_ids: list[str]) -> None:
        self.group_ids = list(group_ids)
        self.sensor_ids = list(sensor_ids)
        self.G = len(group_ids)
        self.n = len(sensor_ids)

    @property
    def ids(self) -> list[str]:
        out = [f"anomaly/{g}" for g in self.group_ids]
        out += [f"contrib/{s}" for s in self.sensor_ids]
        for kind in TREND_KINDS:
            out += [f"{kind}/{s}" for s in self.sensor_ids]
        return out

    def anomaly(self) -> slice:
        return slice(0, self.G)

    def contrib(self) -> slice:
        return slice(self.G, self.G + self.n)

    def trend(self, kind: str) -> slice:
        k = TREND_KINDS.index(kind)
        a = self.G + self.n * (1 + k)
        return slice(a, a + self.n)

    def index_of(self, series_id: str) -> int:
        return self.ids.index(series_id)


@dataclass
class Crossing:
    """When a sensor's trend is expected to reach a limit, seconds after the state's time."""

    sensor: int
    level: int  # Status.WARNING or Status.ALARM
    limit: float
    expected: float
    early: float
    late: float  # inf: the slow end of the interval never gets there


@dataclass(eq=False)  # compared by identity: a new state is always news (arrays inside)
class HealthState:
    """The models' view at ``time``: per group score and health, per sensor share and trend."""

    time: float
    score: F64  # (G,) NaN: the group has not been scored yet
    contrib: F64  # (n,)
    trend: Trend
    sensor_group: NDArray[np.int64]  # (n,) group of each sensor, -1 without a model
    normal_lo: F64 | None = None  # (n,) each sensor's range in training (NaN: no model)
    normal_hi: F64 | None = None
    untrained: NDArray[np.bool_] | None = None  # (n,) sensors added after the training

    @property
    def health(self) -> F64:
        return health_index(self.score)

    def sensor_health(self) -> F64:
        """Each sensor's group health (NaN for sensors without a model)."""
        h = np.full(len(self.sensor_group), np.nan)
        has = self.sensor_group >= 0
        h[has] = self.health[self.sensor_group[has]]
        return h

    def top_contributors(self, group: int, k: int = 3) -> list[tuple[int, float]]:
        """The ``k`` sensors that drive the group's score most, with their share."""
        members = np.flatnonzero(self.sensor_group == group)
        share = np.nan_to_num(self.contrib[members])
        order = np.argsort(-share, kind="stable")[:k]
        return [(int(members[i]), float(share[i])) for i in order if share[i] > 0]

    def departing(self) -> NDArray[np.bool_]:
        """Sensors whose trend may be extrapolated towards a limit: those whose trend level has
        left the range they kept in training (by more than :data:`MARGIN` of its span and more
        than the 95% scatter of the trend's fit), and
        sensors without a model, except those the project gained after the models were trained
        (:attr:`untrained`: nothing is known of their normal behaviour, a moving part's
        position would forecast its every stroke).

        A sensor that follows its normal cycle heads for a limit half of the time; extrapolating
        its trend would forecast crossings that never come. The model of normal behaviour
        already says what normal is, so only a departure from it is projected forward."""
        out = self.sensor_group < 0
        if self.normal_lo is None or self.normal_hi is None:
            out |= True
        else:
            # beyond the range by more than a tenth of its span and by more than the scatter of
            # the trend's own fit: a part that stops at the end of its travel leaves a linear
            # fit's level past the end (by ~its scatter) without having gone anywhere
            margin = np.fmax(MARGIN * (self.normal_hi - self.normal_lo), Z * self.trend.sd)
            with np.errstate(invalid="ignore"):
                out |= self.trend.level < self.normal_lo - margin
                out |= self.trend.level > self.normal_hi + margin
                out |= np.isnan(self.normal_lo)
        if self.untrained is not None:
            out &= ~self.untrained
        return out

    def crossings(self, rules: SensorRules, horizon: float) -> list[Crossing]:
        """Every forecast crossing of a warning or alarm limit within ``horizon`` seconds by a
        :meth:`departing` sensor, soonest first. A sensor already past a limit has no crossing
        of that limit."""
        from twinviewer.core.colour import Status

        credible = self.departing()
        out: list[Crossing] = []
        for level, lo_lim, hi_lim in (
            (Status.WARNING, rules.warn_low, rules.warn_high),
            (Status.ALARM, rules.alarm_low, rules.alarm_high),
        ):
            for upper, lim in ((True, hi_lim), (False, lo_lim)):
                e, a, b = crossing_times(self.trend, lim, upper, horizon)
                for i in np.flatnonzero(np.isfinite(e) & credible):
                    out.append(Crossing(int(i), int(level), float(lim[i]), e[i], a[i], b[i]))
        out.sort(key=lambda c: c.expected)
        return out

    def alarm_in(self, rules: SensorRules, horizon: float) -> tuple[F64, F64, F64]:
        """Per sensor: seconds until its alarm limit is expected (NaN: not forecast), early
        and late bound."""
        credible = self.departing()
        e = np.full(len(self.sensor_group), np.nan)
        a, b = e.copy(), e.copy()
        for upper, lim in ((True, rules.alarm_high), (False, rules.alarm_low)):
            ee, aa, bb = crossing_times(self.trend, lim, upper, horizon)
            take = np.isfinite(ee) & ~(ee >= e) & credible
            e[take], a[take], b[take] = ee[take], aa[take], bb[take]
        return e, a, b


def state_from_row(
    layout: SeriesLayout,
    row: F64,
    time: float,
    sensor_group: NDArray[np.int64],
    normal: tuple[F64, F64] | None = None,
    untrained: NDArray[np.bool_] | None = None,
) -> HealthState:
    """A :class:`HealthState` from one row of prediction series (a store's ``at(t)``)."""
    row = np.asarray(row, np.float64)
    trend = Trend(
        time,
        *(row[layout.trend(k)].copy() for k in TREND_KINDS),
    )
    lo, hi = normal if normal is not None else (None, None)
    return HealthState(
        time,
        row[layout.anomaly()].copy(),
        row[layout.contrib()].copy(),
        trend,
        sensor_group,
        lo,
        hi,
        untrained,
    )


def sensor_groups_index(group_sensors: list[list[str]], sensor_ids: list[str]) -> NDArray[np.int64]:
    """The group index of each project sensor (-1: in no modelled group)."""
    index = {s: i for i, s in enumerate(sensor_ids)}
    out = np.full(len(sensor_ids), -1, np.int64)
    for g, ids in enumerate(group_sensors):
        for s in ids:
            if s in index:
                out[index[s]] = g
    return out
