"""The hot standby recorder, end to end: `twinviewer simulate --mqtt` publishes the mine demo
through a real mosquitto, two `twinviewer record --history URL` processes receive it (the
second with `--standby`), the first is killed with SIGKILL; the database must then hold every
published sample exactly once, or a recorded gap must account for exactly the missing ones.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ASSETS
from tests.mqtt_broker import Mosquitto, find_mosquitto
from tests.test_mqtt import Collector, wait_until
from twinviewer.core.gaps import GapLog
from twinviewer.core.project import MqttSource, load_project
from twinviewer.core.samples import SampleBatch
from twinviewer.sources.base import SourceState
from twinviewer.sources.mqtt import MqttFeed

psycopg = pytest.importorskip("psycopg", reason="psycopg 3 is not installed (the postgres extra)")

from twinviewer.history.pg_standby import StandbyMemory  # noqa: E402
from twinviewer.history.postgres import PostgresHistoryStore, split_url  # noqa: E402

pytestmark = pytest.mark.skipif(find_mosquitto() is None, reason="mosquitto is not installed")

T0 = 1_750_000_000.0


def mine_copy(tmp_path: Path, broker: Mosquitto) -> Path:
    mine = ASSETS / "mine"
    shutil.copy(mine / "mine.glb", tmp_path / "mine.glb")
    project = tmp_path / "mine.twin.yaml"
    project.write_text(
        (mine / "mine.twin.yaml").read_text().replace("mqtt://127.0.0.1:1883", broker.url)
    )
    return project


def tv(*args: str, log: Path) -> subprocess.Popen[str]:
    with open(log, "w") as err:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "twinviewer", *args],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )


def wait_for_writer(url: str, timeout: float = 30.0) -> None:
    conninfo, schema = split_url(url)
    deadline = time.monotonic() + timeout
    with psycopg.connect(conninfo, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND objid = hashtext(%s)::oid",
                (f"twinviewer-writer:{schema}",),
            ).fetchone()
            if row and row[0]:
                return
            time.sleep(0.1)
    raise AssertionError("the first recorder never took the writer lock")


def held_in_database(url: str, sensors: list) -> tuple[np.ndarray, np.ndarray, int, list]:
    """Project sensor and time of every sample the database holds, how many it holds twice,
    and its gaps."""
    reader = PostgresHistoryStore(url, [], writer=False)
    try:
        s, t, _v = reader.read()
        gaps = reader.gaps()
    finally:
        reader.close()
    ids = reader.sensor_ids
    where = {x.id: i for i, x in enumerate(sensors)}
    proj = np.array([where[ids[a]] for a in s.tolist()], np.int64)
    twice = len(t) - len(set(zip(proj.tolist(), t.tolist(), strict=True)))
    return proj, t, twice, gaps


def watched(proj: np.ndarray, t: np.ndarray, since: np.ndarray) -> set:
    """(sensor, time) of the samples at or after ``since`` of their sensor (what the witness
    saw too)."""
    w = t >= since[proj]
    return set(zip(proj[w].tolist(), t[w].tolist(), strict=True))


def explain(missing: set, gaps: list, kill: float, sensors: list) -> str:
    """What is missing, relative to the kill (wall clock, as the sample times are)."""
    if not missing:
        return "nothing missing"
    times = sorted(t for _s, t in missing)
    per = {}
    for s, _t in missing:
        per[sensors[s].id] = per.get(sensors[s].id, 0) + 1
    return (
        f"{len(missing)} missing, {times[0] - kill:+.2f} s to {times[-1] - kill:+.2f} s from the "
        f"kill, {len(per)} sensors (e.g. {sorted(per.items())[:3]}); gaps: "
        + "; ".join(
            f"{g.cause} {g.missing} {g.start - kill:+.2f}..{g.end - kill:+.2f}" for g in gaps
        )
    )


@pytest.mark.slow
@pytest.mark.parametrize("window", [60.0, 0.0], ids=["memory-reaches", "memory-too-short"])
def test_standby_takes_over_after_kill_9(pg_url: str, tmp_path: Path, window: float) -> None:
    """Then the first recorder is started again on its spool: what it had not committed, the
    standby wrote (or recorded as missing); nothing is written twice."""
    with Mosquitto(tmp_path / "broker") as broker:
        project = mine_copy(tmp_path, broker)
        # the truth: every sample the broker delivered, as a third subscriber receives it
        sensors = load_project(project)[0].sensors
        cfg = MqttSource(type="mqtt", url=broker.url, topic="twinviewer/mine/{component}/{sensor}")
        truth = Collector()
        witness = MqttFeed(cfg, sensors, tmp_path)
        rec = ["record", str(project), "--source", "mqtt", "--history", pg_url]
        first = tv(*rec, "--spool", str(tmp_path / "a"), log=tmp_path / "first.log")
        standby = again = None
        try:
            wait_for_writer(pg_url)
            standby = tv(
                *rec,
                "--spool",
                str(tmp_path / "b"),
                "--standby",
                "--standby-window",
                str(window),
                "--json",
                log=tmp_path / "standby.log",
            )
            sim = tv(
                "simulate",
                str(project),
                "--mqtt",
                broker.url,
                "--rate",
                "5",
                "--duration",
                "9",
                log=tmp_path / "simulate.log",
            )
            status = tmp_path / "b" / "standby.json"

            def received() -> int:
                try:
                    return int(json.loads(status.read_text())["standby"]["received"])
                except (OSError, ValueError, KeyError):
                    return 0

            assert wait_until(lambda: received() > 600, 30), "the standby received nothing"
            # from now on both recorders receive everything: so does this third subscriber
            time.sleep(1.0)
            witness.start(truth, GapLog().add)
            assert wait_until(lambda: witness.status.state == SourceState.LIVE, 10)
            time.sleep(1.0)
            first.send_signal(signal.SIGKILL)
            kill = time.time()
            first.wait(10)
            out, _ = sim.communicate(timeout=60)
            assert sim.returncode == 0, (tmp_path / "simulate.log").read_text()
            sent = json.loads(out)
            last = -1
            while len(truth) != last:  # the last messages in flight
                last = len(truth)
                time.sleep(1.0)
            standby.send_signal(signal.SIGINT)
            out, _ = standby.communicate(timeout=60)
            witness.stop()
            before = held_in_database(pg_url, sensors)  # the standby's work
            # the first recorder again, on its spool (and its MQTT session, which the broker
            # kept: what was published meanwhile comes too)
            again = tv(
                *rec,
                "--spool",
                str(tmp_path / "a"),
                "--duration",
                "2",
                "--json",
                log=tmp_path / "again.log",
            )
            out_again, _ = again.communicate(timeout=60)
        finally:
            witness.stop()
            for p in (first, standby, again):
                if p is not None and p.poll() is None:
                    p.kill()
                    p.wait()
                if p is not None and p.stdout is not None:
                    p.stdout.close()
        mosquitto_log = broker.log()
    log = (tmp_path / "standby.log").read_text()
    assert standby.returncode == 0, log
    summary = json.loads(out)
    sb = summary["history"]["standby"]
    assert sb["took_over"], log
    assert "took over as the writer" in log
    # the standby's own MQTT session: the broker never closed one recorder's for the other's
    assert "already connected, closing old connection" not in mosquitto_log
    (src,) = summary["sources"]
    got = truth.all()
    delivered = set(zip(got.sensor.tolist(), got.time.tolist(), strict=True))
    published = len(delivered)
    assert len(got) == published > 600 and sent["samples"] >= published
    since = np.full(len(sensors), np.inf)  # per sensor: the first sample the witness received
    np.minimum.at(since, got.sensor, got.time)
    assert src["accepted"] > published / 2  # subscribed before the first recorder died
    assert src["gaps"] == 0, src  # its feed lost nothing (a session of its own)

    # before the first recorder came back: the standby's takeover wrote every sample once,
    # or counted it exactly in the takeover gap
    proj, t, twice, every_gap = before
    assert twice == 0, "a sample is in the database twice"
    held = watched(proj, t, since)
    assert held <= delivered
    gaps = [g for g in every_gap if g.cause == "recorder_takeover"]
    others = [g for g in every_gap if g.cause != "recorder_takeover" and g.end > np.min(since)]
    assert not others, others
    missing = sum(g.missing for g in gaps)
    assert sb["missing"] == missing
    lost = delivered - held
    assert len(lost) == missing, explain(lost, every_gap, kill, sensors)
    if window >= 60:
        assert missing == 0 and sb["backfilled_from_memory"] > 0
    else:  # memory holds the last batch only: what the first recorder had not committed
        assert len(gaps) == 1 and gaps[0].exact and missing > 0
        assert {sensors[i].id for i, _t in lost} <= set(gaps[0].sensors)
        assert all(gaps[0].start <= x <= gaps[0].end for _s, x in lost)
    # the first recorder again: its leftover spool and what its MQTT session kept at the
    # broker, all received by the standby too: nothing twice; only what the takeover gap
    # counted can be new (the gap stays as recorded)
    assert again.returncode == 0, (tmp_path / "again.log").read_text()
    sp = json.loads(out_again)["history"]["spool"]
    proj, t, twice, _ = held_in_database(pg_url, sensors)
    assert twice == 0, f"a sample is in the database twice after the restart: {sp}"
    after = watched(proj, t, since)
    assert held <= after <= delivered
    assert sp["transferred"] > 0  # the session's queue at least
    if window >= 60:
        assert after == held and sp["deduplicated"] == sp["transferred"], sp
    else:
        assert sp["transferred"] - sp["deduplicated"] == len(t) - len(before[1]), sp


def test_takeover_counts_equal_times_and_gaps_against_the_database(pg_url: str) -> None:
    """Memory holding samples at the database's newest time: only the ones beyond those the
    database holds are written; memory that was trimmed past it yields an exact gap."""
    ids = ["a", "b"]
    store = PostgresHistoryStore(pg_url, ids, writer_thread=False)
    # the database: a at T0 (twice: equal times), b up to T0 + 1
    store.append(SampleBatch.of([0, 0, 1, 1], [T0, T0, T0, T0 + 1], [1, 2, 3, 4]))
    store.flush()
    mem = StandbyMemory(ids, window=10.0)
    now = time.time()
    # the same feed in memory: a at T0 three times (one more than held), b at T0 + 1 and later
    mem.add(SampleBatch.of([0, 0, 0, 1, 1], [T0, T0, T0, T0 + 1, T0 + 2], [1, 2, 9, 4, 5]), now)
    mem.add(SampleBatch.of([1], [T0 + 3], [6]), now + 1)
    info = mem.takeover(store, time.monotonic())
    written = SampleBatch.concat([b for b, _, _ in info.batches])
    assert list(zip(written.sensor.tolist(), written.value.tolist(), strict=True)) == [
        (0, 9.0),
        (1, 5.0),
        (1, 6.0),
    ]
    assert info.skipped == 3 and info.missing == 0
    # trimmed: memory of 1 s drops the first batch; b's T0 + 2 was not held: one exact gap
    mem = StandbyMemory(ids, window=1.0)
    mem.add(SampleBatch.of([0, 1, 1], [T0, T0 + 1, T0 + 2], [1, 4, 5]), now)
    mem.add(SampleBatch.of([1], [T0 + 3], [6]), now + 5)
    info = mem.takeover(store, time.monotonic())
    assert info.missing == 1 and info.backfilled == 1
    (gap,) = info.new_gaps
    assert gap.sensors == ("b",) and gap.exact and gap.start == T0 + 1 and gap.end == T0 + 3
    assert np.isfinite(info.at)
    store.close()
