"""Tours: author guided tours of the twin from the window, play them, present them.

The Tours dock (:mod:`.dock`) edits the project's ``tours:``: *New* makes a tour, *Add view*
adds the window as it is now as a step (:mod:`.capture`), steps are reordered by dragging,
retitled, captioned and timed, previewed and deleted; every change is undone with *Edit >
Undo* (the feature's undo stack, registered with :mod:`twinviewer.ui.undo`). *Save* writes the
tours into the project file keeping its comments (:mod:`.book`), and the open twin keeps
running: only ``session.project.tours`` is read again from the file.

The player (:mod:`.player`) shows each step's state and undoes it on leaving; presenter mode
(:mod:`.presenter`, F5) is the tour full screen; a step's question is asked in the dock and in
presenter mode, the trainee's answers kept in the user's settings (:mod:`.quiz`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoCommand, QUndoStack

from twinviewer.core.project import ProjectError, load_project
from twinviewer.core.project_edit import ProjectEditError
from twinviewer.core.project_tours import Tour, TourStep
from twinviewer.ui.feature import ActionSpec, DockSpec, Feature
from twinviewer.ui.tours.book import (
    AddStep,
    AddTour,
    Draft,
    EditStep,
    MoveStep,
    RemoveStep,
    RemoveTour,
    RenameTour,
    TourBook,
)
from twinviewer.ui.tours.capture import capture_step
from twinviewer.ui.tours.dock import QtToursDock
from twinviewer.ui.tours.player import QtTourPlayer
from twinviewer.ui.tours.presenter import QtPresenter
from twinviewer.ui.tours.quiz import QtQuizPanel, QuizBook
from twinviewer.ui.undo import UndoFeature

if TYPE_CHECKING:
    from twinviewer.session import TwinSession
    from twinviewer.ui.main_window import QtMainWindow

log = logging.getLogger(__name__)

#: What a step keeps when *Update* makes it the current view (the rest is captured anew).
KEPT_ON_UPDATE = ("title", "caption", "transition", "callouts", "dwell", "question")


class ToursFeature(Feature):
    name = "tours"

    def __init__(self, host: QtMainWindow) -> None:
        super().__init__(host)
        self.dock = QtToursDock()
        self.stack = QUndoStack(host)
        self.book: TourBook | None = None
        self.draft: Draft | None = None
        self.player = QtTourPlayer(host)
        self.presenter = QtPresenter(host, self.player)
        self.quizzes = QuizBook(host.settings)
        d = self.dock
        d.tourChosen.connect(self.choose_tour)
        d.tourRenamed.connect(self.rename_tour)
        d.stepChosen.connect(lambda _k: self._show(keep_step=True))
        d.stepMoved.connect(self.move_step)
        d.stepEdited.connect(self.edit_step)
        d.new_tour.clicked.connect(lambda: self.new_tour())
        d.delete_tour.clicked.connect(self.delete_tour)
        d.add_step.clicked.connect(lambda: self.add_step())
        d.update_step.clicked.connect(self.update_step)
        d.delete_step.clicked.connect(lambda: self.delete_step())
        d.preview.clicked.connect(lambda: self.preview())
        d.play.clicked.connect(self.play_pause)
        d.restart.clicked.connect(self.player.restart)
        d.previous.clicked.connect(self.player.previous)
        d.next.clicked.connect(self.player.next)
        d.stop.clicked.connect(self.stop)
        d.presenter.clicked.connect(lambda: self.set_presenter(True))
        d.leave.clicked.connect(self.leave_or_return)
        d.save.clicked.connect(lambda: self.save())
        self.player.stepChanged.connect(self._on_step)
        self.player.changed.connect(self._player_state)
        self.player.playingChanged.connect(lambda _on: self._player_state())
        self.presenter.toggled.connect(self._on_presenter)

    # -- declarations ----------------------------------------------------------------------------
    def docks(self) -> list[DockSpec]:
        return [
            DockSpec(
                "Tours",
                self.dock,
                Qt.DockWidgetArea.RightDockWidgetArea,
                tab_with="Charts",
                size=(400, 620),
                minimum=(250, 160),
                scroll=True,
            )
        ]

    def actions(self) -> list[ActionSpec]:
        return [
            ActionSpec("tours.play", "&Play tour", lambda _=False: self.play_pause(),
                       "View/Tours", "play", tip="Play or pause the tour chosen in the Tours dock"),
            ActionSpec("tours.stop", "&Stop tour", lambda _=False: self.stop(), "View/Tours",
                       "play", tip="Stop the tour and put the window back as it was"),
            ActionSpec("tours.presenter", "P&resenter mode", self.set_presenter, "View/Tours",
                       "present", "F5", "The tour full screen with large captions; Esc leaves",
                       checkable=True),
        ]  # fmt: skip

    def hosted(self) -> None:
        undo = self.host.features.get(UndoFeature.name)
        if isinstance(undo, UndoFeature):
            undo.register(self.stack, self.dock)
        self._show()

    # -- the twin --------------------------------------------------------------------------------
    def opened(self, session: TwinSession) -> None:
        self.stack.clear()
        self.book = TourBook(list(session.project.tours), self._on_book)
        self.draft = self.book.drafts[0] if self.book.drafts else None
        self._show(step=0)

    def closed(self) -> None:
        self.presenter.exit()
        self.player.stop()
        self.stack.clear()
        self.book = None
        self.draft = None
        self._show()

    def frame(self, t: float, live: bool) -> None:
        self.player.frame()

    def refresh(self) -> None:
        if self.player.active:
            self._player_state()

    def shutdown(self) -> None:
        self.presenter.exit()
        self.player.stop()

    # -- editing ---------------------------------------------------------------------------------
    def _push(self, command: QUndoCommand) -> None:
        self.stack.push(command)

    def _on_book(self, draft: Draft | None, step: int) -> None:
        """A change (or its undo): show the tour it touched and the step it names."""
        if self.book is None:
            return
        if draft is None or draft not in self.book.drafts:
            draft = self.draft if self.draft in self.book.drafts else None
            if draft is None and self.book.drafts:
                draft = self.book.drafts[0]
        self.draft = draft
        self._show(step=step)

    def _show(self, step: int | None = None, keep_step: bool = False) -> None:
        drafts = self.book.drafts if self.book is not None else []
        k = self.dock.current_step() if keep_step or step is None else step
        if self.draft is None or not 0 <= k < len(self.draft.steps):
            k = 0 if self.draft is not None and self.draft.steps else -1
        dirty = self.book.dirty if self.book is not None else False
        self.dock.show_book(drafts, self.draft, k, dirty)
        self.dock.new_tour.setEnabled(self.book is not None)
        self.dock.add_step.setEnabled(self.draft is not None)
        self._player_state()

    def choose_tour(self, index: int) -> None:
        if self.book is not None and 0 <= index < len(self.book.drafts):
            self.dock.commit_caption()
            self.draft = self.book.drafts[index]
            self._show(step=0)

    def new_tour(self, name: str | None = None) -> Draft | None:
        """A new, empty tour (its steps: *Add view*)."""
        if self.book is None:
            return None
        draft = Draft(name or self.book.unique_name())
        self.draft = draft
        self._push(AddTour(self.book, draft))
        return draft

    def delete_tour(self) -> None:
        if self.book is not None and self.draft is not None:
            self._push(RemoveTour(self.book, self.draft))

    def rename_tour(self, name: str) -> None:
        if self.book is None or self.draft is None or name == self.draft.name:
            return
        if any(d.name == name for d in self.book.drafts):
            self.host.statusBar().showMessage(f"There is a tour named {name!r} already", 6000)
            self._show(keep_step=True)
            return
        self._push(RenameTour(self.book, self.draft, name))

    def add_step(self, title: str | None = None) -> TourStep | None:
        """The window now as a step after the chosen one (or the first)."""
        if self.book is None or self.draft is None or self.session is None:
            return None
        self.dock.commit_caption()
        at = self.dock.current_step() + 1 if self.draft.steps else 0
        step = capture_step(self.host, title or f"Step {len(self.draft.steps) + 1}")
        self._push(AddStep(self.book, self.draft, at, step))
        return step

    def update_step(self) -> None:
        """The chosen step becomes the current view (its words and timing kept)."""
        k = self.dock.current_step()
        if self.book is None or self.draft is None or not 0 <= k < len(self.draft.steps):
            return
        old = self.draft.steps[k]
        new = capture_step(self.host, old.title)
        new = new.model_copy(update={key: getattr(old, key) for key in KEPT_ON_UPDATE})
        self._push(EditStep(self.book, self.draft, k, new))

    def delete_step(self, index: int | None = None) -> None:
        k = self.dock.current_step() if index is None else index
        if self.book is not None and self.draft is not None and 0 <= k < len(self.draft.steps):
            self._push(RemoveStep(self.book, self.draft, k))

    def move_step(self, source: int, target: int) -> None:
        if self.book is None or self.draft is None:
            return
        n = len(self.draft.steps)
        if 0 <= source < n and 0 <= target < n and source != target:
            self._push(MoveStep(self.book, self.draft, source, target))

    def edit_step(self, fields: dict[str, Any], index: int | None = None) -> bool:
        """Change fields of a step (the chosen one); False, with the reason shown, when the
        step would not be valid."""
        k = self.dock.current_step() if index is None else index
        if self.book is None or self.draft is None or not 0 <= k < len(self.draft.steps):
            return False
        old = self.draft.steps[k]
        try:
            new = TourStep.model_validate({**old.model_dump(exclude_none=True), **fields})
        except ValidationError as exc:
            reason = "; ".join(e["msg"] for e in exc.errors())
            self.dock.status.setText(f"Not changed: {reason}")
            self.dock.show_step(old)
            return False
        if new != old:
            self._push(EditStep(self.book, self.draft, k, new))
        return True

    def save(self) -> bool:
        """Write the tours into the project file; the twin stays open."""
        s = self.session
        if s is None or self.book is None:
            return False
        self.dock.commit_caption()
        try:
            tours = self.book.save(s.path)
        except (ProjectEditError, ProjectError, ValueError, OSError) as exc:
            self.host.error("The tours could not be saved", str(exc))
            self._show(keep_step=True)
            return False
        try:
            s.project.tours = load_project(s.path)[0].tours
        except ProjectError:  # written and checked by save_tour: keep what was written
            log.exception("reading the tours back from %s", s.path)
            s.project.tours = tours
        self.host.statusBar().showMessage(f"Saved {len(tours)} tour(s) into {s.path.name}", 6000)
        self._show(keep_step=True)
        return True

    # -- playing ---------------------------------------------------------------------------------
    def _tour(self) -> Tour | None:
        if self.draft is None:
            return None
        try:
            return self.draft.tour()
        except ValueError as exc:
            self.host.statusBar().showMessage(str(exc), 6000)
            return None

    def start(self, index: int = 0, play: bool = True) -> bool:
        """Play the chosen tour from step ``index`` (paused: a preview)."""
        tour = self._tour()
        if tour is None:
            return False
        self.dock.commit_caption()
        try:
            self.player.start(self._tour() or tour, index, play)
        except ValueError as exc:
            self.host.error("The tour cannot be played", str(exc))
            return False
        return True

    def preview(self, index: int | None = None) -> bool:
        """Show one step in the window, paused (Stop puts the window back)."""
        k = self.dock.current_step() if index is None else index
        return self.start(max(k, 0), play=False)

    def play_pause(self) -> None:
        if self.player.active and self.player.tour == self._tour():
            self.player.toggle()
        else:
            self.start(max(self.dock.current_step(), 0))

    def stop(self) -> None:
        self.presenter.exit()
        self.player.stop()

    def leave_or_return(self) -> None:
        if self.player.left:
            self.player.return_to_step()
        else:
            self.player.leave()

    def set_presenter(self, on: bool = True) -> None:
        if on and not self.player.active and not self.start(0):
            self.host.action("tours.presenter").setChecked(False)
            return
        if on:
            self.presenter.enter()
        else:
            self.presenter.exit()

    def _on_presenter(self, on: bool) -> None:
        self.host.action("tours.presenter").setChecked(on)

    def _on_step(self, k: int) -> None:
        tour = self.player.tour
        s = self.session
        if tour is not None and 0 <= k < len(tour.steps) and self.draft is not None:
            if self.draft.name == tour.name and k != self.dock.current_step():
                self.dock.steps.setCurrentRow(k)
            question = tour.steps[k].question
            key = QuizBook.key(s.path, tour.name, k) if s is not None else ""
            for panel in (self.dock.quiz, self.presenter.quiz):
                self._ask(panel, question, key, tour)
        else:
            for panel in (self.dock.quiz, self.presenter.quiz):
                panel.set_question(None, None, "")
        self._player_state()

    def _ask(self, panel: QtQuizPanel, question: Any, key: str, tour: Tour) -> None:
        s = self.session
        if s is not None:
            path = s.path
            panel.score_text = lambda: self.quizzes.score(path, tour).text()
        panel.set_question(question, self.quizzes, key)

    def _player_state(self) -> None:
        p = self.player
        text = ""
        if p.tour is not None and p.index >= 0:
            step = p.tour.steps[p.index]
            text = f"{p.tour.name}: step {p.index + 1} of {len(p.tour.steps)}, {step.title}"
            if p.left:
                text += " (looking around: Return to step comes back)"
            elif p.holding:
                text += " (waiting: Next goes on)"
            elif not p.playing:
                text += " (paused)"
        self.dock.show_player(p.active, p.playing, p.left, text)
        self.presenter.update_position()
