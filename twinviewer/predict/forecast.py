"""Per-sensor trend forecasts: where each sensor is heading, and when it will cross its limits.

Method: an exponentially weighted linear regression of value on time for every sensor at once,
updated incrementally. Each sensor keeps ten running sums (weights ``w = exp((t - t_ref) / tau)``
and their squares against 1, u, u², x, u·x, x², with ``u = t - t_ref``); a batch of samples adds
to them with ``np.bincount`` and moving ``t_ref`` forward decays and re-centres the sums in
closed form. The cost is a few vectorised passes per batch, whatever the number of sensors, and
no sample buffer is kept: recent data weighs most, data ``tau`` seconds old weighs 1/e.

From the sums, at the reference time ("now"):

* level ``a`` and slope ``b`` of the weighted least-squares line;
* ``sd``: the weighted residual standard deviation (the noise around the trend);
* ``se_b``: the standard error of the slope, from the weighted-least-squares sandwich
  ``var(b) = sd² Σw²(u-ū)² / Sxx²`` (``Sxx = Σw(u-ū)²``), and never less than
  :data:`RATE_FLOOR` of the slope (at 95%): the model-form error of a straight line.

:func:`crossing_times` turns these into the expected time until a limit is crossed, with an
interval: the early bound takes the steeper slope ``b + z·se_b`` and a noise excursion ``z·sd``
towards the limit, the late bound the shallower slope and the excursion away from it (open-ended
when the shallower slope no longer points at the limit). A crossing is reported only when the
slope is significant (``|b| > z·se_b``) and points at the limit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
Z = 1.96  # two-sided 95%
#: The slope's 95% half-width is at least this fraction of the slope: a local linear trend is
#: a model, and the rate of a real degradation wanders (a bearing heats faster as it wears, a
#: drift starts from wherever the load had the signal). Without the floor a clean, slightly
#: curved drift gives intervals far narrower than the error of the straight line itself: on
#: the mine demo's fan fault the fitted rate is up to 50% above the final one while the fit's
#: own standard error says 5%.
RATE_FLOOR = 0.25
MIN_WEIGHT = 3.0  # at least this much weight (about three recent samples) before a trend exists


@dataclass(eq=False)
class Trend:
    """The trend of every sensor at ``time`` (arrays of length n; NaN where unknown)."""

    time: float
    level: F64
    slope: F64  # units per second
    slope_se: F64
    sd: F64
    slow: F64 | None = None  # the slow scale's slope (two_scale): tells a drift that slows down

    def at(self, dt: F64 | float) -> tuple[F64, F64]:
        """Forecast mean and its 95% half-width ``dt`` seconds ahead (broadcasts)."""
        dt = np.asarray(dt, np.float64)
        mean = self.level + self.slope * dt
        half = Z * np.sqrt(self.sd**2 + (dt * self.slope_se) ** 2)
        return mean, half


class TrendForecaster:
    """Exponentially weighted linear trends of ``n`` sensors, fed time-ordered batches."""

    N_SUMS = 10

    def __init__(self, n: int, tau: float = 60.0) -> None:
        if tau <= 0:
            raise ValueError(f"trend window must be positive, got {tau}")
        self.n = n
        self.tau = float(tau)
        # rows: S0 S1 S2 Y0 Y1 Y2 (weights w) and Q0 Q1 Q2 (weights w²), plus last sample time
        self._s = np.zeros((self.N_SUMS, n))
        self._t_ref = -np.inf
        self.last_time = np.full(n, -np.inf)

    @property
    def time(self) -> float:
        return self._t_ref

    def reset(self) -> None:
        self._s[:] = 0.0
        self._t_ref = -np.inf
        self.last_time[:] = -np.inf

    def _move_to(self, t_new: float) -> None:
        """Decay the sums to reference time ``t_new`` and re-centre u on it."""
        if not np.isfinite(self._t_ref):
            self._t_ref = t_new
            return
        d = t_new - self._t_ref
        if d <= 0:
            return
        s = self._s
        k = np.exp(-d / self.tau)
        k2 = k * k
        s0, s1, s2, y0, y1 = s[0], s[1], s[2], s[3], s[4]
        # u' = u - d:  Σw u' = S1 - d S0;  Σw u'² = S2 - 2d S1 + d² S0;  Σw u' x = Y1 - d Y0
        n2 = s2 - 2 * d * s1 + d * d * s0
        n1 = s1 - d * s0
        ny1 = y1 - d * y0
        s[2], s[1], s[4] = n2, n1, ny1
        s[0:6] *= k
        q0, q1, q2 = s[6], s[7], s[8]
        nq2 = q2 - 2 * d * q1 + d * d * q0
        nq1 = q1 - d * q0
        s[8], s[7] = nq2, nq1
        s[6:9] *= k2
        self._t_ref = t_new
        tiny = s[0] < 1e-12  # a sensor silent for ~28 tau: forget it, keep the sums finite
        if tiny.any():
            s[:, tiny] = 0.0

    def feed(self, sensor: NDArray[np.int64], time: F64, value: F64) -> None:
        """Add samples (sensor indices 0..n-1, any order); times may not precede ``time``
        by much: older samples simply weigh less."""
        if len(sensor) == 0:
            return
        sensor = np.asarray(sensor, np.int64)
        time = np.asarray(time, np.float64)
        value = np.asarray(value, np.float64)
        ok = np.isfinite(value) & np.isfinite(time) & (sensor >= 0) & (sensor < self.n)
        if not ok.all():
            sensor, time, value = sensor[ok], time[ok], value[ok]
            if len(sensor) == 0:
                return
        t_max = float(time.max())
        if t_max > self._t_ref or not np.isfinite(self._t_ref):
            self._move_to(t_max)
        u = time - self._t_ref
        w = np.exp(np.minimum(u, 0.0) / self.tau)
        w2 = w * w
        n = self.n
        s = self._s
        wu = w * u
        s[0] += np.bincount(sensor, w, n)
        s[1] += np.bincount(sensor, wu, n)
        s[2] += np.bincount(sensor, wu * u, n)
        s[3] += np.bincount(sensor, w * value, n)
        s[4] += np.bincount(sensor, wu * value, n)
        s[5] += np.bincount(sensor, w * value * value, n)
        w2u = w2 * u
        s[6] += np.bincount(sensor, w2, n)
        s[7] += np.bincount(sensor, w2u, n)
        s[8] += np.bincount(sensor, w2u * u, n)
        np.maximum.at(self.last_time, sensor, time)

    def trend(self, now: float | None = None) -> Trend:
        """Level, slope and their uncertainty of every sensor, at ``now`` (default: the newest
        sample time). Sensors with too little recent weight get NaN."""
        if now is not None and np.isfinite(now) and now > self._t_ref:
            self._move_to(float(now))
        s = self._s
        s0, s1, s2, y0, y1, y2, q0, q1, q2 = s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8]
        with np.errstate(invalid="ignore", divide="ignore"):
            ubar = s1 / s0
            xbar = y0 / s0
            sxx = s2 - s1 * ubar
            sxy = y1 - s1 * xbar
            syy = y2 - y0 * xbar
            slope = sxy / sxx
            level = xbar - slope * ubar  # at u = 0 (now)
            sse = np.maximum(syy - slope * sxy, 0.0)
            n_eff = s0 * s0 / q0  # Kish effective sample size
            dof = np.maximum(n_eff - 2.0, 1.0)
            sd = np.sqrt(sse / s0 * n_eff / dof)
            # Σw²(u-ū)² = Q2 - 2ū Q1 + ū² Q0
            qxx = np.maximum(q2 - 2 * ubar * q1 + ubar * ubar * q0, 0.0)
            slope_se = np.maximum(sd * np.sqrt(qxx) / sxx, RATE_FLOOR / Z * np.abs(slope))
        bad = (s0 < MIN_WEIGHT) | ~(sxx > 1e-12 * np.maximum(s2, 1e-300))
        for a in (level, slope, slope_se, sd):
            a[bad] = np.nan
        lone = (s0 >= 1e-9) & bad  # a level but no trend yet: hold the mean
        level[lone] = xbar[lone]
        return Trend(self._t_ref, level, slope, slope_se, sd)


FAST = 4.0  # the fast scale weighs the last trend_window / FAST seconds
SLOWING = 1.1  # the slow scale's rate above this times the fast one's: a drift slowing down


def two_scale(fast: Trend, slow: Trend) -> Trend:
    """One trend from two time scales: the level, slope and noise of the fast one (a drift that
    just began shows at once), with a slope uncertainty that also spans the slow one's slope.

    A straight line fitted over a window that reaches back before a fault began (a hinge)
    underestimates its rate, by a third for a drift one window old; a line over a short window
    alone follows every wiggle. Where the two agree the interval is the statistical one; where
    they disagree it covers both rates, so the expected crossing comes from the recent rate and
    the late bound from the longer view."""
    with np.errstate(invalid="ignore"):
        gap = np.abs(fast.slope - slow.slope) / Z
        se = np.fmax(fast.slope_se, np.where(np.isfinite(gap), gap, np.nan))
    have = np.isfinite(fast.slope)
    return Trend(
        fast.time,
        np.where(have, fast.level, slow.level),
        np.where(have, fast.slope, slow.slope),
        np.where(have, se, slow.slope_se),
        np.where(have, fast.sd, slow.sd),
        slow.slope.copy(),
    )


def crossing_times(
    trend: Trend, limit: F64, upper: bool, horizon: float = np.inf
) -> tuple[F64, F64, F64]:
    """Seconds from ``trend.time`` until each sensor's trend crosses its ``limit`` (an upper
    limit when ``upper``, else a lower one): expected, early and late bound. NaN where no
    crossing is forecast within ``horizon`` (no significant trend towards the limit, no limit,
    or already past it). The late bound is ``inf`` when the shallow slope never gets there, and
    when the drift is slowing down (the recent rate below the longer view's): a temperature
    settling towards a new level may stop short of the limit, and when it gets there cannot be
    bounded by a straight line."""
    sign = 1.0 if upper else -1.0
    gap = sign * (np.asarray(limit, np.float64) - trend.level)  # distance still to go (> 0)
    rate = sign * trend.slope  # approach speed (> 0: heading for the limit)
    z_b = Z * trend.slope_se
    z_sd = Z * trend.sd
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = (gap > 0) & (rate > z_b) & np.isfinite(gap)
        expect = gap / rate
        early = np.maximum(gap - z_sd, 0.0) / (rate + z_b)
        slow = rate - z_b
        late = np.where(slow > 0, (gap + z_sd) / slow, np.inf)
        if trend.slow is not None:
            # the longer view approached clearly faster (by more than a tenth)
            slowing = sign * trend.slow > SLOWING * rate
            late = np.where(slowing, np.inf, late)
        ok &= expect <= horizon
    nan = np.full_like(expect, np.nan)
    return np.where(ok, expect, nan), np.where(ok, early, nan), np.where(ok, late, nan)
