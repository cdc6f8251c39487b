"""What a review report says, gathered from an open twin at a moment and over a time window.

:class:`ReportBuilder` takes a :class:`~twinviewer.session.TwinSession` and its history store
and collects, without Qt, a :class:`ReportContent`: the twin's state at the moment ``at``
(every component, its sensors' values and status), snapshots of the chosen views, charts of
the sensors that alarmed in the window (and of those asked for), the alarm and event list of
the window, measured-versus-simulated tables of the overlays, a data-quality summary, the
review's issues (with their snapshots) and measurements. Writing it out is
:mod:`twinviewer.report.html` and :mod:`twinviewer.report.pdf`.

The builder colours a session of its own that shares the twin's project and model (read-only),
so a report built beside the window does not disturb what the window shows. Snapshots use
VTK's off-screen rendering and are drawn one by one (:meth:`ReportBuilder.snapshot`) by the
caller's thread, which in the window is the GUI thread; everything else
(:meth:`ReportBuilder.gather`) only reads the store and may run on a worker thread.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from dataclasses import field as _field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from twinviewer.core.alarms import Acknowledgements, AlarmLog, catch_up
from twinviewer.core.colour import STATUS_LABELS, Status
from twinviewer.core.gaps import Gap
from twinviewer.review import Issue, Measurement
from twinviewer.session import TwinSession
from twinviewer.session.headless import Camera

if TYPE_CHECKING:
    from twinviewer.history.postgres import PostgresHistoryStore
    from twinviewer.history.store import HistoryStore

    Store = HistoryStore | PostgresHistoryStore

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
Cancel = Callable[[], bool] | None
DEFAULT_WINDOW = 3600.0  # s: the window when only the moment is given (clipped to the history)
ALARM_LOOKBACK = 86400.0  # s before the window read to find alarms that started before it
MAX_CHARTS = 12  # sensors charted: the alarmed ones first, then those asked for
CHART_POINTS = 900  # buckets per chart (about two per pixel of the printed width)
ACKS_FILE = "acknowledged.json"  # the alarm list's acknowledgements, in the history folder
OPEN_STATUSES = ("open", "in_progress")


class ReportCancelled(Exception):
    """The user cancelled the report while it was being built."""


@dataclass
class ReportOptions:
    """What to report. Times are epoch seconds; ``None`` takes the defaults: the moment is the
    end of the window or the newest sample, the window the hour up to the moment."""

    at: float | None = None
    start: float | None = None
    end: float | None = None
    views: Sequence[tuple[str, str | Camera]] = ()  # (label, saved/standard view or a camera)
    sensors: Sequence[str] = ()  # charted besides the sensors that alarmed in the window
    title: str | None = None
    author: str | None = None
    quantity: str | None = None  # colour the snapshots by this quantity
    size: tuple[int, int] = (1000, 600)  # snapshot pixels: ~140 dpi across an A4 page
    overlay_origin: float | None = None  # an overlay clock's 'session' origin (default: held)
    rejected: dict[str, dict[str, int]] | None = None  # live sources: id -> reason -> count


@dataclass
class Snapshot:
    label: str
    png: bytes


@dataclass
class SensorRow:
    id: str
    name: str
    quantity: str
    unit: str
    value: float  # NaN: no sample at or before the moment
    time: float  # of that sample (NaN: none)
    status: str  # normal, warning, alarm, stale, no data


@dataclass
class ComponentState:
    id: str
    status: str  # the worst of its sensors'
    sensors: list[SensorRow]


@dataclass
class Chart:
    sensor: str
    title: str
    unit: str
    png: bytes
    why: str  # "alarm", "warning", "selected"


@dataclass
class AlarmRow:
    sensor: str
    component: str
    level: str  # "alarm" or "warning"
    start: float
    end: float  # NaN: still at this level at the end of the window
    peak: float
    unit: str
    acknowledged: bool


@dataclass
class FidelityRow:
    sensor: str
    unit: str
    measured: float
    simulated: float
    abs_error: float
    rel_error: float
    passed: bool
    compared: bool


@dataclass
class FidelityTable:
    overlay: str
    field: str = ""
    unit: str = ""
    sim_time: float = math.nan
    tolerance: float = 0.05
    relative_to: str = "value"
    rows: list[FidelityRow] = _field(default_factory=list)
    compared: int = 0
    passed: int = 0
    error: str = ""  # the overlay could not be read or compared


@dataclass
class DataQuality:
    stale: list[str]  # sensors stale at the moment
    no_data: list[str]  # sensors with no sample at or before the moment
    gaps: list[Gap]  # recorded losses overlapping the window
    samples: int | None  # samples stored in the window (None: not counted)
    rejected: dict[str, dict[str, int]] | None  # by source and reason, when known
    rejected_note: str


@dataclass
class IssueEntry:
    issue: Issue
    snapshot: bytes | None


@dataclass
class ReportContent:
    """Everything a report shows, ready to be written as HTML or PDF."""

    title: str
    project: str
    model: str
    author: str
    created: float
    at: float
    start: float
    end: float
    timezone: str | None  # the project's display time zone (None: UTC)
    version: str
    held: tuple[float, float]
    colouring: str  # what the colours of the snapshots mean
    snapshots: list[Snapshot]
    components: list[ComponentState]
    components_without_sensors: int
    charts: list[Chart]
    alarms: list[AlarmRow]
    fidelity: list[FidelityTable]
    quality: DataQuality
    issues: list[IssueEntry]
    measurements: list[Measurement]
    units: dict[str, str] = _field(default_factory=dict)  # sensor id -> unit
    notes: list[str] = _field(default_factory=list)


def resolve_window(
    held: tuple[float, float], at: float | None, start: float | None, end: float | None
) -> tuple[float, float, float]:
    """The moment and the window ``(at, start, end)`` from what was asked and the range the
    history holds; ValueError with a message for the user when they make no sense."""
    t1 = end if end is not None else (at if at is not None else held[1])
    t = at if at is not None else t1
    t0 = start if start is not None else max(held[0], t1 - DEFAULT_WINDOW)
    first = _iso(held[0])
    if t < held[0]:
        raise ValueError(f"the moment {_iso(t)} is before the first recorded sample ({first})")
    if t1 < held[0]:
        raise ValueError(f"the window ends before the first recorded sample ({first})")
    if t0 >= t1:
        raise ValueError(f"the window must start before it ends ({_iso(t0)} to {_iso(t1)})")
    return t, t0, t1


class ReportBuilder:
    """Gathers a report of ``session`` from ``store`` (the session's own history store when
    None). Raises ValueError when there is no history or the moment is outside it."""

    def __init__(
        self, session: TwinSession, options: ReportOptions, store: Store | None = None
    ) -> None:
        store = store if store is not None else session.history
        if store is None:
            raise ValueError(f"{session.path}: no history to report on (a bare model?)")
        held = store.time_range()
        if held is None:
            raise ValueError(f"{session.path}: the history store holds no samples yet")
        self.store = store
        self.options = options
        self.held = held
        self.at, self.start, self.end = resolve_window(held, options.at, options.start, options.end)
        # a session of our own on the same (read-only) model: the window's colours stay put
        self.twin = TwinSession(session.project, session.folder, session.model, session.path)
        self.source = session
        if options.quantity is not None:
            self.twin.set_active_quantity(options.quantity)
        self.value, self.times = store.at(self.at)
        self.twin.update(self.at, self.value, self.times)
        views = list(options.views)
        if not views:
            first = session.project.views[0].name if session.project.views else "iso"
            views = [(first, first)]
        self.views = views
        self._check_views()
        self.book = session.open_review()  # here, on the caller's thread: the window shares it
        self.snapshots: list[Snapshot] = []
        self.notes: list[str] = []
        if self.book.error is not None:
            self.notes.append(f"the review file cannot be read: {self.book.error}")
        self.window_samples: int | None = None  # counted while the alarms are read

    def _check_views(self) -> None:
        from twinviewer.render.scene import STANDARD_VIEWS

        saved = [v.name for v in self.twin.project.views]
        for _label, view in self.views:
            if isinstance(view, str) and view not in saved and view not in STANDARD_VIEWS:
                names = ", ".join([*saved, *STANDARD_VIEWS])
                raise ValueError(f"unknown view {view!r}; expected one of {names}")

    # -- snapshots (the caller's thread: VTK) ----------------------------------------------------
    def snapshot(self, i: int) -> Snapshot:
        """Draw view ``i`` of :attr:`views` at the moment (kept in :attr:`snapshots`)."""
        from twinviewer.report.charts import png_bytes
        from twinviewer.report.text import fmt_time
        from twinviewer.session.headless import draw_image

        label, view = self.views[i]
        when = fmt_time(self.at, self._tz(), utc=True)
        image = draw_image(
            self.twin, self.options.size, view, self.twin.project.name, when=f"{label}   {when}",
            measurements=list(self.book.measurements),
        )  # fmt: skip
        shot = Snapshot(label, png_bytes(image))
        self.snapshots.append(shot)
        return shot

    def snapshot_all(self, progress: Progress | None = None, cancelled: Cancel = None) -> None:
        for i, (label, _) in enumerate(self.views):
            _check(cancelled)
            if progress:
                progress(i / len(self.views), f"Drawing the view {label}")
            self.snapshot(i)

    # -- the rest (any thread: reads the store) --------------------------------------------------
    def gather(self, progress: Progress | None = None, cancelled: Cancel = None) -> ReportContent:
        """Collect everything but the snapshots (taken by :meth:`snapshot` before)."""
        from twinviewer import __version__
        from twinviewer.report.charts import sensor_chart
        from twinviewer.session.review_book import default_author

        def step(f: float, text: str) -> None:
            _check(cancelled)
            if progress:
                progress(f, text)

        p = self.twin.project
        step(0.0, "Reading the alarms of the window")
        alarms, intervals = self._alarms()
        step(0.1, "Reading the sensors")
        components, bare = self._components()
        charted = self._charted(intervals)
        charts = []
        for k, (sid, why) in enumerate(charted):
            step(0.15 + 0.55 * k / max(1, len(charted)), f"Charting {sid}")
            s = self.twin.sensor_index[sid]
            sensor = p.sensors[s]
            t, vmin, vmax, vlast = self.store.series(s, self.start, self.end, CHART_POINTS)
            mine = intervals[intervals["sensor"] == s]
            png = sensor_chart(
                sensor, t, vmin, vmax, vlast, mine, self._gaps(sid), self.start, self.end,
                self.at, self._tz(),
            )  # fmt: skip
            title = f"{sensor.name or sid} ({sid})" if sensor.name else sid
            charts.append(Chart(sid, title, sensor.unit, png, why))
        step(0.7, "Comparing the overlays with the measurements")
        fidelity = [self._fidelity(o.name) for o in p.overlays]
        step(0.85, "Data quality")
        quality = self._quality()
        step(0.9, "The review")
        issues, measurements = self._review()
        step(1.0, "Gathered")
        m = self.twin.model
        files = ", ".join(r.path for r in p.models)
        return ReportContent(
            title=self.options.title or f"Review report: {p.name}",
            project=str(self.twin.path),
            model=f"{files}: {m.n_components:,} parts, {m.n_triangles:,} triangles",
            author=self.options.author or default_author(),
            created=time.time(),
            at=self.at,
            start=self.start,
            end=self.end,
            timezone=p.display.timezone,
            version=__version__,
            held=self.held,
            colouring=self._colouring(),
            snapshots=list(self.snapshots),
            components=components,
            components_without_sensors=bare,
            charts=charts,
            alarms=alarms,
            fidelity=fidelity,
            quality=quality,
            issues=issues,
            measurements=measurements,
            units={x.id: x.unit for x in p.sensors},
            notes=list(self.notes),
        )

    def _colouring(self) -> str:
        legend = self.twin.legend()
        if self.twin.active_quantity is None or legend is None:
            return "components coloured by their worst sensor, in % of its range"
        return f"components coloured by {legend.title}"

    def _tz(self) -> Any:
        from zoneinfo import ZoneInfo

        zone = self.twin.project.display.timezone
        return ZoneInfo(zone) if zone else None

    def _alarms(self) -> tuple[list[AlarmRow], np.ndarray]:
        sensors = self.twin.project.sensors
        log_ = AlarmLog(self.twin.rules)
        lookback = self.start - ALARM_LOOKBACK
        if lookback > self.held[0]:
            log_.processed_until = lookback
        ids = [s.id for s in sensors]
        catch_up(log_, self.store, ids, until=np.nextafter(self.start, -np.inf))
        self.window_samples = catch_up(log_, self.store, ids, until=self.end)  # all read anyway
        iv = log_.intervals()
        with np.errstate(invalid="ignore"):
            keep = (iv["start"] <= self.end) & ~(iv["end"] < self.start)
        iv = iv[keep]
        acks = self._acknowledgements()
        rows = []
        for r in iv:
            s = sensors[int(r["sensor"])]
            rows.append(
                AlarmRow(
                    sensor=s.id,
                    component=s.component or "",
                    level=STATUS_LABELS[Status(int(r["level"]))],
                    start=float(r["start"]),
                    end=float(r["end"]),
                    peak=float(r["peak"]),
                    unit=s.unit,
                    acknowledged=(s.id, float(r["start"])) in acks,
                )
            )
        return rows, iv

    def _acknowledgements(self) -> Acknowledgements:
        """The control room's (shared through a PostgreSQL history) when the twin has one,
        else the file the alarm list keeps beside the embedded store."""
        room = self.source.control_room
        if room is not None and self.store is self.source.history:
            return room.acks
        folder = getattr(self.store, "folder", None)
        return Acknowledgements(Path(folder) / ACKS_FILE if folder is not None else None)

    def _components(self) -> tuple[list[ComponentState], int]:
        sensors = self.twin.project.sensors
        state = self.twin.sensor_state
        by: dict[str, list[int]] = {}
        for k, s in enumerate(sensors):
            by.setdefault(s.component or "(no component)", []).append(k)
        out = []
        for cid, idx in by.items():
            rows = [
                SensorRow(
                    id=sensors[k].id,
                    name=sensors[k].name or "",
                    quantity=sensors[k].quantity,
                    unit=sensors[k].unit,
                    value=float(self.value[k]),
                    time=float(self.times[k]),
                    status=STATUS_LABELS[Status(int(state[k]))],
                )
                for k in idx
            ]
            worst = Status(int(max(state[k] for k in idx)))
            out.append(ComponentState(cid, STATUS_LABELS[worst], rows))
        return out, len(set(self.twin.project.components) - set(by))

    def _charted(self, intervals: np.ndarray) -> list[tuple[str, str]]:
        sensors = self.twin.project.sensors
        out: dict[str, str] = {}
        for r in intervals:  # sorted by start: the first to alarm first
            sid = sensors[int(r["sensor"])].id
            level = "alarm" if int(r["level"]) == Status.ALARM else "warning"
            if out.get(sid) != "alarm":
                out[sid] = level
        for sid in self.options.sensors:
            if sid not in self.twin.sensor_index:
                raise ValueError(f"no sensor {sid!r} in {self.twin.path}")
            out.setdefault(sid, "selected")
        chosen = list(out.items())
        if len(chosen) > MAX_CHARTS:
            self.notes.append(
                f"{len(chosen) - MAX_CHARTS} more sensors alarmed or were selected than are "
                f"charted here (the first {MAX_CHARTS})"
            )
        return chosen[:MAX_CHARTS]

    def _gaps(self, sensor: str | None = None) -> list[Gap]:
        return self.store.gaps(self.start, self.end, sensor)

    def _fidelity(self, name: str) -> FidelityTable:
        p = self.twin.project
        origin = self.options.overlay_origin
        try:
            sim = self.twin.overlay(name, self.held[0] if origin is None else origin)
            rows = sim.fidelity(
                self.at, self.value, p.sensors, p.fidelity.tolerance, p.fidelity.relative_to
            )
            sim_time, _ = sim.steps_at(self.at)
        except Exception as exc:  # a result that cannot be read: say so in the report
            log.warning("report: overlay %s: %s", name, exc)
            return FidelityTable(name, error=str(exc))
        out = FidelityTable(
            name,
            field=sim.field,
            unit=sim.unit or "",
            sim_time=float(sim_time),
            tolerance=p.fidelity.tolerance,
            relative_to=p.fidelity.relative_to,
        )
        for r in rows:
            s = p.sensors[int(r["sensor"])]
            out.rows.append(
                FidelityRow(
                    s.id, s.unit, float(r["measured"]), float(r["simulated"]),
                    float(r["abs_error"]), float(r["rel_error"]), bool(r["passed"]),
                    bool(r["compared"]),
                )
            )  # fmt: skip
        out.compared = sum(r.compared for r in out.rows)
        out.passed = sum(r.passed and r.compared for r in out.rows)
        return out

    def _quality(self) -> DataQuality:
        sensors = self.twin.project.sensors
        state = self.twin.sensor_state
        stale = [sensors[k].id for k in np.flatnonzero(state == Status.STALE)]
        no_data = [sensors[k].id for k in np.flatnonzero(state == Status.NO_DATA)]
        samples = self.window_samples
        rejected = self.options.rejected
        if rejected is not None:
            note = "counted by the live sources since the twin was opened"
        else:
            note = (
                "not recorded by this history: the sources count rejected samples by reason "
                "while they run (twinviewer record, the Data sources panel)"
            )
        return DataQuality(stale, no_data, self._gaps(), samples, rejected, note)

    def _review(self) -> tuple[list[IssueEntry], list[Measurement]]:
        book = self.book
        entries = []
        for issue in sorted(list(book.issues), key=lambda i: (i.created, i.id)):
            in_window = issue.time is not None and self.start <= issue.time <= self.end
            if issue.status not in OPEN_STATUSES and not in_window:
                continue
            png = None
            if issue.snapshot:
                path = book.snapshot_file(issue.snapshot)
                try:
                    png = path.read_bytes()
                except OSError as exc:
                    self.notes.append(f"issue {issue.title!r}: its snapshot is missing ({exc})")
            entries.append(IssueEntry(issue, png))
        return entries, list(book.measurements)


def _check(cancelled: Cancel) -> None:
    if cancelled is not None and cancelled():
        raise ReportCancelled("the report was cancelled")


def _iso(t: float) -> str:
    from datetime import datetime, timezone

    return (
        datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    )
