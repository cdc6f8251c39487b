"""Remaining useful life: scores, the C-MAPSS reader, the regressor and its storage."""

from __future__ import annotations

import json
import math
import pickle
from pathlib import Path

import numpy as np
import pytest

from twinviewer.predict import cmapss, rul
from twinviewer.predict.cmapss import (
    OperatingConditions,
    evaluate_cmapss,
    phm08_score,
    read_cmapss,
    read_rul,
    rmse,
)
from twinviewer.predict.rul import RulModel, Run

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
FD001 = CORPUS / "sensors" / "cmapss" / "train_FD001.txt"
FAST = {"num_iterations": 120}  # fewer trees: the tests check behaviour, not the best score

needs_corpus = pytest.mark.skipif(not FD001.is_file(), reason=f"corpus file absent: {FD001}")


# -- scores -------------------------------------------------------------------------------------


def test_phm08_score_hand_worked() -> None:
    e = math.e
    assert phm08_score([0.0], [13.0]) == pytest.approx(e - 1)  # d = -13: early
    assert phm08_score([20.0], [10.0]) == pytest.approx(e - 1)  # d = +10: late
    assert phm08_score([5.0, 5.0], [5.0, 5.0]) == 0.0
    # d = -26 and d = +20: (e^2 - 1) twice; late costs more than early for the same |d|.
    assert phm08_score([0.0, 40.0], [26.0, 20.0]) == pytest.approx(2 * (e**2 - 1))
    assert phm08_score([10.0], [0.0]) > phm08_score([0.0], [10.0])


def test_rmse_hand_worked() -> None:
    assert rmse([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]) == 0.0
    assert rmse([3.0, -1.0], [0.0, 3.0]) == pytest.approx(math.sqrt((9 + 16) / 2))
    with pytest.raises(ValueError):
        rmse([1.0], [1.0, 2.0])


# -- reader -------------------------------------------------------------------------------------


@needs_corpus
def test_read_corpus_fd001() -> None:
    engines = read_cmapss(FD001)
    assert len(engines) == 100
    assert sorted(engines) == list(range(1, 101))
    cycles, settings, sensors = engines[1]
    assert settings.shape == (cycles.size, 3) and sensors.shape == (cycles.size, 21)
    assert cycles[0] == 1 and np.all(np.diff(cycles) == 1)
    assert sensors[0, 0] == pytest.approx(518.67) and sensors[0, 1] == pytest.approx(641.82)
    assert sum(e[0].size for e in engines.values()) == 20631


def _row(unit: int, cycle: int) -> str:
    return " ".join([str(unit), str(cycle), "0.001", "-0.0003", "100.0"] + ["1.5"] * 21)


def test_read_original_format_with_trailing_spaces(tmp_path: Path) -> None:
    path = tmp_path / "train_X.txt"
    path.write_text("".join(_row(u, c) + "  \n" for u in (2, 1) for c in (2, 1, 3)))
    engines = read_cmapss(path)
    assert list(engines) == [1, 2]
    assert engines[2][0].tolist() == [1.0, 2.0, 3.0]  # sorted by cycle


@pytest.mark.parametrize(
    ("bad", "needle"),
    [
        (" ".join(["1", "3"] + ["0.5"] * 23), "expected 26 columns"),
        (_row(1, 3).replace("1.5", "abc", 1), "'abc' is not a number"),
        (_row(1, 2), "repeats line 3"),
        (_row(1, 3).replace(" 3 ", " 3.5 ", 1), "must be integers"),
    ],
)
def test_read_malformed_names_file_and_line(tmp_path: Path, bad: str, needle: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(f"unit_number time a b c\n{_row(1, 1)}\n{_row(1, 2)}\n{bad}\n")
    with pytest.raises(ValueError, match="line 4") as info:
        read_cmapss(path)
    assert str(path) in str(info.value) and needle in str(info.value)


def test_read_rul(tmp_path: Path) -> None:
    path = tmp_path / "RUL_X.txt"
    path.write_text("112 \n98\n\n69\n")
    assert read_rul(path).tolist() == [112.0, 98.0, 69.0]
    path.write_text("112\nnope\n")
    with pytest.raises(ValueError, match="line 2"):
        read_rul(path)


# -- the regressor on synthetic run-to-failure data -----------------------------------------------


def _synthetic(units: int, seed: int) -> list[Run]:
    """Units whose degradation grows exponentially as failure nears, plus noise and NaNs."""
    rng = np.random.default_rng(seed)
    runs = []
    for _ in range(units):
        life = int(rng.integers(150, 260))
        t = np.arange(1.0, life + 1.0)
        health = np.exp(-(life - t) / 45.0)  # ~0 early, 1 at failure
        X = np.column_stack(
            [
                3.0 * health + rng.normal(0, 0.08, t.size) + rng.normal(0, 0.1),  # unit offset
                -2.0 * health + rng.normal(0, 0.08, t.size),
                rng.normal(0, 1.0, t.size),  # pure noise
                np.full(t.size, 7.0),  # constant: dropped
            ]
        )
        X[rng.random(X.shape) < 0.02] = np.nan
        runs.append(Run(t, X, float(life)))
    return runs


@pytest.fixture(scope="module")
def fitted() -> RulModel:
    return RulModel(params=FAST).fit(_synthetic(30, seed=1), ["up", "down", "noise", "flat"])


def test_constant_sensor_dropped(fitted: RulModel) -> None:
    assert fitted.sensors_used == ["up", "down", "noise"]
    assert len(fitted.feature_names()) == 5 * 3 + 1


def test_features_use_only_the_past(fitted: RulModel) -> None:
    run = _synthetic(1, seed=5)[0]
    full = fitted.features(run)
    for m in (1, 7, 30, 31, 90):
        part = fitted.features(Run(run.time[:m], run.X[:m], None))
        np.testing.assert_allclose(part, full[:m], rtol=1e-12, atol=1e-12)


def test_rul_close_to_truth_on_held_out_units(fitted: RulModel) -> None:
    errors, inside, total = [], 0, 0
    for run in _synthetic(10, seed=99):
        assert run.failure is not None
        est, lo, hi = fitted.predict(run)
        assert np.all(lo <= est) and np.all(est <= hi)
        truth = np.minimum(run.failure - run.time, fitted.cap)
        near = truth < 100  # where the sensors can tell
        errors.append(np.abs(est - truth)[near])
        inside += int(np.sum((lo <= truth + 1.0) & (truth - 1.0 <= hi)))
        total += truth.size
        for r in (10, 40, 80):
            m = run.time.size - r
            last, low, high = fitted.predict_last(Run(run.time[:m], run.X[:m], None))
            assert low <= last <= high
            assert abs(last - r) < 15
    assert float(np.mean(np.concatenate(errors))) < 5
    assert inside / total > 0.7  # nominal 80 % band


def test_censored_runs_contribute_only_known_rows() -> None:
    model = RulModel(cap=50.0)
    run = Run(np.arange(100.0), np.zeros((100, 1)), None)
    use, y = model._target(run)
    assert use.sum() == 50 and np.all(y[use] == 50.0)


def test_run_validation() -> None:
    with pytest.raises(ValueError, match="not increasing"):
        Run(np.array([0.0, 2.0, 1.0]), np.zeros((3, 2)), None)
    with pytest.raises(ValueError, match="shape"):
        Run(np.arange(3.0), np.zeros((4, 2)), None)
    with pytest.raises(ValueError, match="no run has a failure"):
        RulModel().fit([Run(np.arange(3.0), np.ones((3, 1)), None)])


# -- storage --------------------------------------------------------------------------------------


@pytest.fixture()
def no_pickle(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("pickle used")

    for name in ("dump", "dumps", "load", "loads", "Pickler", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)


def test_save_load_round_trip(fitted: RulModel, tmp_path: Path, no_pickle: None) -> None:
    fitted.save(tmp_path, "pump")
    meta = json.loads((tmp_path / "pump.json").read_text())
    assert meta["format"] == "twinviewer.rul-model" and meta["sensors"][0] == "up"
    for fname in meta["boosters"].values():
        assert (tmp_path / fname).read_text().startswith("tree\n")  # LightGBM text
    back = RulModel.load(tmp_path, "pump")
    assert back.sensors_used == fitted.sensors_used and back.quantiles == fitted.quantiles
    for run in _synthetic(3, seed=7):
        for a, b in zip(fitted.predict(run), back.predict(run), strict=True):
            np.testing.assert_array_equal(a, b)


def test_no_pickle_in_sources() -> None:
    for module in (rul, cmapss):
        source = Path(str(module.__file__)).read_text()
        for word in ("import pickle", "from pickle", "pickle.", "joblib", "cloudpickle"):
            assert word not in source


def test_load_rejects_what_is_not_a_model(fitted: RulModel, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"missing\.json: no such file"):
        RulModel.load(tmp_path, "missing")
    (tmp_path / "noise.json").write_bytes(np.random.default_rng(0).bytes(200))
    with pytest.raises(ValueError, match=r"noise\.json: not readable as JSON"):
        RulModel.load(tmp_path, "noise")
    (tmp_path / "other.json").write_text(json.dumps({"format": "twinviewer.project", "x": 1}))
    with pytest.raises(ValueError, match=r"other\.json: not a TwinViewer RUL model"):
        RulModel.load(tmp_path, "other")
    fitted.save(tmp_path, "m")
    meta = json.loads((tmp_path / "m.json").read_text())
    del meta["kept"]
    (tmp_path / "broken.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match=r"broken\.json: malformed"):
        RulModel.load(tmp_path, "broken")
    (tmp_path / "m.estimate.txt").write_text("tree\nthis is not a tree model\n")
    with pytest.raises(ValueError, match=r"m\.estimate\.txt: corrupt LightGBM text model"):
        RulModel.load(tmp_path, "m")
    (tmp_path / "m.estimate.txt").write_text("hello")
    with pytest.raises(ValueError, match=r"m\.estimate\.txt: not a LightGBM text model"):
        RulModel.load(tmp_path, "m")


# -- operating conditions and the protocol ---------------------------------------------------------


def test_operating_conditions_found_and_normalised() -> None:
    rng = np.random.default_rng(3)
    centres = np.array(
        [
            [0, 0, 100],
            [10, 0.25, 100],
            [20, 0.7, 100],
            [25, 0.62, 60],
            [35, 0.84, 100],
            [42, 0.84, 100],
        ],
        dtype=float,
    )
    label = rng.integers(0, 6, 6000)
    settings = centres[label] + rng.normal(0, [0.003, 0.0003, 0.0], (6000, 3))
    sensors = rng.normal(size=(6000, 2)) + 10.0 * label[:, None]
    cond = OperatingConditions().fit(settings, sensors)
    assert cond.count == 6
    z = cond.transform(settings, sensors)
    np.testing.assert_allclose(z.std(axis=0), 1.0, atol=0.05)
    noise_only = np.column_stack([rng.normal(0, 0.002, 3000), np.full(3000, 100.0)])
    assert OperatingConditions().fit(noise_only, rng.normal(size=(3000, 1))).count == 1


@needs_corpus
def test_evaluate_cmapss_cross_validation_fd001() -> None:
    report = evaluate_cmapss(FD001, folds=2, seed=0, cuts=2, params={"num_iterations": 80})
    assert report["mode"] == "cv-2" and report["engines"] == 100 and report["cases"] == 200
    assert report["conditions"] == 1
    assert "s1" not in report["sensors_used"] and "s2" in report["sensors_used"]
    assert 5.0 < report["rmse"] < 30.0
    assert report["score"] > 0 and report["train_seconds"] > 0
    assert report["published"]["rmse"]["DCNN (Li 2018)"] == 12.61


def test_evaluate_cmapss_test_mode(tmp_path: Path) -> None:
    """Test mode on a small synthetic C-MAPSS-shaped fleet written to disk."""

    def rows(runs: list[Run], cut: int) -> list[str]:
        out = []
        for u, r in enumerate(runs, start=1):
            cols = np.column_stack([np.nan_to_num(r.X[:, :2]), np.zeros((r.time.size, 19))])
            for i in range(r.time.size - cut):
                values = [u, int(r.time[i]), 0.0, 0.0, 100.0, *cols[i]]
                out.append(" ".join(f"{v:.6g}" for v in values))
        return out

    lines = rows(_synthetic(12, seed=11), cut=0)
    test_lines = rows(_synthetic(4, seed=12), cut=30)
    truths = ["30"] * 4
    (tmp_path / "train.txt").write_text("\n".join(lines) + "\n")
    (tmp_path / "test.txt").write_text("\n".join(test_lines) + "\n")
    (tmp_path / "rul.txt").write_text("\n".join(truths) + "\n")
    report = evaluate_cmapss(
        tmp_path / "train.txt", tmp_path / "test.txt", tmp_path / "rul.txt", params=FAST
    )
    assert report["mode"] == "test" and report["engines"] == 4
    assert report["sensors_used"] == ["s1", "s2"]
    assert report["rmse"] < 25
    with pytest.raises(ValueError, match="both test and rul"):
        evaluate_cmapss(tmp_path / "train.txt", tmp_path / "test.txt")
