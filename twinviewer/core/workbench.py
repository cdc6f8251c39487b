"""What the whole workbench shares: one evented model that every feature reads and writes.

The window's features (component tree, inspector, charts, alarms, overlays, scenarios, section,
...) never talk to each other's widgets. They read this model, subscribe to its events
(``workbench.events.<field>.connect(...)``) and write the user's intent back into it; the
feature that owns a piece of the picture reacts. That is napari's and ndv's pattern: the model
is pure Python (pydantic + psygnal, no Qt), so it is tested without a window and a new feature
plugs in by listening to the fields it cares about.

Examples
--------
>>> wb = Workbench()
>>> seen = []
>>> _ = wb.events.selection.connect(seen.append)
>>> wb.selection = (3, 5)
>>> seen
[(3, 5)]
>>> wb.selection = (3, 5)  # no change, no event
>>> len(seen)
1
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from psygnal import EventedModel
from pydantic import BaseModel, ConfigDict, Field, field_validator

from twinviewer.core.timeline import Timeline

CompareMode = Literal["side", "difference"]
FieldMethod = Literal["geodesic", "idw", "rbf"]


class OverlayView(BaseModel):
    """How one simulation overlay is shown (immutable: replace it to change it)."""

    model_config = ConfigDict(frozen=True)

    visible: bool = False
    field: str = ""
    lo: float = 0.0
    hi: float = 1.0
    opacity: float = 1.0


class Comparison(BaseModel):
    """A what-if scenario run compared with the baseline: beside it, or as the difference."""

    model_config = ConfigDict(frozen=True)

    scenario: str
    mode: CompareMode = "side"


class Workbench(EventedModel):
    """The shared state of the workbench window.

    Attributes
    ----------
    twin
        The open twin (a :class:`twinviewer.session.TwinSession`, typed loosely because the
        session layer sits above ``core``), or ``None`` on the start page.
    selection
        Selected component indices, the first one being the one the inspector shows.
    hidden
        Components the user hid (tree check boxes, hide, isolate).
    covered
        Components an opaque overlay is drawn over (hidden from the twin's own mesh).
    xray
        Unselected parts drawn translucent so that inner parts can be seen.
    active_quantity
        The quantity that colours the model (``None``: each component's worst sensor status).
    overlays, current_overlay, residual
        How each simulation overlay is shown, the one being edited, and whether components are
        coloured by the current overlay's residuals (measured minus simulated).
    comparison
        The scenario run compared with the baseline, or ``None``.
    section
        A clip plane cuts the twin.
    alarms
        Warning and alarm intervals computed from the history (a structured array with at least
        ``start`` and ``level`` fields, see :mod:`twinviewer.core.alarms`).
    health
        What the trained models say at the current time (a
        :class:`twinviewer.predict.health.HealthState`), or ``None`` without models.
    health_colours
        Components are coloured by their health index instead of their sensors.
    field_quantity, field_method
        The quantity whose point sensors are spread over the surface (the *Field* colour mode,
        ``None``: off; it is also the active quantity), and how: along the mesh (``geodesic``),
        inverse distance (``idw``) or radial basis functions (``rbf``).
    timeline
        The current time, the range held and live-follow (its own evented model).
    """

    model_config = ConfigDict(
        arbitrary_types_allowed=True, validate_assignment=True, extra="forbid"
    )

    twin: Any = None
    selection: tuple[int, ...] = ()
    hidden: tuple[int, ...] = ()
    covered: tuple[int, ...] = ()
    xray: bool = False
    active_quantity: str | None = None
    overlays: dict[str, OverlayView] = Field(default_factory=dict)
    current_overlay: str = ""
    residual: bool = False
    comparison: Comparison | None = None
    section: bool = False
    alarms: Any = None
    health: Any = None
    health_colours: bool = False
    field_quantity: str | None = None
    field_method: FieldMethod = "geodesic"
    timeline: Timeline = Field(default_factory=lambda: Timeline(0.0, 0.0, live=True))

    @field_validator("selection", "hidden", "covered", mode="before")
    @classmethod
    def _indices(cls, value: Any) -> tuple[int, ...]:
        """Any sequence or boolean mask of component indices, stored as a sorted-free tuple."""
        arr = np.asarray(value if value is not None else ())
        if arr.dtype == bool:
            arr = np.flatnonzero(arr)
        return tuple(int(i) for i in arr.ravel())

    def overlay_view(self, name: str) -> OverlayView | None:
        return self.overlays.get(name)

    def set_overlay_view(self, name: str, **changes: Any) -> OverlayView:
        """Change how overlay ``name`` is shown (one ``overlays`` event)."""
        old = self.overlays.get(name) or OverlayView()
        new = old.model_copy(update=changes)
        self.overlays = {**self.overlays, name: new}
        return new

    def hidden_mask(self, n: int, covered: bool = True) -> np.ndarray:
        """The user's hidden components (and those covered by an overlay), as a mask of ``n``."""
        mask = np.zeros(n, bool)
        for ids in (self.hidden, self.covered) if covered else (self.hidden,):
            idx = np.asarray(ids, np.int64)
            mask[idx[(idx >= 0) & (idx < n)]] = True
        return mask

    def reset(self) -> None:
        """Back to the start page: nothing open, nothing selected (the timeline is kept)."""
        self.twin = None
        self.alarms = None
        self.health = None
        self.health_colours = False
        self.field_quantity = None
        self.comparison = None
        self.section = False
        self.residual = False
        self.overlays = {}
        self.current_overlay = ""
        self.covered = ()
        self.hidden = ()
        self.selection = ()
        self.active_quantity = None
        self.xray = False
