"""File > Export review report…: the open twin as an HTML or PDF report, built with progress.

The dialog asks for the file (HTML or PDF by its suffix), the moment and the window (by default
the timeline's current time, and its loop range, else the part of the timeline shown, else the
whole range held), the views (the current camera, and any of the project's saved views), a
title and the author. The work is :class:`twinviewer.report.ReportBuilder`:

- the snapshots are drawn on the GUI thread, one per timer tick, so the window keeps
  repainting and the progress dialog answers: VTK's off-screen rendering from a worker thread
  while the window renders its own view hung in one run of four under Xvfb (two OpenGL
  contexts on one X display from two threads);
- everything else (reading the history, the charts, the HTML, WeasyPrint's PDF) runs on a
  worker thread that reports progress through a queued signal and stops when cancelled.

When it is done the status bar says where the report is; a failure is an error dialog.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer, QTimeZone, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressDialog,
    QPushButton,
    QWidget,
)

from twinviewer.report import ReportBuilder, ReportCancelled, ReportOptions, write_report
from twinviewer.report.build import Written, report_format
from twinviewer.session import TwinSession
from twinviewer.ui.feature import ActionSpec, Feature
from twinviewer.ui.widgets.export_progress import ExportProgress, timeline_window
from twinviewer.ui.widgets.time_edit import time_edit

if TYPE_CHECKING:
    from twinviewer.ui.main_window import QtMainWindow

log = logging.getLogger(__name__)

CURRENT_VIEW = "Current view"
SNAPSHOT_SHARE = 0.4  # of the bar: drawing the views; the rest is gathering and writing


class _Relay(QObject):
    """Carries the worker's news to the GUI thread (queued signals)."""

    progress = Signal(float, str)
    done = Signal(object)  # Written
    failed = Signal(str)
    cancelled = Signal()


class QtReportDialog(QDialog):
    """What to put in the report and where to write it."""

    def __init__(
        self,
        parent: QWidget,
        session: TwinSession,
        at: float,
        window: tuple[float, float],
        default_path: Path,
        author: str,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export review report")
        self.setObjectName("report-dialog")
        zone = session.project.display.timezone
        self.zone = QTimeZone(zone.encode()) if zone else QTimeZone.utc()
        form = QFormLayout(self)
        self.path_edit = QLineEdit(str(default_path))
        self.path_edit.setObjectName("report-path")
        self.path_edit.setMinimumWidth(360)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        form.addRow("File:", row)
        self.format_label = QLabel()
        form.addRow("Format:", self.format_label)
        self.path_edit.textChanged.connect(self._update_format)
        self.at_edit = time_edit(at, self.zone)
        self.from_edit = time_edit(window[0], self.zone)
        self.to_edit = time_edit(window[1], self.zone)
        form.addRow("Moment:", self.at_edit)
        form.addRow("Window from:", self.from_edit)
        form.addRow("Window to:", self.to_edit)
        self.views = QListWidget()
        self.views.setObjectName("report-views")
        for name in [CURRENT_VIEW, *(v.name for v in session.project.views)]:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(
                Qt.CheckState.Checked if name == CURRENT_VIEW else Qt.CheckState.Unchecked
            )
            self.views.addItem(item)
        self.views.setMaximumHeight(120)
        form.addRow("Views:", self.views)
        self.title_edit = QLineEdit(f"Review report: {session.project.name}")
        self.author_edit = QLineEdit(author)
        form.addRow("Title:", self.title_edit)
        form.addRow("Author:", self.author_edit)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        self._update_format()

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export review report", self.path_edit.text(),
            "PDF document (*.pdf);;Web page, one file (*.html)",
        )  # fmt: skip
        if path:
            self.path_edit.setText(path)

    def _update_format(self) -> None:
        try:
            kind = report_format(self.path()).upper()
            text = f"{kind} (from the file name)"
            ok = True
        except ValueError:
            text, ok = "name the file .pdf or .html", False
        self.format_label.setText(text)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)

    def path(self) -> Path:
        return Path(self.path_edit.text().strip()).expanduser()

    def chosen_views(self) -> list[str]:
        items = [self.views.item(i) for i in range(self.views.count())]
        return [it.text() for it in items if it.checkState() == Qt.CheckState.Checked]

    def times(self) -> tuple[float, float, float]:
        """(moment, window start, window end) as epoch seconds."""
        return tuple(  # type: ignore[return-value]
            e.dateTime().toMSecsSinceEpoch() / 1000.0
            for e in (self.at_edit, self.from_edit, self.to_edit)
        )


class ReportFeature(Feature):
    name = "report"

    def __init__(self, host: QtMainWindow) -> None:
        super().__init__(host)
        self.dialog: QtReportDialog | None = None
        self._progress: ExportProgress | None = None
        self.written: Written | None = None  # the last report written
        self._relay = _Relay()
        self._relay.progress.connect(self._on_progress)
        self._relay.done.connect(self._on_done)
        self._relay.failed.connect(self._on_failed)
        self._relay.cancelled.connect(self._on_cancelled)
        self._builder: ReportBuilder | None = None
        self._path: Path | None = None
        self._next = 0
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self._began = 0.0

    def actions(self) -> list[ActionSpec]:
        return [
            ActionSpec(
                "report.export", "Export review &report…", self.open_dialog, "File", "export",
                "Ctrl+Shift+R",
                "The twin at the current time and over the timeline's window as an HTML or PDF "
                "report: views, states, charts, alarms, fidelity, data quality, issues",
            )
        ]  # fmt: skip

    @property
    def building(self) -> bool:
        return self._builder is not None

    @property
    def progress(self) -> QProgressDialog | None:
        """The progress dialog while a report is built."""
        return None if self._progress is None else self._progress.dialog

    # -- the dialog ------------------------------------------------------------------------------
    def defaults(self) -> tuple[float, tuple[float, float]]:
        """The moment and window the dialog starts with: the current time; the loop range,
        else the part of the timeline shown, else the range held."""
        return self.workbench.timeline.current, timeline_window(self.host, 3600.0)

    def open_dialog(self) -> QtReportDialog | None:
        """Show the dialog (not blocking); Export starts the report."""
        s = self.session
        if s is None or self.building:
            return None
        from twinviewer.core.project import project_stem
        from twinviewer.session.review_book import default_author

        at, window = self.defaults()
        stamp = time.strftime("%Y%m%d-%H%M", time.localtime(at))
        default = s.path.parent / f"{project_stem(s.path)}-report-{stamp}.pdf"
        dialog = QtReportDialog(self.host, s, at, window, default, default_author())
        dialog.accepted.connect(lambda: self._accepted(dialog))
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.open()
        self.dialog = dialog
        return dialog

    def _accepted(self, dialog: QtReportDialog) -> None:
        at, start, end = dialog.times()
        views: list[tuple[str, Any]] = []
        for name in dialog.chosen_views():
            if name == CURRENT_VIEW:
                views.append((name, self.host.view.scene.camera()))
            else:
                views.append((name, name))
        options = ReportOptions(
            at=at,
            start=start,
            end=end,
            views=views,
            title=dialog.title_edit.text().strip() or None,
            author=dialog.author_edit.text().strip() or None,
        )
        self.export(dialog.path(), options)

    # -- building --------------------------------------------------------------------------------
    def window_options(self) -> ReportOptions:
        """What the window shows now: its moment, window, camera, colouring and selection."""
        s = self.session
        at, (start, end) = self.defaults()
        sensors: list[str] = []
        if s is not None:
            for c in self.workbench.selection:
                sensors += [s.sensors[k].id for k in s.binding.sensors_of(c)]
        return ReportOptions(
            at=at, start=start, end=end, views=[(CURRENT_VIEW, self.host.view.scene.camera())],
            sensors=list(dict.fromkeys(sensors)),
        )  # fmt: skip

    def export(self, path: str | Path, options: ReportOptions | None = None) -> bool:
        """Start building the report into ``path``; False (and an error dialog) when it cannot
        start. The window's colour mode, selection and sources' rejections are added."""
        s = self.session
        if s is None or self.building:
            return False
        path = Path(path)
        base = self.window_options()
        options = options or base
        if not options.sensors:
            options.sensors = base.sensors
        options.quantity = options.quantity or self.workbench.active_quantity
        options.overlay_origin = getattr(self.host, "session_start", None)
        if s.sources:
            options.rejected = {src.id: dict(src.status.rejected) for src in s.sources}
        try:
            report_format(path)
            self._builder = ReportBuilder(s, options)
        except ValueError as exc:
            self.host.error("The report cannot be built", str(exc))
            return False
        self._path = path
        self._next = 0
        self._cancel = threading.Event()
        self._began = time.perf_counter()
        self._progress = ExportProgress(
            self.host, "report.export", "Review report", "Building the review report…"
        )
        assert self._progress.dialog is not None
        self._progress.dialog.canceled.connect(self._cancel.set)
        QTimer.singleShot(0, self._snapshot_step)
        return True

    def _snapshot_step(self) -> None:
        """One view per tick on the GUI thread, then the rest on a worker."""
        b = self._builder
        if b is None:
            return
        if self._cancel.is_set() or (self._progress is not None and self._progress.cancelled):
            self._on_cancelled()
            return
        n = len(b.views)
        if self._next < n:
            label = b.views[self._next][0]
            self._on_progress(SNAPSHOT_SHARE * self._next / n, f"Drawing the view {label}")
            try:
                b.snapshot(self._next)
            except Exception as exc:  # a view that cannot be drawn ends the report, not the app
                log.exception("report: view %s", label)
                self._on_failed(f"The view {label!r} could not be drawn: {exc}")
                return
            self._next += 1
            QTimer.singleShot(0, self._snapshot_step)
            return
        self._thread = threading.Thread(target=self._work, args=(b,), name="report", daemon=True)
        self._thread.start()

    def _work(self, b: ReportBuilder) -> None:
        relay, path, cancel = self._relay, self._path, self._cancel
        assert path is not None

        def progress(f: float, text: str) -> None:
            relay.progress.emit(SNAPSHOT_SHARE + (0.9 - SNAPSHOT_SHARE) * f, text)

        try:
            content = b.gather(progress, cancel.is_set)
            relay.progress.emit(0.9, f"Writing {path.name}")
            written = write_report(content, path)
        except ReportCancelled:
            relay.cancelled.emit()
        except Exception as exc:  # shown to the user, never a traceback on the console only
            log.exception("report: %s", path)
            relay.failed.emit(f"{type(exc).__name__}: {exc}" if not str(exc) else str(exc))
        else:
            relay.done.emit(written)

    def _on_progress(self, fraction: float, text: str) -> None:
        if self._progress is not None:
            if self._progress.cancelled:  # cancel() called rather than the button clicked
                self._cancel.set()
            self._progress.show(fraction, text)

    def _finish(self) -> None:
        self._builder = None
        self._thread = None
        if self._progress is not None:
            self._progress.close()
            self._progress = None

    def _on_done(self, written: Written) -> None:
        self._finish()
        self.written = written
        pages = f", {written.pages} pages" if written.pages else ""
        took = time.perf_counter() - self._began
        self.host.statusBar().showMessage(
            f"Review report written to {written.path}{pages} ({took:.1f} s)", 15000
        )

    def _on_failed(self, message: str) -> None:
        self._finish()
        self.host.error("The review report could not be written", message)

    def _on_cancelled(self) -> None:
        self._finish()
        self.host.statusBar().showMessage("Review report cancelled", 5000)

    def closed(self) -> None:
        """The twin closes: stop a report being built (its session is going)."""
        self._cancel.set()
        if self._thread is not None:
            self._thread.join(timeout=30.0)
        if self.building:
            self._finish()

    def shutdown(self) -> None:
        self.closed()
