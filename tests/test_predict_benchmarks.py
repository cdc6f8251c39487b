"""SKAB and NAB readers and evaluators, on the real benchmark files and on broken copies.

The corpus files are read in place; broken files are written to ``tmp_path``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from twinviewer.predict.benchmarks import (
    SKAB_PUBLISHED,
    delay_embedding,
    evaluate_nab,
    evaluate_skab,
    hold_off_detections,
    persistent,
    read_nab,
    read_nab_windows,
    read_skab,
    windows_for,
)

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "sensors"
SKAB = CORPUS / "skab" / "valve1-0.csv"
NAB = CORPUS / "nab"
NAB_FILES = [
    NAB / "machine_temperature_system_failure.csv",
    NAB / "ambient_temperature_system_failure.csv",
]

needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}")

HEADER = "datetime;A;B;anomaly;changepoint"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "broken.csv"
    path.write_text(text)
    return path


@needs_corpus
def test_read_skab_corpus_file() -> None:
    times, X, anomaly, change, columns = read_skab(SKAB)
    assert X.shape == (1147, 8)
    assert columns[0] == "Accelerometer1RMS" and columns[-1] == "Volume Flow RateRMS"
    assert np.all(np.diff(times) > 0)
    assert times[1] - times[0] == 1.0
    assert anomaly.sum() == 401 and change.sum() == 4
    assert not anomaly[:400].any()  # the training rows are healthy


def test_read_skab_finds_columns_by_name(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "anomaly;B;datetime;changepoint;A\n"
        "0;2.5;2020-01-01 00:00:00;0;1.5\n1;3.5;2020-01-01 00:00:01;1;4\n",
    )
    times, X, anomaly, change, columns = read_skab(path)
    assert columns == ["B", "A"]
    assert X.tolist() == [[2.5, 1.5], [3.5, 4.0]]
    assert anomaly.tolist() == [False, True] and change.tolist() == [False, True]
    assert times[1] - times[0] == 1.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty file"),
        ("datetime;A;B;changepoint\n2020-01-01 00:00:00;1;2;0\n", "line 1: no 'anomaly' column"),
        (
            f"{HEADER}\n2020-01-01 00:00:00;1;2;0;0\n2020-01-01 00:00:01;1;x;0;0\n",
            "line 3: column 'B': 'x' is not a number",
        ),
        (f"{HEADER}\n2020-01-01 00:00:00;1;2;0\n", "line 2: 4 fields, expected 5"),
        (f"{HEADER}\nyesterday;1;2;0;0\n", "line 2: bad timestamp 'yesterday'"),
        (f"{HEADER}\n", "a header but no data row"),
    ],
)
def test_read_skab_malformed(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ValueError, match=message) as info:
        read_skab(path)
    assert "broken.csv" in str(info.value)


def test_persistence_and_hold_off_rules() -> None:
    f = np.array([1, 0, 1, 1, 1, 0, 1, 1, 0, 0, 0, 1], dtype=bool)
    assert persistent(f, 1).tolist() == f.tolist()
    # on at the third raised row in a row, off at the third clear one in a row
    assert np.flatnonzero(persistent(f, 3)).tolist() == [4, 5, 6, 7, 8, 9]
    g = np.zeros(20, dtype=bool)
    g[[2, 3, 6, 7, 15]] = True
    assert np.flatnonzero(hold_off_detections(g, 4)).tolist() == [2, 7, 15]


def test_delay_embedding_is_level_and_differences() -> None:
    x = np.array([1.0, 2.0, 4.0, 7.0, 11.0])
    E = delay_embedding(x, 3)
    # rows for t = 2, 3, 4: [x_t, x_t - x_{t-1}, x_{t-1} - x_{t-2}]
    assert E.tolist() == [[4.0, 2.0, 1.0], [7.0, 3.0, 2.0], [11.0, 4.0, 3.0]]
    with pytest.raises(ValueError, match="at least 9 values"):
        delay_embedding(x, 9)


@needs_corpus
@pytest.mark.parametrize("method", ["t2q", "mset"])
def test_evaluate_skab_end_to_end(method: str) -> None:
    r = evaluate_skab([SKAB], method=method)
    for key in ("f1", "far", "mar"):
        assert 0.0 <= r[key] <= 1.0
    assert math.isfinite(r["nab_standard"]) and r["nab_standard"] <= 100.0
    assert r["rows_scored"] == 1147 - 400
    assert r["method"] == method and r["published"] == SKAB_PUBLISHED
    (one,) = r["files"]
    assert one["file"] == "valve1-0.csv"
    assert one["tp"] + one["fp"] + one["fn"] + one["tn"] == 747
    assert r["f1"] > 0.5  # anomalous rows are more than half of the scored ones: beats "never"


@needs_corpus
def test_nab_readers() -> None:
    times, values = read_nab(NAB_FILES[0])
    assert len(times) == len(values) == 22695
    assert times[1] - times[0] == 300.0
    windows = read_nab_windows(NAB / "combined_windows.json")
    spans = windows["realKnownCause/machine_temperature_system_failure.csv"]
    assert len(spans) == 4 and spans[0][0] < spans[0][1] < spans[1][0]
    # the folder of the data file differs from the key's: matched by file name
    assert windows_for(windows, NAB_FILES[0]) == spans
    with pytest.raises(ValueError, match="no key for the data file 'nothing.csv'"):
        windows_for(windows, Path("nothing.csv"))


def test_nab_windows_malformed(tmp_path: Path) -> None:
    bad = tmp_path / "windows.json"
    bad.write_text(json.dumps({"a/b.csv": [["2014-01-01 00:00:00"]]}))
    with pytest.raises(ValueError, match="'a/b.csv': expected a list of \\[start, end\\] pairs"):
        read_nab_windows(bad)


@needs_corpus
def test_evaluate_nab_end_to_end() -> None:
    r = evaluate_nab(NAB_FILES, NAB / "combined_windows.json", method="mset")
    assert r["method"] == "mset"
    assert math.isfinite(r["nab_standard"]) and r["nab_standard"] <= 100.0
    assert [f["file"] for f in r["files"]] == [p.name for p in NAB_FILES]
    for f in r["files"]:
        assert f["tp"] + f["fn"] == {"machine": 4, "ambient": 2}[f["file"].split("_")[0]]
        assert f["null"] == -(f["tp"] + f["fn"])
    fast = evaluate_nab(NAB_FILES[1:], NAB / "combined_windows.json", method="t2q")
    assert len(fast["files"]) == 1 and math.isfinite(fast["nab_standard"])
