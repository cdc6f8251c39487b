"""Editing a sensor's warning and alarm limits by dragging their lines on a chart.

Each limit a chart row draws is a :class:`LimitLine`. When the chart may edit the project
(:meth:`LimitDrag.set_editable`: the twin was opened from a project file), the lines can be
grabbed: the cursor turns into a vertical resize arrow, a tooltip says what dragging does, and
while the line moves it shows its value with the sensor's unit and the band follows it. On
release :func:`moved_limit` checks the new value (a high warning below the high alarm, a low one
above the low alarm, both within the sensor's range); a valid one is announced by
:attr:`LimitDrag.edited` (the charts feature writes it to the project file as an undoable
edit), an invalid one snaps back and :attr:`LimitDrag.rejected` says why.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor

from twinviewer.core.project import Limits, Sensor

if TYPE_CHECKING:
    from twinviewer.ui.charts.panel import ChartRow

LEVELS = ("warning", "alarm")
SIDES = ("low", "high")
#: Pixels of the drag step: a limit is rounded to a round number about this fine on screen.
STEP_FRACTION = 1 / 500


def format_limit(value: float, unit: str) -> str:
    """A limit as it is read: ``"62.5 degC"``, with no more digits than a person reads."""
    if not math.isfinite(value):
        return f"– {unit}".strip()
    text = f"{value:.6g}"
    return f"{text} {unit}".strip()


def limit_step(sensor: Sensor) -> float:
    """The round step a dragged limit snaps to: a power of ten about 1/500 of the range."""
    span = sensor.range[1] - sensor.range[0]
    return 10.0 ** math.floor(math.log10(span * STEP_FRACTION)) if span > 0 else 1.0


def snap(value: float, step: float) -> float:
    """``value`` rounded to a multiple of ``step`` (without binary noise: 62.5, not 62.50001)."""
    digits = max(0, -math.floor(math.log10(step))) if step > 0 else 6
    return round(round(value / step) * step, digits)


def moved_limit(sensor: Sensor, level: str, side: str, value: float) -> Sensor:
    """``sensor`` with its ``level`` (``"warning"``/``"alarm"``) ``side`` (``"low"``/``"high"``)
    limit moved to ``value``; ``ValueError`` saying why when the limits would not make sense.

    The rules: within the sensor's range; a warning nearer the normal values than its alarm
    (below it for a high limit, above it for a low one); a band's low below its high.
    """
    if level not in LEVELS or side not in SIDES:
        raise ValueError(f"no such limit {level}.{side}; expected warning/alarm . low/high")
    u = sensor.unit
    lo, hi = sensor.range
    if not math.isfinite(value):
        raise ValueError(f"{level}.{side} must be a number, got {value!r}")
    if not lo <= value <= hi:
        raise ValueError(
            f"{level}.{side} {format_limit(value, u)} is outside the range of {sensor.id} "
            f"({format_limit(lo, u)} to {format_limit(hi, u)})"
        )
    bands = {name: getattr(sensor, name) or Limits() for name in LEVELS}
    bands[level] = bands[level].model_copy(update={side: value})
    warning, alarm = bands["warning"], bands["alarm"]
    for name, band in bands.items():
        if band.low is not None and band.high is not None and band.low >= band.high:
            raise ValueError(
                f"{name}.low ({format_limit(band.low, u)}) must be below "
                f"{name}.high ({format_limit(band.high, u)})"
            )
    if warning.high is not None and alarm.high is not None and warning.high >= alarm.high:
        raise ValueError(
            f"the high warning ({format_limit(warning.high, u)}) must be below "
            f"the high alarm ({format_limit(alarm.high, u)})"
        )
    if warning.low is not None and alarm.low is not None and warning.low <= alarm.low:
        raise ValueError(
            f"the low warning ({format_limit(warning.low, u)}) must be above "
            f"the low alarm ({format_limit(alarm.low, u)})"
        )
    update: dict[str, Any] = {level: bands[level]}
    return Sensor.model_validate({**sensor.model_dump(), **update})


class _ValueLabel(pg.InfLineLabel):
    """The line's value in words, next to the line (shown while hovered or dragged)."""

    def __init__(self, line: LimitLine, **kwds: Any) -> None:
        self._describe = line.describe
        super().__init__(line, **kwds)

    def valueChanged(self) -> None:  # noqa: N802 (pyqtgraph's name)
        if not self.isVisible():
            return
        self.setText(self._describe(float(self.line.value())))
        self.updatePosition()


class LimitLine(pg.InfiniteLine):
    """One limit of one sensor (``level`` ``"warning"``/``"alarm"``, ``side`` ``"low"``/
    ``"high"``), drawn as a dashed horizontal line; draggable once :meth:`set_editable`."""

    def __init__(self, sensor: Sensor, level: str, side: str, value: float, colour: QColor):
        self.sensor = sensor
        self.level = level
        self.side = side
        self.step = limit_step(sensor)
        super().__init__(
            pos=float(value),
            angle=0,
            movable=False,
            pen=pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine),
            hoverPen=pg.mkPen(colour, width=3),
        )
        text = QColor(colour)
        text.setAlpha(255)
        self.label = _ValueLabel(self, position=0.04, anchors=[(0, 1), (0, 0)], color=text)
        self.label.fill = pg.mkBrush(30, 33, 38, 220)
        self.label.setVisible(False)
        self.label.setZValue(70)

    @property
    def key(self) -> str:
        return f"{self.level}.{self.side}"

    def describe(self, value: float) -> str:
        """``"warning high 62.5 degC"``: what the label shows at ``value``."""
        return f"{self.level} {self.side} {format_limit(snap(value, self.step), self.sensor.unit)}"

    def snapped(self) -> float:
        return snap(float(self.value()), self.step)

    def set_editable(self, on: bool) -> None:
        """Draggable (with a resize cursor and a tooltip saying so), or a plain line."""
        self.setMovable(on)
        if on:
            self.setCursor(Qt.CursorShape.SizeVerCursor)
            where = "an upper" if self.side == "high" else "a lower"
            self.setToolTip(
                f"{self.sensor.id}: {self.describe(float(self.value()))} ({where} limit)\n"
                f"Drag to change the {self.level} limit; Ctrl+Z undoes it"
            )
        else:
            self.unsetCursor()
            self.setToolTip("")

    def hoverEvent(self, ev: Any) -> None:  # noqa: N802 (pyqtgraph's name)
        super().hoverEvent(ev)
        self.label.setVisible(self.moving or self.mouseHovering)

    def mouseDragEvent(self, ev: Any) -> None:  # noqa: N802 (pyqtgraph's name)
        super().mouseDragEvent(ev)
        self.label.setVisible(self.moving or self.mouseHovering)


class LimitDrag(QObject):
    """The limit lines of a chart panel's rows: editable or not, and what a drag asks for.

    ``edited(before, after)`` carries the sensor before and after the drag; ``rejected(text)``
    why a drag was undone (the line is back where it was).
    """

    edited = Signal(object, object)
    rejected = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.editable = False
        self.rows: list[ChartRow] = []

    def attach(self, rows: Sequence[ChartRow]) -> None:
        """Take over the limit lines of these rows (a panel's new rows)."""
        self.rows = list(rows)
        for row in self.rows:
            for line in row.limit_lines.values():
                if isinstance(line, LimitLine):
                    line.sigPositionChanged.connect(self._follow(row))
                    line.sigPositionChangeFinished.connect(self._finish(row))
                    line.set_editable(self.editable)

    def set_editable(self, on: bool) -> None:
        """Whether the limits can be dragged (only when they can be written to a project)."""
        self.editable = bool(on)
        for line in self.lines():
            line.set_editable(self.editable)

    def lines(self, sensor_id: str | None = None) -> list[LimitLine]:
        """The limit lines shown (of one sensor)."""
        return [
            line
            for row in self.rows
            for line in row.limit_lines.values()
            if isinstance(line, LimitLine) and (sensor_id is None or row.sensor.id == sensor_id)
        ]

    def line(self, sensor_id: str, key: str) -> LimitLine | None:
        """The line of ``sensor_id``'s limit ``key`` (``"warning.high"``), if charted."""
        return next((x for x in self.lines(sensor_id) if x.key == key), None)

    def _follow(self, row: ChartRow) -> Callable[[LimitLine], None]:
        def moved(line: LimitLine) -> None:  # the bands follow the line being dragged
            if not line.moving or row.y_range is None:
                return
            limits = getattr(row.sensor, line.level) or Limits()
            tentative = limits.model_construct(**{**limits.model_dump(), line.side: line.snapped()})
            row.shown_sensor = row.sensor.model_construct(
                **{**dict(row.sensor), line.level: tentative}
            )
            row.clip_bands(*row.y_range)

        return moved

    def _finish(self, row: ChartRow) -> Callable[[LimitLine], None]:
        def finished(line: LimitLine) -> None:
            before = row.sensor
            old = getattr(getattr(before, line.level), line.side)
            value = line.snapped()
            row.shown_sensor = None
            if not self.editable or value == old:
                self._put_back(row, line, old)
                return
            try:
                after = moved_limit(before, line.level, line.side, value)
            except ValueError as exc:
                self._put_back(row, line, old)
                self.rejected.emit(f"{before.id}: limit not changed: {exc}")
                return
            line.setValue(value)
            self.edited.emit(before, after)

        return finished

    def _put_back(self, row: ChartRow, line: LimitLine, old: float) -> None:
        line.blockSignals(True)
        try:
            line.setValue(old)
        finally:
            line.blockSignals(False)
        line.label.setVisible(False)
        if row.y_range is not None:
            row.clip_bands(*row.y_range)
