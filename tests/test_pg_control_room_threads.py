"""The control room's two connections against real PostgreSQL servers: the window's thread
never waits behind the poll thread, and a write of the window's fails within seconds when the
server is away or busy.

The poll is held up for real: another connection locks a table the poll reads (the poll's
query waits on the server), or the server is stopped (``own_pg``), or the network to it is cut
(a TCP relay in front of the server that resets its connections and then takes new ones without
answering them, as a host that went away does: the client waits out its connect timeout).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from tests.conftest import drop_pg_schema, pg_schema_url
from tests.pg_restartable import RestartablePostgres

psycopg = pytest.importorskip("psycopg", reason="psycopg 3 is not installed (the postgres extra)")

from twinviewer.history.postgres import split_url  # noqa: E402
from twinviewer.session.control_room import (  # noqa: E402
    GUI_QUERY_TIMEOUT,
    ControlRoom,
)

POLL = 0.2


def _wait_for(cond: Callable[[], bool], timeout: float = 10.0) -> float:
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > timeout:
            raise AssertionError("not seen in time")
        time.sleep(0.02)
    return time.monotonic() - t0


def _timed(fn: Callable[[], object]) -> tuple[float, object]:
    """How long ``fn`` took, and what it returned or raised."""
    t0 = time.monotonic()
    try:
        out: object = fn()
    except OSError as exc:
        out = exc
    return time.monotonic() - t0, out


def _waiting_on_locks(url: str) -> int:
    """How many sessions of the server wait for a lock now."""
    conninfo, _ = split_url(url)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        ).fetchone()
    return int(row[0]) if row else 0


class Relay:
    """A TCP relay to a server; :meth:`cut_off` resets every relayed connection and then
    takes new ones without ever answering (a host gone away), :meth:`restore` relays again."""

    def __init__(self, port: int) -> None:
        self.upstream = ("127.0.0.1", port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.cut = False
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self._lock:
                self._open.append(client)
                if self.cut:
                    continue  # taken, never answered
            up = socket.create_connection(self.upstream)
            with self._lock:
                self._open.append(up)
            for a, b in ((client, up), (up, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _drop(self) -> None:
        with self._lock:
            socks, self._open = self._open, []
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def cut_off(self) -> None:
        self.cut = True
        self._drop()

    def restore(self) -> None:
        self.cut = False
        self._drop()  # the connections left unanswered

    def close(self) -> None:
        self.cut_off()
        self.listener.close()


@pytest.fixture
def locker(pg_url: str) -> Iterator[psycopg.Connection]:
    """A connection of another client of the database, in a transaction (to hold locks)."""
    conninfo, _ = split_url(pg_url)
    conn = psycopg.connect(conninfo)
    yield conn
    conn.close()


def test_an_acknowledgement_does_not_wait_behind_a_poll_held_up_by_a_lock(
    pg_url: str, locker: psycopg.Connection
) -> None:
    _, schema = split_url(pg_url)
    room = ControlRoom(pg_url, who="gui")
    other = ControlRoom(pg_url, who="other")  # a second viewer
    try:
        room.start_polling(POLL)
        other.start_polling(POLL)
        # another client locks the issues table: every poll's read of it waits on the server
        locker.execute(f'LOCK TABLE "{schema}".twinviewer_review_issues IN ACCESS EXCLUSIVE MODE')
        _wait_for(lambda: _waiting_on_locks(pg_url) >= 2, timeout=5)  # both polls wait

        # the window's thread acknowledges meanwhile: done at once, on its own connection
        took, out = _timed(lambda: room.acks.acknowledge([("pump-1", 10.0)], time.time()))
        assert out == 1 and took < 1.0, (took, out)
        assert ("pump-1", 10.0) in room.acks
        assert room.acks.who_acknowledged(("pump-1", 10.0)) == "gui"
        assert ("pump-1", 10.0) not in other.acks  # its poll is still held up

        locker.rollback()  # the polls go on: the other viewer sees it, and is told
        changed: set[str] = set()
        assert _wait_for(lambda: changed.update(other.take_changes()[0]) or "acks" in changed) < 3
        assert ("pump-1", 10.0) in other.acks

        # the other way round
        assert other.acks.acknowledge([("fan-2", 20.0)], time.time()) == 1
        assert _wait_for(lambda: ("fan-2", 20.0) in room.acks) < 3.0
        assert room.acks.who_acknowledged(("fan-2", 20.0)) == "other"
    finally:
        locker.rollback()
        room.close()
        other.close()


def test_an_acknowledgement_held_up_by_the_server_fails_within_seconds(
    pg_url: str, locker: psycopg.Connection
) -> None:
    _, schema = split_url(pg_url)
    room = ControlRoom(pg_url, who="gui")
    try:
        room.start_polling(POLL)
        # the acknowledgements table itself is locked: the window's insert would wait for ever
        locker.execute(f'LOCK TABLE "{schema}".twinviewer_acks IN ACCESS EXCLUSIVE MODE')
        took, out = _timed(lambda: room.acks.acknowledge([("pump-1", 10.0)], time.time()))
        assert isinstance(out, ConnectionError), out
        assert f"no answer within {GUI_QUERY_TIMEOUT:g} s" in str(out)
        assert GUI_QUERY_TIMEOUT - 0.5 < took < GUI_QUERY_TIMEOUT + 1.0, took
        assert ("pump-1", 10.0) not in room.acks  # nothing acknowledged

        # the lock is gone: the same click works, on the same connection
        locker.rollback()
        took, out = _timed(lambda: room.acks.acknowledge([("pump-1", 10.0)], time.time()))
        assert out == 1 and took < 1.0, (took, out)
    finally:
        locker.rollback()
        room.close()


def test_an_acknowledgement_fails_fast_while_the_network_to_the_server_is_cut(
    pg_server: str,
) -> None:
    host_port = pg_server.split("@")[1].split("/")[0]
    relay = Relay(int(host_port.split(":")[1]))
    url = pg_schema_url(pg_server.replace(host_port, f"127.0.0.1:{relay.port}"))
    room = ControlRoom(url, who="gui")
    direct = ControlRoom(url.replace(f"127.0.0.1:{relay.port}", host_port), who="direct")
    try:
        room.start_polling(POLL)
        direct.start_polling(POLL)
        relay.cut_off()
        # the poll reconnects (its connect timeout: the URL's 5 s) meanwhile; the window's
        # clicks do not wait for it: each fails by itself, within its own 2 s connect timeout
        times = []
        for k in range(3):
            took, out = _timed(lambda k=k: room.acks.acknowledge([("pump", k)], time.time()))
            assert isinstance(out, ConnectionError), out
            assert "history database" in str(out)
            times.append(took)
        assert max(times) < 2.8, times
        assert "cannot connect: connection timeout expired" in str(out)
        _wait_for(lambda: bool(room.error), timeout=15)
        assert not any(("pump", k) in room.acks for k in range(3))

        relay.restore()
        took, out = _timed(lambda: room.acks.acknowledge([("pump", 0)], time.time()))
        assert out == 1 and took < 1.0, (took, out)
        assert _wait_for(lambda: ("pump", 0) in direct.acks) < 3.0
        _wait_for(lambda: not room.error, timeout=15)  # the poll is back too
        assert direct.acks.acknowledge([("fan", 1)], time.time()) == 1
        assert _wait_for(lambda: ("fan", 1) in room.acks) < 3.0
    finally:
        room.close()
        direct.close()
        relay.close()
        drop_pg_schema(url.replace(f"127.0.0.1:{relay.port}", host_port))


def test_an_acknowledgement_fails_fast_while_the_server_is_stopped(
    own_pg: RestartablePostgres,
) -> None:
    url = pg_schema_url(own_pg.url)
    room, other = ControlRoom(url, who="gui"), ControlRoom(url, who="other")
    try:
        room.start_polling(POLL)
        other.start_polling(POLL)
        own_pg.stop_server()
        for k in range(2):  # the lost connection, then a refused one
            took, out = _timed(lambda k=k: room.acks.acknowledge([("pump", k)], time.time()))
            assert isinstance(out, ConnectionError) and took < 2.5, (took, out)
        _wait_for(lambda: bool(room.error) and bool(other.error), timeout=15)

        own_pg.start_server()
        assert room.acks.acknowledge([("pump", 0)], time.time()) == 1
        assert _wait_for(lambda: ("pump", 0) in other.acks, timeout=8) < 8
        _wait_for(lambda: not room.error and not other.error, timeout=15)
    finally:
        room.close()
        other.close()


def test_closing_does_not_wait_for_a_poll_held_up_by_the_server(
    pg_url: str, locker: psycopg.Connection
) -> None:
    _, schema = split_url(pg_url)
    room = ControlRoom(pg_url, who="gui")
    room.start_polling(POLL)
    locker.execute(f'LOCK TABLE "{schema}".twinviewer_review_issues IN ACCESS EXCLUSIVE MODE')
    _wait_for(lambda: _waiting_on_locks(pg_url) >= 1, timeout=5)
    took, _ = _timed(room.close)
    assert took < 2.0
    assert room.db._conn is None  # the window's connection is closed
    locker.rollback()  # the poll gets its answer and closes its own connection
    _wait_for(lambda: room.poll_db._conn is None, timeout=5)
