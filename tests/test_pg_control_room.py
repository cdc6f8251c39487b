"""The control room on PostgreSQL: viewers on a real streaming-replication standby.

A primary that allows replication and a hot standby made from it by ``pg_basebackup -R`` (both
real servers, tests/pg_replica.py). A recorder writes on the primary; a viewer opened on the
standby (as a writer, as the window opens it, or read-only) reads what the primary recorded,
once the standby replayed it, says that it is a read-only replica, and never tries to write.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.history_cases import IDS
from tests.pg_replica import PgPair, pair_urls, pg_pair  # noqa: F401 (a fixture)
from twinviewer.core.samples import SampleBatch

psycopg = pytest.importorskip("psycopg", reason="psycopg 3 is not installed (the postgres extra)")

from twinviewer.history.pg_role import REPLICA_REASON  # noqa: E402
from twinviewer.history.postgres import HistoryDatabaseError, PostgresHistoryStore  # noqa: E402

T0 = 1.7e9


def _batch(k: int, n: int = 200) -> SampleBatch:
    rng = np.random.default_rng(k)
    t = T0 + k * 100 + np.sort(rng.uniform(0, 100, n))
    return SampleBatch.of(rng.integers(0, len(IDS), n), t, rng.normal(20, 5, n))


def test_a_viewer_on_a_streaming_replica_reads_what_the_primary_recorded(
    pg_pair: PgPair,  # noqa: F811
) -> None:
    primary_url, standby_url = pair_urls(pg_pair)
    recorder = PostgresHistoryStore(primary_url, IDS, writer_thread=False)
    assert recorder.writable and recorder.read_only_reason == ""
    recorder.append(_batch(0))
    recorder.flush()
    pg_pair.wait_replayed()

    # opened as a writer (the window's default): falls back to reading, and says why
    viewer = PostgresHistoryStore(standby_url, IDS)
    reader = PostgresHistoryStore(standby_url, IDS, writer=False)
    try:
        for store in (viewer, reader):
            assert not store.writable
            assert store.read_only_reason == REPLICA_REASON
            assert store.stats()["read_only_reason"] == REPLICA_REASON
        for t in (T0 + 10, T0 + 50, T0 + 99.9):
            want_v, want_t = recorder.at(t)
            got_v, got_t = viewer.at(t)
            np.testing.assert_array_equal(got_v, want_v)
            np.testing.assert_array_equal(got_t, want_t)
        assert viewer.time_range() == recorder.time_range()
        for sensor in range(len(IDS)):
            want = recorder.series(sensor, T0, T0 + 100, 50)
            got = viewer.series(sensor, T0, T0 + 100, 50)
            for a, b in zip(got, want, strict=True):
                np.testing.assert_array_equal(a, b)

        # what the window hands to it is dropped and counted; nothing reaches the server
        viewer.append(_batch(99, 10))
        viewer.flush()
        assert viewer.dropped == 10

        # the same viewers see what the primary records next, once replayed
        recorder.append(_batch(1))
        recorder.flush()
        pg_pair.wait_replayed()
        assert viewer.time_range() == recorder.time_range()
        np.testing.assert_array_equal(viewer.at(T0 + 150)[0], recorder.at(T0 + 150)[0])
        assert viewer.stats()["samples"] == recorder.stats()["samples"] == 400
        np.testing.assert_array_equal(reader.at(T0 + 150)[0], recorder.at(T0 + 150)[0])
    finally:
        viewer.close()
        reader.close()
        recorder.close()

    # nothing the viewers did reached the primary: 400 samples, the recorder's
    check = PostgresHistoryStore(primary_url, IDS, writer=False)
    try:
        assert check.stats()["samples"] == 400
    finally:
        check.close()


def test_a_replica_with_nothing_recorded_is_a_clear_error(pg_pair: PgPair) -> None:  # noqa: F811
    _, standby_url = pair_urls(pg_pair)
    with pytest.raises(HistoryDatabaseError, match="nothing recorded there yet"):
        PostgresHistoryStore(standby_url, IDS)
