"""Colouring: what colours the twin (a quantity, the worst status, a sensor field, an overlay's
residuals or a scenario's difference), the *Colour by* chooser and the legend that explains it.

*Field: <quantity>* spreads the point sensors of a quantity over the surface
(:mod:`twinviewer.session.field`); *Data > Colour by > Field method* says how. The field's
weights are built once per quantity and method, when first chosen; every frame after that is
one sparse product and an array copy into the scene."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QApplication, QComboBox, QLabel, QMenu, QWidget

from twinviewer.core.compare import DIFFERENCE_SCALE, difference_table
from twinviewer.core.fidelity import residual_table
from twinviewer.core.field import METHOD_LABELS, METHODS
from twinviewer.predict.health import HEALTH_TABLE
from twinviewer.session import TwinSession
from twinviewer.session.field import FieldBook, SensorField
from twinviewer.ui.feature import Feature

if TYPE_CHECKING:
    from twinviewer.ui.main_window import QtMainWindow

ALL_SENSORS = "Worst status (all sensors)"
RESIDUAL = "\x00residual"  # combo data of the residual entry (no quantity has this name)
DIFFERENCE = "\x00difference"
HEALTH = "\x00health"
HEALTH_LABEL = "Health index (prediction)"
FIELD = "\x00field:"  # combo data of a field entry: FIELD + quantity


class ColouringFeature(Feature):
    name = "colouring"

    def __init__(self, host: QtMainWindow) -> None:
        super().__init__(host)
        self._kept: list[QAction] = []  # the menu's actions, kept alive here
        self.combo = QComboBox()
        self.combo.setMinimumWidth(160)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.combo.setToolTip("What colours the model")
        self.combo.activated.connect(self._on_combo)
        self.menu = host.menu("Data/Colour by")
        self.book: FieldBook | None = None
        self.field: SensorField | None = None  # the field drawn now
        wb = self.workbench
        wb.events.active_quantity.connect(self._on_quantity)
        wb.events.field_quantity.connect(self._on_field)
        wb.events.field_method.connect(self._on_field)
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
        if isinstance(data, str) and data.startswith(FIELD):
            self.choose_field(data[len(FIELD) :])
            return
        self.choose(data)

    def choose_health(self) -> None:
        """Colour components by the health index of the trained models."""
        wb = self.workbench
        wb.residual = False
        wb.field_quantity = None
        if wb.comparison is not None and wb.comparison.mode == "difference":
            wb.comparison = None
        wb.health_colours = True

    def choose_field(self, quantity: str) -> None:
        """Colour by the field of ``quantity``'s point sensors (its quantity made active, so
        that the markers and the legend share the field's scale)."""
        wb = self.workbench
        wb.residual = False
        wb.health_colours = False
        if wb.comparison is not None and wb.comparison.mode == "difference":
            wb.comparison = None
        wb.active_quantity = quantity
        wb.field_quantity = quantity

    def choose_method(self, method: str) -> None:
        self.workbench.field_method = method  # type: ignore[assignment]

    def choose(self, quantity: str | None) -> None:
        """Colour by ``quantity`` (``None``: worst status), leaving residual or difference."""
        wb = self.workbench
        wb.residual = False
        wb.health_colours = False
        wb.field_quantity = None
        if wb.comparison is not None and wb.comparison.mode == "difference":
            wb.comparison = None
        wb.active_quantity = quantity

    # -- the model shown -------------------------------------------------------------------------
    def _on_quantity(self, quantity: str | None) -> None:
        wb = self.workbench
        if wb.field_quantity is not None and quantity != wb.field_quantity:
            wb.field_quantity = None  # another quantity chosen elsewhere (a tour step)
        s = self.session
        if s is None:
            return
        if s.active_quantity != quantity:
            s.set_active_quantity(quantity)
        self._fill()
        self.host.redraw()
        self.host.refresh_panels()

    def _on_mode(self, *_: object) -> None:
        wb = self.workbench
        if wb.field_quantity is not None and (self._override() or wb.health_colours):
            wb.field_quantity = None  # residual, difference or health colours replace it
        if self.session is not None:
            self._fill()

    def _on_field(self, *_: object) -> None:
        """Build (or take from the cache) the chosen field and put it on the scene."""
        s = self.session
        scene = self.host.view.scene
        wb = self.workbench
        self.field = None
        scene.clear_point_field()
        if s is not None and self.book is not None and wb.field_quantity is not None:
            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                self.field = self.book.field(wb.field_quantity, wb.field_method)
            except ValueError as exc:
                self.host.error("Field", str(exc))
            finally:
                QApplication.restoreOverrideCursor()
            f = self.field
            if f is not None:
                values = f.values(s.shown_value)
                scene.set_point_field(
                    f.points, f.triangles, f.components, values, f.table, f.lo, f.hi
                )
        if s is not None:
            self._fill()
            self.host.redraw()

    def _entries(self, s: TwinSession) -> list[tuple[str, str | None]]:
        out: list[tuple[str, str | None]] = [(ALL_SENSORS, None)]
        for q in s.quantities():
            out.append((f"{q.replace('_', ' ').capitalize()} [{s.unit_of(q)}]", q))
        for q in self.book.quantities() if self.book is not None else []:
            out.append((f"Field: {q.replace('_', ' ')} [{s.unit_of(q)}]", FIELD + q))
        return out

    def _current(self) -> str | None:
        """The combo data of what colours the twin now (without an override)."""
        wb = self.workbench
        if wb.field_quantity is not None and self.field is not None:
            return FIELD + wb.field_quantity
        if wb.health_colours and self.session is not None and self.session.prediction is not None:
            return HEALTH
        return wb.active_quantity

    def _action(self, menu: QMenu, label: str) -> QAction:
        """A new action at the end of ``menu``, made and kept here: after ``menu.clear()``,
        ``QMenu.addAction(text)`` may return a stale wrapper of a deleted object (a flaky
        ``QSurface`` in CI), as the recent-files menu once did."""
        act = QAction(label, menu)
        menu.addAction(act)
        self._kept.append(act)
        return act

    def _fill(self) -> None:
        """The chooser and the menu list the quantities and show what colours the twin now."""
        s = self.session
        self.combo.clear()
        self.menu.clear()
        self._kept = []
        if s is None:
            return
        wb = self.workbench
        group = QActionGroup(self.menu)
        current = self._current()
        for label, q in self._entries(s):
            self.combo.addItem(label, q)
            act = self._action(self.menu, label)
            act.setCheckable(True)
            act.setChecked(q == current and not self._override())
            if q is not None and q.startswith(FIELD):
                act.triggered.connect(lambda _=False, q=q: self.choose_field(q[len(FIELD) :]))
            else:
                act.triggered.connect(lambda _=False, q=q: self.choose(q))
            group.addAction(act)
        if s.prediction is not None:
            self.combo.addItem(HEALTH_LABEL, HEALTH)
            act = self._action(self.menu, HEALTH_LABEL)
            act.setCheckable(True)
            act.setChecked(wb.health_colours and not self._override())
            act.triggered.connect(lambda _=False: self.choose_health())
            group.addAction(act)
        if self.book is not None and self.book.quantities():
            methods = self.menu.addMenu("Field method")
            method_group = QActionGroup(methods)
            for m in METHODS:
                act = self._action(methods, METHOD_LABELS[m].capitalize())
                act.setCheckable(True)
                act.setChecked(m == wb.field_method)
                act.triggered.connect(lambda _=False, m=m: self.choose_method(m))
                method_group.addAction(act)
        mode = self._override()
        if mode is not None:
            self.combo.addItem(mode[0], mode[1])
            current = mode[1]
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
        elif self.field is not None:
            f = self.field
            scene.set_legend(f.title, f.table, f.lo, f.hi)
            scene.set_status_legend(s.status_legend())
        elif legend is None:
            scene.set_legend(None)
            scene.set_status_legend([])
        else:
            scene.set_legend(legend.title, legend.table, legend.lo, legend.hi)
            scene.set_status_legend(s.status_legend())
        self.host.view.request_render()

    # -- hooks -----------------------------------------------------------------------------------
    def frame(self, t: float, live: bool) -> None:
        """The field follows the timeline: the values shown now through the cached weights."""
        s = self.session
        if s is not None and self.field is not None and not self._override():
            self.host.view.scene.set_point_field_values(self.field.values(s.shown_value))

    def opened(self, session: TwinSession) -> None:
        self.book = FieldBook(session)
        self.field = None
        self.combo.setEnabled(True)
        if self.workbench.active_quantity != session.active_quantity:
            self.workbench.active_quantity = session.active_quantity
        else:
            self._fill()

    def closed(self) -> None:
        self.book = None
        self.field = None
        self.combo.clear()
        self.menu.clear()
        self.combo.setEnabled(False)
