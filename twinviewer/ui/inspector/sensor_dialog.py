"""The sensor dialog: one sensor of the selected component, checked as it is typed.

Every field is validated by the project's own :class:`~twinviewer.core.project.Sensor` model
on each keystroke; what is wrong is said under the field it concerns, and OK stays disabled
until the sensor is valid. The component is fixed (the one selected); the id of a sensor being
edited is fixed too (its data sources and history know it by that id).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from pydantic import ValidationError
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from twinviewer.core.colour import COLORMAPS
from twinviewer.core.project import Sensor

#: The form's rows: (field, label, the line edits in it).
ROWS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("id", "Id", ("id",)),
    ("name", "Name", ("name",)),
    ("quantity", "Quantity", ("quantity",)),
    ("unit", "Unit", ("unit",)),
    ("range", "Range", ("range.min", "range.max")),
    ("warning", "Warning", ("warning.low", "warning.high")),
    ("alarm", "Alarm", ("alarm.low", "alarm.high")),
    ("deadband", "Deadband", ("deadband",)),
    ("colormap", "Colour map", ()),
    ("stale_after", "Stale after (s)", ("stale_after",)),
)
PLACEHOLDERS = {
    "id": "the id the data sources send, e.g. P101_TT01",
    "name": "optional",
    "quantity": "e.g. temperature",
    "unit": "e.g. degC",
    "range.min": "min",
    "range.max": "max",
    "warning.low": "low (optional)",
    "warning.high": "high (optional)",
    "alarm.low": "low (optional)",
    "alarm.high": "high (optional)",
    "deadband": "default: 2% of the range",
    "stale_after": "seconds",
}
ERROR_STYLE = "color: #d04040;"


def _number_text(v: float | None) -> str:
    return "" if v is None else f"{v:g}"


class SensorDialog(QDialog):
    """Add a sensor to ``component`` (``sensor`` None) or edit ``sensor``; ``taken``: the ids
    of the project's other sensors (a new one must not reuse them)."""

    def __init__(
        self,
        component: str,
        sensor: Sensor | None = None,
        taken: Collection[str] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("sensor-dialog")
        self.component = component
        self.original = sensor
        self.taken = set(taken) - ({sensor.id} if sensor else set())
        self.setWindowTitle(f"Edit sensor {sensor.id}" if sensor else "Add sensor")
        self.edits: dict[str, QLineEdit] = {}
        self.errors: dict[str, QLabel] = {}
        self.colormap = QComboBox(self)
        self.colormap.addItems(list(COLORMAPS))
        form = QFormLayout()
        form.addRow("Component:", QLabel(component, self))
        for key, label, names in ROWS:
            row = QHBoxLayout()
            for name in names:
                edit = QLineEdit(self)
                edit.setObjectName(name)
                edit.setPlaceholderText(PLACEHOLDERS.get(name, ""))
                edit.textChanged.connect(self.validate)
                self.edits[name] = edit
                row.addWidget(edit)
            if key == "colormap":
                row.addWidget(self.colormap)
            error = QLabel("", self)
            error.setObjectName(f"{key}-error")
            error.setStyleSheet(ERROR_STYLE)
            error.setWordWrap(True)
            error.setVisible(False)
            self.errors[key] = error
            cell = QVBoxLayout()
            cell.setSpacing(2)
            cell.addLayout(row)
            cell.addWidget(error)
            form.addRow(f"{label}:", cell)
        self.colormap.currentTextChanged.connect(self.validate)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        assert ok is not None
        self.ok_button: QPushButton = ok
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self._fill(sensor)
        if sensor is not None:
            self.edits["id"].setReadOnly(True)
            self.edits["id"].setToolTip("A sensor's id stays: its sources and history know it")
        self.validate()

    def _fill(self, sensor: Sensor | None) -> None:
        if sensor is None:
            self.edits["stale_after"].setText(
                _number_text(Sensor.model_fields["stale_after"].default)
            )
            self.colormap.setCurrentText(str(Sensor.model_fields["colormap"].default))
            return
        self.edits["id"].setText(sensor.id)
        self.edits["name"].setText(sensor.name or "")
        self.edits["quantity"].setText(sensor.quantity)
        self.edits["unit"].setText(sensor.unit)
        self.edits["range.min"].setText(_number_text(sensor.range[0]))
        self.edits["range.max"].setText(_number_text(sensor.range[1]))
        for band in ("warning", "alarm"):
            limits = getattr(sensor, band)
            self.edits[f"{band}.low"].setText(_number_text(limits.low if limits else None))
            self.edits[f"{band}.high"].setText(_number_text(limits.high if limits else None))
        self.edits["deadband"].setText(_number_text(sensor.deadband))
        self.edits["stale_after"].setText(_number_text(sensor.stale_after))
        self.colormap.setCurrentText(sensor.colormap)

    # -- validation ------------------------------------------------------------------------------
    def _data(self, problems: dict[str, str]) -> dict[str, Any]:
        """The fields as the project file would say them; unreadable numbers go to ``problems``."""

        def text(name: str) -> str:
            return self.edits[name].text().strip()

        def number(name: str, key: str) -> float | None:
            t = text(name)
            if not t:
                return None
            try:
                return float(t)
            except ValueError:
                problems.setdefault(key, f"{t!r} is not a number")
                return None

        data: dict[str, Any] = {
            "id": text("id"),
            "quantity": text("quantity"),
            "unit": text("unit"),
            "component": self.component,
            "colormap": self.colormap.currentText(),
        }
        if text("name"):
            data["name"] = text("name")
        lo, hi = number("range.min", "range"), number("range.max", "range")
        if lo is None or hi is None:
            problems.setdefault("range", "give the colour map's [min, max]")
        else:
            data["range"] = (lo, hi)
        for band in ("warning", "alarm"):
            low, high = number(f"{band}.low", band), number(f"{band}.high", band)
            if low is not None or high is not None:
                data[band] = {"low": low, "high": high}
        for key in ("deadband", "stale_after"):
            v = number(key, key)
            if v is not None:
                data[key] = v
        if data["id"] in self.taken:
            problems.setdefault("id", f"the project has a sensor {data['id']!r} already")
        if self.original is not None:  # what the dialog does not show is kept
            data["position"] = self.original.position
        return data

    def validate(self, *_: object) -> Sensor | None:
        """Check the fields; show what is wrong under each; the sensor, or None."""
        problems: dict[str, str] = {}
        data = self._data(problems)
        sensor: Sensor | None = None
        try:
            sensor = Sensor.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                loc = [str(p) for p in err["loc"]]
                key = loc[0] if loc and loc[0] in self.errors else "alarm"  # the bands' order
                if key == "range" and "range" in problems:
                    continue
                msg = str(err["msg"]).removeprefix("Value error, ")
                problems.setdefault(key, msg)
        for key, label in self.errors.items():
            label.setText(problems.get(key, ""))
            label.setVisible(key in problems)
        ok = sensor is not None and not problems
        self.ok_button.setEnabled(ok)
        return sensor if ok else None

    def problems(self) -> dict[str, str]:
        """The error texts shown, by field (for tests and accessibility)."""
        return {k: label.text() for k, label in self.errors.items() if label.text()}

    def sensor(self) -> Sensor | None:
        """The sensor as the fields say it, or None while they are invalid."""
        return self.validate()
