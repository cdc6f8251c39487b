"""Section: a clip plane, moved with a plane widget, through the twin, its overlays and every
3D view beside it (a scenario). :meth:`SectionFeature.place` puts it at a given plane (a review
viewpoint); :attr:`SectionFeature.plane` is where it cuts now."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twinviewer.ui.feature import ActionSpec, Feature

if TYPE_CHECKING:
    from twinviewer.ui.main_window import QtMainWindow


class SectionFeature(Feature):
    name = "section"

    def __init__(self, host: QtMainWindow) -> None:
        super().__init__(host)
        self.plane: tuple[tuple[float, ...], tuple[float, ...]] | None = None  # (origin, normal)
        self._wanted: tuple[tuple[float, ...], tuple[float, ...]] | None = None
        self.workbench.events.section.connect(self._show)

    def actions(self) -> list[ActionSpec]:
        return [
            ActionSpec(
                "section.toggle",
                "&Section (clip plane)",
                self.toggle,
                "View",
                "section",
                "Ctrl+Shift+X",
                "Cut the twin and its overlays by a plane; drag the plane or its arrow to move it",
                checkable=True,
            )
        ]

    def toggle(self, on: bool | None = None) -> None:
        act = self.host.action("section.toggle")
        self.workbench.section = bool(act.isChecked() if on is None else on)

    def place(self, origin: Any, normal: Any) -> None:
        """Cut along the plane through ``origin`` along ``normal`` (switching the section on),
        with the plane widget there."""
        self._wanted = (tuple(float(x) for x in origin), tuple(float(x) for x in normal))
        try:
            if self.workbench.section:
                self._show(True)
            else:
                self.workbench.section = True
        finally:
            self._wanted = None

    def _show(self, on: bool) -> None:
        self.host.action("section.toggle").setChecked(on)
        plotter = self.host.view.interactor
        plotter.clear_plane_widgets()
        scene = self.host.view.scene
        if not on or self.session is None or scene.mesh is None:
            self.cut(None, None)
            return
        b = scene.mesh.bounds
        centre = [(b[0] + b[1]) / 2, (b[2] + b[3]) / 2, (b[4] + b[5]) / 2]
        origin, normal = self._wanted or (centre, (1.0, 0.0, 0.0))
        plotter.add_plane_widget(
            lambda normal, origin: self.cut(origin, normal),
            normal=list(normal),
            origin=list(origin),
            bounds=b,
            color="#d0d4da",
            outline_translation=False,
            interaction_event="always",
        )
        self.cut(origin, normal)

    def cut(self, origin: Any, normal: Any) -> None:
        """Cut every 3D view by the plane through ``origin`` along ``normal`` (None: no cut)."""
        self.plane = (
            None
            if origin is None or normal is None
            else (tuple(float(x) for x in origin), tuple(float(x) for x in normal))
        )
        for view in self.host.central_views():
            view.scene.set_clip_plane(origin, normal)
            view.request_render()

    def closed(self) -> None:
        self.workbench.section = False
