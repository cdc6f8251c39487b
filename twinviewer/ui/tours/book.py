"""The tours being edited, and the edits as undoable commands.

:class:`TourBook` holds a draft of each tour of the project (its steps may be edited, moved,
added and deleted; a draft may have no step yet) and writes them into the project file on
:meth:`TourBook.save` through :func:`twinviewer.core.project_edit.save_tour` and
:func:`~twinviewer.core.project_edit.delete_tour`, which keep the file's comments and layout.
Every change is a :class:`QUndoCommand` pushed by the Tours feature on its undo stack, so
*Edit > Undo* takes back a step added, moved, edited or deleted, and a tour made or deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtGui import QUndoCommand

from twinviewer.core.project_edit import delete_tour, save_tour
from twinviewer.core.project_tours import Tour, TourStep

EDIT_ID = 1301  # consecutive edits of one step (typing a caption) merge into one undo


@dataclass(eq=False)
class Draft:
    """A tour being edited: ``saved_as`` is its name in the file (None: not saved yet)."""

    name: str
    steps: list[TourStep] = field(default_factory=list)
    description: str = ""
    saved_as: str | None = None
    dirty: bool = True

    def tour(self) -> Tour:
        """The draft as a valid tour (ValueError: no step yet, or a step that is not valid)."""
        if not self.steps:
            raise ValueError(f"the tour {self.name!r} has no step yet: add the current view")
        return Tour(name=self.name, description=self.description, steps=list(self.steps))


class TourBook:
    """The drafts of a project's tours; ``changed(draft, step)`` is called after each change
    (``step``: the step index to show, or -1)."""

    def __init__(self, tours: list[Tour], changed: Callable[[Draft | None, int], None]) -> None:
        self.drafts = [
            Draft(t.name, list(t.steps), t.description, saved_as=t.name, dirty=False) for t in tours
        ]
        self.in_file = {t.name for t in tours}
        self.changed = changed

    @property
    def dirty(self) -> bool:
        """Something differs from the file: a draft changed, or a saved tour was deleted."""
        kept = {d.saved_as for d in self.drafts}
        return any(d.dirty for d in self.drafts) or bool(self.in_file - kept)

    def unique_name(self, base: str = "New tour") -> str:
        names = {d.name for d in self.drafts}
        if base not in names:
            return base
        n = 2
        while f"{base} {n}" in names:
            n += 1
        return f"{base} {n}"

    def save(self, path: str | Path) -> list[Tour]:
        """Write every change into the project file; returns the tours as the file now holds
        them (in the drafts' order). :class:`~twinviewer.core.project_edit.ProjectEditError` or
        ValueError say why a tour cannot be written; what was written before stays written."""
        tours = {id(d): d.tour() for d in self.drafts if d.dirty}  # all valid before writing
        names = [d.name for d in self.drafts]
        twice = {n for n in names if names.count(n) > 1}
        if twice:
            raise ValueError(f"two tours are named {sorted(twice)[0]!r}")
        kept = {d.saved_as for d in self.drafts}
        for name in sorted(self.in_file - kept):
            delete_tour(path, name)
            self.in_file.discard(name)
        for d in self.drafts:
            if d.dirty:
                save_tour(path, tours[id(d)], replace=d.saved_as)
                self.in_file.discard(d.saved_as or "")
                self.in_file.add(d.name)
                d.saved_as, d.dirty = d.name, False
        return [d.tour() for d in self.drafts if d.steps]


class _Edit(QUndoCommand):
    def __init__(self, book: TourBook, draft: Draft, text: str) -> None:
        super().__init__(text)
        self.book = book
        self.draft = draft

    def _done(self, step: int = -1) -> None:
        self.draft.dirty = True
        self.book.changed(self.draft, step)


class AddTour(_Edit):
    def __init__(self, book: TourBook, draft: Draft) -> None:
        super().__init__(book, draft, f"new tour {draft.name}")
        self.index = len(book.drafts)

    def redo(self) -> None:
        self.book.drafts.insert(self.index, self.draft)
        self._done(len(self.draft.steps) - 1)

    def undo(self) -> None:
        self.book.drafts.remove(self.draft)
        self.book.changed(None, -1)


class RemoveTour(_Edit):
    def __init__(self, book: TourBook, draft: Draft) -> None:
        super().__init__(book, draft, f"delete tour {draft.name}")
        self.index = book.drafts.index(draft)

    def redo(self) -> None:
        self.book.drafts.remove(self.draft)
        self.book.changed(None, -1)

    def undo(self) -> None:
        self.book.drafts.insert(self.index, self.draft)
        self.book.changed(self.draft, -1)


class RenameTour(_Edit):
    def __init__(self, book: TourBook, draft: Draft, name: str) -> None:
        super().__init__(book, draft, f"rename tour {draft.name} to {name}")
        self.names = (draft.name, name)

    def redo(self) -> None:
        self.draft.name = self.names[1]
        self._done()

    def undo(self) -> None:
        self.draft.name = self.names[0]
        self._done()


class AddStep(_Edit):
    def __init__(self, book: TourBook, draft: Draft, index: int, step: TourStep) -> None:
        super().__init__(book, draft, f"add step {step.title}")
        self.index, self.step = index, step

    def redo(self) -> None:
        self.draft.steps.insert(self.index, self.step)
        self._done(self.index)

    def undo(self) -> None:
        del self.draft.steps[self.index]
        self._done(min(self.index, len(self.draft.steps) - 1))


class RemoveStep(_Edit):
    def __init__(self, book: TourBook, draft: Draft, index: int) -> None:
        self.index, self.step = index, draft.steps[index]
        super().__init__(book, draft, f"delete step {self.step.title}")

    def redo(self) -> None:
        del self.draft.steps[self.index]
        self._done(min(self.index, len(self.draft.steps) - 1))

    def undo(self) -> None:
        self.draft.steps.insert(self.index, self.step)
        self._done(self.index)


class MoveStep(_Edit):
    def __init__(self, book: TourBook, draft: Draft, source: int, target: int) -> None:
        super().__init__(book, draft, f"move step {draft.steps[source].title}")
        self.source, self.target = source, target

    def _move(self, a: int, b: int) -> None:
        step = self.draft.steps.pop(a)
        self.draft.steps.insert(b, step)
        self._done(b)

    def redo(self) -> None:
        self._move(self.source, self.target)

    def undo(self) -> None:
        self._move(self.target, self.source)


class EditStep(_Edit):
    """A step replaced by an edited copy; edits of the same step in a row merge."""

    def __init__(self, book: TourBook, draft: Draft, index: int, step: TourStep) -> None:
        self.index = index
        self.old, self.new = draft.steps[index], step
        super().__init__(book, draft, f"edit step {step.title}")

    def id(self) -> int:
        return EDIT_ID

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 (Qt naming)
        if not isinstance(other, EditStep) or other.draft is not self.draft:
            return False
        if other.index != self.index:
            return False
        self.new = other.new
        self.setText(f"edit step {self.new.title}")
        return True

    def redo(self) -> None:
        self.draft.steps[self.index] = self.new
        self._done(self.index)

    def undo(self) -> None:
        self.draft.steps[self.index] = self.old
        self._done(self.index)
