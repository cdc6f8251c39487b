"""Fixtures for the control-room tests: a PostgreSQL primary and a real streaming-replication
hot standby of it (``pg_basebackup -R``), started once per test module that uses them.

Import the fixtures into a test module (``from tests.pg_replica import pg_pair``); each test
takes a fresh schema on the primary with :func:`pair_urls`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from twinviewer.history import pg_local


@dataclass
class PgPair:
    primary: pg_local.LocalPostgres
    standby: pg_local.LocalPostgres

    def wait_replayed(self, timeout: float = 30.0) -> None:
        self.standby.wait_replayed(timeout)


@pytest.fixture(scope="module")
def pg_pair() -> Iterator[PgPair]:
    """A primary that allows replication and a hot standby following it."""
    pytest.importorskip("psycopg", reason="psycopg 3 is not installed (the postgres extra)")
    if pg_local.find_bindir() is None:
        msg = "no PostgreSQL server binaries (apt-get install postgresql)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    primary = pg_local.LocalPostgres(replication=True).start()
    try:
        standby = pg_local.LocalPostgres.standby_of(primary)
    except BaseException:
        primary.stop()
        raise
    try:
        yield PgPair(primary, standby)
    finally:
        standby.stop()
        primary.stop()


def pair_urls(pair: PgPair) -> tuple[str, str]:
    """The URLs of one fresh schema on the primary and the same schema on the standby."""
    schema = f"r_{uuid.uuid4().hex[:12]}"
    return f"{pair.primary.url}?schema={schema}", f"{pair.standby.url}?schema={schema}"
