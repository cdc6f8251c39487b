"""An open twin without any GUI: project, model, bindings, live state, sources and colours.

The window, the headless renderer and the benchmarks all drive the same :class:`TwinSession`:
sources put batches on a queue from their threads; the owner calls :meth:`TwinSession.update`
once per frame on its own thread, which drains the queue and recomputes every colour in a few
vectorised numpy operations.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from twinviewer.core.binding import Binding, bind
from twinviewer.core.colour import (
    NEUTRAL,
    STATUS_COLOURS,
    STATUS_LABELS,
    SensorRules,
    Status,
    colormap_table,
    component_colours,
    component_status,
    normalise,
    sensor_colours,
    sensor_rank,
    sensor_status,
)
from twinviewer.core.gaps import Gap, GapLog
from twinviewer.core.model import ModelData
from twinviewer.core.project import (
    PROJECT_SUFFIXES,
    ModelRef,
    Project,
    load_project,
    project_stem,
)
from twinviewer.core.samples import BatchQueue, LatestState
from twinviewer.formats.registry import read_model
from twinviewer.session.motion import TwinPose
from twinviewer.sources.base import Source

if TYPE_CHECKING:
    from twinviewer.history.pg_spool import SpooledRecorder
    from twinviewer.history.postgres import PostgresHistoryStore
    from twinviewer.history.store import HistoryStore
    from twinviewer.session.commands import CommandService
    from twinviewer.session.control_room import ControlRoom
    from twinviewer.session.fleet import FleetState
    from twinviewer.session.prediction import PredictionService
    from twinviewer.session.review_book import ReviewBook
    from twinviewer.sim.overlay import SimOverlay
    from twinviewer.sim.result import SimResult

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]


def is_project_file(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(PROJECT_SUFFIXES)


def load_twin_project(path: str | Path) -> tuple[Project, Path]:
    """A project from a ``*.twin.yaml`` file, or a bare one around a model file or folder."""
    path = Path(path)
    if is_project_file(path):
        return load_project(path)
    project = Project(
        name=path.stem if path.is_file() else path.name, models=[ModelRef(path=path.name)]
    )
    return project, path.parent


def read_models(project: Project, folder: Path, progress: Progress | None = None) -> ModelData:
    """Read every model file of the project; several files become one model with a root each."""
    from twinviewer.core.model import ModelBuilder

    refs = project.models
    models = []
    for i, ref in enumerate(refs):
        path = (folder / ref.path).resolve() if not Path(ref.path).is_absolute() else Path(ref.path)

        def step(f: float, i: int = i, name: str = ref.path) -> None:
            if progress:
                progress((i + f) / len(refs), f"Reading {name}")

        models.append(read_model(path, step))
    if len(models) == 1:
        return models[0]
    # Merge several files: each file's components keep their ids (made unique across files).
    builder = ModelBuilder(", ".join(m.source for m in models))
    for m in models:
        remap: dict[int, int] = {}
        for j, c in enumerate(m.components):
            remap[j] = builder.add(c.name, remap.get(c.parent, -1), colour=c.colour)
        order = np.argsort(m.cell_component, kind="stable")  # triangles grouped by component
        ends = np.cumsum(np.bincount(m.cell_component, minlength=m.n_components))
        starts = ends - np.bincount(m.cell_component, minlength=m.n_components)
        for j in range(m.n_components):
            tri = m.triangles[order[starts[j] : ends[j]]]
            if len(tri):
                used, inv = np.unique(tri, return_inverse=True)
                builder.add_geometry(remap[j], m.points[used], inv.reshape(-1, 3))
    merged = builder.build(models[0].units)
    merged.warnings[:0] = [w for m in models for w in m.warnings]
    return merged


def create_sources(
    project: Project, folder: Path, speed: float | None = None, only: list[str] | None = None
) -> list[Source]:
    """The project's enabled live sources, or exactly the ones whose id or type is in
    ``only``; not yet started.

    Transports are imported here, when used, so that a missing optional package only
    matters to a project that needs it.
    """
    if only is not None:
        known = {c.id for c in project.sources} | {c.type for c in project.sources}
        unknown = [o for o in only if o not in known]
        if unknown:
            raise ValueError(
                f"no source {unknown[0]!r} in the project; it has: "
                + (", ".join(f"{c.id} ({c.type})" for c in project.sources) or "none")
            )
    sources: list[Source] = []
    for cfg in project.sources:
        chosen = cfg.enabled if only is None else (cfg.id in only or cfg.type in only)
        if not chosen:
            continue
        if cfg.type == "simulator":
            from twinviewer.sources.simulator import Simulator

            if speed is not None:
                cfg = cfg.model_copy(update={"speed": speed})
            sources.append(Simulator(project.sensors, cfg))
        elif cfg.type == "mqtt":
            from twinviewer.sources.mqtt import MqttFeed

            sources.append(MqttFeed(cfg, project.sensors, folder))
        elif cfg.type == "opcua":
            from twinviewer.sources.opcua import OpcUaFeed

            sources.append(OpcUaFeed(cfg, project.sensors, folder))
    return sources


def viewer_project(project: Project) -> Project:
    """The project as a viewer connects it while a recorder elsewhere holds the sources'
    sessions: an MQTT source with a fixed ``client_id`` connects as ``<client_id>-viewer-<n>``
    with a clean session. The broker allows one connection per client id, so a window with the
    recorder's id would take its connection (and its persistent session) over, and the two
    would push each other off in turn; a viewer wants the live values, not the session."""
    changed = []
    for c in project.sources:
        if c.type == "mqtt" and getattr(c, "client_id", None):
            viewer_id = f"{c.client_id}-viewer-{uuid.uuid4().hex[:6]}"
            log.info(
                "source %s: viewing as client %s (a recorder holds %s)",
                c.id,
                viewer_id,
                c.client_id,
            )
            c = c.model_copy(update={"client_id": viewer_id, "clean_start": True})
        changed.append(c)
    return project.model_copy(update={"sources": changed})


def history_folder(project: Project, folder: Path, path: Path) -> Path:
    """The project's store: ``history.path``, or ``<project stem>.history`` beside it."""
    if project.history.path:
        return folder / project.history.path
    return folder / f"{project_stem(path)}.history"


HISTORY_URL_ENV = "TWINVIEWER_HISTORY_URL"  # `twinviewer open --history URL` sets it


def history_url(project: Project, url: str | None = None) -> str | None:
    """The PostgreSQL URL to record into: ``url``, else ``$TWINVIEWER_HISTORY_URL``, else the
    project's ``history.url``; None means the embedded store."""
    return url or os.environ.get(HISTORY_URL_ENV) or project.history.url


def history_location(project: Project, folder: Path, path: Path, url: str | None = None) -> str:
    """Where the history is, for a summary: the store folder, or the URL without its password."""
    pg_url = history_url(project, url)
    if pg_url:
        from twinviewer.history.postgres import redact_url

        return redact_url(pg_url)
    return str(history_folder(project, folder, path))


def open_history(
    project: Project, folder: Path, path: Path, url: str | None = None, *, writer: bool = True
) -> HistoryStore | PostgresHistoryStore | None:
    """Open (or create) the project's history store; None for bare models or when disabled.

    A PostgreSQL URL (``url``, the environment, or the project's ``history.url``) selects the
    :class:`~twinviewer.history.postgres.PostgresHistoryStore`; ``writer=False`` opens that one
    read-only (no writer thread, no schema changes)."""
    if not is_project_file(path) or not project.history.enabled or not project.sensors:
        return None
    days = project.history.retention_days
    pg_url = history_url(project, url)
    if pg_url:
        from twinviewer.history.postgres import PostgresHistoryStore

        return PostgresHistoryStore.open(
            pg_url,
            [s.id for s in project.sensors],
            retention=days * 86400.0 if days else None,
            writer=writer,
            rollups=project.history.rollup_spec(),
        )
    from twinviewer.history.store import HistoryStore

    if project.history.rollups and writer:
        log.warning(
            "history: roll-ups (history.rollups) apply to a PostgreSQL history only; the "
            "embedded store of %s keeps its samples without them",
            path.name,
        )

    return HistoryStore.open(
        history_folder(project, folder, path),
        [s.id for s in project.sensors],
        retention=days * 86400.0 if days else None,
    )


@dataclass
class Legend:
    title: str
    table: NDArray[np.uint8]
    lo: float
    hi: float


class TwinSession:
    """Everything about an open twin that is not drawing."""

    #: Its times are a simulation result's solution seconds, not instants (a result by itself)
    simulation_time: bool = False

    def __init__(self, project: Project, folder: Path, model: ModelData, source_path: Path) -> None:
        self.fleet: FleetState | None = None  # a fleet's units (session/fleet.py), else None
        if project.fleet is not None:
            from twinviewer.session.fleet import FleetState

            self.fleet = FleetState(project, model)
            project = self.fleet.project  # the templates expanded for every listed unit
        self.project = project
        self.folder = folder
        self.path = source_path
        self.model = model
        self.binding: Binding = bind(project, model) if self.fleet is None else self.fleet.binding()
        self.sensors = project.sensors
        self.sensor_index = {s.id: i for i, s in enumerate(self.sensors)}
        self.rules = SensorRules.from_sensors(self.sensors)
        self.state = LatestState(len(self.sensors))
        self.queue = BatchQueue()
        self.gap_log = GapLog()  # losses the sources detected, until drain() records them
        self.live_gaps: list[Gap] = []  # every gap reported since the twin was opened
        self.sources: list[Source] = []
        self.history: HistoryStore | PostgresHistoryStore | None = None
        # writes into a PostgreSQL history go through a local spool (session/recording.py)
        self.recorder: SpooledRecorder | None = None
        self.history_url: str | None = None  # a PostgreSQL URL that overrides the project's
        self.prediction: PredictionService | None = None  # trained models scored over history
        self.review: ReviewBook | None = None  # the design review, once opened
        self.commands: CommandService | None = None  # commands to the asset, once opened
        self.control_room: ControlRoom | None = None  # shared state in a PostgreSQL history
        self.results: dict[str, SimResult] = {}  # overlay name -> its result, read already
        self.quantity_of = np.array([s.quantity for s in self.sensors], dtype=object)
        self.active_quantity: str | None = project.display.active_quantity
        if self.active_quantity not in self.quantities():
            self.active_quantity = None
        self._base = self._base_colours()
        n_c = model.n_components
        self.component_rgba = self._base.copy()
        self.component_state = np.zeros(n_c, np.int8)
        self.component_sensor = np.full(n_c, -1, np.int32)
        self.sensor_state = np.full(len(self.sensors), Status.NO_DATA, np.int8)
        self.sensor_rgba = np.tile(STATUS_COLOURS[Status.NO_DATA], (len(self.sensors), 1))
        self.shown_value, self.shown_time = self.state.value, self.state.time
        self.shown_now = time.time()
        self._rate_window: list[tuple[float, int]] = []
        idx = [i for i, s in enumerate(self.sensors) if s.position is not None]
        self._marker_sensors = np.asarray(idx, np.int32)
        self._marker_positions = np.array([self.sensors[i].position for i in idx], float).reshape(
            -1, 3
        )
        self.triangle_counts = model.triangle_counts()
        if self.fleet is not None:
            self.fleet.attach(self)
        # motion: moving parts (of the shown unit, in a fleet)
        if self.fleet is None:
            self.pose = TwinPose(project, model, self.sensor_index)
        else:
            self.pose = TwinPose(self.fleet.template_project, model, self.fleet.pose_index())

    @property
    def posed_points(self) -> NDArray[np.float32] | None:
        """The model's points as shown (parts moved by ``motion:``); None: nothing moves."""
        return self.pose.points

    # -- opening -------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, progress: Progress | None = None) -> TwinSession:
        """Open a project file, a model file, a folder of parts, or a simulation result by
        itself (:mod:`twinviewer.session.result_twin`).

        Raises :class:`~twinviewer.core.project.ProjectError`,
        :class:`~twinviewer.core.model.ModelReadError` or
        :class:`~twinviewer.sim.SimReadError` with a message for the user.
        """
        from twinviewer.session.result_twin import open_result_twin

        path = Path(path)
        twin = open_result_twin(path, progress)
        if twin is not None:
            return twin
        project, folder = load_twin_project(path)
        model = read_models(project, folder, progress)
        if progress:
            progress(1.0, "Binding sensors")
        return cls(project, folder, model, path)

    @property
    def base_colours(self) -> NDArray[np.uint8]:
        """Each component's colour when no sensor colours it."""
        return self._base

    def _base_colours(self) -> NDArray[np.uint8]:
        base = np.tile(NEUTRAL, (self.model.n_components, 1))
        for i, c in enumerate(self.model.components):
            if c.colour is not None and not self.sensors:
                base[i, :3] = np.clip(np.asarray(c.colour) * 255, 0, 255).astype(np.uint8)
        return base

    # -- sources -------------------------------------------------------------------------------
    def create_sources(
        self, speed: float | None = None, only: list[str] | None = None
    ) -> list[Source]:
        project = self.project
        if self.history_is_recorded_elsewhere():
            project = viewer_project(project)
        sources = create_sources(project, self.folder, speed, only)
        return sources if self.fleet is None else self.fleet.adapt_sources(sources)

    def history_is_recorded_elsewhere(self) -> bool:
        """The history is PostgreSQL and another process (``twinviewer record``) writes it:
        this twin only views."""
        from twinviewer.history.postgres import PostgresHistoryStore

        return isinstance(self.history, PostgresHistoryStore) and self.recorder is None

    def start_sources(self) -> None:
        for s in self.sources:
            s.start(self.queue.put, self.gap_log.add)

    def stop_sources(self) -> None:
        for s in self.sources:
            s.stop()

    # -- simulation overlays ---------------------------------------------------------------------
    def overlay(
        self, name: str, session_start: float, simulator_speed: float | None = None
    ) -> SimOverlay:
        """The project's overlay ``name``, read, placed and located on this twin. Its clock's
        ``session`` origin is ``session_start``; ``simulator`` scale one over the simulator's
        speed (``simulator_speed`` overrides the project's)."""
        from twinviewer.core.simclock import SimClock
        from twinviewer.core.simclock import simulator_speed as speed_of
        from twinviewer.sim.overlay import SimOverlay

        cfg = next((o for o in self.project.overlays if o.name == name), None)
        if cfg is None:
            names = ", ".join(repr(o.name) for o in self.project.overlays) or "none"
            raise ValueError(f"{self.path}: no overlay {name!r} (the project has: {names})")
        clock = SimClock.of(cfg.time, session_start, speed_of(self.project, simulator_speed))
        return SimOverlay(
            cfg, self.project, self.folder, self.model, self.binding, clock, self.results.get(name)
        )

    # -- history -------------------------------------------------------------------------------
    def open_history(self) -> HistoryStore | PostgresHistoryStore | None:
        """Record every accepted sample from now on (projects only, unless disabled). Into a
        PostgreSQL history through a local spool (:mod:`twinviewer.session.recording`) when this
        session is the writer."""
        if self.history is not None:
            return self.history
        url = history_url(self.project, self.history_url)
        project = self.project
        if url and is_project_file(self.path) and project.history.enabled and project.sensors:
            from twinviewer.session.recording import open_spooled_store

            days = project.history.retention_days
            self.history, self.recorder = open_spooled_store(
                url,
                [s.id for s in project.sensors],
                days * 86400.0 if days else None,
                project.history.rollup_spec(),
            )
        else:
            self.history = open_history(project, self.folder, self.path, self.history_url)
        return self.history

    def open_prediction(self) -> PredictionService | None:
        """Score the trained models over the history (None: no models, no history, or
        prediction disabled). A broken model set raises
        :class:`~twinviewer.predict.model_set.ModelFileError`."""
        if self.prediction is None and self.history is not None:
            from twinviewer.session.prediction import PredictionService

            self.prediction = PredictionService.open(
                self.project, self.folder, self.path, self.history
            )
        return self.prediction

    def open_control_room(self) -> ControlRoom | None:
        """The acknowledgements, review issues and audit trail shared through the history
        database (a PostgreSQL history only; :mod:`twinviewer.session.control_room`), made
        once. Raises ``ConnectionError`` when the database cannot be reached."""
        if self.control_room is None:
            from twinviewer.session.control_room import open_control_room

            self.control_room = open_control_room(self)
        return self.control_room

    def open_review(self) -> ReviewBook:
        """The design review kept beside the project (``<stem>.review/``), read once; its
        issues are the control room's when there is one. When its file cannot be read, an
        unsaved book whose ``error`` says why (the file is kept)."""
        if self.review is None:
            from twinviewer.review import ReviewFileError
            from twinviewer.session.control_room import SharedReviewBook
            from twinviewer.session.review_book import ReviewBook

            try:
                room = self.control_room
                self.review = (
                    ReviewBook(self.path) if room is None else SharedReviewBook(self.path, room)
                )
            except (ReviewFileError, ConnectionError) as exc:  # a bad file; the database away
                log.warning("review: %s; nothing will be saved to it", exc)
                self.review = ReviewBook.unsaved(self.path, str(exc))
        return self.review

    def open_commands(self) -> CommandService:
        """Commands to the asset (sign-in, checks, sending, audit), made once. A broken user
        file raises :class:`~twinviewer.core.users.UserFileError`."""
        if self.commands is None:
            from twinviewer.session.commands import CommandService

            self.commands = CommandService.for_session(self)
            if self.control_room is not None and not self.project.command_settings.audit:
                self.commands.audit = self.control_room.audit  # the control room's trail
        return self.commands

    def close(self) -> None:
        """Stop the sources, take in what they delivered last, and close the store."""
        if self.commands is not None:
            self.commands.close()
        self.stop_sources()
        self.drain()
        if self.prediction is not None:
            self.prediction.close()
            self.prediction = None
        if self.recorder is not None:
            self.recorder.close()  # transfers what it can, then closes the store
            self.recorder = None
        elif self.history is not None:
            self.history.close()
        self.history = None
        if self.control_room is not None:
            self.control_room.close()
            self.control_room = None

    # -- components by id ----------------------------------------------------------------------
    def component_ids(self, indices: Iterable[int]) -> list[str]:
        """The ids of these model components (indices out of range are left out)."""
        comps = self.model.components
        return [comps[i].id for i in indices if 0 <= i < len(comps)]

    def component_indices(self, ids: Iterable[str]) -> tuple[list[int], list[str]]:
        """The model components these ids name (a model node id, or a project component's
        nodes), without repeats, and the ids that name nothing in this twin."""
        out: list[int] = []
        unknown: list[str] = []
        for cid in ids:
            try:
                out.append(self.model.index_of(cid))
            except KeyError:
                nodes = self.binding.component_nodes.get(cid)
                if nodes:
                    out.extend(int(n) for n in nodes)
                else:
                    unknown.append(cid)
        return list(dict.fromkeys(out)), unknown

    def sensor_anchor(self, sensor: int) -> tuple[float, float, float] | None:
        """Where a sensor is in 3D: its ``position``, else the centre of the box of the
        components it colours; None when it has neither."""
        pos = self.sensors[sensor].position
        nodes = self.binding.sensor_nodes[sensor]
        if pos is not None:
            x, y, z = self.pose.place(pos, nodes)  # on a moving part: where it is now
            return (x, y, z)
        from twinviewer.render.pins import component_centre

        mid = component_centre(self.pose.shown_model(), nodes)
        return None if mid is None else (float(mid[0]), float(mid[1]), float(mid[2]))

    # -- the frame -----------------------------------------------------------------------------
    def quantities(self) -> list[str]:
        return sorted({s.quantity for s in self.sensors})

    def unit_of(self, quantity: str) -> str:
        units = sorted({s.unit for s in self.sensors if s.quantity == quantity})
        return "/".join(units)

    def set_active_quantity(self, quantity: str | None) -> None:
        if quantity is not None and quantity not in self.quantities():
            raise ValueError(f"no sensor measures {quantity!r}")
        self.active_quantity = quantity

    def drain(self) -> int:
        """Take in what the sources delivered since the last call; returns samples taken."""
        gaps = self.gap_log.drain()
        if gaps:
            self.live_gaps.extend(gaps)
            if self.recorder is not None:
                self.recorder.add_gaps(gaps)
            elif self.history is not None:
                self.history.add_gaps(gaps)
        batch = self.queue.drain()
        if self.fleet is not None:  # units the sources discovered: grow before taking samples
            self.fleet.grow(self)
        if batch is None:
            return 0
        self.state.apply(batch)
        if self.recorder is not None:
            self.recorder.append(batch)
        elif self.history is not None:
            self.history.append(batch)
        now = time.monotonic()
        self._rate_window.append((now, len(batch)))
        return len(batch)

    def gaps(
        self, t0: float | None = None, t1: float | None = None, sensor: str | None = None
    ) -> list[Gap]:
        """The data-quality gaps overlapping ``t0..t1`` (of ``sensor``, if given), oldest
        first: from the history when there is one (it holds this session's too), else the
        ones reported since the twin was opened."""
        if self.history is not None:
            return self.history.gaps(t0, t1, sensor)
        return [
            g
            for g in self.live_gaps
            if g.overlaps(t0, t1) and (sensor is None or not g.sensors or sensor in g.sensors)
        ]

    def samples_per_second(self) -> float:
        now = time.monotonic()
        self._rate_window = [(t, n) for t, n in self._rate_window if now - t <= 2.0]
        if not self._rate_window:
            return 0.0
        return sum(n for _, n in self._rate_window) / 2.0

    def update(
        self,
        now: float | None = None,
        value: NDArray[np.float64] | None = None,
        times: NDArray[np.float64] | None = None,
    ) -> None:
        """Recompute statuses and colours of every sensor and component at time ``now``.

        By default from the live state; a scrub passes the values and times the history held at
        ``now`` instead. What was used is kept in ``shown_value``/``shown_time`` for the panels.
        """
        now = time.time() if now is None else now
        value = self.state.value if value is None else value
        times = self.state.time if times is None else times
        self.shown_value, self.shown_time, self.shown_now = value, times, now
        status, rgba, shown, state = self._colour(value, times, now, self.component_rgba)
        self.component_sensor = shown
        self.component_state = state
        self.sensor_state = status
        self.sensor_rgba = rgba
        if self.fleet is not None:
            self.fleet.update(self, now)
        self.pose.update(value)  # moving parts follow the same values as colour

    def colours_for(
        self, value: NDArray[np.float64], times: NDArray[np.float64], now: float
    ) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
        """Component and sensor colours for other values (a scenario), by the same rules and
        the same active quantity, without touching what the session shows."""
        out = self._base.copy()
        _, rgba, _, _ = self._colour(value, times, now, out)
        return out, rgba

    def _colour(
        self,
        value: NDArray[np.float64],
        times: NDArray[np.float64],
        now: float,
        out: NDArray[np.uint8],
    ) -> tuple[NDArray[np.int8], NDArray[np.uint8], NDArray[np.int32], NDArray[np.int8]]:
        rules = self.rules
        status = sensor_status(rules, value, times, now)
        eligible = None
        lo = hi = None
        if self.active_quantity is not None:
            eligible = self.quantity_of == self.active_quantity
            lo_q, hi_q = self.quantity_range(self.active_quantity)
            lo = np.full(rules.n, lo_q)
            hi = np.full(rules.n, hi_q)
        rgba = sensor_colours(rules, value, status, lo, hi, self.legend_table())
        frac = normalise(value, rules.lo if lo is None else lo, rules.hi if hi is None else hi)
        rank = sensor_rank(status, frac)
        _, shown = component_colours(
            self.binding.colouring, rgba, rank, self._base, eligible, out=out
        )
        state = component_status(self.binding.colouring, status, eligible)
        return status, rgba, shown, state

    def quantity_range(self, quantity: str) -> tuple[float, float]:
        """One colour scale for every sensor of a quantity, so that one legend reads them all.

        The median of their ranges, not the union: one exhaust at 650 degC must not squeeze forty
        bearings into the bottom colour. Values beyond the scale take its end colours.
        """
        sel = self.quantity_of == quantity
        lo, hi = float(np.median(self.rules.lo[sel])), float(np.median(self.rules.hi[sel]))
        if hi <= lo:
            lo, hi = float(self.rules.lo[sel].min()), float(self.rules.hi[sel].max())
        return lo, hi

    def legend_table(self) -> NDArray[np.uint8]:
        """The one colour map in use: the display's, or the active quantity's (its first
        sensor's), so that the legend explains every coloured part."""
        q = self.active_quantity
        if q is None or not self.sensors:
            return colormap_table(self.project.display.colormap)
        return colormap_table(next(s.colormap for s in self.sensors if s.quantity == q))

    def legend(self) -> Legend | None:
        """The colour bar that explains what is drawn."""
        if not self.sensors:
            return None
        if self.active_quantity is None:
            return Legend("% of range", self.legend_table(), 0.0, 100.0)
        q = self.active_quantity
        lo, hi = self.quantity_range(q)
        title = f"{q.replace('_', ' ').capitalize()} [{self.unit_of(q)}]"
        return Legend(title, self.legend_table(), lo, hi)

    @staticmethod
    def status_legend() -> list[tuple[str, NDArray[np.uint8]]]:
        order = (Status.ALARM, Status.WARNING, Status.STALE, Status.NO_DATA, Status.UNBOUND)
        return [(STATUS_LABELS[s].capitalize(), STATUS_COLOURS[s]) for s in order]

    def sensor_positions(self) -> tuple[NDArray[np.int32], NDArray[np.float64]]:
        """Indices and positions of the sensors that have a 3D position (fixed per project,
        so computed once: the frame asks every 50 ms)."""
        return self._marker_sensors, self._marker_positions
