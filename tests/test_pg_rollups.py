"""Roll-ups and summary levels of the PostgreSQL history against a real server.

The summaries (min, max, last, mean per sensor and bucket) equal brute force over random data
with late samples, duplicate times and NaN, on both layouts (the block layout writes them when
a block closes and adds the open blocks at read time); retention deletes the raw data and
keeps each roll-up to its own cutoff; series and at(t) over a time the raw data no longer holds
answer from the roll-ups; an older schema gets the new columns; the project's ``history.rollups``
is validated with messages naming the key.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import drop_pg_schema, pg_schema_url
from tests.history_cases import check_buckets
from twinviewer.core.project import ProjectError, load_project
from twinviewer.core.samples import SampleBatch

psycopg = pytest.importorskip("psycopg", reason="psycopg 3 is not installed (the postgres extra)")

from twinviewer.history import pg_blocks, pg_codec, pg_rollups, postgres  # noqa: E402
from twinviewer.history.pg_tables import Rollup  # noqa: E402
from twinviewer.history.postgres import PostgresHistoryStore  # noqa: E402

LAYOUTS = ["blocks", "rows"]
IDS = ["a", "b", "c"]


def _store(url: str, ids: list[str] = IDS, **kw: object) -> PostgresHistoryStore:
    return PostgresHistoryStore(url, ids, writer_thread=False, **kw)  # type: ignore[arg-type]


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of 1 s, so that small data closes many of them (and leaves one open)."""
    monkeypatch.setattr(pg_codec, "SLOT_SAMPLES", 1)
    monkeypatch.setattr(postgres, "KEYFRAME_MIN_ROWS", 3)
    monkeypatch.setattr(pg_blocks, "BLOCK_KEYFRAME_ROWS_PER_SENSOR", 0)
    monkeypatch.setattr(pg_blocks, "BLOCK_WIDTH", 1.0)


def brute_buckets(samples: list[tuple[int, float, float]], sensor: int, width: float) -> dict:
    """Per bucket of ``width``: n, min, max (NaN ignored), last (ties: appended last), mean of
    the finite values."""
    out: dict[int, dict] = {}
    for s, t, v in samples:  # append order
        if s != sensor:
            continue
        b = math.floor(t / width)
        x = out.setdefault(b, {"n": 0, "vals": [], "t_last": -math.inf, "vlast": math.nan})
        x["n"] += 1
        x["vals"].append(v)
        if t >= x["t_last"]:
            x["t_last"], x["vlast"] = t, v
    for x in out.values():
        fin = [v for v in x["vals"] if math.isfinite(v)]
        ok = [v for v in x["vals"] if not math.isnan(v)]
        x["vmin"] = min(ok) if ok else math.nan
        x["vmax"] = max(ok) if ok else math.nan
        x["mean"] = sum(fin) / len(fin) if fin else math.nan
    return out


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


# one sample: (sensor, time, value); a small set of times so that late and equal times are common
sample = st.tuples(
    st.integers(0, len(IDS) - 1),
    st.integers(0, 40).map(lambda k: 1.7e9 + k * 0.25),
    st.one_of(
        st.integers(-50, 50).map(float),
        st.just(math.nan),
        st.floats(-1e3, 1e3, allow_nan=False).map(lambda x: x + 0.1),
    ),
)
batches = st.lists(
    st.tuples(st.lists(sample, min_size=1, max_size=12), st.booleans()), min_size=1, max_size=7
)


@pytest.mark.parametrize("layout", LAYOUTS)
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=batches, reopen=st.integers(-1, 6))
def test_summaries_equal_brute_force(pg_server, small_blocks, layout, batches, reopen) -> None:
    """Every summary level and roll-up (0.5 s: inside a block, written by COPY; 3 s and 2 s:
    across blocks, upserted) equals brute force bucket by bucket, the open blocks included."""
    url = f"{pg_schema_url(pg_server)}&layout={layout}"
    kw = {"rollups": [(0.5, None), (3.0, None)], "block_levels": (2.0, 10.0)}
    store = _store(url, **kw)
    try:
        for i, (batch, flush) in enumerate(batches):
            s, t, v = zip(*batch, strict=True)
            store.append(SampleBatch.of(s, t, v))
            if flush:
                store.flush()
            if i == reopen:
                store.close()
                store = _store(url, **kw)
        store.flush()
        samples = [x for b, _ in batches for x in b]
        reader = PostgresHistoryStore(url, IDS, writer=False)
        levels = [Rollup(i, w, None) for i, w in enumerate(reader.levels)] + list(reader.rollups)
        assert [r.width for r in reader.rollups] == [0.5, 3.0]
        with reader._query() as conn:
            for sensor in range(len(IDS)):
                for lv in levels:
                    got = reader._summary_rows(conn, sensor, lv, 1.7e9 - 10, 1.7e9 + 20)
                    want = brute_buckets(samples, sensor, lv.width)
                    assert sorted(want) == got["b"].tolist(), (sensor, lv)
                    for k, b in enumerate(got["b"].tolist()):
                        w = want[b]
                        assert got["n"][k] == w["n"], (sensor, lv, b)
                        assert _same(got["vmin"][k], w["vmin"]), (sensor, lv, b)
                        assert _same(got["vmax"][k], w["vmax"]), (sensor, lv, b)
                        assert _same(got["vlast"][k], w["vlast"]), (sensor, lv, b)
                        assert got["t_last"][k] == w["t_last"]
                        mean = got["vsum"][k] / got["nfin"][k] if got["nfin"][k] else math.nan
                        assert _same(mean, w["mean"]) or math.isclose(mean, w["mean"])
        reader.close()
    finally:
        store.close()
        drop_pg_schema(url)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_late_samples_in_an_open_block_meet_it_when_it_closes(
    pg_url: str, small_blocks, layout: str
) -> None:
    """A late sample in a block still open (already summarised as it arrived) shares a 0.5-s
    bucket with the block's main samples, summarised when the block closes; its equal time
    wins the last value (appended after)."""
    url = f"{pg_url}&layout={layout}"
    store = _store(url, ["x"], rollups=[(0.5, None), (3.0, None)])
    t = 1.7e9
    store.append(SampleBatch.of([0, 0], [t + 1.0, t + 1.25], [5.0, 1.0]))
    store.flush()
    store.append(SampleBatch.of([0, 0], [t + 1.5, t + 1.75], [2.0, math.nan]))
    store.flush()
    store.append(SampleBatch.of([0, 0], [t + 1.0, t + 1.25], [9.0, math.nan]))  # late
    store.flush()
    samples = [(0, t + 1.0, 5.0), (0, t + 1.25, 1.0), (0, t + 1.5, 2.0), (0, t + 1.75, math.nan)]
    samples += [(0, t + 1.0, 9.0), (0, t + 1.25, math.nan)]
    for more in ([(0, t + 3.0, 4.0)], [(0, t + 0.5, -1.0)], [(0, t + 7.0, 0.0)]):
        store.append(SampleBatch.of(*zip(*more, strict=True)))  # closes the block; late; more
        store.flush()
        samples += more
        with store._query() as conn:
            for r in store.rollups:
                got = store._summary_rows(conn, 0, r, t - 10, t + 10)
                want = brute_buckets(samples, 0, r.width)
                assert got["b"].tolist() == sorted(want)
                for k, b in enumerate(got["b"].tolist()):
                    assert got["n"][k] == want[b]["n"]
                    assert _same(got["vmin"][k], want[b]["vmin"])
                    assert _same(got["vmax"][k], want[b]["vmax"])
                    assert _same(got["vlast"][k], want[b]["vlast"]), (r.width, b)
                    assert got["vsum"][k] / max(got["nfin"][k], 1) == pytest.approx(
                        0.0 if math.isnan(want[b]["mean"]) else want[b]["mean"]
                    )
    store.close()


@pytest.mark.parametrize("layout", LAYOUTS)
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    batches=batches,
    keep=st.integers(1, 30),
    sensor=st.integers(0, len(IDS) - 1),
    span=st.tuples(st.integers(-4, 30), st.integers(0, 40)),
    pixels=st.integers(1, 4),
    instants=st.lists(st.integers(-2, 42), min_size=1, max_size=5),
)
def test_after_retention_the_rollups_answer(
    pg_server, small_blocks, layout, batches, keep, sensor, span, pixels, instants
) -> None:
    """Random data (late samples, equal times, NaN), then retention of the raw data: a series
    that starts before what the raw data still holds equals brute force over every sample
    (the roll-ups hold them all), and at(t) is the raw answer where one is left, else the
    roll-ups' latest bucket that ends by t."""
    url = f"{pg_schema_url(pg_server)}&layout={layout}"
    store = _store(url, retention=keep * 0.25, rollups=[(0.5, None), (3.0, None)])
    try:
        for batch, flush in batches:
            store.append(SampleBatch.of(*zip(*batch, strict=True)))
            if flush:
                store.flush(now=1.7e9)
        store.flush(now=1.7e9 + 10.0)  # raw data before 10 - keep/4 s goes
        samples = [x for b, _ in batches for x in b]
        times = [t for _, t, _ in samples]
        assert store.time_range() == (min(times), max(times))
        left_s, left_t, left_v = store.read()
        t0 = 1.7e9 + span[0] * 0.25
        t1 = t0 + span[1] * 0.25
        raw_start = float(left_t.min()) if len(left_t) else math.inf
        if t0 < raw_start:
            out = store.series(sensor, t0, t1, pixels)
            check_buckets(samples, sensor, t0, t1, pixels, out, exact_last=False)
        for k in instants:
            t = 1.7e9 + k * 0.25 + (0.1 if k % 3 == 0 else 0.0)
            value, when = store.at(t)
            for s in range(len(IDS)):
                held = zip(left_s.tolist(), left_t.tolist(), left_v.tolist(), strict=True)
                raw = [(ts, v) for ss, ts, v in held if ss == s and ts <= t]
                if raw:  # read() is by time, then append order: the last one wins
                    last_t = max(ts for ts, _ in raw)
                    expect = (last_t, [v for ts, v in raw if ts == last_t][-1])
                    assert _same(when[s], expect[0]), (t, s)
                    assert _same(value[s], expect[1]), (t, s)
                    continue
                expect = (math.nan, math.nan)
                for w in (0.5, 3.0):
                    for b in brute_buckets(samples, s, w).values():
                        if b["t_last"] <= t and not b["t_last"] <= expect[0]:
                            expect = (b["t_last"], b["vlast"])
                if _same(when[s], expect[0]):
                    assert _same(value[s], expect[1]), (t, s)
                else:  # a keyframe's memory of a deleted sample, newer than the bucket's end
                    assert expect[0] < when[s] <= t, (t, s)
                    assert (s, when[s]) in [x[:2] for x in samples], (t, s)
    finally:
        store.close()
        drop_pg_schema(url)


def _feed(store: PostgresHistoryStore, t0: float, t1: float, now_after: float) -> list:
    """Two sensors at 2 Hz from t0 to t1 (one value NaN a minute), some late ones; flushed in
    100-s steps as if the clock were ``now_after`` seconds past each step's end."""
    rng = np.random.default_rng(3)
    samples = []
    for a in np.arange(t0, t1, 100.0):
        t = np.arange(a, min(a + 100.0, t1), 0.5) + 0.25
        s = np.arange(len(t)) % 2
        v = np.round(rng.normal(size=len(t)) * 10, 1)
        v[(t % 60) < 0.5] = np.nan
        late_t = t[:4] - 30.0  # older than what the store already has: late rows
        late_t = late_t[late_t >= t0]
        late_v = np.full(len(late_t), 77.0)
        store.append(SampleBatch.of(s, t, v))
        store.append(SampleBatch.of(np.zeros(len(late_t), np.int64), late_t, late_v))
        store.flush(now=float(t[-1]) + now_after)
        samples += list(zip(s.tolist(), t.tolist(), v.tolist(), strict=True))
        samples += [(0, x, 77.0) for x in late_t.tolist()]
    return samples


@pytest.mark.parametrize("layout", LAYOUTS)
def test_retention_keeps_rollups_to_their_own_cutoff(pg_url: str, layout: str) -> None:
    """Raw data kept 300 s, the 1-s roll-up 1,200 s, the 60-s roll-up forever: after 3,000 s
    the raw data is gone but the last 300 s, the 1-s roll-up reaches back 1,200 s (and a
    step), the 60-s one to the start; time_range, series and at(t) follow."""
    url = f"{pg_url}&layout={layout}"
    start = 1_699_999_980.0  # a whole minute
    store = _store(url, ["x", "y"], retention=300.0, rollups=[(1.0, 1200.0), (60.0, None)])
    samples = _feed(store, start, start + 3000.0, 0.0)
    end = start + 3000.0
    one, sixty = store.rollups
    with store._query() as conn:
        oldest = {
            r.width: conn.execute(
                store._sql("SELECT min(t_first) FROM {bl} WHERE level = %s", bl="blocks"),
                (r.level,),
            ).fetchone()[0]
            for r in (one, sixty)
        }
    assert end - 1200.0 - pg_rollups.ROLLUP_RETENTION_STEP - 100 <= oldest[1.0] <= end - 1200.0
    with store._query() as conn:  # the finest summary level goes with the raw data
        row = conn.execute(
            store._sql("SELECT min(b) FROM {bl} WHERE level = 0", bl="blocks")
        ).fetchone()
    w0 = store.levels[0]
    assert row[0] * w0 >= end - 300.0 - w0 - max(w0, pg_rollups.ROLLUP_RETENTION_STEP) - 100
    assert oldest[60.0] == start + 0.25
    lo, hi = store.time_range()
    assert lo == start + 0.25 and hi == max(t for _, t, _ in samples)
    _, t_raw, _ = store.read()
    assert t_raw.min() >= end - 300.0 - 100.0  # whole blocks: a little more than the cutoff

    # a chart over the first 20 min (raw data long gone): the 60-s roll-up, exact per bucket
    t0, t1 = start, start + 1199.0
    out = store.series(0, t0, t1, 10)
    assert len(out[0]) == 10
    check_buckets(samples, 0, t0, t1, 10, out, exact_last=False)
    mt, mean = store.series_mean(0, t0, t1, 10)
    for i in range(len(mt) - 1):
        vals = [v for s, t, v in samples if s == 0 and mt[i] <= t < mt[i + 1] and math.isfinite(v)]
        assert math.isclose(mean[i], sum(vals) / len(vals))
    # a shorter one where the 1-s roll-up still holds: its finer buckets
    t0 = end - 900.0
    out = store.series(1, t0, t0 + 599.9, 100)
    assert len(out[0]) == 100
    assert out[0][2] - out[0][1] == 6.0  # 1-s buckets, 6 a pixel
    check_buckets(samples, 1, t0, t0 + 599.9, 100, out, exact_last=False)

    # at(t) before the raw data: the last value of the latest roll-up bucket that ends at or
    # before t (exact here: t is just after the end of a bucket of either roll-up)
    for t in (start + 59.9, start + 659.9, start + 2339.9, end - 299.9):
        value, when = store.at(t)
        for k in (0, 1):
            mine = [(ts, v) for s, ts, v in samples if s == k and ts <= t]
            last_t = max(ts for ts, _ in mine)
            expect_v = [v for ts, v in mine if ts == last_t][-1]
            assert when[k] == last_t, (t, k)
            assert _same(value[k], expect_v), (t, k)
    # between two buckets' ends: the earlier bucket's end (the 60-s roll-up's, here)
    value, when = store.at(start + 90.0)
    assert when.tolist() == [start + 59.25, start + 59.75]
    store.close()

    reader = PostgresHistoryStore(url, ["x", "y"], writer=False)
    assert [r.width for r in reader.rollups] == [1.0, 60.0]
    stats = reader.stats()
    assert stats["rollups"] == [
        {"width": 1.0, "retention_days": 1200.0 / 86400.0},
        {"width": 60.0, "retention_days": None},
    ]
    assert stats["time_range_with_rollups"] == (lo, hi)
    # closing flushed with the wall clock's retention: the row layout's raw data all went
    assert stats["time_range"] is None or stats["time_range"][0] > lo
    assert reader.time_range() == (lo, hi)
    assert reader.series(0, start, start + 1199.0, 10)[1].tolist() == out_first(samples, start)
    reader.close()


def out_first(samples: list, start: float) -> list[float]:
    """Per 120-s group of 60-s buckets from ``start``: the minimum of sensor 0 (NaN ignored)."""
    mins = []
    for g in range(10):
        vals = [
            v
            for s, t, v in samples
            if s == 0 and start + g * 120 <= t < start + (g + 1) * 120 and not math.isnan(v)
        ]
        mins.append(min(vals))
    return mins


def test_changed_rollups_are_added_and_dropped(pg_url: str, caplog) -> None:
    store = _store(pg_url, ["x"], rollups=[(1.0, None)])
    store.append(SampleBatch.of([0, 0], [1.7e9, 1.7e9 + 30.0], [1.0, 2.0]))
    store.close()
    caplog.set_level(logging.INFO, logger="twinviewer.history")
    store = _store(pg_url, ["x"], rollups=[(60.0, None)])  # 1 s dropped, 1 min added
    assert [(r.level, r.width) for r in store.rollups] == [(101, 60.0)]
    assert "new roll-up of 60s (empty until data arrives)" in caplog.text
    assert "roll-up of 1s no longer in the project; deleted its 1 row(s)" in caplog.text
    store.close()
    store = _store(pg_url, ["x"])  # none given (a standby recorder): the schema's kept
    assert [r.width for r in store.rollups] == [60.0]
    store.append(SampleBatch.of([0], [1.7e9 + 100.0], [3.0]))
    store.close()
    with pytest.raises(ValueError, match="retention 3 s is shorter than the raw data's"):
        _store(pg_url, ["x"], retention=10.0, rollups=[(1.0, 3.0)])


def test_only_the_writer_changes_the_rollups(pg_url: str) -> None:
    """A second store that finds the writer lock taken (a viewer whose project lists other
    roll-ups) reads with the schema's roll-ups and changes nothing."""
    store = _store(pg_url, ["x"], rollups=[(1.0, None)])
    store.append(SampleBatch.of([0, 0], [1.7e9, 1.7e9 + 30.0], [1.0, 2.0]))
    store.flush()
    viewer = _store(pg_url, ["x"], rollups=[(60.0, None)])
    assert not viewer.writable
    assert [r.width for r in viewer.rollups] == [1.0]
    viewer.close()
    again = PostgresHistoryStore(pg_url, ["x"], writer=False)
    assert [r.width for r in again.rollups] == [1.0]
    with again._query() as conn:
        rows = conn.execute(
            again._sql("SELECT count(*) FROM {bl} WHERE level = 100", bl="blocks")
        ).fetchone()
    assert rows == (1,)  # the closed block's 1-s bucket, kept
    again.close()
    store.close()


def test_a_schema_made_before_rollups_gets_the_columns(pg_url: str, caplog) -> None:
    """A schema whose summary table has no sum / count and whose state row no roll-ups: a
    reader reads it as before (no means), a writer adds the columns and says so."""
    old = _store(pg_url, ["x"])
    old.append(SampleBatch.of([0] * 3, [1.7e9, 1.7e9 + 1, 1.7e9 + 200], [1.0, 5.0, 2.0]))
    old.close()
    conninfo, schema = postgres.split_url(pg_url)
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute(
            f'ALTER TABLE "{schema}".twinviewer_blocks DROP COLUMN vsum, DROP COLUMN nfin'
        )
        admin.execute(
            f'ALTER TABLE "{schema}".twinviewer_state DROP COLUMN rollups, DROP COLUMN t_roll'
        )
    reader = PostgresHistoryStore(pg_url, ["x"], writer=False)
    assert not reader.has_mean and reader.rollups == ()
    reader.raw_rows_limit = 0
    assert reader.series(0, 1.7e9, 1.7e9 + 1000, 1)[2].tolist() == [5.0]
    assert len(reader.series_mean(0, 1.7e9, 1.7e9 + 1000, 1)[0]) == 0
    reader.close()
    caplog.set_level(logging.INFO, logger="twinviewer.history")
    store = _store(pg_url, ["x"], rollups=[(1.0, None)])
    assert "was made before roll-ups; added twinviewer_blocks: vsum" in caplog.text
    assert store.has_mean and [r.width for r in store.rollups] == [1.0]
    store.append(SampleBatch.of([0, 0], [1.7e9 + 300, 1.7e9 + 300.5], [4.0, 6.0]))
    store.flush()
    with store._query() as conn:
        rows = store._summary_rows(conn, 0, store.rollups[0], 1.7e9, 1.7e9 + 400)
    # the block at 200 s closed after the roll-up was added: summarised in it too
    assert rows["b"].tolist() == [1_700_000_200, 1_700_000_300]
    assert rows["vsum"].tolist() == [2.0, 10.0] and rows["nfin"].tolist() == [1, 2]
    store.close()


PROJECT = """\
name: x
models: [m.glb]
history:
  retention_days: 30
  rollups: {rollups}
"""


@pytest.mark.parametrize(
    ("rollups", "message"),
    [
        ("[{width: 1x}]", "history.rollups[0].width: width '1x': expected seconds, or a number"),
        ("[{width: 0}]", "history.rollups[0].width: width 0"),
        ("[{width: 1s, retention_days: 3}]", "rollups[0].retention_days (3) is shorter than"),
        ("[{width: 1min}, {width: 60}]", "rollups[1]: width 60 s is given twice"),
        ("[{retention_days: 300}]", "history.rollups[0].width: required key is missing"),
        ("[{width: 1s, keep: 3}]", "history.rollups[0].keep"),
    ],
)
def test_bad_rollups_are_named(tmp_path: Path, rollups: str, message: str) -> None:
    path = tmp_path / "p.twin.yaml"
    path.write_text(PROJECT.format(rollups=rollups))
    with pytest.raises(ProjectError) as err:
        load_project(path)
    assert message in str(err.value)


def test_rollup_widths_in_the_project(tmp_path: Path) -> None:
    path = tmp_path / "p.twin.yaml"
    path.write_text(
        PROJECT.format(rollups="[{width: 1s, retention_days: 365}, {width: 1min}, {width: 2h}]")
    )
    project, _ = load_project(path)
    assert project.history.rollup_spec() == [(1.0, 365 * 86400.0), (60.0, None), (7200.0, None)]
    path.write_text(PROJECT.split("  rollups:")[0])  # no key: the database keeps its own
    assert load_project(path)[0].history.rollup_spec() is None


def test_the_embedded_store_says_rollups_are_for_postgres(tmp_path: Path, caplog) -> None:
    from twinviewer.session.twin import open_history

    path = tmp_path / "p.twin.yaml"
    path.write_text(
        PROJECT.format(rollups="[{width: 1min}]")
        + "sensors:\n  - {id: T, quantity: temperature, unit: degC, component: c, range: [0, 1]}\n"
    )
    project, folder = load_project(path)
    with caplog.at_level(logging.WARNING, logger="twinviewer.session"):
        store = open_history(project, folder, path)
    assert store is not None
    store.close()
    assert "roll-ups (history.rollups) apply to a PostgreSQL history only" in caplog.text


@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_right_end_of_a_long_chart_does_not_lag(pg_url: str, layout: str) -> None:
    """Over a range long enough for the summary levels (100-s buckets), the newest samples,
    still in an open block (the tail, in no summary yet), are in the last bucket."""
    url = f"{pg_url}&layout={layout}"
    store = _store(url, ["x"])
    t = 1.7e9 + np.arange(0, 1000.0, 0.1)
    v = np.sin(t)
    v[-3] = 50.0  # a spike in the newest second
    store.append(SampleBatch.of(np.zeros(len(t), np.int64), t, v))
    store.flush()
    store.raw_rows_limit = 0  # the summary path
    for pixels in (1, 3):
        bt, vmin, vmax, vlast = store.series(0, float(t[0]), float(t[-1]), pixels)
        assert vmax[-1] == 50.0 and vlast[-1] == v[-1]
        assert vmin.min() == v.min()
    mt, mean = store.series_mean(0, float(t[0]), float(t[-1]), 1)
    assert mean[-1] == pytest.approx(v.mean())
    store.close()


def test_record_passes_the_projects_rollups(pg_url: str, tmp_path: Path) -> None:
    """`twinviewer record --history URL` of a project with history.rollups: the schema gets
    them (through the spooled recorder), and the 1-s roll-up holds the closed blocks."""
    import shutil
    import subprocess
    import sys

    from tests.conftest import ASSETS

    mine = ASSETS / "mine"
    shutil.copy(mine / "mine.glb", tmp_path / "mine.glb")
    project = tmp_path / "mine.twin.yaml"
    project.write_text(
        (mine / "mine.twin.yaml").read_text()
        + "history: {retention_days: 30, rollups: [{width: 1s, retention_days: 365}, "
        "{width: 1min}]}\n"
    )
    r = subprocess.run(
        [sys.executable, "-m", "twinviewer", "record", str(project), "--history", pg_url]
        + ["--duration", "12", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    reader = PostgresHistoryStore(pg_url, ["x"], writer=False)
    assert [(r.width, r.retention) for r in reader.rollups] == [
        (1.0, 365 * 86400.0),
        (60.0, None),
    ]
    with reader._query() as conn:
        n = conn.execute(
            reader._sql("SELECT coalesce(sum(n), 0) FROM {bl} WHERE level = %s", bl="blocks"),
            (reader.rollups[0].level,),
        ).fetchone()[0]
    assert n > 0
    reader.close()
