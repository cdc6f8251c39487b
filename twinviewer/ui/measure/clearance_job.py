"""A clearance computed on a worker thread: two concentric surfaces can take up to a minute,
and the window must stay usable meanwhile.

The computation itself cannot be interrupted (it is numpy from end to end), so *cancelling*
forgets the job: its result is dropped when it arrives, and the thread ends on its own.
"""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import QObject, QThread, Signal

from twinviewer.core.measure import Clearance, clearance
from twinviewer.core.model import ModelData
from twinviewer.ui.measure.tool import ClearanceRequest

log = logging.getLogger(__name__)


class QtClearanceJob(QThread):
    """Signals: ``done(object, object)`` the request and its :class:`Clearance`;
    ``failed(str)`` why it could not be computed."""

    done = Signal(object, object)
    failed = Signal(str)

    def __init__(self, model: ModelData, request: ClearanceRequest, parent: QObject) -> None:
        super().__init__(parent)
        self.model = model
        self.request = request
        self.cancelled = False
        self.seconds = 0.0

    def run(self) -> None:
        start = time.perf_counter()
        try:
            result: Clearance = clearance(
                self.model, self.request.component_a, self.request.component_b
            )
        except (ValueError, MemoryError) as exc:
            log.warning("clearance %s: %s", self.request, exc)
            if not self.cancelled:
                self.failed.emit(str(exc))
            return
        self.seconds = time.perf_counter() - start
        log.info("clearance %s: %.3g in %.2f s", self.request, result.distance, self.seconds)
        if not self.cancelled:
            self.done.emit(self.request, result)
