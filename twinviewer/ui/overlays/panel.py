"""The simulation overlays dock: which overlays are shown, with what field, colour map, range
and opacity, the current overlay's time steps (a step slider that moves the timeline), and the
measured-versus-simulated table of the current one.

A passive view: the window owns the :class:`~twinviewer.sim.overlay.SimOverlay` objects; this
panel emits what the user asked for (:attr:`QtOverlayPanel.changed`) and shows the fidelity
rows the window hands it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, tzinfo

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHeaderView,
    QLabel,
    QSlider,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from twinviewer.core.colour import COLORMAPS
from twinviewer.core.fidelity import FidelitySummary
from twinviewer.ui.charts.panel import BACKGROUND, CURSOR_COLOUR, TimeAxis

MEASURED_COLOUR = QColor(90, 170, 250)
SIMULATED_COLOUR = QColor(250, 160, 60)
PASS = QColor(46, 160, 80)
FAIL = QColor(210, 50, 60)
FIDELITY_COLUMNS = ("Sensor", "Measured", "Simulated", "Error", "Relative", "")
LIST_COLUMNS = ("Show", "Overlay", "Field", "Range", "Opacity")


class QtOverlayPanel(QWidget):
    """One overlay at a time is edited: pick it, show it, choose field, range and opacity."""

    changed = Signal(str)
    """The user changed the overlay of this name (visibility, field, range or opacity)."""
    visibilityToggled = Signal(str, bool)
    """The user ticked or cleared an overlay's box in the list."""
    sensorChosen = Signal(int)
    """The user picked a row of the fidelity table: chart this project sensor."""
    colormapChosen = Signal(str, str)
    """The user chose a colour map (overlay name, colour map name)."""
    stepChosen = Signal(int)
    """The user moved the step slider to this step (0-based) of the current overlay."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._updating = False
        self.overlay_combo = QComboBox(self)
        self.overlay_combo.setToolTip("The project's simulation overlays")
        self.list = QTableWidget(0, len(LIST_COLUMNS), self)
        self.list.setObjectName("overlay-list")
        self.list.setHorizontalHeaderLabels(LIST_COLUMNS)
        self.list.verticalHeader().setVisible(False)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.list.horizontalHeader().setStretchLastSection(True)
        self.list.setMaximumHeight(110)
        self.list.setToolTip("Tick to show an overlay; pick a row to edit it below")
        self.visible = QCheckBox("Show", self)
        self.visible.setToolTip("Draw this overlay on the twin (reads the result the first time)")
        self.field_combo = QComboBox(self)
        self.field_combo.setToolTip("The field that colours the overlay")
        self.lo = QDoubleSpinBox(self)
        self.hi = QDoubleSpinBox(self)
        for box in (self.lo, self.hi):
            box.setRange(-1e12, 1e12)
            box.setDecimals(3)
            box.setKeyboardTracking(False)
        self.colormap_combo = QComboBox(self)
        self.colormap_combo.setObjectName("overlay-colormap")
        self.colormap_combo.addItems(list(COLORMAPS))
        self.colormap_combo.setToolTip("The colour map of the overlay's field")
        self.step_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.step_slider.setObjectName("overlay-step")
        self.step_slider.setPageStep(1)
        self.step_slider.setToolTip(
            "The result's time steps: moving it moves the timeline to that step's time"
        )
        self.step_label = QLabel(self)
        self.step_label.setObjectName("overlay-step-label")
        self._step_times: list[float] = []
        self.opacity = QSlider(Qt.Orientation.Horizontal, self)
        self.opacity.setRange(0, 100)
        self.opacity.setToolTip("Opacity of the overlay (the twin shows through below 100 %)")
        self.residual = QCheckBox("Colour components by their residual", self)
        self.residual.setToolTip(
            "Each component takes the worst relative error of its sensors against this overlay:\n"
            "green agrees, yellow at the tolerance, red at twice the tolerance or more"
        )
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.summary = QLabel(self)
        self.summary.setObjectName("fidelity-summary")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(FIDELITY_COLUMNS), self)
        self.table.setHorizontalHeaderLabels(FIDELITY_COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)

        grid = QGridLayout()
        grid.addWidget(QLabel("Overlay:"), 0, 0)
        grid.addWidget(self.overlay_combo, 0, 1, 1, 2)
        grid.addWidget(self.visible, 0, 3)
        grid.addWidget(QLabel("Field:"), 1, 0)
        grid.addWidget(self.field_combo, 1, 1, 1, 3)
        grid.addWidget(QLabel("Step:"), 2, 0)
        grid.addWidget(self.step_slider, 2, 1, 1, 3)
        grid.addWidget(self.step_label, 3, 1, 1, 3)
        grid.addWidget(QLabel("Colours:"), 4, 0)
        grid.addWidget(self.colormap_combo, 4, 1, 1, 3)
        grid.addWidget(QLabel("Range:"), 5, 0)
        grid.addWidget(self.lo, 5, 1)
        grid.addWidget(self.hi, 5, 2)
        grid.addWidget(QLabel("Opacity:"), 6, 0)
        grid.addWidget(self.opacity, 6, 1, 1, 3)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.list)
        lay.addLayout(grid)
        lay.addWidget(self.status)
        lay.addWidget(self.residual)
        lay.addWidget(QLabel("<b>Measured versus simulated</b>"))
        lay.addWidget(self.summary)
        lay.addWidget(self.table, 1)
        self.chart = pg.PlotWidget(self, axisItems={"bottom": TimeAxis(orientation="bottom")})
        self.chart.setBackground(BACKGROUND)
        self.chart.setMinimumHeight(150)
        self.table.setMinimumHeight(120)
        self.chart.showGrid(x=True, y=True, alpha=0.15)
        self.chart.addLegend(offset=(8, 4))
        self.measured_curve = self.chart.plot(
            [], [], pen=pg.mkPen(MEASURED_COLOUR, width=1.5), name="measured"
        )
        self.simulated_curve = self.chart.plot(
            [],
            [],
            pen=pg.mkPen(SIMULATED_COLOUR, width=2, style=Qt.PenStyle.DashLine),
            symbol="o",
            symbolSize=4,
            symbolBrush=SIMULATED_COLOUR,
            name="simulated",
        )
        self.cursor_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(CURSOR_COLOUR, width=1))
        self.chart.addItem(self.cursor_line)
        self.chart_title = QLabel(self)
        lay.addWidget(self.chart_title)
        lay.addWidget(self.chart, 1)
        self.table.currentCellChanged.connect(self._on_row)
        self.list.currentCellChanged.connect(self._on_list_row)
        self.list.itemChanged.connect(self._on_list_item)
        self._row_sensors: list[int] = []

        self.overlay_combo.currentIndexChanged.connect(lambda _i: self.changed.emit(self.current))
        self.visible.toggled.connect(self._emit)
        self.field_combo.activated.connect(self._emit)
        self.lo.valueChanged.connect(self._emit)
        self.hi.valueChanged.connect(self._emit)
        self.opacity.valueChanged.connect(self._emit)
        self.colormap_combo.activated.connect(self._emit_colormap)
        self.step_slider.valueChanged.connect(self._on_step)
        self.set_overlays([])

    # -- what the window sets ----------------------------------------------------------------
    def set_overlays(self, names: Sequence[str]) -> None:
        self._updating = True
        self.overlay_combo.clear()
        self.overlay_combo.addItems(list(names))
        self._updating = False
        for w in (
            self.overlay_combo,
            self.visible,
            self.field_combo,
            self.lo,
            self.hi,
            self.residual,
        ):
            w.setEnabled(bool(names))
        self.residual.setChecked(False)
        self.opacity.setEnabled(bool(names))
        self.colormap_combo.setEnabled(bool(names))
        self.set_steps(None)
        self.status.setText("" if names else "This project has no simulation overlays.")
        self.set_fidelity(np.zeros(0), None, [], [])
        if hasattr(self, "chart"):
            self.clear_series()

    @property
    def current(self) -> str:
        return self.overlay_combo.currentText()

    def show_settings(
        self,
        visible: bool,
        fields: Sequence[str],
        field: str,
        lo: float,
        hi: float,
        opacity: float,
    ) -> None:
        """Fill the controls for the current overlay (without echoing ``changed``)."""
        self._updating = True
        try:
            self.visible.setChecked(visible)
            self.field_combo.clear()
            self.field_combo.addItems(list(fields))
            self.field_combo.setCurrentText(field)
            self.lo.setValue(lo)
            self.hi.setValue(hi)
            self.opacity.setValue(round(opacity * 100))
        finally:
            self._updating = False

    def set_colormap(self, name: str) -> None:
        """Show the current overlay's colour map (without echoing ``colormapChosen``)."""
        self.colormap_combo.setCurrentText(name)

    @property
    def colormap(self) -> str:
        return self.colormap_combo.currentText()

    # -- the step slider ----------------------------------------------------------------------
    def set_steps(self, times: Sequence[float] | None) -> None:
        """The current overlay's step times in simulation seconds (``None``: its result is not
        read yet, the slider is off)."""
        self._step_times = [float(t) for t in times] if times is not None else []
        n = len(self._step_times)
        self.step_slider.blockSignals(True)
        self.step_slider.setRange(0, max(n - 1, 0))
        self.step_slider.setValue(0)
        self.step_slider.blockSignals(False)
        self.step_slider.setEnabled(n > 1)
        self._label_step(0)

    @property
    def step(self) -> int:
        """The step the slider is on (0-based)."""
        return self.step_slider.value()

    def show_step(self, step: int) -> None:
        """Put the slider on ``step`` (the timeline moved there) without echoing
        ``stepChosen``."""
        if not self._step_times or step == self.step_slider.value():
            return
        self.step_slider.blockSignals(True)
        self.step_slider.setValue(step)
        self.step_slider.blockSignals(False)
        self._label_step(step)

    def _label_step(self, step: int) -> None:
        n = len(self._step_times)
        if not n:
            self.step_label.setText("Show the overlay to step through its result.")
            return
        t = self._step_times[min(step, n - 1)]
        self.step_label.setText(f"step {step + 1} / {n} — t = {t:.6g} s")

    def _on_step(self, step: int) -> None:
        self._label_step(step)
        if self._step_times:
            self.stepChosen.emit(step)

    def _emit_colormap(self, *_: object) -> None:
        if not self._updating and self.current:
            self.colormapChosen.emit(self.current, self.colormap)

    def settings(self) -> tuple[bool, str, float, float, float]:
        """visible, field, lo, hi, opacity as the user set them."""
        return (
            self.visible.isChecked(),
            self.field_combo.currentText(),
            self.lo.value(),
            self.hi.value(),
            self.opacity.value() / 100.0,
        )

    def set_fidelity(
        self,
        rows: np.ndarray,
        summary: FidelitySummary | None,
        labels: Sequence[str],
        units: Sequence[str],
    ) -> None:
        """The fidelity rows (``core.fidelity.ROW_DTYPE``) of the current overlay."""
        if summary is None:
            self.summary.setText("Show an overlay to compare it with the measurements.")
        elif summary.compared == 0:
            self.summary.setText("No sensor of this overlay's quantity has both values yet.")
        else:
            ok = summary.share >= 1.0
            self.summary.setText(
                f"<span style='color:{(PASS if ok else FAIL).name()}'><b>"
                f"{summary.passed} of {summary.compared}</b></span> sensors within "
                f"{100 * summary.tolerance:g} % ({100 * summary.share:.0f} %)"
                + (
                    f"; worst: {', '.join(labels[k] for k in summary.worst[:3])}"
                    if summary.worst
                    else ""
                )
            )
        self._row_sensors = [int(k) for k in rows["sensor"]] if len(rows) else []
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            k = int(row["sensor"])
            unit = units[k] if k < len(units) else ""
            compared = bool(row["compared"])

            def num(x: float, unit: str = unit) -> str:
                return "–" if not math.isfinite(x) else f"{x:.4g} {unit}".strip()

            cells = [
                labels[k] if k < len(labels) else str(k),
                num(float(row["measured"])),
                num(float(row["simulated"])),
                num(float(row["abs_error"])) if compared else "–",
                f"{100 * row['rel_error']:.2f} %" if compared else "–",
                ("pass" if row["passed"] else "FAIL") if compared else "no data",
            ]
            for c, text in enumerate(cells):
                item = self.table.item(r, c)
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(r, c, item)
                item.setText(text)
                if c in (1, 2, 3, 4):
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if c == 5:
                    colour = PASS if row["passed"] else FAIL if compared else QColor(120, 120, 120)
                    item.setBackground(QBrush(colour))
                    item.setForeground(QBrush(QColor("white")))

    def set_series(
        self,
        title: str,
        unit: str,
        measured: tuple[np.ndarray, np.ndarray],
        simulated: tuple[np.ndarray, np.ndarray],
    ) -> None:
        """Both series of one sensor: the measured history and the simulated steps."""
        self.chart_title.setText(title)
        self.chart.setLabel("left", unit)
        self.measured_curve.setData(*measured)
        self.simulated_curve.setData(*simulated)
        self.chart.show()

    def clear_series(self) -> None:
        self.chart_title.setText("Pick a sensor in the table to chart both series.")
        self.measured_curve.setData([], [])
        self.simulated_curve.setData([], [])
        self.chart.hide()

    def set_time_zone(self, tz: tzinfo | None) -> None:
        """The chart's time axis in the project's zone (``None``: the computer's)."""
        axis = self.chart.getAxis("bottom")
        off = datetime.now(tz).utcoffset() if tz is not None else None
        axis.utcOffset = None if off is None else -off.total_seconds()
        axis.picture = None
        axis.update()

    def set_cursor(self, t: float) -> None:
        self.cursor_line.setValue(t)

    def set_overlay_rows(
        self, rows: Sequence[tuple[str, bool, str, float | None, float | None, float]]
    ) -> None:
        """The list: one row per overlay, ``(name, visible, field, lo, hi, opacity)``; range
        None before the result was read."""
        self._updating = True
        try:
            self.list.setRowCount(len(rows))
            for r, (name, visible, field, lo, hi, opacity) in enumerate(rows):
                show = QTableWidgetItem()
                show.setFlags(
                    Qt.ItemFlag.ItemIsUserCheckable
                    | Qt.ItemFlag.ItemIsEnabled
                    | Qt.ItemFlag.ItemIsSelectable
                )
                show.setCheckState(Qt.CheckState.Checked if visible else Qt.CheckState.Unchecked)
                self.list.setItem(r, 0, show)
                span = "–" if lo is None or hi is None else f"{lo:.4g} … {hi:.4g}"
                for c, text in enumerate((name, field, span, f"{100 * opacity:.0f} %"), start=1):
                    self.list.setItem(r, c, QTableWidgetItem(text))
            current = self.overlay_combo.currentIndex()
            if 0 <= current < len(rows):
                self.list.selectRow(current)
        finally:
            self._updating = False

    def _on_list_row(self, row: int, *_: object) -> None:
        if 0 <= row < self.overlay_combo.count() and row != self.overlay_combo.currentIndex():
            self.overlay_combo.setCurrentIndex(row)

    def _on_list_item(self, item: QTableWidgetItem) -> None:
        if self._updating or item.column() != 0:
            return
        name_item = self.list.item(item.row(), 1)
        if name_item is not None:
            on = item.checkState() == Qt.CheckState.Checked
            self.visibilityToggled.emit(name_item.text(), on)

    def _on_row(self, row: int, *_: object) -> None:
        if 0 <= row < len(self._row_sensors):
            self.sensorChosen.emit(self._row_sensors[row])

    def _emit(self, *_: object) -> None:
        if not self._updating and self.current:
            self.changed.emit(self.current)
