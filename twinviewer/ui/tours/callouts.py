"""A step's callouts: live sensor values pinned to the 3D view, updated while the step dwells.

Each callout is a small framed label (name, value, unit) whose corner follows a world point:
the sensor's own position when the project gives one, else the centre of the components the
sensor colours. The labels are 2D text actors of the view's renderer, not pickable; the owner
calls :meth:`CalloutLayer.update` on every frame so the values keep moving with the twin.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import vtk

from twinviewer.core.project_tours import Callout
from twinviewer.render.pins import component_centre

if TYPE_CHECKING:
    from twinviewer.session import TwinSession
    from twinviewer.ui.view3d import QtView3D

FRAME = (1.0, 0.78, 0.2)  # amber: not a status colour, not the cyan selection
OFFSET_PX = (10.0, 10.0)


class CalloutLayer:
    """The callouts of the step being shown, over one 3D view."""

    def __init__(self, view: QtView3D, font_size: int = 15) -> None:
        self.view = view
        self.font_size = font_size
        self.labels: dict[str, vtk.vtkTextActor] = {}
        self._shown: list[tuple[int, str, vtk.vtkTextActor]] = []  # (sensor index, label, actor)

    def show(self, session: TwinSession, callouts: list[Callout]) -> list[str]:
        """Pin these callouts (replacing those shown); returns the sensors that cannot be."""
        self.clear()
        index = {s.id: k for k, s in enumerate(session.sensors)}
        marked, positions = session.sensor_positions()
        where = {int(k): positions[i] for i, k in enumerate(marked)}
        missing: list[str] = []
        stacked: dict[tuple[float, ...], int] = {}  # labels at one point go one above another
        for c in callouts:
            k = index.get(c.sensor)
            anchor = None
            if k is not None:
                anchor = where.get(k)
                if anchor is None:
                    anchor = component_centre(session.model, session.binding.sensor_nodes[k])
            if k is None or anchor is None:
                missing.append(c.sensor)
                continue
            sensor = session.sensors[k]
            at = tuple(round(float(x), 6) for x in anchor)
            row = stacked.get(at, 0)
            stacked[at] = row + 1
            actor = self._actor(anchor, row)
            self.view.interactor.renderer.AddViewProp(actor)
            self._shown.append((k, c.label or sensor.name or sensor.id, actor))
            self.labels[c.sensor] = actor
        self.update(session)
        return missing

    def update(self, session: TwinSession) -> None:
        """Write the values the twin shows now into the labels."""
        for k, label, actor in self._shown:
            v = float(session.shown_value[k])
            unit = session.sensors[k].unit
            value = f"{v:.4g} {unit}".strip() if math.isfinite(v) else "no data"
            actor.SetInput(f"{label}\n{value}")

    def texts(self) -> dict[str, str]:
        return {sensor: actor.GetInput() for sensor, actor in self.labels.items()}

    def clear(self) -> None:
        for _k, _label, actor in self._shown:
            self.view.interactor.renderer.RemoveViewProp(actor)
        self._shown = []
        self.labels = {}

    def _actor(self, anchor: np.ndarray, row: int) -> vtk.vtkTextActor:
        actor = vtk.vtkTextActor()
        actor.SetPickable(False)
        prop = actor.GetTextProperty()
        prop.SetFontFamilyToArial()
        prop.SetFontSize(self.font_size)
        prop.SetColor(0.98, 0.98, 0.98)
        prop.SetBackgroundColor(0.08, 0.09, 0.11)
        prop.SetBackgroundOpacity(0.8)
        prop.SetFrame(True)
        prop.SetFrameColor(*FRAME)
        prop.SetFrameWidth(2)
        prop.SetJustificationToLeft()
        prop.SetVerticalJustificationToBottom()
        world = vtk.vtkCoordinate()
        world.SetCoordinateSystemToWorld()
        world.SetValue(*(float(x) for x in anchor))
        coord = actor.GetPositionCoordinate()
        coord.SetCoordinateSystemToDisplay()
        coord.SetReferenceCoordinate(world)
        line = self.font_size * 2.4 + 10  # two lines of text and a gap
        coord.SetValue(OFFSET_PX[0], OFFSET_PX[1] + row * line)
        return actor
