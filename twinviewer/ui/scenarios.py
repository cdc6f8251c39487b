"""What-if scenarios: a recorded scenario run beside the baseline (a second 3D view sharing the
camera and the timeline) or as the difference from it (the twin coloured blue lower, red
higher)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtWidgets import QInputDialog, QMessageBox

from twinviewer.core.colour import BACKDROP
from twinviewer.core.compare import difference_colours, relative_difference
from twinviewer.core.workbench import CompareMode, Comparison
from twinviewer.ui.feature import ActionSpec, Feature
from twinviewer.ui.view3d import QtView3D

if TYPE_CHECKING:
    from twinviewer.ui.main_window import QtMainWindow


class ScenariosFeature(Feature):
    name = "scenarios"

    def __init__(self, host: QtMainWindow) -> None:
        super().__init__(host)
        self.compare_view: QtView3D | None = None
        self._store: Any = None  # the scenario run's history store
        self._camera_observer = 0
        self.workbench.events.comparison.connect(self._on_comparison)

    def actions(self) -> list[ActionSpec]:
        return [
            ActionSpec(
                "scenarios.side",
                "Scenario &side by side…",
                lambda: self.compare_dialog("side"),
                "Data",
                "scenarios",
                "Ctrl+Shift+D",
                "A what-if scenario in a second 3D view beside the baseline, same camera and time",
            ),
            ActionSpec(
                "scenarios.difference",
                "Scenario &difference…",
                lambda: self.compare_dialog("difference"),
                "Data",
                "scenarios",
                tip="Colour the twin by scenario minus baseline (blue lower, red higher)",
            ),
            ActionSpec(
                "scenarios.stop", "Stop comparing", self.stop_comparing, "Data", "scenarios"
            ),
        ]

    def compare_dialog(self, mode: CompareMode) -> None:
        """Pick a scenario run of this project and compare it with the baseline."""
        s = self.session
        if s is None:
            return
        from twinviewer.history.scenarios import list_scenarios

        runs = [r.name for r in list_scenarios(s.project, s.folder, s.path)]
        if not runs:
            QMessageBox.information(
                self.host,
                "No scenarios",
                "This project has no scenario runs yet. Record one, for example:\n\n"
                f"twinviewer scenario {s.path.name} record no-fault --without-faults",
            )
            return
        name, ok = QInputDialog.getItem(
            self.host, "Compare with a scenario", "Scenario:", runs, 0, False
        )
        if ok and name:
            self.compare_scenario(name, mode)

    def compare_scenario(self, name: str, mode: CompareMode = "side") -> None:
        """Show scenario run ``name`` beside the baseline (``side``) or as the difference."""
        s = self.session
        if s is None:
            return
        from twinviewer.history.scenarios import open_scenario

        self.stop_comparing()
        try:
            store = open_scenario(s.project, s.folder, s.path, name)
        except Exception as exc:  # a broken run must not take the twin down
            self.host.error("The scenario could not be opened", str(exc))
            return
        self._store = store
        held = store.time_range()
        if held is not None:  # the timeline spans the scenario too
            tl = self.workbench.timeline
            tl.set_range(min(tl.start, held[0]), max(tl.end, held[1]))
        if mode == "side":
            self._open_side_view(name)
        self.workbench.comparison = Comparison(scenario=name, mode=mode)
        self.host.action("scenarios.stop").setEnabled(True)
        self.host.redraw()
        self.host.statusBar().showMessage(f"Comparing with scenario {name}", 5000)

    def _open_side_view(self, name: str) -> None:
        s = self.session
        assert s is not None
        main = self.host.view
        view = QtView3D(self.host)
        self.compare_view = view
        self.host.add_central(view)
        view.scene.show_model(s.model)
        view.scene.show_markers(s.sensor_positions()[1])
        view.scene.set_caption("title", f"Scenario: {name}", "upper_left", 16)
        view.scene.set_hidden(main.scene.hidden.copy())
        legend = s.legend()
        if legend is not None:
            view.scene.set_legend(legend.title, legend.table, legend.lo, legend.hi)
        # one camera for both views: moving either moves the other
        camera = main.interactor.renderer.GetActiveCamera()
        view.interactor.renderer.SetActiveCamera(camera)
        self._camera_observer = camera.AddObserver(
            "ModifiedEvent", lambda *_: view.request_render()
        )
        view.componentPicked.connect(
            lambda i: setattr(self.workbench, "selection", () if i < 0 else (i,))
        )
        plane = main.scene.clip_plane
        if plane is not None:  # the section cuts the scenario too
            view.scene.set_clip_plane(plane.GetOrigin(), [-x for x in plane.GetNormal()])
        self.host.split.setSizes([1, 1])
        main.scene.set_caption("title", f"{s.project.name}: baseline", "upper_left", 16)

    def stop_comparing(self) -> None:
        self.workbench.comparison = None

    def _on_comparison(self, comparison: Comparison | None) -> None:
        if comparison is None and self._store is not None:
            self._teardown()

    def _teardown(self) -> None:
        store, self._store = self._store, None
        view, self.compare_view = self.compare_view, None
        if view is not None:
            camera = self.host.view.interactor.renderer.GetActiveCamera()
            camera.RemoveObserver(self._camera_observer)
            view.close_view()
            view.setParent(None)
            view.deleteLater()
        store.close()
        self.host.action("scenarios.stop").setEnabled(False)
        if self.session is not None:
            self.host.view.scene.set_caption("title", self.session.project.name, "upper_left", 16)
            self.host.redraw()

    def scenario_values(self, t: float) -> tuple[np.ndarray, np.ndarray] | None:
        """The scenario run's value and time of every project sensor at ``t``."""
        return None if self._store is None else self._store.at(t)

    def frame(self, t: float, live: bool) -> None:
        s = self.session
        comparison = self.workbench.comparison
        got = self.scenario_values(t)
        if s is None or got is None or comparison is None:
            return
        value, times = got
        if comparison.mode == "side" and self.compare_view is not None:
            rgba, sensor_rgba = s.colours_for(value, times, t)
            self.compare_view.scene.set_component_colours(rgba)
            idx, _ = s.sensor_positions()
            if len(idx):
                self.compare_view.scene.set_marker_colours(sensor_rgba[idx])
            self.compare_view.request_render()
        elif comparison.mode == "difference":
            span = np.array([x.range[1] - x.range[0] for x in s.project.sensors])
            diff = relative_difference(s.shown_value, value, span)
            base = np.tile(BACKDROP, (s.model.n_components, 1))
            self.host.view.scene.set_component_colours(
                difference_colours(s.binding.colouring, diff, base)
            )

    def opened(self, session: object) -> None:
        self.host.action("scenarios.stop").setEnabled(False)

    def closed(self) -> None:
        self.stop_comparing()
