"""The timeline bar's slider and icons: a painted track over a labelled time axis.

Split from :mod:`twinviewer.ui.timeline.bar` to keep each module readable; the bar re-exports
:class:`QtTimeSlider`. The slider is a view of fractions of the bar's visible window: it knows
the window's times only to label its axis, and asks the bar to zoom or pan with signals.
"""

from __future__ import annotations

import math
from datetime import tzinfo
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QEvent, QLineF, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QIcon,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPen,
    QPixmap,
    QPolygonF,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QProxyStyle,
    QSlider,
    QStyle,
    QStyleHintReturn,
    QStyleOption,
    QStyleOptionSlider,
    QWidget,
)

from twinviewer.ui.timeline.review_marks import ReviewMark, mark_at, paint_review_mark
from twinviewer.ui.timeline.ticks import Tick, time_ticks
from twinviewer.ui.widgets.gaps import HATCH_FILL_RGBA, HATCH_RGBA

SLIDER_STEPS = 10_000
ALARM_RED = QColor(230, 40, 50)
LOOP_BLUE = QColor(42, 130, 218, 70)
GAP_HATCH = QColor(*HATCH_RGBA)
GAP_FILL = QColor(*HATCH_FILL_RGBA[:3], 60)
TRACK_BAND = 26  # px: the slider's upper band (track, handle, markers); the axis is below it
ZOOM_STEP = 0.8  # the visible window shrinks to this per wheel notch (grows by its inverse)


# -- icons ---------------------------------------------------------------------------------------
def media_icon(kind: str, colour: QColor, size: int = 16) -> QIcon:
    """Flat media icons drawn in the palette's text colour (crisp on any DPI, no theme needed)."""
    ratio = 2
    pix = QPixmap(size * ratio, size * ratio)
    pix.setDevicePixelRatio(ratio)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(colour)
    s = float(size)

    def tri(x0: float, x1: float) -> None:  # a triangle pointing from x0 to x1
        p.drawPolygon(QPolygonF([QPointF(x0, s * 0.2), QPointF(x1, s * 0.5), QPointF(x0, s * 0.8)]))

    if kind == "play":
        tri(s * 0.28, s * 0.82)
    elif kind == "pause":
        p.drawRect(QRectF(s * 0.25, s * 0.2, s * 0.18, s * 0.6))
        p.drawRect(QRectF(s * 0.57, s * 0.2, s * 0.18, s * 0.6))
    elif kind in ("step-back", "step-forward"):
        if kind == "step-back":
            p.drawRect(QRectF(s * 0.2, s * 0.2, s * 0.12, s * 0.6))
            tri(s * 0.8, s * 0.34)
        else:
            p.drawRect(QRectF(s * 0.68, s * 0.2, s * 0.12, s * 0.6))
            tri(s * 0.2, s * 0.66)
    elif kind in ("alarm-back", "alarm-forward"):
        # a red alarm diamond with an arrow towards it
        d = s * 0.22
        cx = s * 0.27 if kind == "alarm-back" else s * 0.73
        p.setBrush(ALARM_RED)
        p.drawPolygon(
            QPolygonF(
                [
                    QPointF(cx, s * 0.5 - d),
                    QPointF(cx + d, s * 0.5),
                    QPointF(cx, s * 0.5 + d),
                    QPointF(cx - d, s * 0.5),
                ]
            )
        )
        p.setBrush(colour)
        if kind == "alarm-back":
            tri(s * 0.92, s * 0.52)
        else:
            tri(s * 0.08, s * 0.48)
    elif kind == "fit":
        # |<->|: the whole range
        p.drawRect(QRectF(s * 0.06, s * 0.22, s * 0.1, s * 0.56))
        p.drawRect(QRectF(s * 0.84, s * 0.22, s * 0.1, s * 0.56))
        p.drawRect(QRectF(s * 0.3, s * 0.45, s * 0.4, s * 0.1))
        for tip, base in ((s * 0.2, s * 0.42), (s * 0.8, s * 0.58)):
            p.drawPolygon(
                QPolygonF([QPointF(tip, s * 0.5), QPointF(base, s * 0.3), QPointF(base, s * 0.7)])
            )
    elif kind == "loop":
        pen = QPen(colour, s * 0.1)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        path = QPainterPath()
        path.addRoundedRect(QRectF(s * 0.15, s * 0.3, s * 0.7, s * 0.42), s * 0.2, s * 0.2)
        p.drawPath(path)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(colour)
        p.drawPolygon(
            QPolygonF(
                [QPointF(s * 0.5, s * 0.14), QPointF(s * 0.7, s * 0.3), QPointF(s * 0.5, s * 0.46)]
            )
        )
    p.end()
    return QIcon(pix)


def paint_predicted_marker(
    p: QPainter,
    x: float,
    colour: QColor,
    height: float,
    early: float,
    late: float,
    row: int = 0,
) -> None:
    """A hollow triangle on a dashed tick at ``x`` over the track band (``height`` px), with
    the interval ``early..late`` (x, clipped by the caller) as a whisker along the track, or
    ``row`` whiskers below it (several intervals must not draw over each other)."""
    mid = height / 2 + 4 * row
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    faint = QColor(colour)
    faint.setAlpha(150)
    if late > early:
        p.setPen(QPen(faint, 1.2))
        p.drawLine(QLineF(early, mid, late, mid))
        for xe in (early, late):
            p.drawLine(QLineF(xe, mid - 3, xe, mid + 3))
    p.setPen(QPen(colour, 1.2, Qt.PenStyle.DashLine))
    p.drawLine(QLineF(x, 9, x, height - 2))
    p.setPen(QPen(colour, 1.6))
    p.setBrush(QColor(30, 33, 38))
    p.drawPolygon(QPolygonF([QPointF(x - 5, 1.5), QPointF(x + 5, 1.5), QPointF(x, 9.5)]))
    p.restore()


# -- the slider ----------------------------------------------------------------------------------
class _JumpStyle(QProxyStyle):
    """A press anywhere on the groove jumps there and starts dragging (not a page step)."""

    def styleHint(
        self,
        hint: QStyle.StyleHint,
        option: QStyleOption | None = None,
        widget: QWidget | None = None,
        returnData: QStyleHintReturn | None = None,
    ) -> int:
        if hint == QStyle.StyleHint.SH_Slider_AbsoluteSetButtons:
            return int(Qt.MouseButton.LeftButton.value)
        return super().styleHint(hint, option, widget, returnData)


class QtTimeSlider(QSlider):
    """The bar's slider: painted groove, played part, loop band, alarm markers, thin handle and,
    under the track, a labelled time axis.

    Positions (``x_of``, ``fraction_at``, the markers and the loop) are fractions of the bar's
    *visible window*, whose times :meth:`set_axis` gives; the slider does not know the model.
    The wheel and the middle button ask for a zoom or a pan with signals, which the bar answers.
    """

    hovered = Signal(float)
    """The fraction under the mouse; -1 when it leaves."""
    zoomRequested = Signal(float, float)
    """Wheel: scale the visible window by ``factor`` (< 1 zooms in) about ``fraction``."""
    panRequested = Signal(float)
    """Shift+wheel or middle drag: move the window by this fraction of it (+ is later)."""
    reviewMarkPressed = Signal(int)
    """A review flag was clicked: the index the bar gave it (see :meth:`set_review_marks`)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self._proxy = _JumpStyle()
        self.setStyle(self._proxy)
        self.setRange(0, SLIDER_STEPS)
        self.setPageStep(SLIDER_STEPS // 10)
        self.setMouseTracking(True)
        self.setMinimumWidth(160)
        self._axis_font = QFont(self.font())
        self._axis_font.setPointSizeF(max(self.font().pointSizeF() * 0.85, 7.0))
        self._axis_bold = QFont(self._axis_font)
        self._axis_bold.setBold(True)
        self._axis_metrics = QFontMetricsF(self._axis_font)
        self._bold_metrics = QFontMetricsF(self._axis_bold)
        self.setFixedHeight(TRACK_BAND + 4 + math.ceil(self._axis_metrics.height()))
        self._marker_fractions = np.empty(0)
        self._marker_colours: list[QColor] = []
        self._loop: tuple[float, float] | None = None
        self._gaps: list[tuple[float, float]] = []  # data-quality gaps: (from, to) fractions
        self._predicted: list[tuple[float, float, float, QColor]] = []  # (at, early, late, colour)
        self._review: list[ReviewMark] = []  # review issues' flags in the window
        self._outside = 0  # the current time is before (-1) or after (+1) the window, or in it
        self._axis: tuple[float, float, tzinfo | None] | None = None
        self._ticks_key: tuple[Any, ...] | None = None
        self._ticks: list[Tick] = []
        self._pan_x: float | None = None
        self.paints = 0

    def set_markers(self, fractions: NDArray[np.float64], colours: list[QColor]) -> None:
        self._marker_fractions = fractions
        self._marker_colours = colours
        self.update()

    def set_predicted(self, marks: list[tuple[float, float, float, QColor]]) -> None:
        """Predicted crossings inside the window (expected, early, late as fractions; colour),
        drawn hollow: a forecast made at a moment scrubbed back to (see :mod:`.zone`)."""
        if marks != self._predicted:
            self._predicted = list(marks)
            self.update()

    def set_review_marks(self, marks: list[ReviewMark]) -> None:
        """Flags of review issues inside the window (see :mod:`.review_marks`)."""
        if marks != self._review:
            self._review = list(marks)
            self.update()

    def review_marks(self) -> list[ReviewMark]:
        """The review flags inside the window, as painted."""
        return list(self._review)

    def review_mark_xs(self) -> list[float]:
        """Where the review flags' poles are painted (x), in the order given."""
        return [self.x_of(min(max(m.fraction, 0.0), 1.0)) for m in self._review]

    def review_mark_at(self, x: float, y: float) -> int | None:
        """The bar's index of the review flag at (x, y) (above the track), or None."""
        if not self._review or y > TRACK_BAND / 2 - 3:
            return None
        k = mark_at(self.review_mark_xs(), x)
        return None if k is None else self._review[k].index

    def set_gaps(self, spans: list[tuple[float, float]]) -> None:
        """Hatch these spans (fractions of the visible window) over the track: data missing."""
        if spans != self._gaps:
            self._gaps = list(spans)
            self.update()

    def gaps(self) -> list[tuple[float, float]]:
        """The hatched spans, as fractions of the visible window."""
        return list(self._gaps)

    def gap_rects(self) -> list[QRectF]:
        """Where the gaps are painted (at least 2 px wide, so a short one is still seen)."""
        x_lo, x_hi = self.x_of(0.0), self.x_of(1.0)
        out = []
        for a, b in self._gaps:
            xa = x_lo + min(max(a, 0.0), 1.0) * (x_hi - x_lo)
            xb = x_lo + min(max(b, 0.0), 1.0) * (x_hi - x_lo)
            if xb - xa < 2.0:
                xa, xb = (xa + xb) / 2 - 1.0, (xa + xb) / 2 + 1.0
            out.append(QRectF(xa, 3, xb - xa, TRACK_BAND - 6))
        return out

    def set_loop(self, loop: tuple[float, float] | None) -> None:
        self._loop = loop
        self.update()

    def set_outside(self, side: int) -> None:
        """The current time lies before (-1) or after (+1) the visible window, or in it (0).

        Outside, the handle would sit at a stop and claim a time it does not show: an arrow at
        that edge says "the current time is further this way" instead.
        """
        side = (side > 0) - (side < 0)
        if side != self._outside:
            self._outside = side
            self.update()

    def set_axis(self, t0: float, t1: float, tz: tzinfo | None) -> None:
        """The times at the left and right stops, and the zone to label them in."""
        if self._axis != (t0, t1, tz):
            self._axis = (t0, t1, tz)
            self.update()

    def ticks(self) -> list[Tick]:
        """The axis ticks for the window and the width now (what :meth:`paintEvent` draws)."""
        if self._axis is None:
            return []
        t0, t1, tz = self._axis
        width = self.x_of(1.0) - self.x_of(0.0)
        key = (t0, t1, tz, round(width))
        if key != self._ticks_key:
            self._ticks = time_ticks(t0, t1, width, tz, self._measure)
            self._ticks_key = key
        return self._ticks

    def _measure(self, text: str) -> float:
        return self._bold_metrics.horizontalAdvance(text)  # majors are bold: the wider one

    def _geometry(self) -> tuple[QRectF, QRectF]:
        opt = QStyleOptionSlider()
        self.initStyleOption(opt)
        style = self.style()
        groove = style.subControlRect(
            QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderGroove, self
        )
        handle = style.subControlRect(
            QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderHandle, self
        )
        return QRectF(groove), QRectF(handle)

    def x_of(self, fraction: float) -> float:
        """The x of a fraction of the visible window, where the handle's centre would be."""
        groove, handle = self._geometry()
        x0 = groove.left() + handle.width() / 2
        return x0 + fraction * (groove.width() - handle.width())

    def fraction_at(self, x: float) -> float:
        groove, handle = self._geometry()
        span = groove.width() - handle.width()
        if span <= 0:
            return 0.0
        return min(max((x - groove.left() - handle.width() / 2) / span, 0.0), 1.0)

    def handle_centre(self) -> QPointF:
        """The centre of the painted handle (in the track band, above the axis)."""
        return QPointF(self._geometry()[1].center().x(), TRACK_BAND / 2)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: ARG002
        self.paints += 1
        pal = self.palette()
        _groove, handle = self._geometry()
        h = TRACK_BAND
        x_lo, x_hi = self.x_of(0.0), self.x_of(1.0)
        x_now = {-1: x_lo, 1: x_hi}.get(self._outside, handle.center().x())
        track = QRectF(x_lo, h / 2 - 3, x_hi - x_lo, 6)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        # loop range: a band the height of the track band behind everything
        if self._loop is not None:
            a, b = self.x_of(self._loop[0]), self.x_of(self._loop[1])
            p.setBrush(LOOP_BLUE)
            p.drawRect(QRectF(a, 2, max(b - a, 2.0), h - 4))
        p.setBrush(pal.color(QPalette.ColorRole.Base).darker(115))
        p.drawRoundedRect(track, 3, 3)
        played = QColor(pal.color(QPalette.ColorRole.Highlight))
        played.setAlpha(150 if self.isEnabled() else 60)
        p.setBrush(played)
        p.drawRoundedRect(QRectF(x_lo, track.top(), max(x_now - x_lo, 0.0), track.height()), 3, 3)
        # data-quality gaps: hatched over the track (the played part too), under the markers
        if self._gaps:
            hatch = QBrush(GAP_HATCH, Qt.BrushStyle.BDiagPattern)
            edge = QPen(GAP_HATCH, 1)
            p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            for rect in self.gap_rects():
                p.setPen(Qt.PenStyle.NoPen)
                p.fillRect(rect, GAP_FILL)
                p.fillRect(rect, hatch)
                p.setPen(edge)
                p.drawLine(QLineF(rect.left(), rect.top(), rect.left(), rect.bottom()))
                p.drawLine(QLineF(rect.right(), rect.top(), rect.right(), rect.bottom()))
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            p.setPen(Qt.PenStyle.NoPen)
        self._paint_axis(p, pal, x_lo, x_hi)
        # alarm markers: one tick per pixel column (the last colour given wins there)
        if len(self._marker_fractions):
            xs = np.round(x_lo + np.clip(self._marker_fractions, 0.0, 1.0) * (x_hi - x_lo)).astype(
                np.int64
            )
            _, keep = np.unique(xs[::-1], return_index=True)
            keep = len(xs) - 1 - keep
            p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            for i in keep:
                pen = QPen(self._marker_colours[i], 2)
                p.setPen(pen)
                x = float(xs[i])
                p.drawLine(QLineF(x, 2, x, track.top() - 1))
                p.drawLine(QLineF(x, track.bottom() + 1, x, h - 2))
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
        for at, early, late, c in self._predicted:
            ex, lx = (x_lo + min(max(f, 0.0), 1.0) * (x_hi - x_lo) for f in (early, late))
            paint_predicted_marker(p, x_lo + at * (x_hi - x_lo), c, h, ex, lx)
        for x, mark in zip(self.review_mark_xs(), self._review, strict=True):
            paint_review_mark(p, x, mark.colour, track.top(), mark.shape)
        # the handle: a bright needle with a cap, so the exact instant is readable
        colour = pal.color(QPalette.ColorRole.HighlightedText)
        if self.isSliderDown():
            colour = pal.color(QPalette.ColorRole.Highlight).lighter(150)
        if self._outside:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(colour)
            tip, base = x_now + 5 * self._outside, x_now - 3 * self._outside
            p.drawPolygon(
                QPolygonF([QPointF(tip, h / 2), QPointF(base, h / 2 - 7), QPointF(base, h / 2 + 7)])
            )
        else:
            p.setPen(QPen(colour, 2))
            p.drawLine(QLineF(x_now, 3, x_now, h - 3))
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(colour)
            p.drawRoundedRect(QRectF(x_now - 4, h / 2 - 6, 8, 12), 2, 2)
        proxy = self.focusProxy()
        if self.hasFocus() or (proxy is not None and proxy.hasFocus()):
            p.setPen(QPen(pal.color(QPalette.ColorRole.Highlight), 1))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(QRectF(0, 0, self.width(), h).adjusted(0.5, 0.5, -0.5, -0.5), 3, 3)
        p.end()

    def _paint_axis(self, p: QPainter, pal: QPalette, x_lo: float, x_hi: float) -> None:
        """Tick marks at the track's lower edge and their labels below; a label that would
        overlap one already placed is left out, majors (with the date or year) placed first."""
        if self._axis is None or not self._axis[1] > self._axis[0]:
            return
        t0, t1, _ = self._axis
        scale = (x_hi - x_lo) / (t1 - t0)
        text = QColor(pal.color(QPalette.ColorRole.WindowText))
        dim = QColor(text)
        dim.setAlpha(140 if self.isEnabled() else 70)
        if not self.isEnabled():
            text.setAlpha(90)
        y = float(TRACK_BAND)
        top = y + 3
        height = self._axis_metrics.height()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        placed: list[tuple[float, float]] = []
        ticks = sorted(self.ticks(), key=lambda k: not k.major)  # majors first, stable
        for tick in ticks:
            x = x_lo + (tick.t - t0) * scale
            p.setPen(QPen(text if tick.major else dim, 1))
            p.drawLine(QLineF(x, y - 3, x, y + (2 if tick.major else 1)))
            metrics = self._bold_metrics if tick.major else self._axis_metrics
            w = metrics.horizontalAdvance(tick.label)
            left = min(max(x - w / 2, 0.0), self.width() - w)
            if any(left < b + 6 and left + w + 6 > a for a, b in placed):
                continue
            placed.append((left, left + w))
            p.setFont(self._axis_bold if tick.major else self._axis_font)
            p.drawText(
                QRectF(left, top, w + 1, height),
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop),
                tick.label,
            )
        p.setRenderHint(QPainter.RenderHint.Antialiasing)

    # -- mouse ---------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            hit = self.review_mark_at(event.position().x(), event.position().y())
            if hit is not None:  # a flag selects its issue; the time moves with the issue
                self.reviewMarkPressed.emit(hit)
                event.accept()
                return
        if event.button() == Qt.MouseButton.MiddleButton:
            self._pan_x = event.position().x()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._pan_x is not None:
            x = event.position().x()
            width = self.x_of(1.0) - self.x_of(0.0)
            if width > 0 and x != self._pan_x:
                self.panRequested.emit(-(x - self._pan_x) / width)  # the axis follows the hand
            self._pan_x = x
            event.accept()
            return
        super().mouseMoveEvent(event)
        self.hovered.emit(self.fraction_at(event.position().x()))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.MiddleButton and self._pan_x is not None:
            self._pan_x = None
            self.unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta()
        shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if (delta.x() and not delta.y()) or shift:  # sideways (or Shift+wheel): pan
            notches = (delta.x() or delta.y()) / 120.0
            self.panRequested.emit(-0.1 * notches)
        elif delta.y():
            fraction = self.fraction_at(event.position().x())
            self.zoomRequested.emit(ZOOM_STEP ** (delta.y() / 120.0), fraction)
        event.accept()

    def leaveEvent(self, event: QEvent) -> None:
        super().leaveEvent(event)
        self.hovered.emit(-1.0)


__all__ = [
    "ALARM_RED",
    "SLIDER_STEPS",
    "TRACK_BAND",
    "QtTimeSlider",
    "media_icon",
    "paint_predicted_marker",
]
