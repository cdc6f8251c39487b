"""The sensor dialog: one sensor of the selected component, checked as it is typed.

Every field is validated by the project's own :class:`~twinviewer.core.project.Sensor` model
on each keystroke; what is wrong is said under the field it concerns, and OK stays disabled
until the sensor is valid. The id of a sensor being edited is fixed (its data sources and
history know it by that id).

The component is a name, a shell pattern (``pump_*``) or a regex (``re:pump_0[12]``), read as
:func:`twinviewer.core.binding.match_reference` reads it. Beside it a live preview says which
components it matches ("matches 3 components: pump_01, …"), or in red that it matches nothing
with the closest names (OK stays allowed: the sensor is kept, the window's banner names it);
``matchesChanged`` hands the matched nodes to the window to outline in 3D. *Pick in 3D* asks the
window (``pickRequested``) to let the user click the component; :meth:`set_component` fills it.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import QTimer, Signal
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

from twinviewer.core.binding import (
    component_names,
    did_you_mean,
    match_reference,
    suggest_names,
)
from twinviewer.core.colour import COLORMAPS
from twinviewer.core.model import ModelData
from twinviewer.core.project import Project, Sensor

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
MATCH_STYLE = "color: #5fae6e;"
NOTE_STYLE = "color: #a0a6ae;"
COMPONENT_HINT = "a component or node name, a pattern pump_* or a regex re:pump_0[12]"
SHOWN_MATCHES = 5  # names listed in the preview; the count says how many more
PREVIEW_MS = 150  # the 3D outline follows the typing after this pause
KIND_NOTES = {"glob": "shell pattern", "regex": "regular expression"}


def _number_text(v: float | None) -> str:
    return "" if v is None else f"{v:g}"


class SensorDialog(QDialog):
    """Add a sensor to ``component`` (``sensor`` None) or edit ``sensor``; ``taken``: the ids
    of the project's other sensors (a new one must not reuse them). With the twin's ``project``
    and ``model`` the component field previews what it matches.

    Signals
    -------
    pickRequested()
        *Pick in 3D* was pressed: the window should let the user click a component.
    matchesChanged(list)
        The model nodes the component field matches, with their subtrees (to outline in 3D).
    """

    pickRequested = Signal()  # noqa: N815 (Qt's naming)
    matchesChanged = Signal(list)  # noqa: N815

    def __init__(
        self,
        component: str,
        sensor: Sensor | None = None,
        taken: Collection[str] = (),
        parent: QWidget | None = None,
        project: Project | None = None,
        model: ModelData | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("sensor-dialog")
        self.setMinimumWidth(520)
        self.project = project
        self.model = model
        self._names: list[str] | None = None
        self._kids: list[list[int]] | None = None
        self.matches: list[int] = []  # the nodes the component matches, with their subtrees
        self.original = sensor
        self.taken = set(taken) - ({sensor.id} if sensor else set())
        self.setWindowTitle(f"Edit sensor {sensor.id}" if sensor else "Add sensor")
        self.edits: dict[str, QLineEdit] = {}
        self.errors: dict[str, QLabel] = {}
        self.colormap = QComboBox(self)
        self.colormap.addItems(list(COLORMAPS))
        form = QFormLayout()
        form.addRow("Component:", self._component_row(component))
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
        self._outline = QTimer(self)
        self._outline.setSingleShot(True)
        self._outline.setInterval(PREVIEW_MS)
        self._outline.timeout.connect(lambda: self.matchesChanged.emit(list(self.matches)))
        self.component_edit.textChanged.connect(self._preview)
        self._preview()
        self.validate()

    # -- the component: a name or a pattern, previewed -------------------------------------------
    def _component_row(self, component: str) -> QVBoxLayout:
        self.component_edit = QLineEdit(component, self)
        self.component_edit.setObjectName("component")
        self.component_edit.setPlaceholderText(COMPONENT_HINT)
        self.component_edit.setToolTip(
            "What the sensor colours: a component id of the project, a model node's name, a\n"
            "shell pattern on node names or paths (pump_*, level_?/fan_*) or a regular\n"
            "expression after re: (re:pump_0[12]) that must match a whole name or path"
        )
        self.component_edit.textChanged.connect(self.validate)
        self.pick_button = QPushButton("Pick in 3D", self)
        self.pick_button.setObjectName("pick-component")
        self.pick_button.setToolTip(
            "Click the component in the 3D view or the Components tree (Esc: back here)"
        )
        self.pick_button.clicked.connect(lambda _=False: self.pickRequested.emit())
        self.preview = QLabel("", self)
        self.preview.setObjectName("component-preview")
        self.preview.setWordWrap(True)
        error = QLabel("", self)
        error.setObjectName("component-error")
        error.setStyleSheet(ERROR_STYLE)
        error.setWordWrap(True)
        error.setVisible(False)
        self.errors["component"] = error
        row = QHBoxLayout()
        row.addWidget(self.component_edit, 1)
        row.addWidget(self.pick_button)
        cell = QVBoxLayout()
        cell.setSpacing(2)
        cell.addLayout(row)
        cell.addWidget(self.preview)
        cell.addWidget(error)
        return cell

    @property
    def component(self) -> str:
        """The component field as typed (trimmed)."""
        return self.component_edit.text().strip()

    def set_component(self, ref: str) -> None:
        """Fill the component field (a pick in 3D)."""
        self.component_edit.setText(ref)

    def _preview(self, *_: object) -> None:
        """Say what the component matches, and have the matches outlined after a pause."""
        text, style, nodes = self._describe()
        self.preview.setText(text)
        self.preview.setStyleSheet(style)
        self.preview.setVisible(bool(text))
        if nodes != self.matches:
            self.matches = nodes
            self._outline.start()

    def _describe(self) -> tuple[str, str, list[int]]:
        """The preview's text and style, and the nodes matched (with their subtrees)."""
        ref = self.component
        if self.project is None or self.model is None:
            return "", NOTE_STYLE, []
        if not ref:
            return "no component: the sensor colours nothing", NOTE_STYLE, []
        m = match_reference(self.project, self.model, ref)
        if m.error:
            return "", NOTE_STYLE, []  # said under the field, as an error
        if not m.nodes:
            if self._names is None:
                self._names = component_names(self.project, self.model)
            hints = [n for n in suggest_names(ref, self._names) if n != ref]
            hint = did_you_mean(hints)
            return "matches nothing" + (f" — {hint}" if hint else ""), ERROR_STYLE, []
        comps = self.model.components
        ids = [comps[i].id for i in m.nodes]
        shown = ", ".join(ids[:SHOWN_MATCHES]) + ("…" if len(ids) > SHOWN_MATCHES else "")
        noun = "component" if len(ids) == 1 else "components"
        how = KIND_NOTES.get(m.kind, "")
        if m.kind == "component" and self.project.components[ref].name is None:
            sel = self.project.components[ref]
            how = f"glob {sel.glob!r}" if sel.glob is not None else f"regex {sel.regex!r}"
        note = f" ({how})" if how else ""
        if self._kids is None:
            self._kids = self.model.children()
        nodes, stack = set(), list(m.nodes)
        while stack:  # what the sensor colours: the matches and everything below them
            i = stack.pop()
            if i not in nodes:
                nodes.add(i)
                stack.extend(self._kids[i])
        return f"matches {len(ids)} {noun}{note}: {shown}", MATCH_STYLE, sorted(nodes)

    def preview_text(self) -> str:
        """The preview shown beside the component (for tests and accessibility)."""
        return self.preview.text()

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
            "component": self.component or None,
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
        if self.project is not None and self.model is not None and self.component:
            bad = match_reference(self.project, self.model, self.component).error
            if bad:
                problems.setdefault("component", f"the regex cannot be read: {bad}")
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
