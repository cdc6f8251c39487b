"""The workbench window: 3D view, component tree, inspector, legend, status bar, menus."""

from __future__ import annotations

import logging
import math
import time
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QColor, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QWidget,
)

from twinviewer.core.alarms import Acknowledgements, AlarmLog
from twinviewer.core.colour import COLORMAPS, STATUS_COLOURS, STATUS_LABELS, Status
from twinviewer.core.compare import (
    DIFFERENCE_SCALE,
    difference_colours,
    difference_table,
    relative_difference,
)
from twinviewer.core.fidelity import residual_colours, residual_table, summarise
from twinviewer.core.timeline import Timeline
from twinviewer.formats.registry import supported_suffixes
from twinviewer.render.scene import STANDARD_VIEWS
from twinviewer.session import TwinSession
from twinviewer.ui.alarm_list import QtAlarmList
from twinviewer.ui.alarm_watcher import QtAlarmWatcher
from twinviewer.ui.charts import QtChartPanel
from twinviewer.ui.component_tree import QtComponentTree
from twinviewer.ui.inspector import QtInspector, SensorRow
from twinviewer.ui.loader import QtTwinLoader
from twinviewer.ui.overlay_panel import QtOverlayPanel
from twinviewer.ui.player import QtPlayer
from twinviewer.ui.source_panel import QtSourcePanel
from twinviewer.ui.timeline_bar import QtTimelineBar
from twinviewer.ui.view3d import QtView3D
from twinviewer.ui.welcome import QtWelcome

if TYPE_CHECKING:
    from twinviewer.sim.overlay import SimOverlay

log = logging.getLogger(__name__)

FRAME_MS = 50  # live colouring: drain, recolour and draw at most 20 times a second
PANEL_MS = 500  # tree icons, inspector, status bar: twice a second is plenty for reading
MAX_RECENT = 10
ALL_SENSORS = "Worst status (all sensors)"
ACKS_FILE = "acknowledged.json"  # in the history folder: acknowledged alarms survive a restart


def fmt_value(v: float) -> str:
    if math.isnan(v):
        return "–"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


class QtMainWindow(QMainWindow):
    """The workbench. Owns the open :class:`TwinSession` and the GUI-thread frame timer."""

    sessionOpened = Signal(object)

    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or QSettings()
        self.session: TwinSession | None = None
        self._loader: QtTwinLoader | None = None
        self._selection: list[int] = []
        self._last_update = 0.0
        self._time_dirty = False
        self._speed: float | None = None
        self._only: list[str] | None = None
        self._history_url: str | None = None
        self._tz: tzinfo | None = None  # the project's time zone (None: the computer's)
        self.setWindowTitle("TwinViewer")
        self.resize(1600, 1000)

        self.view = QtView3D(self)
        self.welcome = QtWelcome(self)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.welcome)
        self.split = QSplitter(Qt.Orientation.Horizontal, self)
        self.split.addWidget(self.view)
        self.stack.addWidget(self.split)
        self.setCentralWidget(self.stack)
        self.compare_view: QtView3D | None = None  # the scenario, beside the baseline
        self._scenario: tuple[str, Any] | None = None  # (name, its history store)
        self._compare_mode: str | None = None  # "side" or "difference"

        self.tree = QtComponentTree(self)
        self.inspector = QtInspector(self)
        self.tree_dock = self._dock("Components", self.tree, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.inspector_dock = self._dock(
            "Inspector", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea
        )
        self.charts = QtChartPanel(self)
        self.charts_dock = self._dock("Charts", self.charts, Qt.DockWidgetArea.RightDockWidgetArea)
        self.splitDockWidget(self.inspector_dock, self.charts_dock, Qt.Orientation.Vertical)
        self.extra_charts: list[QtChartPanel] = []  # more chart panels, of dragged-in sensors
        self.sources_panel = QtSourcePanel(self)
        self.sources_dock = self._dock(
            "Data sources", self.sources_panel, Qt.DockWidgetArea.BottomDockWidgetArea
        )

        self.alarm_list = QtAlarmList(self)
        self.alarms_dock = self._dock(
            "Alarms and events", self.alarm_list, Qt.DockWidgetArea.BottomDockWidgetArea
        )
        self.tabifyDockWidget(self.sources_dock, self.alarms_dock)
        self.alarms_dock.raise_()
        self.alarm_watcher = QtAlarmWatcher(self)
        self.overlay_panel = QtOverlayPanel(self)
        self.overlay_dock = self._dock(
            "Simulation", self.overlay_panel, Qt.DockWidgetArea.RightDockWidgetArea
        )
        self.overlay_dock.hide()  # tabbed with the charts once the first twin is laid out
        self.overlay_panel.changed.connect(self._on_overlay_changed)
        self.overlay_panel.residual.toggled.connect(self._on_residual_toggled)
        self.overlay_panel.sensorChosen.connect(self.chart_fidelity)
        self.overlay_panel.visibilityToggled.connect(self.show_overlay)
        self.overlay_panel.overlay_combo.currentIndexChanged.connect(
            lambda _i: self._show_overlay_settings()
        )
        self._overlays: dict[str, SimOverlay] = {}
        self._overlay_view: dict[str, dict] = {}  # name -> visible, field, lo, hi, opacity
        self._overlay_steps: dict[str, tuple[int, int, float]] = {}
        self._user_hidden = np.zeros(0, bool)
        self._session_start = 0.0
        self.alarm_watcher.changed.connect(self._on_alarms)

        self.timeline = Timeline(0.0, 0.0, live=True)
        self.player = QtPlayer(self.timeline, self)
        self.timeline_bar = QtTimelineBar(self.timeline, self.player, parent=self)
        self.timeline_bar.stepRequested.connect(self.step_sample)
        self.timeline_bar.alarmStepRequested.connect(self.step_alarm)
        self.alarm_list.jumpRequested.connect(self.jump_to)
        self.charts.bind(self.timeline)
        self.timeline.changed.connect(self._on_time_changed)
        self.timeline.live_changed.connect(self._on_live_changed)
        self._build_status_bar()
        self._build_actions()
        self._build_menus_and_toolbar()

        self.tree.selectionChanged.connect(self.select_components)
        self.tree.visibilityChanged.connect(self._on_visibility)
        self.tree.zoomRequested.connect(self._zoom_to)
        self.view.componentPicked.connect(self._on_pick)
        self.welcome.openRequested.connect(self.open_project)
        self.welcome.browseRequested.connect(self.open_dialog)

        self.frame_timer = QTimer(self)
        self.frame_timer.setInterval(FRAME_MS)
        self.frame_timer.timeout.connect(self.tick)
        self.panel_timer = QTimer(self)
        self.panel_timer.setInterval(PANEL_MS)
        self.panel_timer.timeout.connect(self.refresh_panels)
        self._set_loaded(False)
        self.welcome.set_recent(self.recent_projects())

    # -- building ------------------------------------------------------------------------------
    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.source_label = QLabel("No source")
        self.rate_label = QLabel("")
        self.clock_label = QLabel("")
        self.model_label = QLabel("")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(260)
        self.progress.setRange(0, 1000)
        self.progress.hide()
        for w in (self.source_label, self.rate_label, self.clock_label):
            bar.addWidget(w)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.model_label)

    def _action(
        self,
        text: str,
        slot: object,
        shortcut: str | QKeySequence | QKeySequence.StandardKey | None = None,
        tip: str = "",
    ) -> QAction:
        act = QAction(text, self)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        if tip:
            act.setStatusTip(tip)
        act.triggered.connect(slot)
        return act

    def _build_actions(self) -> None:
        a = self._action
        self.act_open = a(
            "&Open…",
            self.open_dialog,
            QKeySequence.StandardKey.Open,
            "Open a twin project, a model file or a folder of parts",
        )
        self.act_close = a("&Close twin", self.close_session, QKeySequence.StandardKey.Close)
        self.act_screenshot = a(
            "Save &screenshot…",
            self.screenshot_dialog,
            "Ctrl+Shift+S",
            "Save the 3D view as a PNG image",
        )
        self.act_quit = a("&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.act_fit = a("&Fit all", self.fit, "F", "Frame the visible model")
        self.act_zoom_sel = a("&Zoom to selection", lambda: self._zoom_to(self._selection), "Z")
        self.act_hide = a("&Hide selected", self.tree.hide_selected, "H")
        self.act_isolate = a("&Isolate selected", self.tree.isolate_selected, "I")
        self.act_show_all = a("Show &all", self.tree.show_all, "Shift+H")
        self.act_search = a("&Find component", self._focus_search, QKeySequence.StandardKey.Find)
        self.act_section = a(
            "&Section (clip plane)",
            self.toggle_section,
            "Ctrl+Shift+X",
            "Cut the twin and its overlays by a plane; drag the plane or its arrow to move it",
        )
        self.act_section.setCheckable(True)
        self.act_bind_opcua = a(
            "&Bind sensors to OPC UA nodes…",
            self.bind_opcua_dialog,
            "Ctrl+B",
            "Browse the OPC UA server and bind its variables to the project's sensors",
        )
        self.act_new_chart = a(
            "New &chart panel",
            self.new_chart_panel,
            "Ctrl+Shift+C",
            "Another chart panel: drag sensors onto it from the inspector or the alarm list",
        )
        self.act_compare_side = a(
            "Scenario &side by side…",
            lambda: self.compare_dialog("side"),
            "Ctrl+Shift+D",
            "A what-if scenario in a second 3D view beside the baseline, same camera and time",
        )
        self.act_compare_diff = a(
            "Scenario &difference…",
            lambda: self.compare_dialog("difference"),
            None,
            "Colour the twin by scenario minus baseline (blue lower, red higher)",
        )
        self.act_compare_stop = a("Stop comparing", self.stop_comparing)
        self.act_compare_stop.setEnabled(False)
        self.act_about = a("&About TwinViewer", self._about)
        self.act_keys = a("&Keyboard shortcuts", self._show_shortcuts, "F1")
        self.view_actions = {}
        for i, name in enumerate(STANDARD_VIEWS):
            self.view_actions[name] = a(
                f"{name.capitalize()} view",
                lambda _=False, n=name: self.standard_view(n),
                f"Ctrl+{i + 1}",
            )

    def _build_menus_and_toolbar(self) -> None:
        mb = self.menuBar()
        file_menu = mb.addMenu("&File")
        file_menu.addAction(self.act_open)
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.demo_menu = file_menu.addMenu("Open &demo twin")
        from twinviewer.demos import DEMOS, demo_project

        for name in DEMOS:
            self.demo_menu.addAction(
                self._action(
                    name.capitalize(), lambda _=False, n=name: self.open_project(demo_project(n))
                )
            )
        file_menu.addSeparator()
        file_menu.addAction(self.act_screenshot)
        file_menu.addAction(self.act_close)
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)

        view_menu = mb.addMenu("&View")
        view_menu.addAction(self.act_fit)
        view_menu.addAction(self.act_zoom_sel)
        view_menu.addSeparator()
        for act in self.view_actions.values():
            view_menu.addAction(act)
        self.saved_views_menu = view_menu.addMenu("&Saved views")
        view_menu.addSeparator()
        view_menu.addAction(self.act_hide)
        view_menu.addAction(self.act_isolate)
        view_menu.addAction(self.act_show_all)
        view_menu.addAction(self.act_search)
        view_menu.addAction(self.act_section)
        view_menu.addSeparator()
        view_menu.addAction(self.tree_dock.toggleViewAction())
        view_menu.addAction(self.inspector_dock.toggleViewAction())
        view_menu.addAction(self.sources_dock.toggleViewAction())
        view_menu.addAction(self.charts_dock.toggleViewAction())
        view_menu.addAction(self.alarms_dock.toggleViewAction())
        view_menu.addAction(self.overlay_dock.toggleViewAction())
        view_menu.addAction(self.act_new_chart)

        data_menu = mb.addMenu("&Data")
        self.quantity_menu = data_menu.addMenu("Colour by")
        data_menu.addSeparator()
        data_menu.addAction(self.act_compare_side)
        data_menu.addAction(self.act_compare_diff)
        data_menu.addAction(self.act_compare_stop)
        data_menu.addSeparator()
        data_menu.addAction(self.act_bind_opcua)

        help_menu = mb.addMenu("&Help")
        help_menu.addAction(self.act_keys)
        help_menu.addAction(self.act_about)

        tb = QToolBar("Main", self)
        tb.setObjectName("main-toolbar")
        tb.setMovable(False)
        self.addToolBar(tb)
        tb.addAction(self.act_open)
        tb.addAction(self.act_screenshot)
        tb.addSeparator()
        tb.addAction(self.act_fit)
        for name in ("iso", "top", "front", "right"):
            tb.addAction(self.view_actions[name])
        tb.addSeparator()
        tb.addWidget(QLabel(" View: "))
        self.views_combo = QComboBox(self)
        self.views_combo.setMinimumWidth(150)
        self.views_combo.setToolTip("Saved views of the project")
        self.views_combo.activated.connect(
            lambda i: self.apply_saved_view(self.views_combo.itemText(i))
        )
        tb.addWidget(self.views_combo)
        tb.addSeparator()
        tb.addWidget(QLabel(" Colour by: "))
        self.quantity_combo = QComboBox(self)
        self.quantity_combo.setMinimumWidth(220)
        self.quantity_combo.setToolTip("The quantity that colours the model")
        self.quantity_combo.activated.connect(self._on_quantity_combo)
        tb.addWidget(self.quantity_combo)
        tb.addSeparator()
        self._update_recent_menu()
        timeline_tb = QToolBar("Timeline", self)
        timeline_tb.setObjectName("timeline-toolbar")
        timeline_tb.setMovable(False)
        timeline_tb.addWidget(self.timeline_bar)
        self.addToolBar(Qt.ToolBarArea.BottomToolBarArea, timeline_tb)
        self.timeline_toolbar = timeline_tb

    def _reset_timeline(self, session: TwinSession) -> None:
        """The timeline spans what the store holds up to now, and starts live."""
        self.player.pause()
        now = time.time()
        held = session.history.time_range() if session.history is not None else None
        self.timeline.set_range(min(held[0], now) if held else now, now)
        self.timeline.go_live()
        self.timeline_toolbar.setEnabled(session.history is not None)
        self.timeline_bar.setToolTip(
            "" if session.history is not None else "No history for this model (open a project)"
        )

    def _on_time_changed(self, *_: object) -> None:
        # While live the time follows the clock every frame; only a scrub needs a redraw.
        self._time_dirty = not self.timeline.live

    def _on_live_changed(self, live: bool) -> None:
        self._time_dirty = not live
        if live:
            self._last_update = 0.0  # back to live: redraw at the next frame

    def _set_loaded(self, loaded: bool) -> None:
        for act in (
            self.act_close,
            self.act_screenshot,
            self.act_fit,
            self.act_zoom_sel,
            self.act_hide,
            self.act_isolate,
            self.act_show_all,
            self.act_section,
            *self.view_actions.values(),
        ):
            act.setEnabled(loaded)
        self.views_combo.setEnabled(loaded)
        has_opcua = bool(
            loaded and self.session and any(c.type == "opcua" for c in self.session.project.sources)
        )
        self.act_bind_opcua.setEnabled(has_opcua)
        self.quantity_combo.setEnabled(loaded)
        self.stack.setCurrentWidget(self.split if loaded else self.welcome)
        self.act_compare_side.setEnabled(loaded)
        self.act_compare_diff.setEnabled(loaded)
        self.tree_dock.setVisible(loaded)
        self.inspector_dock.setVisible(loaded)
        self.sources_dock.setVisible(loaded)
        self.charts_dock.setVisible(loaded)
        self.alarms_dock.setVisible(loaded)
        self.timeline_toolbar.setVisible(loaded)

    # -- opening -------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        patterns = " ".join(f"*{s}" for s in [".twin.yaml", *supported_suffixes()])
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Open twin project or model",
            str(Path.cwd()),
            f"Twin projects and models ({patterns});;All files (*)",
        )
        if path:
            self.open_project(Path(path))

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
        self._speed = speed
        self._only = sources
        self._history_url = history
        if self._loader is not None and self._loader.isRunning():
            return
        self.statusBar().showMessage(f"Opening {path}…")
        self.progress.setValue(0)
        self.progress.show()
        loader = QtTwinLoader(path, self)
        loader.progressed.connect(self._on_progress)
        loader.loaded.connect(self._on_loaded)
        loader.failed.connect(self._on_failed)
        loader.finished.connect(self.progress.hide)
        self._loader = loader
        loader.start()

    def wait_loaded(self, timeout_ms: int = 60000) -> bool:
        """Block until the background load finished (tests, scripted use)."""
        if self._loader is None:
            return self.session is not None
        return self._loader.wait(timeout_ms)

    def _on_progress(self, fraction: float, text: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        self.progress.setFormat(f"{text} %p%")

    def _on_failed(self, title: str, message: str) -> None:
        self.statusBar().showMessage(title, 10000)
        log.error("%s: %s", title, message)
        box = QMessageBox(QMessageBox.Icon.Critical, title, message, parent=self)
        box.setObjectName("load-error")
        box.open()  # not exec(): tests and scripts must not block on it

    def _on_loaded(self, session: TwinSession) -> None:
        self.close_session()
        self.session = session
        self.add_recent(session.path)
        model = session.model
        scene = self.view.scene
        scene.set_caption("title", session.project.name, "upper_left", 16)
        scene.show_model(model)
        idx, pos = session.sensor_positions()
        scene.show_markers(pos)
        counts = np.bincount(session.binding.colouring.pair_component, minlength=model.n_components)
        self.tree.set_model(model, counts)
        self._fill_views()
        self._fill_quantities()
        self.setWindowTitle(f"{session.project.name} — TwinViewer")
        warn = f", {len(model.warnings)} warnings" if model.warnings else ""
        self.model_label.setText(
            f"{model.n_components:,} components · {model.n_triangles:,} triangles · "
            f"{len(session.sensors)} sensors{warn}"
        )
        self._set_loaded(True)
        self.resizeDocks(
            [self.tree_dock, self.inspector_dock], [290, 470], Qt.Orientation.Horizontal
        )
        self.resizeDocks([self.sources_dock], [110], Qt.Orientation.Vertical)
        self.resizeDocks(
            [self.inspector_dock, self.charts_dock], [330, 560], Qt.Orientation.Vertical
        )
        if not self.tabifiedDockWidgets(self.charts_dock):
            # tabbing docks before the window is laid out leaves a stray tab bar behind (Qt)
            self.tabifyDockWidget(self.charts_dock, self.overlay_dock)
            self.overlay_dock.show()
            self.charts_dock.raise_()
        if session.project.views:
            self.apply_saved_view(session.project.views[0].name)
        else:
            scene.standard_view("iso")
        try:
            session.history_url = self._history_url
            session.open_history()
        except Exception as exc:  # recording is worth having, not worth refusing the twin for
            log.exception("history store of %s", session.path)
            self._on_failed(
                "History is not recorded", f"The history store could not be opened: {exc}"
            )
        self._reset_timeline(session)
        self._start_alarms(session)
        for panel in self.chart_panels():
            panel.set_catalogue(session.sensors)
            panel.set_source(session.history.series if session.history is not None else None)
        try:
            session.sources = session.create_sources(self._speed, self._only)
        except (ValueError, ImportError) as exc:
            self._on_failed("The data sources could not be started", str(exc))
        self._session_start = time.time()  # an overlay's "session" origin
        self._start_overlays(session)
        session.start_sources()
        self.tick(force=True)
        self.refresh_panels()
        self.frame_timer.start()
        self.panel_timer.start()
        self.statusBar().showMessage(f"Opened {session.path}", 5000)
        self.sessionOpened.emit(session)

    def close_session(self) -> None:
        self.frame_timer.stop()
        self.panel_timer.stop()
        self.stop_comparing()
        if self.act_section.isChecked():
            self.toggle_section(False)
        self.alarm_watcher.stop()
        self.alarm_list.clear()
        for name in list(self._overlays):
            self.view.scene.clear_overlay(name)
            self.view.scene.clear_overlay(f"{name}:mesh")
            self.view.scene.clear_glyphs(name)
        self._overlays, self._overlay_view, self._overlay_steps = {}, {}, {}
        self.overlay_panel.set_overlays([])
        self.timeline_bar.set_markers([])
        if self.session is not None:
            self.session.close()
            self.view.scene.clear_model()
            self.view.scene.set_legend(None)
            self.view.scene.set_status_legend([])
        self.session = None
        self.player.pause()
        for panel in self.chart_panels():
            panel.set_source(None)
            panel.set_catalogue([])
        self._selection = []
        self.inspector.clear()
        self.tree.tree.clear()
        self.setWindowTitle("TwinViewer")
        self.source_label.setText("No source")
        self.rate_label.setText("")
        self.model_label.setText("")
        self._set_loaded(False)
        self.welcome.set_recent(self.recent_projects())

    # -- the frame -----------------------------------------------------------------------------
    def tick(self, force: bool = False) -> None:
        """Drain the sources, recolour, and ask for one render. Runs on the GUI thread."""
        s = self.session
        if s is None:
            return
        taken = s.drain()
        now = time.time()
        tl = self.timeline
        if s.history is not None:
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
        self.view.scene.set_component_colours(s.component_rgba)
        idx, _ = s.sensor_positions()
        if len(idx):
            self.view.scene.set_marker_colours(s.sensor_rgba[idx])
        self._step_overlays(now if tl.live else tl.current)
        residual = self._residual_rgba()
        if residual is not None:
            self.view.scene.set_component_colours(residual)
        self._draw_scenario(now if tl.live else tl.current)
        self.view.request_render()

    def refresh_panels(self) -> None:
        s = self.session
        if s is None:
            return
        self.tree.set_states(s.component_state)
        self._refresh_inspector()
        if s.history is not None:
            for panel in self.chart_panels():
                panel.refresh()
        self.sources_panel.refresh(s.sources, {c.id: c.type for c in s.project.sources})
        self._refresh_fidelity()
        states = []
        for src in s.sources:
            st = src.status
            text = f"{src.id}: {st.state.value}"
            if st.message:
                text += f" ({st.message})"
            states.append(text)
        self.source_label.setText("  ·  ".join(states) if states else "No live source")
        self.rate_label.setText(f"{s.samples_per_second():,.0f} samples/s")
        n_alarm = int((s.sensor_state == Status.ALARM).sum())
        n_warn = int((s.sensor_state == Status.WARNING).sum())
        self.clock_label.setText(
            f"{datetime.now(self._tz):%H:%M:%S}   alarms: {n_alarm}   warnings: {n_warn}"
        )
        self.clock_label.setStyleSheet("color: #ff5060; font-weight: bold;" if n_alarm else "")

    def _refresh_inspector(self) -> None:
        s = self.session
        if s is None or not self._selection:
            return
        i = self._selection[0]
        c = s.model.components[i]
        st = Status(int(s.component_state[i]))
        tri = int(s.triangle_counts[i])
        extra = f" (+{len(self._selection) - 1} more selected)" if len(self._selection) > 1 else ""
        self.inspector.set_component(
            c.id + extra,
            {"Path": c.path, "Kind": c.kind, "Triangles": f"{tri:,}", "State": STATUS_LABELS[st]},
        )
        rows = []
        for k in s.binding.sensors_of(i):
            sensor = s.sensors[k]
            t = s.shown_time[k]
            limits = []
            for band in (sensor.warning, sensor.alarm):
                if band is None:
                    limits.append("–")
                else:
                    lo = f"<{band.low:g}" if band.low is not None else ""
                    hi = f">{band.high:g}" if band.high is not None else ""
                    limits.append(" ".join(x for x in (lo, hi) if x) or "–")
            rows.append(
                SensorRow(
                    sensor=sensor.id,
                    quantity=sensor.quantity.replace("_", " "),
                    value=fmt_value(float(s.shown_value[k])),
                    unit=sensor.unit,
                    time="–"
                    if math.isnan(t)
                    else datetime.fromtimestamp(t, self._tz).strftime("%H:%M:%S"),
                    status=Status(int(s.sensor_state[k])),
                    limits=" / ".join(limits),
                )
            )
        self.inspector.set_sensors(rows)

    # -- section -------------------------------------------------------------------------------
    def toggle_section(self, on: bool | None = None) -> None:
        """A clip plane through the model's centre, moved with a plane widget; it cuts the twin
        and every overlay (and the scenario view beside it)."""
        on = self.act_section.isChecked() if on is None else on
        self.act_section.setChecked(on)
        plotter = self.view.interactor
        plotter.clear_plane_widgets()
        if not on or self.session is None:
            self._set_section(None, None)
            return
        b = self.view.scene.mesh.bounds if self.view.scene.mesh is not None else None
        if b is None:
            return
        centre = [(b[0] + b[1]) / 2, (b[2] + b[3]) / 2, (b[4] + b[5]) / 2]
        plotter.add_plane_widget(
            lambda normal, origin: self._set_section(origin, normal),
            normal="x",
            origin=centre,
            bounds=b,
            color="#d0d4da",
            outline_translation=False,
            interaction_event="always",
        )
        self._set_section(centre, (1.0, 0.0, 0.0))

    def _set_section(self, origin: object, normal: object) -> None:
        views = [self.view] + ([self.compare_view] if self.compare_view is not None else [])
        for view in views:
            view.scene.set_clip_plane(origin, normal)  # type: ignore[arg-type]
            view.request_render()

    # -- what-if scenarios --------------------------------------------------------------------
    def compare_dialog(self, mode: str) -> None:
        """Pick a scenario run of this project and compare it with the baseline."""
        s = self.session
        if s is None:
            return
        from twinviewer.history.scenarios import list_scenarios

        runs = [r.name for r in list_scenarios(s.project, s.folder, s.path)]
        if not runs:
            QMessageBox.information(
                self,
                "No scenarios",
                "This project has no scenario runs yet. Record one, for example:\n\n"
                f"twinviewer scenario {s.path.name} record no-fault --without-faults",
            )
            return
        name, ok = QInputDialog.getItem(
            self, "Compare with a scenario", "Scenario:", runs, 0, False
        )
        if ok and name:
            self.compare_scenario(name, mode)

    def compare_scenario(self, name: str, mode: str = "side") -> None:
        """Show scenario run ``name`` beside the baseline (``side``) or as the difference."""
        s = self.session
        if s is None:
            return
        from twinviewer.history.scenarios import open_scenario

        self.stop_comparing()
        try:
            store = open_scenario(s.project, s.folder, s.path, name)
        except Exception as exc:  # a broken run must not take the twin down
            self._on_failed("The scenario could not be opened", str(exc))
            return
        self._scenario = (name, store)
        self._compare_mode = mode
        held = store.time_range()
        if held is not None:  # the timeline spans the scenario too
            tl = self.timeline
            tl.set_range(min(tl.start, held[0]), max(tl.end, held[1]))
        if mode == "side":
            view = QtView3D(self)
            self.compare_view = view
            self.split.addWidget(view)
            view.scene.show_model(s.model)
            _, pos = s.sensor_positions()
            view.scene.show_markers(pos)
            view.scene.set_caption("title", f"Scenario: {name}", "upper_left", 16)
            view.scene.set_hidden(self.view.scene.hidden.copy())
            legend = s.legend()
            if legend is not None:
                view.scene.set_legend(legend.title, legend.table, legend.lo, legend.hi)
            # one camera for both views: moving either moves the other
            camera = self.view.interactor.renderer.GetActiveCamera()
            view.interactor.renderer.SetActiveCamera(camera)
            self._camera_observer = camera.AddObserver(
                "ModifiedEvent", lambda *_: self._render_views()
            )
            view.componentPicked.connect(self._on_pick)
            plane = self.view.scene.clip_plane
            if plane is not None:  # the section cuts the scenario too
                view.scene.set_clip_plane(plane.GetOrigin(), [-x for x in plane.GetNormal()])
            self.split.setSizes([1, 1])
            self.view.scene.set_caption("title", f"{s.project.name}: baseline", "upper_left", 16)
        self.act_compare_stop.setEnabled(True)
        self._update_legend()
        self._time_dirty = True
        self.tick(force=True)
        self.statusBar().showMessage(f"Comparing with scenario {name}", 5000)

    def stop_comparing(self) -> None:
        if self._scenario is None:
            return
        name, store = self._scenario
        self._scenario = None
        self._compare_mode = None
        view, self.compare_view = self.compare_view, None
        if view is not None:
            camera = self.view.interactor.renderer.GetActiveCamera()
            camera.RemoveObserver(self._camera_observer)
            view.close_view()
            view.setParent(None)
            view.deleteLater()
        store.close()
        self.act_compare_stop.setEnabled(False)
        if self.session is not None:
            self.view.scene.set_caption("title", self.session.project.name, "upper_left", 16)
            self._update_legend()
            self.tick(force=True)

    def _render_views(self) -> None:
        if self.compare_view is not None:
            self.compare_view.request_render()

    def scenario_values(self, t: float) -> tuple[np.ndarray, np.ndarray] | None:
        """The scenario run's value and time of every project sensor at ``t``."""
        if self._scenario is None:
            return None
        return self._scenario[1].at(t)

    def _draw_scenario(self, t: float) -> None:
        s = self.session
        got = self.scenario_values(t)
        if s is None or got is None:
            return
        value, times = got
        if self._compare_mode == "side" and self.compare_view is not None:
            rgba, sensor_rgba = s.colours_for(value, times, t)
            self.compare_view.scene.set_component_colours(rgba)
            idx, _ = s.sensor_positions()
            if len(idx):
                self.compare_view.scene.set_marker_colours(sensor_rgba[idx])
            self.compare_view.request_render()
        elif self._compare_mode == "difference":
            span = np.array([x.range[1] - x.range[0] for x in s.project.sensors])
            diff = relative_difference(s.shown_value, value, span)
            base = np.tile(np.array([128, 132, 140, 255], np.uint8), (s.model.n_components, 1))
            self.view.scene.set_component_colours(
                difference_colours(s.binding.colouring, diff, base)
            )

    # -- simulation overlays ----------------------------------------------------------------
    def _start_overlays(self, session: TwinSession) -> None:
        self._user_hidden = np.zeros(session.model.n_components, bool)
        self.overlay_panel.set_overlays([o.name for o in session.project.overlays])
        for o in session.project.overlays:
            if o.visible:
                self.show_overlay(o.name, True)
        self._show_overlay_settings()

    def _show_overlay_settings(self) -> None:
        s = self.session
        name = self.overlay_panel.current
        if s is None or not name:
            return
        cfg = next(o for o in s.project.overlays if o.name == name)
        sim = self._overlays.get(name)
        view = self._overlay_view.get(name)
        fields = [f.name for f in sim.result.fields] if sim is not None else [cfg.field or ""]
        if view is None:
            lo, hi = cfg.range if cfg.range is not None else (0.0, 1.0)
            view = {
                "visible": False,
                "field": sim.field if sim is not None else cfg.field or "",
                "lo": lo,
                "hi": hi,
                "opacity": cfg.opacity,
            }
        self.overlay_panel.show_settings(
            view["visible"], fields, view["field"], view["lo"], view["hi"], view["opacity"]
        )
        self._refresh_overlay_list()
        self.overlay_panel.status.setText(
            f"{cfg.result}: {sim.result.n_steps} steps, simulation time "
            f"{sim.result.times[0]:g} to {sim.result.times[-1]:g} s"
            if sim is not None
            else f"{cfg.result} (read when shown)"
        )
        self._refresh_fidelity()

    def _refresh_overlay_list(self) -> None:
        s = self.session
        if s is None:
            return
        rows = []
        for o in s.project.overlays:
            view = self._overlay_view.get(o.name)
            if view is None:
                rows.append((o.name, False, o.field or "", *(o.range or (None, None)), o.opacity))
            else:
                rows.append(
                    (
                        o.name,
                        view["visible"],
                        view["field"],
                        view["lo"],
                        view["hi"],
                        view["opacity"],
                    )
                )
        self.overlay_panel.set_overlay_rows(rows)

    def show_overlay(self, name: str, visible: bool = True) -> SimOverlay | None:
        """Show or hide an overlay (reading and placing its result the first time)."""
        s = self.session
        if s is None:
            return None
        sim = self._overlays.get(name)
        if visible and sim is None:
            self.statusBar().showMessage(f"Reading the simulation result of {name}…")
            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                sim = s.overlay(name, self._session_start, self._speed)
            except Exception as exc:  # a broken result must not take the twin down
                log.exception("overlay %s", name)
                self._on_failed("The simulation overlay could not be shown", str(exc))
                self._refresh_overlay_list()
                return None
            finally:
                QApplication.restoreOverrideCursor()
            self._overlays[name] = sim
            lo, hi = sim.data_range()
            self._overlay_view[name] = {
                "visible": True,
                "field": sim.field,
                "lo": lo,
                "hi": hi,
                "opacity": sim.cfg.opacity,
            }
            self.statusBar().showMessage(f"{name}: {sim.result.n_steps} time steps", 5000)
        if sim is None:
            return None
        self._overlay_view[name]["visible"] = visible
        self._draw_overlay(name)
        if name == self.overlay_panel.current:
            self._show_overlay_settings()
        else:
            self._refresh_overlay_list()
        return sim

    def _on_overlay_changed(self, name: str) -> None:
        if self.session is None or self.overlay_panel._updating:
            return
        visible, field, lo, hi, opacity = self.overlay_panel.settings()
        sim = self._overlays.get(name)
        if sim is None:
            if visible:
                self.show_overlay(name, True)
            return
        view = self._overlay_view[name]
        if field and field != sim.field:
            sim.set_field(field)
            lo, hi = sim.data_range() if sim.cfg.field != field else (lo, hi)
        view.update(visible=visible, field=sim.field, lo=lo, hi=hi, opacity=opacity)
        self._draw_overlay(name)
        self._show_overlay_settings()

    def _draw_overlay(self, name: str) -> None:
        s = self.session
        sim = self._overlays.get(name)
        if s is None or sim is None:
            return
        view = self._overlay_view[name]
        scene = self.view.scene
        scene.clear_overlay(name)
        scene.clear_overlay(f"{name}:mesh")
        scene.clear_glyphs(name)
        if view["visible"] and not self._residual_mode():  # residuals colour the twin itself
            t = self._overlay_time()
            frame = sim.frame(t)
            self._overlay_steps[name] = frame.steps
            title = sim.field + (f" [{sim.unit}]" if sim.unit else "")
            lo, hi = view["lo"], view["hi"]
            hi = hi if hi > lo else lo + 1.0
            table = COLORMAPS[sim.cfg.colormap]
            arrows = sim.glyphs(t)
            if arrows is not None:
                scene.set_glyphs(name, *arrows)
            if sim.cfg.show in ("mesh", "both"):
                pts, tris, values = sim.mesh_frame(t)
                scene.set_overlay(
                    f"{name}:mesh", pts, tris, values, table, lo, hi, title, view["opacity"]
                )
            if sim.cfg.show in ("surface", "both"):
                scene.set_overlay(
                    name,
                    sim.warped_vertices(s.model.points[sim.vertices].astype(np.float64), t),
                    sim.triangles,
                    frame.values,
                    table,
                    lo,
                    hi,
                    title if sim.cfg.show == "surface" else None,
                    view["opacity"],
                )
        self._apply_hidden()
        self._refresh_fidelity()

    def _overlay_time(self) -> float:
        return time.time() if self.timeline.live else self.timeline.current

    def _step_overlays(self, t: float) -> None:
        """Each frame: move the visible overlays to time ``t`` (one gather per new step)."""
        for name, sim in self._overlays.items():
            if not self._overlay_view[name]["visible"] or self._residual_mode():
                continue
            frame = sim.frame(t)
            if frame.steps != self._overlay_steps.get(name):
                self._overlay_steps[name] = frame.steps
                scene = self.view.scene
                if sim.cfg.show in ("surface", "both"):
                    scene.set_overlay_values(name, frame.values)
                    if sim.cfg.warp is not None:
                        assert self.session is not None
                        points = self.session.model.points[sim.vertices].astype(np.float64)
                        scene.set_overlay_points(name, sim.warped_vertices(points, t))
                if sim.cfg.show in ("mesh", "both"):
                    pts, _, values = sim.mesh_frame(t)
                    scene.set_overlay_values(f"{name}:mesh", values)
                    if sim.cfg.warp is not None:
                        scene.set_overlay_points(f"{name}:mesh", pts)
                arrows = sim.glyphs(t)
                if arrows is not None:
                    scene.set_glyphs(name, *arrows)

    def _residual_mode(self) -> bool:
        return self.overlay_panel.residual.isChecked()

    def _residual_overlay(self) -> SimOverlay | None:
        """The overlay whose residuals colour the components (None: the normal colours)."""
        if not self.overlay_panel.residual.isChecked():
            return None
        sim = self._overlays.get(self.overlay_panel.current)
        return sim

    def _residual_rgba(self) -> np.ndarray | None:
        s = self.session
        sim = self._residual_overlay()
        if s is None or sim is None:
            return None
        p = s.project
        rows = sim.fidelity(
            self._overlay_time(),
            s.shown_value,
            p.sensors,
            p.fidelity.tolerance,
            p.fidelity.relative_to,
        )
        base = np.tile(np.array([128, 132, 140, 255], np.uint8), (s.model.n_components, 1))
        return residual_colours(
            s.binding.colouring, rows, len(p.sensors), p.fidelity.tolerance, base
        )

    def chart_fidelity(self, sensor: int) -> None:
        """Chart one sensor's measured history beside the current overlay's simulated steps."""
        s = self.session
        sim = self._overlays.get(self.overlay_panel.current)
        if s is None or sim is None or sensor not in sim.sensors:
            return
        ts, vs = sim.sensor_series(sensor)
        lo, hi = float(np.nanmin(ts)), float(np.nanmax(ts))
        if s.history is not None and hi > lo:
            t, _vmin, _vmax, last = s.history.series(sensor, lo, hi, 800)
            measured = (np.asarray(t), np.asarray(last))
        else:
            measured = (np.zeros(0), np.zeros(0))
        x = s.project.sensors[sensor]
        self.overlay_panel.set_series(
            f"{x.name or x.id}: measured and simulated ({sim.cfg.name})",
            x.unit,
            measured,
            (ts, vs),
        )
        self.overlay_panel.set_cursor(self._overlay_time())

    def _on_residual_toggled(self, on: bool) -> None:
        s = self.session
        if s is None:
            return
        if on and self.overlay_panel.current not in self._overlays:
            self.show_overlay(self.overlay_panel.current, True)
        for name in self._overlays:
            self._draw_overlay(name)
        self._update_legend()
        self.tick(force=True)

    def _refresh_fidelity(self) -> None:
        s = self.session
        sim = self._overlays.get(self.overlay_panel.current)
        if s is None or sim is None or not self._overlay_view[sim.cfg.name]["visible"]:
            self.overlay_panel.set_fidelity(np.zeros(0), None, [], [])
            return
        p = s.project
        rows = sim.fidelity(
            self._overlay_time(),
            s.shown_value,
            p.sensors,
            p.fidelity.tolerance,
            p.fidelity.relative_to,
        )
        self.overlay_panel.set_cursor(self._overlay_time())
        self.overlay_panel.set_fidelity(
            rows,
            summarise(rows, p.fidelity.tolerance),
            [x.name or x.id for x in p.sensors],
            [x.unit for x in p.sensors],
        )

    # -- charts --------------------------------------------------------------------------------
    def chart_panels(self) -> list[QtChartPanel]:
        return [self.charts, *self.extra_charts]

    def new_chart_panel(self) -> QtChartPanel:
        """A chart dock of its own: sensors dragged onto it, on the same timeline."""
        panel = QtChartPanel(self, tz=self._tz)
        panel.empty_label.setText("Drag sensors here from the inspector or the alarm list")
        panel.bind(self.timeline)
        title = f"Chart {len(self.extra_charts) + 2}"
        dock = QDockWidget(title, self)
        dock.setObjectName(title)
        dock.setWidget(panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.splitDockWidget(self.charts_dock, dock, Qt.Orientation.Vertical)
        self.extra_charts.append(panel)
        s = self.session
        if s is not None:
            panel.set_catalogue(s.sensors)
            panel.set_source(s.history.series if s.history is not None else None)
        dock.show()
        return panel

    # -- alarms and stepping --------------------------------------------------------------------
    def _start_alarms(self, session: TwinSession) -> None:
        """Name the alarm list's rows, load the acknowledgements, start following the store."""
        zone = session.project.display.timezone
        tz = self._tz = ZoneInfo(zone) if zone else None
        self.timeline_bar.set_time_zone(tz)
        for panel in self.chart_panels():
            panel.set_time_zone(tz)
        self.alarm_list.set_time_zone(tz)
        model = session.model
        comps = []
        for s in session.sensors:
            nodes = session.binding.component_nodes.get(s.component or "", [])
            comps.append(nodes[0] if nodes else -1)
        folder = getattr(session.history, "folder", None)
        acks = Acknowledgements(Path(folder) / ACKS_FILE if folder is not None else None)
        self.alarm_list.set_context(
            [s.id for s in session.sensors],
            [s.name or s.id for s in session.sensors],
            [s.unit for s in session.sensors],
            comps,
            [c.name for c in model.components],
            acks,
        )
        if session.history is not None:
            self.alarm_watcher.start(
                AlarmLog(session.rules), session.history, [s.id for s in session.sensors]
            )

    def _on_alarms(self, intervals: np.ndarray) -> None:
        if self.session is None:
            return
        self.alarm_list.set_intervals(intervals)
        colours = [QColor(*STATUS_COLOURS[Status(int(level))][:3]) for level in intervals["level"]]
        self.timeline_bar.set_markers(intervals["start"], colours)

    def jump_to(self, t: float, component: int = -1) -> None:
        """Move the timeline to ``t`` (leaving live) and select ``component`` (if >= 0)."""
        self.player.pause()
        tl = self.timeline
        if t > tl.end:  # the store may hold a little more than the bar's range so far
            tl.extend(t)
        tl.live = False
        tl.current = t
        if component >= 0:
            self.tree.select([component])
            self.select_components([component])

    def step_alarm(self, direction: int) -> None:
        """Previous/next alarm or warning start (of every sensor) on the timeline."""
        rec = self.alarm_list.model.intervals
        if len(rec) == 0:
            self.statusBar().showMessage("No alarms or warnings recorded", 3000)
            return
        self.player.pause()
        if self.timeline.step(np.sort(rec["start"]), direction) is None:
            self.statusBar().showMessage(
                f"No {'later' if direction > 0 else 'earlier'} alarm", 3000
            )

    def step_sample(self, direction: int) -> None:
        """Previous/next recorded sample of the selected component's sensors (or any sensor)."""
        s = self.session
        if s is None or s.history is None:
            return
        self.player.pause()
        sensors = s.binding.sensors_of(self._selection[0]) if self._selection else None
        t = s.history.neighbour(self.timeline.current, direction, sensors or None)
        if t is None:
            self.statusBar().showMessage(
                f"No {'later' if direction > 0 else 'earlier'} sample nearby", 3000
            )
            return
        self.timeline.current = t

    # -- selection and visibility --------------------------------------------------------------
    def select_components(self, indices: list[int]) -> None:
        if self.session is not None and indices != self._selection:
            sensors = self.session.binding.sensors_of(indices[0]) if indices else []
            self.charts.set_sensors([(k, self.session.sensors[k]) for k in sensors])
        self._selection = list(indices)
        self.view.scene.highlight(self._selection)
        self.view.request_render()
        if not indices:
            self.inspector.clear()
        self._refresh_inspector()

    def _on_pick(self, index: int) -> None:
        indices = [] if index < 0 else [index]
        self.tree.select(indices)
        self.select_components(indices)

    def _on_visibility(self, hidden: np.ndarray) -> None:
        self._user_hidden = np.asarray(hidden, bool).copy()
        self._apply_hidden()

    def _apply_hidden(self) -> None:
        """The user's hidden components, plus those an opaque overlay is drawn over."""
        s = self.session
        if s is None:
            return
        hidden = np.zeros(s.model.n_components, bool)
        if len(self._user_hidden) == len(hidden):
            hidden |= self._user_hidden
        for name, sim in self._overlays.items():
            view = self._overlay_view.get(name, {})
            on_twin = sim.cfg.show in ("surface", "both") and not self._residual_mode()
            if on_twin and view.get("visible") and view.get("opacity", 1.0) >= 1.0:
                hidden[np.unique(s.model.cell_component[sim.triangle_mask])] = True
        self.view.scene.set_hidden(hidden)
        self.view.scene.highlight(self._selection)
        self.view.request_render()

    def _zoom_to(self, indices: list[int]) -> None:
        if self.session is None or not indices:
            return
        comps: list[int] = []
        for i in indices:
            comps.extend(self.session.model.subtree(i))
        self.view.scene.fit_components(comps)
        self.view.request_render()

    def _focus_search(self) -> None:
        self.tree_dock.show()
        self.tree.search.setFocus()
        self.tree.search.selectAll()

    # -- camera --------------------------------------------------------------------------------
    def fit(self) -> None:
        self.view.scene.fit()
        self.view.request_render()

    def standard_view(self, name: str) -> None:
        self.view.scene.standard_view(name)
        self.view.request_render()

    def _fill_views(self) -> None:
        self.views_combo.clear()
        self.saved_views_menu.clear()
        if self.session is None:
            return
        for v in self.session.project.views:
            self.views_combo.addItem(v.name)
            self.saved_views_menu.addAction(
                self._action(v.name, lambda _=False, n=v.name: self.apply_saved_view(n))
            )
        self.saved_views_menu.setEnabled(bool(self.session.project.views))

    def apply_saved_view(self, name: str) -> None:
        if self.session is None:
            return
        for v in self.session.project.views:
            if v.name == name:
                self.view.scene.set_camera(v.position, v.focal_point, v.up)
                self.views_combo.setCurrentText(name)
                self.view.request_render()
                return

    # -- colouring -----------------------------------------------------------------------------
    def _fill_quantities(self) -> None:
        s = self.session
        self.quantity_combo.clear()
        self.quantity_menu.clear()
        if s is None:
            return
        group = QActionGroup(self)
        for label, q in [(ALL_SENSORS, None)] + [
            (f"{q.replace('_', ' ').capitalize()} [{s.unit_of(q)}]", q) for q in s.quantities()
        ]:
            self.quantity_combo.addItem(label, q)
            act = self._action(label, lambda _=False, q=q: self.set_active_quantity(q))
            act.setCheckable(True)
            act.setChecked(q == s.active_quantity)
            group.addAction(act)
            self.quantity_menu.addAction(act)
        self.quantity_combo.setCurrentIndex(max(0, self.quantity_combo.findData(s.active_quantity)))
        self._update_legend()

    def _on_quantity_combo(self, index: int) -> None:
        self.set_active_quantity(self.quantity_combo.itemData(index))

    def set_active_quantity(self, quantity: str | None) -> None:
        if self.session is None:
            return
        self.session.set_active_quantity(quantity)
        i = self.quantity_combo.findData(quantity)
        if i >= 0:
            self.quantity_combo.setCurrentIndex(i)
        for act in self.quantity_menu.actions():
            act.setChecked(act.text() == self.quantity_combo.currentText())
        self._update_legend()
        self.tick(force=True)
        self.refresh_panels()

    def _update_legend(self) -> None:
        s = self.session
        if s is None:
            return
        legend = s.legend()
        sim = self._residual_overlay()
        if self._compare_mode == "difference" and self._scenario is not None:
            self.view.scene.set_legend(
                f"{self._scenario[0]} minus\nbaseline, % range",
                difference_table(),
                -100 * DIFFERENCE_SCALE,
                100 * DIFFERENCE_SCALE,
            )
            self.view.scene.set_status_legend([])
        elif sim is not None:
            tol = s.project.fidelity.tolerance
            basis = "measured" if s.project.fidelity.relative_to == "value" else "range"
            self.view.scene.set_legend(f"residual\n% of {basis}", residual_table(), 0.0, 200 * tol)
            self.view.scene.set_status_legend([])
        elif legend is None:
            self.view.scene.set_legend(None)
            self.view.scene.set_status_legend([])
        else:
            self.view.scene.set_legend(legend.title, legend.table, legend.lo, legend.hi)
            self.view.scene.set_status_legend(s.status_legend())
        self.view.request_render()

    def bind_opcua_dialog(self) -> None:
        """Browse the project's OPC UA server, bind nodes to sensors, write them to the file."""
        s = self.session
        if s is None:
            return
        configs = [c for c in s.project.sources if c.type == "opcua"]
        if not configs:
            return
        from PySide6.QtWidgets import QDialog

        from twinviewer.project_edit import set_opcua_bindings
        from twinviewer.session import is_project_file
        from twinviewer.ui.opcua_browser import QtOpcUaBrowser

        cfg = configs[0]
        dialog = QtOpcUaBrowser(cfg, s.sensors, s.folder, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        if not is_project_file(s.path):
            self._on_failed("No project file", "Bindings are kept in a *.twin.yaml project file.")
            return
        try:
            set_opcua_bindings(s.path, cfg.id, dialog.bindings())
        except (ValueError, OSError) as exc:
            self._on_failed("The bindings could not be written", str(exc))
            return
        self.statusBar().showMessage(f"Wrote {len(dialog.bindings())} bindings to {s.path}", 8000)
        self.open_project(s.path, self._speed, self._only)  # reload: the feed uses the new nodes

    # -- files ---------------------------------------------------------------------------------
    def screenshot_dialog(self) -> None:
        default = str(Path.cwd() / "twinviewer.png")
        path, _ = QFileDialog.getSaveFileName(self, "Save screenshot", default, "PNG image (*.png)")
        if path:
            self.save_screenshot(path)

    def save_screenshot(self, path: str | Path) -> Path:
        """The 3D view as a PNG at its on-screen size."""
        path = Path(path)
        if path.suffix.lower() != ".png":
            path = path.with_suffix(".png")
        self.view.screenshot(str(path))
        self.statusBar().showMessage(f"Saved {path}", 5000)
        return path

    def recent_projects(self) -> list[str]:
        value = self.settings.value("recent", [])
        if isinstance(value, str):  # QSettings gives a lone string for a one-item list
            return [value]
        return [str(v) for v in value] if isinstance(value, list) else []

    def add_recent(self, path: Path) -> None:
        text = str(Path(path).resolve())
        recent = [text] + [p for p in self.recent_projects() if p != text]
        self.settings.setValue("recent", recent[:MAX_RECENT])
        self._update_recent_menu()

    def _update_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_projects()
        for i, p in enumerate(recent):
            self.recent_menu.addAction(
                self._action(f"&{i + 1} {p}", lambda _=False, p=p: self.open_project(Path(p)))
            )
        self.recent_menu.setEnabled(bool(recent))

    def _about(self) -> None:
        from twinviewer import __version__

        QMessageBox.about(
            self,
            "About TwinViewer",
            f"<b>TwinViewer {__version__}</b><p>3D models of real assets coloured by their live "
            "sensor data.</p><p>Apache-2.0</p>",
        )

    def _show_shortcuts(self) -> None:
        rows = []
        for act in self.findChildren(QAction):
            keys = act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            if keys:
                rows.append((act.text().replace("&", ""), keys))
        rows.append(("Rotate / pan / zoom", "left drag / middle drag / wheel"))
        rows.append(("Select a component", "click it"))
        table = "".join(f"<tr><td>{t}</td><td><b>{k}</b></td></tr>" for t, k in sorted(set(rows)))
        box = QMessageBox(self)
        box.setWindowTitle("Keyboard shortcuts")
        box.setText(f"<table cellspacing='6'>{table}</table>")
        box.open()

    def restore_layout(self) -> None:
        """Window size and dock layout as the user left them."""
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt naming)
        self.settings.setValue("window/geometry", self.saveGeometry())
        if self._loader is not None:
            self._loader.wait(10000)
        self.close_session()
        self.view.close_view()
        super().closeEvent(event)
