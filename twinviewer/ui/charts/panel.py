"""Chart panels: sensor history as min/max envelopes, limit bands and the timeline's cursor.

A passive view, like the timeline bar: the data comes from a *fetch* callback (the window passes
``HistoryStore.series``), the time from a :class:`Timeline`. Each sensor gets one row; all rows
share one time axis (x linked) that the mouse zooms and pans (y follows the data). A vertical
cursor line in every row shows the timeline's current time; dragging it scrubs the timeline.

Why an envelope: at chart resolution one pixel column holds many samples. ``series`` returns
the min and the max of each bucket, so drawing the band between them shows every spike, and the
last value of each bucket is drawn as the line the eye follows.
"""

from __future__ import annotations

import html
import logging
import math
import time
from collections.abc import Callable, Sequence
from datetime import tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QDragEnterEvent, QDragMoveEvent, QDropEvent, QFont, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QGraphicsRectItem,
    QGraphicsTextItem,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from twinviewer.core.project import Sensor
from twinviewer.core.timeline import Timeline
from twinviewer.ui.charts.axis import TimeAxis
from twinviewer.ui.charts.forecast import ChartForecast
from twinviewer.ui.charts.gaps import RowGaps
from twinviewer.ui.charts.limit_drag import LimitDrag, LimitLine
from twinviewer.ui.charts.ranges import ALL_DATA, CUSTOM, WINDOW_TIPS, WINDOWS, RangeDialog
from twinviewer.ui.timeline.bar import format_time
from twinviewer.ui.widgets.gaps import GapFetch, GapQuery, merge_spans, of_sensor
from twinviewer.ui.widgets.sensor_drag import sensors_from

log = logging.getLogger(__name__)

F64 = NDArray[np.float64]
Series = tuple[Any, Any, Any, Any]
Fetch = Callable[[int, float, float, int], Series]
"""``fetch(sensor_index, t0, t1, pixels) -> (t, vmin, vmax, vlast)``: ``HistoryStore.series``."""

BACKGROUND = QColor("#1e2126")
AXIS_COLOUR = QColor(120, 126, 135)
TEXT_COLOUR = QColor(200, 204, 210)
DIM_TEXT = QColor(150, 156, 164)
WARNING_BRUSH = QColor(240, 170, 40, 42)
WARNING_PEN = QColor(240, 170, 40, 150)
ALARM_BRUSH = QColor(230, 40, 50, 48)
ALARM_PEN = QColor(230, 40, 50, 170)
NORMAL_BRUSH = QColor(255, 255, 255, 9)
CURSOR_COLOUR = QColor(240, 240, 245, 210)
ERROR_COLOUR = QColor(255, 110, 110)
WARNING_TEXT = QColor(250, 190, 70)
ALARM_TEXT = QColor(255, 95, 95)
#: Line colours of the rows, in turn: readable on the dark background, none amber or red.
SERIES_COLOURS = [
    QColor(90, 170, 255),
    QColor(70, 205, 180),
    QColor(185, 140, 255),
    QColor(120, 200, 90),
    QColor(240, 130, 200),
    QColor(160, 190, 220),
]
DEFAULT_WINDOW = 600.0
LIVE_MARGIN = 0.02  # fraction of the window left free right of the live edge
CURSOR_AT = 0.8  # where a cursor that left the view is put back (fraction of the width)
Y_PAD = 0.08
LEFT_AXIS_WIDTH = 62
REFRESH_DELAY_MS = 40  # coalesces a burst of range changes (a wheel zoom) into one fetch


def _as_f64(a: Any) -> F64:
    return np.asarray(a, dtype=np.float64).ravel()


def _format_value(v: float, unit: str) -> str:
    if not math.isfinite(v):
        return f"– {unit}".strip()
    mag = abs(v)
    text = f"{v:.4g}" if mag >= 1e4 or (0 < mag < 1e-2) else f"{v:,.2f}".rstrip("0").rstrip(".")
    return f"{text} {unit}".strip()


class _Overlay:
    """Text fixed in a view box's pixel coordinates (not in data coordinates), on a dim plate."""

    def __init__(self, vb: pg.ViewBox, z: float, size: float = 9.0, plate: bool = True) -> None:
        self.plate = QGraphicsRectItem(vb)
        self.plate.setPen(QPen(Qt.PenStyle.NoPen))
        self.plate.setBrush(QBrush(QColor(30, 33, 38, 200) if plate else Qt.BrushStyle.NoBrush))
        self.plate.setZValue(z)
        self.text = QGraphicsTextItem(vb)
        font = QFont()
        font.setPointSizeF(size)
        self.text.setFont(font)
        self.text.setDefaultTextColor(TEXT_COLOUR)
        self.text.setZValue(z + 1)
        self.text.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.plate.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def set_html(self, html: str) -> None:
        self.text.setHtml(html)
        self._fit()

    def move(self, x: float, y: float) -> None:
        self.text.setPos(x, y)
        self._fit()

    def _fit(self) -> None:
        r = self.text.boundingRect().translated(self.text.pos())
        self.plate.setRect(QRectF(r.x() + 2, r.y() + 2, r.width() - 4, r.height() - 4))

    def set_visible(self, on: bool) -> None:
        self.text.setVisible(on)
        self.plate.setVisible(on)

    def is_visible(self) -> bool:
        return self.text.isVisible()

    def plain_text(self) -> str:
        return self.text.toPlainText()


class ChartRow:
    """One sensor's plot: envelope, last-value line, limit bands, cursor, header and message."""

    def __init__(
        self, index: int, sensor: Sensor, colour: QColor, axis: TimeAxis, last_row: bool
    ) -> None:
        self.index = index
        self.sensor = sensor
        self.colour = colour
        self.plot = pg.PlotItem(axisItems={"bottom": axis})
        p = self.plot
        p.setMenuEnabled(False)
        p.hideButtons()
        p.setMouseEnabled(x=True, y=False)
        p.enableAutoRange(x=False, y=False)
        p.showGrid(x=True, y=True, alpha=0.10)
        for name in ("left", "bottom"):
            ax = p.getAxis(name)
            ax.setPen(pg.mkPen(AXIS_COLOUR))
            ax.setTextPen(pg.mkPen(DIM_TEXT))
        left = p.getAxis("left")
        left.setWidth(LEFT_AXIS_WIDTH)
        left.setLabel(sensor.unit, color=DIM_TEXT.name())  # no SI prefixes: "kdegC" helps no one
        if not last_row:
            axis.setStyle(showValues=False)
            axis.setHeight(6)
        # bands first (behind everything), then the envelope, the line and the cursor on top
        self.normal_band = self._band(NORMAL_BRUSH, -30)
        self.bands: dict[str, pg.LinearRegionItem] = {}
        self.limit_lines: dict[str, LimitLine] = {}  # draggable: see .limit_drag
        self.shown_sensor: Sensor | None = None  # the limits a drag in progress shows
        for level, brush, pen in (
            ("warning", WARNING_BRUSH, WARNING_PEN),
            ("alarm", ALARM_BRUSH, ALARM_PEN),
        ):
            limits = getattr(sensor, level)
            for side in ("low", "high"):
                value = None if limits is None else getattr(limits, side)
                if value is None:
                    continue
                key = f"{level}.{side}"
                self.bands[key] = self._band(brush, -20 if level == "warning" else -19)
                line = LimitLine(sensor, level, side, float(value), pen)
                line.setZValue(-18)
                p.addItem(line, ignoreBounds=True)
                self.limit_lines[key] = line
        fill = QColor(colour)
        fill.setAlpha(70)
        edge = QColor(colour)
        edge.setAlpha(120)
        self.min_curve = pg.PlotDataItem(
            pen=pg.mkPen(edge, width=1), connect="finite", antialias=True
        )
        self.max_curve = pg.PlotDataItem(
            pen=pg.mkPen(edge, width=1), connect="finite", antialias=True
        )
        self.envelope = pg.FillBetweenItem(self.min_curve, self.max_curve, brush=pg.mkBrush(fill))
        self.last_curve = pg.PlotDataItem(
            pen=pg.mkPen(colour, width=1.6), connect="finite", antialias=True
        )
        for z, item in enumerate((self.envelope, self.min_curve, self.max_curve, self.last_curve)):
            item.setZValue(z)
            p.addItem(item)
        self.cursor = pg.InfiniteLine(
            angle=90,
            movable=True,
            pen=pg.mkPen(CURSOR_COLOUR, width=1.4),
            hoverPen=pg.mkPen(QColor(255, 255, 255), width=3),
        )
        self.cursor.setZValue(50)
        self.cursor.setToolTip("The timeline's current time: drag to scrub")
        p.addItem(self.cursor, ignoreBounds=True)
        vb = p.getViewBox()
        self.header = _Overlay(vb, 60)
        self.header.move(4, 0)
        self.message = _Overlay(vb, 62, size=9.5, plate=False)
        self.message.text.setDefaultTextColor(ERROR_COLOUR)
        self.message.set_visible(False)
        vb.sigResized.connect(self._place_message)
        self.title = sensor.id if not sensor.name else f"{sensor.id} · {sensor.name}"
        self.gaps = RowGaps(p)  # hatched data-quality gaps, behind the curves
        self.last_value = math.nan
        self._cursor_t = math.nan
        self._t: F64 = np.zeros(0)
        self._vlast: F64 = np.zeros(0)
        self.set_header()
        self.y_range: tuple[float, float] | None = None
        self.forecast_y: tuple[float, float] | None = None  # what a forecast drawn reaches
        self.error: str | None = None

    def _band(self, brush: QColor, z: float) -> pg.LinearRegionItem:
        band = pg.LinearRegionItem(
            orientation="horizontal", movable=False, brush=pg.mkBrush(brush), pen=pg.mkPen(None)
        )
        band.setZValue(z)
        band.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        for line in band.lines:
            line.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        band.setVisible(False)
        self.plot.addItem(band, ignoreBounds=True)
        return band

    # -- drawing -------------------------------------------------------------------------------
    def set_header(self) -> None:
        c, dim = self.colour.name(), DIM_TEXT.name()
        value = _format_value(self.last_value, self.sensor.unit)
        state = self.state_of(self.last_value)
        vc = {"alarm": ALARM_TEXT, "warning": WARNING_TEXT}.get(state, TEXT_COLOUR).name()
        kind = "" if self.sensor.name else html.escape(self.sensor.quantity)
        shown = f'<b style="color:{vc}">{html.escape(value)}</b>'
        if self.gaps.at(self._cursor_t) is not None:  # the value held from before a gap
            shown = f'<span style="color:{dim}">{html.escape(value)} (held)</span>'
        self.header.set_html(
            f'<span style="color:{c}">&#9632;</span>&nbsp;<b>{html.escape(self.title)}</b>'
            f'&nbsp;&nbsp;<span style="color:{dim}">{kind}</span>&nbsp;&nbsp;{shown}'
        )

    def state_of(self, value: float) -> str:
        """``"alarm"``, ``"warning"`` or ``"normal"`` (also for a missing value)."""
        if not math.isfinite(value):
            return "normal"
        for level in ("alarm", "warning"):
            limits = getattr(self.sensor, level)
            if limits is None:
                continue
            if (limits.high is not None and value > limits.high) or (
                limits.low is not None and value < limits.low
            ):
                return level
        return "normal"

    def show_message(self, text: str | None) -> None:
        if text is None:
            self.message.set_visible(False)
            return
        self.message.text.setPlainText(text)
        self.message.text.setTextWidth(max(120.0, self.plot.getViewBox().width() - 24))
        self.message.set_visible(True)
        self._place_message()

    def _place_message(self) -> None:
        vb = self.plot.getViewBox()
        r = self.message.text.boundingRect()
        self.message.move(max(4.0, (vb.width() - r.width()) / 2), max(18.0, vb.height() / 2 - 10))

    def clear_data(self) -> None:
        empty = np.zeros(0)
        for curve in (self.min_curve, self.max_curve, self.last_curve):
            curve.setData(empty, empty)
        self._t, self._vlast = empty, empty
        self.last_value = math.nan
        self.set_header()

    def draw(self, t: F64, vmin: F64, vmax: F64, vlast: F64) -> None:
        bt, bmin, bmax, blast = self.gaps.broken(t, vmin, vmax, vlast)  # no line across a gap
        self.min_curve.setData(bt, bmin)
        self.max_curve.setData(bt, bmax)
        self.last_curve.setData(bt, blast)
        self._t, self._vlast = t, vlast
        self.show_value_at(float(self.cursor.value()))
        self.fit_y(vmin, vmax)

    def show_value_at(self, when: float) -> None:
        """The header shows the value at the cursor: the latest drawn at or before it."""
        i = int(np.searchsorted(self._t, when, side="right")) - 1
        self.last_value = float(self._vlast[i]) if i >= 0 else math.nan
        self._cursor_t = when
        self.set_header()

    def fit_y(self, vmin: F64, vmax: F64) -> None:
        """y shows the data, the normal range and the limits, so a band is seen coming."""
        s = self.sensor
        values = [s.range[0], s.range[1]]
        for limits in (s.warning, s.alarm):
            if limits is not None:
                values += [v for v in (limits.low, limits.high) if v is not None]
        values += list(self.forecast_y or ())
        lo, hi = min(values), max(values)
        data = np.concatenate([vmin[np.isfinite(vmin)], vmax[np.isfinite(vmax)]])
        if data.size:
            lo, hi = min(lo, float(data.min())), max(hi, float(data.max()))
        pad = (hi - lo) * Y_PAD or 1.0
        new = (lo - pad, hi + pad)
        if new != self.y_range:
            self.y_range = new
            self.plot.setYRange(*new, padding=0)
            self.clip_bands(*new)

    def clip_bands(self, y0: float, y1: float) -> None:
        """Bands reach to the view's edge (not to infinity: a huge rectangle paints badly)."""
        s = self.shown_sensor or self.sensor

        def place(band: pg.LinearRegionItem, a: float, b: float) -> None:
            a, b = max(a, y0), min(b, y1)
            band.setVisible(b > a)
            if b > a:
                band.setRegion((a, b))

        place(self.normal_band, s.range[0], s.range[1])
        warn, alarm = s.warning, s.alarm
        a_high = alarm.high if alarm is not None and alarm.high is not None else None
        a_low = alarm.low if alarm is not None and alarm.low is not None else None
        if "warning.high" in self.bands and warn is not None and warn.high is not None:
            place(self.bands["warning.high"], warn.high, a_high if a_high is not None else y1)
        if "warning.low" in self.bands and warn is not None and warn.low is not None:
            place(self.bands["warning.low"], a_low if a_low is not None else y0, warn.low)
        if a_high is not None:
            place(self.bands["alarm.high"], a_high, y1)
        if a_low is not None:
            place(self.bands["alarm.low"], y0, a_low)


class QtChartPanel(QWidget):
    """Stacked charts of some sensors over time, following a :class:`Timeline`.

    ``set_sensors`` chooses the rows, ``set_source`` the data, ``bind`` the timeline; the
    window calls :meth:`refresh` about twice a second (new samples); changes of the visible
    range (zoom, pan, follow) and of the size refresh by themselves.
    """

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        window: float = DEFAULT_WINDOW,
        tz: tzinfo | str | None = None,
    ) -> None:
        super().__init__(parent)
        self._tz: tzinfo | None = ZoneInfo(tz) if isinstance(tz, str) else tz
        self._fetch: Fetch | None = None
        self._gap_query: GapQuery | None = None
        self._timeline: Timeline | None = None
        self._window = float(window)
        self._follow = True
        self._syncing = False  # cursor <-> timeline updates in progress (no echo)
        self._setting_range = False
        self._ranged = False  # the view shows a range we chose (not pyqtgraph's default)
        self.rows: list[ChartRow] = []
        self.fetch_errors = 0
        self._catalogue: dict[str, tuple[int, Sensor]] = {}  # sensor id -> (index, sensor)
        self._selected: list[tuple[int, Sensor]] = []  # the selected component's sensors
        self.pinned: list[tuple[int, Sensor]] = []  # sensors dragged in: kept across selections
        self.forecast = ChartForecast()  # the models' forecast right of the state's time
        self.limit_drag = LimitDrag(self)  # limit lines dragged to edit the project's limits
        self.setAcceptDrops(True)

        self.follow_button = QToolButton(self)
        self.follow_button.setText("Follow live")
        self.follow_button.setCheckable(True)
        self.follow_button.setChecked(True)
        self.follow_button.setToolTip(
            "Keep the live edge in view (the cursor while replaying);\n"
            "zooming or panning the charts stops following"
        )
        self.follow_button.clicked.connect(self._follow_clicked)
        self.window_combo = QComboBox(self)
        for seconds, label in WINDOWS:
            self.window_combo.addItem(label, seconds)
            if seconds in WINDOW_TIPS:
                self.window_combo.setItemData(
                    self.window_combo.count() - 1, WINDOW_TIPS[seconds], Qt.ItemDataRole.ToolTipRole
                )
        self.window_combo.addItem("Custom…", CUSTOM)
        self.window_combo.setItemData(
            self.window_combo.count() - 1,
            "Show a range typed in (from, to), in the charts' time zone",
            Qt.ItemDataRole.ToolTipRole,
        )
        self.window_combo.setToolTip("Time window shown while following, all data, or a range")
        self.range_dialog: RangeDialog | None = None
        self._pending_range: tuple[float, float] | None = None  # set before there were rows
        self.window_combo.activated.connect(self._window_chosen)
        self._select_window_item()
        self.cursor_label = QLabel(self)
        self.cursor_label.setToolTip("The timeline's current time (the cursor line)")
        self.clear_button = QToolButton(self)
        self.clear_button.setText("Remove added")
        self.clear_button.setToolTip("Remove the sensors dragged onto this chart")
        self.clear_button.clicked.connect(self.clear_added)
        self.clear_button.hide()
        self.empty_label = QLabel(
            "Select a component to chart its sensors,\nor drag sensors here from the inspector "
            "or the alarm list",
            self,
        )
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setStyleSheet(f"color: {DIM_TEXT.name()}")

        self.view = pg.GraphicsLayoutWidget(self)
        self.view.setBackground(BACKGROUND)
        self.view.ci.layout.setSpacing(0)
        self.view.ci.setContentsMargins(4, 4, 8, 4)
        self.view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.view.setAcceptDrops(False)  # drops go to the panel, not to the plots' scene

        bar = QHBoxLayout()
        bar.setContentsMargins(6, 2, 6, 0)
        bar.addWidget(self.follow_button)
        bar.addWidget(self.window_combo)
        bar.addWidget(self.clear_button)
        bar.addStretch(1)
        bar.addWidget(self.cursor_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.empty_label, 1)
        self.view.hide()

        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_DELAY_MS)
        self._refresh_timer.timeout.connect(self.refresh)

    # -- configuration -------------------------------------------------------------------------
    def set_time_zone(self, tz: tzinfo | str | None) -> None:
        """Axis labels, the cursor time and "Custom…" in this zone (``None``: the computer's
        own; a string is an IANA name such as ``"Europe/Berlin"``)."""
        tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        self._tz = tz
        for row in self.rows:
            axis = row.plot.getAxis("bottom")
            if isinstance(axis, TimeAxis):
                axis.set_time_zone(tz)
        if self.range_dialog is not None:
            self.range_dialog.close()  # its fields are in the old zone
        self._sync_cursors()

    def set_live_available(self, on: bool) -> None:
        """With no live source the charts follow the timeline's cursor, not a live edge."""
        self.follow_button.setText("Follow live" if on else "Follow cursor")
        self.follow_button.setToolTip(
            "Keep the live edge in view (the cursor while replaying);\n"
            "zooming or panning the charts stops following"
            if on
            else "Keep the timeline's cursor in view;\nzooming or panning stops following"
        )

    def set_catalogue(self, sensors: Sequence[Sensor]) -> None:
        """The project's sensors, so that dropped sensor ids can be charted; clears the rows."""
        self._catalogue = {s.id: (i, s) for i, s in enumerate(sensors)}
        self.pinned = []
        self.set_sensors([])

    def set_sensors(self, sensors: Sequence[tuple[int, Sensor]]) -> None:
        """The selected component's sensors: ``(project sensor index, sensor)`` pairs, charted
        above the ones dragged in."""
        self._selected = list(sensors)
        self._set_rows(self._selected + [p for p in self.pinned if p not in self._selected])

    def add_sensors(self, ids: Sequence[str]) -> int:
        """Chart these sensors too (by id), until :meth:`clear_added`; returns how many."""
        shown = {i for i, _ in self._selected + self.pinned}
        new: list[tuple[int, Sensor]] = []
        for x in ids:
            if x in self._catalogue and self._catalogue[x][0] not in shown:
                new.append(self._catalogue[x])
                shown.add(self._catalogue[x][0])
        if new:
            self.pinned.extend(new)
            self.set_sensors(self._selected)
        return len(new)

    def clear_added(self) -> None:
        self.pinned = []
        self.set_sensors(self._selected)

    def sensor_indices(self) -> list[int]:
        """The charted sensors, top to bottom."""
        return [row.index for row in self.rows]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt's name)
        if any(x in self._catalogue for x in sensors_from(event.mimeData())):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802
        event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        if self.add_sensors(sensors_from(event.mimeData())):
            event.acceptProposedAction()
        else:
            event.ignore()

    def _set_rows(self, sensors: Sequence[tuple[int, Sensor]]) -> None:
        """One row per ``(project sensor index, sensor)``, top to bottom; replaces the rows."""
        self.clear_button.setVisible(bool(self.pinned))
        x_range = self.x_range() if self.rows else self._pending_range
        self._pending_range = None
        for row in self.rows:
            row.cursor.sigDragged.disconnect(self._cursor_moved)
            row.cursor.sigPositionChangeFinished.disconnect(self._cursor_moved)
        self.view.ci.clear()
        self.rows = []
        self._ranged = False
        n = len(sensors)
        for i, (index, sensor) in enumerate(sensors):
            axis = TimeAxis(tz=self._tz, orientation="bottom")
            colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
            row = ChartRow(int(index), sensor, colour, axis, last_row=i == n - 1)
            self.view.ci.addItem(row.plot, row=i, col=0)
            if self.rows:
                row.plot.setXLink(self.rows[0].plot)
            row.cursor.sigDragged.connect(self._cursor_moved)
            row.cursor.sigPositionChangeFinished.connect(self._cursor_moved)
            self.rows.append(row)
        self.limit_drag.attach(self.rows)
        self.view.setVisible(bool(self.rows))
        self.empty_label.setVisible(not self.rows)
        if not self.rows:
            return
        vb = self.rows[0].plot.getViewBox()
        vb.sigXRangeChanged.connect(self._range_changed)
        vb.sigResized.connect(self._range_changed)
        for row in self.rows:  # a zoom or pan in any row stops following
            row.plot.getViewBox().sigRangeChangedManually.connect(self._user_moved_view)
        if x_range is not None:
            self._set_x_range(*x_range)
        self.set_forecast(self.forecast.state, self.forecast.crossings, self.forecast.horizon)
        self._sync_cursors()
        self._apply_follow()
        self.refresh()

    def set_source(self, fetch: Fetch | None) -> None:
        """The data callback: ``fetch(sensor_index, t0, t1, pixels) -> (t, vmin, vmax, vlast)``."""
        self._fetch = fetch
        self.refresh()

    def set_gap_source(self, fetch: GapFetch | None, version: Callable[[], int] = int) -> None:
        """Where data-quality gaps come from: ``fetch(t0, t1, sensor) -> [Gap]``
        (``TwinSession.gaps``); ``version()`` changes when a gap is reported, and only then (or
        when the view leaves what was fetched) is ``fetch`` asked again."""
        self._gap_query = None if fetch is None else GapQuery(fetch, version)
        self.refresh()

    def bind(self, timeline: Timeline) -> None:
        """Follow ``timeline``: the cursor shows its current time, dragging the cursor scrubs."""
        if self._timeline is not None:
            self._timeline.changed.disconnect(self._timeline_moved)
            self._timeline.range_changed.disconnect(self._timeline_range)
            self._timeline.live_changed.disconnect(self._timeline_live)
        self._timeline = timeline
        timeline.changed.connect(self._timeline_moved)
        timeline.range_changed.connect(self._timeline_range)
        timeline.live_changed.connect(self._timeline_live)
        self._sync_cursors()
        self._apply_follow()

    # -- following -----------------------------------------------------------------------------
    @property
    def following(self) -> bool:
        return self._follow

    @property
    def time_window(self) -> float:
        return self._window

    def set_window(self, seconds: float) -> None:
        """The time span shown while following the live edge.

        :data:`ALL_DATA` (``math.inf``) shows the whole range the timeline holds and follows
        it as it grows (following turns on): for imported history, where a fixed span around
        "now" or around the cursor may hold nothing worth seeing.
        """
        if not seconds > 0:
            raise ValueError(f"window must be positive, got {seconds!r}")
        self._window = float(seconds)
        self._select_window_item()
        if math.isinf(self._window):
            self.follow(True)
        elif self._follow and self._timeline is not None and self._timeline.live:
            self._apply_follow()
        elif self.rows:  # zoom about the cursor, or the view's centre
            x0, x1 = self.x_range()
            c = self._timeline.current if self._timeline is not None else (x0 + x1) / 2
            self._set_x_range(c - self._window * CURSOR_AT, c + self._window * (1 - CURSOR_AT))

    def follow(self, on: bool = True) -> None:
        """Follow the live edge (the cursor when the timeline is not live) again, or stop."""
        self._follow = bool(on)
        self.follow_button.setChecked(self._follow)
        if self._follow:
            self._select_window_item()  # after "Custom…": the window followed is shown again
        self._apply_follow()

    def show_all(self) -> None:
        """Show all the data the timeline holds, and keep doing so (``set_window(ALL_DATA)``)."""
        self.set_window(ALL_DATA)

    def set_custom_range(self, t0: float, t1: float) -> None:
        """Show ``[t0, t1]`` as "Custom…" does; following stops. ``ValueError`` unless finite
        and ``t0 < t1`` (an empty or reversed range would show nothing)."""
        if not (math.isfinite(t0) and math.isfinite(t1) and t0 < t1):
            raise ValueError(f"a time range needs finite from < to, got {t0!r}, {t1!r}")
        self.set_x_range(t0, t1)
        self.window_combo.setCurrentIndex(self.window_combo.findData(CUSTOM))

    def choose_custom_range(self) -> RangeDialog:
        """Open the "Custom…" dialog on the visible range; OK shows the range typed.

        The dialog is window-modal but does not block (``open``, not ``exec``), so it is
        returned (and kept as :attr:`range_dialog`) for the caller or a test to drive.
        """
        if self.range_dialog is not None:
            self.range_dialog.close()
        t0, t1 = self.x_range()
        if not t1 > t0:
            end = self._timeline.current if self._timeline is not None else time.time()
            t0, t1 = end - self._window if math.isfinite(self._window) else end - 3600, end
        dialog = RangeDialog(t0, t1, self._tz, self)
        dialog.accepted.connect(lambda: self.set_custom_range(*dialog.time_range()))
        dialog.rejected.connect(self._select_window_item)
        dialog.finished.connect(lambda _result: self._range_dialog_done(dialog))
        self.range_dialog = dialog
        dialog.open()
        return dialog

    def _range_dialog_done(self, dialog: RangeDialog) -> None:
        if self.range_dialog is dialog:
            self.range_dialog = None
        dialog.deleteLater()

    def _select_window_item(self) -> None:
        i = self.window_combo.findData(self._window)
        if i < 0:
            self.window_combo.addItem(f"{self._window:g} s", self._window)
            i = self.window_combo.count() - 1
        self.window_combo.setCurrentIndex(i)

    def _follow_clicked(self) -> None:
        self.follow(True)  # pressing it again keeps following

    def _window_chosen(self, i: int) -> None:
        data = self.window_combo.itemData(i)
        if data == CUSTOM:
            self.choose_custom_range()
        else:
            self.set_window(float(data))

    def _user_moved_view(self, mask: Any) -> None:
        if self._setting_range:
            return
        if mask is None or bool(mask[0]):
            self._follow = False
            self.follow_button.setChecked(False)

    def _apply_follow(self) -> None:
        tl = self._timeline
        if not self._follow or tl is None or not self.rows:
            return
        if math.isinf(self._window):  # all data: the range held (and a margin at a live edge)
            span = tl.span or DEFAULT_WINDOW
            start = tl.start if tl.span > 0 else tl.end - span
            margin = self.forecast.margin(tl.end, span, LIVE_MARGIN if tl.live else 0.0)
            self._set_x_range(start, tl.end + margin)
            return
        if tl.live:
            end = tl.end
            self._set_x_range(
                end - self._window, end + self.forecast.margin(end, self._window, LIVE_MARGIN)
            )
            return
        x0, x1 = self.x_range()
        t = tl.current
        if not self._ranged or not x0 <= t <= x1:
            w = x1 - x0 if self._ranged and x1 > x0 else self._window
            w = w if math.isfinite(w) else DEFAULT_WINDOW
            self._set_x_range(t - w * CURSOR_AT, t + w * (1 - CURSOR_AT))

    # -- view range ----------------------------------------------------------------------------
    def x_range(self) -> tuple[float, float]:
        """The visible time range (seconds since the epoch)."""
        if not self.rows:
            return (0.0, 0.0)
        x0, x1 = self.rows[0].plot.getViewBox().viewRange()[0]
        return float(x0), float(x1)

    def set_x_range(self, t0: float, t1: float) -> None:
        """Show ``[t0, t1]``, as a zoom or pan by the user does (so following stops)."""
        self._follow = False
        self.follow_button.setChecked(False)
        if not self.rows and t1 > t0:
            self._pending_range = (t0, t1)  # shown when there are rows to show it in
        self._set_x_range(t0, t1)

    def _set_x_range(self, t0: float, t1: float) -> None:
        if not self.rows or not t1 > t0:
            return
        self._setting_range = True
        self._ranged = True
        try:
            self.rows[0].plot.setXRange(t0, t1, padding=0)
        finally:
            self._setting_range = False

    def _range_changed(self, *_: Any) -> None:
        self._refresh_timer.start()

    def set_forecast(self, state: Any, crossings: Sequence[Any], horizon: float) -> None:
        """The models' view (a ``HealthState`` or ``None``) and its predicted crossings: drawn
        right of the state's time on the rows of departing sensors (:mod:`.forecast`)."""
        self.forecast.set(state, crossings, horizon)
        tl = self._timeline
        base = self._window if math.isfinite(self._window) else (tl.span if tl else 0.0)
        self.forecast.draw(self.rows, base or DEFAULT_WINDOW)
        self._apply_follow()
        self._refresh_timer.start()  # y takes in the forecast

    # -- data ----------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Fetch and draw every row's series for the visible range at the plot's pixel width."""
        self._refresh_timer.stop()
        if not self.rows:
            return
        t0, t1 = self.x_range()
        self._refresh_gaps(t0, t1)  # first: the curves break at the gaps
        for row in self.rows:
            if self._fetch is None:
                row.clear_data()
                row.show_message("No history available")
                continue
            pixels = max(1, int(round(row.plot.getViewBox().width())))
            try:
                t, vmin, vmax, vlast = (_as_f64(a) for a in self._fetch(row.index, t0, t1, pixels))
                if not len(t) == len(vmin) == len(vmax) == len(vlast):
                    raise ValueError(
                        f"series arrays differ in length: t {len(t)}, vmin {len(vmin)}, "
                        f"vmax {len(vmax)}, vlast {len(vlast)}"
                    )
            except Exception as exc:  # a view must survive a failing store
                self.fetch_errors += 1
                text = f"Cannot read the history of {row.sensor.id}: {exc}"
                if text != row.error:  # log each distinct error once, not twice a second
                    log.warning("chart: %s", text, exc_info=True)
                row.error = text
                row.clear_data()
                row.show_message(text)
                continue
            row.error = None
            row.draw(t, vmin, vmax, vlast)
            row.show_message(None if len(t) else "No data in this time range")

    def _refresh_gaps(self, t0: float, t1: float) -> None:
        """Hatch every gap of each row's sensor in view (gaps within a pixel share a span)."""
        gaps = self._gap_query.get(t0, t1) if self._gap_query is not None else []
        for row in self.rows:
            pixels = max(1.0, row.plot.getViewBox().width())
            if row.gaps.set_spans(merge_spans(of_sensor(gaps, row.sensor.id), (t1 - t0) / pixels)):
                row.set_header()

    def gap_spans(self) -> dict[str, list[tuple[float, float]]]:
        """The hatched spans drawn, per charted sensor id (start, end)."""
        return {row.sensor.id: [(s.start, s.end) for s in row.gaps.spans] for row in self.rows}

    # -- cursor --------------------------------------------------------------------------------
    def _cursor_moved(self, line: pg.InfiniteLine) -> None:
        if self._syncing or self._timeline is None:
            return
        self._syncing = True
        try:
            self._timeline.current = float(line.value())
        finally:
            self._syncing = False
        self._sync_cursors()  # the timeline clamps: show where it went, in every row
        self._apply_follow()

    def _timeline_moved(self, _t: float) -> None:
        if not self._syncing:
            self._sync_cursors()
        self._apply_follow()

    def _timeline_range(self, start: float, end: float) -> None:
        if self.rows and not self._follow and self._ranged:
            x0, x1 = self.x_range()
            if x1 < start or x0 > end:  # other data altogether (another project, an import):
                self.follow(True)  # a view of none of it would stay empty
                return
        self._apply_follow()

    def _timeline_live(self, live: bool) -> None:
        if live:
            self._apply_follow()

    def _sync_cursors(self) -> None:
        tl = self._timeline
        if tl is None:
            self.cursor_label.setText("")
            return
        t = tl.current
        self._syncing = True
        try:
            for row in self.rows:
                if row.cursor.value() != t:
                    row.cursor.setValue(t)
                row.show_value_at(t)
        finally:
            self._syncing = False
        self.cursor_label.setText(format_time(t, self._tz))
        self.cursor_label.setToolTip(format_time(t, None) if self._tz is not None else "")

    def cursor_value(self) -> float | None:
        return float(self.rows[0].cursor.value()) if self.rows else None

    def closeEvent(self, event: Any) -> None:  # noqa: N802 (Qt's name)
        self._refresh_timer.stop()
        super().closeEvent(event)
