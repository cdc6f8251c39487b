"""File > Export video…: a tour, or a replay of the history, as an MP4 or WebM file.

The dialog asks what (one of the project's tours, or the history from a time to a time at a
speed, the camera on a saved view or following a tour), the size, the frame rate and the file
(its suffix picks H.264 MP4 or VP9 WebM). The export is a
:class:`~twinviewer.video.VideoExport`: its frames are drawn off-screen on the GUI thread a
frame per timer tick (an off-screen VTK window on a worker thread once hung under Xvfb, see
:mod:`twinviewer.ui.report`), so the window stays responsive; the encoder runs on a thread of
its own. A progress dialog shows the frame and cancels; a cancelled export writes no file.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, QTimeZone
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressDialog,
    QPushButton,
    QWidget,
)

from twinviewer.session import TwinSession
from twinviewer.ui.feature import ActionSpec, Feature
from twinviewer.ui.widgets.export_progress import ExportProgress, timeline_window
from twinviewer.ui.widgets.time_edit import time_edit
from twinviewer.video import (
    Exported,
    VideoError,
    VideoExport,
    VideoRequest,
    choose_encoding,
)

if TYPE_CHECKING:
    from twinviewer.ui.main_window import QtMainWindow

log = logging.getLogger(__name__)

SIZES = ((1920, 1080), (1280, 720), (960, 540), (640, 360))
REPLAY = "History replay"
TOUR_CAMERA = "Tour: "


class QtVideoDialog(QDialog):
    """What to put in the video and where to write it."""

    def __init__(
        self,
        parent: QWidget,
        session: TwinSession,
        window: tuple[float, float],
        default_path: Path,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export video")
        self.setObjectName("video-dialog")
        project = session.project
        zone = project.display.timezone
        self.zone = QTimeZone(zone.encode()) if zone else QTimeZone.utc()
        form = QFormLayout(self)
        self.what = QComboBox()
        self.what.setObjectName("video-what")
        for tour in project.tours:
            self.what.addItem(f"Tour: {tour.name}", tour.name)
        self.what.addItem(REPLAY, None)
        form.addRow("Video of:", self.what)
        self.from_edit = time_edit(window[0], self.zone)
        self.to_edit = time_edit(window[1], self.zone)
        self.speed = QDoubleSpinBox()
        self.speed.setRange(0.1, 100000.0)
        self.speed.setDecimals(1)
        self.speed.setValue(60.0)
        self.speed.setSuffix(" x")
        self.camera = QComboBox()
        for name in [v.name for v in project.views] + ["iso", "top", "front"]:
            self.camera.addItem(name, (name, None))
        for tour in project.tours:
            self.camera.addItem(TOUR_CAMERA + tour.name, (None, tour.name))
        self.replay_rows = [
            ("Replay from:", self.from_edit),
            ("Replay to:", self.to_edit),
            ("Speed:", self.speed),
            ("Camera:", self.camera),
        ]
        for label, widget in self.replay_rows:
            form.addRow(label, widget)
        self.size_box = QComboBox()
        for w, h in SIZES:
            self.size_box.addItem(f"{w} x {h}", (w, h))
        form.addRow("Size:", self.size_box)
        self.fps = QDoubleSpinBox()
        self.fps.setRange(1.0, 60.0)
        self.fps.setDecimals(0)
        self.fps.setValue(30.0)
        form.addRow("Frames per second:", self.fps)
        self.path_edit = QLineEdit(str(default_path))
        self.path_edit.setObjectName("video-path")
        self.path_edit.setMinimumWidth(360)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        form.addRow("File:", row)
        self.format_label = QLabel()
        form.addRow("Format:", self.format_label)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        self._form = form
        self.path_edit.textChanged.connect(self._update)
        self.what.currentIndexChanged.connect(self._update)
        self._update()

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export video", self.path_edit.text(),
            "MP4 video, H.264 (*.mp4);;WebM video, VP9 (*.webm)",
        )  # fmt: skip
        if path:
            self.path_edit.setText(path)

    def _update(self) -> None:
        replay = self.what.currentData() is None
        for _, widget in self.replay_rows:
            self._form.setRowVisible(widget, replay)
        try:
            text, ok = choose_encoding(self.path()).label, True
        except VideoError:
            text, ok = "name the file .mp4 (H.264) or .webm (VP9)", False
        self.format_label.setText(text)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)

    def path(self) -> Path:
        return Path(self.path_edit.text().strip()).expanduser()

    def request(self) -> VideoRequest:
        size = self.size_box.currentData()
        fps = float(self.fps.value())
        tour = self.what.currentData()
        if tour is not None:
            return VideoRequest(self.path(), size, fps, tour=tour)
        view, follow = self.camera.currentData()
        start, end = (
            e.dateTime().toMSecsSinceEpoch() / 1000.0 for e in (self.from_edit, self.to_edit)
        )
        return VideoRequest(
            self.path(), size, fps, start=start, end=end, speed=float(self.speed.value()),
            view=view, follow=follow,
        )  # fmt: skip


class VideoExportFeature(Feature):
    name = "video"

    def __init__(self, host: QtMainWindow) -> None:
        super().__init__(host)
        self.dialog: QtVideoDialog | None = None
        self._progress: ExportProgress | None = None
        self.job: VideoExport | None = None
        self.exported: Exported | None = None  # the last video written

    def actions(self) -> list[ActionSpec]:
        return [
            ActionSpec(
                "video.export", "Export &video…", self.open_dialog, "File", "export", None,
                "A tour, or a replay of the history at a speed, as an MP4 or WebM video: "
                "rendered at the size asked for, captions and the twin's time burned in",
            )
        ]  # fmt: skip

    @property
    def exporting(self) -> bool:
        return self.job is not None

    @property
    def progress(self) -> QProgressDialog | None:
        """The progress dialog while a video is exported."""
        return None if self._progress is None else self._progress.dialog

    def open_dialog(self) -> QtVideoDialog | None:
        """Show the dialog (not blocking); Export starts the video."""
        s = self.session
        if s is None or self.exporting:
            return None
        from twinviewer.core.project import project_stem

        stamp = time.strftime("%Y%m%d-%H%M")
        default = s.path.parent / f"{project_stem(s.path)}-video-{stamp}.mp4"
        dialog = QtVideoDialog(self.host, s, timeline_window(self.host, 600.0), default)
        dialog.accepted.connect(lambda: self.export(dialog.request()))
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.open()
        self.dialog = dialog
        return dialog

    def export(self, request: VideoRequest) -> bool:
        """Start the export; False (and an error dialog) when it cannot start."""
        s = self.session
        if s is None or self.exporting:
            return False
        try:
            self.job = VideoExport(s, request, s.history)
        except (ValueError, VideoError, OSError) as exc:
            self.host.error("The video cannot be exported", str(exc))
            return False
        self._progress = ExportProgress(
            self.host, "video.export", "Export video", "Rendering the video…"
        )
        QTimer.singleShot(0, self._step)
        return True

    def _step(self) -> None:
        """One frame per tick on the GUI thread; the encoder works on its own thread."""
        job = self.job
        if job is None:
            return
        if self._progress is not None and self._progress.cancelled:
            self._cancel()
            return
        try:
            if not job.step(1):
                if self._progress is not None:
                    self._progress.show(job.fraction(), job.progress_text())
                QTimer.singleShot(0, self._step)
                return
            exported = job.finish()
        except Exception as exc:  # an export that fails ends with a dialog, not a traceback
            log.exception("video: %s", job.request.out)
            job.abort()
            self._finish()
            self.host.error("The video could not be written", str(exc) or type(exc).__name__)
            return
        self._finish()
        self.exported = exported
        self.host.statusBar().showMessage(
            f"Video written to {exported.path}: {exported.duration:.1f} s, "
            f"{exported.frames} frames ({exported.seconds:.1f} s to make)",
            15000,
        )

    def _cancel(self) -> None:
        if self.job is not None:
            self.job.abort()
        self._finish()
        self.host.statusBar().showMessage("Video export cancelled", 5000)

    def _finish(self) -> None:
        self.job = None
        if self._progress is not None:
            self._progress.close()
            self._progress = None

    def closed(self) -> None:
        """The twin closes: stop an export (its session is going)."""
        if self.exporting:
            self._cancel()

    def shutdown(self) -> None:
        self.closed()
