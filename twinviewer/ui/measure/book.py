"""Measurements kept in memory when the project's review cannot be read (it is never
overwritten then): the same methods as :class:`~twinviewer.session.ReviewBook` uses for them,
nothing saved."""

from __future__ import annotations

from psygnal import Signal

from twinviewer.review import Measurement


class UnsavedBook:
    changed = Signal()

    def __init__(self) -> None:
        self.measurements: list[Measurement] = []

    def add_measurement(self, measurement: Measurement, index: int | None = None) -> None:
        items = self.measurements
        items.insert(len(items) if index is None else index, measurement)
        self.changed.emit()

    def replace_measurement(self, measurement: Measurement) -> None:
        for k, m in enumerate(self.measurements):
            if m.id == measurement.id:
                self.measurements[k] = measurement
                self.changed.emit()
                return
        raise KeyError(f"no measurement {measurement.id!r}")

    def remove_measurement(self, measurement_id: str) -> tuple[int, Measurement]:
        for k, m in enumerate(self.measurements):
            if m.id == measurement_id:
                del self.measurements[k]
                self.changed.emit()
                return k, m
        raise KeyError(f"no measurement {measurement_id!r}")

    def unique_name(self, stem: str) -> str:
        taken = {m.name for m in self.measurements}
        k = 1
        while f"{stem} {k}" in taken:
            k += 1
        return f"{stem} {k}"
