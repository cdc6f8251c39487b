"""Undoable changes to the review's measurements: add, delete, rename (QUndoCommand s).

Each command changes the review book, which saves ``review.json`` and announces the change,
so the list and the 3D labels redraw from the book whichever way the change came.
"""

from __future__ import annotations

from typing import Protocol

from psygnal import SignalInstance
from PySide6.QtGui import QUndoCommand

from twinviewer.review import Measurement


class Book(Protocol):
    """What the commands need of a review book (:class:`~twinviewer.session.ReviewBook`)."""

    changed: SignalInstance

    @property
    def measurements(self) -> list[Measurement]: ...

    def add_measurement(self, measurement: Measurement, index: int | None = None) -> None: ...

    def replace_measurement(self, measurement: Measurement) -> None: ...

    def remove_measurement(self, measurement_id: str) -> tuple[int, Measurement]: ...

    def unique_name(self, stem: str) -> str: ...


class AddMeasurement(QUndoCommand):
    def __init__(self, book: Book, measurement: Measurement) -> None:
        super().__init__(f"add {measurement.name}")
        self.book = book
        self.measurement = measurement
        self.index: int | None = None

    def redo(self) -> None:
        self.book.add_measurement(self.measurement, self.index)

    def undo(self) -> None:
        self.index, _ = self.book.remove_measurement(self.measurement.id)


class DeleteMeasurement(QUndoCommand):
    def __init__(self, book: Book, measurement: Measurement) -> None:
        super().__init__(f"delete {measurement.name}")
        self.book = book
        self.measurement = measurement
        self.index = 0

    def redo(self) -> None:
        self.index, self.measurement = self.book.remove_measurement(self.measurement.id)

    def undo(self) -> None:
        self.book.add_measurement(self.measurement, self.index)


class RenameMeasurement(QUndoCommand):
    def __init__(self, book: Book, measurement: Measurement, name: str) -> None:
        super().__init__(f"rename {measurement.name} to {name}")
        self.book = book
        self.old = measurement
        self.new = measurement.model_copy(update={"name": name})

    def redo(self) -> None:
        self.book.replace_measurement(self.new)

    def undo(self) -> None:
        self.book.replace_measurement(self.old)
