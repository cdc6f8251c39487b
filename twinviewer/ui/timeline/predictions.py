"""Predicted limit crossings as the views show them, without Qt: when, how sure, and the words.

The models' view at the shown time (``workbench.health``, a
:class:`~twinviewer.predict.health.HealthState`) forecasts when the trend of a departing sensor
reaches its warning or alarm limit, in seconds after the state's time with a 95% interval.
:func:`predicted_crossings` turns that into absolute times with the sensor's names, which the
timeline (markers in its *predicted* zone) and the charts (ticks on the forecast band) label
with the same text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from twinviewer.core.colour import Status

if TYPE_CHECKING:
    from twinviewer.core.colour import SensorRules
    from twinviewer.core.project import Sensor
    from twinviewer.predict.health import Crossing, HealthState


@dataclass(frozen=True)
class Predicted:
    """A forecast crossing of one sensor's limit, in absolute times (seconds since the epoch).

    ``late`` is ``inf`` when the slow end of the interval never reaches the limit.
    """

    sensor: int  # project sensor index
    sensor_id: str
    name: str
    unit: str
    level: int  # Status.WARNING or Status.ALARM
    limit: float
    origin: float  # the state's time: "now" of the forecast
    time: float  # expected
    early: float
    late: float
    upper: bool = True  # an upper limit (the trend rises to it), else a lower one

    @property
    def is_alarm(self) -> bool:
        return self.level == Status.ALARM

    @property
    def kind(self) -> str:
        return "alarm" if self.is_alarm else "warning"

    def label(self, now: float | None = None) -> str:
        """``"alarm in 73 s (42–109 s)"``, counted from ``now`` (default: the state's time)."""
        return crossing_label(self.kind, self.time, self.early, self.late, self.origin, now)

    def tooltip(self, when: str = "") -> str:
        """What the marker's tooltip says: sensor, level, interval and limit; ``when`` is the
        expected time formatted by the caller (in the project's zone)."""
        title = f"{self.sensor_id} · {self.name}" if self.name else self.sensor_id
        at = f" (at {when})" if when else ""
        limit = f"{self.limit:g} {self.unit}".strip()
        span = format_span(self.early - self.origin, self.late - self.origin)
        return (
            f"Predicted {self.kind}: {title}\n"
            f"expected in {format_duration(self.time - self.origin)}{at}, "
            f"95% interval {span}\n"
            f"when its trend reaches the {self.kind} limit {limit}"
        )


def format_duration(seconds: float) -> str:
    """``"45 s"``, ``"4 min 10 s"``, ``"2 h 05 min"``, ``"3.2 d"``; ``"∞"`` for no end."""
    if not math.isfinite(seconds):
        return "∞"
    s = max(0.0, seconds)
    if s < 119.5:
        return f"{s:.0f} s"
    if s < 3600:
        m, r = divmod(int(round(s)), 60)
        return f"{m} min {r:02d} s" if m < 10 else f"{m} min"
    if s < 86400:
        h, r = divmod(int(round(s / 60)), 60)
        return f"{h} h {r:02d} min"
    return f"{s / 86400:.1f} d"


def format_span(early: float, late: float) -> str:
    """``"42–109 s"`` (one unit when both fit it), else ``"42 s–2 h 05 min"``."""
    a, b = format_duration(early), format_duration(late)
    if a.endswith(" s") and b.endswith(" s") and " min" not in a + b:
        return f"{a[:-2]}–{b}"
    if math.isinf(late):
        return f"{a} or later"
    return f"{a}–{b}"


def crossing_label(
    kind: str, time: float, early: float, late: float, origin: float, now: float | None = None
) -> str:
    """``"alarm in 73 s (42–109 s)"``; ``"alarm due (…)"`` once ``now`` is past the time."""
    now = origin if now is None else now
    span = format_span(max(early - now, 0.0), late - now)
    if time <= now:
        return f"{kind} due ({span})"
    return f"{kind} in {format_duration(time - now)} ({span})"


def from_crossing(c: Crossing, origin: float, sensor: Sensor, level: float) -> Predicted:
    """``c`` in absolute times; ``level`` is the sensor's trend level at ``origin``."""
    return Predicted(
        sensor=c.sensor,
        sensor_id=sensor.id,
        name=sensor.name or "",
        unit=sensor.unit,
        level=int(c.level),
        limit=float(c.limit),
        origin=origin,
        time=origin + float(c.expected),
        early=origin + float(c.early),
        late=origin + float(c.late),
        upper=not float(c.limit) < level,
    )


def predicted_crossings(
    state: HealthState | None,
    sensors: list[Sensor],
    rules: SensorRules,
    horizon: float,
) -> list[Predicted]:
    """Every forecast crossing of a warning or alarm limit within ``horizon`` by a departing
    sensor with a finite trend, soonest first; none without a state."""
    if state is None or not math.isfinite(state.time):
        return []
    out = []
    for c in state.crossings(rules, horizon):
        if 0 <= c.sensor < len(sensors) and math.isfinite(c.expected):
            level = float(state.trend.level[c.sensor])
            out.append(from_crossing(c, state.time, sensors[c.sensor], level))
    return out


__all__ = [
    "Predicted",
    "crossing_label",
    "format_duration",
    "format_span",
    "predicted_crossings",
]
