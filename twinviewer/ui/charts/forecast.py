"""The models' forecast on the charts: where a departing sensor is heading, beyond "now".

For each charted sensor whose trend has left its normal range (``HealthState.departing``) the
row shows, right of the state's time, the forecast mean as a dashed line and its 95% band as a
translucent fill (:meth:`Trend.at`), in the row's colour but muted, so that it never reads as
data. Each predicted crossing of a warning or alarm limit gets a dashed tick at its expected
time in the level's colour, a hollow ring where the mean meets the limit, a faint region over
its 95% interval and a label ("alarm in 73 s (42–109 s)").

How far ahead: to 1.5 times the latest predicted crossing of the sensor (so the mean is seen
passing the limit), else a fifth of the chart's window, never beyond the prediction horizon.
While the chart follows the live edge (or shows all data), :meth:`ChartForecast.margin` widens
the view's right edge so the forecast is in view, by at most :data:`FORECAST_SHARE` of it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor

from twinviewer.predict.forecast import Trend
from twinviewer.ui.timeline.predictions import Predicted

if TYPE_CHECKING:
    from twinviewer.predict.health import HealthState
    from twinviewer.ui.charts.panel import ChartRow

POINTS = 64  # samples of the band (its half-width grows with the square root of a quadratic)
AHEAD_OF_CROSSING = 1.5  # the forecast is drawn to this times the latest crossing's lead time
AHEAD_WITHOUT = 0.2  # without a crossing: this share of the chart's window
FORECAST_SHARE = 0.5  # the live view's right edge moves out by at most this share of the window
ROOM = 1.06  # a little room right of the forecast's end, so it does not touch the frame
FORECAST_Z = 5  # over the data's envelope and line (0..3), under the labels and the cursor
TICK_Z = 45
WARNING = QColor(240, 170, 40)
ALARM = QColor(235, 60, 70)
LABEL_FILL = QColor(30, 33, 38, 185)
LABEL_TOP = 20.0  # px: under the row's header line
Y_REACH = 0.25  # the band widens the y range by at most this share of the sensor's span


def level_colour(p: Predicted) -> QColor:
    return QColor(ALARM if p.is_alarm else WARNING)


def _muted(colour: QColor, alpha: int, lighter: int = 100) -> QColor:
    c = QColor(colour).lighter(lighter)
    c.setAlpha(alpha)
    return c


def _still(item: Any) -> None:
    """The mouse pans, zooms and drags the cursor through it."""
    item.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
    for line in getattr(item, "lines", ()):
        line.setAcceptedMouseButtons(Qt.MouseButton.NoButton)


class CrossingTick:
    """One predicted crossing on a row: dashed tick, ring at the limit, interval, label."""

    def __init__(self, plot: pg.PlotItem, p: Predicted, end: float) -> None:
        self.plot = plot
        self.predicted = p
        colour = level_colour(p)
        self.line = pg.InfiniteLine(
            pos=p.time,
            angle=90,
            movable=False,
            pen=pg.mkPen(_muted(colour, 210), width=1.4, style=Qt.PenStyle.DashLine),
        )
        self.region = pg.LinearRegionItem(
            values=(p.early, min(p.late, end)),
            orientation="vertical",
            movable=False,
            brush=pg.mkBrush(_muted(colour, 20)),
            pen=pg.mkPen(None),
        )
        self.ring = pg.ScatterPlotItem(
            [p.time],
            [p.limit],
            symbol="o",
            size=9,
            pen=pg.mkPen(colour, width=1.6),
            brush=pg.mkBrush(None),
        )
        self.label = pg.TextItem(
            p.label(), color=colour, anchor=(1.0, 1.0), fill=pg.mkBrush(LABEL_FILL)
        )
        tip = p.tooltip()
        for z, item in (
            (FORECAST_Z - 6, self.region),
            (TICK_Z, self.line),
            (TICK_Z + 1, self.ring),
            (TICK_Z + 2, self.label),
        ):
            item.setZValue(z)
            _still(item)
            item.setToolTip(tip)
            plot.addItem(item, ignoreBounds=True)

    def remove(self) -> None:
        for item in (self.region, self.line, self.ring, self.label):
            self.plot.removeItem(item)

    def place_label(self, stack: int = 0) -> None:
        """Beside the tick, on the side away from the limit (the bottom of the plot for an
        upper limit, under the row's header for a lower one), where the forecast is not;
        left of the tick unless the view's left edge would cut it; ``stack`` lines further in
        (a second crossing of the row must not write over the first)."""
        vb = self.plot.getViewBox()
        (x0, x1), _ = vb.viewRange()
        w, h = vb.width(), vb.height()
        if not (x1 > x0 and w > 0 and h > 0):
            return
        size = self.label.boundingRect()
        # a row squeezed to its header has no room for it: the tick and its tooltip remain
        self.label.setVisible(h >= LABEL_TOP + (size.height() - 4.0) * (stack + 1) + 6)
        left = (self.predicted.time - x0) * w / (x1 - x0) > size.width() + 6
        upper = self.predicted.upper
        step = (size.height() - 4.0) * stack
        y_px = h - 3.0 - step if upper else LABEL_TOP + step
        y = vb.mapToView(QPointF(0.0, y_px)).y()
        self.label.setAnchor((1.0 if left else 0.0, 1.0 if upper else 0.0))
        self.label.setPos(self.predicted.time, y)


class RowForecast:
    """The forecast of one chart row: mean, band and the crossings of the sensor's limits."""

    def __init__(self, row: ChartRow) -> None:
        self.row = row
        plot = row.plot
        edge = _muted(row.colour, 110, 130)
        self.lo = pg.PlotDataItem(pen=pg.mkPen(edge, width=1, style=Qt.PenStyle.DotLine))
        self.hi = pg.PlotDataItem(pen=pg.mkPen(edge, width=1, style=Qt.PenStyle.DotLine))
        self.band = pg.FillBetweenItem(self.lo, self.hi, brush=pg.mkBrush(_muted(row.colour, 38)))
        self.mean = pg.PlotDataItem(
            pen=pg.mkPen(_muted(row.colour, 230, 135), width=1.8, style=Qt.PenStyle.DashLine)
        )
        for z, item in enumerate((self.band, self.lo, self.hi, self.mean)):
            item.setZValue(FORECAST_Z + z)
            _still(item)
            plot.addItem(item, ignoreBounds=True)
        self.ticks: list[CrossingTick] = []
        self.origin = math.nan
        self.end = math.nan  # where the drawn forecast ends (NaN: none drawn)
        self.set_visible(False)
        vb = plot.getViewBox()
        vb.sigRangeChanged.connect(self.place_labels)
        vb.sigResized.connect(self.place_labels)

    def set_visible(self, on: bool) -> None:
        for item in (self.band, self.lo, self.hi, self.mean):
            item.setVisible(on)

    @property
    def shown(self) -> bool:
        return self.mean.isVisible()

    def clear(self) -> None:
        self.set_visible(False)
        for tick in self.ticks:
            tick.remove()
        self.ticks = []
        self.origin = self.end = math.nan
        self.row.forecast_y = None

    def show(
        self, state: HealthState, crossings: Sequence[Predicted], horizon: float, base: float
    ) -> None:
        """Draw sensor ``row.index``'s forecast from ``state`` (its crossings given)."""
        k = self.row.index
        tr = state.trend
        lead = max((c.time - state.time for c in crossings), default=math.nan)
        ahead = AHEAD_OF_CROSSING * lead if math.isfinite(lead) else AHEAD_WITHOUT * base
        ahead = min(ahead, horizon)
        if not ahead > 0:
            self.clear()
            return
        dt = np.linspace(0.0, ahead, POINTS)
        one = slice(k, k + 1)  # this sensor's trend alone: Trend.at broadcasts over sensors
        mine = Trend(tr.time, tr.level[one], tr.slope[one], tr.slope_se[one], tr.sd[one])
        mean, half = mine.at(dt[:, None])
        m, h = mean.ravel(), half.ravel()
        t = state.time + dt
        self.lo.setData(t, m - h)
        self.hi.setData(t, m + h)
        self.mean.setData(t, m)
        self.set_visible(True)
        self.origin, self.end = state.time, state.time + ahead
        self.row.forecast_y = self._y_extent(m - h, m + h)
        for tick in self.ticks:
            tick.remove()
        self.ticks = [CrossingTick(self.row.plot, c, self.end) for c in crossings]
        self.place_labels()
        tip = (
            "Forecast of the trend (dashed) and its 95% band, from the models' "
            "view at the cursor; not data"
        )
        for item in (self.band, self.mean):
            item.setToolTip(tip)

    def _y_extent(self, lo: np.ndarray, hi: np.ndarray) -> tuple[float, float]:
        """What the row's y range should take in: the band, but not much more than the
        sensor's own span (a wide band must not squash the data to a line)."""
        s = self.row.sensor
        values = [s.range[0], s.range[1]]
        for limits in (s.warning, s.alarm):
            if limits is not None:
                values += [v for v in (limits.low, limits.high) if v is not None]
        a, b = min(values), max(values)
        reach = (b - a) * Y_REACH
        return max(float(np.nanmin(lo)), a - reach), min(float(np.nanmax(hi)), b + reach)

    def place_labels(self, *_: Any) -> None:
        """Labels of one side (upper or lower limits) stack up, the soonest nearest the edge."""
        count = {True: 0, False: 0}
        for tick in sorted(self.ticks, key=lambda k: k.predicted.time):
            side = tick.predicted.upper
            tick.place_label(count[side])
            count[side] += 1

    def data(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The drawn forecast: time, mean, band's low and high edges (empty when hidden)."""
        if not self.shown:
            e = np.zeros(0)
            return e, e, e, e
        t, m = self.mean.getData()
        _, lo = self.lo.getData()
        _, hi = self.hi.getData()
        return (np.asarray(t), np.asarray(m), np.asarray(lo), np.asarray(hi))


def _trend_ok(state: HealthState, k: int) -> bool:
    tr = state.trend
    return all(math.isfinite(float(a[k])) for a in (tr.level, tr.slope, tr.slope_se, tr.sd))


class ChartForecast:
    """The forecasts of a chart panel's rows, from the health state and its crossings."""

    def __init__(self) -> None:
        self.state: HealthState | None = None
        self.crossings: list[Predicted] = []
        self.horizon = math.inf
        self.rows: dict[int, RowForecast] = {}  # id(ChartRow) -> its forecast

    def set(
        self, state: HealthState | None, crossings: Sequence[Predicted], horizon: float
    ) -> None:
        self.state = state
        self.crossings = list(crossings)
        self.horizon = float(horizon) if horizon > 0 else math.inf

    def draw(self, rows: Sequence[ChartRow], base: float) -> None:
        """Show the forecast on every row whose sensor is departing (``base``: the chart's
        window, for how far ahead a forecast without a crossing is drawn)."""
        live = {id(r) for r in rows}
        for key in [k for k in self.rows if k not in live]:
            del self.rows[key]  # the row (and its items) went with the plot
        state = self.state
        departing = state.departing() if state is not None else None
        for row in rows:
            fc = self.rows.get(id(row))
            k = row.index
            wanted = (
                state is not None
                and departing is not None
                and 0 <= k < len(departing)
                and bool(departing[k])
                and _trend_ok(state, k)
            )
            if not wanted:
                if fc is not None:
                    fc.clear()
                continue
            assert state is not None
            if fc is None:
                fc = self.rows[id(row)] = RowForecast(row)
            fc.show(state, [c for c in self.crossings if c.sensor == k], self.horizon, base)

    def of(self, row: ChartRow) -> RowForecast | None:
        return self.rows.get(id(row))

    @property
    def end(self) -> float:
        """Where the latest forecast drawn ends (NaN: none)."""
        ends = [fc.end for fc in self.rows.values() if fc.shown]
        return max(ends) if ends else math.nan

    def margin(self, edge: float, width: float, share: float) -> float:
        """How far right of ``edge`` (the live edge or the data's end) a view ``width`` wide
        should reach: ``share`` of it, or enough to show the forecast (at most
        :data:`FORECAST_SHARE` of it)."""
        base = width * share
        end = self.end
        if not math.isfinite(end) or not end > edge:
            return base
        return max(base, min((end - edge) * ROOM, width * FORECAST_SHARE))


__all__ = ["ChartForecast", "CrossingTick", "RowForecast"]
