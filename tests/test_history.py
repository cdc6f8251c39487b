"""The history store: scrub results against brute force, ties, kill -9, retention, damage."""

from __future__ import annotations

import logging
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.history_cases import IDS, brute_at, check_buckets, history, sample
from twinviewer.core.samples import SampleBatch
from twinviewer.history import HistoryStore
from twinviewer.history import store as history_store

ROOT = Path(__file__).resolve().parents[1]


def _store(folder: Path, ids: list[str] = IDS, **kw: object) -> HistoryStore:
    return HistoryStore(folder, ids, writer_thread=False, **kw)  # type: ignore[arg-type]


def _write(folder: Path, batches: list, reopen_after: int) -> HistoryStore:
    store = _store(folder)
    for i, (batch, flush) in enumerate(batches):
        s, t, v = zip(*batch, strict=True)
        store.append(SampleBatch.of(s, t, v))
        if flush:
            store.flush()
        if i == reopen_after:
            store.close()
            store = _store(folder)
    store.flush()
    return store


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    batches=history,
    reopen=st.integers(0, 5),
    instants=st.lists(st.integers(-2, 42), min_size=1, max_size=8),
)
def test_at_equals_brute_force(tmp_path_factory, batches, reopen, instants) -> None:
    folder = tmp_path_factory.mktemp("h")
    store = _write(folder, batches, reopen)
    samples = [x for batch, _ in batches for x in batch]
    try:
        for k in instants:
            t = 1.7e9 + k * 0.25 + (0.1 if k % 3 == 0 else 0.0)
            value, when = store.at(t)
            bv, bw = brute_at(samples, t, len(IDS))
            np.testing.assert_array_equal(when, bw, err_msg=f"time at {t}")
            np.testing.assert_array_equal(value, bv, err_msg=f"value at {t}")
        assert store.stats()["samples"] == len(samples)
    finally:
        store.close()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    batches=history,
    reopen=st.integers(0, 5),
    instants=st.lists(st.integers(-2, 42), min_size=1, max_size=6),
    only=st.one_of(st.none(), st.lists(st.integers(0, len(IDS) - 1), min_size=1, max_size=3)),
)
def test_neighbour_equals_brute_force(tmp_path_factory, batches, reopen, instants, only) -> None:
    """Step to the previous/next sample (of some sensors) across main and late segments."""
    folder = tmp_path_factory.mktemp("h")
    store = _write(folder, batches, reopen)
    times = [ts for batch, _ in batches for s, ts, _v in batch if only is None or s in only]
    try:
        for k in instants:
            t = 1.7e9 + k * 0.25 + (0.1 if k % 3 == 0 else 0.0)
            after = [x for x in times if x > t]
            before = [x for x in times if x < t]
            assert store.neighbour(t, +1, only) == (min(after) if after else None)
            assert store.neighbour(t, -1, only) == (max(before) if before else None)
    finally:
        store.close()


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    batches=history,
    sensor=st.integers(0, len(IDS) - 1),
    span=st.tuples(st.integers(-2, 42), st.integers(0, 44)),
    pixels=st.integers(1, 4),
    blocks=st.booleans(),
)
def test_series_equals_brute_force(tmp_path_factory, batches, sensor, span, pixels, blocks) -> None:
    folder = tmp_path_factory.mktemp("h")
    block = history_store.BLOCK
    history_store.BLOCK = 3  # small blocks, so that blocks split and group even in small data
    try:
        store = _write(folder, batches, -1)
    finally:
        history_store.BLOCK = block
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
        if blocks:  # with t1 past everything the last bucket is exact as well
            out = store.series(sensor, t0, 1.8e9, pixels)
            check_buckets(samples, sensor, t0, 1.8e9, pixels, out, exact_last=True)
    finally:
        store.close()


def test_duplicates_and_out_of_order_are_deterministic(tmp_path: Path) -> None:
    store = _store(tmp_path)
    # three samples of sensor 0 at the same time: the last appended wins
    store.append(SampleBatch.of([0, 0, 1], [10.0, 10.0, 12.0], [1.0, 2.0, 5.0]))
    store.append(SampleBatch.of([0], [10.0], [3.0]))
    store.flush()
    # late: older than what is held, and a duplicate of a held time
    store.append(SampleBatch.of([0, 1], [9.0, 12.0], [7.0, 6.0]))
    store.flush()
    v, t = store.at(11.0)
    assert (v[0], t[0]) == (3.0, 10.0)
    assert (v[1], t[1]) == (6.0, 12.0) or math.isnan(v[1])
    v, t = store.at(12.0)
    assert (v[1], t[1]) == (6.0, 12.0)  # the late duplicate was appended last: it wins
    v, t = store.at(9.5)
    assert (v[0], t[0]) == (7.0, 9.0)
    assert store.stats()["samples"] == 6  # nothing dropped
    store.close()
    again = _store(tmp_path)
    assert again.at(12.0)[0][1] == 6.0 and again.at(11.0)[0][0] == 3.0
    s, tt, vv = again.read()
    assert list(vv) == [7.0, 1.0, 2.0, 3.0, 5.0, 6.0]
    again.close()


def test_changed_sensor_list_keeps_history(tmp_path: Path) -> None:
    store = _store(tmp_path, ["a", "b", "c"])
    store.append(SampleBatch.of([0, 1, 2], [1.0, 1.0, 1.0], [10.0, 20.0, 30.0]))
    store.close()
    store = _store(tmp_path, ["d", "c", "a"])  # reordered, one gone, one new
    v, _ = store.at(5.0)
    np.testing.assert_array_equal(v, [np.nan, 30.0, 10.0])
    store.append(SampleBatch.of([0], [2.0], [40.0]))
    store.close()
    store = _store(tmp_path, ["a", "b", "c", "d"])
    np.testing.assert_array_equal(store.at(5.0)[0], [10.0, 20.0, 30.0, 40.0])
    assert store.series(1, 0.0, 5.0, 100)[1].tolist() == [20.0]
    store.close()


def test_retention_deletes_old_segments(tmp_path: Path) -> None:
    store = _store(tmp_path, retention=100.0)
    now = 2.0e9
    store.append(SampleBatch.of([0, 1], [now - 1000, now - 900], [1.0, 2.0]))
    store.flush(now=now - 850)
    store.append(SampleBatch.of([0], [now - 10], [3.0]))
    store.flush(now=now)
    names = sorted(p.name for p in tmp_path.glob("*.parquet"))
    assert len(names) == 1
    assert store.stats()["samples"] == 1
    assert store.time_range() == (now - 10, now - 10)
    store.close()
    store = _store(tmp_path)
    assert store.stats()["samples"] == 1
    store.close()


def test_bytes_per_sample(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    n, sensors = 400_000, 200
    t = 1.7e9 + np.arange(n) * 1e-3
    s = rng.integers(0, sensors, n)
    v = np.round(np.cumsum(rng.normal(size=n)), 2).astype(np.float32).astype(np.float64)
    store = _store(tmp_path, [f"s{i}" for i in range(sensors)])
    store.append(SampleBatch.of(s, t, v), arrival=t + 0.01)
    store.close()
    stats = store.stats()
    assert stats["samples"] == n
    assert stats["bytes"] == sum(p.stat().st_size for p in tmp_path.iterdir())
    assert stats["bytes_per_sample"] < 8.0, stats


def test_damaged_segment_is_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = _store(tmp_path)
    for k in range(3):
        store.append(SampleBatch.of([0, 1], [float(k), float(k)], [k, 10.0 + k]))
        store.flush()
    store.close()
    segs = sorted(tmp_path.glob("*-m.parquet"))
    assert len(segs) == 3
    victim = segs[1]
    victim.write_bytes(victim.read_bytes()[:40] + b"garbage" * 10)
    (tmp_path / "000000000099-m.parquet.tmp").write_bytes(b"half a segment")
    with caplog.at_level(logging.WARNING):
        store = _store(tmp_path)
    assert victim.name in caplog.text
    assert victim.name in store.stats()["skipped_files"]
    assert not (tmp_path / "000000000099-m.parquet.tmp").exists()
    v, t = store.at(5.0)
    assert (v[0], v[1], t[0]) == (2.0, 12.0, 2.0)
    assert store.at(0.5)[0][0] == 0.0
    store.append(SampleBatch.of([0], [6.0], [99.0]))
    store.flush()
    assert store.at(7.0)[0][0] == 99.0
    store.close()


def test_broken_sidecar_is_rebuilt(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.append(SampleBatch.of([0, 1, 0], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0]))
    store.close()
    next(tmp_path.glob("*.blocks.npy")).write_bytes(b"nonsense")
    next(tmp_path.glob("*.keys.npy")).unlink()
    store = _store(tmp_path)
    assert store.at(2.5)[0].tolist()[:2] == [1.0, 2.0]
    store.raw_rows_limit = 0
    assert store.series(0, 0.0, 10.0, 1)[2].tolist() == [3.0]
    store.close()


def test_writer_thread_flushes(tmp_path: Path) -> None:
    store = HistoryStore.open(tmp_path, IDS, flush_interval=0.05)
    store.append(SampleBatch.of([0], [1.0], [1.0]))
    deadline = time.monotonic() + 5
    while store.stats()["samples"] == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert store.stats()["samples"] == 1
    store.close()


def test_kill_9_loses_at_most_the_last_second(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "history_writer.py"), str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    last = None
    started = time.monotonic()
    try:
        while time.monotonic() - started < 2.5:
            line = proc.stdout.readline()
            if not line:
                break
            last = float(line)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    assert last is not None, "the writer printed nothing"
    store = _store(tmp_path, [f"s{i}" for i in range(10)])
    s, t, v = store.read()
    assert len(v) > 0
    # the numbered samples held are exactly 0..n-1 (no gap) and reach one second before the kill
    np.testing.assert_array_equal(np.sort(v), np.arange(len(v)))
    assert t.max() >= last - 1.0, (t.max(), last)
    assert store.stats()["skipped_files"] == {}
    store.close()


# -- compaction --------------------------------------------------------------------------------


def _answers(store: HistoryStore, instants: list[float], spans: list[tuple[float, float]]):
    at = [store.at(t) for t in instants]
    series = [
        store.series(s, t0, t1, p) for s in range(len(IDS)) for t0, t1 in spans for p in (1, 3)
    ]
    return at, series, store.read()


def _assert_same(a, b) -> None:
    for x, y in zip(a[0], b[0], strict=True):
        np.testing.assert_array_equal(x[0], y[0])
        np.testing.assert_array_equal(x[1], y[1])
    for x, y in zip(a[1], b[1], strict=True):
        for p, q in zip(x, y, strict=True):
            np.testing.assert_array_equal(p, q)
    for p, q in zip(a[2], b[2], strict=True):
        np.testing.assert_array_equal(p, q)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    batches=st.lists(
        st.tuples(st.lists(sample, min_size=1, max_size=12), st.booleans()),
        min_size=2,
        max_size=10,
    ),
    target=st.integers(2, 40),
    instants=st.lists(st.integers(-2, 42), min_size=1, max_size=8),
    sensor=st.integers(0, len(IDS) - 1),
)
def test_compaction_keeps_every_answer(tmp_path_factory, batches, target, instants, sensor) -> None:
    folder = tmp_path_factory.mktemp("h")
    saved = (
        history_store.ROW_GROUP,
        history_store.KEYFRAME_MIN_ROWS,
        history_store.KEYFRAME_ROWS_PER_SENSOR,
        history_store.COMPACT_ROWS,
        history_store.BLOCK,
    )
    # tiny row groups and keyframes, so that merged segments hold several of each
    history_store.ROW_GROUP = 3
    history_store.KEYFRAME_MIN_ROWS = 3
    history_store.KEYFRAME_ROWS_PER_SENSOR = 0
    history_store.COMPACT_ROWS = target
    history_store.BLOCK = 3
    try:
        store = _write(folder, batches, -1)
        samples = [x for batch, _ in batches for x in batch]
        ts = [1.7e9 + k * 0.25 + (0.1 if k % 3 == 0 else 0.0) for k in instants]
        spans = [(1.7e9 - 1, 1.7e9 + 11), (1.7e9 + 2.5, 1.7e9 + 7.5)]
        before = _answers(store, ts, spans)
        n_before = store.stats()["segments"]
        out = store.compact()
        assert out["segments_before"] == n_before
        assert out["segments_after"] == store.stats()["segments"] <= n_before
        assert store.stats()["samples"] == len(samples)
        _assert_same(before, _answers(store, ts, spans))
        # summary blocks were rebuilt: bucket edges may move, the buckets stay exact
        store.raw_rows_limit = 0
        out_b = store.series(sensor, 1.7e9 - 1, 1.8e9, 2)
        check_buckets(samples, sensor, 1.7e9 - 1, 1.8e9, 2, out_b, exact_last=True)
        # appending after a compaction continues the same sequence
        store.append(SampleBatch.of([sensor, sensor], [1.7e9 + 5.0, 1.7e9 + 20.0], [7.5, 8.5]))
        store.flush()
        samples += [(sensor, 1.7e9 + 5.0, 7.5), (sensor, 1.7e9 + 20.0, 8.5)]
        store.raw_rows_limit = history_store.RAW_ROWS_LIMIT
        after = _answers(store, ts, spans)
        store.close()
        store = _store(folder)
        _assert_same(after, _answers(store, ts, spans))
        for t in ts + [1.7e9 + 30.0]:
            value, when = store.at(t)
            bv, bw = brute_at(samples, t, len(IDS))
            np.testing.assert_array_equal(when, bw)
            np.testing.assert_array_equal(value, bv)
        store.close()
    finally:
        (
            history_store.ROW_GROUP,
            history_store.KEYFRAME_MIN_ROWS,
            history_store.KEYFRAME_ROWS_PER_SENSOR,
            history_store.COMPACT_ROWS,
            history_store.BLOCK,
        ) = saved


def _live(store: HistoryStore, seconds: int, rate: int = 300, sensors: int = 30) -> None:
    """A live recorder: one flush (one small segment) per second; a few late samples."""
    rng = np.random.default_rng(3)
    for k in range(seconds):
        t = 1.7e9 + k + np.arange(rate) / rate
        s = rng.integers(0, sensors, rate)
        v = np.round(rng.normal(50, 5, rate), 1)
        store.append(SampleBatch.of(s, t, v), arrival=t + 0.05)
        if k % 10 == 9:  # late: older than what is held, some duplicating held times
            store.append(SampleBatch.of([0, 1], [t[0] - 5.0, t[10]], [-1.0, -2.0]))
        store.flush()


def test_compaction_shrinks_bytes_per_sample(tmp_path: Path) -> None:
    ids = [f"s{i}" for i in range(30)]
    store = _store(tmp_path, ids)
    _live(store, 100)
    before = store.stats()
    instants = [1.7e9 + x for x in (-1.0, 0.5, 13.37, 50.0, 99.99, 200.0)]
    answers = [store.at(t) for t in instants]
    chart = store.series(3, 1.7e9, 1.7e9 + 100, 50)
    out = store.compact()
    after = store.stats()
    assert out == {"segments_before": 110, "segments_after": 2, "merged": 110}
    assert (before["segments"], after["segments"]) == (110, 2)
    assert (before["late_segments"], after["late_segments"]) == (10, 1)
    assert after["samples"] == before["samples"] == 100 * 300 + 20
    assert after["bytes"] == sum(p.stat().st_size for p in tmp_path.iterdir())
    assert after["bytes_per_sample"] < before["bytes_per_sample"] / 3, (before, after)
    for t, (v, w) in zip(instants, answers, strict=True):
        np.testing.assert_array_equal(store.at(t)[0], v)
        np.testing.assert_array_equal(store.at(t)[1], w)
    for p, q in zip(store.series(3, 1.7e9, 1.7e9 + 100, 50), chart, strict=True):
        np.testing.assert_array_equal(p, q)
    assert len(list(tmp_path.glob("*.parquet"))) == 2
    store.close()


def test_crash_between_compacted_write_and_delete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [f"s{i}" for i in range(30)]
    store = _store(tmp_path, ids)
    _live(store, 40)
    instants = [1.7e9 + x for x in (-1.0, 0.5, 13.37, 35.0, 99.0)]
    answers = [store.at(t) for t in instants]
    n = store.stats()["samples"]
    names = {p.name for p in tmp_path.glob("*.parquet")}
    # kill -9 right after the compacted segments were renamed into place
    monkeypatch.setattr(HistoryStore, "_after_compacted_write", lambda self, new, group: None)
    store.compact()
    both = {p.name for p in tmp_path.glob("*.parquet")}
    assert names < both and len(both) == len(names) + 2  # old and new files side by side
    monkeypatch.undo()
    store._closed = True  # abandoned like a killed process: no flush, no more writes
    again = _store(tmp_path, ids)
    assert again.stats()["samples"] == n  # nothing counted twice
    assert again.stats()["segments"] == 2
    assert {p.name for p in tmp_path.glob("*.parquet")} == both - names
    assert not [p for p in tmp_path.glob("*.npy") if p.name[:12] + "-m.parquet" in names]
    for t, (v, w) in zip(instants, answers, strict=True):
        np.testing.assert_array_equal(again.at(t)[0], v)
        np.testing.assert_array_equal(again.at(t)[1], w)
    again.close()


def test_writer_thread_compacts_while_queries_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_store, "COMPACT_SEGMENTS", 4)
    store = HistoryStore.open(tmp_path, IDS, flush_interval=0.01)
    expect = 0
    for k in range(30):
        store.append(SampleBatch.of([k % 6, (k + 1) % 6], [float(k), float(k)], [k, -k]))
        expect += 2
        deadline = time.monotonic() + 5
        while store.stats()["samples"] < expect and time.monotonic() < deadline:
            v, w = store.at(float(k))  # queries while the writer flushes and compacts
            assert not np.any(w > k)
        assert store.stats()["samples"] == expect
        v, w = store.at(1e9)
        assert v[k % 6] in (k, -(k - 1)) and v[(k + 1) % 6] == -k
    assert store.stats()["compactions"] >= 1
    assert store.stats()["segments"] <= 5
    store.close()
