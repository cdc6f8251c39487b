"""Clicks and hovers on the 3D view for the measurement tools, told apart from camera moves.

VTK delivers the mouse to the interactor; these observers sit beside the view's own (which
select a component on a click) and report, in VTK display pixels (origin bottom left):

- ``clicked(x, y)``: the left button went down and up within a few pixels (a drag turns the
  camera and is no click), ``doubleClicked(x, y)`` the second press of a double click;
- ``hovered(x, y)``: where the cursor rests, at most every ``HOVER_MS`` (picking on a software
  renderer costs real time, so hover picks are throttled, and none is made while dragging);
- ``dragStarted()``: the camera began to move (the snap marker should go).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from twinviewer.ui.view3d import CLICK_TOLERANCE_PX, QtView3D

HOVER_MS = 50


class QtViewPicker(QObject):
    clicked = Signal(int, int)
    doubleClicked = Signal(int, int)
    hovered = Signal(int, int)
    dragStarted = Signal()

    def __init__(self, view: QtView3D) -> None:
        super().__init__(view)
        self.view = view
        self.enabled = False
        self._press: tuple[int, int] | None = None
        self._double = False
        self._dragging = False
        self._at: tuple[int, int] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(HOVER_MS)
        self._timer.timeout.connect(self._hover_now)
        iren = view.interactor.iren
        self._observers = [
            iren.add_observer("LeftButtonPressEvent", self._on_press),
            iren.add_observer("LeftButtonReleaseEvent", self._on_release),
            iren.add_observer("MouseMoveEvent", self._on_move),
        ]

    def set_enabled(self, on: bool) -> None:
        self.enabled = on
        self._press = None
        self._dragging = False
        if not on:
            self._timer.stop()

    def _position(self) -> tuple[int, int]:
        x, y = self.view.interactor.iren.interactor.GetEventPosition()
        return int(x), int(y)

    def _on_press(self, *_: object) -> None:
        if not self.enabled:
            return
        self._press = self._position()
        self._double = bool(self.view.interactor.iren.interactor.GetRepeatCount())
        self._dragging = False

    def _on_release(self, *_: object) -> None:
        if not self.enabled or self._press is None:
            return
        x, y = self._position()
        px, py = self._press
        self._press = None
        if self._dragging:
            self._dragging = False
            return
        if abs(x - px) <= CLICK_TOLERANCE_PX and abs(y - py) <= CLICK_TOLERANCE_PX:
            if self._double:
                self.doubleClicked.emit(px, py)
            else:
                self.clicked.emit(px, py)

    def _on_move(self, *_: object) -> None:
        if not self.enabled:
            return
        x, y = self._position()
        if self._press is not None:
            px, py = self._press
            if abs(x - px) > CLICK_TOLERANCE_PX or abs(y - py) > CLICK_TOLERANCE_PX:
                if not self._dragging:
                    self._dragging = True
                    self._timer.stop()
                    self.dragStarted.emit()
            return
        self._at = (x, y)
        if not self._timer.isActive():
            self._timer.start()  # a throttle, not a debounce: the latest position every 50 ms

    def _hover_now(self) -> None:
        if self.enabled and self._at is not None and self._press is None:
            self.hovered.emit(*self._at)

    def close(self) -> None:
        self._timer.stop()
        iren = self.view.interactor.iren
        for tag in self._observers:
            iren.remove_observer(tag)
        self._observers = []
