"""Review: issues pinned to a component, a 3D point, a viewpoint and a moment of the twin.

The feature keeps the Review dock, the pins in the 3D view and the flags on the timeline in
step with the open twin's :class:`~twinviewer.session.review_book.ReviewBook` (the review
folder beside the project, saved on every change). *Add issue…* (Ctrl+I) captures the window's
viewpoint, the twin's time, the selected component's values and a snapshot, and opens the
issue dialog; choosing an issue (a row, a flag on the timeline) puts the camera, visibility,
section, overlay, colouring and timeline back where it was seen. File > Import/Export BCF…
exchange the issues with BIM tools (BCF 3.0).
"""

from __future__ import annotations

import logging
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox

from twinviewer.core.project import project_stem
from twinviewer.render.pins import IssuePins, pick_point
from twinviewer.review import BcfError, Issue, new_issue, read_bcf, write_bcf
from twinviewer.review.store import SNAPSHOTS, write_snapshot
from twinviewer.session import TwinSession
from twinviewer.ui.feature import ActionSpec, DockSpec, Feature
from twinviewer.ui.review.dialog import QtIssueDialog
from twinviewer.ui.review.dock import STATUS_RGB, IssueRow, QtReviewDock, values_text
from twinviewer.ui.review.viewpoint import (
    capture,
    issue_anchor,
    restore,
    shown_values,
    snapshot_png,
)
from twinviewer.ui.timeline.bar import format_time

if TYPE_CHECKING:
    from twinviewer.session.review_book import ReviewBook
    from twinviewer.ui.main_window import QtMainWindow

log = logging.getLogger(__name__)

BCF_FILTER = "BCF files (*.bcf *.bcfzip);;All files (*)"


def short_time(t: float, tz: tzinfo | None) -> str:
    """``12-03 14:48:30``: a twin time for a table column (the full one is its tooltip)."""
    dt = datetime.fromtimestamp(t, tz) if tz is not None else datetime.fromtimestamp(t)
    return f"{dt:%m-%d %H:%M:%S}"


class ReviewFeature(Feature):
    name = "review"

    def __init__(self, host: QtMainWindow) -> None:
        super().__init__(host)
        self.book: ReviewBook | None = None
        self.dock = QtReviewDock()
        self.pins = IssuePins(host.view.interactor)
        self.dialog: QtIssueDialog | None = None
        self.message_box: QMessageBox | None = None
        self.notes: list[str] = []  # what the last restored viewpoint could not bring back
        self._flagged: list[str] = []  # issue ids of the timeline's flags, in order
        self._pick: tuple[int, tuple[float, float, float]] | None = None  # last clicked point
        self._centres: dict[str, tuple[float, float, float] | None] = {}  # pins of components
        self.dock.addRequested.connect(self.add_issue)
        self.dock.editRequested.connect(self.edit_issue)
        self.dock.deleteRequested.connect(self.delete_issue)
        self.dock.issueSelected.connect(self.go_to)
        self.dock.filtersChanged.connect(self._draw_marks)
        host.view.componentPicked.connect(self._on_pick)
        self._right: tuple[int, int] | None = None  # where the right button went down
        self.menu = QMenu(host)
        self.menu.setObjectName("review-view-menu")
        self._here = self.menu.addAction("Add issue here…")
        self._here.triggered.connect(lambda _=False: self._add_here())
        self._menu_at: tuple[int, int] = (0, 0)
        iren = host.view.interactor.iren
        iren.add_observer("RightButtonPressEvent", self._on_right_press)
        iren.add_observer("RightButtonReleaseEvent", self._on_right_release)

    def docks(self) -> list[DockSpec]:
        return [
            DockSpec(
                "Review",
                self.dock,
                Qt.DockWidgetArea.RightDockWidgetArea,
                tab_with="Charts",
                size=(470, 560),
                minimum=(220, 140),
            )
        ]

    def actions(self) -> list[ActionSpec]:
        return [
            ActionSpec(
                "review.add", "Add &issue…", lambda _=False: self.add_issue(), "Data", "review",
                "Ctrl+I",
                "Note an issue on the selected component at the shown time, with the view",
            ),
            ActionSpec(
                "review.import_bcf", "&Import BCF…", lambda _=False: self.import_bcf(), "File",
                "bcf", tip="Add or update issues from a BCF file of a BIM tool",
            ),
            ActionSpec(
                "review.export_bcf", "&Export BCF…", lambda _=False: self.export_bcf(), "File",
                "bcf", tip="Write the review's issues as a BCF 3.0 file for BIM tools",
            ),
        ]  # fmt: skip

    def hosted(self) -> None:
        bar = getattr(self.host.features.get("timeline"), "bar", None)
        if bar is not None:
            bar.reviewMarkClicked.connect(self._on_flag)

    # -- the twin --------------------------------------------------------------------------------
    def opened(self, session: TwinSession) -> None:
        book = session.open_review()
        if book.error is not None:
            self.book = None
            self.host.error(
                "The review file cannot be read",
                f"{book.error}\n\nIssues cannot be added or imported until the file is fixed, "
                "and measurements taken now are not saved; the file is left as it is.",
            )
            self.dock.set_enabled_for(False, "The review file cannot be read (see the message).")
            self._enable(False)
            self.dock.clear()
            return
        self.book = book
        self.book.changed.connect(self._on_changed)
        self.dock.set_enabled_for(True)
        self._enable(True)
        self._on_changed()

    def closed(self) -> None:
        if self.book is not None:
            self.book.changed.disconnect(self._on_changed)
        self.book = None
        self._pick = None
        self._centres = {}
        if self.dialog is not None:
            self.dialog.reject()
            self.dialog = None
        self.dock.clear()
        self.dock.set_enabled_for(False)
        self.pins.clear()
        self._flagged = []
        bar = self._bar()
        if bar is not None:
            bar.set_review_marks([])

    def _enable(self, on: bool) -> None:
        for action in ("review.add", "review.import_bcf"):
            self.host.action(action).setEnabled(on)

    def _bar(self):  # noqa: ANN202 (the timeline's QtTimelineBar, if hosted)
        return getattr(self.host.features.get("timeline"), "bar", None)

    # -- showing the review ----------------------------------------------------------------------
    def rows(self) -> list[IssueRow]:
        """Every issue as the dock lists it, numbered in the review's order."""
        if self.book is None:
            return []
        tz = self.host.time_zone
        units = {x.id: x.unit for x in self.session.sensors} if self.session else {}
        out = []
        for n, issue in enumerate(self.book.issues, 1):
            when = format_time(issue.time, tz) if issue.time is not None else "–"
            if issue.viewpoint is not None and issue.viewpoint.time is None and issue.time:
                when += " (live)"
            snap = self.book.snapshot_file(issue.snapshot) if issue.snapshot else None
            short = short_time(issue.time, tz) if issue.time is not None else "–"
            out.append(IssueRow(n, issue, when, short, snap, values_text(issue.values, units)))
        return out

    def _on_changed(self) -> None:
        selected = self.dock.selected()
        self.dock.set_issues(self.rows())  # redraws the marks through filtersChanged
        if selected is not None and self.book is not None:
            known = {i.id for i in self.book.issues}
            self.dock.select_issue(selected if selected in known else None)
        self._draw_marks()

    def _draw_marks(self) -> None:
        """Pins in 3D and flags on the timeline for the issues the dock lists."""
        s = self.session
        listed = self.dock.listed() if s is not None else []
        points: list[tuple[float, float, float]] = []
        labels: list[str] = []
        colours: list[tuple[int, int, int]] = []
        highlight: int | None = None
        for row in listed:
            assert s is not None
            at = issue_anchor(s, row.issue, self._centres)
            if at is None:
                continue
            if row.issue.id == self.dock.selected():
                highlight = len(points)
            points.append(at)
            labels.append(str(row.number))
            colours.append(STATUS_RGB[row.issue.status])
        self.pins.set_pins(
            np.asarray(points, float).reshape(-1, 3),
            labels,
            np.asarray(colours, np.uint8).reshape(-1, 3),
            highlight,
        )
        self.host.view.request_render()
        timed = [r for r in listed if r.issue.time is not None]
        self._flagged = [r.issue.id for r in timed]
        bar = self._bar()
        if bar is not None:
            bar.set_review_marks(
                [r.issue.time for r in timed],
                np.asarray([STATUS_RGB[r.issue.status] for r in timed], np.uint8).reshape(-1, 3),
                [f"#{r.number} {r.issue.title} ({r.issue.status.replace('_', ' ')})"
                 for r in timed],
            )  # fmt: skip

    # -- going back to an issue ------------------------------------------------------------------
    def go_to(self, issue_id: str) -> None:
        """Select the issue and put the window back to its viewpoint and moment."""
        if self.book is None or self.session is None:
            return
        try:
            issue = self.book.issue(issue_id)
        except KeyError:
            return
        if self.dock.selected() != issue.id:
            self.dock.select_issue(issue.id)
        vp = issue.viewpoint
        moment = vp.time if vp is not None and vp.time is not None else issue.time
        self.notes = restore(self.host, vp, moment)
        self._draw_marks()
        text = f"Issue: {issue.title}"
        if self.notes:
            text += " — " + "; ".join(self.notes)
        self.host.statusBar().showMessage(text, 8000)

    def _on_flag(self, index: int) -> None:
        if 0 <= index < len(self._flagged):
            self.go_to(self._flagged[index])

    def _on_pick(self, index: int) -> None:
        """Remember the 3D point of the last click on a component, for the next issue."""
        if index < 0:
            self._pick = None
            return
        x, y = self.host.view.interactor.iren.interactor.GetEventPosition()
        point = pick_point(self.host.view.interactor, x, y)
        self._pick = None if point is None else (index, point)

    def _on_right_press(self, _obj: object, _event: str) -> None:
        self._right = self.host.view.interactor.iren.interactor.GetEventPosition()

    def _on_right_release(self, _obj: object, _event: str) -> None:
        """A right click (not a zoom drag) on the twin offers *Add issue here…*."""
        if self._right is None:
            return
        x, y = self.host.view.interactor.iren.interactor.GetEventPosition()
        px, py = self._right
        self._right = None
        if self.book is None or abs(x - px) > 4 or abs(y - py) > 4:
            return
        if self.host.view.scene.pick(x, y) is None:
            return
        self._menu_at = (x, y)
        self.menu.popup(QCursor.pos())

    def _add_here(self) -> None:
        self.add_issue_at(*self._menu_at)

    def add_issue_at(self, x: int, y: int) -> QtIssueDialog | None:
        """A new issue on the component under the view's pixel (x, y) (VTK's origin: lower
        left), pinned to the 3D point there; None when nothing is there."""
        if self.session is None or self.book is None:
            return None
        index = self.host.view.scene.pick(x, y)
        point = pick_point(self.host.view.interactor, x, y)
        if index is None or point is None:
            return None
        self.workbench.selection = (index,)
        self._pick = (index, point)
        return self.add_issue()

    # -- adding, editing, deleting -------------------------------------------------------------
    def draft(self) -> tuple[Issue, bytes, str]:
        """A new issue from the window now (no title yet), its snapshot PNG and a description
        of what it is pinned to."""
        s = self.session
        assert s is not None and self.book is not None
        wb = self.workbench
        tl = wb.timeline
        comp = wb.selection[0] if wb.selection else None
        point = self._pick[1] if self._pick is not None and self._pick[0] == comp else None
        values = shown_values(s, comp) if comp is not None else {}
        t = float(tl.current)
        issue = new_issue(
            "untitled",
            self.book.author,
            component=s.component_ids([comp])[0] if comp is not None else None,
            time=t,
            point=point,
            values=values,
            viewpoint=capture(self.host),
        )
        png = snapshot_png(self.host.view, hide=[self.pins])
        where = [issue.component or "no component selected"]
        if point is not None:
            where.append("point (" + ", ".join(f"{v:.3g}" for v in point) + ")")
        where.append(format_time(t, self.host.time_zone) + (" (live)" if tl.live else ""))
        if values:
            where.append(values_text(values, {x.id: x.unit for x in s.sensors}))
        return issue, png, " · ".join(where)

    def add_issue(self) -> QtIssueDialog | None:
        """Open the dialog for a new issue (it is stored when the dialog is accepted)."""
        if self.session is None or self.book is None:
            return None
        issue, png, where = self.draft()
        dialog = QtIssueDialog(issue, self.book.author, where, png, new=True, parent=self.host)
        dialog.issueAccepted.connect(lambda edited: self._store_new(edited, png))
        self._show_dialog(dialog)
        return dialog

    def _store_new(self, issue: Issue, png: bytes) -> None:
        if self.book is None:
            return
        try:
            self.book.add_issue(issue, png)
        except OSError as exc:  # the folder or the control room's database refused it
            self.host.error("The issue was not saved", str(exc))
            return
        self.dock.select_issue(issue.id)
        self._draw_marks()
        self.host.dock("Review").show()
        self.host.dock("Review").raise_()
        self.host.statusBar().showMessage(f"Issue added: {issue.title}", 5000)

    def edit_issue(self, issue_id: str) -> QtIssueDialog | None:
        if self.book is None:
            return None
        try:
            issue = self.book.issue(issue_id)
        except KeyError:
            return None
        snap = self.book.snapshot_file(issue.snapshot) if issue.snapshot else None
        where = " · ".join(
            x
            for x in (
                issue.component or "no component",
                format_time(issue.time, self.host.time_zone) if issue.time is not None else "",
                ", ".join(f"{k} = {v:.4g}" for k, v in sorted(issue.values.items())),
            )
            if x
        )
        dialog = QtIssueDialog(issue, self.book.author, where, snap, parent=self.host)
        dialog.issueAccepted.connect(self._store_edit)
        self._show_dialog(dialog)
        return dialog

    def _store_edit(self, issue: Issue) -> None:
        if self.book is None:
            return
        try:
            self.book.replace_issue(issue)
        except OSError as exc:
            self.host.error("The change to the issue was not saved", str(exc))

    def _show_dialog(self, dialog: QtIssueDialog) -> None:
        if self.dialog is not None:
            self.dialog.reject()
        self.dialog = dialog
        dialog.finished.connect(lambda _r: self._dialog_done(dialog))
        dialog.open()  # not exec(): the window keeps drawing, tests drive the dialog

    def _dialog_done(self, dialog: QtIssueDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()

    def delete_issue(self, issue_id: str, confirm: bool = True) -> None:
        """Remove an issue, after asking (``confirm``)."""
        if self.book is None:
            return
        try:
            issue = self.book.issue(issue_id)
        except KeyError:
            return
        if not confirm:
            self.book.remove_issue(issue.id)
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Delete issue",
            f"Delete issue “{issue.title}” and its {len(issue.comments)} comment(s)?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self.host,
        )
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.accepted.connect(lambda: self.delete_issue(issue.id, confirm=False))
        self._show_box(box)

    def _show_box(self, box: QMessageBox) -> None:
        self.message_box = box
        box.setObjectName("review-message")
        box.open()

    # -- BCF -------------------------------------------------------------------------------------
    def export_bcf(self, path: str | Path | None = None) -> Path | None:
        """Write every issue to a BCF 3.0 file (asked for when ``path`` is None)."""
        s, book = self.session, self.book
        if s is None or book is None:
            return None
        if path is None:
            default = str(s.path.parent / f"{project_stem(s.path)}.bcf")
            chosen, _ = QFileDialog.getSaveFileName(self.host, "Export BCF", default, BCF_FILTER)
            if not chosen:
                return None
            path = chosen
        path = Path(path)
        try:
            warnings = write_bcf(path, book.issues, book.folder / SNAPSHOTS)
        except OSError as exc:
            self.host.error("The BCF file could not be written", f"{path}: {exc}")
            return None
        n = len(book.issues)
        text = f"Exported {n} issue{'s' if n != 1 else ''} to {path} (BCF 3.0)"
        self.host.statusBar().showMessage(text, 8000)
        if warnings:
            self._report("BCF export", text, warnings)
        return path

    def import_bcf(self, path: str | Path | None = None) -> tuple[int, int] | None:
        """Add (or update, by GUID) the topics of a BCF file; warnings are shown, nothing of
        the file is dropped. Returns (added, updated)."""
        s, book = self.session, self.book
        if s is None or book is None:
            return None
        if path is None:
            chosen, _ = QFileDialog.getOpenFileName(
                self.host, "Import BCF", str(s.path.parent), BCF_FILTER
            )
            if not chosen:
                return None
            path = chosen
        path = Path(path)
        known = {c.id for c in s.model.components} | set(s.binding.component_nodes)
        try:
            result = read_bcf(path, known)
            for name, data in result.snapshots.items():
                write_snapshot(book.folder, name, data)
            added, replaced = book.merge_issues(result.issues)
        except (BcfError, OSError) as exc:
            self.host.error("The BCF file could not be imported", str(exc))
            return None
        n = len(result.issues)
        text = (
            f"Imported {n} topic{'s' if n != 1 else ''} from {path.name}: "
            f"{added} new, {replaced} updated"
        )
        self.host.statusBar().showMessage(text, 8000)
        if result.warnings:
            self._report("BCF import", text, result.warnings)
        self.host.dock("Review").show()
        self.host.dock("Review").raise_()
        return added, replaced

    def _report(self, title: str, text: str, warnings: list[str]) -> None:
        for w in warnings:
            log.warning("%s: %s", title, w)
        shown = "\n".join(f"• {w}" for w in warnings[:8])
        more = f"\n… and {len(warnings) - 8} more (see Show Details)" if len(warnings) > 8 else ""
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            title,
            f"{text}.\n\n{len(warnings)} warning(s); the issues are kept as they are:\n"
            f"{shown}{more}",
            QMessageBox.StandardButton.Ok,
            self.host,
        )
        box.setDetailedText("\n".join(warnings))
        self._show_box(box)
