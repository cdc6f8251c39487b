"""The recorder's spool: nothing lost, nothing twice, in order, through PostgreSQL stopping and
starting again, and through a recorder restarted in the middle of an outage.

Real servers: a PostgreSQL of the test module's own (tests/pg_restartable.py) that the tests
stop and start on the same port and data; every sample appended is compared with the database.
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from tests.pg_restartable import RestartablePostgres
from twinviewer.core.gaps import Gap
from twinviewer.core.samples import SampleBatch
from twinviewer.history.spool_log import HEADER, SpoolError, SpoolLog

psycopg = pytest.importorskip("psycopg", reason="psycopg 3 is not installed (the postgres extra)")

from twinviewer.history.pg_spool import SpooledRecorder  # noqa: E402
from twinviewer.history.postgres import PostgresHistoryStore  # noqa: E402

IDS = [f"s{i}" for i in range(20)]
T0 = 1_750_000_000.0


def schema_url(server: RestartablePostgres) -> str:
    return f"{server.url}?schema=sp_{uuid.uuid4().hex[:10]}"


class Feed:
    """Batches of unique samples (value = a serial number); some with equal times, some late."""

    def __init__(self) -> None:
        self.serial = 0
        self.batches: list[SampleBatch] = []
        self.rng = np.random.default_rng(7)

    def next(self, n: int = 50) -> SampleBatch:
        i = self.serial + np.arange(n)
        t = T0 + (i // 10) * 0.01  # ten samples share each time: ties decided by append order
        late = self.rng.random(n) < 0.05
        t = np.where(late, t - 5.0, t)
        b = SampleBatch((i % len(IDS)).astype(np.int32), t.astype(np.float64), i.astype(np.float64))
        self.serial += n
        self.batches.append(b)
        return b

    def expected(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        b = SampleBatch.concat(self.batches)
        order = np.argsort(b.time, kind="stable")  # time, then append order
        return b.sensor[order].astype(np.int64), b.time[order], b.value[order]


def assert_database_holds(url: str, feed: Feed, gaps: list[Gap] = ()) -> None:  # type: ignore[assignment]
    reader = PostgresHistoryStore(url, IDS, writer=False)
    try:
        s, t, v = reader.read()
        es, et, ev = feed.expected()
        assert len(v) == len(ev), f"database holds {len(v)} samples, {len(ev)} appended"
        assert len(np.unique(v)) == len(v), "a sample is in the database twice"
        np.testing.assert_array_equal(v, ev)  # every sample, in time then append order
        np.testing.assert_array_equal(t, et)
        ids = reader.sensor_ids
        np.testing.assert_array_equal([ids[i] for i in s], [IDS[i] for i in es])
        held = sorted((g.start, g.end, g.missing) for g in reader.gaps())
        assert held == sorted((g.start, g.end, g.missing) for g in gaps)
    finally:
        reader.close()


def test_spool_log_survives_a_torn_tail_and_reads_in_order(tmp_path: Path) -> None:
    log = SpoolLog(tmp_path, IDS)
    for k in range(5):
        n = 3 + k
        log.append_samples(
            np.arange(n, dtype=np.int32),
            np.full(n, T0 + k),
            np.arange(n, dtype=np.float64) + 10 * k,
            np.full(n, T0),
            np.zeros(n, np.uint8),
        )
    log.append_gaps([Gap("src", ("s1",), T0, T0 + 1, 4)])
    with pytest.raises(SpoolError, match="in use by another recorder"):
        SpoolLog(tmp_path, IDS)
    log.close()
    seg = sorted(tmp_path.glob("*.log"))[-1]
    with open(seg, "ab") as f:  # a crash in the middle of the next record
        f.write(HEADER.pack(b"TVSL", 1, 7, 100, 2900, 0)[:20])
    log = SpoolLog(tmp_path, IDS)
    assert log.next_position == 7
    entries = log.read(0, 10)
    assert [e.position for e in entries] == [1, 2]  # 3 + 4 samples; a third would pass 10
    rest = log.read(2, 1000)
    assert [e.position for e in rest] == [3, 4, 5, 6]
    assert rest[-1].gaps == [Gap("src", ("s1",), T0, T0 + 1, 4)]
    assert rest[1].value.tolist() == [30.0 + i for i in range(6)]
    assert log.pending_samples(2) == 5 + 6 + 7
    log.close()


def test_recording_through_a_server_stop_and_start(own_pg: RestartablePostgres, tmp_path):
    url = schema_url(own_pg)
    feed = Feed()
    rec = SpooledRecorder(url, IDS, tmp_path / "spool", flush_interval=0.1)
    gaps = [Gap("plc", ("s3",), T0 + 1, T0 + 2, 7)]
    stop = threading.Event()

    def produce() -> None:
        while not stop.is_set():
            rec.append(feed.next())
            time.sleep(0.005)

    producer = threading.Thread(target=produce)
    producer.start()
    try:
        time.sleep(0.8)
        own_pg.stop_server()  # a fast shutdown in the middle of the recording
        rec.add_gaps(gaps)  # a gap seen while the database is away
        time.sleep(1.5)
        assert rec.spool_stats()["pending"] > 0
        own_pg.start_server()
        time.sleep(1.0)
        own_pg.stop_server(kill=True)  # a crash of the server this time
        time.sleep(0.5)
        own_pg.start_server()
        time.sleep(0.8)
    finally:
        stop.set()
        producer.join()
    rec.close()
    st = rec.spool_stats()
    assert st["empty"] and st["pending"] == 0
    assert st["outages"] >= 2 and st["backfilled"] > 0 and st["spooled"] > 0
    # >=: the killed server (synchronous_commit off) forgot its last commits; sent again
    assert st["transferred"] >= feed.serial
    assert_database_holds(url, feed, gaps)
    assert len(list((tmp_path / "spool").glob("*.log"))) >= 1  # kept RELEASE_AFTER s


def test_a_recorder_restarted_in_an_outage_keeps_its_spool(own_pg: RestartablePostgres, tmp_path):
    url = schema_url(own_pg)
    spool = tmp_path / "spool"
    feed = Feed()
    rec = SpooledRecorder(url, IDS, spool, flush_interval=0.1)
    for _ in range(20):
        rec.append(feed.next())
    rec.flush()
    own_pg.stop_server()
    try:
        for _ in range(30):
            rec.append(feed.next())
        rec.add_gaps([Gap("plc", (), T0 + 3, T0 + 4, 2)])
        rec.close(timeout=1.0)  # the database is away: the rest stays in the spool
        st = rec.spool_stats()
        assert not st["empty"] and st["pending"] == 30 * 50
        # a new run while the database is still away: starts, spools behind the old entries
        rec = SpooledRecorder(url, IDS, spool, flush_interval=0.1)
        assert rec.store is None
        for _ in range(10):
            rec.append(feed.next())
    finally:
        own_pg.start_server()
    rec.flush()
    rec.close()
    st = rec.spool_stats()
    assert st["empty"] and st["backfilled"] == 40 * 50
    assert_database_holds(url, feed, [Gap("plc", (), T0 + 3, T0 + 4, 2)])
    # a third run has nothing to back-fill and adds nothing twice
    rec = SpooledRecorder(url, IDS, spool, flush_interval=0.1)
    rec.close()
    assert rec.spool_stats()["backfilled"] == 0
    assert_database_holds(url, feed, [Gap("plc", (), T0 + 3, T0 + 4, 2)])


def test_the_database_position_decides_what_is_sent(pg_url: str, tmp_path: Path) -> None:
    """A spool whose entries the database already holds (its COMMIT went through but the
    recorder never heard it) sends them again: the position in the database skips them."""
    feed = Feed()
    rec = SpooledRecorder(pg_url, IDS, tmp_path / "spool", flush_interval=60)
    for _ in range(5):
        rec.append(feed.next())
    rec.flush()
    held = rec._committed
    rec._committed = 0  # as if the answer to that COMMIT had been lost
    rec._known = 0
    rec.append(feed.next())
    with pytest.raises(Exception, match="holds it up to"):
        rec.flush()  # the check inside the transaction refuses, and rolls back
    rec.flush()  # the position is read again: only the new entry goes
    assert rec._committed == held + 1
    rec.close()
    assert_database_holds(pg_url, feed)


def abandon(rec: SpooledRecorder) -> None:
    """What ``kill -9`` leaves of a recorder: its spool on disk with what it had not
    transferred, its position in the database, and the writer lock released by the server as
    the writer connection goes away."""
    rec._closed = True
    rec._wake.set()
    rec._thread.join()
    rec.log.close()
    rec._drop_conn()
    assert rec.store is not None
    rec.store._close_connections()


def test_a_restarted_recorder_does_not_write_again_what_the_standby_wrote(
    pg_url: str, tmp_path: Path
) -> None:
    """The first recorder dies with entries in its spool; the standby (which received the same
    feed, late samples included) takes over and writes them from memory; the first recorder is
    restarted on its spool later: what the standby wrote is not written again, what it had not
    is, and the database holds the feed exactly once, in order."""
    from twinviewer.history.pg_standby import StandbyRecorder

    feed = Feed()
    first = SpooledRecorder(pg_url, IDS, tmp_path / "a", flush_interval=60)
    standby = StandbyRecorder(pg_url, IDS, tmp_path / "b", poll=0.05, flush_interval=0.1)
    for _ in range(10):
        b = feed.next()
        first.append(b)
        standby.append(b)
    first.flush()
    held_before = first.spool_stats()["position"]
    for _ in range(10):  # received by both, committed by neither: 5% are late (5 s back)
        b = feed.next()
        first.append(b)
        standby.append(b)
    abandon(first)
    deadline = time.monotonic() + 10
    while standby.takeover is None and time.monotonic() < deadline:
        time.sleep(0.05)
    info = standby.takeover
    assert info is not None, "the standby never took over"
    # everything after the first recorder's last commit, the late samples among it too
    assert info.backfilled == 10 * 50 and info.skipped == 10 * 50 and info.missing == 0
    for _ in range(5):
        standby.append(feed.next())
    standby.close()
    assert_database_holds(pg_url, feed)
    # the first recorder again, on its spool: ten entries left, all written by the standby
    again = SpooledRecorder(pg_url, IDS, tmp_path / "a", flush_interval=0.1)
    assert again.spool_stats()["position"] == held_before
    for _ in range(3):
        again.append(feed.next())
    again.close()
    st = again.spool_stats()
    assert st["empty"] and st["deduplicated"] == 10 * 50
    assert st["transferred"] == 13 * 50  # handed over; 10 * 50 of it found held
    assert_database_holds(pg_url, feed)


def test_a_full_spool_keeps_the_oldest_and_records_the_dropped_as_a_gap(
    own_pg: RestartablePostgres, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch
) -> None:
    """The database away and the spool at its cap: new batches are dropped with a warning, and
    the database later holds every batch kept plus one exact gap for the dropped ones."""
    import twinviewer.history.pg_spool as pg_spool

    monkeypatch.setattr(pg_spool, "RELEASE_AFTER", 0.0)  # free committed segments at once
    url = schema_url(own_pg)
    feed = Feed()
    rec = SpooledRecorder(url, IDS, tmp_path / "spool", flush_interval=0.1, max_bytes=600_000)
    rec.append(feed.next())
    rec.flush()
    own_pg.stop_server()
    dropped: list[SampleBatch] = []
    try:
        with caplog.at_level("WARNING"):
            for _ in range(500):
                b = feed.next()
                before = rec.log.dropped
                rec.append(b)
                if rec.log.dropped > before:
                    dropped.append(feed.batches.pop())  # never reaches the database
        assert rec.log.bytes <= 600_000 and len(dropped) > 50
        full = [r.getMessage() for r in caplog.records if "is full" in r.getMessage()]
        assert len(full) == 1 and "DROPPING new samples" in full[0]
        assert rec.spool_stats()["dropped_spool_full"] == 50 * len(dropped)
    finally:
        own_pg.start_server()
    rec.flush()  # the database takes the spool; its segments are released
    rec.append(feed.next())  # fits again: the gap goes first
    rec.close()
    d = SampleBatch.concat(dropped)
    gap = Gap("recorder", (), float(d.time.min()), float(d.time.max()), 50 * len(dropped))
    assert_database_holds(url, feed, [gap])
    reader = PostgresHistoryStore(url, IDS, writer=False)
    try:
        (held,) = reader.gaps()
    finally:
        reader.close()
    assert held.cause == "spool_full" and held.exact
    assert set(held.sensors) == {IDS[i] for i in np.unique(d.sensor)}


def test_spool_log_cap_without_a_database(tmp_path: Path) -> None:
    """At the cap the log refuses batches (-1) and writes their gap in their place when room
    comes back or at close at the latest."""
    log = SpoolLog(tmp_path, IDS, max_bytes=70_000)
    n = 100
    positions = [
        log.append_samples(
            np.zeros(n, np.int32) + k % 3,
            np.full(n, T0 + k),
            np.zeros(n),
            np.full(n, T0),
            np.zeros(n, np.uint8),
        )
        for k in range(40)  # 2,929 bytes each: about 23 fit
    ]
    kept = [p for p in positions if p > 0]
    assert positions == kept + [-1] * (40 - len(kept)) and 15 < len(kept) < 30
    assert log.dropped == n * (40 - len(kept)) and log.bytes <= 70_000
    log.close()
    log = SpoolLog(tmp_path, IDS, max_bytes=70_000)
    entries = log.read(0, 10**9)
    assert [e.position for e in entries if len(e)] == kept
    (gap,) = entries[-1].gaps
    assert gap.cause == "spool_full" and gap.exact and gap.missing == n * (40 - len(kept))
    assert (gap.start, gap.end) == (T0 + len(kept), T0 + 39) and gap.sensors == ("s0", "s1", "s2")
    log.close()


def test_a_sample_delivered_again_after_a_takeover_is_written_once(
    pg_url: str, tmp_path: Path
) -> None:
    """The first recorder dies with entries the other writer never had; restarted, its MQTT
    session delivers some of them again (QoS 1): its spool then holds them twice, the database
    once."""
    feed = Feed()
    first = SpooledRecorder(pg_url, IDS, tmp_path / "a", flush_interval=60)
    for _ in range(5):
        first.append(feed.next())
    first.flush()
    for _ in range(3):
        first.append(feed.next())  # never committed, never seen by the other writer
    abandon(first)
    other = SpooledRecorder(pg_url, IDS, tmp_path / "b", flush_interval=60)
    other.append(feed.next(5))  # newer samples: this spool wrote last
    other.close()
    again = SpooledRecorder(pg_url, IDS, tmp_path / "a", flush_interval=60)
    again.append(feed.batches[6])  # delivered again
    again.close()
    st = again.spool_stats()
    assert st["backfilled"] == 3 * 50 and st["deduplicated"] == 50
    assert_database_holds(pg_url, feed)
