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


@pytest.mark.slow
@pytest.mark.xfail(
    reason="open (issue 18 B): on a loaded 2-core machine the standby's own MQTT feed reports "
    "'disconnection' losses around the takeover, and a few dozen samples are then neither in "
    "the database nor in a takeover gap; the source gaps recorded overlap, so they cannot be "
    "summed to account for them yet",
    strict=False,
)
@pytest.mark.parametrize("window", [60.0, 0.0], ids=["memory-reaches", "memory-too-short"])
def test_standby_takes_over_after_kill_9(pg_url: str, tmp_path: Path, window: float) -> None:
    with Mosquitto(tmp_path / "broker") as broker:
        project = mine_copy(tmp_path, broker)
        # the truth: every sample the broker delivered, as a third subscriber receives it
        sensors = load_project(project)[0].sensors
        cfg = MqttSource(type="mqtt", url=broker.url, topic="twinviewer/mine/{component}/{sensor}")
        truth = Collector()
        witness = MqttFeed(cfg, sensors, tmp_path)
        rec = ["record", str(project), "--source", "mqtt", "--history", pg_url]
        first = tv(*rec, "--spool", str(tmp_path / "a"), log=tmp_path / "first.log")
        standby = None
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
        finally:
            witness.stop()
            for p in (first, standby):
                if p is not None and p.poll() is None:
                    p.kill()
                    p.wait()
    log = (tmp_path / "standby.log").read_text()
    assert standby.returncode == 0, log
    summary = json.loads(out)
    sb = summary["history"]["standby"]
    assert sb["took_over"], log
    assert "took over as the writer" in log
    (src,) = summary["sources"]
    got = truth.all()
    delivered = set(zip(got.sensor.tolist(), got.time.tolist(), strict=True))
    published = len(delivered)
    assert len(got) == published > 600 and sent["samples"] >= published
    since = np.full(len(sensors), np.inf)  # per sensor: the first sample the witness received
    np.minimum.at(since, got.sensor, got.time)
    assert src["accepted"] > published / 2  # subscribed before the first recorder died

    reader = PostgresHistoryStore(pg_url, [], writer=False)
    try:
        s, t, _v = reader.read()
        every_gap = reader.gaps()
        gaps = [g for g in every_gap if g.cause == "recorder_takeover"]
    finally:
        reader.close()
    ids = reader.sensor_ids
    where = {x.id: i for i, x in enumerate(sensors)}
    proj = np.array([where[ids[a]] for a in s.tolist()], np.int64)
    pairs = set(zip(proj.tolist(), t.tolist(), strict=True))
    assert len(pairs) == len(t), "a sample is in the database twice"
    watched = t >= since[proj]  # what the witness saw too: compare every one
    held = set(zip(proj[watched].tolist(), t[watched].tolist(), strict=True))
    assert held <= delivered
    missing = sum(g.missing for g in gaps)
    # the standby's own feed may report losses (cause 'disconnection') while the witness had
    # everything: recorded gaps in the witnessed window, exact, account for those
    watched_from = float(np.min(since))
    feed_lost = sum(
        g.missing for g in every_gap if g.cause != "recorder_takeover" and g.end > watched_from
    )
    assert len(held) + missing + feed_lost == published, (len(held), missing, feed_lost)
    assert sb["missing"] == missing
    if window >= 60:
        assert missing == 0 and sb["backfilled_from_memory"] > 0
    else:  # memory holds the last batch only: what the first recorder had not committed
        assert len(gaps) == 1 and gaps[0].exact and missing > 0


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
