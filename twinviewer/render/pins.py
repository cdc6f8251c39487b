"""Review issue markers in the 3D view: a numbered flag at each issue's point.

A pin is a small sphere at the point and a label (the issue's number on a badge in the issue's
colour) standing on it. The labels are 2D actors drawn over the scene, so a pin behind a part
or on the far side of the section plane is still seen; neither actor is handed the section's
clipping plane (:meth:`TwinScene.set_clip_plane` clips only the scene's own actors and glyphs).
Labels are grouped by colour (pyvista draws one badge colour per label actor), so a review of
hundreds of issues costs a handful of actors, not one per issue.

Also here, because they need VTK and not Qt: the 3D point under a pixel of the view
(:func:`pick_point`), and a component's centre (:func:`component_centre`) for issues that have
a component but no point.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyvista as pv
import vtk
from numpy.typing import ArrayLike, NDArray

from twinviewer.core.model import ModelData

PREFIX = "review-pin"
HEAD_SIZE = 11.0  # px: the sphere at the point
FONT_SIZE = 15


class IssuePins:
    """The pins of a review on one plotter; :meth:`set_pins` replaces them all."""

    def __init__(self, plotter: pv.Plotter) -> None:
        self.plotter = plotter
        self._names: list[str] = []
        self.points: NDArray[np.float64] = np.empty((0, 3))
        self.labels: list[str] = []
        self.colours: NDArray[np.uint8] = np.empty((0, 3), np.uint8)
        self.highlighted: int | None = None
        self._visible = True

    def set_pins(
        self,
        points: ArrayLike,
        labels: Sequence[str],
        colours: ArrayLike,
        highlight: int | None = None,
    ) -> None:
        """Pins at ``points`` (N, 3) with these labels and (N, 3) uint8 colours; the pin at
        index ``highlight`` is drawn larger, with a white badge edge."""
        pts = np.asarray(points, np.float64).reshape(-1, 3)
        cols = np.asarray(colours, np.uint8).reshape(-1, 3)
        if len(labels) != len(pts) or len(cols) != len(pts):
            raise ValueError(f"{len(pts)} points, {len(labels)} labels, {len(cols)} colours")
        self.points, self.labels, self.colours = pts, list(labels), cols
        self.highlighted = (
            highlight if highlight is not None and 0 <= highlight < len(pts) else None
        )
        self._draw()

    def clear(self) -> None:
        self.set_pins(np.empty((0, 3)), [], np.empty((0, 3), np.uint8))

    @property
    def actor_names(self) -> list[str]:
        """The names of the actors drawn (on the plotter's ``actors``)."""
        return list(self._names)

    def set_visible(self, on: bool) -> None:
        """Show or hide every pin (a snapshot of the view is taken without them)."""
        self._visible = bool(on)
        for name in self._names:
            actor = self.plotter.actors.get(name)
            if actor is not None:
                actor.SetVisibility(self._visible)

    def _remove(self) -> None:
        for name in self._names:
            self.plotter.remove_actor(name, reset_camera=False, render=False)
        self._names = []

    def _draw(self) -> None:
        self._remove()
        if not len(self.points):
            return
        heads = pv.PolyData(self.points)
        heads.point_data["rgb"] = self.colours
        name = f"{PREFIX}-heads"
        actor = self.plotter.add_mesh(
            heads,
            scalars="rgb",
            rgb=True,
            point_size=HEAD_SIZE,
            render_points_as_spheres=True,
            name=name,
            reset_camera=False,
            pickable=False,
            show_scalar_bar=False,
            render=False,
        )
        actor.SetVisibility(self._visible)
        self._names.append(name)
        groups: dict[tuple[int, int, int, bool], list[int]] = {}
        for i, c in enumerate(self.colours):
            key = (int(c[0]), int(c[1]), int(c[2]), i == self.highlighted)
            groups.setdefault(key, []).append(i)
        for k, ((r, g, b, big), idx) in enumerate(groups.items()):
            name = f"{PREFIX}-labels-{k}"
            dark = (r * 299 + g * 587 + b * 114) / 1000 > 150  # a light badge: dark text
            label = self.plotter.add_point_labels(
                self.points[idx],
                [self.labels[i] for i in idx],
                bold=True,
                font_size=FONT_SIZE + (3 if big else 0),
                text_color="#111111" if dark else "white",
                shape_color=(r / 255, g / 255, b / 255),
                shape="rounded_rect",
                shape_opacity=0.95,
                margin=4 if big else 3,
                show_points=False,
                always_visible=True,
                name=name,
                reset_camera=False,
                render=False,
                justification_vertical="bottom",
            )
            _lift(label, 10 if big else 7)
            label.SetVisibility(self._visible)
            self._names.append(name)


def _lift(actor: Any, pixels: int) -> None:
    """Raise a label actor's badges off their anchor point, so the flag stands on the pin."""
    actor.SetPosition(0, pixels)


def pick_point(plotter: pv.Plotter, x: int, y: int) -> tuple[float, float, float] | None:
    """The 3D point of the surface under the display pixel (x, y) (VTK's origin: lower left),
    or None when nothing is there. Only pickable actors count: the twin, not overlays or pins."""
    picker = vtk.vtkCellPicker()
    picker.SetTolerance(0.0005)
    if not picker.Pick(x, y, 0, plotter.renderer) or picker.GetCellId() < 0:
        return None
    p = picker.GetPickPosition()
    return (float(p[0]), float(p[1]), float(p[2]))


def component_centre(model: ModelData, components: Sequence[int]) -> NDArray[np.float64] | None:
    """The centre of the bounding box of these components' own triangles; None when they have
    none (a group without geometry: pass its subtree)."""
    if not len(components) or model.n_triangles == 0:
        return None
    mask = np.isin(model.cell_component, np.asarray(components, np.int64))
    if not mask.any():
        return None
    pts = model.points[np.unique(model.triangles[mask])]
    return np.asarray((pts.min(axis=0) + pts.max(axis=0)) / 2, np.float64)
