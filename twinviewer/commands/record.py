"""``twinviewer record``: connect a project's sources headless and record what they deliver.

Into the project's history: the embedded store, or PostgreSQL (``--history URL`` or the
project's ``history.url``). Into PostgreSQL the recorder writes through a local spool
(:mod:`twinviewer.history.pg_spool`) so that nothing is lost while the database is away:
``--spool DIR``, by default ``<user data folder>/spool/<schema>-<hash of the URL>-<role>``
(platformdirs: ``~/.local/share/TwinViewer/spool/...`` on Linux), kept across runs so that a
restarted recorder back-fills what the previous one could not write. ``--standby`` waits as a
hot standby for the writer lock (:mod:`twinviewer.history.pg_standby`). The summary says what
arrived and what was rejected, per source, and what the spool back-filled or still holds.

A standby receives the feed beside the recorder, so it must not share the recorder's MQTT
session: a broker keeps one connection per client id and closes the older one when the same id
connects again, and both recorders would take the session from each other all the time, each
receiving part of the feed (what the killed one had received and not yet committed was then
lost to both). So an MQTT source with a fixed ``client_id`` connects from a standby as
``<client_id>-standby-<hash of the spool folder>`` (see :func:`standby_sources`): a session of
its own, kept across its reconnects like the recorder's, one per spool folder.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import signal
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from twinviewer.core.gaps import GapLog
from twinviewer.core.samples import BatchQueue, LatestState
from twinviewer.session import (
    create_sources,
    history_location,
    history_url,
    load_twin_project,
    open_history,
)
from twinviewer.session.recording import spool_folder
from twinviewer.sources.base import Source

if TYPE_CHECKING:
    from twinviewer.commands import Subparsers
    from twinviewer.core.project import Project

log = logging.getLogger(__name__)

DRAIN_S = 0.1


@dataclass
class SourceSummary:
    id: str
    type: str
    state: str
    message: str
    messages: int
    accepted: int
    rejected: dict[str, int]
    flagged: dict[str, int]
    samples_per_second: float
    gaps: int = 0  # losses detected (sequence gaps, disconnections)
    missing: int = 0  # samples those gaps say are missing
    gap_causes: dict[str, int] = field(default_factory=dict)


@dataclass
class RecordSummary:
    project: str
    duration: float
    sensors: int
    sensors_with_data: int
    sources: list[SourceSummary] = field(default_factory=list)
    history: dict = field(default_factory=dict)  # the store's stats after the run

    def as_dict(self) -> dict:
        return asdict(self)

    def lines(self) -> list[str]:
        out = [
            f"{self.project}: {self.duration:.1f} s, {self.sensors_with_data}/{self.sensors} "
            "sensors received data"
        ]
        if self.history:
            h = self.history
            out.append(
                f"  history: {h.get('path')}: {h.get('samples', 0):,} samples held, "
                f"{h.get('bytes_per_sample', float('nan')):.2f} bytes/sample"
            )
            sp = h.get("spool")
            if sp:
                state = "empty" if sp["empty"] else f"{sp['pending']:,} samples wait in it"
                dedup = ""
                if sp.get("deduplicated"):
                    dedup = (
                        f" ({sp['deduplicated']:,} not written again: another recorder had "
                        "written them)"
                    )
                out.append(
                    f"  spool: {sp['folder']}: {sp['spooled']:,} samples spooled while the "
                    f"database was away, {sp['backfilled']:,} back-filled{dedup}; {state}"
                )
                if sp.get("dropped_spool_full"):
                    out.append(
                        f"  spool FULL: {sp['dropped_spool_full']:,} samples dropped at its cap "
                        f"of {sp['max_bytes'] / 1e9:.2f} GB (recorded as a gap; --spool-max-gb)"
                    )
            sb = h.get("standby")
            if sb:
                if sb["took_over"]:
                    out.append(
                        f"  standby: took over after {sb['waited']:.1f} s; "
                        f"{sb['backfilled_from_memory']:,} samples back-filled from memory, "
                        f"{sb['already_held']:,} already held, {sb['missing']:,} missing"
                    )
                else:
                    out.append(f"  standby: never took over ({sb['in_memory']:,} in memory)")
        for s in self.sources:
            rejected = ", ".join(f"{k} {v}" for k, v in sorted(s.rejected.items())) or "none"
            if s.flagged:
                rejected += "; accepted but flagged: " + ", ".join(
                    f"{k} {v}" for k, v in sorted(s.flagged.items())
                )
            lost = "nothing detected missing"
            if s.gaps:
                causes = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in s.gap_causes.items())
                lost = f"{s.gaps} gap{'s' if s.gaps != 1 else ''}, {s.missing:,} samples missing"
                lost += f" ({causes})"
            out.append(
                f"  {s.id} ({s.type}): {s.state}{f' ({s.message})' if s.message else ''}; "
                f"{s.messages:,} messages, {s.accepted:,} samples accepted "
                f"({s.samples_per_second:,.0f}/s), rejected: {rejected}; {lost}"
            )
        return out


def record(
    path: str | Path,
    duration: float | None = None,
    only: list[str] | None = None,
    stop: threading.Event | None = None,
    history: str | None = None,
    *,
    spool: Path | None = None,
    standby: bool = False,
    standby_window: float = 60.0,
    spool_max_gb: float | None = None,
) -> RecordSummary:
    """Run the project's sources until ``duration`` seconds pass, ``stop`` is set or SIGINT.
    ``history``: a PostgreSQL URL to record into instead of the project's store; ``spool``:
    the folder of the spool for it, ``spool_max_gb`` its size cap (default: 10 GB or 90 % of
    the free disk space); ``standby``: wait for the writer lock (module docstring)."""
    project, folder = load_twin_project(path)
    spool_dir = _spool_of(project, history, spool, standby)
    if standby and spool_dir is not None:
        project = standby_sources(project, spool_dir)
    sources: list[Source] = create_sources(project, folder, only=only)
    if not sources:
        raise ValueError(
            f"{path}: no source to record; the project has "
            + (
                ", ".join(f"{c.id} ({c.type}, enabled: {c.enabled})" for c in project.sources)
                or "no sources"
            )
        )
    stop = stop or threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    queue = BatchQueue()
    gap_log = GapLog()
    state = LatestState(len(project.sensors))
    max_bytes = None if spool_max_gb is None else int(spool_max_gb * 1e9)
    store = _open_store(
        project, folder, Path(path), history, spool_dir, standby, standby_window, max_bytes
    )
    types = {c.id: c.type for c in project.sources}
    t0 = time.monotonic()
    try:
        for s in sources:
            s.start(queue.put, gap_log.add)
        while not stop.is_set():
            if duration is not None and time.monotonic() - t0 >= duration:
                break
            stop.wait(DRAIN_S)
            gaps = gap_log.drain()
            if gaps and store is not None:
                store.add_gaps(gaps)
            batch = queue.drain()
            if batch is not None:
                state.apply(batch)
                if store is not None:
                    store.append(batch)
    finally:
        # the state a source was in while recording, not 'stopped' after we stopped it
        last = {s.id: (s.status.state.value, s.status.message) for s in sources}
        for s in sources:
            s.stop()
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    batch = queue.drain()
    if batch is not None:
        state.apply(batch)
        if store is not None:
            store.append(batch)
    gaps = gap_log.drain()
    if gaps and store is not None:
        store.add_gaps(gaps)
    held: dict = {}
    if store is not None:
        store.close()  # flushes: everything accepted is on disk
        where = history_location(project, folder, Path(path), history)
        held = {"path": where, **store.stats()}
    elapsed = time.monotonic() - t0
    summary = RecordSummary(
        project=project.name,
        duration=elapsed,
        sensors=len(project.sensors),
        sensors_with_data=int(np.count_nonzero(~np.isnan(state.time))),
        history=held,
    )
    for s in sources:
        st = s.status
        summary.sources.append(
            SourceSummary(
                id=s.id,
                type=types.get(s.id, "?"),
                state=last[s.id][0],
                message=last[s.id][1],
                messages=st.messages,
                accepted=st.accepted,
                rejected=dict(st.rejected),
                flagged=dict(st.flags),
                samples_per_second=st.accepted / elapsed if elapsed > 0 else 0.0,
                gaps=st.gaps,
                missing=st.missing,
                gap_causes=dict(st.gap_causes),
            )
        )
    return summary


def _spool_of(
    project: Project, history: str | None, spool: Path | None, standby: bool
) -> Path | None:
    """The spool folder of a PostgreSQL recorder (None: the history is not PostgreSQL)."""
    url = history_url(project, history)
    if not url or not project.history.enabled or not project.sensors:
        if standby:
            raise ValueError("--standby needs a PostgreSQL history (--history URL)")
        return None
    return spool or spool_folder(url, "standby" if standby else "recorder")


def standby_sources(project: Project, spool: Path) -> Project:
    """``project`` with an MQTT session of the standby's own (module docstring): every MQTT
    source with a fixed client id gets ``<id>-standby-<8 hex of the spool folder's path>``."""
    digest = hashlib.sha1(str(Path(spool).resolve()).encode()).hexdigest()[:8]
    changed = [
        c.model_copy(update={"client_id": f"{c.client_id}-standby-{digest}"})
        if c.type == "mqtt" and getattr(c, "client_id", None)
        else c
        for c in project.sources
    ]
    return project.model_copy(update={"sources": changed})


def _open_store(
    project: Project,
    folder: Path,
    path: Path,
    history: str | None,
    where: Path | None,
    standby: bool,
    window: float,
    max_bytes: int | None = None,
) -> Any:
    """The embedded store, a spooled PostgreSQL recorder, or a standby one (or None)."""
    url = history_url(project, history)
    if where is None or not url:
        return open_history(project, folder, path, history)
    from twinviewer.history.pg_spool import SpooledRecorder
    from twinviewer.history.pg_standby import StandbyRecorder
    from twinviewer.history.pg_tables import redact_url

    ids = [s.id for s in project.sensors]
    days = project.history.retention_days
    retention = days * 86400.0 if days else None
    if standby:
        log.info("history: standby recorder for %s; spool %s", redact_url(url), where)
        return StandbyRecorder(
            url, ids, where, retention=retention, window=window, max_bytes=max_bytes
        )
    rollups = project.history.rollup_spec()

    def open_store() -> Any:  # the project's roll-ups become the schema's (a standby: the schema's)
        from twinviewer.history.postgres import PostgresHistoryStore

        return PostgresHistoryStore(
            url, ids, retention=retention, writer_thread=False, rollups=rollups
        )

    rec = SpooledRecorder(
        url, ids, where, retention=retention, max_bytes=max_bytes, open_store=open_store
    )
    if rec.store is None and "writer lock" in rec.failure:
        rec.close(timeout=0.0)
        raise ValueError(
            f"another recorder writes to {redact_url(url)}; run this one with --standby to take "
            "over when it stops"
        )
    return rec


def add_parser(sub: Subparsers) -> None:
    rec = sub.add_parser("record", help="connect the project's sources headless; print a summary")
    rec.add_argument("project", type=Path)
    rec.add_argument("--duration", type=float, default=None, help="seconds (default: until Ctrl+C)")
    rec.add_argument(
        "--source", action="append", metavar="ID", help="only this source (repeatable)"
    )
    rec.add_argument("--json", action="store_true", help="the summary as one JSON object")
    rec.add_argument(
        "--history",
        metavar="URL",
        help="record into this PostgreSQL database (postgresql://user:pw@host/db[?schema=NAME])",
    )
    rec.add_argument(
        "--spool",
        type=Path,
        metavar="DIR",
        help="the local spool for a PostgreSQL history (default: under the user's data folder)",
    )
    rec.add_argument(
        "--standby",
        action="store_true",
        help="hot standby: wait for the recorder writing to --history URL to stop, then take over",
    )
    rec.add_argument(
        "--standby-window",
        type=float,
        default=60.0,
        metavar="S",
        help="seconds of samples a standby keeps in memory for its takeover (default 60)",
    )
    rec.add_argument(
        "--spool-max-gb",
        type=float,
        default=None,
        metavar="GB",
        help="size cap of the spool; past it new samples are dropped and recorded as a gap "
        "(default: 10 GB, or 90%% of the free disk space if less)",
    )
    rec.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """The summary (``--json``: as one object). Exit 1: the project or a store cannot be used."""
    from twinviewer.core.project import ProjectError

    try:
        summary = record(
            args.project,
            args.duration,
            args.source,
            history=args.history,
            spool=args.spool,
            standby=args.standby,
            standby_window=args.standby_window,
            spool_max_gb=args.spool_max_gb,
        )
    except (ProjectError, ValueError, ImportError, OSError) as exc:
        sys.stderr.write(f"twinviewer record: {exc}\n")
        return 1
    if args.json:
        sys.stdout.write(json.dumps(summary.as_dict()) + "\n")
    else:
        sys.stdout.write("\n".join(summary.lines()) + "\n")
    return 0
