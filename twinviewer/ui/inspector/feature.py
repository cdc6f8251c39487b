"""Inspector: the selected component's path, kind and state, and its sensors' values.

At a scrubbed time inside a data-quality gap of a sensor, its row says "data missing" (cause,
samples) instead of presenting the value held from before the gap as the value at that time.

Its buttons add a sensor to the selected component, or edit or remove one of its sensors, in
the project file (:mod:`twinviewer.core.project_edit`: comments kept). Each edit is an undoable
command on the window's Edit > Undo; after a write the twin is opened again from its file, with
the camera and the selection kept.

The dialog's component field is a name or a pattern, previewed as it is typed and outlined in
3D; *Pick in 3D* and a sensor row dropped onto a component are served by
:mod:`twinviewer.ui.inspector.binding`.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QMessageBox

from twinviewer.core.binding import reference_to
from twinviewer.core.colour import STATUS_LABELS, Status
from twinviewer.core.gaps import Gap
from twinviewer.core.project import load_project
from twinviewer.core.project_edit import add_sensors, remove_sensor
from twinviewer.predict.health import GOOD, POOR, HealthState
from twinviewer.session import TwinSession
from twinviewer.session.twin import is_project_file
from twinviewer.ui.feature import DockSpec, Feature
from twinviewer.ui.inspector.binding import BindingTool
from twinviewer.ui.inspector.sensor_dialog import SensorDialog
from twinviewer.ui.inspector.widget import QtInspector, SensorRow
from twinviewer.ui.project_edits import edit_project
from twinviewer.ui.timeline.predictions import crossing_label, format_duration, format_span
from twinviewer.ui.undo import UndoFeature
from twinviewer.ui.widgets.gaps import GapQuery, missing_text

if TYPE_CHECKING:
    from twinviewer.core.project import Sensor
    from twinviewer.ui.main_window import QtMainWindow

log = logging.getLogger(__name__)


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
        self.undo_stack = QUndoStack(self.inspector)
        self.dialog: SensorDialog | None = None
        self.binding = BindingTool(self)
        self.inspector.addRequested.connect(self.add_sensor)
        self.inspector.editRequested.connect(self.edit_sensor)
        self.inspector.removeRequested.connect(self.remove_sensor)

    def hosted(self) -> None:
        self.host.feature(UndoFeature).register(self.undo_stack, self.inspector)

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
        self.inspector.set_authoring(is_project_file(s.path))
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
        if self.dialog is not None:
            self.dialog.reject()

    # -- authoring: the component's sensors in the project file -------------------------------
    def _component(self) -> str | None:
        s = self.session
        if s is None or not self.workbench.selection:
            return None
        ids = s.component_ids(self.workbench.selection[:1])
        return ids[0] if ids else None

    def add_sensor(self) -> SensorDialog | None:
        """Open the dialog for a new sensor of the selected component (not modal)."""
        s = self.session
        component = self._component()
        if component is None or s is None:
            return None
        component = reference_to(s.project, s.model, self.workbench.selection[0])
        taken = [x.id for x in s.sensors]
        return self._open_dialog(
            SensorDialog(component, None, taken, self.host, s.project, s.model)
        )

    def edit_sensor(self, sensor_id: str) -> SensorDialog | None:
        """Open the dialog on the sensor ``sensor_id`` (not modal); no component need be
        selected (the unbound-sensor banner's *Fix…*)."""
        s = self.session
        k = s.sensor_index.get(sensor_id) if s is not None else None
        if s is None or k is None or not is_project_file(s.path):
            return None
        sensor = s.sensors[k]
        taken = [x.id for x in s.sensors]
        component = sensor.component or self._component() or ""
        return self._open_dialog(
            SensorDialog(component, sensor, taken, self.host, s.project, s.model)
        )

    def rebind(self, sensor_ids: list[str], index: int, confirm: bool = True) -> bool:
        """Bind sensors to model node ``index`` (a drop onto a component; undoable)."""
        return self.binding.rebind(sensor_ids, index, confirm)

    def _open_dialog(self, dialog: SensorDialog) -> SensorDialog:
        if self.dialog is not None:
            self.dialog.reject()
        self.dialog = dialog
        self.binding.attach(dialog)
        dialog.accepted.connect(lambda d=dialog: self._dialog_done(d))
        dialog.finished.connect(lambda _r, d=dialog: self._forget(d))
        dialog.open()
        return dialog

    def _forget(self, dialog: SensorDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()

    def _dialog_done(self, dialog: SensorDialog) -> None:
        sensor = dialog.sensor()
        if sensor is None or self.session is None:
            return
        old = dialog.original
        if old is not None and old.model_dump() == sensor.model_dump():
            return  # nothing changed: nothing to write or undo
        verb = "edit" if old is not None else "add"
        message = ""
        if old is not None and old.component != sensor.component:
            message = f"{sensor.id} → {sensor.component or 'no component'}"
        self.write(old, sensor, f"{verb} sensor {sensor.id}", message)

    def remove_sensor(self, sensor_id: str, confirm: bool = True) -> None:
        """Remove the sensor ``sensor_id`` from the project (after asking, unless told not to)."""
        s = self.session
        k = s.sensor_index.get(sensor_id) if s is not None else None
        if s is None or k is None:
            return
        if confirm:
            answer = QMessageBox.question(
                self.host,
                "Remove sensor",
                f"Remove the sensor {sensor_id} from {s.path.name}? (Edit > Undo brings it back)",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.write(s.sensors[k], None, f"remove sensor {sensor_id}")

    def write(
        self, before: Sensor | None, after: Sensor | None, text: str, message: str = ""
    ) -> bool:
        """``before`` (None: a new sensor) becomes ``after`` (None: removed) in the project
        file, as one undoable step named ``text``; the twin opens again with ``message`` in
        the status bar. Whether it was written."""
        s = self.session
        if s is None:
            return False
        path = Path(s.path)
        kept: dict[str, str] = {}
        return edit_project(
            self.host,
            self.undo_stack,
            text,
            lambda: write_sensor(path, before, after, kept),
            lambda: write_sensor(path, after, before, kept),
            message,
        )


def write_sensor(path: Path, old: Sensor | None, new: Sensor | None, kept: dict[str, str]) -> None:
    """``old`` (None: there is none) becomes ``new`` (None: removed) in the project file. A
    removed sensor's OPC UA node ids go into ``kept`` ({source id: node id}) and come back
    with it."""
    if new is None:
        assert old is not None
        kept.update(remove_sensor(path, old.id).bindings)
        return
    nodes = None
    if old is None and kept:  # a removed sensor comes back with its bindings
        project, _ = load_project(path)
        have = {x.id: x for x in project.sources if x.type == "opcua"}
        nodes = {
            src: {**getattr(have[src], "nodes", {}), new.id: node}
            for src, node in kept.items()
            if src in have
        }
    add_sensors(path, [new], nodes)
