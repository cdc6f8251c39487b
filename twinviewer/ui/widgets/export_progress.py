"""What every export from the window shares: the window of time it starts with, and its
progress dialog (modal to the window, Cancel, the export's action disabled until it ends).

Used by *Export review report…* (:mod:`twinviewer.ui.report`) and *Export video…*
(:mod:`twinviewer.ui.video_export`); each keeps its own way of doing the work.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QProgressDialog

if TYPE_CHECKING:
    from twinviewer.ui.main_window import QtMainWindow

STEPS = 1000  # the progress bar's resolution


def timeline_window(host: QtMainWindow, fallback: float) -> tuple[float, float]:
    """The window of time an export starts with: the timeline's loop range, else the part of
    the timeline shown, else the range held; ``fallback`` seconds up to now when that is
    empty."""
    tl = host.workbench.timeline
    window = tl.loop
    if window is None:
        bar = getattr(host.features.get("timeline"), "bar", None)
        window = bar.view_range() if bar is not None else (tl.start, tl.end)
    if window[1] <= window[0]:
        window = (tl.current - fallback, tl.current)
    return window


class ExportProgress:
    """The progress of one export: a dialog shown at once, and the action that started the
    export disabled until :meth:`close`."""

    def __init__(self, host: QtMainWindow, action: str, title: str, label: str) -> None:
        self.host = host
        self.action = action
        host.action(action).setEnabled(False)
        dlg = QProgressDialog(label, "Cancel", 0, STEPS, host)
        dlg.setObjectName(f"{action.split('.')[0]}-progress")
        dlg.setWindowTitle(title)
        dlg.setWindowModality(Qt.WindowModality.WindowModal)
        dlg.setMinimumDuration(0)
        dlg.setAutoClose(False)
        dlg.setAutoReset(False)
        dlg.setValue(0)
        dlg.show()
        self.dialog: QProgressDialog | None = dlg

    @property
    def cancelled(self) -> bool:
        """The user pressed Cancel (or the dialog was cancelled another way)."""
        return self.dialog is not None and self.dialog.wasCanceled()

    def show(self, fraction: float, text: str | None = None) -> None:
        """Move the bar to ``fraction`` (0..1), with ``text`` as its label when given."""
        if self.dialog is None:
            return
        if text is not None:
            self.dialog.setLabelText(text)
        self.dialog.setValue(int(max(0.0, min(1.0, fraction)) * STEPS))

    def close(self) -> None:
        """The export ended (done, failed or cancelled): the dialog goes, the action is
        enabled again while a twin is open."""
        if self.dialog is not None:
            self.dialog.close()
            self.dialog.deleteLater()
            self.dialog = None
        self.host.action(self.action).setEnabled(self.host.session is not None)
