"""Alarm and warning intervals from samples: against a brute-force walk, and from a real store."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twinviewer.core.alarms import AlarmLog, catch_up
from twinviewer.core.colour import SensorRules, Status
from twinviewer.core.samples import SampleBatch
from twinviewer.history.store import HistoryStore


def rules_for(n: int) -> SensorRules:
    sensors = [
        SimpleNamespace(
            range=(0.0, 100.0),
            warning=SimpleNamespace(low=10.0 if i % 2 else None, high=70.0),
            alarm=SimpleNamespace(low=5.0 if i % 2 else None, high=90.0),
            stale_after=15.0,
            colormap="viridis",
        )
        for i in range(n)
    ]
    return SensorRules.from_sensors(sensors)


def brute_force(rules: SensorRules, s: np.ndarray, t: np.ndarray, v: np.ndarray) -> list[tuple]:
    """Walk every sensor's samples one by one; every limit a Schmitt trigger with the deadband."""
    out = []
    for k in range(rules.n):
        db = rules.deadband[k]
        limits = [
            (rules.warn_high[k], True, Status.WARNING),
            (rules.alarm_high[k], True, Status.ALARM),
            (rules.warn_low[k], False, Status.WARNING),
            (rules.alarm_low[k], False, Status.ALARM),
        ]
        trig = [False] * 4
        run = None  # [level, start, vmin, vmax]
        for tt, vv in zip(t[s == k], v[s == k], strict=True):
            for j, (lim, high, _) in enumerate(limits):
                if math.isnan(lim):
                    continue
                if (vv > lim) if high else (vv < lim):
                    trig[j] = True
                elif (vv <= lim - db) if high else (vv >= lim + db):
                    trig[j] = False
            level = max([Status.NORMAL] + [lv for j, (_, _, lv) in enumerate(limits) if trig[j]])
            if run is not None and run[0] == level:
                run[2], run[3] = min(run[2], vv), max(run[3], vv)
                continue
            if run is not None and run[0] >= Status.WARNING:
                out.append((k, run[0], run[1], tt, run))
            run = [level, tt, vv, vv]
        if run is not None and run[0] >= Status.WARNING:
            out.append((k, run[0], run[1], math.nan, run))
    result = []
    for k, level, start, end, run in out:
        limit = rules.alarm_high[k] if level == Status.ALARM else rules.warn_high[k]
        peak = run[3] if run[3] > limit else run[2]
        result.append((k, int(level), start, end, peak))
    return sorted(result, key=lambda r: (r[2], r[0]))


def as_tuples(rec: np.ndarray) -> list[tuple]:
    return [
        (int(r["sensor"]), int(r["level"]), float(r["start"]), float(r["end"]), float(r["peak"]))
        for r in rec
    ]


def same(a: list[tuple], b: list[tuple]) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        for p, q in zip(x, y, strict=True):
            if not (p == q or (isinstance(p, float) and math.isnan(p) and math.isnan(q))):
                return False
    return True


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    n=st.integers(1, 300),
    cuts=st.lists(st.floats(0, 1), max_size=5),
)
def test_intervals_equal_brute_force_whatever_the_chunking(
    seed: int, n: int, cuts: list[float]
) -> None:
    rng = np.random.default_rng(seed)
    rules = rules_for(4)
    s = rng.integers(0, 4, n)
    t = np.sort(rng.integers(0, 50, n).astype(float))  # equal times happen
    v = rng.choice([0.0, 3.0, 7.0, 11.0, 50.0, 69.0, 75.0, 80.0, 89.0, 95.0], n)
    expected = brute_force(rules, s, t, v)
    log = AlarmLog(rules)
    # chunks must not split equal times: every chunk is later than the one before
    edges = sorted({int(c * n) for c in cuts} | {0, n})
    lo = 0
    for hi in edges[1:]:
        while 0 < hi < n and t[hi] == t[hi - 1]:
            hi += 1
        if hi > lo:
            log.feed(s[lo:hi], t[lo:hi], v[lo:hi])
            lo = hi
    if lo < n:
        log.feed(s[lo:], t[lo:], v[lo:])
    assert same(as_tuples(log.intervals()), expected)


def test_warning_then_alarm_then_normal() -> None:
    log = AlarmLog(rules_for(1))
    t = np.arange(6, dtype=float)
    log.feed(np.zeros(6, np.int64), t, np.array([50, 75, 80, 95, 99, 20.0]))
    rec = log.intervals()
    assert rec["level"].tolist() == [Status.WARNING, Status.ALARM]
    assert rec["start"].tolist() == [1.0, 3.0]
    assert rec["end"].tolist() == [3.0, 5.0]
    assert rec["peak"].tolist() == [80.0, 99.0]


def test_deadband_stops_chatter_around_a_limit() -> None:
    """Noise around the alarm limit (90, deadband 2) keeps one alarm, not many."""
    log = AlarmLog(rules_for(1))
    v = np.array([50, 91, 89.5, 90.5, 88.5, 91, 87.5, 50.0])
    log.feed(np.zeros(len(v), np.int64), np.arange(len(v), dtype=float), v)
    rec = log.intervals()
    assert rec["level"].tolist() == [Status.ALARM, Status.WARNING]
    assert rec["start"].tolist() == [1.0, 6.0]  # the alarm ends at 87.5 (<= 90 - 2), not at 88.5
    assert rec["end"].tolist() == [6.0, 7.0]


def test_low_side_peak_and_open_interval() -> None:
    log = AlarmLog(rules_for(2))
    s = np.ones(3, np.int64)  # sensor 1 has low limits
    log.feed(s, np.array([0.0, 1.0, 2.0]), np.array([50.0, 8.0, 6.0]))
    rec = log.intervals()
    assert len(rec) == 1
    assert rec[0]["level"] == Status.WARNING and rec[0]["peak"] == 6.0
    assert math.isnan(rec[0]["end"])  # still in warning


def test_catch_up_from_a_store_matches_one_pass(tmp_path) -> None:
    rules = rules_for(3)
    ids = ["a", "b", "c"]
    rng = np.random.default_rng(7)
    n = 5000
    s = rng.integers(0, 3, n)
    t = 1_700_000_000.0 + np.arange(n) * 0.5
    v = 50 + 45 * np.sin(np.arange(n) / 40.0) + rng.normal(0, 3, n)
    store = HistoryStore(tmp_path / "h", ids, writer_thread=False)
    try:
        store.append(SampleBatch(s[: n // 2], t[: n // 2], v[: n // 2]))
        store.flush()
        log = AlarmLog(rules)
        fed = catch_up(log, store, ids, window=100.0)
        assert fed == n // 2
        store.append(SampleBatch(s[n // 2 :], t[n // 2 :], v[n // 2 :]))
        store.flush()
        assert catch_up(log, store, ids, window=100.0) == n - n // 2
        assert catch_up(log, store, ids) == 0  # nothing new
    finally:
        store.close()
    once = AlarmLog(rules)
    once.feed(s, t, v)
    assert same(as_tuples(log.intervals()), as_tuples(once.intervals()))
    assert len(once.intervals()) > 10


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_values_are_ignored(bad: float) -> None:
    log = AlarmLog(rules_for(1))
    log.feed(np.zeros(3, np.int64), np.array([0.0, 1.0, 2.0]), np.array([95.0, bad, 95.0]))
    rec = log.intervals()
    assert len(rec) == 1 and rec[0]["start"] == 0.0


def test_imported_nab_history_alarms_fall_in_the_labelled_failures(tmp_path, corpus) -> None:
    """Real data: the NAB machine temperature, imported through the CLI into the example project;
    the alarm intervals computed from that history all start inside NAB's labelled anomaly
    windows (and there is at least one in two of them)."""
    import json
    import shutil
    from datetime import datetime, timezone

    from tests.conftest import ASSETS
    from twinviewer.cli import main
    from twinviewer.session import load_twin_project, open_history

    nab = corpus / "sensors" / "nab"
    project = tmp_path / "examples" / "nab-machine.twin.yaml"
    project.parent.mkdir()
    shutil.copy(ASSETS / "examples" / "nab-machine.twin.yaml", project)
    (tmp_path / "locomotive").mkdir()
    (tmp_path / "locomotive" / "locomotive.glb").symlink_to(
        ASSETS / "locomotive" / "locomotive.glb"
    )
    csv = nab / "machine_temperature_system_failure.csv"
    assert (
        main(["history", str(project), "import", str(csv), "--sensor", "machine_temperature"]) == 0
    )

    proj, folder = load_twin_project(project)
    store = open_history(proj, folder, project)
    assert store is not None
    try:
        alarms = AlarmLog(SensorRules.from_sensors(proj.sensors))
        assert catch_up(alarms, store, [s.id for s in proj.sensors]) == 22695
    finally:
        store.close()
    rec = alarms.intervals()
    windows = json.loads((nab / "combined_windows.json").read_text())[
        "realKnownCause/machine_temperature_system_failure.csv"
    ]

    def utc(text: str) -> float:
        return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()

    spans = [(utc(a), utc(b)) for a, b in windows]
    red = rec[rec["level"] == Status.ALARM]
    assert len(red) >= 2
    inside = [next((k for k, (a, b) in enumerate(spans) if a <= t <= b), -1) for t in red["start"]]
    assert -1 not in inside, "an alarm outside every labelled failure window"
    assert len(set(inside)) >= 2
    assert (red["peak"] < 40).all()
