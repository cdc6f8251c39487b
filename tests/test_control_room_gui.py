"""The window on a real streaming replica (needs a virtual X server, pytest-xvfb): the status
bar says the history is a read-only replica; an alarm acknowledged by a viewer of the primary
is shown acknowledged here within a few seconds (the control room's poll); acknowledging here is
refused with a message, and the twin keeps working.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.pg_replica import PgPair, pair_urls, pg_pair  # noqa: F401 (a fixture)
from twinviewer.core.samples import SampleBatch

pytest.importorskip("psycopg", reason="psycopg 3 is not installed (the postgres extra)")


def test_window_on_a_replica_is_read_only_and_sees_the_primarys_acknowledgements(
    qtbot,
    window,
    building: Path,
    pg_pair: PgPair,  # noqa: F811
) -> None:
    from PySide6.QtWidgets import QMessageBox

    from twinviewer.core.project import load_project
    from twinviewer.history.pg_role import REPLICA_REASON
    from twinviewer.history.postgres import PostgresHistoryStore
    from twinviewer.session.control_room import ControlRoom

    primary_url, standby_url = pair_urls(pg_pair)
    project, _ = load_project(building)
    now = time.time()
    recorder = PostgresHistoryStore(primary_url, [s.id for s in project.sensors])
    on_primary = ControlRoom(primary_url, who="ann")
    try:
        recorder.append(
            SampleBatch.of([0, 0, 0], [now - 30, now - 20, now - 10], [20.0, 95.0, 20.0])
        )
        recorder.flush()
        pg_pair.wait_replayed()
        with qtbot.waitSignal(window.sessionOpened, timeout=30000):
            window.open_project(building, sources=[], history=standby_url)
        s = window.session
        assert s.history.read_only_reason == REPLICA_REASON
        assert s.control_room is not None and s.control_room.read_only_reason == REPLICA_REASON
        label = window.features["control_room"].history_label
        assert label.isVisible() and "read-only replica" in label.text()

        lst = window.features["alarms"].alarm_list
        qtbot.waitUntil(lambda: len(lst.listed()) == 1, timeout=10000)
        key = ("F0_T", now - 20)
        assert key not in lst.model.acks

        on_primary.acks.acknowledge([key], time.time())  # a viewer of the primary
        pg_pair.wait_replayed()
        t0 = time.monotonic()
        qtbot.waitUntil(lambda: lst.model.data(lst.model.index(0, 7)) == "✓", timeout=8000)
        assert time.monotonic() - t0 < 6.0

        # acknowledging on the replica: refused, said so, nothing changes
        lst.model.acks._keys.clear()  # as if not yet seen here, to make the click try
        assert lst.acknowledge_all() == 0
        box = window.findChild(QMessageBox, "ack-refused")
        assert box is not None and "read-only" in box.text()
        box.close()
        window.close_session()
    finally:
        on_primary.close()
        recorder.close()
