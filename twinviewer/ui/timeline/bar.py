"""The timeline bar: a passive view of a :class:`Timeline` and its :class:`QtPlayer`.

The time lives in the model; this widget shows it and writes the user's intent back (napari's
Dims slider). Stepping to samples and alarms needs the history store, which a view must not
know: the bar asks with :attr:`QtTimelineBar.stepRequested` / ``alarmStepRequested`` and the
window answers with :meth:`Timeline.step`.

The slider spans a *visible window* of the range held, with a labelled time axis under it:
like a chart axis it zooms (mouse wheel) and pans (middle drag, Shift+wheel), so a few days of
recent data stay usable inside years of imported history. The window is view state (two
charts of one timeline may show different spans), so it lives here, not in the model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import ArrayLike, NDArray
from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QFont,
    QFontDatabase,
    QKeyEvent,
    QPalette,
)
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from twinviewer.core.gaps import Gap
from twinviewer.core.timeline import Timeline
from twinviewer.ui.timeline.player import SPEEDS, QtPlayer
from twinviewer.ui.timeline.predictions import Predicted
from twinviewer.ui.timeline.review_marks import ReviewMark
from twinviewer.ui.timeline.slider import ALARM_RED, SLIDER_STEPS, QtTimeSlider, media_icon
from twinviewer.ui.timeline.ticks import SimulationTime, format_seconds
from twinviewer.ui.timeline.zone import QtPredictedZone, level_colour, split
from twinviewer.ui.widgets.gaps import GapSpan, merge_spans, span_at

JUMP_FRACTION = 0.10
FALLBACK_STEP_FRACTION = 0.001  # Left/Right when no window answers stepRequested
LIVE_GREEN = QColor(46, 184, 92)
BEHIND_AMBER = QColor(240, 170, 40)
MIN_VIEW_SPAN = 10.0  # s: zooming stops here (the axis labels seconds, no finer)
PAGE_AT = 0.1  # a current time leaving the window pages it to this fraction from the edge
ZOOM_HELP = "Wheel: zoom around the mouse · Shift+wheel or middle-drag: pan"


def format_time(t: float, tz: tzinfo | None) -> str:
    """``YYYY-MM-DD HH:MM:SS.s ZONE``; ``tz=None`` is the local zone (with its DST rules);
    ``t = 0.4 s`` in a simulation result's own time (:data:`~.ticks.SIM_TIME`)."""
    if isinstance(tz, SimulationTime):
        return f"t = {format_seconds(t)}"
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


# -- the bar -------------------------------------------------------------------------------------
class QtTimelineBar(QWidget):
    """Slider with its time axis, transport buttons, speed, live button and the current time.

    Parameters
    ----------
    timeline, player
        The model it shows and the player it drives.
    tz
        The project's time zone (a ``tzinfo`` or an IANA name such as ``"Europe/Berlin"``);
        ``None`` is the local zone.

    Keys (while the bar has focus): Left/Right step to the previous/next sample, Shift+Left/Right
    jump 10 % of the visible window, Home/End, Space play/pause, L back to live (when a live
    source exists, see :meth:`set_live_available`), [ and ] set the loop.

    Mouse over the slider: the wheel zooms the visible window around the mouse, Shift+wheel (or
    a sideways wheel) and a middle-button drag pan it, the fit button shows the whole range
    again (see :meth:`view_range`). The slider's stops are the window's edges.
    """

    stepRequested = Signal(int)
    """Step to the previous (-1) or next (+1) sample: the window answers with ``Timeline.step``."""
    alarmStepRequested = Signal(int)
    """Step to the previous (-1) or next (+1) alarm start."""
    viewChanged = Signal(float, float)
    """The visible window changed (start, end): a zoom, a pan, a fit or a new range held."""
    reviewMarkClicked = Signal(int)
    """A review issue's flag was clicked: its index in :meth:`set_review_marks`' lists."""
    flagClicked = Signal(str, int)
    """Another layer's flag was clicked (see :meth:`set_flags`): the layer and its index."""

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
        self._gaps: list[Gap] = []
        self._gap_spans: list[GapSpan] = []  # the gaps in the visible window, as painted
        self._review_times: NDArray[np.float64] = np.empty(0)
        self._review_colours: list[QColor] = []
        self._review_tips: list[str] = []
        self._layers: dict[str, tuple[NDArray[np.float64], list[QColor], list[str]]] = {}
        self._flag_owner: list[tuple[str, int]] = []  # each slider flag: ("", i) is a review's
        self._resume_after_drag = False
        self._live_available = True
        self._view: tuple[float, float] | None = None  # None: the whole range held
        self._held = (timeline.start, timeline.end)  # the range at the last range change
        self._shown_view: tuple[float, float] | None = None  # as last announced by viewChanged
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
        self.fit_button = self._button(
            "fit", f"Show the whole time range\n({ZOOM_HELP} the time axis)", text
        )
        self.fit_button.setEnabled(False)
        self._icons = {k: media_icon(k, text) for k in ("play", "pause")}

        self.speed_combo = QComboBox(self)
        self.speed_combo.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.speed_combo.setToolTip("Playback speed")
        self.speed_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        for s in SPEEDS:
            self._add_speed(s)

        self.slider = QtTimeSlider(self)
        self.slider.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.slider.setFocusProxy(self)
        self.zone = QtPredictedZone(self.slider, lambda t: format_time(t, self.tz), self)
        self._predicted: list[Predicted] = []

        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.time_label = QLabel(self)
        self.time_label.setObjectName("timeline-time")
        self.time_label.setFont(mono)
        self.time_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.time_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.time_label.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.behind_label = QLabel(self)
        self.behind_label.setObjectName("timeline-behind")
        self.behind_label.setFont(mono)
        self.behind_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.behind_label.setMinimumWidth(
            self.behind_label.fontMetrics().horizontalAdvance("-000d 00:00:00 behind live") + 4
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
        row.addWidget(self.zone)  # forecast crossings after the live edge
        row.addWidget(self.fit_button)
        row.addSpacing(6)
        # the time over how far behind live: one column keeps the bar narrow (~800 px windows)
        clock = QVBoxLayout()
        clock.setContentsMargins(0, 0, 0, 0)
        clock.setSpacing(0)
        clock.addWidget(self.time_label)
        clock.addWidget(self.behind_label)
        row.addLayout(clock)
        row.addSpacing(4)
        row.addWidget(self.live_button)

        # user intent -> model
        self.slider.valueChanged.connect(self._on_slider)
        self.slider.sliderPressed.connect(self._on_drag_start)
        self.slider.sliderReleased.connect(self._on_drag_end)
        self.slider.hovered.connect(self._on_hover)
        self.slider.zoomRequested.connect(self._on_zoom_requested)
        self.slider.panRequested.connect(self._on_pan_requested)
        self.slider.reviewMarkPressed.connect(self._on_flag_pressed)
        self.play_button.clicked.connect(lambda _=False: self.player.toggle())
        self.step_back.clicked.connect(lambda: self.step(-1))
        self.step_forward.clicked.connect(lambda: self.step(+1))
        self.alarm_back.clicked.connect(lambda: self.alarmStepRequested.emit(-1))
        self.alarm_forward.clicked.connect(lambda: self.alarmStepRequested.emit(+1))
        self.live_button.clicked.connect(lambda _=False: self._on_live_clicked())
        self.loop_button.clicked.connect(self._on_loop_clicked)
        self.fit_button.clicked.connect(lambda _=False: self.fit_view())
        self.speed_combo.activated.connect(self._on_speed_chosen)
        # model -> view
        timeline.changed.connect(self._on_time)
        timeline.range_changed.connect(self._on_range)
        timeline.live_changed.connect(self._on_live_changed)
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
        b.setIcon(media_icon(icon, colour))
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
            (tl.live_changed, self._on_live_changed),
            (tl.loop_changed, self._on_loop),
        ):
            sig.disconnect(slot, missing_ok=True)

    # -- public --------------------------------------------------------------------------------
    def set_time_zone(self, tz: tzinfo | str | None) -> None:
        """Show times (the clock, the axis labels, the tooltips) in ``tz``; ``None``: local."""
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        self._apply_view()
        self._update_range_tip()
        self._on_time()

    @property
    def live_available(self) -> bool:
        """Whether a live source feeds the timeline (see :meth:`set_live_available`)."""
        return self._live_available

    def set_live_available(self, on: bool) -> None:
        """Say whether the project has a live source; by default the bar assumes it has.

        Without one (imported or recorded history only) there is no live edge to follow, so the
        bar must not claim one: the LIVE button and the "behind live" text are hidden, ``L``
        does nothing and the player stops at the end instead of switching to live. The window
        should then also leave live itself, e.g. with :meth:`Timeline.fit` to the data held.
        """
        self._live_available = bool(on)
        self.player.set_live_available(self._live_available)
        self.live_button.setVisible(self._live_available)
        self.behind_label.setVisible(self._live_available)
        self._update_behind()

    def view_range(self) -> tuple[float, float]:
        """The visible window (start, end) that the slider spans: all of the range held unless
        zoomed in. The slider's left and right stops are these times."""
        if self._view is None:
            return (self.timeline.start, self.timeline.end)
        return self._view

    @property
    def is_zoomed(self) -> bool:
        """True when the visible window is only part of the range held."""
        return self._view is not None

    def set_view_range(self, t0: float, t1: float) -> None:
        """Show ``[t0, t1]`` (clamped into the range held, at least :data:`MIN_VIEW_SPAN` s
        wide); a window covering the whole range is the same as :meth:`fit_view`."""
        if not (math.isfinite(t0) and math.isfinite(t1) and t1 > t0):
            raise ValueError(f"a view range needs finite t0 < t1, got {t0!r}, {t1!r}")
        self._set_view(self._clamped_view(t0, t1))

    def fit_view(self) -> None:
        """Show the whole range held again (and keep showing all of it as it grows)."""
        self._set_view(None)

    def zoom(self, factor: float, about: float | None = None) -> None:
        """Scale the visible window by ``factor`` (< 1 zooms in) keeping the instant ``about``
        where it is on screen; by default the current time if visible, else the centre."""
        if not factor > 0:
            raise ValueError(f"zoom factor must be positive, got {factor!r}")
        tl = self.timeline
        if tl.span <= 0:
            return
        v0, v1 = self.view_range()
        if about is None:
            about = tl.current if v0 <= tl.current <= v1 else (v0 + v1) / 2
        width = max((v1 - v0) * factor, min(MIN_VIEW_SPAN, tl.span))
        at = (about - v0) / (v1 - v0) if v1 > v0 else 0.5
        lo = about - at * width
        self._set_view(self._clamped_view(lo, lo + width))

    def pan(self, seconds: float) -> None:
        """Move the visible window by ``seconds`` (positive: later), within the range held."""
        if self._view is not None:
            lo, hi = self._view
            self._set_view(self._clamped_view(lo + seconds, hi + seconds))

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

    def set_review_marks(
        self,
        times: ArrayLike,
        colours: QColor | Sequence | ArrayLike = ALARM_RED,
        tips: Sequence[str] = (),
    ) -> None:
        """Flags for review issues at these times (one colour or one per time, as
        :meth:`set_markers`); ``tips`` (one per time) name them in the slider's tooltip. A click
        on a flag emits :attr:`reviewMarkClicked` with its index here."""
        t = np.asarray(times, dtype=np.float64).ravel()
        tips = list(tips)
        if tips and len(tips) != len(t):
            raise ValueError(f"{len(tips)} tips for {len(t)} review marks")
        self._review_times = t
        self._review_colours = _colours(colours, len(t))
        self._review_tips = tips or [""] * len(t)
        self._update_review_marks()

    def review_marks(self) -> tuple[NDArray[np.float64], list[QColor], list[str]]:
        """The review marks' times, colours and tips as set (copies)."""
        return self._review_times.copy(), list(self._review_colours), list(self._review_tips)

    # -- other features' flags (a hook: the command audit trail) ---------------------------------
    def set_flags(
        self,
        layer: str,
        times: ArrayLike,
        colours: QColor | Sequence | ArrayLike = ALARM_RED,
        tips: Sequence[str] = (),
    ) -> None:
        """Flags of another feature's ``layer`` (e.g. ``"commands"``) beside the review's,
        drawn as square banners, hovered and clicked like them: a click emits
        :attr:`flagClicked` (layer, index here). No times removes the layer."""
        t = np.asarray(times, dtype=np.float64).ravel()
        tips = list(tips)
        if tips and len(tips) != len(t):
            raise ValueError(f"{len(tips)} tips for {len(t)} flags")
        if len(t):
            self._layers[layer] = (t, _colours(colours, len(t)), tips or [""] * len(t))
        else:
            self._layers.pop(layer, None)
        self._update_review_marks()

    def flags(self, layer: str) -> tuple[NDArray[np.float64], list[QColor], list[str]]:
        """A layer's flag times, colours and tips as set (copies; empty without the layer)."""
        t, colours, tips = self._layers.get(layer, (np.empty(0), [], []))
        return t.copy(), list(colours), list(tips)

    def _on_flag_pressed(self, index: int) -> None:
        layer, i = self._flag_owner[index] if index < len(self._flag_owner) else ("", index)
        if layer:
            self.flagClicked.emit(layer, i)
        else:
            self.reviewMarkClicked.emit(i)

    def _flag_tip(self, index: int) -> str:
        layer, i = self._flag_owner[index] if index < len(self._flag_owner) else ("", index)
        return self._layers[layer][2][i] if layer else self._review_tips[i]

    def _update_review_marks(self) -> None:
        v0, v1 = self.view_range()
        marks: list[ReviewMark] = []
        self._flag_owner = [("", i) for i in range(len(self._review_times))]
        layers = [("", self._review_times, self._review_colours)] + [
            (name, t, colours) for name, (t, colours, _tips) in self._layers.items()
        ]
        for name, t, colours in layers:
            offset = len(self._flag_owner) if name else 0
            if name:
                self._flag_owner += [(name, i) for i in range(len(t))]
            for i in np.flatnonzero((t >= v0) & (t <= v1)).tolist():
                shape = "banner" if name else "pennant"
                marks.append(ReviewMark(self._fraction(float(t[i])), colours[i], offset + i, shape))
        self.slider.set_review_marks(marks)

    def set_predictions(self, items: Sequence[Predicted]) -> None:
        """Forecast limit crossings: after the live edge in the *predicted* zone beside the
        slider, inside the visible window (a forecast from a past moment) on the slider."""
        self._predicted = list(items)
        self._update_predictions()

    def _update_predictions(self) -> None:
        v0, v1 = self.view_range()
        inside, ahead = split(self._predicted, self.timeline.end, v0, v1)
        self.zone.set_predictions(self.timeline.end, ahead)
        f = self._fraction
        self.slider.set_predicted(
            [(f(p.time), f(p.early), f(p.late), level_colour(p)) for p in inside]
        )

    def set_gaps(self, gaps: Sequence[Gap]) -> None:
        """Data-quality gaps (of any sensor) to hatch along the track: those in the visible
        window are drawn, gaps within a pixel of each other as one span."""
        gaps = list(gaps)
        if gaps != self._gaps:
            self._gaps = gaps
            self._update_gaps()

    def gap_spans(self) -> list[GapSpan]:
        """The hatched spans, as painted: the gaps in the visible window, merged per pixel."""
        return list(self._gap_spans)

    def step(self, direction: int) -> None:
        """Previous/next sample: asks the window; alone, a small fixed step of the window."""
        if self.isSignalConnected(self.metaObject().method(self._step_signal_index())):
            self.stepRequested.emit(direction)
        else:
            tl = self.timeline
            v0, v1 = self.view_range()
            tl.current = tl.current + direction * FALLBACK_STEP_FRACTION * (v1 - v0)

    def _step_signal_index(self) -> int:
        return self.metaObject().indexOfSignal("stepRequested(int)")

    # -- the visible window --------------------------------------------------------------------
    def _fraction(self, t: float) -> float:
        """Where ``t`` lies in the visible window, from 0 to 1 (clamped)."""
        v0, v1 = self.view_range()
        if v1 <= v0:
            return 1.0
        return min(max((t - v0) / (v1 - v0), 0.0), 1.0)

    def _time_at(self, fraction: float) -> float:
        """The time at ``fraction`` of the visible window; the right stop is exactly its end,
        so the slider at the right stop of an unzoomed bar can stay live."""
        v0, v1 = self.view_range()
        f = min(max(float(fraction), 0.0), 1.0)
        return v1 if f >= 1.0 else v0 + f * (v1 - v0)

    def _clamped_view(self, lo: float, hi: float) -> tuple[float, float] | None:
        tl = self.timeline
        if tl.span <= 0:
            return None
        width = min(max(hi - lo, MIN_VIEW_SPAN), tl.span)
        if width >= tl.span:
            return None
        if lo >= tl.end - width:
            return (tl.end - width, tl.end)  # exactly at the end, so the window can track it
        lo = max(lo, tl.start)
        return (lo, lo + width)

    def _set_view(self, view: tuple[float, float] | None) -> None:
        self._view = view
        self._apply_view()

    def _apply_view(self) -> None:
        """Show the visible window: axis, markers, loop band, handle; announce a change."""
        v0, v1 = self.view_range()
        self.slider.set_axis(v0, v1, self.tz)
        self.fit_button.setEnabled(self._view is not None)
        self._update_markers()
        self._update_review_marks()
        self._update_gaps()
        self._update_predictions()
        self._on_loop(self.timeline.loop)
        self._sync_slider()
        if (v0, v1) != self._shown_view:
            self._shown_view = (v0, v1)
            self.viewChanged.emit(v0, v1)

    def _keep_in_view(self, t: float) -> None:
        """A current time that left a zoomed window (playback, a step, Home) pages it along,
        leaving the time :data:`PAGE_AT` of the width inside the edge it crossed.

        Not while live: the user may zoom into the past while data keeps arriving, and each new
        sample would yank the window back to the end (an arrow at the edge shows where it is).
        """
        if self._view is None or self.timeline.live:
            return
        lo, hi = self._view
        w = hi - lo
        if t < lo:
            self._set_view(self._clamped_view(t - (1 - PAGE_AT) * w, t + PAGE_AT * w))
        elif t > hi:
            self._set_view(self._clamped_view(t - PAGE_AT * w, t + (1 - PAGE_AT) * w))

    def _on_zoom_requested(self, factor: float, fraction: float) -> None:
        self.zoom(factor, self._time_at(fraction))

    def _on_pan_requested(self, fraction: float) -> None:
        v0, v1 = self.view_range()
        self.pan(fraction * (v1 - v0))

    # -- model -> view -------------------------------------------------------------------------
    def _sync_slider(self) -> None:
        t = self.timeline.current
        v0, v1 = self.view_range()
        self.slider.blockSignals(True)  # the model is the truth: no echo back into it
        self.slider.setValue(round(self._fraction(t) * SLIDER_STEPS))
        self.slider.blockSignals(False)
        self.slider.set_outside(-1 if t < v0 else 1 if t > v1 else 0)
        self.slider.update()

    def _on_time(self, _t: float | None = None) -> None:
        tl = self.timeline
        self._keep_in_view(tl.current)
        self._sync_slider()
        self.time_label.setText(format_time(tl.current, self.tz))
        utc = datetime.fromtimestamp(tl.current, timezone.utc)
        self.time_label.setToolTip(
            "The simulation result's own time (its solution time)"
            if isinstance(self.tz, SimulationTime)
            else f"{utc:%Y-%m-%d %H:%M:%S}.{utc.microsecond // 100_000} UTC\n"
            f"{tl.current:.3f} s since 1970 (Unix time)"
        )
        self._update_behind()

    def _on_range(self, _start: float | None = None, _end: float | None = None) -> None:
        tl = self.timeline
        old_end = self._held[1]
        self._held = (tl.start, tl.end)
        if self._view is not None:
            lo, hi = self._view
            if hi < tl.start or lo > tl.end:
                self._view = None  # other data altogether (a new project, an import): show all
            else:
                if hi >= old_end and tl.end > old_end:  # the window showed the end: track it
                    lo, hi = lo + tl.end - hi, tl.end
                self._view = self._clamped_view(lo, hi)
        enabled = tl.span > 0
        for w in (self.slider, self.step_back, self.step_forward, self.play_button):
            w.setEnabled(enabled)
        self._update_range_tip()
        self._apply_view()
        self._on_time()
        self._on_live(tl.live)

    def _update_range_tip(self) -> None:
        tl = self.timeline
        self.slider.setToolTip(
            f"{format_time(tl.start, self.tz)}  →  {format_time(tl.end, self.tz)}\n{ZOOM_HELP}"
        )

    def _on_live_changed(self, live: bool) -> None:
        if live and self._view is not None and self._view[1] < self.timeline.end:
            w = self._view[1] - self._view[0]  # back to live: show the edge, and track it
            self._set_view(self._clamped_view(self.timeline.end - w, self.timeline.end))
        self._on_live(live)

    def _on_live(self, live: bool) -> None:
        self.live_button.setChecked(live and self._live_available)
        self._update_behind()

    def _on_loop(self, loop: tuple[float, float] | None) -> None:
        self.loop_button.setChecked(loop is not None)
        v0, v1 = self.view_range()
        if loop is None or loop[1] < v0 or loop[0] > v1:
            self.slider.set_loop(None)
        else:
            self.slider.set_loop((self._fraction(loop[0]), self._fraction(loop[1])))

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
        if not self._live_available:
            self.behind_label.setText("")  # hidden too: no live edge to be behind
        elif tl.live:
            self.behind_label.setText("LIVE")
            self.behind_label.setStyleSheet(f"color: {LIVE_GREEN.name()}; font-weight: bold;")
        else:
            self.behind_label.setText(format_behind(tl.behind))
            self.behind_label.setStyleSheet(f"color: {BEHIND_AMBER.name()};")

    def _update_markers(self) -> None:
        t = self._marker_times
        v0, v1 = self.view_range()
        idx = np.flatnonzero((t >= v0) & (t <= v1))
        fr = (t[idx] - v0) / (v1 - v0) if v1 > v0 else np.ones(len(idx))
        self.slider.set_markers(fr, [self._marker_colours[i] for i in idx])

    def _update_gaps(self) -> None:
        v0, v1 = self.view_range()
        if not v1 > v0:
            spans: list[GapSpan] = []
        else:
            pixels = max(self.slider.x_of(1.0) - self.slider.x_of(0.0), 1.0)
            visible = [g for g in self._gaps if g.overlaps(v0, v1)]
            spans = merge_spans(visible, (v1 - v0) / pixels)
        self._gap_spans = spans
        self.slider.set_gaps([(self._fraction(s.start), self._fraction(s.end)) for s in spans])

    # -- view -> model -------------------------------------------------------------------------
    def _on_slider(self, value: int) -> None:
        self.timeline.current = self._time_at(value / SLIDER_STEPS)

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
        t = self._time_at(fraction)
        pos = self.slider.mapToGlobal(self.slider.rect().topLeft())
        pos.setX(pos.x() + round(self.slider.x_of(fraction)))
        QToolTip.showText(pos, self.hover_text(t), self.slider)

    def hover_text(self, t: float) -> str:
        """The slider's tooltip at ``t``: the time, what a gap there misses, and the help."""
        gap = span_at(self._gap_spans, t)
        missing = f"\n{gap.tooltip()}" if gap is not None else ""
        return f"{format_time(t, self.tz)}{missing}{self._review_tip(t)}\n{ZOOM_HELP}"

    def _review_tip(self, t: float) -> str:
        """The tips of the flags (review and other layers) drawn within a few pixels of ``t``."""
        if not self.slider.review_marks():
            return ""
        x = self.slider.x_of(self._fraction(t))
        near = [
            self._flag_tip(m.index)
            for xm, m in zip(self.slider.review_mark_xs(), self.slider.review_marks(), strict=True)
            if abs(xm - x) <= 6 and self._flag_tip(m.index)
        ]
        return "".join(f"\n{tip}" for tip in near[:5]) + (
            f"\n… {len(near) - 5} more" if len(near) > 5 else ""
        )

    def _on_live_clicked(self) -> None:
        if not self._live_available:
            return
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
            key = event.key()
            ours = key in self._KEYS and (key != Qt.Key.Key_L or self._live_available)
            if ours and mods == Qt.KeyboardModifier.NoModifier:
                event.accept()
                return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        tl = self.timeline
        key, shift = event.key(), bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            direction = -1 if key == Qt.Key.Key_Left else 1
            if shift:
                v0, v1 = self.view_range()
                tl.current = tl.current + direction * JUMP_FRACTION * (v1 - v0)
            else:
                self.step(direction)
        elif key == Qt.Key.Key_Home:
            tl.current = tl.start
        elif key == Qt.Key.Key_End:
            tl.current = tl.end
        elif key == Qt.Key.Key_Space:
            self.player.toggle()
        elif key == Qt.Key.Key_L and self._live_available:
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
        return QSize(900, super().sizeHint().height())


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
