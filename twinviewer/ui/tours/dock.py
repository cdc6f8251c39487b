"""The Tours dock: the tour editor and the player's controls.

A passive view: the feature fills it (:meth:`QtToursDock.show_book`, :meth:`show_step`,
:meth:`show_player`) and connects to its buttons and signals. From the top: the tour (chooser,
name, *New*, *Delete*), its steps (drag a step to reorder), *Add view* (the window now as a
new step), *Update* (the chosen step becomes the window now), *Delete*; the chosen step's title,
caption, camera move, stay and moment; *Preview*; the player (restart, previous, play/pause,
next, stop, presenter, look around / return to step); the step's question; *Save*.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from twinviewer.core.project_tours import Replay, TourStep
from twinviewer.ui.tours.book import Draft
from twinviewer.ui.tours.quiz import QtQuizPanel

EASINGS = ("in_out", "linear", "in", "out")
CAPTION_COMMIT_MS = 600  # a caption is committed this long after the last key


def _button(text: str, tip: str, name: str) -> QPushButton:
    b = QPushButton(text)
    b.setToolTip(tip)
    b.setObjectName(name)
    return b


def _small(text: str, tip: str, name: str) -> QToolButton:
    """A button as wide as its text (a push button is at least 80 px in most styles)."""
    b = QToolButton()
    b.setText(text)
    b.setToolTip(tip)
    b.setObjectName(name)
    b.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
    return b


class QtToursDock(QWidget):
    """The tours of the project, the chosen one's steps, the chosen step, the player."""

    tourChosen = Signal(int)
    stepChosen = Signal(int)
    stepMoved = Signal(int, int)  # from, to
    stepEdited = Signal(dict)  # the changed fields of the chosen step
    tourRenamed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tours-dock")
        self._updating = False
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)

        row = QHBoxLayout()
        self.tours = QComboBox()
        self.tours.setToolTip("The project's tours")
        self.tours.activated.connect(self.tourChosen)
        row.addWidget(self.tours, 1)
        self.new_tour = _small(
            "New", "A new tour (add the current view as its first step)", "tour-new"
        )
        self.delete_tour = _small("Delete", "Delete this tour", "tour-delete")
        row.addWidget(self.new_tour)
        row.addWidget(self.delete_tour)
        lay.addLayout(row)
        name_row = QHBoxLayout()
        name_row.addWidget(QLabel("Name"))
        self.name = QLineEdit()
        self.name.editingFinished.connect(self._on_name)
        name_row.addWidget(self.name, 1)
        lay.addLayout(name_row)

        self.steps = QListWidget()
        self.steps.setObjectName("tour-steps")
        self.steps.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.steps.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.steps.setMinimumHeight(90)
        self.steps.setMaximumHeight(130)  # the step's editor below matters more
        self.steps.setToolTip("The tour's steps; drag one to change the order")
        self.steps.currentRowChanged.connect(self._on_row)
        self.steps.model().rowsMoved.connect(self._on_moved)
        lay.addWidget(self.steps)
        row = QHBoxLayout()
        self.add_step = _button(
            "Add view",
            "Add the current view as a step: camera, "
            "highlight, hidden and see-through parts, section, colouring, "
            "overlay and the timeline's moment",
            "step-add",
        )
        self.update_step = _button("Update", "Make the chosen step the current view", "step-update")
        self.delete_step = _button("Delete", "Delete the chosen step", "step-delete")
        for b in (self.add_step, self.update_step, self.delete_step):
            row.addWidget(b)
        lay.addLayout(row)

        box = QGroupBox("Step")
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.title = QLineEdit()
        self.title.editingFinished.connect(lambda: self._edited("title"))
        form.addRow("Title", self.title)
        self.caption = QPlainTextEdit()
        self.caption.setPlaceholderText("What to say; **bold** and *italic* are kept")
        self.caption.setFixedHeight(64)
        self._caption_timer = QTimer(self)
        self._caption_timer.setSingleShot(True)
        self._caption_timer.setInterval(CAPTION_COMMIT_MS)
        self._caption_timer.timeout.connect(lambda: self._edited("caption"))
        self.caption.textChanged.connect(self._on_caption)
        form.addRow("Caption", self.caption)
        move = QHBoxLayout()
        self.transition = QComboBox()
        self.transition.addItems(["fly", "cut"])
        self.transition.activated.connect(lambda _i: self._edited("transition"))
        self.duration = QDoubleSpinBox()
        self.duration.setRange(0.0, 120.0)
        self.duration.setSuffix(" s")
        self.duration.setDecimals(1)
        self.duration.editingFinished.connect(lambda: self._edited("transition"))
        self.easing = QComboBox()
        self.easing.addItems(EASINGS)
        self.easing.setToolTip("in_out: slow, fast, slow")
        self.easing.activated.connect(lambda _i: self._edited("transition"))
        for w in (self.transition, self.duration, self.easing):
            move.addWidget(w)
        form.addRow("Camera", move)
        stay = QHBoxLayout()
        self.dwell = QDoubleSpinBox()
        self.dwell.setRange(0.0, 3600.0)
        self.dwell.setSuffix(" s")
        self.dwell.setDecimals(1)
        self.dwell.editingFinished.connect(lambda: self._edited("dwell"))
        self.wait = QCheckBox("wait for Next")
        self.wait.toggled.connect(lambda _on: self._edited("dwell"))
        stay.addWidget(self.dwell)
        stay.addWidget(self.wait)
        form.addRow("Stay", stay)
        self.moment = QLineEdit()
        self.moment.setToolTip(
            "live, an ISO 8601 time, or relative to the history: start+170s, end-2m"
        )
        self.moment.editingFinished.connect(lambda: self._edited("time"))
        form.addRow("Moment", self.moment)
        self.preview = _button(
            "Preview", "Show this step in the window (Stop puts the window back)", "step-preview"
        )
        form.addRow("", self.preview)
        self.step_box = box
        lay.addWidget(box)

        row = QHBoxLayout()
        self.restart = _small("Restart", "Restart the tour", "tour-restart")
        self.previous = _small("◀ Back", "Previous step", "tour-previous")
        self.play = _small("▶ Play", "Play / pause the tour", "tour-play")
        self.next = _small("Next ▶", "Next step", "tour-next")
        self.stop = _small("■ Stop", "Stop the tour and put the window back", "tour-stop")
        for control in (self.restart, self.previous, self.play, self.next, self.stop):
            row.addWidget(control)
        lay.addLayout(row)
        row = QHBoxLayout()
        self.presenter = _button(
            "Presenter", "Full screen with large captions (F5)", "tour-presenter"
        )
        self.leave = _button(
            "Look around",
            "Leave the tour for a while (Return comes back to the step)",
            "tour-leave",
        )
        row.addWidget(self.presenter)
        row.addWidget(self.leave)
        lay.addLayout(row)
        self.status = QLabel()
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        self.quiz = QtQuizPanel()
        lay.addWidget(self.quiz)
        row = QHBoxLayout()
        self.save = _button(
            "Save",
            "Write the tours into the project file (its comments and layout are kept)",
            "tours-save",
        )
        self.saved = QLabel()
        row.addWidget(self.save)
        row.addWidget(self.saved, 1)
        lay.addLayout(row)
        lay.addStretch(1)
        self.show_book([], None, -1, False)

    # -- what the feature shows ------------------------------------------------------------------
    def show_book(self, drafts: list[Draft], current: Draft | None, step: int, dirty: bool) -> None:
        """The tours, the chosen one's steps and the chosen step (-1: none)."""
        self._updating = True
        try:
            self.tours.clear()
            for d in drafts:
                self.tours.addItem(d.name + (" *" if d.dirty else ""))
            at = drafts.index(current) if current in drafts else -1
            self.tours.setCurrentIndex(at)
            self.name.setText(current.name if current else "")
            self.name.setEnabled(current is not None)
            self.delete_tour.setEnabled(current is not None)
            self.steps.clear()
            for k, s in enumerate(current.steps if current else []):
                item = QListWidgetItem(f"{k + 1}. {s.title}")
                item.setToolTip(s.caption or s.title)
                self.steps.addItem(item)
            self.steps.setCurrentRow(step)
            has_step = current is not None and 0 <= step < len(current.steps)
            for w in (self.update_step, self.delete_step, self.step_box):
                w.setEnabled(has_step)
            self.saved.setText("Unsaved changes" if dirty else "")
            self.save.setEnabled(dirty)
            self.show_step(current.steps[step] if has_step and current else None)
        finally:
            self._updating = False

    def show_step(self, step: TourStep | None) -> None:
        self._updating = True
        try:
            s = step or TourStep(title="–")
            if self.title.text() != s.title:
                self.title.setText("" if step is None else s.title)
            if self.caption.toPlainText() != s.caption:
                self.caption.setPlainText(s.caption)
            self.transition.setCurrentText(s.transition.type)
            self.duration.setValue(s.transition.duration)
            self.duration.setEnabled(s.transition.type == "fly")
            self.easing.setCurrentText(s.transition.easing)
            self.wait.setChecked(s.dwell == "wait")
            self.dwell.setValue(s.dwell if isinstance(s.dwell, (int, float)) else 6.0)
            self.dwell.setEnabled(s.dwell != "wait")
            replay = isinstance(s.time, Replay)
            self.moment.setText("" if s.time is None or isinstance(s.time, Replay) else str(s.time))
            self.moment.setEnabled(not replay)
            self.moment.setPlaceholderText(
                f"replay {s.time.start} → {s.time.end} at ×{s.time.speed:g}"
                if isinstance(s.time, Replay) else "keep the time of the step before"
            )  # fmt: skip
        finally:
            self._updating = False

    def show_player(self, active: bool, playing: bool, left: bool, text: str) -> None:
        self.play.setText("❚❚ Pause" if playing else "▶ Play")
        for b in (self.restart, self.previous, self.next, self.stop, self.leave):
            b.setEnabled(active)
        self.leave.setText("Return to step" if left else "Look around")
        self.status.setText(text)

    def current_step(self) -> int:
        return self.steps.currentRow()

    def fields(self, which: str) -> dict[str, Any]:
        """The editor's value of one field, as a step's keys."""
        if which == "title":
            return {"title": self.title.text().strip()}
        if which == "caption":
            return {"caption": self.caption.toPlainText().strip()}
        if which == "transition":
            kind = self.transition.currentText()
            return {"transition": {"type": kind, "duration": self.duration.value(),
                                   "easing": self.easing.currentText()}}  # fmt: skip
        if which == "dwell":
            return {"dwell": "wait" if self.wait.isChecked() else self.dwell.value()}
        text = self.moment.text().strip()
        return {"time": text or None}

    # -- the user's intent -----------------------------------------------------------------------
    def _edited(self, which: str) -> None:
        if self._updating or self.current_step() < 0:
            return
        if which == "dwell":
            self.dwell.setEnabled(not self.wait.isChecked())
        if which == "transition":
            self.duration.setEnabled(self.transition.currentText() == "fly")
        self.stepEdited.emit(self.fields(which))

    def _on_caption(self) -> None:
        if not self._updating:
            self._caption_timer.start()

    def commit_caption(self) -> None:
        """A caption being typed is committed now (before a save, a preview, another step)."""
        if self._caption_timer.isActive():
            self._caption_timer.stop()
            self._edited("caption")

    def _on_name(self) -> None:
        if not self._updating and self.name.text().strip():
            self.tourRenamed.emit(self.name.text().strip())

    def _on_row(self, row: int) -> None:
        if not self._updating:
            self.commit_caption()
            self.stepChosen.emit(row)

    def _on_moved(
        self,
        _parent: QModelIndex | QPersistentModelIndex,
        start: int,
        _end: int,
        _dest: QModelIndex | QPersistentModelIndex,
        row: int,
    ) -> None:
        if self._updating:
            return
        target = row if row < start else row - 1
        if target != start:
            QTimer.singleShot(0, lambda: self.stepMoved.emit(start, target))
