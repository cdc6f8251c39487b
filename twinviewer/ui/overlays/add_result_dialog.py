"""The *Add simulation result* dialog: a result file or case folder read, described, placed on
the twin and put on its clock, as the ``overlays:`` entry it becomes.

The result is read on a worker thread (:class:`QtReadResultJob`), so a large case never
freezes the window; reading cannot be interrupted, so *Cancel* forgets the job (its result is
dropped when it arrives). Then the dialog shows what the result is (format, steps, fields with
units, parts, bounds) and the overlay's settings. The placed result's bounding box is checked
against the twin's as the placement changes (:mod:`twinviewer.sim.placement_fit`): when they
do not overlap or differ much in size, a warning shows both boxes and *Fit result to twin*
sets scale and translation. The dialog writes nothing: :meth:`overlay` is what the caller
writes (:func:`twinviewer.core.project_edit.add_overlay`).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Collection
from pathlib import Path

import numpy as np
from pydantic import ValidationError
from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from twinviewer.core.colour import COLORMAPS
from twinviewer.core.project import Overlay, OverlayTime, Placement
from twinviewer.sim import (
    FieldInfo,
    SimReadError,
    SimResult,
    find_sim_reader,
    read_result,
    result_suffixes,
)
from twinviewer.sim.placement_fit import (
    Bounds,
    check_bounds,
    fit_to_twin,
    format_bounds,
    unit_hint,
)

log = logging.getLogger(__name__)

WARN = "#e0a030"
GOOD = "#6ec88c"
MUTED = "#8c939c"
_running: set[QThread] = set()  # reading jobs outliving a closed dialog or a cancel


class QtReadResultJob(QThread):
    """``read_result(path)`` off the GUI thread. Signals: ``done(object)`` the
    :class:`SimResult`, ``failed(str)`` the reader's one-line message."""

    done = Signal(object)
    failed = Signal(str)

    def __init__(self, path: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self.cancelled = False

    def run(self) -> None:
        try:
            result = read_result(self.path)
        except SimReadError as exc:
            if not self.cancelled:
                self.failed.emit(str(exc))
        except Exception as exc:  # never let a worker exception vanish
            log.exception("reading %s", self.path)
            if not self.cancelled:
                self.failed.emit(f"{self.path}: {type(exc).__name__}: {exc}")
        else:
            if not self.cancelled:
                self.done.emit(result)


def _forget(job: QThread) -> None:
    _running.discard(job)
    job.deleteLater()


def plain_number(v: float, digits: int = 7) -> str:
    """``v`` to ``digits`` significant digits, never in exponent notation (``0.0000394``)."""
    text = np.format_float_positional(v, precision=digits, unique=True, fractional=False, trim="-")
    return "0" if text in ("-0", "0.") else text


class QtNumberBox(QDoubleSpinBox):
    """A spin box that shows its value as written (``1000``, ``0.001``), not ``1000.000000``."""

    def __init__(
        self, lo: float, hi: float, value: float = 0.0, suffix: str = "", decimals: int = 12
    ) -> None:
        super().__init__()
        self.setDecimals(decimals)
        self.setRange(lo, hi)
        self.setValue(value)
        self.setSuffix(suffix)
        self.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        self.setKeyboardTracking(False)

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt naming)
        return plain_number(value)

    def valueFromText(self, text: str) -> float:  # noqa: N802 (Qt naming)
        try:
            return float(text.removesuffix(self.suffix()).strip())
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        body = text.removesuffix(self.suffix()).strip()
        try:
            v = float(body)
        except ValueError:
            ok = body in ("", "-", "+", ".", "-.") or re.fullmatch(r"[-+]?\d*\.?\d*e[-+]?", body)
            state = QValidator.State.Intermediate if ok else QValidator.State.Invalid
            return state, text, pos
        inside = self.minimum() <= v <= self.maximum()
        return (QValidator.State.Acceptable if inside else QValidator.State.Intermediate), text, pos


def _format_name(result: SimResult) -> str:
    """``OpenFOAM case``, ``VTK XML unstructured grid``: the result's kind without its article
    and the parenthesis."""
    kind = re.sub(r"\s*\(.*\)\s*$", "", result.kind)
    kind = re.sub(r"^(a|an)\s+", "", kind)
    return kind[:1].upper() + kind[1:]


def default_name(path: Path, taken: Collection[str]) -> str:
    """An overlay name from the result's file name (``run1.vtu.series`` -> ``run1``; an
    OpenFOAM ``case.foam`` or ``system/controlDict`` -> the case folder's name), with a number
    added when it is taken."""
    suffixes = set(result_suffixes())
    stem = path.name
    while Path(stem).suffix.lower() in suffixes:
        stem = Path(stem).stem
    if path.name == "controlDict":
        stem = path.parent.parent.name
    elif path.suffix.lower() == ".foam" and stem.lower() in ("case", "foam", ""):
        stem = path.parent.name
    stem = stem or "Result"
    name, n = stem, 2
    while name in taken:
        name = f"{stem} {n}"
        n += 1
    return name


def _describe_field(f: FieldInfo) -> str:
    """``T [K] (point)``, ``U [m/s] (cell, 3 components)``, ``phi (point, no unit given)``."""
    what = [f.association]
    if f.components != 1:
        what.append(f"{f.components} components")
    if not f.unit:
        what.append("no unit given")
    return f.name + (f" [{f.unit}]" if f.unit else "") + f" ({', '.join(what)})"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


class QtAddResultDialog(QDialog):
    """Choose a result, see what it is, set the overlay's name, field, colour map, placement
    and clock. Signals: ``loaded(object)`` a result was read, ``failed(str)`` it could not be
    (the reader's message)."""

    loaded = Signal(object)
    failed = Signal(str)

    def __init__(
        self,
        project_path: Path,
        twin_bounds: Bounds,
        twin_units: str | None,
        taken_names: Collection[str] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add simulation result")
        self.setObjectName("add-result-dialog")
        self.project_path = Path(project_path)
        self.folder = self.project_path.parent
        self.twin_bounds = twin_bounds
        self.units = twin_units or "model units"
        self.taken = set(taken_names)
        self.sim: SimResult | None = None
        self.path: Path | None = None
        self.job: QtReadResultJob | None = None

        # -- the result
        self.path_edit = QLineEdit()
        self.path_edit.setReadOnly(True)
        self.path_edit.setPlaceholderText("a result file, or an OpenFOAM case folder")
        self.file_button = QPushButton("&File…")
        self.file_button.setToolTip("A result file: " + " ".join(result_suffixes()))
        self.file_button.clicked.connect(lambda _=False: self.choose_file())
        self.folder_button = QPushButton("F&older…")
        self.folder_button.setToolTip("An OpenFOAM case folder (with system/controlDict)")
        self.folder_button.clicked.connect(lambda _=False: self.choose_folder())
        chooser = QHBoxLayout()
        chooser.addWidget(QLabel("Result"))
        chooser.addWidget(self.path_edit, 1)
        chooser.addWidget(self.file_button)
        chooser.addWidget(self.folder_button)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy: a reader says nothing about its progress
        self.progress.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel reading")
        self.cancel_button.clicked.connect(lambda _=False: self.cancel_reading())
        self.read_label = QLabel("")
        self.read_label.setWordWrap(True)
        reading = QHBoxLayout()
        reading.addWidget(self.progress, 1)
        reading.addWidget(self.cancel_button)
        self.reading_row = QWidget()
        self.reading_row.setLayout(reading)
        reading.setContentsMargins(0, 0, 0, 0)
        self.reading_row.setVisible(False)

        # -- what it is
        self.info = {
            key: QLabel("–")
            for key in ("Format", "Time steps", "Fields", "Parts", "Bounds (result units)")
        }
        info_form = QFormLayout()
        for key, label in self.info.items():
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            info_form.addRow(key, label)
        self.info_box = QGroupBox("What it is")
        self.info_box.setLayout(info_form)

        # -- the overlay
        self.name_edit = QLineEdit()
        self.name_edit.textChanged.connect(lambda _t: self._validate())
        self.field_combo = QComboBox()
        self.colormap_combo = QComboBox()
        self.colormap_combo.addItems(list(COLORMAPS))
        self.colormap_combo.setCurrentText("inferno")
        self.visible_check = QCheckBox("Shown when the twin opens")
        overlay_form = QFormLayout()
        overlay_form.addRow("Name", self.name_edit)
        overlay_form.addRow("Field", self.field_combo)
        overlay_form.addRow("Colour map", self.colormap_combo)
        overlay_form.addRow("", self.visible_check)
        self.overlay_box = QGroupBox("Overlay")
        self.overlay_box.setLayout(overlay_form)

        # -- the placement
        big = 1e9
        self.translate = [QtNumberBox(-big, big, suffix=f" {self.units}") for _ in range(3)]
        self.rotate = [QtNumberBox(-360.0, 360.0, suffix=" °", decimals=6) for _ in range(3)]
        self.scale = QtNumberBox(1e-9, big, 1.0)
        self.scale.setToolTip("Result units to model units: 1000 for m → mm, 25.4 for in → mm")
        self.scale_hint = QLabel("")
        self.scale_hint.setStyleSheet(f"color: {MUTED};")
        grid = QGridLayout()
        for col, axis in enumerate("xyz", 1):
            head = QLabel(axis)
            head.setAlignment(Qt.AlignmentFlag.AlignCenter)
            grid.addWidget(head, 0, col)
        grid.addWidget(QLabel("Translate"), 1, 0)
        grid.addWidget(QLabel("Rotate"), 2, 0)
        for col in range(3):
            grid.addWidget(self.translate[col], 1, col + 1)
            grid.addWidget(self.rotate[col], 2, col + 1)
        grid.addWidget(QLabel("Scale"), 3, 0)
        grid.addWidget(self.scale, 3, 1)
        grid.addWidget(self.scale_hint, 3, 2, 1, 2)
        for box in (*self.translate, *self.rotate, self.scale):
            box.valueChanged.connect(lambda _v: self._update_bounds())
        self.bounds_label = QLabel("")
        self.bounds_label.setWordWrap(True)
        self.bounds_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.fit_button = QPushButton("Fit result to &twin")
        self.fit_button.setToolTip(
            "Scale (a unit conversion when one is near) and move the result onto the twin's box"
        )
        self.fit_button.clicked.connect(lambda _=False: self.fit())
        self.warning = QFrame()
        self.warning.setObjectName("bounds-warning")
        self.warning.setFrameShape(QFrame.Shape.StyledPanel)
        self.warning.setStyleSheet(f"QFrame#bounds-warning {{ border: 1px solid {WARN}; }}")
        self.warning_label = QLabel("")
        self.warning_label.setWordWrap(True)
        self.warning_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        warning_layout = QVBoxLayout(self.warning)
        warning_layout.addWidget(self.warning_label)
        self.fit_label = QLabel("")  # what the fit would do
        self.fit_label.setStyleSheet(f"color: {MUTED};")
        fit_row = QHBoxLayout()
        fit_row.addWidget(self.fit_label, 1, Qt.AlignmentFlag.AlignRight)
        fit_row.addWidget(self.fit_button)
        warning_layout.addLayout(fit_row)
        self.warning.setVisible(False)
        placement = QVBoxLayout()
        placement.addLayout(grid)
        placement.addWidget(self.bounds_label)
        placement.addWidget(self.warning)
        self.placement_box = QGroupBox(f"Placement (result → twin, in {self.units})")
        self.placement_box.setLayout(placement)

        # -- the clock
        self.mode_combo = QComboBox()
        self.mode_combo.addItem("clock: the steps' times in the file", "clock")
        self.mode_combo.addItem("step index: step n at n s", "step_index")
        self.origin_edit = QLineEdit("session")
        self.origin_edit.setPlaceholderText("session, or 2026-01-31T08:00:00Z")
        self.origin_edit.setToolTip(
            "Twin time of simulation time 0: 'session' (when the twin is opened) or an ISO 8601 "
            "instant"
        )
        self.origin_edit.textChanged.connect(lambda _t: self._validate())
        self.offset_spin = QtNumberBox(-1e12, 1e12, 0.0, " s", decimals=6)
        self.time_scale_spin = QtNumberBox(1e-9, 1e9, 1.0, decimals=9)
        self.time_scale_spin.setToolTip("Twin seconds per simulation second")
        clock_form = QFormLayout()
        clock_form.addRow("Mode", self.mode_combo)
        clock_form.addRow("Origin", self.origin_edit)
        clock_form.addRow("Offset", self.offset_spin)
        clock_form.addRow("Time scale (twin s per simulation s)", self.time_scale_spin)
        self.clock_box = QGroupBox("Clock (twin time = origin + offset + scale × simulation time)")
        self.clock_box.setLayout(clock_form)

        self.status = QLabel("Choose a result file, or an OpenFOAM case folder.")
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.addButton(
            "&Add overlay", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.ok_button.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        left = QVBoxLayout()
        left.addWidget(self.info_box)
        left.addWidget(self.overlay_box)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self.placement_box)
        right.addWidget(self.clock_box)
        right.addStretch(1)
        columns = QHBoxLayout()
        columns.addLayout(left, 1)
        columns.addLayout(right, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(chooser)
        layout.addWidget(self.reading_row)
        layout.addLayout(columns, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self._set_enabled(False)
        # word-wrapped labels do not raise a layout's minimum height: keep room for them
        self.setMinimumSize(880, 560)
        self.resize(960, 600)

    # -- choosing and reading ----------------------------------------------------------------

    def choose_file(self) -> None:
        patterns = " ".join(f"*{s}" for s in result_suffixes()) + " controlDict"
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Simulation result",
            str(self.folder),
            f"Simulation results ({patterns});;All files (*)",
        )
        if path:
            self.read(Path(path))

    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "OpenFOAM case folder", str(self.folder))
        if path:
            self.read(Path(path))

    def read(self, path: Path) -> None:
        """Read ``path`` on a worker thread (a result being read is forgotten)."""
        self.cancel_reading()
        self.path_edit.setText(str(path))
        if find_sim_reader(path) is None:
            self._read_failed(str(SimReadError(path, self._unsupported(path))))
            return
        self.sim = None
        self._set_enabled(False)
        self.reading_row.setVisible(True)
        self._say(f"Reading {path.name}…", MUTED)
        job = QtReadResultJob(path)
        job.done.connect(lambda result, j=job: self._read_done(j, result))
        job.failed.connect(lambda why, j=job: self._read_failed(why) if j is self.job else None)
        job.finished.connect(lambda j=job: _forget(j))
        self.job = job
        _running.add(job)
        job.start()

    @staticmethod
    def _unsupported(path: Path) -> str:
        if path.is_dir():
            return "is a folder without system/controlDict (expected an OpenFOAM case folder)"
        return (
            f"unsupported file type {path.suffix or '(no suffix)'} "
            f"(expected one of {', '.join(result_suffixes())})"
        )

    def cancel_reading(self) -> None:
        if self.job is not None:
            self.job.cancelled = True
            self.job = None
            self.reading_row.setVisible(False)
            self._say("Reading cancelled.", MUTED)

    def _read_done(self, job: QtReadResultJob, result: SimResult) -> None:
        if job is not self.job:
            return
        self.job = None
        self.reading_row.setVisible(False)
        self.show_result(job.path, result)

    def _read_failed(self, why: str) -> None:
        self.job = None
        self.reading_row.setVisible(False)
        self._say(why, WARN)
        box = QMessageBox(
            QMessageBox.Icon.Critical, "The result could not be read", why, parent=self
        )
        box.setObjectName("read-error")
        box.open()  # not exec(): tests and scripts must not block on it
        self.failed.emit(why)

    # -- what was read -----------------------------------------------------------------------

    def show_result(self, path: Path, result: SimResult) -> None:
        """Describe ``result`` and preset the overlay's settings for it."""
        self.path, self.sim = path, result
        times = result.times
        span = f", t = {times[0]:g} … {times[-1]:g} s" if result.n_steps > 1 else ""
        fields = [_describe_field(f) for f in result.fields]
        parts = result.parts
        self.info["Format"].setText(_format_name(result))
        self.info["Time steps"].setText(f"{result.n_steps}{span}")
        self.info["Fields"].setText("; ".join(fields[:12]) + (" …" if len(fields) > 12 else ""))
        self.info["Parts"].setText(
            f"{len(parts)}: " + ", ".join(parts[:6]) + (" …" if len(parts) > 6 else "")
        )
        self.info["Bounds (result units)"].setText(format_bounds(result.bounds))
        self.field_combo.clear()
        scalars = [f for f in result.fields if f.components == 1] or result.fields
        for f in result.fields:
            unit = f" [{f.unit}]" if f.unit else ""
            self.field_combo.addItem(f"{f.name}{unit} ({f.association})", f.name)
        if scalars:
            first = next((f for f in scalars if f.association == "point"), scalars[0])
            self.field_combo.setCurrentIndex(self.field_combo.findData(first.name))
        self.name_edit.setText(default_name(path, self.taken))
        self.mode_combo.setCurrentIndex(0 if result.n_steps == 1 or np.any(times != 0) else 1)
        self._set_enabled(True)
        steps = _plural(result.n_steps, "time step")
        self._say(f"Read {path.name}: {steps}, {_plural(len(result.fields), 'field')}.", GOOD)
        self._update_bounds()
        self._validate()
        self.loaded.emit(result)

    def _set_enabled(self, on: bool) -> None:
        for w in (self.info_box, self.overlay_box, self.placement_box, self.clock_box):
            w.setEnabled(on)
        self.ok_button.setEnabled(on)

    # -- placement ---------------------------------------------------------------------------

    def placement(self) -> Placement:
        return Placement(
            translate=(
                self.translate[0].value(),
                self.translate[1].value(),
                self.translate[2].value(),
            ),
            rotate=(self.rotate[0].value(), self.rotate[1].value(), self.rotate[2].value()),
            scale=self.scale.value(),
        )

    def set_placement(self, p: Placement) -> None:
        for box, v in (
            *zip(self.translate, p.translate, strict=True),
            *zip(self.rotate, p.rotate, strict=True),
        ):
            box.blockSignals(True)
            box.setValue(v)
            box.blockSignals(False)
        self.scale.blockSignals(True)
        self.scale.setValue(p.scale)
        self.scale.blockSignals(False)
        self._update_bounds()

    def fit(self) -> None:
        """Fit result to twin: scale and move the result's box onto the twin's."""
        if self.sim is None:
            return
        fit = fit_to_twin(self.sim.bounds, self.placement(), self.twin_bounds)
        self.set_placement(fit.placement)
        how = "scale kept" if fit.how == "kept" else fit.how
        self._say(f"Fitted to the twin ({how}): scale {plain_number(fit.placement.scale)}.", GOOD)

    def _update_bounds(self) -> None:
        hint = unit_hint(self.scale.value())
        self.scale_hint.setText(
            f"({hint})" if hint and hint != "same units" else "e.g. 1000 for m → mm"
        )
        if self.sim is None:
            self.bounds_label.setText("")
            self.warning.setVisible(False)
            return
        check = check_bounds(self.sim.bounds, self.placement(), self.twin_bounds)
        placed = format_bounds(check.result, self.units)
        twin = format_bounds(check.twin, self.units)
        if check.ok:
            self.bounds_label.setText(
                f"<span style='color:{GOOD}'>On the twin.</span> Result (placed): {placed}"
            )
            self.warning.setVisible(False)
        else:
            self.bounds_label.setText("")
            fit = fit_to_twin(self.sim.bounds, self.placement(), self.twin_bounds)
            how = "" if fit.how in ("kept", "exact fit") else f" ({fit.how})"
            self.fit_label.setText(
                "keeps the scale, centres the result"
                if fit.how == "kept"
                else f"scale {plain_number(fit.placement.scale)}{how}, centred on the twin"
            )
            self.warning_label.setText(
                f"<b style='color:{WARN}'>⚠ {check.problem}.</b><br>"
                f"Result (placed): {placed}<br>Twin: {twin}"
            )
            self.warning.setVisible(True)

    # -- the overlay -------------------------------------------------------------------------

    def result_path(self) -> str:
        """The result as the project names it: relative to its folder when it can be."""
        assert self.path is not None
        path = self.path.resolve()
        try:
            rel = os.path.relpath(path, self.folder.resolve())
        except ValueError:  # another drive
            return str(path)
        return Path(rel).as_posix()

    def overlay(self) -> Overlay:
        """The overlay as set (``ValueError`` with the reason when a setting is not valid)."""
        if self.sim is None or self.path is None:
            raise ValueError("choose a result first")
        name = self.name_edit.text().strip()
        if not name:
            raise ValueError("give the overlay a name")
        if name in self.taken:
            raise ValueError(f"the project has an overlay named {name!r} already")
        origin = self.origin_edit.text().strip() or "session"
        try:
            return Overlay(
                name=name,
                result=self.result_path(),
                field=self.field_combo.currentData(),
                placement=self.placement(),
                time=OverlayTime(
                    mode=self.mode_combo.currentData(),
                    origin=origin,
                    offset=self.offset_spin.value(),
                    scale=self.time_scale_spin.value(),
                ),
                colormap=self.colormap_combo.currentText(),
                visible=self.visible_check.isChecked(),
            )
        except ValidationError as exc:
            reasons = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
            raise ValueError(reasons) from None

    def _validate(self) -> bool:
        if self.sim is None:
            return False
        try:
            self.overlay()
        except ValueError as exc:
            self._say(str(exc), WARN)
            self.ok_button.setEnabled(False)
            return False
        self.ok_button.setEnabled(True)
        if self.status.property("warn"):
            self._say("", MUTED)
        return True

    def accept(self) -> None:
        if self._validate():
            super().accept()

    def done(self, result: int) -> None:  # accept, reject, close: forget a reading job
        self.cancel_reading()
        super().done(result)

    def _say(self, text: str, colour: str) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {colour};")
        self.status.setProperty("warn", colour == WARN)
