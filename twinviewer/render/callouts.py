"""Callouts: a sensor's value and unit pinned to its place in the 3D view.

A tour step names sensors (``callouts:``); each becomes a small label, its name over its value
(``Fan vibration`` / ``7.42 mm/s``), beside a world point (the sensor's position, or the middle
of its component) with a thin leader line from the point to the label. The labels follow the
camera; before every draw they are laid out in screen space so that none covers another, turned
inward at the view's edges, and hidden while their point is behind the camera or off the view.

:class:`CalloutLayer` works on any pyvista plotter (the off-screen one of a video, the window's
``QtInteractor``) and never renders: its owner draws. Only text and a 2D line are added to the
plotter's renderer, so the section plane never cuts a callout.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import vtk

log = logging.getLogger(__name__)

LABEL_COLOUR = (0.97, 0.97, 0.97)
LABEL_BACKGROUND = (0.07, 0.08, 0.10)
FRAME_COLOUR = (1.0, 0.78, 0.25)  # amber: not a status colour, not the cyan selection
OFFSET_PX = (28.0, 22.0)  # from the point to the label's nearest corner
MARGIN_PX = 4.0


@dataclass(frozen=True)
class Callout:
    """One label: ``key`` (the sensor's id), its text, and the world point it is pinned to."""

    key: str
    text: str
    position: tuple[float, float, float]


def reading(value: float, unit: str) -> str:
    """A value as a person reads it at a glance, with its unit (``no data`` for NaN)."""
    if not math.isfinite(value):
        return "no data"
    a = abs(value)
    if a >= 1000:
        text = f"{value:,.0f}"
    elif a >= 100:
        text = f"{value:.1f}"
    elif a >= 1 or a == 0:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3g}"
    return f"{text} {unit}".rstrip()


def callout_text(label: str, value: float, unit: str) -> str:
    """What a callout reads: its label over the reading."""
    return f"{label}\n{reading(value, unit)}"


class CalloutLayer:
    """Labels pinned to world points over a plotter's scene (see the module doc)."""

    def __init__(self, plotter: Any, font_size: int = 14) -> None:
        self.plotter = plotter
        self.font_size = font_size
        self.renderer: vtk.vtkRenderer = plotter.renderer
        self.callouts: list[Callout] = []
        self.labels: dict[str, vtk.vtkTextActor] = {}
        self._points: dict[str, np.ndarray] = {}
        self._leaders = vtk.vtkPolyData()
        mapper = vtk.vtkPolyDataMapper2D()
        mapper.SetInputData(self._leaders)
        self._leader_actor = vtk.vtkActor2D()
        self._leader_actor.SetMapper(mapper)
        self._leader_actor.SetPickable(False)
        prop = self._leader_actor.GetProperty()
        prop.SetColor(*FRAME_COLOUR)
        prop.SetLineWidth(1.5)
        prop.SetPointSize(5.0)
        self.renderer.AddViewProp(self._leader_actor)
        self._observer = self.renderer.AddObserver("StartEvent", self._layout)
        #: where each label was drawn last (left, bottom, width, height in pixels); None: hidden
        self.placed: dict[str, tuple[float, float, float, float] | None] = {}

    # -- content ------------------------------------------------------------------------------
    def set_callouts(self, callouts: Sequence[Callout]) -> None:
        """Show these labels (replacing those shown); an empty sequence removes them all."""
        keep = {c.key for c in callouts}
        for key in list(self.labels):
            if key not in keep:
                self.renderer.RemoveViewProp(self.labels.pop(key))
                self._points.pop(key, None)
        for c in callouts:
            actor = self.labels.get(c.key)
            if actor is None:
                actor = self._text_actor()
                self.renderer.AddViewProp(actor)
                self.labels[c.key] = actor
            actor.SetInput(c.text)
            self._points[c.key] = np.asarray(c.position, np.float64)
        self.callouts = list(callouts)
        self.placed = {}

    def set_texts(self, texts: dict[str, str]) -> None:
        """New texts for labels already shown (the next reading), by key."""
        for key, text in texts.items():
            actor = self.labels.get(key)
            if actor is not None and actor.GetInput() != text:
                actor.SetInput(text)

    def clear(self) -> None:
        self.set_callouts([])

    def close(self) -> None:
        """Take the layer off the plotter."""
        self.clear()
        self.renderer.RemoveObserver(self._observer)
        self.renderer.RemoveViewProp(self._leader_actor)

    def _text_actor(self) -> vtk.vtkTextActor:
        actor = vtk.vtkTextActor()
        actor.SetPickable(False)
        prop = actor.GetTextProperty()
        prop.SetFontFamilyToArial()
        prop.SetFontSize(self.font_size)
        prop.SetColor(*LABEL_COLOUR)
        prop.SetBackgroundColor(*LABEL_BACKGROUND)
        prop.SetBackgroundOpacity(0.8)
        prop.SetFrame(True)
        prop.SetFrameColor(*FRAME_COLOUR)
        prop.SetFrameWidth(1)
        prop.SetJustificationToLeft()
        prop.SetVerticalJustificationToBottom()
        actor.GetPositionCoordinate().SetCoordinateSystemToDisplay()
        return actor

    # -- layout -------------------------------------------------------------------------------
    def _display_point(self, p: np.ndarray) -> tuple[float, float] | None:
        """Where world point ``p`` lands on the display, or None behind the camera."""
        cam = self.renderer.GetActiveCamera()
        eye = np.asarray(cam.GetPosition())
        ahead = np.asarray(cam.GetDirectionOfProjection())
        if float(np.dot(p - eye, ahead)) <= 0.0:
            return None
        self.renderer.SetWorldPoint(*p, 1.0)
        self.renderer.WorldToDisplay()
        x, y, _ = self.renderer.GetDisplayPoint()
        return float(x), float(y)

    def _layout(self, *_: object) -> None:
        """Before each draw: each label up and to the right of its point (left of it or below it
        at the view's edges), moved up past the labels already placed so none overlaps."""
        width, height = self.renderer.GetSize()
        placed: list[tuple[float, float, float, float]] = []
        points = vtk.vtkPoints()
        lines = vtk.vtkCellArray()
        verts = vtk.vtkCellArray()
        box = [0.0, 0.0, 0.0, 0.0]
        dx, dy = OFFSET_PX
        # nearer the top of the view first, so labels stack upwards in order
        order = []
        for c in self.callouts:
            at = self._display_point(self._points[c.key])
            order.append((c.key, at))
        order.sort(key=lambda item: -(item[1][1] if item[1] is not None else -1e9))
        for key, at in order:
            actor = self.labels[key]
            inside = at is not None and 0 <= at[0] <= width and 0 <= at[1] <= height
            actor.SetVisibility(inside)
            if not inside or at is None:
                self.placed[key] = None
                continue
            x, y = at
            actor.GetBoundingBox(self.renderer, box)
            w, h = box[1] - box[0], box[3] - box[2]
            left = x + dx if x + dx + w <= width - MARGIN_PX else x - dx - w
            bottom = y + dy if y + dy + h <= height - MARGIN_PX else y - dy - h
            left = min(max(left, MARGIN_PX), max(MARGIN_PX, width - MARGIN_PX - w))
            for _attempt in range(len(placed) + 1):
                hit = next(
                    (p for p in placed
                     if left < p[0] + p[2] + MARGIN_PX and p[0] < left + w + MARGIN_PX
                     and bottom < p[1] + p[3] + MARGIN_PX and p[1] < bottom + h + MARGIN_PX),
                    None,
                )  # fmt: skip
                if hit is None:
                    break
                bottom = hit[1] + hit[3] + MARGIN_PX + 1
            placed.append((left, bottom, w, h))
            self.placed[key] = (left, bottom, w, h)
            actor.GetPositionCoordinate().SetValue(left, bottom)
            # the leader: from the point to the label's nearest corner
            cx = left if left >= x else left + w
            cy = bottom if bottom >= y else bottom + h
            a = points.InsertNextPoint(x, y, 0.0)
            b = points.InsertNextPoint(cx, cy, 0.0)
            lines.InsertNextCell(2)
            lines.InsertCellPoint(a)
            lines.InsertCellPoint(b)
            verts.InsertNextCell(1)
            verts.InsertCellPoint(a)
        self._leaders.SetPoints(points)
        self._leaders.SetLines(lines)
        self._leaders.SetVerts(verts)
        self._leaders.Modified()
