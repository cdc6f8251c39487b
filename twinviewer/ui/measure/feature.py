"""Measurement tools in the 3D view: distance (with X/Y/Z), angle, polygon and face area,
point location and the clearance between two components.

*View > Measure* and the toolbar's Measure button start a tool; the status bar says what to
click next; hovering shows where a click would snap (a vertex, an edge midpoint, an edge, the
surface). Measurements are kept in the project's review (``<project>.review/review.json``,
saved on every change), drawn as labelled annotations over the live colours that the section
plane never cuts, and listed in the Measurements dock (rename, delete, another unit). Adding,
deleting and renaming are undone with Ctrl+Z and redone with Ctrl+Shift+Z.

While a tool is on, a click measures and does not change the selection: the view's
``componentPicked`` is held back, so neither the component tree nor the review takes the click.
The picking logic is :mod:`twinviewer.ui.measure.tool` (no Qt); how values and units are stored
is described there.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QActionGroup, QUndoStack
from PySide6.QtWidgets import QMenu, QProgressBar, QToolButton, QWidget

from twinviewer.render.annotations import MeasurementLayer, value_text, world_per_pixel
from twinviewer.review import Measurement
from twinviewer.ui.feature import ActionSpec, DockSpec, Feature
from twinviewer.ui.measure.clearance_job import QtClearanceJob
from twinviewer.ui.measure.dock import QtMeasureDock
from twinviewer.ui.measure.picking import QtViewPicker
from twinviewer.ui.measure.tool import (
    TOOLS,
    ClearanceRequest,
    MeasureTool,
    Outcome,
    Pick,
    ToolName,
)
from twinviewer.ui.measure.undo import AddMeasurement, DeleteMeasurement, RenameMeasurement
from twinviewer.ui.undo import UndoFeature

if TYPE_CHECKING:
    from twinviewer.core.measure import Clearance
    from twinviewer.session import TwinSession
    from twinviewer.session.review_book import ReviewBook
    from twinviewer.ui.main_window import QtMainWindow

log = logging.getLogger(__name__)

SNAP_PX = 10  # how near (pixels) a click must be to a vertex or an edge midpoint to snap
MENU = "View/Measure"
MENU_TITLES: dict[str, str] = {
    "distance": "&Distance",
    "angle": "&Angle",
    "area": "A&rea of a polygon",
    "face": "Area of a &face",
    "point": "&Point location",
    "clearance": "&Clearance between components",
}
TIPS: dict[str, str] = {
    "distance": "Measure the distance between two points, with its X, Y and Z components",
    "angle": "Measure the angle at a vertex between two points",
    "area": "Measure the area of a polygon clicked corner by corner",
    "face": "Measure the area of a flat face: click it",
    "point": "Show the coordinates of a point",
    "clearance": "Measure the smallest distance between the surfaces of two components",
}


class MeasureFeature(Feature):
    name = "measure"

    def __init__(self, host: QtMainWindow) -> None:
        super().__init__(host)
        self.dock = QtMeasureDock()
        self.dock.chosen.connect(self._on_chosen)
        self.dock.renamed.connect(self.rename)
        self.dock.deleteRequested.connect(self.delete)
        self.dock.unitChosen.connect(lambda unit: self.set_unit(unit or None))
        self.stack = QUndoStack(host)
        self.layer = MeasurementLayer(host.view.interactor)
        self.picker = QtViewPicker(host.view)
        self.picker.clicked.connect(self._on_click)
        self.picker.doubleClicked.connect(lambda *_: self.finish())
        self.picker.hovered.connect(self._on_hover)
        self.picker.dragStarted.connect(self._hide_snap)
        self.book: ReviewBook | None = None
        self.tool: MeasureTool | None = None
        self.unit: str | None = None  # shown unit; None: the model's own
        self.job: QtClearanceJob | None = None
        self._jobs: list[QtClearanceJob] = []  # cancelled ones still running
        self._hover: Pick | None = None
        self.button = QToolButton()
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(120)
        self.busy_cancel = QToolButton()
        self.busy_cancel.setText("Cancel")
        self.busy_cancel.clicked.connect(self.cancel_clearance)
        for w in (self.busy, self.busy_cancel):
            w.hide()
            host.statusBar().addPermanentWidget(w)

    # -- declarations ----------------------------------------------------------------------------
    def docks(self) -> list[DockSpec]:
        return [
            DockSpec(
                "Measurements",
                self.dock,
                Qt.DockWidgetArea.RightDockWidgetArea,
                tab_with="Charts",
                size=(470, 300),
                minimum=(220, 120),
            )
        ]

    def actions(self) -> list[ActionSpec]:
        specs = [
            ActionSpec(
                f"measure.{tool}",
                MENU_TITLES[tool],
                lambda on=True, t=tool: self.start(t) if on else self.cancel(),
                MENU,
                "tools",
                tip=TIPS[tool],
                checkable=True,
            )
            for tool in TOOLS
        ]
        specs += [
            ActionSpec("measure.finish", "Close the &polygon", lambda _=False: self.finish(),
                       MENU, "picking", "Return", "Close the polygon being measured",
                       needs_twin=False),
            ActionSpec("measure.back", "Take &back the last point", lambda _=False: self.back(),
                       MENU, "picking", "Backspace", needs_twin=False),
            ActionSpec("measure.cancel", "&Stop measuring", lambda _=False: self.cancel(),
                       MENU, "picking", "Escape", needs_twin=False),
        ]  # fmt: skip
        return specs

    def toolbar_widgets(self) -> list[QWidget]:
        """One Measure button (the last tool; its arrow lists all) keeps the toolbar short."""
        menu = QMenu(self.button)
        for tool in TOOLS:
            menu.addAction(self.host.action(f"measure.{tool}"))
        self.button.setObjectName("measure-button")
        self.button.setMenu(menu)
        self.button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.button.setDefaultAction(self.host.action("measure.distance"))
        self.button.setText("Measure")
        self.button.setToolTip("Measure (the arrow: distance, angle, area, point, clearance)")
        return [self.button]

    def hosted(self) -> None:
        group = QActionGroup(self.host)
        group.setExclusionPolicy(QActionGroup.ExclusionPolicy.ExclusiveOptional)
        for tool in TOOLS:
            group.addAction(self.host.action(f"measure.{tool}"))
        self._group = group
        undo = self.host.features.get(UndoFeature.name)
        if isinstance(undo, UndoFeature):  # the window-wide Edit > Undo (Ctrl+Z) on this stack
            undo.register(self.stack, self.dock)
        self._tool_state()

    # -- the twin --------------------------------------------------------------------------------
    def opened(self, session: TwinSession) -> None:
        self.book = session.open_review()
        if self.book.error is not None:  # the Review feature tells the user why
            self.host.statusBar().showMessage(
                "Measurements are not saved: the review file cannot be read", 10000
            )
        self.book.changed.connect(self._on_book_changed)
        self.tool = MeasureTool(session.model, namer=self.book.unique_name)
        self.unit = None
        self.dock.set_units(session.model.units)
        self._on_book_changed()

    def closed(self) -> None:
        self.cancel()
        self.cancel_clearance()
        if self.book is not None:
            self.book.changed.disconnect(self._on_book_changed)
        self.book = None
        self.tool = None
        self.stack.clear()
        self.layer.clear()
        self.dock.set_measurements([], None)

    def shutdown(self) -> None:
        self.picker.close()
        for job in [*self._jobs, *([self.job] if self.job else [])]:
            job.cancelled = True
            job.wait(2000)

    # -- tools -----------------------------------------------------------------------------------
    def start(self, tool: ToolName) -> None:
        """Turn a tool on (another one goes off)."""
        if self.tool is None:
            return
        self.tool.start(tool)
        self.button.setDefaultAction(self.host.action(f"measure.{tool}"))
        self.button.setText("Measure")
        self.host.action(f"measure.{tool}").setChecked(True)
        self.host.view.blockSignals(True)  # a click measures; it does not select
        self.picker.set_enabled(True)
        self.host.view.interactor.setCursor(Qt.CursorShape.CrossCursor)
        dock = self.host.dock("Measurements")
        dock.show()
        dock.raise_()
        self._tool_state()
        self._show_pending()

    def cancel(self) -> None:
        """Leave the current tool (Escape); measurements made stay."""
        if self.tool is not None:
            self.tool.cancel()
        for tool in TOOLS:
            self.host.action(f"measure.{tool}").setChecked(False)
        self.host.view.blockSignals(False)
        self.picker.set_enabled(False)
        self.host.view.interactor.unsetCursor()
        self._hover = None
        self.layer.hide_snap()
        self.layer.set_pending([])
        self._tool_state()
        self.host.view.request_render()

    def finish(self) -> None:
        """Close the polygon being measured (Enter or a double click)."""
        if self.tool is not None and self.tool.tool == "area":
            self._apply(self.tool.finish())

    def back(self) -> None:
        if self.tool is not None and self.tool.back():
            self._show_pending()

    def _tool_state(self) -> None:
        on = self.tool is not None and self.tool.active
        self.host.action("measure.cancel").setEnabled(on)
        self.host.action("measure.back").setEnabled(on)
        self.host.action("measure.finish").setEnabled(
            on and self.tool is not None and self.tool.tool == "area"
        )
        if on and self.tool is not None:
            self.host.statusBar().showMessage(self.tool.hint())
        else:
            self.host.statusBar().clearMessage()

    # -- picking ---------------------------------------------------------------------------------
    def _pick(self, x: int, y: int) -> tuple[Pick, float] | None:
        """The snapped pick under display pixel (x, y) and the snap tolerance there."""
        if self.tool is None:
            return None
        hit = self.host.view.scene.pick_point(x, y)
        if hit is None:
            return None
        triangle, point = hit
        if self.host.session is not None:  # snap to parts where they are shown (motion)
            self.tool.model = self.host.session.pose.shown_model()
        tolerance = SNAP_PX * world_per_pixel(self.host.view.interactor.renderer, point)
        return self.tool.snap(triangle, point, tolerance), tolerance

    def _on_click(self, x: int, y: int) -> None:
        found = self._pick(x, y)
        if found is None or self.tool is None:
            if self.tool is not None and self.tool.active:
                self.host.statusBar().showMessage(f"Nothing there. {self.tool.hint()}")
            return
        pick, tolerance = found
        self._apply(self.tool.click(pick, tolerance))

    def _on_hover(self, x: int, y: int) -> None:
        found = self._pick(x, y)
        pick = None if found is None else found[0]
        if pick == self._hover:
            return
        self._hover = pick
        if pick is None:
            self.layer.hide_snap()
        else:
            self.layer.show_snap(pick.point, pick.kind)
        self._show_pending()

    def _hide_snap(self) -> None:
        self._hover = None
        if self.layer.snap_shown:
            self.layer.hide_snap()
            self.host.view.request_render()

    def _show_pending(self) -> None:
        if self.tool is None:
            return
        points, closed, text = self.tool.preview(self._hover)
        self.layer.set_pending(points, closed, text)
        self.host.view.request_render()

    def _apply(self, outcome: Outcome) -> None:
        """Show what a click made: a new measurement, a clearance to compute, or why not."""
        assert self.tool is not None
        if outcome.measurement is not None:
            self.add(outcome.measurement)
        elif outcome.clearance is not None:
            self._start_clearance(outcome.clearance)
        self._tool_state()
        if outcome.message:
            self.host.statusBar().showMessage(f"{outcome.message}. {self.tool.hint()}")
        elif outcome.measurement is not None:
            m = outcome.measurement
            self.host.statusBar().showMessage(
                f"{m.name}: {value_text(m, self.unit)}. {self.tool.hint()}"
            )
        self._show_pending()

    # -- clearance on a worker thread ------------------------------------------------------------
    def _start_clearance(self, request: ClearanceRequest) -> None:
        if self.tool is None:
            return
        self.cancel_clearance()
        job = QtClearanceJob(self.tool.model, request, self.host)
        # lambdas without a receiver run on the GUI thread (queued), not on the worker
        job.done.connect(lambda req, res, j=job: self._clearance_done(j, req, res))
        job.failed.connect(lambda message, j=job: self._clearance_failed(j, message))
        job.finished.connect(lambda j=job: self._job_ended(j))
        self.job = job
        self.busy.show()
        self.busy_cancel.show()
        job.start()

    def _clearance_done(
        self, job: QtClearanceJob, request: ClearanceRequest, result: Clearance
    ) -> None:
        if job is not self.job or job.cancelled or self.tool is None:
            return
        self._end_busy()
        m = self.tool.clearance_measurement(request, result)
        self.add(m)
        hint = self.tool.hint()
        self.host.statusBar().showMessage(f"{m.name}: {value_text(m, self.unit)}. {hint}")

    def _clearance_failed(self, job: QtClearanceJob, message: str) -> None:
        if job is not self.job or job.cancelled:
            return
        self._end_busy()
        self.host.error("The clearance could not be measured", message)

    def cancel_clearance(self) -> None:
        """Forget a clearance being computed (it cannot be interrupted; its result is dropped)."""
        if self.job is not None:
            self.job.cancelled = True
            if self.job.isRunning():
                self._jobs.append(self.job)
            self.job = None
        self._end_busy()

    def _end_busy(self) -> None:
        self.busy.hide()
        self.busy_cancel.hide()

    def _job_ended(self, job: QtClearanceJob) -> None:
        if job in self._jobs:
            self._jobs.remove(job)
        if job is self.job:
            self.job = None
            self._end_busy()
        job.deleteLater()

    @property
    def computing(self) -> bool:
        """A clearance is being computed."""
        return self.job is not None

    # -- the measurements (undoable) -------------------------------------------------------------
    def add(self, measurement: Measurement) -> None:
        if self.book is None:
            return
        self.stack.push(AddMeasurement(self.book, measurement))
        self.dock.select(measurement.id)
        self.layer.select(measurement.id)
        self.host.view.request_render()

    def delete(self, measurement_id: str) -> None:
        if self.book is None:
            return
        found = [m for m in self.book.measurements if m.id == measurement_id]
        if found:
            self.stack.push(DeleteMeasurement(self.book, found[0]))

    def rename(self, measurement_id: str, name: str) -> None:
        if self.book is None:
            return
        found = [m for m in self.book.measurements if m.id == measurement_id]
        if found and found[0].name != name:
            self.stack.push(RenameMeasurement(self.book, found[0], name))

    def set_unit(self, unit: str | None) -> None:
        """Show every measurement in ``unit`` (None: the model's own)."""
        self.unit = unit
        self.layer.set_unit(unit)
        self._on_book_changed()

    @property
    def measurements(self) -> list[Measurement]:
        return list(self.book.measurements) if self.book is not None else []

    def _on_book_changed(self) -> None:
        items = self.measurements
        self.layer.set_measurements(items, self.unit)
        self.dock.set_measurements(items, self.unit)
        self.layer.select(self.dock.current_id())
        self.host.view.request_render()

    def _on_chosen(self, measurement_id: str) -> None:
        self.layer.select(measurement_id or None)
        self.host.view.request_render()
