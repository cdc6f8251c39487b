"""Colouring: what colours the twin (a quantity, the worst status, an overlay's residuals or a
scenario's difference), the *Colour by* chooser and the legend that explains it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QActionGroup
from PySide6.QtWidgets import QComboBox, QLabel, QWidget

from twinviewer.core.compare import DIFFERENCE_SCALE, difference_table
from twinviewer.core.fidelity import residual_table
from twinviewer.predict.health import HEALTH_TABLE
from twinviewer.session import TwinSession
from twinviewer.ui.feature import Feature

if TYPE_CHECKING:
    from twinviewer.ui.main_window import QtMainWindow

ALL_SENSORS = "Worst status (all sensors)"
RESIDUAL = "\x00residual"  # combo data of the residual entry (no quantity has this name)
DIFFERENCE = "\x00difference"
HEALTH = "\x00health"
HEALTH_LABEL = "Health index (prediction)"


class ColouringFeature(Feature):
    name = "colouring"

    def __init__(self, host: QtMainWindow) -> None:
        super().__init__(host)
        self.combo = QComboBox()
        self.combo.setMinimumWidth(160)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.combo.setToolTip("What colours the model")
        self.combo.activated.connect(self._on_combo)
        self.menu = host.menu("Data/Colour by")
        wb = self.workbench
        wb.events.active_quantity.connect(self._on_quantity)
        events = (wb.events.residual, wb.events.current_overlay, wb.events.comparison)
        for event in (*events, wb.events.health_colours):
            event.connect(self._on_mode)

    def submenus(self) -> list[str]:
        return ["Data/Colour by"]

    def toolbar_widgets(self) -> list[QWidget]:
        return [QLabel(" Colour by: "), self.combo]

    # -- intent ----------------------------------------------------------------------------------
    def _on_combo(self, index: int) -> None:
        data = self.combo.itemData(index)
        if data in (RESIDUAL, DIFFERENCE):
            return
        if data == HEALTH:
            self.choose_health()
            return
        self.choose(data)

    def choose_health(self) -> None:
        """Colour components by the health index of the trained models."""
        wb = self.workbench
        wb.residual = False
        if wb.comparison is not None and wb.comparison.mode == "difference":
            wb.comparison = None
        wb.health_colours = True

    def choose(self, quantity: str | None) -> None:
        """Colour by ``quantity`` (``None``: worst status), leaving residual or difference."""
        wb = self.workbench
        wb.residual = False
        wb.health_colours = False
        if wb.comparison is not None and wb.comparison.mode == "difference":
            wb.comparison = None
        wb.active_quantity = quantity

    # -- the model shown -------------------------------------------------------------------------
    def _on_quantity(self, quantity: str | None) -> None:
        s = self.session
        if s is None:
            return
        if s.active_quantity != quantity:
            s.set_active_quantity(quantity)
        self._fill()
        self.host.redraw()
        self.host.refresh_panels()

    def _on_mode(self, *_: object) -> None:
        if self.session is not None:
            self._fill()

    def _entries(self, s: TwinSession) -> list[tuple[str, str | None]]:
        out: list[tuple[str, str | None]] = [(ALL_SENSORS, None)]
        for q in s.quantities():
            out.append((f"{q.replace('_', ' ').capitalize()} [{s.unit_of(q)}]", q))
        return out

    def _fill(self) -> None:
        """The chooser and the menu list the quantities and show what colours the twin now."""
        s = self.session
        self.combo.clear()
        self.menu.clear()
        if s is None:
            return
        wb = self.workbench
        group = QActionGroup(self.menu)
        for label, q in self._entries(s):
            self.combo.addItem(label, q)
            act = self.menu.addAction(label)
            act.setCheckable(True)
            act.setChecked(q == wb.active_quantity and not self._override())
            act.triggered.connect(lambda _=False, q=q: self.choose(q))
            group.addAction(act)
        if s.prediction is not None:
            self.combo.addItem(HEALTH_LABEL, HEALTH)
            act = self.menu.addAction(HEALTH_LABEL)
            act.setCheckable(True)
            act.setChecked(wb.health_colours and not self._override())
            act.triggered.connect(lambda _=False: self.choose_health())
            group.addAction(act)
        mode = self._override()
        if mode is not None:
            self.combo.addItem(mode[0], mode[1])
        if mode is not None:
            current: str | None = mode[1]
        elif wb.health_colours and s.prediction is not None:
            current = HEALTH
        else:
            current = wb.active_quantity
        self.combo.setCurrentIndex(max(0, self.combo.findData(current)))
        self.update_legend()

    def _override(self) -> tuple[str, str] | None:
        """The residual or difference colouring that replaces the quantity's, if any."""
        wb = self.workbench
        if wb.comparison is not None and wb.comparison.mode == "difference":
            return f"Difference from scenario {wb.comparison.scenario}", DIFFERENCE
        if wb.residual and wb.current_overlay:
            return f"Residual: {wb.current_overlay}", RESIDUAL
        return None

    def update_legend(self) -> None:
        s = self.session
        if s is None:
            return
        scene = self.host.view.scene
        wb = self.workbench
        legend = s.legend()
        mode = self._override()
        if mode is not None and mode[1] == DIFFERENCE:
            assert wb.comparison is not None
            scene.set_legend(
                f"{wb.comparison.scenario} minus\nbaseline, % range",
                difference_table(),
                -100 * DIFFERENCE_SCALE,
                100 * DIFFERENCE_SCALE,
            )
            scene.set_status_legend([])
        elif mode is not None:
            tol = s.project.fidelity.tolerance
            basis = "measured" if s.project.fidelity.relative_to == "value" else "range"
            scene.set_legend(f"residual\n% of {basis}", residual_table(), 0.0, 200 * tol)
            scene.set_status_legend([])
        elif wb.health_colours and s.prediction is not None:
            scene.set_legend("health index\n(100 = normal)", HEALTH_TABLE, 0.0, 100.0)
            scene.set_status_legend([])
        elif legend is None:
            scene.set_legend(None)
            scene.set_status_legend([])
        else:
            scene.set_legend(legend.title, legend.table, legend.lo, legend.hi)
            scene.set_status_legend(s.status_legend())
        self.host.view.request_render()

    # -- hooks -----------------------------------------------------------------------------------
    def opened(self, session: TwinSession) -> None:
        self.combo.setEnabled(True)
        if self.workbench.active_quantity != session.active_quantity:
            self.workbench.active_quantity = session.active_quantity
        else:
            self._fill()

    def closed(self) -> None:
        self.combo.clear()
        self.menu.clear()
        self.combo.setEnabled(False)
