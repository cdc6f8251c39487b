"""The timeline's *predicted* zone: forecast limit crossings after the live edge.

The slider spans the range held, which ends at the live edge (or the last sample of a
recording): nothing can be scrubbed to beyond it. What the models forecast lies beyond it, so it
is drawn in extra space at the slider's right end, a :class:`QtPredictedZone` beside it: a
shaded, dashed-edged band labelled "predicted" with its own short time scale (from the live edge
to a round span past the latest crossing), a hollow triangle on a dashed tick at each expected
crossing (the alarm colour for alarms, amber for warnings: the real markers on the slider are
solid ticks) and the crossing's 95% interval as a whisker along the track. Hovering a marker
names the sensor, the level and the interval. The zone takes no clicks: the current time stays
on the slider.

A crossing forecast from a moment in the past (the timeline scrubbed back) may fall inside the
range held: the slider draws those with the same hollow marker (:func:`split`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QLineF, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QHelpEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from twinviewer.ui.timeline.predictions import Predicted, format_duration
from twinviewer.ui.timeline.slider import TRACK_BAND, QtTimeSlider, paint_predicted_marker

WARNING_AMBER = QColor(240, 170, 40)
ALARM_RED = QColor(235, 60, 70)
ZONE_FILL = QColor(150, 160, 175, 34)
ZONE_EDGE = QColor(150, 160, 175, 120)
ZONE_WIDTH = 132  # px, at most; less in a narrow bar
MIN_WIDTH = 72
PAD = 8.0  # px between the zone's edge and its first/last instant
HIT = 7.0  # px: how near a marker the mouse must be for its tooltip
WHISKERS = 2  # alarms whose 95% interval is drawn (more would hide the track)
#: Spans the zone may show (seconds): a round one past the latest crossing.
NICE_SPANS = (
    10, 20, 30, 60, 120, 300, 600, 900, 1800, 3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600,
    86400, 2 * 86400, 7 * 86400, 14 * 86400, 30 * 86400, 90 * 86400, 365 * 86400,
)  # fmt: skip
HEADROOM = 1.15  # the latest crossing sits at most at 1/1.15 of the zone


def level_colour(p: Predicted) -> QColor:
    return QColor(ALARM_RED if p.is_alarm else WARNING_AMBER)


def split(
    items: Sequence[Predicted], edge: float, v0: float, v1: float
) -> tuple[list[Predicted], list[Predicted]]:
    """The crossings inside the slider's visible window ``[v0, v1]`` (up to the ``edge``) and
    those after the live ``edge`` (for the zone)."""
    inside = [p for p in items if v0 <= p.time <= min(v1, edge)]
    ahead = [p for p in items if p.time > edge]
    return inside, ahead


def zone_span(lead: float) -> float:
    """A round span (seconds) that shows a crossing ``lead`` seconds after the edge."""
    want = max(lead, 1.0) * HEADROOM
    for s in NICE_SPANS:
        if s >= want:
            return float(s)
    return float(math.ceil(want / NICE_SPANS[-1]) * NICE_SPANS[-1])


class QtPredictedZone(QWidget):
    """Predicted crossings after the live edge, beside the slider's right end (hidden when
    there are none). ``fmt`` formats an instant for the tooltips (the bar's time zone)."""

    def __init__(
        self, slider: QtTimeSlider, fmt: Callable[[float], str], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.slider = slider
        self._fmt = fmt
        self.edge = math.nan
        self.span = 0.0
        self.items: list[Predicted] = []
        font = QFont(self.font())
        font.setPointSizeF(max(self.font().pointSizeF() * 0.85, 7.0))
        self._font = font
        self._italic = QFont(font)
        self._italic.setItalic(True)
        self._metrics = QFontMetricsF(font)
        self.setFixedHeight(slider.height())
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(MIN_WIDTH)
        self.setMaximumWidth(ZONE_WIDTH)
        self.setMouseTracking(True)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, False)
        self.hide()

    def sizeHint(self) -> QSize:
        return QSize(ZONE_WIDTH, self.slider.height())

    def set_predictions(self, edge: float, items: Sequence[Predicted]) -> None:
        """The crossings after ``edge`` (the live edge), soonest first."""
        items = [p for p in items if p.time > edge]
        self.edge = edge
        self.items = items
        lead = max((p.time - edge for p in items), default=0.0)
        self.span = zone_span(lead) if items else 0.0
        self.setVisible(bool(items))
        self.update()

    # -- geometry ------------------------------------------------------------------------------
    def x_of(self, t: float) -> float:
        """Where instant ``t`` (after the edge) is drawn, clamped to the zone."""
        if not self.span > 0:
            return PAD
        f = min(max((t - self.edge) / self.span, 0.0), 1.0)
        return PAD + f * (self.width() - 2 * PAD)

    def markers(self) -> list[tuple[float, Predicted]]:
        """Each crossing drawn and its x (px in the zone)."""
        return [(self.x_of(p.time), p) for p in self.items]

    def markers_at(self, x: float) -> list[Predicted]:
        """The crossings whose markers are within :data:`HIT` px of ``x``, nearest first."""
        near = [(abs(mx - x), p) for mx, p in self.markers() if abs(mx - x) <= HIT]
        return [p for _, p in sorted(near, key=lambda m: m[0])]

    def tooltip_at(self, x: float) -> str:
        """The tooltip of the markers there, or what the zone is."""
        near = self.markers_at(x)
        if near:
            return "\n\n".join(p.tooltip(self._fmt(p.time)) for p in near[:4])
        lines = [f"Predicted: the next {format_duration(self.span)} after the live edge"]
        lines += [f"{p.sensor_id}: {p.label()}" for p in self.items[:6]]
        if len(self.items) > 6:
            lines.append(f"… and {len(self.items) - 6} more")
        lines.append("Forecast from the models' trends; the timeline cannot be moved here")
        return "\n".join(lines)

    def event(self, e: QEvent) -> bool:
        if e.type() == QEvent.Type.ToolTip and isinstance(e, QHelpEvent):
            QToolTip.showText(e.globalPos(), self.tooltip_at(e.pos().x()), self)
            return True
        return super().event(e)

    # -- painting ------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: ARG002
        if not self.items:
            return
        h = float(TRACK_BAND)
        w = float(self.width())
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        band = QRectF(1.5, 2.5, w - 3, h - 5)
        p.setPen(QPen(ZONE_EDGE, 1, Qt.PenStyle.DashLine))
        p.setBrush(ZONE_FILL)
        p.drawRoundedRect(band, 3, 3)
        # the track carries on, dotted: time to come
        p.setPen(QPen(ZONE_EDGE, 2, Qt.PenStyle.DotLine))
        p.drawLine(QLineF(PAD, h / 2, w - PAD, h / 2))
        # warnings first, alarms over them; an interval whisker for each of the first alarms
        alarms = 0
        for x, item in sorted(self.markers(), key=lambda m: m[1].is_alarm):
            early = self.x_of(max(item.early, self.edge))
            late = self.x_of(min(item.late, self.edge + self.span))
            if not item.is_alarm or alarms >= WHISKERS:
                early = late  # no whisker: a tick and a triangle
            row, alarms = alarms, alarms + item.is_alarm
            paint_predicted_marker(p, x, level_colour(item), h, early, late, row)
        # under the band: "predicted" and the span, like the slider's axis labels
        text = QColor(self.palette().color(QPalette.ColorRole.WindowText))
        text.setAlpha(170)
        p.setPen(text)
        top, height = h + 3, self._metrics.height()
        span = f"+{format_duration(self.span)}"
        span_w = self._metrics.horizontalAdvance(span)
        p.setFont(self._italic)
        p.drawText(
            QRectF(2, top, w - span_w - 8, height),
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop),
            "predicted",
        )
        if w - span_w - 8 > self._metrics.horizontalAdvance("predicted") + 4:
            p.setFont(self._font)
            p.drawText(
                QRectF(w - span_w - 2, top, span_w + 1, height),
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop),
                span,
            )
        p.end()


__all__ = [
    "QtPredictedZone",
    "level_colour",
    "split",
    "zone_span",
]
