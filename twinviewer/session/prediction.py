"""The twin's predictions: trained models scored over its history, stored as series.

:class:`PredictionService` reads what the history gained since its last pass (the first pass
reads it all, from where the stored predictions end), scores it with a
:class:`~twinviewer.predict.scoring.HealthScorer` and appends the output to a second history
store, ``predictions/`` inside the history folder. Scrubbing back therefore shows what the
models said then, and a restart resumes where scoring stopped. Anomaly events (a group's score
above its limit for ``prediction.anomaly_hold`` seconds) are intervals of an
:class:`~twinviewer.core.alarms.AlarmLog` over the anomaly series. The window drives the
service from a worker thread; ``twinviewer predict`` drives it directly.
"""

from __future__ import annotations

import logging
import math
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from twinviewer.core.alarms import INTERVAL_DTYPE, AlarmLog, SampleReader
from twinviewer.core.colour import SensorRules, Status
from twinviewer.core.project import Project, project_stem
from twinviewer.core.samples import SampleBatch, read_after
from twinviewer.predict.health import HealthState, SeriesLayout, state_from_row
from twinviewer.predict.model_set import ModelSet
from twinviewer.predict.scoring import HealthScorer
from twinviewer.session.twin import history_folder

if TYPE_CHECKING:
    from twinviewer.history.store import HistoryStore

log = logging.getLogger(__name__)

WINDOW = 600.0  # seconds of history read per step of a catch-up
RUL_EVERY = 10.0  # seconds of data between two remaining-useful-life estimates
PREDICTIONS_FOLDER = "predictions"


def models_folder(project: Project, folder: Path, path: Path) -> Path:
    """``prediction.models``, or ``<project stem>.models`` beside the project file."""
    if project.prediction.models:
        return folder / project.prediction.models
    return folder / f"{project_stem(path)}.models"


def load_models(project: Project, folder: Path, path: Path) -> ModelSet | None:
    """The trained models, or None when none were trained (a broken set raises
    :class:`ModelFileError`)."""
    where = models_folder(project, folder, path)
    if not (where / "models.json").exists():
        return None
    return ModelSet.load(where)


def anomaly_rules(n_groups: int) -> SensorRules:
    """Limits of the anomaly series: a warning at 0.8 of the limit, an alarm past it."""
    nan = np.full(n_groups, np.nan)
    return SensorRules(
        lo=np.zeros(n_groups),
        hi=np.full(n_groups, 2.0),
        warn_low=nan.copy(),
        warn_high=nan.copy(),
        alarm_low=nan.copy(),
        alarm_high=np.ones(n_groups),
        stale_after=np.full(n_groups, np.inf),
        colormap=np.zeros(n_groups, np.int32),
        cmap_tables=np.zeros((1, 256, 4), np.uint8),
        deadband=np.full(n_groups, 0.1),
    )


class PredictionService:
    """Scores the history into the predictions store; answers "what did the models say at t"."""

    def __init__(
        self,
        project: Project,
        models: ModelSet,
        history: SampleReader,
        store: HistoryStore,
    ) -> None:
        self.project = project
        self.models = models
        self.history = history
        self.store = store
        self.sensor_ids = [s.id for s in project.sensors]
        pred = project.prediction
        self.scorer = HealthScorer(models, self.sensor_ids, pred.step, pred.trend_window)
        self.layout = self.scorer.layout
        self.hold = pred.anomaly_hold
        self.horizon = pred.horizon
        self.anomalies = AlarmLog(anomaly_rules(self.layout.G))
        self.processed_until = -math.inf
        #: remaining useful life per group at the newest scored time (refreshed by catch_up)
        self.rul_latest: dict[str, tuple[float, float, float]] = {}
        self._rul_at = -math.inf
        held = store.time_range()
        if held is not None:  # resume after what was scored before
            self.processed_until = held[1]
            self._replay_anomalies(held)
            self._warm_up(held[1])
        self._lock = threading.Lock()

    @classmethod
    def open(
        cls, project: Project, folder: Path, path: Path, history: SampleReader
    ) -> PredictionService | None:
        """The service of a project with trained models and a history; None otherwise."""
        if not project.prediction.enabled:
            return None
        models = load_models(project, folder, path)
        if models is None or not models.groups:
            return None
        from twinviewer.history.store import HistoryStore

        ids = SeriesLayout([g.id for g in models.groups], [s.id for s in project.sensors]).ids
        store = HistoryStore.open(history_folder(project, folder, path) / PREDICTIONS_FOLDER, ids)
        return cls(project, models, history, store)

    def _warm_up(self, end: float) -> None:
        """Rebuild the scorer's state (last values, trends) from the history before ``end``,
        where scoring stopped, without storing its output again: the latest state is then
        what was said at ``end``, and the trends go on from there."""
        span = 3.0 * self.project.prediction.trend_window
        s, t, v = self.history.read(end - span, end)
        index = {sid: i for i, sid in enumerate(self.sensor_ids)}
        to_proj = np.array([index.get(x, -1) for x in self.history.sensor_ids], np.int64)
        ps = to_proj[s] if len(s) else np.zeros(0, np.int64)
        keep = ps >= 0
        self.scorer.skip_to(end - span)
        self.scorer.feed(ps[keep], t[keep], v[keep], end)

    def _replay_anomalies(self, held: tuple[float, float]) -> None:
        ids = self.layout.ids
        index = {sid: i for i, sid in enumerate(ids)}
        to_layout = np.array([index.get(s, -1) for s in self.store.sensor_ids], np.int64)
        s, t, v = self.store.read(held[0] - 1.0, held[1])
        if len(s):
            j = to_layout[s]
            keep = (j >= 0) & (j < self.layout.G)
            self.anomalies.feed(j[keep], t[keep], v[keep])

    def catch_up(self, until: float | None = None) -> int:
        """Score what the history holds after the last pass, up to ``until`` (default: all of
        it). Returns the number of ticks scored."""
        with self._lock:
            ticks = 0
            for ps, t, v, top in read_after(
                self.history, self.sensor_ids, self.processed_until, until, WINDOW
            ):
                rows = self.scorer.feed(ps, t, v, top)
                if len(rows.times):
                    j, tt, vv = rows.columns()
                    self.store.append(SampleBatch(j, tt, vv))
                    g = j < self.layout.G
                    self.anomalies.feed(j[g].astype(np.int64), tt[g], vv[g])
                    ticks += len(rows.times)
                self.processed_until = top
            if ticks:
                self.store.flush()  # what was scored is what scrubbing reads, at once
            if self.models.rul and self.processed_until - self._rul_at >= RUL_EVERY:
                self._rul_at = self.processed_until
                try:
                    self.rul_latest = self.remaining_life(self.processed_until)
                except ValueError as exc:  # a model that no longer fits its sensors
                    log.warning("prediction: remaining useful life: %s", exc)
            return ticks

    # -- what the models said ------------------------------------------------------------------

    @property
    def latest(self) -> HealthState | None:
        return self.scorer.latest

    def state_at(self, t: float) -> HealthState | None:
        """The models' view at ``t`` (the stored tick at or before it)."""
        latest = self.scorer.latest
        if latest is not None and t >= latest.time:
            return latest
        row, when = self.store.at(t)
        if not np.isfinite(when).any():
            return None
        sc = self.scorer
        return state_from_row(
            self.layout,
            row,
            float(np.nanmax(when)),
            sc.sensor_group,
            (sc.normal_lo, sc.normal_hi),
            sc.untrained,
        )

    def anomaly_events(self) -> NDArray[np.void]:
        """Anomaly intervals (``INTERVAL_DTYPE``; ``sensor`` is the group index) lasting at least
        ``anomaly_hold`` seconds (open ones: held that long by now)."""
        iv = self.anomalies.intervals()
        if not len(iv):
            return np.zeros(0, INTERVAL_DTYPE)
        now = self.processed_until
        end = np.where(np.isnan(iv["end"]), now, iv["end"])
        keep = (iv["level"] == Status.ALARM) & (end - iv["start"] >= self.hold)
        return iv[keep]

    def remaining_life(self, t: float) -> dict[str, tuple[float, float, float]]:
        """Remaining useful life (estimate, lower, upper; seconds) of every modelled group at
        ``t``, from the history since its last failure."""
        from twinviewer.predict.degradation import remaining_life

        out = {}
        for entry in self.models.rul:
            r = remaining_life(entry, self.history, t, self.models.step)
            if r is not None:
                out[entry.group] = r
        return out

    def flush(self) -> None:
        self.store.flush()

    def close(self) -> None:
        self.store.close()


def simulated_history(project: Project, seconds: float, folder: Path) -> HistoryStore:
    """A history of the project's built-in simulator running healthy (its faults off) for
    ``seconds`` from t=0, in a store at ``folder``: a baseline to train on before any real
    data was recorded (the demos' models are trained this way)."""
    from twinviewer.core.project import SimulatorSource
    from twinviewer.history.store import HistoryStore
    from twinviewer.sources.simulator import simulate

    sim = next((s for s in project.sources if isinstance(s, SimulatorSource)), None)
    if sim is None:
        raise ValueError("the project has no simulator source to train on")
    if not seconds > 0:
        raise ValueError(f"the simulated training time must be positive, got {seconds}")
    batch = simulate(project, sim.model_copy(update={"faults": []}), seconds)
    store = HistoryStore.open(folder, [s.id for s in project.sensors])
    store.append(batch)
    store.flush()
    return store
