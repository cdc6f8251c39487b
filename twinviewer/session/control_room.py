"""Where an open twin keeps its shared state: files for one workstation, the history database
for a control room.

A twin whose history is an embedded store keeps acknowledgements in ``acknowledged.json`` in the
history folder, the review in ``<project>.review/`` and the audit trail in ``audit.jsonl``. A
twin whose history is PostgreSQL (``history.url``, ``--history URL``) keeps them in the same
database (:mod:`twinviewer.history.pg_shared`), so every viewer of the control room sees the
same acknowledgements, issues and audit records: :class:`ControlRoom` holds them, and a
background thread polls the database every few seconds (:meth:`ControlRoom.start_polling`;
the window takes the changes on its own thread with :meth:`ControlRoom.take_changes`).

The review's *measurements* and the snapshots' files stay in ``<project>.review/`` (a local
copy: the snapshots travel with their issues in the database). An audit trail named in the
project (``command_settings.audit``) stays a file.

On a read-only replica (a hot standby) everything is read; acknowledging, filing or changing an
issue and sending a command (its audit record) are refused with a message saying so.

Threads: a control room holds two connections to the database. :attr:`ControlRoom.db` is the
window's (acknowledging, saving issues, audit records, reading issues and snapshots): it
connects within :data:`GUI_CONNECT_TIMEOUT` and gives up on a statement after
:data:`GUI_QUERY_TIMEOUT`, so a click fails with a message within seconds when the server is
away or busy. :attr:`ControlRoom.poll_db` is the poll thread's alone (longer timeouts): a poll
held up by the server (a lock, a reconnect) never holds up the window. The poll refreshes the
acknowledgements the window reads (:class:`~twinviewer.history.pg_shared.SharedAcknowledgements`
merges under a lock of its own) and leaves the rest for :meth:`ControlRoom.take_changes`.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from twinviewer.core.alarms import Acknowledgements
from twinviewer.core.audit import AuditTrail
from twinviewer.core.project import Project
from twinviewer.review import Issue, write_snapshot
from twinviewer.session.review_book import ReviewBook, default_author

if TYPE_CHECKING:
    from twinviewer.history.pg_shared import SharedAcknowledgements, SharedIssues
    from twinviewer.session.twin import TwinSession

log = logging.getLogger(__name__)

ACKS_FILE = "acknowledged.json"  # in the history folder of an embedded store
POLL_SECONDS = 2.0
GUI_CONNECT_TIMEOUT = 2  # seconds: the window's connection (libpq's least)
GUI_QUERY_TIMEOUT = 3.0  # seconds: a statement of the window's, waiting for locks included
POLL_QUERY_TIMEOUT = 30.0  # seconds: the poll's (its connect timeout is the URL's, 5 s)
CLOSE_WAIT = 1.0  # seconds close() waits for a poll in progress


class ControlRoom:
    """The shared state of one history database, polled in the background (on a connection
    of its own: see the module's docstring)."""

    def __init__(self, url: str, who: str | None = None) -> None:
        from twinviewer.history.pg_shared import (
            DatabaseAuditTrail,
            SharedAcknowledgements,
            SharedDatabase,
            SharedIssues,
        )

        self.db = SharedDatabase(
            url, connect_timeout=GUI_CONNECT_TIMEOUT, query_timeout=GUI_QUERY_TIMEOUT
        )
        try:
            self.poll_db = SharedDatabase(url, query_timeout=POLL_QUERY_TIMEOUT, create=False)
        except BaseException:
            self.db.close()
            raise
        self.where = self.db.where
        self.acks: SharedAcknowledgements = SharedAcknowledgements(self.db, who or default_author())
        self.issues: SharedIssues = SharedIssues(self.db)
        self.audit: AuditTrail = DatabaseAuditTrail(self.db)
        self._polled_issues = SharedIssues(self.poll_db)
        self._polled_audit = DatabaseAuditTrail(self.poll_db)
        self._lock = threading.Lock()  # what the polls found, for take_changes
        self._poll_lock = threading.Lock()  # one poll at a time
        self._changed: set[str] = set()
        self._pending_issues: dict[str, str] | None = None
        self._issue_stamp = self._polled_issues.stamp()
        self._audit_stamp = self._polled_audit.stamp()
        self.error = ""  # why the last poll failed ("" when it worked)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def read_only_reason(self) -> str:
        return self.db.read_only_reason

    def poll(self) -> set[str]:
        """Read what changed in the database since the last poll (through :attr:`poll_db`): a
        set of ``"acks"``, ``"issues"``, ``"audit"`` (kept for :meth:`take_changes` too).
        Raises ``ConnectionError`` when the server is away."""
        found: set[str] = set()

        def note(what: str) -> None:  # at once: the window need not wait for the rest
            found.add(what)
            with self._lock:
                self._changed.add(what)

        with self._poll_lock:
            if self.acks.refresh(self.poll_db):
                note("acks")
            stamp = self._polled_issues.stamp()
            if stamp != self._issue_stamp:
                texts = self._polled_issues.all()
                self._issue_stamp = stamp
                with self._lock:
                    self._pending_issues = texts
                note("issues")
            stamp = self._polled_audit.stamp()
            if stamp != self._audit_stamp:
                self._audit_stamp = stamp
                note("audit")
        return found

    def take_changes(self) -> tuple[set[str], dict[str, str] | None]:
        """What the polls found since the last call, and the issues as the database holds them
        now (id -> JSON) when they changed; for the window's thread."""
        with self._lock:
            changed, self._changed = self._changed, set()
            issues, self._pending_issues = self._pending_issues, None
        return changed, issues

    def start_polling(self, interval: float = POLL_SECONDS) -> None:
        """Poll every ``interval`` seconds on a daemon thread until :meth:`close`."""
        if self._thread is not None:
            return

        def run() -> None:
            try:
                while not self._stop.wait(interval):
                    try:
                        self.poll()
                        if self.error:
                            log.info("control room: %s is back", self.where)
                        self.error = ""
                    except OSError as exc:  # the server is away: say so once, keep trying
                        if not self.error:
                            log.warning("control room: cannot poll %s: %s", self.where, exc)
                        self.error = str(exc)
            finally:
                self.poll_db.close()

        self._thread = threading.Thread(target=run, name="control-room-poll", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop polling and close the connections. A poll still waiting for the server is not
        waited for (beyond :data:`CLOSE_WAIT`): its thread closes its connection when done."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is None:
            self.poll_db.close()
        else:
            thread.join(timeout=CLOSE_WAIT)
            if thread.is_alive():
                log.info("control room: a poll of %s still waits for the server", self.where)
        self.db.close()


# -- choosing a file or the database -------------------------------------------------------------


def open_control_room(session: TwinSession) -> ControlRoom | None:
    """The twin's control room when its history is PostgreSQL, else None."""
    from twinviewer.session.twin import history_url, is_project_file

    if not is_project_file(session.path) or not session.project.history.enabled:
        return None
    url = history_url(session.project, session.history_url)
    return ControlRoom(url) if url else None


def acknowledgements_for(session: TwinSession) -> Acknowledgements:
    """The database's when the twin has a control room, else the history folder's file (none
    kept when the twin has no history folder)."""
    room = session.control_room
    if room is not None:
        return room.acks
    folder = getattr(session.history, "folder", None)
    return Acknowledgements(Path(folder) / ACKS_FILE if folder is not None else None)


def audit_trail_for(
    project: Project, folder: Path, path: Path, url: str | None = None
) -> AuditTrail:
    """The audit trail of commands: the database's when the history is PostgreSQL (and the
    project names no audit file), else the file (:func:`twinviewer.session.commands.audit_path`).
    Opening the database can raise ``ConnectionError``."""
    from twinviewer.session.commands import audit_path
    from twinviewer.session.twin import history_url

    pg_url = history_url(project, url) if project.history.enabled else None
    if pg_url and not project.command_settings.audit:
        from twinviewer.history.pg_shared import DatabaseAuditTrail, SharedDatabase

        return DatabaseAuditTrail(SharedDatabase(pg_url))
    return AuditTrail(audit_path(project, folder, path))


# -- the review, shared ----------------------------------------------------------------------


def issue_text(issue: Issue) -> str:
    """An issue as the database holds it: its JSON, keys sorted (equal issues, equal text)."""
    return json.dumps(issue.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)


class SharedReviewBook(ReviewBook):
    """A :class:`ReviewBook` whose issues are the control room's: every change is written to
    the database before ``review.json`` (a local copy, with the measurements), and
    :meth:`apply_remote` takes in what other viewers changed. On a replica a change is undone
    and refused (``ReadOnlyDatabase``)."""

    def __init__(self, project_path: str | Path, room: ControlRoom) -> None:
        super().__init__(project_path)
        self.room = room
        self._known: dict[str, str] = {}
        remote = room.issues.all()
        local = {i.id: issue_text(i) for i in self.review.issues}
        if not remote and local and not room.read_only_reason:
            log.info(
                "review: %d issue(s) of %s published to %s", len(local), self.folder, room.where
            )
            self._push(local, [])
            remote = local
        self._apply(remote)

    @property
    def read_only_reason(self) -> str:
        return self.room.read_only_reason

    def _push(self, put: dict[str, str], remove: list[str]) -> None:
        by_id = {i.id: i for i in self.review.issues}
        snaps: dict[str, bytes] = {}
        for issue_id in put:
            issue = by_id.get(issue_id)
            if issue is None or not issue.snapshot or issue_id in self._known:
                continue
            try:
                snaps[issue_id] = self.snapshot_file(issue.snapshot).read_bytes()
            except (OSError, ValueError):
                pass  # no snapshot file here: the issue travels without it
        self.room.issues.write(put, remove, snaps)
        for issue_id in remove:
            self._known.pop(issue_id, None)
        self._known.update(put)

    def save(self) -> None:
        """The changed issues to the database (refused on a replica: the change is undone),
        then ``review.json`` and the views."""
        local = {i.id: issue_text(i) for i in self.review.issues}
        put = {k: v for k, v in local.items() if self._known.get(k) != v}
        remove = [k for k in self._known if k not in local]
        if put or remove:
            try:
                self._push(put, remove)
            except OSError:
                self._apply(dict(self._known))  # back to what the database holds
                raise
        super().save()

    def _apply(self, texts: dict[str, str]) -> None:
        issues = [Issue.model_validate_json(t) for t in texts.values()]
        issues.sort(key=lambda i: (i.created, i.id))
        self.review.issues = issues
        self._known = dict(texts)
        for issue in issues:  # snapshots made elsewhere: fetch the ones missing here
            if issue.snapshot and self.error is None:
                try:
                    if self.snapshot_file(issue.snapshot).exists():
                        continue
                    png = self.room.issues.snapshot(issue.id)
                    if png:
                        write_snapshot(self.folder, issue.snapshot, png)
                except (OSError, ValueError) as exc:
                    log.warning("review: snapshot of issue %s not fetched: %s", issue.id, exc)

    def apply_remote(self, texts: dict[str, str]) -> bool:
        """Other viewers' changes (the issues as the database holds them now); True if
        anything changed here (the views are told)."""
        if texts == self._known:
            return False
        self._apply(texts)
        super().save()
        return True
