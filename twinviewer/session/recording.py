"""Recording into PostgreSQL through a local spool, for the window as for ``twinviewer record``.

A writer into a PostgreSQL history never writes to the database directly: every batch goes
through a :class:`~twinviewer.history.pg_spool.SpooledRecorder` (a write-ahead log on local
disk, transferred exactly once), so a database restart or a network cut loses nothing. The
spool lives in the user's data folder, one folder per database, schema and role, kept across
runs: the next recorder (or window) of the same history back-fills what an earlier one left.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from twinviewer.session.demos import user_data_dir

if TYPE_CHECKING:
    from twinviewer.history.pg_spool import SpooledRecorder
    from twinviewer.history.postgres import PostgresHistoryStore

log = logging.getLogger(__name__)


def spool_folder(url: str, role: str) -> Path:
    """The default spool folder of a recorder (``role``: recorder, standby, window) of ``url``:
    ``<user data folder>/spool/<schema>-<hash of the URL without its password>-<role>``."""
    from twinviewer.history.pg_tables import redact_url, split_url

    schema = split_url(url)[1]
    digest = hashlib.sha1(redact_url(url).encode()).hexdigest()[:10]
    return user_data_dir() / "spool" / f"{schema}-{digest}-{role}"


def open_spooled_store(
    url: str,
    sensor_ids: Sequence[str],
    retention: float | None,
    rollups: Sequence[tuple[float, float | None]] | None = None,
) -> tuple[PostgresHistoryStore, SpooledRecorder | None]:
    """The window's PostgreSQL history: the store it reads from and, when it is the writer (it
    holds the writer lock and the server is not a replica), the recorder that writes into it
    through the spool (None: the window only reads; another recorder writes). ``rollups``
    ((width, retention) in seconds: ``History.rollup_spec``) become the schema's when this
    window is the writer (a reader uses the schema's)."""
    from twinviewer.history.pg_spool import SpooledRecorder
    from twinviewer.history.postgres import PostgresHistoryStore

    store = PostgresHistoryStore(
        url, sensor_ids, retention=retention, writer_thread=False, rollups=rollups
    )
    if not store.writable:
        return store, None
    try:
        recorder = SpooledRecorder(
            url, sensor_ids, spool_folder(url, "window"), retention=retention, store=store
        )
    except OSError as exc:  # the spool folder cannot be used (e.g. held by another process)
        log.warning("history: recording into %s without a spool: %s", store.where, exc)
        store.close()
        return PostgresHistoryStore(url, sensor_ids, retention=retention, rollups=rollups), None
    return store, recorder
