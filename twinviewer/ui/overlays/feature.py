"""Simulation overlays: results drawn on the twin at the timeline's time, measured versus
simulated at every sensor they reach, and components coloured by their residuals.

Without a live feed and with no history held (a result opened by itself, or a twin whose
only time is its overlays'), the timeline holds the visible overlays' steps and plays them;
the step slider of the dock moves the timeline to a step, and follows it.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from twinviewer.core.colour import BACKDROP, COLORMAPS
from twinviewer.core.fidelity import residual_colours, summarise
from twinviewer.core.workbench import OverlayView
from twinviewer.session import TwinSession
from twinviewer.sim import SimReadError
from twinviewer.ui.feature import DockSpec, Feature
from twinviewer.ui.overlays.panel import QtOverlayPanel
from twinviewer.ui.timeline.feature import TimelineFeature

if TYPE_CHECKING:
    from twinviewer.sim.overlay import SimOverlay
    from twinviewer.ui.main_window import QtMainWindow

log = logging.getLogger(__name__)


class OverlaysFeature(Feature):
    name = "overlays"

    def __init__(self, host: QtMainWindow) -> None:
        super().__init__(host)
        self.panel = QtOverlayPanel()
        self.sims: dict[str, SimOverlay] = {}  # results read and placed, by overlay name
        self._steps: dict[str, tuple[int, int, float]] = {}
        self._failed: dict[str, set[int]] = {}  # steps an overlay could not draw, by name
        self._drawn: set[str] = set()  # overlays whose actors are in the scene
        p, wb = self.panel, self.workbench
        p.changed.connect(self._on_panel_changed)
        p.residual.toggled.connect(lambda on: setattr(wb, "residual", bool(on)))
        p.sensorChosen.connect(self.chart_fidelity)
        p.visibilityToggled.connect(self.show_overlay)
        p.colormapChosen.connect(self.set_colormap)
        p.stepChosen.connect(self.go_to_step)
        p.overlay_combo.currentIndexChanged.connect(
            lambda _i: setattr(wb, "current_overlay", p.current)
        )
        wb.events.current_overlay.connect(lambda _name: self._show_settings())
        wb.events.residual.connect(self._on_residual)

    def docks(self) -> list[DockSpec]:
        return [
            DockSpec(
                "Simulation",
                self.panel,
                Qt.DockWidgetArea.RightDockWidgetArea,
                tab_with="Charts",
                size=(470, 560),
                minimum=(220, 140),
                scroll=True,
            )
        ]

    # -- showing an overlay ----------------------------------------------------------------------
    def show_overlay(self, name: str, visible: bool = True) -> SimOverlay | None:
        """Show or hide an overlay (reading and placing its result the first time)."""
        s = self.session
        if s is None:
            return None
        sim = self.sims.get(name)
        if visible and sim is None:
            self.host.statusBar().showMessage(f"Reading the simulation result of {name}…")
            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                sim = s.overlay(name, self.host.session_start, self.host.speed)
            except Exception as exc:  # a broken result must not take the twin down
                log.exception("overlay %s", name)
                self.host.error("The simulation overlay could not be shown", str(exc))
                self._refresh_list()
                return None
            finally:
                QApplication.restoreOverrideCursor()
            self.sims[name] = sim
            lo, hi = data_range(sim)
            self.workbench.set_overlay_view(
                name, visible=True, field=sim.field, lo=lo, hi=hi, opacity=sim.cfg.opacity
            )
            self.host.statusBar().showMessage(f"{name}: {sim.result.n_steps} time steps", 5000)
            self._span_steps()
        if sim is None:
            return None
        self.workbench.set_overlay_view(name, visible=visible)
        self._draw(name)
        if name == self.panel.current:
            self._show_settings()
        else:
            self._refresh_list()
        return sim

    def _on_panel_changed(self, name: str) -> None:
        if self.session is None or self.panel._updating:
            return
        visible, field, lo, hi, opacity = self.panel.settings()
        sim = self.sims.get(name)
        if sim is None:
            if visible:
                self.show_overlay(name, True)
            return
        if field and field != sim.field:
            sim.set_field(field)
            lo, hi = data_range(sim) if sim.cfg.field != field else (lo, hi)
        self.workbench.set_overlay_view(
            name, visible=visible, field=sim.field, lo=lo, hi=hi, opacity=opacity
        )
        self._draw(name)
        self._show_settings()

    def _view(self, name: str) -> OverlayView:
        return self.workbench.overlays.get(name) or OverlayView()

    def _draw(self, name: str) -> None:
        s = self.session
        sim = self.sims.get(name)
        if s is None or sim is None:
            return
        view = self._view(name)
        scene = self.host.view.scene
        scene.clear_overlay(name)
        scene.clear_overlay(f"{name}:mesh")
        scene.clear_glyphs(name)
        self._drawn.discard(name)
        if view.visible and not self.workbench.residual:  # residuals colour the twin itself
            t = self._time()
            try:
                self._draw_at(name, sim, view, t)
            except (SimReadError, ValueError) as exc:  # a step the model cannot show
                self._steps[name] = sim.steps_at(t)[1]
                self._report(name, sim, exc)
        self._update_covered()
        self._refresh_fidelity()
        self.host.view.request_render()

    def _draw_at(self, name: str, sim: SimOverlay, view: OverlayView, t: float) -> None:
        """Draw a visible overlay at twin time ``t`` (its surface, mesh and arrows)."""
        s = self.session
        assert s is not None
        scene = self.host.view.scene
        frame = sim.frame(t)
        self._steps[name] = frame.steps
        title = sim.field + (f" [{sim.unit}]" if sim.unit else "")
        lo, hi = view.lo, view.hi
        hi = hi if hi > lo else lo + 1.0
        table = COLORMAPS[sim.cfg.colormap]
        arrows = sim.glyphs(t)
        if arrows is not None:
            scene.set_glyphs(name, *arrows)
        if sim.cfg.show in ("mesh", "both"):
            pts, tris, values = sim.mesh_frame(t)
            scene.set_overlay(f"{name}:mesh", pts, tris, values, table, lo, hi, title, view.opacity)
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
                view.opacity,
            )
        self._drawn.add(name)

    def _update_covered(self) -> None:
        """The components an opaque overlay is drawn over are not drawn below it."""
        s = self.session
        if s is None:
            return
        covered: set[int] = set()
        for name, sim in self.sims.items():
            view = self._view(name)
            on_twin = sim.cfg.show in ("surface", "both") and not self.workbench.residual
            if on_twin and view.visible and view.opacity >= 1.0:
                covered.update(np.unique(s.model.cell_component[sim.triangle_mask]).tolist())
        self.workbench.covered = tuple(sorted(covered))

    def _time(self) -> float:
        tl = self.workbench.timeline
        return time.time() if tl.live else tl.current

    def frame(self, t: float, live: bool) -> None:
        """Move the visible overlays to ``t`` (one gather per new step); residual colours."""
        if not self.workbench.residual:
            for name, sim in self.sims.items():
                if self._view(name).visible:
                    self._step(name, sim, t)
        self._sync_step(t)
        residual = self._residual_rgba(t)
        if residual is not None:
            self.host.view.scene.set_component_colours(residual)

    def _step(self, name: str, sim: SimOverlay, t: float) -> None:
        steps = sim.steps_at(t)[1]
        if steps == self._steps.get(name):
            return
        try:
            if name in self._drawn:
                self._move(name, sim, t)
            else:  # its first step could not be drawn: build the actors now
                self._draw_at(name, sim, self._view(name), t)
                self._update_covered()
        except (SimReadError, ValueError) as exc:  # a broken step, or another mesh than step 1
            self._steps[name] = steps  # asked once per step, not at every frame
            self._report(name, sim, exc)

    def _move(self, name: str, sim: SimOverlay, t: float) -> None:
        """The drawn overlay's values (and points) at ``t``; the actors stay."""
        frame = sim.frame(t)
        scene = self.host.view.scene
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
        self._steps[name] = frame.steps

    def _report(self, name: str, sim: SimOverlay, exc: Exception) -> None:
        """Say once per overlay that a step cannot be shown (later ones on the status bar);
        the overlay keeps its last step drawn."""
        step = nearest_step(self._steps[name])
        failed = self._failed.setdefault(name, set())
        first = not failed
        failed.add(step)
        r = sim.result
        text = (
            f"{name}: step {step + 1} of {r.n_steps} (t = {r.times[step]:g} s) cannot be "
            f"shown: {exc}"
        )
        log.warning("%s", text)
        if first:
            self.host.error("A step of the simulation result cannot be shown", text)
        else:
            self.host.statusBar().showMessage(text, 5000)

    # -- time steps ------------------------------------------------------------------------------
    def _span_steps(self) -> None:
        """Without a live feed and with no history held, the timeline holds the visible
        overlays' steps (a result opened by itself: exactly its steps)."""
        s = self.session
        if s is None or s.sources:
            return
        if s.history is not None and s.history.time_range() is not None:
            return
        times = [sim.step_times() for n, sim in self.sims.items() if self._view(n).visible]
        if not times:
            return
        every = np.concatenate(times)
        self.host.feature(TimelineFeature).show_steps(np.unique(every))

    def go_to_step(self, step: int) -> None:
        """Move the timeline to the twin time of ``step`` of the current overlay."""
        sim = self.sims.get(self.panel.current)
        if sim is None:
            return
        times = sim.step_times()
        t = float(times[min(max(step, 0), len(times) - 1)])
        controller = self.host.feature(TimelineFeature).controller
        self.workbench.timeline.extend(t)
        controller.jump_to(t)
        self.host.redraw()

    def _sync_step(self, t: float) -> None:
        """The step slider follows the timeline."""
        sim = self.sims.get(self.panel.current)
        if sim is not None:
            self.panel.show_step(nearest_step(sim.steps_at(t)[1]))

    def set_colormap(self, name: str, colormap: str) -> None:
        """Colour overlay ``name`` with another colour map (for this session)."""
        sim = self.sims.get(name)
        if sim is None or colormap not in COLORMAPS or sim.cfg.colormap == colormap:
            return
        sim.cfg = sim.cfg.model_copy(update={"colormap": colormap})
        self._draw(name)

    # -- measured versus simulated ---------------------------------------------------------------
    def residual_overlay(self) -> SimOverlay | None:
        """The overlay whose residuals colour the components (None: the normal colours)."""
        wb = self.workbench
        return self.sims.get(wb.current_overlay) if wb.residual else None

    def _residual_rgba(self, t: float) -> np.ndarray | None:
        s = self.session
        sim = self.residual_overlay()
        if s is None or sim is None:
            return None
        p = s.project
        rows = sim.fidelity(
            t, s.shown_value, p.sensors, p.fidelity.tolerance, p.fidelity.relative_to
        )
        base = np.tile(BACKDROP, (s.model.n_components, 1))
        return residual_colours(
            s.binding.colouring, rows, len(p.sensors), p.fidelity.tolerance, base
        )

    def _on_residual(self, on: bool) -> None:
        if self.panel.residual.isChecked() != on:
            self.panel.residual.setChecked(on)
        if self.session is None:
            return
        if on and self.panel.current not in self.sims:
            self.show_overlay(self.panel.current, True)
        for name in self.sims:
            self._draw(name)
        self.host.redraw()

    def chart_fidelity(self, sensor: int) -> None:
        """Chart one sensor's measured history beside the current overlay's simulated steps."""
        s = self.session
        sim = self.sims.get(self.panel.current)
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
        self.panel.set_series(
            f"{x.name or x.id}: measured and simulated ({sim.cfg.name})",
            x.unit,
            measured,
            (ts, vs),
        )
        self.panel.set_cursor(self._time())

    def _refresh_fidelity(self) -> None:
        s = self.session
        sim = self.sims.get(self.panel.current)
        if s is None or sim is None or not self._view(sim.cfg.name).visible:
            self.panel.set_fidelity(np.zeros(0), None, [], [])
            return
        p = s.project
        t = self._time()
        rows = sim.fidelity(
            t, s.shown_value, p.sensors, p.fidelity.tolerance, p.fidelity.relative_to
        )
        self.panel.set_cursor(t)
        self.panel.set_fidelity(
            rows,
            summarise(rows, p.fidelity.tolerance),
            [x.name or x.id for x in p.sensors],
            [x.unit for x in p.sensors],
        )

    # -- the panel -------------------------------------------------------------------------------
    def _show_settings(self) -> None:
        s = self.session
        name = self.panel.current
        if s is None or not name:
            return
        cfg = next(o for o in s.project.overlays if o.name == name)
        sim = self.sims.get(name)
        view = self.workbench.overlays.get(name)
        fields = [f.name for f in sim.result.fields] if sim is not None else [cfg.field or ""]
        if view is None:
            lo, hi = cfg.range if cfg.range is not None else (0.0, 1.0)
            view = OverlayView(
                field=sim.field if sim is not None else cfg.field or "",
                lo=lo,
                hi=hi,
                opacity=cfg.opacity,
            )
        self.panel.show_settings(view.visible, fields, view.field, view.lo, view.hi, view.opacity)
        self.panel.set_colormap(sim.cfg.colormap if sim is not None else cfg.colormap)
        self.panel.set_steps(sim.result.times.tolist() if sim is not None else None)
        if sim is not None:
            self._sync_step(self._time())
        self._refresh_list()
        self.panel.status.setText(
            f"{cfg.result}: {sim.result.n_steps} steps, simulation time "
            f"{sim.result.times[0]:g} to {sim.result.times[-1]:g} s"
            if sim is not None
            else f"{cfg.result} (read when shown)"
        )
        self._refresh_fidelity()

    def _refresh_list(self) -> None:
        s = self.session
        if s is None:
            return
        rows = []
        for o in s.project.overlays:
            v = self.workbench.overlays.get(o.name)
            if v is None:
                rows.append((o.name, False, o.field or "", *(o.range or (None, None)), o.opacity))
            else:
                rows.append((o.name, v.visible, v.field, v.lo, v.hi, v.opacity))
        self.panel.set_overlay_rows(rows)

    # -- hooks -----------------------------------------------------------------------------------
    def opened(self, session: TwinSession) -> None:
        self.panel.set_time_zone(self.host.time_zone)
        self.panel.set_overlays([o.name for o in session.project.overlays])
        self.workbench.current_overlay = self.panel.current
        for o in session.project.overlays:
            if o.visible:
                self.show_overlay(o.name, True)
        self._span_steps()
        self._show_settings()
        if session.project.overlays and not session.sensors:
            QTimer.singleShot(0, self._show_dock)  # a result by itself: its dock in front

    def _show_dock(self) -> None:
        """Bring the Simulation dock in front (once the window is laid out; the camera frames
        the model again if the view changed size)."""
        dock = self.host.dock("Simulation")
        if self.session is None or not dock.visibleRegion().isEmpty():
            return
        size = self.host.view.size()
        dock.raise_()
        if self.host.view.size() != size:
            self.host.view.scene.fit()
            self.host.view.request_render()

    def refresh(self) -> None:
        self._refresh_fidelity()

    def closed(self) -> None:
        scene = self.host.view.scene
        for name in list(self.sims):
            scene.clear_overlay(name)
            scene.clear_overlay(f"{name}:mesh")
            scene.clear_glyphs(name)
        self.sims, self._steps, self._failed, self._drawn = {}, {}, {}, set()
        self.panel.residual.setChecked(False)
        self.panel.set_overlays([])


def data_range(sim: SimOverlay) -> tuple[float, float]:
    """The overlay's colour range; over its first step alone when a later one cannot be read
    or mapped (the error is told when that step is shown)."""
    try:
        return sim.data_range()
    except (SimReadError, ValueError) as exc:
        log.warning("colour range of %s from its first step only: %s", sim.cfg.name, exc)
    values = sim.frame(float(sim.step_times()[0])).values
    finite = values[np.isfinite(values)]
    if not len(finite):
        return (0.0, 1.0)
    lo, hi = float(finite.min()), float(finite.max())
    return (lo, hi if hi > lo else lo + 1.0)


def nearest_step(steps: tuple[int, int, float]) -> int:
    """The step nearest a blend ``(i, j, w)`` of two steps."""
    i, j, w = steps
    return j if w > 0.5 else i
