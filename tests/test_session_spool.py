"""The window's recording into PostgreSQL goes through the local spool: a database stopped and
started again while a twin is open loses nothing (the session as the window drives it, against
a real server the test stops)."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from tests.pg_restartable import RestartablePostgres
from twinviewer.core.samples import SampleBatch
from twinviewer.session import TwinSession

psycopg = pytest.importorskip("psycopg", reason="psycopg 3 is not installed (the postgres extra)")

from twinviewer.history.postgres import PostgresHistoryStore  # noqa: E402


def test_an_open_twin_records_through_a_database_restart(
    own_pg: RestartablePostgres, building: Path, tmp_path: Path
) -> None:
    url = f"{own_pg.url}?schema=win_{uuid.uuid4().hex[:10]}"
    session = TwinSession.open(building)
    session.history_url = url
    session.open_history()
    assert session.recorder is not None, "the writer window records through a spool"
    spool = Path(session.recorder.log.folder)
    assert spool.is_relative_to(Path(os.environ["XDG_DATA_HOME"])), spool
    n = len(session.project.sensors)
    t0 = 1_760_000_000.0
    values: list[float] = []

    def feed(k: int) -> None:
        i = len(values) + np.arange(k)
        batch = SampleBatch((i % n).astype(np.int32), t0 + i * 0.1, i.astype(np.float64))
        session.queue.put(batch)
        assert session.drain() == k
        values.extend(batch.value.tolist())

    feed(30)
    session.recorder.flush()
    own_pg.stop_server()
    feed(40)  # the database is away: the window keeps recording into the spool
    assert session.recorder.pending() >= 40
    own_pg.start_server()
    feed(30)
    deadline = time.monotonic() + 30.0
    while session.recorder.pending() and time.monotonic() < deadline:
        time.sleep(0.2)  # the transfer thread back-fills within seconds of the server's return
    assert session.recorder.pending() == 0, session.recorder.spool_stats()
    assert session.recorder.spool_stats()["backfilled"] >= 40
    session.close()
    reader = PostgresHistoryStore(url, [s.id for s in session.project.sensors], writer=False)
    try:
        _, _, v = reader.read()
    finally:
        reader.close()
    np.testing.assert_array_equal(np.sort(v), np.asarray(values))
