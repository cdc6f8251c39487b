"""The workbench window: a host for feature modules.

It owns the layout (a start page or the 3D view, docks, toolbars, status bar), the GUI-thread
frame timer, opening and closing a twin, and the window's settings. Everything a user does with
an open twin lives in a feature (``ui/<feature>/``, registered in :mod:`twinviewer.ui.features`)
that declares its docks and actions; the host builds them and calls the features' hooks.
"""

from __future__ import annotations

import logging
import time
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QWidget,
)

from twinviewer.core.workbench import Workbench
from twinviewer.session.headless import apply_pose
from twinviewer.ui.actions import QtActions
from twinviewer.ui.feature import ActionSpec, DockSpec, Feature
from twinviewer.ui.features import FEATURES
from twinviewer.ui.kept_view import KeptView
from twinviewer.ui.layout import DockLayout, fit_to_screen, scrolled
from twinviewer.ui.loader import QtTwinLoader, start_services
from twinviewer.ui.status import QtStatus
from twinviewer.ui.view3d import QtView3D
from twinviewer.ui.welcome import QtWelcome

if TYPE_CHECKING:
    from twinviewer.session import TwinSession

log = logging.getLogger(__name__)

FRAME_MS = 50  # live colouring: drain, recolour and draw at most 20 times a second
PANEL_MS = 500  # tree icons, inspector, status bar: twice a second is plenty for reading
MAX_RECENT = 10
F = TypeVar("F", bound=Feature)


class QtMainWindow(QMainWindow):
    """The workbench. Owns the open :class:`TwinSession` and the GUI-thread frame timer."""

    sessionOpened = Signal(object)

    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or QSettings()
        self.workbench = Workbench()
        self.session: TwinSession | None = None
        self._loader: QtTwinLoader | None = None
        self._last_update = 0.0
        self._time_dirty = False
        self._open_args: dict[str, Any] = {}
        self._reopening: KeptView | None = None
        self.setWindowTitle("TwinViewer")
        self.resize(1600, 1000)

        self.view = QtView3D(self)
        self.welcome = QtWelcome(self)
        self.stack = QStackedWidget(self)
        self.welcome_page = scrolled(
            self.welcome, across=True
        )  # a small window scrolls the start page
        self.stack.addWidget(self.welcome_page)
        self.split = QSplitter(Qt.Orientation.Horizontal, self)  # room for a second view
        self.split.addWidget(self.view)
        self.stack.addWidget(self.split)
        self.setCentralWidget(self.stack)
        self.status = QtStatus(self)

        self.toolbar = QToolBar("Main", self)
        self.toolbar.setObjectName("main-toolbar")
        self.toolbar.setMovable(False)
        self.addToolBar(self.toolbar)
        self.choosers = QToolBar("Display", self)  # the View and Colour by choosers
        self.choosers.setObjectName("display-toolbar")
        self.choosers.setMovable(False)
        self.addToolBar(self.choosers)
        self._toolbar_break = False
        self.registry = QtActions(self, self.toolbar)
        self.layout_ = DockLayout(self)
        self.features: dict[str, Feature] = {}
        for cls in FEATURES:
            self.add_feature(cls(self))
        self.registry.add(self._layout_actions(), "host")
        for feature in self.features.values():
            feature.hosted()

        tl = self.workbench.timeline
        tl.changed.connect(self._on_time_changed)
        tl.live_changed.connect(self._on_live_changed)
        self.frame_timer = QTimer(self)
        self.frame_timer.setInterval(FRAME_MS)
        self.frame_timer.timeout.connect(self.tick)
        self.panel_timer = QTimer(self)
        self.panel_timer.setInterval(PANEL_MS)
        self.panel_timer.timeout.connect(self.refresh_panels)
        self._set_loaded(False)

    # -- the feature registry --------------------------------------------------------------------
    def add_feature(self, feature: Feature) -> None:
        """Host ``feature``: its docks, actions and toolbar widgets, in registration order."""
        self.features[feature.name] = feature
        for spec in feature.docks():
            self.add_dock(spec)
        self.registry.add(feature.actions(), feature.name)
        for path in feature.submenus():
            self.registry.menu(path)
        for widget in feature.toolbar_widgets():
            self.choosers.addWidget(widget)

    def feature(self, kind: type[F]) -> F:
        """The hosted feature of class ``kind``."""
        found = self.features[kind.name]
        assert isinstance(found, kind)
        return found

    def add_dock(self, spec: DockSpec) -> QDockWidget:
        dock = self.layout_.add(spec)
        if spec.view_menu:
            self.registry.menu("View/Panels").addAction(dock.toggleViewAction())
        return dock

    def dock(self, title: str) -> QDockWidget:
        return self.layout_.docks[title]

    def action(self, action_id: str) -> QAction:
        return self.registry[action_id]

    def menu(self, path: str) -> QMenu:
        return self.registry.menu(path)

    # -- layout ---------------------------------------------------------------------------------
    def _layout_actions(self) -> list[ActionSpec]:
        return [
            ActionSpec(
                "view.reset_layout",
                "&Reset layout",
                self.reset_layout,
                "View",
                "layout",
                tip="Put every panel back where it starts and fit the window to the screen",
                needs_twin=False,
            )
        ]

    def reset_layout(self) -> None:
        """Every dock back in its default place and size; the window within the screen."""
        self.layout_.reset(self.session is not None)
        fit_to_screen(self, (1600, 1000))
        self.layout_.resize_docks()

    # -- time -------------------------------------------------------------------------------------
    def _on_time_changed(self, *_: object) -> None:
        # While live the time follows the clock every frame; only a scrub needs a redraw.
        self._time_dirty = not self.workbench.timeline.live

    def _on_live_changed(self, live: bool) -> None:
        self._time_dirty = not live
        if live:
            self._last_update = 0.0  # back to live: redraw at the next frame

    def _set_loaded(self, loaded: bool) -> None:
        self.registry.set_twin_open(loaded)
        self.stack.setCurrentWidget(self.split if loaded else self.welcome_page)
        self.layout_.set_twin_shown(loaded)

    # -- opening ----------------------------------------------------------------------------------
    def open_project(
        self,
        path: Path | str,
        speed: float | None = None,
        sources: list[str] | None = None,
        history: str | None = None,
    ) -> None:
        """Load in the background; the window stays responsive and shows progress.

        ``speed`` overrides the simulated feed's speed (simulated seconds per second);
        ``sources`` starts exactly these sources (ids or types) instead of the enabled ones;
        ``history`` is a PostgreSQL URL that replaces the project's history store.
        """
        path = Path(path)
        self._open_args = {"speed": speed, "sources": sources, "history": history}
        if self._loader is not None and self._loader.isRunning():
            return
        self.status.begin(f"Opening {path}…")
        loader = QtTwinLoader(path, self)
        loader.progressed.connect(self.status.progressed)
        loader.loaded.connect(self._on_loaded)
        loader.failed.connect(self.error)
        loader.finished.connect(self.status.end)
        self._loader = loader
        loader.start()

    def show_session(self, session: TwinSession) -> None:
        """Show a twin opened before the window (``twinviewer open`` on a simulation result,
        read first so that a broken one ends the command with its error)."""
        self._open_args = {}
        self._on_loaded(session)

    def reopen(self, message: str = "") -> None:
        """Open the current twin again with the same options (after its file changed), as the
        user left it: the docks where they were, the camera, the selection; ``message`` in the
        status bar once it is open."""
        s = self.session
        if s is None:
            return
        self._reopening = KeptView.of(self, s, message)
        self.open_project(s.path, **self._open_args)

    @property
    def time_zone(self) -> tzinfo | None:
        """The open project's time zone (``display.timezone``); ``None``: the computer's."""
        zone = self.session.project.display.timezone if self.session is not None else None
        return ZoneInfo(zone) if zone else None

    @property
    def speed(self) -> float | None:
        """The simulated feed's speed the twin was opened with (``None``: the project's)."""
        return self._open_args.get("speed")

    def wait_loaded(self, timeout_ms: int = 60000) -> bool:
        """Block until the background load finished (tests, scripted use)."""
        if self._loader is None:
            return self.session is not None
        return self._loader.wait(timeout_ms)

    def error(self, title: str, message: str) -> None:
        """Tell the user something failed, in a dialog that does not block (and the log)."""
        self.statusBar().showMessage(title, 10000)
        log.error("%s: %s", title, message)
        box = QMessageBox(QMessageBox.Icon.Critical, title, message, parent=self)
        box.setObjectName("load-error")
        box.open()  # not exec(): tests and scripts must not block on it

    def _on_loaded(self, session: TwinSession) -> None:
        self.close_session()
        self.session = session
        self.view.scene.set_caption("title", session.project.name, "upper_left", 16)
        self.view.scene.show_model(session.model)
        self.view.scene.show_markers(session.sensor_positions()[1])
        self.setWindowTitle(f"{session.project.name} — TwinViewer")
        self.status.show_model(session)
        self._set_loaded(True)
        self.layout_.apply_default_once()
        start_services(session, self._open_args, self.error)
        self.session_start = time.time()  # an overlay's "session" origin
        self.workbench.twin = session
        for feature in self.features.values():
            feature.opened(session)
        session.start_sources()
        self.tick(force=True)
        self.refresh_panels()
        self.frame_timer.start()
        self.panel_timer.start()
        self.statusBar().showMessage(f"Opened {session.path}", 5000)
        kept, self._reopening = self._reopening, None
        if kept is not None:
            kept.restore(self, session)
        self.sessionOpened.emit(session)

    def close_session(self) -> None:
        self.frame_timer.stop()
        self.panel_timer.stop()
        if self.session is not None:
            for feature in reversed(self.features.values()):
                feature.closed()
            self.session.close()
            self.view.scene.clear_model()
            self.view.scene.set_legend(None)
            self.view.scene.set_status_legend([])
        self.session = None
        self.workbench.reset()
        self.setWindowTitle("TwinViewer")
        self.status.clear()
        self._set_loaded(False)

    # -- the frame --------------------------------------------------------------------------------
    def tick(self, force: bool = False) -> None:
        """Drain the sources, recolour, and ask for one render. Runs on the GUI thread."""
        s = self.session
        if s is None:
            return
        taken = s.drain()
        now = time.time()
        tl = self.workbench.timeline
        if s.history is not None and s.sources:
            tl.extend(now)  # the live edge is now; recording never stops while scrubbing
        if tl.live:
            # Colours change without data too (a sensor goes stale): refresh at least once a second.
            if not (taken or force or now - self._last_update >= 1.0):
                return
            self._last_update = now
            s.update(now)
        elif s.history is not None:
            # Scrubbing or replaying: the timeline only sets the time; the frame draws the latest
            # time once, so a fast drag or a 10,000x replay drops frames instead of lagging.
            if not (self._time_dirty or force):
                return
            self._time_dirty = False
            value, times = s.history.at(tl.current)
            s.update(tl.current, value, times)
        apply_pose(self.view.scene, s)  # parts moved by motion: follow the values shown
        self.view.scene.set_component_colours(s.component_rgba)
        idx, _ = s.sensor_positions()
        if len(idx):
            self.view.scene.set_marker_colours(s.sensor_rgba[idx])
        t = now if tl.live else tl.current
        for feature in self.features.values():
            feature.frame(t, tl.live)
        self.view.request_render()

    def redraw(self) -> None:
        """Draw the current time again now (a colour rule or the compared run changed)."""
        self._time_dirty = True
        self.tick(force=True)

    def refresh_panels(self) -> None:
        if self.session is None:
            return
        for feature in self.features.values():
            feature.refresh()

    # -- settings ---------------------------------------------------------------------------------
    def restore_layout(self) -> None:
        """Window size as the user left it, within the screen it is on."""
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        fit_to_screen(self)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt naming)
        """The choosers go to a second toolbar row when one row cannot hold both toolbars, so
        that *Colour by* is never hidden behind an overflow arrow."""
        super().resizeEvent(event)
        need = self.toolbar.sizeHint().width() + self.choosers.sizeHint().width() + 16
        wrap = self.width() < need
        if wrap != self._toolbar_break:
            self._toolbar_break = wrap
            if wrap:
                self.insertToolBarBreak(self.choosers)
            else:
                self.removeToolBarBreak(self.choosers)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt naming)
        super().showEvent(event)
        fit_to_screen(self)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt naming)
        self.settings.setValue("window/geometry", self.saveGeometry())
        if self._loader is not None:
            self._loader.wait(10000)
        self.close_session()
        for feature in self.features.values():
            feature.shutdown()
        self.view.close_view()
        super().closeEvent(event)

    def central_views(self) -> list[QtView3D]:
        """The 3D views in the centre: the twin's, and any beside it (a scenario)."""
        return [w for w in (self.split.widget(i) for i in range(self.split.count()))
                if isinstance(w, QtView3D)]  # fmt: skip

    def add_central(self, widget: QWidget) -> None:
        self.split.addWidget(widget)
