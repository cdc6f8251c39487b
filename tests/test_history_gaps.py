"""Gaps in the history: recorded durably beside the samples (embedded and PostgreSQL), queried by
window and sensor, retired by retention, carried through export and import in a sidecar, and
listed by `twinviewer history PROJECT gaps`.

Everything runs on real files, a real store and (where installed) a real PostgreSQL server."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ASSETS, ROOT
from twinviewer.cli import main
from twinviewer.core.gaps import BROKER_RESTART, DISCONNECTION, SEQUENCE, Gap
from twinviewer.core.samples import SampleBatch
from twinviewer.history import HistoryStore
from twinviewer.history.gap_file import GAPS_FILE
from twinviewer.history.transfer import ImportMapping, export_history, import_history
from twinviewer.history.transfer_gaps import gap_sidecar, read_gap_sidecar

IDS = ["pump_a", "pump_b", "fan"]
T0 = 1_750_000_000.0

# on a microsecond grid (what an export keeps exactly), out of start order, one source-wide
GAPS = [
    Gap("mqtt", ("pump_a",), T0 + 10.25, T0 + 12.5, 9, SEQUENCE, True, "seq 41 -> 51"),
    Gap("mqtt", ("pump_a", "pump_b"), T0 + 100.0, T0 + 160.000001, 120, DISCONNECTION, False),
    Gap("opcua", (), T0 + 5.0, T0 + 6.0, 3, BROKER_RESTART, True, "session lost"),
    Gap("mqtt", ("fan",), T0 + 300.0, T0 + 300.5, 1),
]


def _store(folder: Path, ids: list[str] = IDS, **kw: object) -> HistoryStore:
    return HistoryStore(folder, ids, writer_thread=False, **kw)  # type: ignore[arg-type]


def _by_start(gaps: list[Gap]) -> list[Gap]:
    return sorted(gaps, key=lambda g: (g.start, g.end))


# -- the embedded store ------------------------------------------------------------------------


def test_gaps_survive_close_and_reopen(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.add_gaps(GAPS[:2])
    store.add_gaps([])  # nothing: no file churn, no error
    store.add_gaps(GAPS[2:])
    assert store.gaps() == _by_start(GAPS)
    store.close()
    with pytest.raises(RuntimeError, match="closed"):
        store.add_gaps(GAPS[:1])

    again = _store(tmp_path)
    assert again.gaps() == _by_start(GAPS)
    stats = again.stats()
    assert stats["gaps"] == 4
    assert stats["gap_samples"] == 9 + 120 + 3 + 1
    assert stats["gap_lines_skipped"] == 0
    # one JSON object per line, readable by hand
    lines = (tmp_path / GAPS_FILE).read_text().splitlines()
    assert [json.loads(line) for line in lines] == [g.as_dict() for g in GAPS]
    again.close()


def test_gaps_are_durable_when_add_gaps_returns(tmp_path: Path) -> None:
    """A recorder killed with SIGKILL right after recording a gap (no flush, no close)."""
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from twinviewer.core.gaps import Gap\n"
        "from twinviewer.history import HistoryStore\n"
        "store = HistoryStore.open(Path(sys.argv[1]), ['pump_a'], flush_interval=3600)\n"
        "store.add_gaps([Gap('mqtt', ('pump_a',), 1.5, 2.5, 7)])\n"
        "print('recorded', flush=True)\n"
        "time.sleep(60)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    try:
        assert proc.stdout.readline().strip() == "recorded"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    store = _store(tmp_path, ["pump_a"])
    assert store.gaps() == [Gap("mqtt", ("pump_a",), 1.5, 2.5, 7)]
    store.close()


def test_torn_last_line_and_bad_lines_are_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = _store(tmp_path)
    store.add_gaps(GAPS[:2])
    store.close()
    path = tmp_path / GAPS_FILE
    good = path.read_bytes()
    whole = json.dumps(GAPS[2].as_dict()).encode()
    # a line that is JSON but not a gap, then a crash halfway through writing the last line
    path.write_bytes(good + b'{"source": "x", "start": 2, "end": 1}\n' + whole[: len(whole) // 2])

    with caplog.at_level(logging.WARNING, logger="twinviewer.history.gap_file"):
        store = _store(tmp_path)
    assert store.gaps() == _by_start(GAPS[:2])
    assert store.stats()["gap_lines_skipped"] == 2
    assert "line 3 skipped (not a gap)" in caplog.text
    assert "line 4 skipped (torn by a crash" in caplog.text

    # the next gap starts on a line of its own: it is not glued to the torn tail
    store.add_gaps([GAPS[3]])
    store.close()
    store = _store(tmp_path)
    assert store.gaps() == _by_start([*GAPS[:2], GAPS[3]])
    assert store.stats()["gap_lines_skipped"] == 2
    store.close()


def test_window_and_sensor_filtering(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.add_gaps(GAPS)
    a, b, c, d = GAPS
    assert store.gaps() == [c, a, b, d]  # by start, whatever the order recorded
    assert store.gaps(T0 + 11, T0 + 11) == [a]  # inside one gap
    assert store.gaps(T0 + 12.5, T0 + 100) == [a, b]  # touching both ends counts
    assert store.gaps(T0 + 12.6, T0 + 99.9) == []
    assert store.gaps(None, T0 + 6) == [c]
    assert store.gaps(T0 + 200, None) == [d]
    # a gap listing no sensors concerns every sensor
    assert store.gaps(sensor="pump_a") == [c, a, b]
    assert store.gaps(sensor="pump_b") == [c, b]
    assert store.gaps(sensor="fan") == [c, d]
    assert store.gaps(T0 + 50, None, sensor="pump_b") == [b]
    assert store.gaps(sensor="nobody") == [c]
    store.close()


def test_retention_drops_gaps_that_ended_before_the_cutoff(tmp_path: Path) -> None:
    store = _store(tmp_path, retention=100.0)
    store.append(SampleBatch.of([0], [T0 + 1], [1.0]))
    store.flush(now=T0 + 50)  # cutoff T0 - 50: nothing is that old
    store.append(SampleBatch.of([1], [T0 + 200], [2.0]))
    store.add_gaps(GAPS)
    store.flush(now=T0 + 50)
    assert len(store.gaps()) == 4
    store.flush(now=T0 + 110)  # cutoff T0 + 10: the opcua gap (ended T0 + 6) goes
    assert store.gaps() == _by_start(GAPS[:2] + GAPS[3:])
    store.flush(now=T0 + 260.000002)  # cutoff just past b's end (T0 + 160.000001)
    assert store.gaps() == [GAPS[3]]
    assert store.stats()["samples"] == 1  # the old sample went with its segment
    again = _store(tmp_path)  # the file was rewritten, not just the memory
    assert again.gaps() == [GAPS[3]]
    assert again.stats()["gap_samples"] == 1
    again.close()
    store.close()  # (retention by the wall clock: these 2025 gaps go now)
    after = _store(tmp_path)
    assert after.gaps() == [] and not (tmp_path / GAPS_FILE).exists()
    after.close()


# -- PostgreSQL --------------------------------------------------------------------------------


def test_postgres_gaps(pg_url: str) -> None:
    from twinviewer.history.postgres import PostgresHistoryStore

    store = PostgresHistoryStore(pg_url, IDS, writer_thread=False)
    store.add_gaps(GAPS[:3])
    reader = PostgresHistoryStore(pg_url, IDS, writer=False)
    try:
        # committed at once: a reader sees them before any flush
        assert reader.gaps() == _by_start(GAPS[:3])
        with pytest.raises(RuntimeError, match="read-only"):
            reader.add_gaps(GAPS[:1])
    finally:
        reader.close()
    store.add_gaps(GAPS[3:])
    store.close()

    store = PostgresHistoryStore(pg_url, IDS, writer_thread=False, retention=100.0)
    a, b, c, d = GAPS
    try:
        assert store.gaps() == [c, a, b, d]
        assert store.gaps(T0 + 12.5, T0 + 100) == [a, b]
        assert store.gaps(T0 + 12.6, T0 + 99.9) == []
        assert store.gaps(sensor="pump_b") == [c, b]
        assert store.gaps(T0 + 50, None, sensor="pump_b") == [b]
        assert store.gaps(sensor="nobody") == [c]
        stats = store.stats()
        assert (stats["gaps"], stats["gap_samples"]) == (4, 133)
        store.append(SampleBatch.of([0], [T0 + 200], [1.0]))
        store.flush(now=T0 + 110)  # cutoff T0 + 10
        assert store.gaps() == [a, b, d]
    finally:
        store.close()


def test_postgres_database_from_before_gaps(pg_url: str) -> None:
    """A schema recorded before gaps existed: a viewer reads no gaps; a writer adds the table."""
    import psycopg

    from twinviewer.history.postgres import PostgresHistoryStore, split_url

    PostgresHistoryStore(pg_url, IDS, writer_thread=False).close()
    conninfo, schema = split_url(pg_url)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            psycopg.sql.SQL("DROP TABLE {}").format(
                psycopg.sql.Identifier(schema, "twinviewer_gaps")
            )
        )
    reader = PostgresHistoryStore(pg_url, IDS, writer=False)
    try:
        assert reader.gaps() == []
        assert reader.stats()["gaps"] == 0
    finally:
        reader.close()
    store = PostgresHistoryStore(pg_url, IDS, writer_thread=False)
    try:
        store.add_gaps(GAPS[:1])
        assert store.gaps() == GAPS[:1]
    finally:
        store.close()


# -- export and import -------------------------------------------------------------------------


def _filled(folder: Path) -> HistoryStore:
    store = _store(folder)
    t = T0 + np.arange(0, 400, 0.5)
    store.append(SampleBatch.of(np.arange(len(t)) % 3, t, np.sin(t)))
    store.flush()
    store.add_gaps(GAPS)
    return store


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_export_import_round_trip_keeps_the_gaps(tmp_path: Path, suffix: str) -> None:
    src = _filled(tmp_path / "src")
    out = tmp_path / f"out{suffix}"
    export_history(src, None, out)
    side = tmp_path / "out.gaps.csv"
    assert gap_sidecar(out) == side and side.is_file()
    header, first = side.read_text().splitlines()[:2]
    assert header == "source,sensors,start,end,missing,cause,exact,detail"
    assert first == "opcua,,2025-06-15T15:06:45.000000Z,2025-06-15T15:06:46.000000Z,3," + (
        "broker_restart,true,session lost"
    )

    dst = _store(tmp_path / "dst")
    report = import_history(dst, IDS, out)
    assert (report.gaps, report.gaps_skipped, report.gap_file) == (4, 0, str(side))
    assert dst.gaps() == src.gaps()
    assert "gaps: 4 imported from" in "\n".join(report.lines())
    assert report.as_dict()["gaps"] == 4
    # importing the same file again adds the samples again, but not the same losses
    again = import_history(dst, IDS, out)
    assert (again.gaps, again.gaps_skipped) == (0, 4)
    assert dst.gaps() == src.gaps()
    src.close()
    dst.close()


def test_export_of_some_sensors_and_window(tmp_path: Path) -> None:
    src = _filled(tmp_path / "src")
    out = tmp_path / "part.csv"
    export_history(src, None, out, T0 + 50, T0 + 400, sensors=["pump_b"])
    a, b, c, d = GAPS
    gaps = read_gap_sidecar(gap_sidecar(out)).gaps
    # b touches pump_b (listed with pump_a: half of its 120, now an estimate); a, c, d are
    # outside the window or not pump_b's
    assert gaps == [Gap(b.source, ("pump_b",), b.start, b.end, 60, b.cause, False, b.detail)]

    # a source-wide gap in an export of some sensors lists the exported ones
    export_history(src, None, out, T0, T0 + 8, sensors=["fan", "pump_a"])
    (only,) = read_gap_sidecar(gap_sidecar(out)).gaps
    assert only.sensors == ("fan", "pump_a") and only.missing == c.missing

    # an export without gaps removes the sidecar an earlier export left
    export_history(src, None, out, T0 + 350, T0 + 399)
    assert not gap_sidecar(out).exists()
    src.close()


def test_import_maps_and_drops_gap_sensors(tmp_path: Path) -> None:
    out = tmp_path / "plant.csv"
    out.write_text("time,sensor,value\n2025-06-15T15:06:40.000000Z,P1,1.5\n")
    gap_sidecar(out).write_text(
        "source,sensors,start,end,missing,cause,exact,detail\n"
        "mqtt,P1;ghost,2025-06-15T15:06:41Z,2025-06-15T15:06:42.5Z,4,sequence,true,\n"
        "mqtt,ghost,2025-06-15T15:06:41Z,2025-06-15T15:06:42Z,2,sequence,true,\n"
        "mqtt,P1,yesterday,2025-06-15T15:06:42Z,2,sequence,true,\n"
        "mqtt,,2025-06-15T15:06:43Z,2025-06-15T15:06:44Z,2,publisher,false,offline\n"
    )
    dst = _store(tmp_path / "dst")
    report = import_history(dst, IDS, out, ImportMapping(rename={"P1": "pump_a"}))
    assert report.imported == 1
    assert (report.gaps, report.gaps_skipped) == (2, 2)
    t = T0 + 1.0  # 2025-06-15T15:06:41Z
    assert dst.gaps() == [
        Gap("mqtt", ("pump_a",), t, t + 1.5, 4, SEQUENCE, True, ""),
        Gap("mqtt", (), t + 2, t + 3, 2, "publisher", False, "offline"),
    ]
    problems = "\n".join(report.gap_problems)
    assert "gap of ghost from" in problems and "none of its sensors is a project sensor" in problems
    assert f"{gap_sidecar(out)}:4:" in problems  # the bad time, by line
    dst.close()


# -- the command line --------------------------------------------------------------------------


def _project(tmp_path: Path) -> Path:
    model = ASSETS / "mine" / "mine.glb"
    if not model.exists():
        pytest.skip("demo model not built")
    p = tmp_path / "plant.twin.yaml"
    sensors = "".join(
        f"  - {{id: {sid}, quantity: temperature, unit: degC, range: [0, 100], "
        "component: main_fan}\n"
        for sid in IDS
    )
    p.write_text(f"twinviewer: 1\nmodels: [{model}]\nsensors:\n{sensors}")
    return p


def test_cli_gaps_and_stats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = _project(tmp_path)
    store = _store(tmp_path / "plant.history")  # the project's default store folder
    store.append(SampleBatch.of([0, 1], [T0, T0 + 400], [1.0, 2.0]))
    store.add_gaps(GAPS)
    store.close()
    h = ["history", str(project)]

    assert main([*h, "gaps"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5
    assert lines[0] == (
        "3 samples missing from opcua (broker restart), 2025-06-15T15:06:45.000Z to "
        "2025-06-15T15:06:46.000Z (1.0 s); sensors: every sensor of the source; session lost"
    )
    assert lines[2].startswith("about 120 samples missing from mqtt (disconnection)")
    assert lines[2].endswith("sensors: pump_a, pump_b")
    assert lines[4].startswith("4 gaps, 133 samples missing (1 of the gaps estimated)")

    assert main([*h, "gaps", "--from", "2025-06-15T15:08:00Z", "--sensor", "pump_b", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["count"], out["missing"], out["sensor"]) == (1, 120, "pump_b")
    assert out["gaps"][0]["sensors"] == ["pump_a", "pump_b"]
    assert out["gaps"][0]["start_iso"] == "2025-06-15T15:08:20.000000Z"

    assert main([*h, "gaps", "--to", "2025-06-15T15:06:00Z"]) == 0
    assert capsys.readouterr().out.startswith("no gaps recorded")

    assert main([*h, "stats"]) == 0
    text = capsys.readouterr().out
    assert "gaps: 4" in text and "gap_samples: 133" in text
    assert main([*h, "stats", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert (stats["gaps"], stats["gap_samples"]) == (4, 133)

    # the export names its sidecar
    assert main([*h, "export", "-o", str(tmp_path / "all.csv")]) == 0
    assert capsys.readouterr().out.strip() == (
        f"exported 2 samples to {tmp_path / 'all.csv'}, 4 gaps to {tmp_path / 'all.gaps.csv'}"
    )

    assert main([*h, "gaps", "--sensor", "nope"]) == 1
    assert "not a sensor" in capsys.readouterr().err
    assert main([*h, "gaps", "--from", "soon"]) == 2
    assert main([*h, "gaps", "--sensor", "fan", "--sensor", "pump_a"]) == 2
