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


def test_acknowledging_while_the_database_is_away_fails_within_seconds_and_says_so(
    qtbot,
    window,
    building: Path,
    own_pg,
) -> None:
    """The window's click does not wait behind the control room's poll, nor for long on its own
    connection: with the server stopped it is refused within seconds with a message, the status
    bar says the database is not reachable, and once the server is back the same click works."""
    from PySide6.QtWidgets import QMessageBox

    from tests.conftest import drop_pg_schema, pg_schema_url
    from twinviewer.core.project import load_project
    from twinviewer.history.postgres import PostgresHistoryStore

    url = pg_schema_url(own_pg.url)
    project, _ = load_project(building)
    now = time.time()
    recorder = PostgresHistoryStore(url, [s.id for s in project.sensors])
    try:
        recorder.append(
            SampleBatch.of([0, 0, 0], [now - 30, now - 20, now - 10], [20.0, 95.0, 20.0])
        )
        recorder.flush()
    finally:
        recorder.close()
    try:
        with qtbot.waitSignal(window.sessionOpened, timeout=30000):
            window.open_project(building, sources=[], history=url)
        room = window.session.control_room
        assert room is not None
        lst = window.features["alarms"].alarm_list
        label = window.features["control_room"].history_label
        qtbot.waitUntil(lambda: len(lst.listed()) == 1, timeout=10000)

        own_pg.stop_server()
        for _ in range(2):  # the lost connection, then one the server cannot take
            t0 = time.monotonic()
            assert lst.acknowledge_all() == 0
            assert time.monotonic() - t0 < 2.5
            box = window.findChild(QMessageBox, "ack-refused")
            assert box is not None and "history database" in box.text()
            box.close()
            box.deleteLater()
            qtbot.wait(50)
        assert lst.model.data(lst.model.index(0, 7)) != "✓"
        qtbot.waitUntil(lambda: "not reachable" in label.text(), timeout=10000)

        own_pg.start_server()
        qtbot.waitUntil(lambda: "not reachable" not in label.text(), timeout=15000)
        assert lst.acknowledge_all() == 1
        assert lst.model.data(lst.model.index(0, 7)) == "✓"
        window.close_session()
    finally:
        drop_pg_schema(url)
