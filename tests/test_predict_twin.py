"""Prediction on a twin: trend forecasts, training from a history, incremental scoring into the
predictions store, model files, remaining useful life, and the ``twinviewer predict`` command."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import CORPUS, needs_corpus
from twinviewer.cli import main
from twinviewer.core.colour import SensorRules
from twinviewer.core.project import ProjectError, load_project
from twinviewer.core.samples import SampleBatch
from twinviewer.history.store import HistoryStore
from twinviewer.predict.forecast import Trend, TrendForecaster, crossing_times
from twinviewer.predict.health import HealthState, health_index
from twinviewer.predict.model_set import ModelFileError, ModelSet
from twinviewer.predict.train import sensor_groups, train
from twinviewer.session.prediction import PredictionService

T0 = 1.8e9

# -- trend forecasts ------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize(("rate", "noise"), [(0.05, 0.1), (0.2, 0.5), (-0.03, 0.05)])
def test_forecast_on_a_ramp_holds_the_true_crossing(seed: int, rate: float, noise: float) -> None:
    rng = np.random.default_rng(seed)
    f = TrendForecaster(1, tau=60.0)
    t = np.arange(0.0, 120.0, 0.2)
    x = 10.0 + rate * t + rng.normal(0, noise, len(t))
    for a in range(0, len(t), 37):  # batches of any size give the same sums
        f.feed(np.zeros(len(t[a : a + 37]), np.int64), t[a : a + 37], x[a : a + 37])
    trend = f.trend()
    limit = 10.0 + rate * 250.0  # crossed 130 s after the last sample
    expect, early, late = crossing_times(trend, np.array([limit]), upper=rate > 0)
    truth = (limit - 10.0) / rate - t[-1]
    assert early[0] <= truth <= late[0]
    assert abs(expect[0] - truth) < 0.15 * truth
    assert abs(trend.slope[0] - rate) < 5 * trend.slope_se[0]


def test_no_crossing_without_a_trend_or_away_from_the_limit() -> None:
    rng = np.random.default_rng(1)
    f = TrendForecaster(2, tau=30.0)
    t = np.arange(0.0, 90.0, 0.5)
    for k, tk in enumerate(t):
        f.feed(np.array([0, 1]), np.array([tk, tk]), np.array([5 + rng.normal(0, 1), 5 - 0.1 * k]))
    e, _, _ = crossing_times(f.trend(), np.array([20.0, 20.0]), upper=True)
    assert np.isnan(e).all()  # noise only; and a falling sensor never reaches an upper limit


def test_forecast_matches_a_batch_least_squares_fit() -> None:
    """The running sums give the weighted least-squares line exactly."""
    rng = np.random.default_rng(2)
    t = np.sort(rng.uniform(0, 50, 200))
    x = 3 - 0.4 * t + rng.normal(0, 0.3, 200)
    f = TrendForecaster(1, tau=20.0)
    f.feed(np.zeros(100, np.int64), t[:100], x[:100])
    f.feed(np.zeros(100, np.int64), t[100:], x[100:])
    tr = f.trend(now=55.0)
    w = np.exp((t - 55.0) / 20.0)
    slope, level = np.polyfit(t - 55.0, x, 1, w=np.sqrt(w))
    assert tr.slope[0] == pytest.approx(slope, rel=1e-9)
    assert tr.level[0] == pytest.approx(level, rel=1e-9)


def test_health_index_scale() -> None:
    assert health_index(np.array([0.0, 1.0, 2.0])) == pytest.approx([100.0, 50.0, 100 / 17])


# -- a small twin with a recorded history ---------------------------------------------------

PROJECT = """\
name: Pump skid
models: [model.glb]
sensors:
  - {id: flow, quantity: flow, unit: m3/h, component: pump, range: [0, 100],
     warning: {high: 80}, alarm: {high: 90}}
  - {id: current, quantity: current, unit: A, component: pump, range: [0, 100],
     warning: {high: 80}, alarm: {high: 90}}
  - {id: bearing, quantity: temperature, unit: degC, component: pump, range: [0, 120],
     warning: {high: 85}, alarm: {high: 95}}
  - {id: tank, quantity: level, unit: "%", component: tank, range: [0, 100]}
"""


def pump_signals(t: np.ndarray, fault_at: float = math.inf) -> np.ndarray:
    """Flow, current (follows flow), bearing temperature (follows current through a thermal lag
    of 100 s), tank level; from ``fault_at`` the bearing heats 0.2 degC/s beyond what the load
    explains."""
    rng = np.random.default_rng(0)
    load = 0.5 + 0.3 * np.sin(2 * np.pi * t / 60.0)
    flow = 60 * load + rng.normal(0, 0.5, len(t))
    current = 0.8 * flow + 10 + rng.normal(0, 0.5, len(t))
    heat = np.empty(len(t))
    heat[0] = 34.0
    k = 1.0 - np.exp(-np.diff(t, prepend=t[0]) / 100.0)
    for i in range(1, len(t)):
        heat[i] = heat[i - 1] + k[i] * (current[i] - heat[i - 1])
    bearing = 40 + 0.4 * heat + rng.normal(0, 0.3, len(t))
    bearing += np.where(t > fault_at, 0.2 * (t - fault_at), 0.0)
    tank = 50 + 10 * np.sin(2 * np.pi * t / 300.0) + rng.normal(0, 0.2, len(t))
    return np.stack([flow, current, bearing, tank], axis=1)


def write_history(folder: Path, ids: list[str], t: np.ndarray, X: np.ndarray) -> None:
    store = HistoryStore.open(folder, ids)
    n, p = X.shape
    store.append(SampleBatch.of(np.tile(np.arange(p), n), np.repeat(t + T0, p), X.ravel()))
    store.close()


@pytest.fixture
def pump(tmp_path: Path) -> Path:
    path = tmp_path / "pump.twin.yaml"
    path.write_text(PROJECT)
    t = np.arange(0.0, 600.0, 0.5)
    write_history(tmp_path / "pump.history", ["flow", "current", "bearing", "tank"], t,
                  pump_signals(t, fault_at=400.0))  # fmt: skip
    return path


def test_groups_by_component_and_by_the_project() -> None:
    project = load_project_text(PROJECT)
    assert sensor_groups(project) == [("pump", ["flow", "current", "bearing"]), ("tank", ["tank"])]
    project = load_project_text(
        PROJECT + "prediction:\n  groups: [{id: drive, sensors: [current, bearing]}]\n"
    )
    assert sensor_groups(project) == [
        ("drive", ["current", "bearing"]), ("pump", ["flow"]), ("tank", ["tank"])
    ]  # fmt: skip


def load_project_text(text: str, tmp: Path | None = None):
    import tempfile

    folder = Path(tempfile.mkdtemp()) if tmp is None else tmp
    (folder / "p.twin.yaml").write_text(text)
    return load_project(folder / "p.twin.yaml")[0]


def test_prediction_block_mistakes_name_their_key(tmp_path: Path) -> None:
    path = tmp_path / "p.twin.yaml"
    path.write_text(PROJECT + "prediction:\n  groups: [{id: g, sensors: [nope]}]\n")
    with pytest.raises(ProjectError, match="unknown sensor 'nope'"):
        load_project(path)
    path.write_text(PROJECT + "prediction:\n  methd: t2q\n")
    with pytest.raises(ProjectError) as err:
        load_project(path)
    assert err.value.problems[0].key == "prediction.methd"
    assert err.value.problems[0].line == 12


@pytest.mark.parametrize("method", ["t2q", "mset"])
def test_trained_model_flags_the_fault_and_names_the_sensor(pump: Path, method: str) -> None:
    project, folder = load_project(pump)
    project.prediction.method = method
    store = HistoryStore.open(folder / "pump.history", [s.id for s in project.sensors])
    try:
        models = train(project, store, "0", "300")
        assert [g.id for g in models.groups] == ["pump", "tank"]
        assert models.groups[0].rows == 299
        models.save(folder / "pump.models")
        service = PredictionService.open(project, folder, pump, store)
        assert service is not None
        service.catch_up()
        service.flush()
        healthy = service.state_at(T0 + 350.0)
        faulty = service.state_at(T0 + 480.0)
        assert healthy is not None and faulty is not None
        assert healthy.health[0] > 80 and healthy.health[1] > 50
        assert faulty.score[0] > 1.0 and faulty.health[0] < 50
        assert faulty.top_contributors(0)[0][0] == 2  # the bearing drives it
        # the bearing heads for its alarm: forecast with an interval holding the truth
        rules = SensorRules.from_sensors(project.sensors)
        (c,) = [c for c in faulty.crossings(rules, 3600) if c.level == 5]
        truth = (95 - 40 - 0.4 * 34) / 0.2 - 80  # the load's mean share, 80 s into the fault
        assert c.sensor == 2 and c.early <= truth <= c.late
        events = service.anomaly_events()
        assert len(events) == 1 and events[0]["sensor"] == 0 and events[0]["start"] > T0 + 400
        service.close()
    finally:
        store.close()


def test_a_level_past_its_range_departs_only_beyond_its_fit_scatter() -> None:
    """A loader that stops at the top of its climb leaves a linear fit's level ~its scatter
    above the top (not a departure); a bearing drifting smoothly past its range is one."""
    level = np.array([4.1, 8.4])  # both past the trained top of their range
    sd = np.array([4.1, 0.17])  # the loader's stop-and-go scatters, the drift does not
    trend = Trend(0.0, level, np.array([0.55, 0.057]), np.array([0.01, 0.01]), sd)
    state = HealthState(
        0.0, np.zeros(1), np.zeros(2), trend, np.array([0, 0]),
        np.array([-40.0, 0.58]), np.array([0.0, 5.4]),
    )  # fmt: skip
    assert state.departing().tolist() == [False, True]


def test_a_sensor_added_after_training_is_not_forecast(pump: Path, caplog) -> None:
    """A model set that predates a sensor knows nothing of its normal behaviour: its trend is
    not projected (a moving part's position would forecast every stroke), and the log says to
    train again. A set from before the sensors were kept forecasts every sensor without a
    model, as it always did."""
    project, folder = load_project(pump)
    ids = [s.id for s in project.sensors]
    store = HistoryStore.open(folder / "pump.history", ids)
    rules = SensorRules.from_sensors(project.sensors)
    try:
        models = train(project, store, "0", "300")
        assert models.sensors == ids
        bearing = ids[2]
        models.groups = [g for g in models.groups if bearing not in g.sensors]

        def bearing_alarms(sensors: list[str]) -> list[object]:
            models.sensors = sensors
            models.save(folder / "pump.models")
            service = PredictionService.open(project, folder, pump, store)
            assert service is not None
            try:
                service.catch_up()
                faulty = service.state_at(T0 + 480.0)
                assert faulty is not None
                return [c for c in faulty.crossings(rules, 3600) if c.sensor == 2]
            finally:
                service.close()

        with caplog.at_level("WARNING"):
            assert bearing_alarms([s for s in ids if s != bearing]) == []
        assert f"trained before 1 sensor(s) were added ({bearing})" in caplog.text
        assert bearing_alarms([]) != []  # an older set: no model, so the trend is projected
    finally:
        store.close()


def test_scoring_resumes_after_a_restart_without_scoring_twice(pump: Path) -> None:
    project, folder = load_project(pump)
    store = HistoryStore.open(folder / "pump.history", [s.id for s in project.sensors])
    try:
        train(project, store, "0", "300").save(folder / "pump.models")
        first = PredictionService.open(project, folder, pump, store)
        assert first is not None
        ticks = first.catch_up(until=T0 + 450.0)
        first.close()
        second = PredictionService.open(project, folder, pump, store)
        assert second is not None
        assert second.processed_until == pytest.approx(T0 + 450.0)
        more = second.catch_up()
        second.flush()
        assert ticks == 450 and more == 149
        s, t, _ = second.store.read()
        anomaly_pump = second.store.sensor_ids.index("anomaly/pump")
        assert len(np.unique(t[s == anomaly_pump])) == (t[s == anomaly_pump]).size == 599
        assert len(second.anomaly_events()) == 1  # remembered across the restart
        second.close()
    finally:
        store.close()


def test_model_files_round_trip_and_refuse_what_is_not_a_model(pump: Path, tmp_path) -> None:
    project, folder = load_project(pump)
    store = HistoryStore.open(folder / "pump.history", [s.id for s in project.sensors])
    models = train(project, store, "0", "300")
    store.close()
    out = tmp_path / "models"
    models.save(out)
    again = ModelSet.load(out)
    X = pump_signals(np.arange(0.0, 50.0))[:, :3]
    assert np.array_equal(
        models.groups[0].detector.score(X).score, again.groups[0].detector.score(X).score
    )
    assert again.groups[0].lo == models.groups[0].lo and again.groups[0].scale > 0
    assert not list(out.glob("*.pkl")) and b"pickle" not in (out / "models.json").read_bytes()

    (out / "pump.npz").write_text("not an array file")
    with pytest.raises(ModelFileError, match=r"pump\.npz: not a model array file"):
        ModelSet.load(out)
    np.savez(out / "pump.npz", mean=np.array([object()], dtype=object))
    with pytest.raises(ModelFileError, match="pump.npz"):  # object arrays would need pickle
        ModelSet.load(out)
    (out / "models.json").write_text(json.dumps({"hello": 1}))
    with pytest.raises(ModelFileError, match="not a TwinViewer model index"):
        ModelSet.load(out)
    with pytest.raises(ModelFileError, match="no trained models here"):
        ModelSet.load(tmp_path / "elsewhere")


# -- remaining useful life from the failures in a history ------------------------------------


def test_remaining_life_from_failures_in_the_history(tmp_path: Path) -> None:
    """Three runs to failure of a wearing bearing; the fourth is predicted near its truth."""
    path = tmp_path / "wear.twin.yaml"
    lengths = [900.0, 1100.0, 1000.0, 1000.0]
    starts = np.cumsum([0.0, *lengths[:-1]])
    fails = [T0 + s + n for s, n in zip(starts, lengths, strict=True)]
    iso = [np.datetime_as_string(np.datetime64(int(f * 1e6), "us"), unit="s") + "Z" for f in fails]
    path.write_text(
        "name: wear\nmodels: [m.glb]\nsensors:\n"
        "  - {id: vib, quantity: vibration, unit: mm/s, component: fan, range: [0, 20]}\n"
        "  - {id: temp, quantity: temperature, unit: degC, component: fan, range: [0, 120]}\n"
        f"degradation:\n  - {{group: fan, failures: [{', '.join(iso[:3])}], cap: 600}}\n"
    )
    rng = np.random.default_rng(3)
    ts, xs = [], []
    for s, n in zip(starts, lengths, strict=True):
        t = np.arange(0.0, n, 2.0)
        wear = (t / n) ** 2
        xs.append(np.stack([2 + 8 * wear + rng.normal(0, 0.3, len(t)),
                            50 + 30 * wear + rng.normal(0, 1, len(t))], axis=1))  # fmt: skip
        ts.append(s + t)
    write_history(tmp_path / "wear.history", ["vib", "temp"], np.concatenate(ts), np.vstack(xs))
    project, folder = load_project(path)
    store = HistoryStore.open(folder / "wear.history", ["vib", "temp"])
    try:
        models = train(project, store, "0", "500")
        assert [e.group for e in models.rul] == ["fan"]
        models.save(folder / "wear.models")
        again = ModelSet.load(folder / "wear.models")
        service = PredictionService(project, again, store, HistoryStore.open(tmp_path / "p", ["x"]))
        for left in (500.0, 300.0, 100.0):
            rul, lo, hi = service.remaining_life(fails[3] - left)["fan"]
            assert abs(rul - left) < 150, (left, rul)
            assert lo <= rul <= hi
        service.close()
        live = PredictionService.open(project, folder, path, store)
        assert live is not None
        live.catch_up(until=fails[3] - 300.0)  # scoring keeps the newest estimate at hand
        assert abs(live.rul_latest["fan"][0] - 300.0) < 150
        live.close()
    finally:
        store.close()


# -- the command ----------------------------------------------------------------------------


def test_predict_command_trains_and_reports(pump: Path, capsys) -> None:
    assert main(["predict", str(pump), "train", "--to", "300", "--json"]) == 0
    trained = json.loads(capsys.readouterr().out)
    assert trained["groups"] == 2 and trained["sensors"] == 4
    assert main(["predict", str(pump), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    pump_row = next(g for g in report["groups"] if g["group"] == "pump")
    assert pump_row["health"] < 50 and pump_row["top_contributors"][0]["sensor"] == "bearing"
    assert report["groups"][0]["group"] == "pump"  # the sickest first
    assert main(["predict", str(pump)]) == 0
    text = capsys.readouterr().out
    assert "pump" in text and "bearing" in text


def test_predict_command_errors(tmp_path: Path, pump: Path, capsys) -> None:
    assert main(["predict", str(pump)]) == 1
    assert "no trained models" in capsys.readouterr().err
    assert main(["predict", str(pump), "train", "--from", "500", "--to", "100"]) == 1
    assert "training window is empty" in capsys.readouterr().err
    assert main(["predict", str(pump), "fly"]) == 2
    assert main(["predict", "evaluate", "nope", "x.csv"]) == 1
    assert "unknown format 'nope'" in capsys.readouterr().err


@needs_corpus
def test_predict_evaluate_skab_end_to_end(capsys) -> None:
    skab = CORPUS / "sensors" / "skab" / "valve1-0.csv"
    assert main(["predict", "evaluate", "skab", str(skab), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    for key in ("f1", "far", "mar", "nab_standard"):
        assert isinstance(result[key], float)
    assert 0.5 < result["f1"] <= 1.0
    assert result["published"]["f1"]["T2+Q"] == 0.76


def test_a_slowing_drift_has_an_open_late_bound() -> None:
    """A temperature settling towards a new level (first order, tau 60 s): the crossing of a
    limit it approaches is forecast, but not bounded late; a steady ramp keeps its bound."""
    from twinviewer.predict.forecast import FAST, two_scale

    t = np.arange(0.0, 120.0, 0.5)
    settle = 100.0 - 60.0 * np.exp(-t / 60.0)  # heading for 100, slower and slower
    ramp = 40.0 + 0.3 * t
    fast, slow = TrendForecaster(2, 60.0 / FAST), TrendForecaster(2, 60.0)
    for f in (fast, slow):
        f.feed(np.repeat([0, 1], len(t)), np.tile(t, 2), np.concatenate([settle, ramp]))
    trend = two_scale(fast.trend(), slow.trend())
    expect, early, late = crossing_times(trend, np.array([95.0, 95.0]), upper=True)
    assert np.isfinite(expect).all() and (early <= expect).all()
    assert math.isinf(late[0]) and math.isfinite(late[1])


@needs_corpus
def test_skab_files_without_labels_are_skipped_by_name(tmp_path: Path, capsys) -> None:
    free = tmp_path / "anomaly-free.csv"
    free.write_text("datetime;a;b\n2020-01-01 00:00:00;1;2\n")
    skab = CORPUS / "sensors" / "skab" / "valve1-0.csv"
    assert main(["predict", "evaluate", "skab", str(free), str(skab), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert list(result["skipped"]) == ["anomaly-free.csv"] and result["rows_scored"] > 0
    assert main(["predict", "evaluate", "skab", str(free)]) == 1
    assert "no labelled SKAB file" in capsys.readouterr().err
