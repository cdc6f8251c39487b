"""Whether a PostgreSQL server is a primary or a hot standby (a streaming-replication replica).

A control room at a second site reads a *replica*: a server that replays the primary's WAL
and answers read-only queries (``hot_standby``). Nothing can be written there: no tables, no
advisory locks, no acknowledgements. Whoever opens a history database asks first
(``pg_is_in_recovery()``) and, on a standby, works read-only and says so with
:data:`REPLICA_REASON` (the history store's ``read_only_reason``, shown in the window).
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

REPLICA_REASON = "replica (hot standby): read-only"


def in_recovery(conn: Any) -> bool:
    """True if the server of this (psycopg) connection is a standby replaying WAL."""
    row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
    return bool(row and row[0])


def standby_reason(conn: Any, where: str, writer: bool) -> str:
    """:data:`REPLICA_REASON` if the server is a standby (logged, saying that a writer falls
    back to reading), else ``""``."""
    if not in_recovery(conn):
        return ""
    if writer:
        log.warning(
            "history: %s is a streaming-replication standby; reading only (record on the primary)",
            where,
        )
    else:
        log.info("history: %s is a streaming-replication standby (read-only)", where)
    return REPLICA_REASON


class ReadOnlyDatabase(PermissionError):
    """A write to shared control-room state refused: the database is a read-only replica."""

    def __init__(self, where: str, what: str) -> None:
        super().__init__(
            f"{what} cannot be saved: the history database {where} is a {REPLICA_REASON} "
            "(open the twin on the primary server to change it)"
        )
