"""The 3D view: hosts a pyvistaqt ``QtInteractor`` (not a subclass) and one :class:`TwinScene`."""

from __future__ import annotations

import logging
import time
from typing import Protocol

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget
from pyvistaqt import QtInteractor

from twinviewer.render.scene import TwinScene, configure_for_software_rendering
from twinviewer.ui.widgets.sensor_drag import sensors_from

log = logging.getLogger(__name__)

CLICK_TOLERANCE_PX = 4


class ViewLayer(Protocol):
    """What the view shows instead of the twin (the fleet overview): it gets the camera moves
    and the clicks; the twin's scene gets none while a layer is set."""

    def begin_interaction(self) -> None: ...

    def end_interaction(self) -> None: ...

    def click(self, x: int, y: int) -> None: ...


class QtView3D(QWidget):
    """3D view of a twin. Renders are requested, then drawn at most once per frame.

    Signals
    -------
    componentPicked(int)
        A click (not a drag) landed on a component; -1 when it landed on nothing.
    sensorsDropped(list, int)
        Sensor rows (``SENSOR_MIME``) were dropped onto a component; -1: onto nothing.
    """

    componentPicked = Signal(int)
    sensorsDropped = Signal(list, int)

    def __init__(self, parent: QWidget | None = None, background: str = "#1e2126") -> None:
        super().__init__(parent)
        configure_for_software_rendering()
        self.interactor = QtInteractor(self, auto_update=False, multi_samples=0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.interactor)
        self._layout = layout
        self.scene = TwinScene(self.interactor, background)
        self.layer: ViewLayer | None = None  # shown instead of the twin (see ViewLayer)
        self.interactor.enable_trackball_style()
        # VTK's and pyvista's one-letter keys (q quits the render window, w turns every actor
        # to wireframe...) are not ours to offer: the window's menus own the keyboard.
        self.interactor.installEventFilter(self)
        self._dirty = False
        self.frame_ms = 0.0  # duration of the last render
        self.renders = 0
        self._press: tuple[int, int] | None = None
        # pyvista registers release observers on the interactor style, where VTK delivers them
        # (the interactor itself swallows button releases once a style is active).
        self.interactor.iren.add_observer("LeftButtonPressEvent", self._on_press)
        self.interactor.iren.add_observer("LeftButtonReleaseEvent", self._on_release)
        self.interactor.iren.add_observer("StartInteractionEvent", self._on_start_move)
        self.interactor.iren.add_observer("EndInteractionEvent", self._on_end_move)
        # One render per frame at most: requests within a frame collapse into one draw.
        self._frame = QTimer(self)
        self._frame.setSingleShot(True)
        self._frame.setInterval(0)
        self._frame.timeout.connect(self._render_now)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt naming)
        if watched is self.interactor and event.type() in (
            QEvent.Type.KeyPress,
            QEvent.Type.KeyRelease,
        ):
            return True
        if watched is self.interactor and event.type() in (
            QEvent.Type.DragEnter,
            QEvent.Type.DragMove,
            QEvent.Type.Drop,
        ):
            assert isinstance(event, QDropEvent)  # a drag enter and move are drop events too
            ids = sensors_from(event.mimeData())
            if ids:
                event.acceptProposedAction()
                if event.type() == QEvent.Type.Drop:
                    self._drop_sensors(ids, event)
                return True
        return super().eventFilter(watched, event)

    def _drop_sensors(self, ids: list[str], event: QDropEvent) -> None:
        if self.layer is not None:
            return
        pos = event.position()
        ratio = self.interactor.devicePixelRatioF()
        x = int(round(pos.x() * ratio))
        y = int(round((self.interactor.height() - 1 - pos.y()) * ratio))  # VTK's y goes up
        picked = self.scene.pick(x, y)
        self.sensorsDropped.emit(ids, -1 if picked is None else picked)

    def add_banner(self, banner: QWidget) -> None:
        """Put ``banner`` above the 3D view (a notice that takes room from the view while it
        is shown, rather than covering part of it)."""
        self._layout.insertWidget(self._layout.count() - 1, banner)

    def request_render(self) -> None:
        self._dirty = True
        if not self._frame.isActive():
            self._frame.start()

    def _render_now(self) -> None:
        if not self._dirty or not self.isVisible():
            return
        self._dirty = False
        t0 = time.perf_counter()
        self.interactor.ren_win.Render()
        self.frame_ms = (time.perf_counter() - t0) * 1000
        self.renders += 1

    def render_now(self) -> None:
        """Draw immediately (screenshots, tests)."""
        self._dirty = True
        self._render_now()

    def _on_start_move(self, obj: object, _event: str) -> None:
        (self.layer or self.scene).begin_interaction()

    def _on_end_move(self, obj: object, _event: str) -> None:
        if self.layer is not None:
            self.layer.end_interaction()
            self.request_render()
            return
        if self.scene.interacting:
            self.scene.end_interaction()
            self.request_render()  # the full-resolution frame once the camera rests

    def _on_press(self, obj: object, _event: str) -> None:
        self._press = self.interactor.iren.interactor.GetEventPosition()

    def _on_release(self, obj: object, _event: str) -> None:
        if self._press is None:
            return
        x, y = self.interactor.iren.interactor.GetEventPosition()
        px, py = self._press
        self._press = None
        if abs(x - px) <= CLICK_TOLERANCE_PX and abs(y - py) <= CLICK_TOLERANCE_PX:
            if self.layer is not None:
                self.layer.click(x, y)
                return
            picked = self.scene.pick(x, y)
            self.componentPicked.emit(-1 if picked is None else picked)

    def close_view(self) -> None:
        self._frame.stop()
        self.interactor.close()

    def screenshot(self, path: str) -> None:
        self.render_now()
        self.interactor.screenshot(path)
