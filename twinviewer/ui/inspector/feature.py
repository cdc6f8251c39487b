"""Inspector: the selected component's path, kind and state, and its sensors' values.

At a scrubbed time inside a data-quality gap of a sensor, its row says "data missing" (cause,
samples) instead of presenting the value held from before the gap as the value at that time.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt

from twinviewer.core.colour import STATUS_LABELS, Status
from twinviewer.core.gaps import Gap
from twinviewer.predict.health import GOOD, POOR, HealthState
from twinviewer.session import TwinSession
from twinviewer.ui.feature import DockSpec, Feature
from twinviewer.ui.inspector.widget import QtInspector, SensorRow
from twinviewer.ui.timeline.predictions import crossing_label, format_duration, format_span
from twinviewer.ui.widgets.gaps import GapQuery, missing_text

if TYPE_CHECKING:
    from twinviewer.core.project import Sensor
    from twinviewer.ui.main_window import QtMainWindow


def fmt_value(v: float) -> str:
    """A reading with as many digits as a person reads at a glance."""
    if math.isnan(v):
        return "–"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


def fmt_limits(sensor: Sensor) -> str:
    """``warning / alarm`` limits as ``<low >high``, ``–`` where there is none."""
    limits = []
    for band in (sensor.warning, sensor.alarm):
        if band is None:
            limits.append("–")
        else:
            lo = f"<{band.low:g}" if band.low is not None else ""
            hi = f">{band.high:g}" if band.high is not None else ""
            limits.append(" ".join(x for x in (lo, hi) if x) or "–")
    return " / ".join(limits)


def health_properties(s: TwinSession, state: HealthState | None, sensors: list[int]) -> dict:
    """Health, anomaly score, the sensors that drive it and forecast crossings of a component's
    sensors (empty without trained models)."""
    if s.prediction is None or state is None or not sensors:
        return {}
    groups = sorted({int(state.sensor_group[k]) for k in sensors} - {-1})
    out: dict[str, str] = {}
    if groups:
        worst = min(groups, key=lambda g: float(np.nan_to_num(state.health[g], nan=101.0)))
        h, score = float(state.health[worst]), float(state.score[worst])
        if math.isfinite(h):
            verdict = "normal" if h >= GOOD else ("watch" if h >= POOR else "anomalous")
            out["Health"] = f"{h:.0f} / 100 ({verdict})"
            out["Anomaly score"] = f"{score:.2f} (limit 1.00)"
            tops = state.top_contributors(worst)
            if tops:
                out["Driven by"] = ", ".join(
                    f"{s.sensors[k].id} {100 * share:.0f}%" for k, share in tops
                )
    names = {s.sensors[k].component for k in sensors} | {
        g.id for i, g in enumerate(s.prediction.models.groups) if i in groups
    }
    for gid, (rul, lo, hi) in s.prediction.rul_latest.items():
        if gid in names:
            out["Remaining life"] = f"{format_duration(rul)} ({format_span(lo, hi)}), {gid}"
    want = set(sensors)
    for c in state.crossings(s.rules, s.prediction.horizon):
        if c.sensor in want:
            level = "alarm" if c.level == Status.ALARM else "warning"
            text = crossing_label(level, c.expected, c.early, c.late, 0.0)
            out["Forecast"] = f"{s.sensors[c.sensor].id}: {text}"
            break
    return out


class InspectorFeature(Feature):
    name = "inspector"

    def __init__(self, host: QtMainWindow) -> None:
        super().__init__(host)
        self.inspector = QtInspector()
        self._gap_query: GapQuery | None = None
        self._gap_twin: object = None
        self.workbench.events.selection.connect(lambda _sel: self.refresh())

    def docks(self) -> list[DockSpec]:
        return [
            DockSpec(
                "Inspector",
                self.inspector,
                Qt.DockWidgetArea.RightDockWidgetArea,
                size=(470, 330),
                minimum=(220, 120),
                scroll=True,  # the health rows must not grow a small window past its screen
            )
        ]

    def refresh(self) -> None:
        s = self.session
        selection = self.workbench.selection
        if s is None or not selection:
            self.inspector.clear()
            return
        i = selection[0]
        c = s.model.components[i]
        st = Status(int(s.component_state[i]))
        tri = int(s.triangle_counts[i])
        extra = f" (+{len(selection) - 1} more selected)" if len(selection) > 1 else ""
        props = {"Path": c.path, "Kind": c.kind, "Triangles": f"{tri:,}"}
        props["State"] = STATUS_LABELS[st]
        props.update(health_properties(s, self.workbench.health, s.binding.sensors_of(i)))
        self.inspector.set_component(c.id + extra, props)
        tz = self.host.time_zone
        gaps = self._gaps_now()
        rows = []
        for k in s.binding.sensors_of(i):
            sensor = s.sensors[k]
            t = s.shown_time[k]
            value = fmt_value(float(s.shown_value[k]))
            when = "–" if math.isnan(t) else datetime.fromtimestamp(t, tz).strftime("%H:%M:%S")
            row = SensorRow(
                sensor=sensor.id,
                quantity=sensor.quantity.replace("_", " "),
                value=value,
                unit=sensor.unit,
                time=when,
                status=Status(int(s.sensor_state[k])),
                limits=fmt_limits(sensor),
            )
            here = [g for g in gaps if g.covers(s.shown_now, sensor.id)]
            if here:
                held = f"{value} {sensor.unit}".strip() if value != "–" else "none"
                row.missing = missing_text(here)
                row.missing_tip = "\n".join(
                    [f"Last value before the gap: {held}" + (f" at {when}" if value != "–" else "")]
                    + [g.describe() for g in here]
                )
            rows.append(row)
        self.inspector.set_sensors(rows)

    def _gaps_now(self) -> list[Gap]:
        """The gaps holding the shown time, while scrubbing or replaying (live, the time shown
        is now: the latest sample is current, a gap is only reported once it has ended)."""
        s = self.session
        if s is None or self.workbench.timeline.live:
            return []
        if self._gap_query is None or self._gap_twin is not s:
            self._gap_query = GapQuery(s.gaps, lambda: len(s.live_gaps), margin=0.0)
            self._gap_twin = s
        t = s.shown_now
        return [g for g in self._gap_query.get(t, t) if g.covers(t)]

    def closed(self) -> None:
        self._gap_query, self._gap_twin = None, None
        self.inspector.clear()
