"""A step's callouts in the window: live sensor values pinned to the 3D view.

The labels are :class:`twinviewer.render.callouts.CalloutLayer`'s, the same a tour video burns
in (laid out so none covers another, with a leader to the sensor's place); this class picks
the sensors of a step, pins each where ``TwinSession.sensor_anchor`` says, and writes the values
the twin shows now into the labels on every frame while the step dwells.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import vtk

from twinviewer.core.project_tours import Callout as StepCallout
from twinviewer.render.callouts import Callout, CalloutLayer, callout_text

if TYPE_CHECKING:
    from twinviewer.session import TwinSession
    from twinviewer.ui.view3d import QtView3D


class TourCallouts:
    """The callouts of the step being shown, over the window's 3D view."""

    def __init__(self, view: QtView3D, font_size: int = 15) -> None:
        self.layer = CalloutLayer(view.interactor, font_size=font_size)
        self._shown: list[tuple[str, int, str]] = []  # sensor id, index, label

    @property
    def labels(self) -> dict[str, vtk.vtkTextActor]:
        """The label of each sensor shown, by sensor id."""
        return self.layer.labels

    def show(self, session: TwinSession, callouts: list[StepCallout]) -> list[str]:
        """Pin these callouts (replacing those shown); returns the sensors that cannot be."""
        missing: list[str] = []
        shown: list[Callout] = []
        self._shown = []
        for c in callouts:
            k = session.sensor_index.get(c.sensor)
            where = session.sensor_anchor(k) if k is not None else None
            if k is None or where is None:
                missing.append(c.sensor)
                continue
            sensor = session.sensors[k]
            label = c.label or sensor.name or sensor.id
            self._shown.append((c.sensor, k, label))
            shown.append(Callout(c.sensor, self._text(session, k, label), where))
        self.layer.set_callouts(shown)
        return missing

    def update(self, session: TwinSession) -> None:
        """Write the values the twin shows now into the labels."""
        self.layer.set_texts({sid: self._text(session, k, lab) for sid, k, lab in self._shown})

    def clear(self) -> None:
        self._shown = []
        self.layer.clear()

    @staticmethod
    def _text(session: TwinSession, k: int, label: str) -> str:
        value = float(session.shown_value[k]) if len(session.shown_value) > k else math.nan
        return callout_text(label, value, session.sensors[k].unit)
