"""The timeline bar: a passive view of a :class:`Timeline` and its :class:`QtPlayer`.

The time lives in the model; this widget shows it and writes the user's intent back (napari's
Dims slider). Stepping to samples and alarms needs the history store, which a view must not
know: the bar asks with :attr:`QtTimelineBar.stepRequested` / ``alarmStepRequested`` and the
window answers with :meth:`Timeline.step`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import ArrayLike, NDArray
from PySide6.QtCore import QEvent, QLineF, QObject, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QFont,
    QFontDatabase,
    QIcon,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
    QPen,
    QPixmap,
    QPolygonF,
)
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProxyStyle,
    QSizePolicy,
    QSlider,
    QStyle,
    QStyleHintReturn,
    QStyleOption,
    QStyleOptionSlider,
    QToolButton,
    QToolTip,
    QWidget,
)

from twinviewer.core.timeline import Timeline
from twinviewer.ui.player import SPEEDS, QtPlayer

SLIDER_STEPS = 10_000
JUMP_FRACTION = 0.10
FALLBACK_STEP_FRACTION = 0.001  # Left/Right when no window answers stepRequested
LIVE_GREEN = QColor(46, 184, 92)
BEHIND_AMBER = QColor(240, 170, 40)
ALARM_RED = QColor(230, 40, 50)
LOOP_BLUE = QColor(42, 130, 218, 70)


def format_time(t: float, tz: tzinfo | None) -> str:
    """``YYYY-MM-DD HH:MM:SS.s ZONE``; ``tz=None`` is the local zone (with its DST rules)."""
    dt = datetime.fromtimestamp(t, tz) if tz is not None else datetime.fromtimestamp(t).astimezone()
    return f"{dt:%Y-%m-%d %H:%M:%S}.{dt.microsecond // 100_000} {dt.tzname() or ''}".rstrip()


def format_behind(seconds: float) -> str:
    """``-00:03:12 behind live``; days are spelled out (``-2d 01:00:00``)."""
    s = max(0, int(math.floor(seconds)))
    days, s = divmod(s, 86400)
    hms = f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"
    return f"-{days}d {hms} behind live" if days else f"-{hms} behind live"


def speed_label(speed: float) -> str:
    return f"{speed:,.0f}×" if speed >= 1 else f"{speed:g}×"


def _speed_tip(speed: float) -> str:
    for unit, secs in (("day", 86400), ("h", 3600), ("min", 60)):
        if speed >= secs:
            return f"1 s of playback shows {speed / secs:g} {unit} of history"
    return f"1 s of playback shows {speed:g} s of history"


# -- icons ---------------------------------------------------------------------------------------
def _icon(kind: str, colour: QColor, size: int = 16) -> QIcon:
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
    """The bar's slider: painted groove, played part, loop band, alarm markers, thin handle."""

    hovered = Signal(float)  # fraction under the mouse, -1 when it leaves

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self._proxy = _JumpStyle()
        self.setStyle(self._proxy)
        self.setRange(0, SLIDER_STEPS)
        self.setPageStep(SLIDER_STEPS // 10)
        self.setMouseTracking(True)
        self.setMinimumWidth(200)
        self.setFixedHeight(26)
        self._marker_fractions = np.empty(0)
        self._marker_colours: list[QColor] = []
        self._loop: tuple[float, float] | None = None
        self.paints = 0

    def set_markers(self, fractions: NDArray[np.float64], colours: list[QColor]) -> None:
        self._marker_fractions = fractions
        self._marker_colours = colours
        self.update()

    def set_loop(self, loop: tuple[float, float] | None) -> None:
        self._loop = loop
        self.update()

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
        """The x of a fraction of the range, where the handle's centre would be."""
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
        return self._geometry()[1].center()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: ARG002
        self.paints += 1
        pal = self.palette()
        groove, handle = self._geometry()
        h = self.height()
        x_lo, x_hi = self.x_of(0.0), self.x_of(1.0)
        x_now = handle.center().x()
        track = QRectF(x_lo, h / 2 - 3, x_hi - x_lo, 6)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        # loop range: a band the height of the widget behind everything
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
        # the handle: a bright needle with a cap, so the exact instant is readable
        colour = pal.color(QPalette.ColorRole.HighlightedText)
        if self.isSliderDown():
            colour = pal.color(QPalette.ColorRole.Highlight).lighter(150)
        p.setPen(QPen(colour, 2))
        p.drawLine(QLineF(x_now, 3, x_now, h - 3))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(colour)
        p.drawRoundedRect(QRectF(x_now - 4, h / 2 - 6, 8, 12), 2, 2)
        proxy = self.focusProxy()
        if self.hasFocus() or (proxy is not None and proxy.hasFocus()):
            p.setPen(QPen(pal.color(QPalette.ColorRole.Highlight), 1))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 3, 3)
        p.end()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        super().mouseMoveEvent(event)
        self.hovered.emit(self.fraction_at(event.position().x()))

    def leaveEvent(self, event: QEvent) -> None:
        super().leaveEvent(event)
        self.hovered.emit(-1.0)


# -- the bar -------------------------------------------------------------------------------------
class QtTimelineBar(QWidget):
    """Slider, transport buttons, speed, live button and the current time, in one compact row.

    Parameters
    ----------
    timeline, player
        The model it shows and the player it drives.
    tz
        The project's time zone (a ``tzinfo`` or an IANA name such as ``"Europe/Berlin"``);
        ``None`` is the local zone.

    Keys (while the bar has focus): Left/Right step to the previous/next sample, Shift+Left/Right
    jump 10 % of the range, Home/End, Space play/pause, L back to live, [ and ] set the loop.
    """

    stepRequested = Signal(int)
    """Step to the previous (-1) or next (+1) sample: the window answers with ``Timeline.step``."""
    alarmStepRequested = Signal(int)
    """Step to the previous (-1) or next (+1) alarm start."""

    def __init__(
        self,
        timeline: Timeline,
        player: QtPlayer,
        tz: tzinfo | str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.timeline = timeline
        self.player = player
        self.tz: tzinfo | None = ZoneInfo(tz) if isinstance(tz, str) else tz
        self._marker_times: NDArray[np.float64] = np.empty(0)
        self._marker_colours: list[QColor] = []
        self._resume_after_drag = False
        self.setObjectName("timeline-bar")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

        text = self.palette().color(QPalette.ColorRole.ButtonText)
        self.alarm_back = self._button("alarm-back", "Previous alarm", text)
        self.step_back = self._button("step-back", "Previous sample (Left)", text)
        self.play_button = self._button("play", "Play / pause (Space)", text)
        self.play_button.setCheckable(True)
        self.step_forward = self._button("step-forward", "Next sample (Right)", text)
        self.alarm_forward = self._button("alarm-forward", "Next alarm", text)
        self.loop_button = self._button(
            "loop", "Loop over a range ([ and ] set its start and end at the current time)", text
        )
        self.loop_button.setCheckable(True)
        self._icons = {k: _icon(k, text) for k in ("play", "pause")}

        self.speed_combo = QComboBox(self)
        self.speed_combo.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.speed_combo.setToolTip("Playback speed")
        self.speed_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        for s in SPEEDS:
            self._add_speed(s)

        self.slider = QtTimeSlider(self)
        self.slider.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.slider.setFocusProxy(self)

        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.time_label = QLabel(self)
        self.time_label.setObjectName("timeline-time")
        self.time_label.setFont(mono)
        self.time_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.time_label.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.behind_label = QLabel(self)
        self.behind_label.setObjectName("timeline-behind")
        self.behind_label.setFont(mono)
        self.behind_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.behind_label.setMinimumWidth(
            self.behind_label.fontMetrics().horizontalAdvance("-0d 00:00:00 behind live") + 4
        )
        self.live_button = QToolButton(self)
        self.live_button.setText("● LIVE")
        self.live_button.setCheckable(True)
        self.live_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.live_button.setToolTip("Follow the live edge (L)")
        bold = QFont(self.font())
        bold.setBold(True)
        self.live_button.setFont(bold)
        self.live_button.setStyleSheet(
            "QToolButton { padding: 2px 8px; border: 1px solid #555a61; border-radius: 3px; }"
            f"QToolButton:checked {{ background: {LIVE_GREEN.darker(160).name()};"
            f" color: white; border-color: {LIVE_GREEN.name()}; }}"
        )

        row = QHBoxLayout(self)
        row.setContentsMargins(6, 2, 6, 2)
        row.setSpacing(2)
        for b in (self.alarm_back, self.step_back, self.play_button):
            row.addWidget(b)
        row.addWidget(self.step_forward)
        row.addWidget(self.alarm_forward)
        row.addSpacing(4)
        row.addWidget(self.speed_combo)
        row.addWidget(self.loop_button)
        row.addSpacing(6)
        row.addWidget(self.slider, 1)
        row.addSpacing(6)
        row.addWidget(self.time_label)
        row.addSpacing(6)
        row.addWidget(self.behind_label)
        row.addSpacing(4)
        row.addWidget(self.live_button)

        # user intent -> model
        self.slider.valueChanged.connect(self._on_slider)
        self.slider.sliderPressed.connect(self._on_drag_start)
        self.slider.sliderReleased.connect(self._on_drag_end)
        self.slider.hovered.connect(self._on_hover)
        self.play_button.clicked.connect(lambda _=False: self.player.toggle())
        self.step_back.clicked.connect(lambda: self.step(-1))
        self.step_forward.clicked.connect(lambda: self.step(+1))
        self.alarm_back.clicked.connect(lambda: self.alarmStepRequested.emit(-1))
        self.alarm_forward.clicked.connect(lambda: self.alarmStepRequested.emit(+1))
        self.live_button.clicked.connect(lambda _=False: self._on_live_clicked())
        self.loop_button.clicked.connect(self._on_loop_clicked)
        self.speed_combo.activated.connect(self._on_speed_chosen)
        # model -> view
        timeline.changed.connect(self._on_time)
        timeline.range_changed.connect(self._on_range)
        timeline.live_changed.connect(self._on_live)
        timeline.loop_changed.connect(self._on_loop)
        player.playing_changed.connect(self._on_playing)
        player.speed_changed.connect(self._on_speed)
        self.destroyed.connect(self._disconnect_model)  # the model may outlive the widget
        self._on_speed(player.speed)
        self._on_playing(player.playing)
        self._on_loop(timeline.loop)
        self._on_range()

    # -- building ------------------------------------------------------------------------------
    def _button(self, icon: str, tip: str, colour: QColor) -> QToolButton:
        b = QToolButton(self)
        b.setIcon(_icon(icon, colour))
        b.setIconSize(QSize(16, 16))
        b.setToolTip(tip)
        b.setAutoRaise(True)
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        return b

    def _add_speed(self, speed: float) -> int:
        i = self.speed_combo.count()
        for j in range(self.speed_combo.count()):
            if self.speed_combo.itemData(j) > speed:
                i = j
                break
        self.speed_combo.insertItem(i, speed_label(speed), speed)
        self.speed_combo.setItemData(i, _speed_tip(speed), Qt.ItemDataRole.ToolTipRole)
        return i

    def _disconnect_model(self, _obj: QObject | None = None) -> None:
        tl = self.timeline
        for sig, slot in (
            (tl.changed, self._on_time),
            (tl.range_changed, self._on_range),
            (tl.live_changed, self._on_live),
            (tl.loop_changed, self._on_loop),
        ):
            sig.disconnect(slot, missing_ok=True)

    # -- public --------------------------------------------------------------------------------
    def set_time_zone(self, tz: tzinfo | str | None) -> None:
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        self._on_time()

    def set_markers(
        self, times: ArrayLike, colours: QColor | Sequence | ArrayLike = ALARM_RED
    ) -> None:
        """Ticks along the slider, e.g. alarm starts; ``colours`` is one colour or one per time.

        A colour is a ``QColor``, a name (``"#ff0000"``) or an RGB(A) tuple of 0-255 ints; an
        ``(N, 3|4)`` uint8 array gives one per time.
        """
        t = np.asarray(times, dtype=np.float64).ravel()
        self._marker_times = t
        self._marker_colours = _colours(colours, len(t))
        self._update_markers()

    def markers(self) -> tuple[NDArray[np.float64], list[QColor]]:
        """The marker times and colours as set (copies)."""
        return self._marker_times.copy(), list(self._marker_colours)

    def step(self, direction: int) -> None:
        """Previous/next sample: asks the window; alone, a small fixed step of the range."""
        if self.isSignalConnected(self.metaObject().method(self._step_signal_index())):
            self.stepRequested.emit(direction)
        else:
            tl = self.timeline
            tl.current = tl.current + direction * FALLBACK_STEP_FRACTION * tl.span

    def _step_signal_index(self) -> int:
        return self.metaObject().indexOfSignal("stepRequested(int)")

    # -- model -> view -------------------------------------------------------------------------
    def _on_time(self, _t: float | None = None) -> None:
        tl = self.timeline
        self.slider.blockSignals(True)  # the model is the truth: no echo back into it
        self.slider.setValue(round(tl.fraction() * SLIDER_STEPS))
        self.slider.blockSignals(False)
        self.slider.update()
        self.time_label.setText(format_time(tl.current, self.tz))
        utc = datetime.fromtimestamp(tl.current, timezone.utc)
        self.time_label.setToolTip(
            f"{utc:%Y-%m-%d %H:%M:%S}.{utc.microsecond // 100_000} UTC\n"
            f"{tl.current:.3f} s since 1970 (Unix time)"
        )
        self._update_behind()

    def _on_range(self, _start: float | None = None, _end: float | None = None) -> None:
        tl = self.timeline
        enabled = tl.span > 0
        for w in (self.slider, self.step_back, self.step_forward, self.play_button):
            w.setEnabled(enabled)
        self.slider.setToolTip(
            f"{format_time(tl.start, self.tz)}  →  {format_time(tl.end, self.tz)}"
        )
        self._update_markers()
        self._on_loop(tl.loop)
        self._on_time()
        self._on_live(tl.live)

    def _on_live(self, live: bool) -> None:
        self.live_button.setChecked(live)
        self._update_behind()

    def _on_loop(self, loop: tuple[float, float] | None) -> None:
        tl = self.timeline
        self.loop_button.setChecked(loop is not None)
        self.slider.set_loop(None if loop is None else (tl.fraction(loop[0]), tl.fraction(loop[1])))

    def _on_playing(self, playing: bool) -> None:
        self.play_button.setChecked(playing)
        self.play_button.setIcon(self._icons["pause" if playing else "play"])

    def _on_speed(self, speed: float) -> None:
        i = self.speed_combo.findData(speed)
        if i < 0:
            i = self._add_speed(speed)
        self.speed_combo.setCurrentIndex(i)

    def _update_behind(self) -> None:
        tl = self.timeline
        if tl.live:
            self.behind_label.setText("LIVE")
            self.behind_label.setStyleSheet(f"color: {LIVE_GREEN.name()}; font-weight: bold;")
        else:
            self.behind_label.setText(format_behind(tl.behind))
            self.behind_label.setStyleSheet(f"color: {BEHIND_AMBER.name()};")

    def _update_markers(self) -> None:
        tl = self.timeline
        t = self._marker_times
        inside = (t >= tl.start) & (t <= tl.end)
        idx = np.flatnonzero(inside)
        span = tl.span
        fr = (t[idx] - tl.start) / span if span > 0 else np.ones(len(idx))
        self.slider.set_markers(fr, [self._marker_colours[i] for i in idx])

    # -- view -> model -------------------------------------------------------------------------
    def _on_slider(self, value: int) -> None:
        self.timeline.current = self.timeline.time_at(value / SLIDER_STEPS)

    def _on_drag_start(self) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        self._resume_after_drag = self.player.playing
        self.player.pause()

    def _on_drag_end(self) -> None:
        if self._resume_after_drag:
            self._resume_after_drag = False
            self.player.play()

    def _on_hover(self, fraction: float) -> None:
        if fraction < 0 or self.timeline.span <= 0:
            QToolTip.hideText()
            return
        t = self.timeline.time_at(fraction)
        pos = self.slider.mapToGlobal(self.slider.rect().topLeft())
        pos.setX(pos.x() + round(self.slider.x_of(fraction)))
        QToolTip.showText(pos, format_time(t, self.tz), self.slider)

    def _on_live_clicked(self) -> None:
        self.player.pause()
        self.timeline.go_live()
        self.live_button.setChecked(True)  # a click on a checked button would uncheck it

    def _on_loop_clicked(self, checked: bool) -> None:
        tl = self.timeline
        if not checked:
            tl.loop = None
        elif tl.span > 0:
            tl.loop = (tl.start, tl.end)
        self.loop_button.setChecked(tl.loop is not None)

    def _set_loop_edge(self, which: int) -> None:
        tl = self.timeline
        lo, hi = tl.loop if tl.loop is not None else (tl.start, tl.end)
        lo, hi = (tl.current, hi) if which == 0 else (lo, tl.current)
        if hi > lo:
            tl.loop = (lo, hi)

    def _on_speed_chosen(self, index: int) -> None:
        self.player.set_speed(float(self.speed_combo.itemData(index)))

    # -- keys ----------------------------------------------------------------------------------
    _KEYS = {
        Qt.Key.Key_Left,
        Qt.Key.Key_Right,
        Qt.Key.Key_Home,
        Qt.Key.Key_End,
        Qt.Key.Key_Space,
        Qt.Key.Key_L,
        Qt.Key.Key_BracketLeft,
        Qt.Key.Key_BracketRight,
    }

    def event(self, event: QEvent) -> bool:
        # The window's own shortcuts (Space pauses live colouring) would otherwise win over the
        # bar's keys while the bar has focus.
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            mods = event.modifiers() & ~Qt.KeyboardModifier.ShiftModifier
            if event.key() in self._KEYS and mods == Qt.KeyboardModifier.NoModifier:
                event.accept()
                return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        tl = self.timeline
        key, shift = event.key(), bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            direction = -1 if key == Qt.Key.Key_Left else 1
            if shift:
                tl.current = tl.current + direction * JUMP_FRACTION * tl.span
            else:
                self.step(direction)
        elif key == Qt.Key.Key_Home:
            tl.current = tl.start
        elif key == Qt.Key.Key_End:
            tl.current = tl.end
        elif key == Qt.Key.Key_Space:
            self.player.toggle()
        elif key == Qt.Key.Key_L:
            self._on_live_clicked()
        elif key == Qt.Key.Key_BracketLeft:
            self._set_loop_edge(0)
        elif key == Qt.Key.Key_BracketRight:
            self._set_loop_edge(1)
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self.slider.update()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.slider.update()

    def sizeHint(self) -> QSize:
        return QSize(900, 30)


def _colours(colours: Any, n: int) -> list[QColor]:
    if isinstance(colours, QColor | str):
        return [QColor(colours)] * n
    arr = np.asarray(colours)
    if arr.ndim == 1 and arr.dtype.kind in "iuf" and arr.size in (3, 4):
        return [QColor(*(int(c) for c in arr))] * n
    if arr.ndim == 2 and arr.shape[1] in (3, 4) and arr.dtype.kind in "iuf":
        out = [QColor(*(int(c) for c in row)) for row in arr]
    else:
        out = [c if isinstance(c, QColor) else QColor(c) for c in colours]
    if len(out) != n:
        raise ValueError(f"{len(out)} colours for {n} marker times")
    return out


__all__ = ["QtTimeSlider", "QtTimelineBar", "format_behind", "format_time"]
