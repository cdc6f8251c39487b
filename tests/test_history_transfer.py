"""`twinviewer history PROJECT export|import`: round trips, the NAB files, bad rows by line."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import ASSETS
from twinviewer.cli import main
from twinviewer.core.samples import SampleBatch
from twinviewer.history import HistoryStore
from twinviewer.history.transfer import ImportMapping, export_history, import_history

IDS = ["pump_a", "pump_b", "fan"]
NAB = Path("sensors") / "nab" / "machine_temperature_system_failure.csv"


def _store(folder: Path, ids: list[str] = IDS) -> HistoryStore:
    return HistoryStore(folder, ids, writer_thread=False)


def _utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


def _filled(folder: Path) -> HistoryStore:
    """Samples on a microsecond grid, with out-of-order (late) samples and exact duplicates."""
    rng = np.random.default_rng(7)
    store = _store(folder)
    n = 3000
    t = np.round((1.75e9 + np.sort(rng.uniform(0, 3600, n))) * 1e6) / 1e6
    s = rng.integers(0, len(IDS), n)
    v = rng.normal(20, 5, n)  # needs float64
    v[::3] = np.round(v[::3])  # float32-exact ones too
    store.append(SampleBatch.of(s, t, v))
    store.flush()
    # late: older than what was flushed; duplicates: same sensor and time, twice
    late_t = np.round((1.75e9 + rng.uniform(-600, 1800, 50)) * 1e6) / 1e6
    store.append(SampleBatch.of(rng.integers(0, 3, 50), late_t, rng.normal(size=50)))
    store.append(SampleBatch.of([0, 0, 1], [t[10], t[10], t[10]], [1.5, -2.25, 3.0]))
    store.flush()
    return store


def _by_id(store: HistoryStore) -> tuple[list[str], np.ndarray, np.ndarray]:
    s, t, v = store.read()
    ids = store.sensor_ids
    return [ids[i] for i in s], t, v


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_export_import_round_trip(tmp_path: Path, suffix: str) -> None:
    src = _filled(tmp_path / "src")
    assert src.stats()["late_segments"] >= 1
    out = tmp_path / f"all{suffix}"
    n = export_history(src, None, out)
    assert n == src.stats()["samples"] == 3053
    # a fresh store whose project lists the sensors in another order
    dst = _store(tmp_path / "dst", IDS[::-1])
    report = import_history(dst, IDS[::-1], out)
    assert report.imported == report.rows == n and not report.problems
    assert report.layout == "long" and report.skipped_rows == 0
    a, b = _by_id(src), _by_id(dst)
    assert a[0] == b[0]
    assert np.array_equal(a[1], b[1])  # exact to the microsecond (and beyond: same doubles)
    assert np.array_equal(a[2], b[2])  # values exact
    assert report.time_range == (float(a[1].min()), float(a[1].max()))
    src.close()
    dst.close()


def test_export_formats_window_and_sensors(tmp_path: Path) -> None:
    store = _store(tmp_path / "h")
    t0 = _utc("2026-01-01T00:00:00")
    store.append(SampleBatch.of([0, 1, 2, 0], [t0, t0 + 1.000001, t0 + 2, t0 + 3], [1, 2, 3, 4]))
    store.flush()
    out = tmp_path / "w.csv"
    assert export_history(store, None, out, t0 + 1.000001, t0 + 3, sensors=["pump_a", "fan"]) == 2
    lines = out.read_text().splitlines()
    assert lines[0].replace('"', "") == "time,sensor,value"
    assert lines[1].replace('"', "") == "2026-01-01T00:00:02.000000Z,fan,3"
    assert lines[2].replace('"', "") == "2026-01-01T00:00:03.000000Z,pump_a,4"
    pout = tmp_path / "w.data"
    assert export_history(store, None, pout, fmt="parquet") == 4
    table = pq.read_table(pout)
    assert table.schema.field("time").type == pa.timestamp("us", tz="UTC")
    assert table.column("sensor").to_pylist() == ["pump_a", "pump_b", "fan", "pump_a"]
    with pytest.raises(ValueError, match="unknown sensor 'nope'"):
        export_history(store, None, out, sensors=["nope"])
    with pytest.raises(ValueError, match="cannot tell the format"):
        export_history(store, None, tmp_path / "w.xlsx")
    assert not list(tmp_path.glob("*.tmp"))
    store.close()


def test_export_streams_in_windows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from twinviewer.history import transfer

    src = _filled(tmp_path / "src")
    calls = []
    read = src.read

    def counting_read(t0: float = -np.inf, t1: float = np.inf):
        calls.append((t0, t1))
        return read(t0, t1)

    monkeypatch.setattr(src, "read", counting_read)
    monkeypatch.setattr(transfer, "EXPORT_ROWS", 500)
    out = tmp_path / "w.parquet"
    assert export_history(src, None, out) == 3053
    assert len(calls) > 5  # windows of ~500 samples, not one read of everything
    monkeypatch.undo()
    dst = _store(tmp_path / "dst")
    import_history(dst, IDS, out)
    assert all(np.array_equal(x, y) for x, y in zip(src.read(), dst.read(), strict=True))


BAD = """time,sensor,value
2024-03-01T00:00:00Z,pump_a,1.5
2024-03-01T00:00:01Z,pump_b,2
not-a-time,pump_a,3
2024-03-01T00:00:03Z,pump_a,abc
2024-03-01T00:00:04Z,pump_a
2024-03-01T00:00:05Z,fan,NaN
2024-03-01T00:00:06Z,blower,7
2024-03-01T00:00:07Z,fan,8,9
2024-03-01 00:00:08,fan,8.5
1709251209,fan,9.5
"""


@pytest.mark.parametrize("blank", [False, True])
def test_bad_rows_are_reported_by_line_and_skipped(tmp_path: Path, blank: bool) -> None:
    text = BAD.replace("not-a-time", "\nnot-a-time") if blank else BAD
    path = tmp_path / "bad.csv"
    path.write_text(text)
    store = _store(tmp_path / "h")
    report = import_history(store, IDS, path)
    shift = 1 if blank else 0
    lines = [p.line for p in report.problems]
    assert lines == [k + shift for k in (4, 5, 6, 7, 8, 9)]
    reasons = [p.reason for p in report.problems]
    assert reasons == [
        "time 'not-a-time' is not ISO 8601 or an epoch number",
        "value 'abc' is not a number",
        "2 fields, expected 3",
        "value 'NaN' is not finite",
        "unknown sensor 'blower'",
        "4 fields, expected 3",
    ]
    assert report.rows == 10 and report.imported == 4 and report.skipped_rows == 6
    assert report.hint is not None and "pump_a, pump_b, fan" in report.hint
    s, t, v = store.read()
    assert [store.sensor_ids[i] for i in s] == ["pump_a", "pump_b", "fan", "fan"]
    assert list(t - _utc("2024-03-01T00:00:00")) == [0, 1, 8, 9]
    assert list(v) == [1.5, 2, 8.5, 9.5]
    text_report = "\n".join(report.lines())
    assert f"bad.csv:{5 + shift}: value 'abc' is not a number" in text_report
    store.close()


def test_many_bad_rows_are_summarised(tmp_path: Path) -> None:
    rows = ["time,value"] + [f"2024-03-01T00:00:{i:02d}Z,{'x' if i % 2 else i}" for i in range(60)]
    path = tmp_path / "many.csv"
    path.write_text("\n".join(rows) + "\n")
    store = _store(tmp_path / "h")
    report = import_history(store, IDS, path, ImportMapping(sensor="fan"))
    assert report.imported == 30 and report.problem_count == 30
    assert [p.line for p in report.problems] == list(range(3, 3 + 40, 2))  # the first 20
    assert report.counts == {"not a number": 30}
    assert "... and 10 more problems" in report.lines()[-1]
    store.close()


def test_import_leaves_stored_samples_untouched(tmp_path: Path) -> None:
    store = _filled(tmp_path / "h")
    lo, hi = store.time_range()  # type: ignore[misc]
    before = store.read(lo, hi)
    stats_before = store.stats()
    # older (late), newer and overlapping samples, one of them a duplicate of a stored one
    s0, t0, v0 = int(before[0][5]), float(before[1][5]), float(before[2][5])
    path = tmp_path / "more.csv"
    path.write_text(
        "time,sensor,value\n"
        f"{lo - 3600},pump_a,1\n{hi + 60},pump_b,2\n{(lo + hi) / 2},fan,3\n"
        f"{t0!r},{store.sensor_ids[s0]},{v0!r}\n"
    )
    report = import_history(store, IDS, path, ImportMapping(time_format="s"))
    assert report.imported == 4
    after = store.read(lo, hi)
    old = set(zip(*(a.tolist() for a in before), strict=True))
    new = list(zip(*(a.tolist() for a in after), strict=True))
    assert old <= set(new) and len(new) == len(before[0]) + 2  # two new in the old window
    assert store.stats()["samples"] == stats_before["samples"] + 4
    kept = [x for x in new if x not in {(2, (lo + hi) / 2, 3.0)}]
    kept.remove((s0, t0, v0))
    assert sorted(kept) == sorted(zip(*(a.tolist() for a in before), strict=True))
    store.close()


def test_wide_and_single_series_layouts(tmp_path: Path) -> None:
    store = _store(tmp_path / "h")
    wide = tmp_path / "wide.csv"
    wide.write_text(
        "Timestamp;P-101;fan;comment\n"
        "2024-07-01 12:00:00;1.0;;ok\n"  # Berlin summer time: 10:00 UTC
        "2024-07-01 12:00:01;2.0;3.0;ok\n"
    )
    report = import_history(
        store, IDS, wide, ImportMapping(timezone="Europe/Berlin", rename={"P-101": "pump_a"})
    )
    assert report.layout == "wide" and report.imported == 3 and report.empty_cells == 1
    assert [(p.line, p.reason) for p in report.problems] == [
        (1, "column 'comment': unknown sensor 'comment'; column skipped")
    ]
    value, when = store.at(_utc("2024-07-01T10:00:01"))
    assert value[0] == 2.0 and np.isnan(value[1]) and value[2] == 3.0
    assert when[0] == _utc("2024-07-01T10:00:01")
    # epoch milliseconds in a Parquet file, one series named on the command line
    single = tmp_path / "single.parquet"
    ms = np.array([1_700_000_000_123, 1_700_000_000_456], np.int64)
    pq.write_table(pa.table({"ts": ms, "reading": [5.5, 6.5]}), single)
    report = import_history(store, IDS, single, ImportMapping(sensor="pump_b"))
    assert report.layout == "single" and report.imported == 2
    s, t, v = store.read(1.7e9, 1.71e9)
    assert list(t) == [1_700_000_000.123, 1_700_000_000.456] and list(v) == [5.5, 6.5]
    # a naive Parquet timestamp column with a bad value: row numbers for Parquet
    naive = tmp_path / "naive.parquet"
    pq.write_table(
        pa.table(
            {
                "time": pa.array([datetime(2024, 1, 1), datetime(2024, 1, 2)], pa.timestamp("s")),
                "fan": [1.0, float("inf")],
            }
        ),
        naive,
    )
    report = import_history(store, IDS, naive)
    assert report.imported == 1 and [(p.line, p.reason) for p in report.problems] == [
        (2, "value 'inf' is not finite")
    ]
    with pytest.raises(ValueError, match="no column names a project sensor"):
        import_history(store, IDS, tmp_path / "single.parquet")
    with pytest.raises(ValueError, match="no time column"):
        (tmp_path / "nt.csv").write_text("when,fan\n1,2\n")
        import_history(store, IDS, tmp_path / "nt.csv")
    store.close()


def test_import_nab_file(tmp_path: Path, corpus: Path) -> None:
    store = _store(tmp_path / "h", ["machine_temperature"])
    report = import_history(
        store, ["machine_temperature"], corpus / NAB, ImportMapping(sensor="machine_temperature")
    )
    assert report.rows == report.imported == 22_695 and not report.problems
    assert store.stats()["samples"] == 22_695
    t = _utc("2013-12-02T21:20:00")
    assert store.at(t)[0][0] == 74.93588199999998
    assert store.at(t + 299)[0][0] == 74.93588199999998
    assert store.at(t - 1)[0][0] == 73.96732207
    assert report.time_range == (_utc("2013-12-02T21:15:00"), _utc("2014-02-19T15:25:00"))
    store.close()


def _project(tmp_path: Path) -> Path:
    model = ASSETS / "mine" / "mine.glb"
    if not model.exists():
        pytest.skip("demo model not built")
    p = tmp_path / "plant.twin.yaml"
    p.write_text(
        f"twinviewer: 1\nmodels: [{model}]\nsensors:\n"
        "  - {id: machine_temperature, quantity: temperature, unit: degF, range: [0, 120], "
        "component: main_fan}\n"
        "  - {id: fan_current, quantity: current, unit: A, range: [0, 200], component: main_fan}\n"
    )
    return p


def test_cli_import_and_export(
    tmp_path: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path)
    argv = ["history", str(project), "import", str(corpus / NAB)]
    assert main([*argv, "--sensor", "machine_temperature", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["imported"] == 22_695 and report["problems"] == []
    assert report["time_range_iso"][0] == "2013-12-02T21:15:00.000000+00:00"

    bad = tmp_path / "bad.csv"
    bad.write_text("ts,fan_current,other\n2014-01-01T00:00:00Z,1,2\n2014-01-01T00:00:01Z,x,3\n")
    assert main(["history", str(project), "import", str(bad), "--map", "other=fan_current"]) == 0
    out = capsys.readouterr().out
    assert "imported 3 samples" in out  # fan_current from both columns, "x" skipped
    assert f"{bad}:3: column 'fan_current': value 'x' is not a number" in out

    csv_out = tmp_path / "out.csv"
    args = ["history", str(project), "export", "-o", str(csv_out), "--json"]
    assert main([*args, "--from", "2013-12-02T21:15:00Z", "--to", "2013-12-02T22:15:00Z"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported["samples"] == 13 and csv_out.read_text().count("\n") == 14
    pq_out = tmp_path / "out.parquet"
    assert main(["history", str(project), "export", "-o", str(pq_out)]) == 0
    assert capsys.readouterr().out.startswith(f"exported 22,698 samples to {pq_out}")
    assert pq.read_metadata(pq_out).num_rows == 22_698


def test_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = _project(tmp_path)
    h = ["history", str(project)]
    assert main([*h, "export"]) == 2
    assert "-o/--output FILE is required" in capsys.readouterr().err
    assert main([*h, "import"]) == 2
    assert "import FILE" in capsys.readouterr().err
    assert main([*h, "import", "x.csv", "--map", "nonsense"]) == 2
    assert "--map 'nonsense': expected COLUMN=SENSOR_ID" in capsys.readouterr().err
    assert main([*h, "export", "-o", str(tmp_path / "o.csv"), "--from", "soon"]) == 2
    assert "--from 'soon'" in capsys.readouterr().err
    assert main([*h, "import", str(tmp_path / "x.csv"), "--timezone", "Mars/Olympus"]) == 2
    assert "unknown time zone 'Mars/Olympus'" in capsys.readouterr().err
    assert main([*h, "import", str(tmp_path / "missing.csv")]) == 1
    assert "missing.csv: no such file" in capsys.readouterr().err
    assert main([*h, "export", "-o", str(tmp_path / "o.csv"), "--sensor", "nope"]) == 1
    assert "unknown sensor 'nope'" in capsys.readouterr().err


def test_broken_bytes_quoted_line_breaks_and_exact_epoch_ns(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_bytes(
        b"time,sensor,value\n"
        b'2024-01-01T00:00:00Z,"fan",1\n'
        b"2024-01-01T00:00:01Z,fan,\xff\xfe\n"  # not UTF-8: one bad cell
        b'2024-01-01T00:00:02Z,"fan\nx",2\n'  # a quoted line break: unknown sensor on line 4
        b"2024-01-01T00:00:03Z,fan,3\n"
    )
    store = _store(tmp_path / "h")
    report = import_history(store, IDS, path)
    assert [(p.line, p.reason) for p in report.problems] == [
        (3, "value '\ufffd\ufffd' is not a number"),
        (4, "unknown sensor 'fan\\nx'"),
    ]
    assert report.imported == 2
    ns = tmp_path / "ns.parquet"
    pq.write_table(pa.table({"time": pa.array([1_700_000_000_123_456_000]), "fan": [1.0]}), ns)
    assert import_history(store, IDS, ns).imported == 1
    assert store.at(1_700_000_000.123456)[1][2] == 1_700_000_000.123456
    store.close()


def test_a_large_file_is_parsed_by_columns(tmp_path: Path) -> None:
    n = 200_000
    t = 1.7e12 + np.arange(n) * 10  # epoch milliseconds
    lines = [f"{int(x)},{i % 3},{i * 0.5}" for i, x in enumerate(t)]
    lines[150_000] = "1700001500000,1,oops"
    path = tmp_path / "big.csv"
    path.write_text("timestamp,sensor,value\n" + "\n".join(lines) + "\n")
    store = _store(tmp_path / "h")
    mapping = ImportMapping(rename={"0": "pump_a", "1": "pump_b", "2": "fan"})
    report = import_history(store, IDS, path, mapping)
    assert report.imported == n - 1
    assert [(p.line, p.reason) for p in report.problems] == [
        (150_002, "value 'oops' is not a number")
    ]
    assert report.time_range == (1.7e9, 1.7e9 + (n - 1) / 100)
    store.close()
