"""The PostgreSQL history store against a real server (started once per test session).

The same contract as the embedded store (tests/test_history.py): at(t) against brute force on
random data with out-of-order and duplicate times, chart series never hiding a spike, read(),
retention, reordered sensors; plus what a server adds: a read-only viewer beside the recorder,
clear errors for a bad or unreachable URL, and `record --history URL` / `history stats`.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ASSETS, drop_pg_schema, pg_schema_url
from tests.history_cases import IDS, brute_at, check_buckets, history
from twinviewer.core.project import load_project
from twinviewer.core.samples import SampleBatch
from twinviewer.history import pg_local

psycopg = pytest.importorskip("psycopg", reason="psycopg 3 is not installed (the postgres extra)")

from twinviewer.history import pg_blocks, pg_codec, postgres  # noqa: E402
from twinviewer.history.postgres import HistoryDatabaseError, PostgresHistoryStore  # noqa: E402

LAYOUTS = ["blocks", "rows"]


def _store(url: str, ids: list[str] = IDS, **kw: object) -> PostgresHistoryStore:
    return PostgresHistoryStore(url, ids, writer_thread=False, **kw)  # type: ignore[arg-type]


@pytest.fixture(params=LAYOUTS)
def layout(request: pytest.FixtureRequest) -> str:
    """Each test of a store runs on both layouts: compressed blocks (new schemas) and a row
    per sample (schemas recorded before, and ``?layout=rows``)."""
    return str(request.param)


@pytest.fixture
def url(pg_url: str, layout: str) -> str:
    """A fresh schema of the test's layout."""
    return f"{pg_url}&layout={layout}"


@pytest.fixture
def small_keyframes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keyframes every 3 main rows and blocks of 1 s, so that small data crosses many of them
    (and blocks are closed, merged with their tail parts and read back); a slot of the
    blocks' slot tables per sample, so that at(t) cuts windows out of blocks of 2 samples and
    more (the narrowest windows: a wrong bound shows at once)."""
    monkeypatch.setattr(pg_codec, "SLOT_SAMPLES", 1)
    monkeypatch.setattr(postgres, "KEYFRAME_MIN_ROWS", 3)
    monkeypatch.setattr(postgres, "KEYFRAME_ROWS_PER_SENSOR", 0)
    monkeypatch.setattr(pg_blocks, "BLOCK_KEYFRAME_ROWS_PER_SENSOR", 0)
    monkeypatch.setattr(pg_blocks, "BLOCK_WIDTH", 1.0)


def _write(url: str, batches: list, reopen_after: int, **kw: object) -> PostgresHistoryStore:
    store = _store(url, **kw)
    for i, (batch, flush) in enumerate(batches):
        s, t, v = zip(*batch, strict=True)
        store.append(SampleBatch.of(s, t, v))
        if flush:
            store.flush()
        if i == reopen_after:  # a restarted recorder continues the same sequence
            store.close()
            store = _store(url, **kw)
    store.flush()
    return store


@pytest.mark.parametrize("layout", LAYOUTS)
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    batches=history,
    reopen=st.integers(0, 5),
    instants=st.lists(st.integers(-2, 42), min_size=1, max_size=8),
)
def test_at_equals_brute_force(
    pg_server, small_keyframes, layout, batches, reopen, instants
) -> None:
    url = f"{pg_schema_url(pg_server)}&layout={layout}"
    store = _write(url, batches, reopen)
    samples = [x for batch, _ in batches for x in batch]
    reader = PostgresHistoryStore(url, IDS, writer=False)
    try:
        for k in instants:
            t = 1.7e9 + k * 0.25 + (0.1 if k % 3 == 0 else 0.0)
            bv, bw = brute_at(samples, t, len(IDS))
            for who in (store, reader):
                value, when = who.at(t)
                np.testing.assert_array_equal(when, bw, err_msg=f"time at {t}")
                np.testing.assert_array_equal(value, bv, err_msg=f"value at {t}")
        assert store.stats()["samples"] == len(samples)
        assert store.layout == reader.layout == layout
        s, tt, vv = reader.read()
        expect = sorted(samples, key=lambda x: x[1])  # stable: time, then append order
        assert list(zip(s.tolist(), tt.tolist(), vv.tolist(), strict=True)) == expect
        times = [x[1] for x in samples]
        assert reader.time_range() == (min(times), max(times))
        for k in instants[:3]:  # stepping to the next and the previous sample
            t = 1.7e9 + k * 0.25 + 0.1
            later = [x for x in times if x > t]
            earlier = [x for x in times if x < t]
            assert reader.neighbour(t, +1) == (min(later) if later else None)
            assert reader.neighbour(t, -1) == (max(earlier) if earlier else None)
            mine = [x[1] for x in samples if x[0] == 1 and x[1] > t]
            assert reader.neighbour(t, +1, [1]) == (min(mine) if mine else None)
    finally:
        reader.close()
        store.close()
        drop_pg_schema(url)


@pytest.mark.parametrize("layout", LAYOUTS)
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    batches=history,
    sensor=st.integers(0, len(IDS) - 1),
    span=st.tuples(st.integers(-2, 42), st.integers(0, 44)),
    pixels=st.integers(1, 4),
    blocks=st.booleans(),
)
def test_series_equals_brute_force(
    pg_server, small_keyframes, layout, batches, sensor, span, pixels, blocks
) -> None:
    url = f"{pg_schema_url(pg_server)}&layout={layout}"
    store = _write(url, batches, -1, block_levels=(0.5, 2.0))  # small blocks for small data
    if blocks:
        store.raw_rows_limit = 0  # force the summary-block path
    samples = [x for batch, _ in batches for x in batch]
    t0 = 1.7e9 + span[0] * 0.25
    t1 = t0 + span[1] * 0.25
    try:
        out = store.series(sensor, t0, t1, pixels)
        mine = [(ts, v) for s, ts, v in samples if s == sensor and t0 <= ts <= t1]
        if not blocks and len(mine) < 2 * pixels:  # raw samples, by time then append order
            expect = sorted(mine, key=lambda x: x[0])
            assert list(out[0]) == [x[0] for x in expect]
            assert list(out[1]) == [x[1] for x in expect]
        else:
            check_buckets(samples, sensor, t0, t1, pixels, out, exact_last=not blocks)
        if blocks:
            out = store.series(sensor, t0, 1.8e9, pixels)
            check_buckets(samples, sensor, t0, 1.8e9, pixels, out, exact_last=True)
    finally:
        store.close()
        drop_pg_schema(url)


# -- the embedded store's fixed cases ------------------------------------------------------------


def test_duplicates_and_out_of_order_are_deterministic(url: str) -> None:
    store = _store(url)
    store.append(SampleBatch.of([0, 0, 1], [10.0, 10.0, 12.0], [1.0, 2.0, 5.0]))
    store.append(SampleBatch.of([0], [10.0], [3.0]))
    store.flush()
    store.append(SampleBatch.of([0, 1], [9.0, 12.0], [7.0, 6.0]))  # late, and a late duplicate
    store.flush()
    v, t = store.at(11.0)
    assert (v[0], t[0]) == (3.0, 10.0)
    v, t = store.at(12.0)
    assert (v[1], t[1]) == (6.0, 12.0)  # the late duplicate was appended last: it wins
    v, t = store.at(9.5)
    assert (v[0], t[0]) == (7.0, 9.0)
    stats = store.stats()
    assert stats["samples"] == 6 and stats["late_samples"] == 1
    assert store.time_range() == (9.0, 12.0)
    assert store.neighbour(10.0, +1) == 12.0 and store.neighbour(10.0, -1) == 9.0
    assert store.neighbour(9.0, +1, [1]) == 12.0 and store.neighbour(12.0, +1) is None
    store.close()
    again = _store(url)
    assert again.at(12.0)[0][1] == 6.0 and again.at(11.0)[0][0] == 3.0
    s, tt, vv = again.read()
    assert list(vv) == [7.0, 1.0, 2.0, 3.0, 5.0, 6.0]
    assert list(again.read(10.0, 10.0)[2]) == [1.0, 2.0, 3.0]
    again.close()


def test_blocks_closed_over_their_tail_keep_the_tie_rule(pg_url: str) -> None:
    """A block still open at one flush (its part waits in the tail) and closed by the next,
    which brings a sample of equal time: the later one wins, in the merged block as before."""
    store = _store(f"{pg_url}&layout=blocks", ["a", "b"])
    assert store.layout == "blocks" and store.block_width == 10.0
    store.append(SampleBatch.of([0, 1], [12.0, 12.0], [1.0, 5.0]))
    store.flush()
    with store._query() as conn:
        assert conn.execute(store._sql("SELECT count(*) FROM {t}", t="tail")).fetchone() == (2,)
    store.append(SampleBatch.of([0, 0, 1], [12.0, 25.0, 12.0], [2.0, 3.0, 6.0]))
    store.flush()
    with store._query() as conn:  # block 10-20 s closed: merged into one chunk per sensor
        rows = conn.execute(
            store._sql("SELECT sensor, n, vfirst, vlast FROM {c} ORDER BY sensor", c="chunks")
        ).fetchall()
    assert rows == [(0, 2, 1.0, 2.0), (1, 2, 5.0, 6.0)]
    reader = PostgresHistoryStore(f"{pg_url}&layout=blocks", ["a", "b"], writer=False)
    for who in (store, reader):
        assert who.at(12.0)[0].tolist() == [2.0, 6.0]
        assert who.at(20.0)[0].tolist() == [2.0, 6.0]
        assert who.read()[2].tolist() == [1.0, 5.0, 2.0, 6.0, 3.0]  # append order
        assert who.series(0, 0.0, 30.0, 100)[1].tolist() == [1.0, 2.0, 3.0]
    reader.close()
    store.close()


def test_a_schema_recorded_before_the_block_layout_keeps_its_rows(pg_url: str) -> None:
    """A schema of format 1 (a row per sample, made before the block layout existed: its state
    row lacks the new columns) is read and written as before; new schemas get blocks."""
    old = _store(f"{pg_url}&layout=rows", ["a"])
    old.append(SampleBatch.of([0], [1.0], [1.0]))
    old.close()
    with psycopg.connect(postgres.split_url(pg_url)[0], autocommit=True) as admin:
        admin.execute(
            f'ALTER TABLE "{postgres.split_url(pg_url)[1]}".twinviewer_state '
            "DROP COLUMN t_min, DROP COLUMN block_width, DROP COLUMN ties_at_max"
        )
    store = _store(pg_url, ["a"])  # no layout option: the schema's own
    assert store.layout == "rows"
    store.append(SampleBatch.of([0], [2.0], [2.0]))
    store.flush()
    reader = PostgresHistoryStore(pg_url, ["a"], writer=False)
    assert reader.layout == "rows" and reader.read()[2].tolist() == [1.0, 2.0]
    assert reader.at(1.5)[0].tolist() == [1.0]
    reader.close()
    store.close()
    with pytest.raises(ValueError, match="layout='columns'"):
        PostgresHistoryStore(pg_schema_url(pg_url.split("?")[0]) + "&layout=columns", ["a"])


def test_changed_sensor_list_keeps_history(url: str) -> None:
    store = _store(url, ["a", "b", "c"])
    store.append(SampleBatch.of([0, 1, 2], [1.0, 1.0, 1.0], [10.0, 20.0, 30.0]))
    store.close()
    store = _store(url, ["d", "c", "a"])  # reordered, one gone, one new
    v, _ = store.at(5.0)
    np.testing.assert_array_equal(v, [np.nan, 30.0, 10.0])
    store.append(SampleBatch.of([0], [2.0], [40.0]))
    store.close()
    store = _store(url, ["a", "b", "c", "d"])
    np.testing.assert_array_equal(store.at(5.0)[0], [10.0, 20.0, 30.0, 40.0])
    assert store.series(1, 0.0, 5.0, 100)[1].tolist() == [20.0]
    assert store.sensor_ids == ["a", "b", "c", "d"] and store.n_store == 4
    store.close()


def test_retention_deletes_old_samples(url: str) -> None:
    store = _store(url, retention=100.0)
    now = 2.0e9
    store.append(SampleBatch.of([0, 1], [now - 1000, now - 900], [1.0, 2.0]))
    store.flush(now=now - 850)
    store.append(SampleBatch.of([0], [now - 10], [3.0]))
    store.flush(now=now)
    assert store.stats()["samples"] == 1
    assert store.time_range() == (now - 10, now - 10)
    np.testing.assert_array_equal(store.read()[2], [3.0])
    store.close()
    store = _store(url)
    assert store.stats()["samples"] == 1
    store.close()


def test_many_rows_keyframes_and_blocks(url: str) -> None:
    """Enough rows for real keyframes and the block path; at(t) and series against numpy."""
    rng = np.random.default_rng(5)
    sensors, n = 50, 60_000
    t = 1.7e9 + np.arange(n) * 0.05  # 3,000 s: blocks of 10 s and 100 s
    s = rng.integers(0, sensors, n)
    v = np.round(rng.normal(size=n), 3)
    v[n // 2] = 99.0  # a spike
    ids = [f"s{i}" for i in range(sensors)]
    store = _store(url, ids)
    for a in range(0, n, 7_000):  # several flushes
        store.append(SampleBatch.of(s[a : a + 7_000], t[a : a + 7_000], v[a : a + 7_000]))
        store.flush()
    for q in (t[0] - 1, t[123], t[n // 2] + 0.01, t[-1] + 5):
        value, when = store.at(float(q))
        for k in range(sensors):
            m = np.flatnonzero((s == k) & (t <= q))
            if len(m):
                assert (value[k], when[k]) == (v[m[-1]], t[m[-1]])
            else:
                assert math.isnan(value[k])
    k = int(s[n // 2])
    store.raw_rows_limit = 100  # the block path
    bt, vmin, vmax, vlast = store.series(k, float(t[0]), float(t[-1]), 50)
    assert 10 <= len(bt) <= 50
    assert vmax.max() == 99.0 and vmin.min() == v[s == k].min()
    mine_t, mine_v = t[s == k], v[s == k]
    for i in range(len(bt) - 1):
        m = (mine_t >= bt[i]) & (mine_t < bt[i + 1])
        assert vmin[i] == mine_v[m].min() and vmax[i] == mine_v[m].max()
        assert vlast[i] == mine_v[m][-1]
    store.raw_rows_limit = 10**9  # the raw path: the same spike
    assert store.series(k, float(t[0]), float(t[-1]), 50)[2].max() == 99.0
    store.close()


def test_at_inside_dense_blocks(pg_url: str) -> None:
    """Blocks of thousands of samples (slot tables of 1-, 2- and 4-byte counts: 10 Hz, 100 Hz
    and 7 kHz), jittered and with repeated times, in chunks and in tail parts of several
    flushes: at(t), whose server cuts out only the samples around t, equals brute force."""
    rng = np.random.default_rng(9)
    rates = {0: 10.0, 1: 100.0, 2: 7000.0}
    parts = []
    for k, hz in rates.items():
        tk = np.round(1.7e9 + np.sort(rng.uniform(0, 25, int(25 * hz))), 3)  # ms: repeats
        parts.append((np.full(len(tk), k), tk))
    s = np.concatenate([p[0] for p in parts])
    t = np.concatenate([p[1] for p in parts])
    order = np.argsort(t, kind="stable")
    s, t = s[order], t[order]
    v = np.round(rng.normal(size=len(t)), 2) * (1 + np.arange(len(t)) % 3 * 1e-9)
    ids = ["a", "b", "c"]
    store = _store(f"{pg_url}&layout=blocks", ids)
    bounds = np.searchsorted(t, 1.7e9 + np.array([4.0, 11.0, 13.5, 20.5, 26.0]))
    for a, b in zip(np.r_[0, bounds[:-1]], bounds, strict=True):  # flushes mid-block
        store.append(SampleBatch.of(s[a:b], t[a:b], v[a:b]))
        store.flush()
    reader = PostgresHistoryStore(f"{pg_url}&layout=blocks", ids, writer=False)
    with store._query() as conn:
        held = conn.execute(
            store._sql(
                "SELECT max(n), count(*) FILTER (WHERE get_byte(data, 6) > 0) FROM "
                "(SELECT n, data FROM {c} UNION ALL SELECT n, data FROM {ta}) x",
                c="chunks",
                ta="tail",
            )
        ).fetchone()
    assert held is not None and held[0] > 65535 and held[1] > 3  # 4-byte counts, slot tables
    probes = np.r_[rng.uniform(t[0] - 1, t[-1] + 1, 60), rng.choice(t, 40)]
    for q in probes:
        for who in (store, reader):
            value, when = who.at(float(q))
            for k in range(3):
                m = np.flatnonzero((s == k) & (t <= q))
                expect = (v[m[-1]], t[m[-1]]) if len(m) else (np.nan, np.nan)
                np.testing.assert_array_equal([value[k], when[k]], expect, err_msg=f"{k} {q}")
    reader.close()
    store.close()


def test_the_first_block_format_is_refused_clearly(pg_url: str) -> None:
    """A schema of the block layout's first format (2: delta-of-delta blocks) is refused by
    writers and readers with a message that says what to do."""
    store = _store(f"{pg_url}&layout=blocks", ["a"])
    store.append(SampleBatch.of([0], [1.0], [1.0]))
    store.close()
    with psycopg.connect(postgres.split_url(pg_url)[0], autocommit=True) as admin:
        admin.execute(f'UPDATE "{postgres.split_url(pg_url)[1]}".twinviewer_state SET version = 2')
    for writer in (True, False):
        with pytest.raises(HistoryDatabaseError, match="format 2.*no longer reads"):
            PostgresHistoryStore(pg_url, ["a"], writer=writer, writer_thread=False)


# -- a server: one recorder, several viewers ---------------------------------------------------


def test_reader_sees_what_the_writer_thread_flushed(url: str) -> None:
    writer = PostgresHistoryStore(url, ["a", "b"], flush_interval=0.2)
    reader = PostgresHistoryStore(url, ["b", "a", "new"], writer=False)
    other = PostgresHistoryStore(url, ["a"], writer=False)
    try:
        writer.append(SampleBatch.of([0, 1], [100.0, 101.0], [1.5, 2.5]))
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and np.isnan(reader.at(200.0)[0][0]):
            time.sleep(0.05)
        v, t = reader.at(200.0)
        np.testing.assert_array_equal(v, [2.5, 1.5, np.nan])
        np.testing.assert_array_equal(other.at(200.0)[0], [1.5])
        assert reader.series(0, 0.0, 300.0, 10)[1].tolist() == [2.5]
        assert reader.stats()["samples"] == 2
        with pytest.raises(RuntimeError, match="read-only"):
            reader.append(SampleBatch.of([0], [1.0], [1.0]))
    finally:
        writer.close()
        reader.close()
        other.close()
    assert reader.stats()["samples"] == 2  # a closed store still answers


def test_a_second_recorder_only_reads(url: str) -> None:
    """A viewer that would record (the window does) beside the recorder service reads only."""
    first = _store(url, ["a"])
    second = _store(url, ["a"])
    try:
        assert first.writable and not second.writable
        assert second.read_only_reason == "another recorder writes there"
        second.append(SampleBatch.of([0], [5.0], [1.0]))  # dropped: the recorder has it
        assert second.stats()["dropped"] == 1
        first.append(SampleBatch.of([0], [5.0], [2.0]))
        first.flush()
        assert second.at(6.0)[0].tolist() == [2.0]
    finally:
        first.close()
        second.close()
    third = _store(url, ["a"])  # the recorder is gone: the next one writes
    assert third.writable
    third.close()


def test_writer_reconnects_after_losing_its_connection(url: str) -> None:
    store = _store(url, ["a"])
    store.append(SampleBatch.of([0], [1.0], [1.0]))
    store.flush()
    conninfo, _ = postgres.split_url(url)
    assert store._wconn is not None and store._qconn is not None
    pids = [store._wconn.info.backend_pid, store._qconn.info.backend_pid]
    with psycopg.connect(conninfo, autocommit=True) as admin:
        for pid in pids:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    store.append(SampleBatch.of([0], [2.0], [2.0]))
    with pytest.raises(psycopg.OperationalError):
        store.flush()  # the loss is noticed; the buffer is kept
    store.flush()  # a new connection
    with pytest.raises(psycopg.OperationalError):
        store.at(5.0)  # the query connection notices too...
    assert store.at(5.0)[0].tolist() == [2.0]  # ...and reconnects
    assert store.stats()["samples"] == 2
    store.close()


def test_read_only_on_an_empty_schema_is_a_clear_error(pg_url: str) -> None:
    with pytest.raises(HistoryDatabaseError, match="no TwinViewer history in schema"):
        PostgresHistoryStore(pg_url, IDS, writer=False)


def test_unreachable_server_names_the_url_without_password() -> None:
    port = pg_local._free_port()
    url = f"postgresql://bob:s3cret-pw@127.0.0.1:{port}/plant"
    with pytest.raises(HistoryDatabaseError) as info:
        PostgresHistoryStore(url, IDS)
    text = str(info.value)
    assert f"postgresql://bob@127.0.0.1:{port}/plant" in text and "cannot connect" in text
    assert "s3cret-pw" not in text
    assert isinstance(info.value, OSError)  # the command line reports it as an error


def test_wrong_credentials_name_the_url(pg_server: str) -> None:
    base = pg_server.replace("twinviewer@", "nobody:hunter2@")
    with pytest.raises(HistoryDatabaseError) as info:
        PostgresHistoryStore(base, IDS)
    assert "nobody@127.0.0.1" in str(info.value) and "hunter2" not in str(info.value)


def test_project_url_is_validated(tmp_path: Path) -> None:
    from twinviewer.core.project import ProjectError, load_project

    p = tmp_path / "p.twin.yaml"
    p.write_text("models: [m.glb]\nhistory: {url: 'mysql://root:pw@db/x'}\n", encoding="utf-8")
    with pytest.raises(ProjectError) as info:
        load_project(p)
    text = str(info.value)
    assert "history.url" in text and "postgresql://" in text and "pw@" not in text


def test_open_history_selects_postgres(pg_url: str, tmp_path: Path, monkeypatch) -> None:
    from twinviewer.core.project import History, ModelRef, Project, Sensor
    from twinviewer.history.store import HistoryStore
    from twinviewer.session import HISTORY_URL_ENV, open_history

    monkeypatch.delenv(HISTORY_URL_ENV, raising=False)
    sensors = [Sensor(id="x", quantity="temperature", unit="C", range=(0, 1))]  # type: ignore[call-arg]
    project = Project(models=[ModelRef(path="m.glb")], sensors=sensors)
    path = tmp_path / "p.twin.yaml"
    path.write_text("models: [m.glb]\n")
    store = open_history(project, tmp_path, path)
    assert isinstance(store, HistoryStore)
    store.close()
    store = open_history(project, tmp_path, path, pg_url)  # the command line's override
    assert isinstance(store, PostgresHistoryStore)
    store.close()
    project.history = History(url=pg_url)
    store = open_history(project, tmp_path, path, writer=False)
    assert isinstance(store, PostgresHistoryStore) and not store.writable
    store.close()


def test_record_then_history_stats_through_postgres(pg_url: str, tmp_path: Path) -> None:
    mine = ASSETS / "mine"
    shutil.copy(mine / "mine.glb", tmp_path / "mine.glb")
    project = tmp_path / "mine.twin.yaml"
    project.write_text((mine / "mine.twin.yaml").read_text())

    def twinviewer(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "twinviewer", *args], capture_output=True, text=True, timeout=60
        )

    r = twinviewer("record", str(project), "--history", pg_url, "--duration", "2", "--json")
    assert r.returncode == 0, r.stderr
    recorded = json.loads(r.stdout)
    accepted = recorded["sources"][0]["accepted"]
    assert recorded["history"]["samples"] == accepted > 0
    assert recorded["history"]["path"].startswith("postgresql://twinviewer@127.0.0.1")
    h = twinviewer("history", str(project), "stats", "--history", pg_url, "--json")
    assert h.returncode == 0, h.stderr
    stats = json.loads(h.stdout)
    n_sensors = len(load_project(project)[0].sensors)
    assert stats["samples"] == accepted and stats["sensors"] == n_sensors
    out = tmp_path / "at.png"  # the recorded state, read back from the database
    r = twinviewer(
        "render",
        str(project),
        "--at",
        "live",
        "--history",
        pg_url,
        "-o",
        str(out),
        "--size",
        "320x200",
    )
    assert r.returncode == 0, r.stderr
    assert out.stat().st_size > 1000
    assert not (tmp_path / "mine.history").exists()  # nothing recorded beside the project
    bad = twinviewer(
        "history", str(project), "stats", "--history", "postgresql://u:pw@127.0.0.1:1/x"
    )
    assert bad.returncode == 1
    assert "postgresql://u@127.0.0.1:1/x" in bad.stderr and "pw" not in bad.stderr


def test_missing_psycopg_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if not installed
    with pytest.raises(ImportError, match=r"pip install 'twinviewer\[postgres\]'"):
        PostgresHistoryStore("postgresql://u@127.0.0.1:1/x", IDS)
