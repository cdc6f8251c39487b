"""``twinviewer bench predict``: training time and scoring throughput of the prediction layer.

A plant of 10,000 sensors (quick: 1,000) in components of four (current, vibration, bearing
temperature, flow following a shared load with component-specific lags and noise) is recorded
for 10 minutes at 1 Hz into an embedded history store, and the models of normal behaviour are
trained on it. Then one minute of the same plant at 10 Hz (100,000 samples/s; quick: 10,000) is
scored the way the window does it, in one-second chunks:

* ``scoring``: :class:`~twinviewer.predict.scoring.HealthScorer` alone (last values, two-scale
  trends of every sensor, every group's detector once a second), beside the alarm log's pass
  over the same chunks (:class:`~twinviewer.core.alarms.AlarmLog`, the cheapest per-sample
  work the window already does);
* ``scoring + store``: the :class:`~twinviewer.session.prediction.PredictionService` reading the
  history store, scoring and writing the predictions store, as live.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from twinviewer.bench.figures import Figure

RATE = 10.0  # Hz per sensor while scoring
KINDS = ("current", "vibration", "temperature", "flow")


def _project(n_components: int):  # noqa: ANN202 (a Project; imported lazily)
    from twinviewer.core.project import ModelRef, Project, Sensor

    sensors = [
        Sensor(
            id=f"c{c:05d}_{kind}",
            quantity=kind,
            unit="-",
            component=f"c{c:05d}",
            range=(0.0, 200.0),
            warning={"high": 150.0},
            alarm={"high": 180.0},
        )
        for c in range(n_components)
        for kind in KINDS
    ]
    return Project(name="bench plant", models=[ModelRef(path="bench.glb")], sensors=sensors)


def _plant(t: np.ndarray, n_components: int, seed: int) -> np.ndarray:
    """(len(t), 4 * n_components) values: each component's four sensors follow its load."""
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0, 2 * np.pi, n_components)
    load = 0.5 + 0.3 * np.sin(2 * np.pi * t[:, None] / 120.0 + phase[None, :])
    gains = np.array([80.0, 6.0, 40.0, 100.0])
    base = np.array([20.0, 1.0, 30.0, 10.0])
    X = base[None, None, :] + gains[None, None, :] * load[:, :, None]
    X += rng.normal(0, 0.5, X.shape)
    return X.reshape(len(t), -1)


def _append(store, t: np.ndarray, X: np.ndarray) -> None:  # noqa: ANN001
    from twinviewer.core.samples import SampleBatch

    n, p = X.shape
    store.append(SampleBatch.of(np.tile(np.arange(p), n), np.repeat(t, p), X.ravel()))


def bench_predict(quick: bool) -> list[Figure]:
    from twinviewer.core.alarms import AlarmLog
    from twinviewer.core.colour import SensorRules
    from twinviewer.history.store import HistoryStore
    from twinviewer.predict.scoring import HealthScorer
    from twinviewer.predict.train import train, training_matrix
    from twinviewer.session.prediction import PredictionService

    n_comp = 250 if quick else 2500
    project = _project(n_comp)
    ids = [s.id for s in project.sensors]
    n = len(ids)
    t0 = 1.8e9
    figs: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="twinviewer-bench-predict-") as tmp:
        folder = Path(tmp)
        history = HistoryStore.open(folder / "plant.history", ids)
        train_t = t0 + np.arange(0.0, 600.0, 1.0)
        _append(history, train_t, _plant(train_t - t0, n_comp, 1))
        history.flush()

        started = time.perf_counter()
        training_matrix(history, ids, t0, t0 + 600.0, 1.0)
        read_s = time.perf_counter() - started
        started = time.perf_counter()
        models = train(project, history, "0", "600")
        train_s = time.perf_counter() - started
        figs.append(
            Figure(
                f"predict train ({n:,} sensors)",
                train_s,
                "s",
                "report (no target)",
                read_s,
                "reading the 10 min window alone",
                f"{len(models.groups):,} T2/Q models of 4 sensors, 600 rows each",
            )
        )

        # one minute at 10 Hz, in one-second chunks
        score_t = t0 + 600.0 + np.arange(0.0, 60.0, 1.0 / RATE)
        X = _plant(score_t - t0, n_comp, 2)
        chunks = []
        for k in range(60):
            rows = slice(int(k * RATE), int((k + 1) * RATE))
            tt, xx = score_t[rows], X[rows]
            m = len(tt)
            chunks.append((np.tile(np.arange(n), m), np.repeat(tt, n), xx.ravel(), float(tt[-1])))
        samples = sum(len(c[0]) for c in chunks)
        scorer = HealthScorer(models, ids, project.prediction.step, project.prediction.trend_window)
        started = time.perf_counter()
        for s, t, v, until in chunks:
            scorer.feed(s, t, v, until)
        score_s = time.perf_counter() - started
        alarms = AlarmLog(SensorRules.from_sensors(project.sensors))
        started = time.perf_counter()
        for s, t, v, _ in chunks:
            alarms.feed(s, t, v)
        alarm_s = time.perf_counter() - started
        figs.append(
            Figure(
                f"predict scoring ({n:,} sensors)",
                samples / score_s,
                "samples/s",
                ">= 100,000 samples/s for 10,000 sensors",
                samples / alarm_s,
                "alarm log over the same chunks",
                f"{scorer.ticks} ticks, {len(models.groups):,} groups scored per tick",
            )
        )

        # the live path: read the history, score, store the predictions
        for s, t, v, _ in chunks:
            from twinviewer.core.samples import SampleBatch

            history.append(SampleBatch.of(s, t, v))
        history.flush()
        models.save(folder / "plant.models")
        pred_store = HistoryStore.open(folder / "plant.history" / "predictions", scorer.ids)
        service = PredictionService(project, models, history, pred_store)
        service.processed_until = t0 + 600.0
        service.scorer.skip_to(t0 + 600.0)
        started = time.perf_counter()
        for _, _, _, until in chunks:  # one pass a second, as the window's watcher does
            service.catch_up(until)
        service.flush()
        live_s = time.perf_counter() - started
        service.close()
        history.close()
        figs.append(
            Figure(
                "predict scoring + store",
                samples / live_s,
                "samples/s",
                ">= 100,000 samples/s for 10,000 sensors",
                samples / score_s,
                "scoring alone",
                f"1 s passes: history read, {len(scorer.ids):,} series written per tick",
            )
        )
    return figs
