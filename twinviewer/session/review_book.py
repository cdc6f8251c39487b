"""The open twin's design review: one :class:`ReviewBook` that the window's review features
(measurements, issues, the report) share, saved to ``<project>.review/`` on every change.

The book holds the :class:`~twinviewer.review.Review` read from the review folder, changes it
only through its methods, writes ``review.json`` after each change (atomically, see
:mod:`twinviewer.review.store`) and emits :attr:`ReviewBook.changed` so that every view of the
review (the Review dock, the measurement list, markers in 3D and on the timeline) redraws. A
review file that cannot be read raises :class:`~twinviewer.review.ReviewFileError` when the
book is opened and is never overwritten; :meth:`ReviewBook.unsaved` is the book the window
works with then (in memory, its :attr:`~ReviewBook.error` saying why).
"""

from __future__ import annotations

import getpass
import logging
import os
from collections.abc import Iterable
from pathlib import Path

from psygnal import Signal

from twinviewer.review import (
    Issue,
    Measurement,
    Review,
    load_review,
    review_folder,
    save_review,
    snapshot_path,
    write_snapshot,
)

log = logging.getLogger(__name__)


def default_author() -> str:
    """Who is reviewing: ``$TWINVIEWER_AUTHOR``, else the login name, else ``unknown``."""
    name = os.environ.get("TWINVIEWER_AUTHOR") or os.environ.get("USER")
    if name:
        return name
    try:
        return getpass.getuser()
    except Exception:  # no user database entry (some containers)
        return "unknown"


def _snapshots(issue: Issue) -> set[str]:
    names = {issue.snapshot} | {v.snapshot for v in issue.viewpoints()}
    return {n for n in names if n}


class ReviewBook:
    """A project's review, kept in step with its folder.

    Signals
    -------
    changed()
        Issues or measurements were added, changed or removed (and saved).
    """

    changed = Signal()

    def __init__(self, project_path: str | Path) -> None:
        self.folder = review_folder(project_path)
        self.review: Review = load_review(self.folder)
        self.author = default_author()
        self.error: str | None = None  # why nothing is saved (an unreadable review file)

    @classmethod
    def unsaved(cls, project_path: str | Path, error: str) -> ReviewBook:
        """An empty book kept in memory only, because the review file cannot be read
        (``error`` says why); the file is left as it is."""
        book = cls.__new__(cls)
        book.folder = review_folder(project_path)
        book.review = Review()
        book.author = default_author()
        book.error = error
        return book

    # -- reading -------------------------------------------------------------------------------
    @property
    def issues(self) -> list[Issue]:
        return self.review.issues

    @property
    def measurements(self) -> list[Measurement]:
        return self.review.measurements

    def issue(self, issue_id: str) -> Issue:
        return self.review.issue(issue_id)

    def measurement(self, measurement_id: str) -> Measurement:
        for m in self.review.measurements:
            if m.id == measurement_id:
                return m
        raise KeyError(f"no measurement {measurement_id!r}")

    def snapshot_file(self, name: str) -> Path:
        """Where the snapshot ``name`` is (or will be) stored."""
        return snapshot_path(self.folder, name)

    # -- changing ------------------------------------------------------------------------------
    def save(self) -> None:
        """Write ``review.json`` now (not in an unsaved book) and tell every view."""
        if self.error is None:
            save_review(self.folder, self.review)
        self.changed.emit()

    def add_issue(self, issue: Issue, snapshot_png: bytes | None = None) -> Issue:
        """Add an issue (with its snapshot's PNG bytes, stored as ``<issue id>.png``)."""
        if snapshot_png is not None and self.error is None:
            name = f"{issue.id}.png"
            write_snapshot(self.folder, name, snapshot_png)
            issue.snapshot = name
        self.review.issues.append(issue)
        self.save()
        return issue

    def replace_issue(self, issue: Issue) -> None:
        """Put an edited issue (same id) back; it is marked modified now."""
        issue.touch(self.author)
        self.review.merge([issue])
        self.save()

    def remove_issue(self, issue_id: str) -> Issue:
        """Remove an issue and the snapshots only it names."""
        issue = self.issue(issue_id)
        self.review.issues.remove(issue)
        self.save()
        if self.error is not None:
            return issue
        kept = {n for i in self.review.issues for n in _snapshots(i)}
        for name in _snapshots(issue) - kept:
            try:
                self.snapshot_file(name).unlink(missing_ok=True)
            except (OSError, ValueError) as exc:  # left behind: harmless, but say so
                log.warning("review: snapshot %s of a deleted issue stays: %s", name, exc)
        return issue

    def add_measurement(self, measurement: Measurement, index: int | None = None) -> None:
        """Add a measurement (at ``index`` of the list: undo puts one back where it was)."""
        items = self.review.measurements
        items.insert(len(items) if index is None else index, measurement)
        self.save()

    def replace_measurement(self, measurement: Measurement) -> None:
        """Put a changed measurement (same id: renamed, unit switched) back in its place."""
        items = self.review.measurements
        for k, m in enumerate(items):
            if m.id == measurement.id:
                items[k] = measurement
                self.save()
                return
        raise KeyError(f"no measurement {measurement.id!r}")

    def remove_measurement(self, measurement_id: str) -> tuple[int, Measurement]:
        """Remove a measurement; returns where it was and what it was (for undo)."""
        items = self.review.measurements
        for k, m in enumerate(items):
            if m.id == measurement_id:
                del items[k]
                self.save()
                return k, m
        raise KeyError(f"no measurement {measurement_id!r}")

    def merge_issues(self, issues: Iterable[Issue]) -> tuple[int, int]:
        """Issues from elsewhere (a BCF file): known ids replaced, others added."""
        result = self.review.merge(issues)
        self.save()
        return result

    def unique_name(self, stem: str) -> str:
        """``stem 1``, ``stem 2``, ...: the first name no measurement has."""
        taken = {m.name for m in self.review.measurements}
        k = 1
        while f"{stem} {k}" in taken:
            k += 1
        return f"{stem} {k}"
