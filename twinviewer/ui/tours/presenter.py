"""Presenter mode: the tour full screen for a class, with large captions.

:meth:`QtPresenter.enter` hides the docks, the toolbars, the menu bar and the status bar and
shows the window full screen with two bars of its own: a progress strip of the steps at the
top (click a step to go there) and the caption at the bottom (the step's title and caption in
large type, its question, and small controls). A laser-pointer dot follows the mouse over the
3D view (drawn by VTK in the view, so it is in screenshots and recordings; the cursor is
hidden there). Keys: Space plays, pauses or goes on from a waiting step, Right and Left go to
the next and previous step, Esc leaves presenter mode. :meth:`QtPresenter.exit` puts the
window back exactly: its state (maximised, normal), geometry and every bar and dock as shown.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

import pyvista as pv
import vtk
from PySide6.QtCore import QEvent, QObject, QPoint, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from twinviewer.core.project_tours import Tour
from twinviewer.ui.tours.player import QtTourPlayer
from twinviewer.ui.tours.quiz import QtQuizPanel

if TYPE_CHECKING:
    from twinviewer.ui.main_window import QtMainWindow

LASER_RGB = (1.0, 0.12, 0.1)
LASER_RADIUS_PX = 9.0
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)
_ITALIC = re.compile(r"\*(.+?)\*", re.DOTALL)


def caption_html(text: str) -> str:
    """A caption as rich text: ``**bold**`` and ``*italic*`` kept, the rest escaped."""
    out = html.escape(text)
    out = _BOLD.sub(r"<b>\1</b>", out)
    out = _ITALIC.sub(r"<i>\1</i>", out)
    return out.replace("\n", "<br>")


class QtProgressStrip(QWidget):
    """The steps as segments: done, the current one filling as it plays, those to come."""

    stepClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tour-progress")
        self.setMinimumHeight(30)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.titles: list[str] = []
        self.current = -1
        self.fraction = 0.0

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt naming)
        return QSize(640, 30)

    def set_steps(self, titles: list[str]) -> None:
        self.titles = list(titles)
        self.update()

    def set_position(self, current: int, fraction: float) -> None:
        if current != self.current or abs(fraction - self.fraction) > 0.01:
            self.current, self.fraction = current, min(max(fraction, 0.0), 1.0)
            tip = self.titles[current] if 0 <= current < len(self.titles) else ""
            self.setToolTip(f"Step {current + 1} of {len(self.titles)}: {tip}" if tip else "")
            self.update()

    def _segment(self, k: int) -> QRectF:
        n = max(1, len(self.titles))
        gap = 6.0
        w = (self.width() - gap * (n - 1)) / n
        return QRectF(k * (w + gap), 4.0, w, self.height() - 8.0)

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 (Qt naming)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        for k, title in enumerate(self.titles):
            r = self._segment(k)
            p.setBrush(QColor(70, 76, 86))
            p.drawRoundedRect(r, 4, 4)
            done = 1.0 if k < self.current else self.fraction if k == self.current else 0.0
            if done > 0:
                fill = QRectF(r.x(), r.y(), r.width() * done, r.height())
                p.setBrush(QColor(80, 170, 255) if k == self.current else QColor(60, 120, 180))
                p.drawRoundedRect(fill, 4, 4)
            p.setPen(QColor(255, 255, 255) if k == self.current else QColor(200, 205, 212))
            label = f"{k + 1}. {title}" if k == self.current else str(k + 1)
            metrics = p.fontMetrics()
            text = metrics.elidedText(label, Qt.TextElideMode.ElideRight, int(r.width()) - 8)
            p.drawText(r, Qt.AlignmentFlag.AlignCenter, text)
            p.setPen(Qt.PenStyle.NoPen)
        p.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt naming)
        for k in range(len(self.titles)):
            if self._segment(k).contains(event.position()):
                self.stepClicked.emit(k)
                return


class LaserPointer:
    """A red dot with a soft halo at a display position of a 3D view: VTK 2D actors in a
    renderer layer of their own above the scene's (over callouts and measurement labels)."""

    def __init__(self, renderer: vtk.vtkRenderer) -> None:
        self.main = renderer
        self.renderer: vtk.vtkRenderer | None = None
        self.actors: list[vtk.vtkActor2D] = []
        for radius, opacity in ((LASER_RADIUS_PX * 2.2, 0.28), (LASER_RADIUS_PX, 0.95)):
            disc = pv.Disc(inner=0.0, outer=radius, c_res=40)
            mapper = vtk.vtkPolyDataMapper2D()
            mapper.SetInputData(disc)
            actor = vtk.vtkActor2D()
            actor.SetMapper(mapper)
            actor.SetPickable(False)
            actor.GetProperty().SetColor(*LASER_RGB)
            actor.GetProperty().SetOpacity(opacity)
            actor.SetVisibility(False)
            self.actors.append(actor)
        self.position: tuple[float, float] | None = None

    def show(self) -> None:
        window = self.main.GetRenderWindow()
        if window is None:
            return
        if self.renderer is None:
            self.renderer = vtk.vtkRenderer()
            layer = window.GetNumberOfLayers()
            window.SetNumberOfLayers(layer + 1)
            self.renderer.SetLayer(layer)
            self.renderer.SetInteractive(False)
            for a in self.actors:
                self.renderer.AddViewProp(a)
        self.renderer.SetViewport(self.main.GetViewport())
        window.AddRenderer(self.renderer)

    def move(self, x: float, y: float) -> None:
        """To display position (x, y): VTK's pixels, origin bottom left."""
        self.position = (x, y)
        for a in self.actors:
            a.SetPosition(x, y)
            a.SetVisibility(True)

    def away(self) -> None:
        self.position = None
        for a in self.actors:
            a.SetVisibility(False)

    def hide(self) -> None:
        self.away()
        window = self.main.GetRenderWindow()
        if window is not None and self.renderer is not None:
            window.RemoveRenderer(self.renderer)


class _Saved:
    """What presenter mode changes on the window, to put back."""

    def __init__(self, host: QtMainWindow) -> None:
        self.state = host.windowState()
        self.geometry: QRect = host.geometry()
        self.menu = host.menuBar().isVisible()
        self.status = host.statusBar().isVisible()
        self.shown = [w for w in host.findChildren(QWidget) if _bar(w) and w.isVisible()]


def _bar(w: QWidget) -> bool:
    return isinstance(w, (QDockWidget, QToolBar))


class QtPresenter(QObject):
    """Presenter mode over a :class:`QtTourPlayer` (see the module doc)."""

    toggled = Signal(bool)

    def __init__(self, host: QtMainWindow, player: QtTourPlayer) -> None:
        super().__init__(host)
        self.host = host
        self.player = player
        self._saved: _Saved | None = None
        self.laser = LaserPointer(host.view.interactor.renderer)
        self.strip = QtProgressStrip()
        self.strip.stepClicked.connect(player.go_to)
        self.panel = QWidget()
        self.panel.setObjectName("tour-caption")
        self.panel.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.panel.setStyleSheet(
            "#tour-caption { background: #15181d; } "
            "#tour-caption QLabel { color: #f2f4f7; } "
            "#tour-caption QRadioButton { color: #f2f4f7; }"
        )
        lay = QVBoxLayout(self.panel)
        lay.setContentsMargins(24, 10, 24, 12)
        top = QHBoxLayout()
        self.title = QLabel()
        self.title.setStyleSheet("font-size: 24pt; font-weight: bold;")
        top.addWidget(self.title, 1)
        self.counter = QLabel()
        self.counter.setStyleSheet("font-size: 13pt; color: #aab2bd;")
        top.addWidget(self.counter)
        lay.addLayout(top)
        self.caption = QLabel()
        self.caption.setTextFormat(Qt.TextFormat.RichText)
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet("font-size: 20pt;")
        lay.addWidget(self.caption)
        self.quiz = QtQuizPanel(large=True)
        lay.addWidget(self.quiz)
        keys = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for name, text, slot in (
            ("previous", "◀  Previous", player.previous),
            ("play", "Play / pause  (Space)", player.toggle),
            ("next", "Next  ▶", player.next),
            ("return", "Return to step", player.return_to_step),
            ("exit", "Exit presenter  (Esc)", self.exit),
        ):
            b = QPushButton(text)
            b.setObjectName(f"presenter-{name}")
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space must not press the last clicked
            b.clicked.connect(lambda _=False, f=slot: f())
            keys.addWidget(b)
            self.buttons[name] = b
        keys.addStretch(1)
        self.hint = QLabel("Space play/pause · ←/→ step · Esc exit")
        self.hint.setStyleSheet("font-size: 11pt; color: #8f98a3;")
        keys.addWidget(self.hint)
        lay.addLayout(keys)
        self.top_bar: QToolBar | None = None
        self.bottom_bar: QToolBar | None = None
        player.stepChanged.connect(self._on_step)
        player.changed.connect(self._on_changed)

    @property
    def active(self) -> bool:
        return self._saved is not None

    # -- in and out ------------------------------------------------------------------------------
    def _bars(self) -> tuple[QToolBar, QToolBar]:
        if self.top_bar is None or self.bottom_bar is None:
            self.top_bar = QToolBar("Tour progress", self.host)
            self.top_bar.setObjectName("presenter-progress")
            self.top_bar.addWidget(self.strip)
            self.bottom_bar = QToolBar("Tour caption", self.host)
            self.bottom_bar.setObjectName("presenter-caption")
            self.bottom_bar.addWidget(self.panel)
            for bar, area in ((self.top_bar, Qt.ToolBarArea.TopToolBarArea),
                              (self.bottom_bar, Qt.ToolBarArea.BottomToolBarArea)):  # fmt: skip
                bar.setMovable(False)
                bar.setFloatable(False)
                bar.toggleViewAction().setVisible(False)
                self.host.addToolBarBreak(area)
                self.host.addToolBar(area, bar)
                bar.hide()
        return self.top_bar, self.bottom_bar

    def enter(self) -> None:
        if self._saved is not None or self.player.tour is None:
            return
        host = self.host
        top, bottom = self._bars()
        self._saved = _Saved(host)
        for w in self._saved.shown:
            w.hide()
        host.menuBar().hide()
        host.statusBar().hide()
        self._fill(self.player.tour)
        top.show()
        bottom.show()
        host.showFullScreen()
        self.laser.show()
        view = host.view.interactor
        view.setMouseTracking(True)
        view.installEventFilter(self)
        view.setCursor(Qt.CursorShape.BlankCursor)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self._on_step(self.player.index)
        host.view.request_render()
        self.toggled.emit(True)

    def exit(self) -> None:
        saved, self._saved = self._saved, None
        if saved is None:
            return
        host = self.host
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        view = host.view.interactor
        view.removeEventFilter(self)
        view.unsetCursor()
        self.laser.hide()
        for bar in (self.top_bar, self.bottom_bar):
            if bar is not None:
                bar.hide()
        host.setWindowState(saved.state)
        if not saved.state & (Qt.WindowState.WindowFullScreen | Qt.WindowState.WindowMaximized):
            host.setGeometry(saved.geometry)
        host.menuBar().setVisible(saved.menu)
        host.statusBar().setVisible(saved.status)
        for w in saved.shown:
            w.show()
        host.view.request_render()
        self.toggled.emit(False)

    # -- what it shows ---------------------------------------------------------------------------
    def _fill(self, tour: Tour) -> None:
        self.strip.set_steps([s.title for s in tour.steps])

    def _on_step(self, k: int) -> None:
        tour = self.player.tour
        if tour is None or k < 0:
            return
        self._fill(tour)
        step = tour.steps[k]
        self.title.setText(step.title)
        self.caption.setText(caption_html(step.caption))
        self.caption.setVisible(bool(step.caption))
        self.counter.setText(f"Step {k + 1} of {len(tour.steps)}")
        self.update_position()

    def _on_changed(self) -> None:
        self.buttons["return"].setVisible(self.player.left)
        self.update_position()

    def update_position(self) -> None:
        plan = self.player.plan
        k = self.player.index
        if plan is None or k < 0:
            return
        timing = plan.timings[k]
        span = timing.end - timing.start
        done = 1.0 if span <= 0 else (self.player.t - timing.start) / span
        if self.player.holding:
            done = 1.0
        self.strip.set_position(k, done)

    # -- keys and the laser ----------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt naming)
        kind = event.type()
        if kind == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            return self._key(event)
        if watched is self.host.view.interactor:
            if kind == QEvent.Type.MouseMove and isinstance(event, QMouseEvent):
                self._point(event.position().toPoint())
            elif kind == QEvent.Type.Leave:
                self.laser.away()
                self.host.view.request_render()
        return False

    def _key(self, event: QKeyEvent) -> bool:
        window = QApplication.activeWindow()
        if window is not None and window is not self.host:
            return False  # a dialog over the window keeps its keys
        key = event.key()
        if key == Qt.Key.Key_Space:
            self.player.toggle()
        elif key == Qt.Key.Key_Right:
            self.player.next()
        elif key == Qt.Key.Key_Left:
            self.player.previous()
        elif key == Qt.Key.Key_Escape:
            self.exit()
        else:
            return False
        return True

    def _point(self, at: QPoint) -> None:
        view = self.host.view.interactor
        ratio = view.devicePixelRatioF()
        x = at.x() * ratio
        y = (view.height() - at.y()) * ratio
        self.laser.move(float(x), float(y))
        self.host.view.request_render()

    @property
    def laser_at(self) -> tuple[float, float] | None:
        return self.laser.position
