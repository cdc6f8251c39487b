"""View > Fleet overview: every unit of a fleet twin side by side in the 3D view, by its state.

While it is on, the 3D view draws the overview (:class:`~twinviewer.render.fleet_overview.
FleetOverview` on its own renderer, on top of the twin's, which is not drawn and takes no
input) instead of the selected unit; the twin's camera, colours and actors are left as they
are and come back when it is switched off. The units stand as the project's ``fleet.layout``
says (a depot row, a grid, or where their ``place`` motion's sensors put them), each in its
NE 107 state's colour, refreshed twice a second with the fleet's health; the unit selected in
the Fleet dock is outlined.

A click on a unit selects it (the Fleet dock, tree, inspector, charts and timeline follow) and
goes back to the single-unit view, framed on it: a fleet engineer scans the overview for the
unit that is not green and goes straight to what is wrong with it. Ctrl+Shift+F comes back.
Only fleet projects (``fleet:``) enable the action.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING

import numpy as np
import vtk
from numpy.typing import NDArray

from twinviewer.core.fleet_layout import Position, layout_fleet
from twinviewer.render.fleet_overview import FleetOverview, health_colours, state_legend
from twinviewer.ui.feature import ActionSpec, Feature

if TYPE_CHECKING:
    from twinviewer.session import TwinSession
    from twinviewer.ui.main_window import QtMainWindow

log = logging.getLogger(__name__)

ACTION = "fleet.overview"


def unit_positions(session: TwinSession) -> list[Position | None] | None:
    """Each unit's ``(x, y, z, heading)`` from the project's first ``place`` motion and the
    values shown now (the motion's origin carried to x, y, z, turned about Z; a unit with no
    value yet: ``None``); ``None`` when the project has no ``place`` motion."""
    fleet = session.fleet
    place = next((m for m in getattr(session.project, "motion", []) if m.kind == "place"), None)
    if fleet is None or place is None:
        return None
    T = fleet.n_templates
    ids = [t.id for t in fleet.templates]
    value = session.shown_value
    out: list[Position | None] = []
    for u in range(len(fleet.units)):

        def read(template: str | None, u: int = u) -> float:
            if template is None or template not in ids:
                return math.nan
            i = u * T + ids.index(template)
            return float(value[i]) if i < len(value) else math.nan

        raw = [read(place.x), read(place.y), read(place.z)]
        if all(math.isnan(v) for v in raw):
            out.append(None)
            continue
        pos = np.array(
            [
                o if math.isnan(v) else place.scale * v + place.offset
                for v, o in zip(raw, place.origin, strict=True)
            ]
        )
        heading = read(place.heading)
        heading = 0.0 if math.isnan(heading) else heading
        a = math.radians(heading)
        c, s = math.cos(a), math.sin(a)
        ox, oy, oz = place.origin
        # the model's origin goes where the motion's origin point lands after the turn
        out.append((pos[0] - (c * ox - s * oy), pos[1] - (s * ox + c * oy), pos[2] - oz, heading))
    return out


class FleetOverviewFeature(Feature):
    """View > Fleet overview (see the module)."""

    name = "fleet_overview"

    def __init__(self, host: QtMainWindow) -> None:
        super().__init__(host)
        self.renderer: vtk.vtkRenderer | None = None
        self.overview: FleetOverview | None = None
        self._units: list[str] = []

    def actions(self) -> list[ActionSpec]:
        return [
            ActionSpec(
                ACTION,
                "&Fleet overview",
                self.toggle,
                "View",
                "fleet",
                "Ctrl+Shift+F",
                "Every unit of the fleet side by side, coloured by its NE 107 state; click one "
                "to show it",
                checkable=True,
            )
        ]

    @property
    def shown(self) -> bool:
        return self.renderer is not None

    # -- the host's calls ------------------------------------------------------------------------
    def opened(self, session: TwinSession) -> None:
        act = self.host.action(ACTION)
        act.setEnabled(session.fleet is not None)
        act.setChecked(False)

    def closed(self) -> None:
        self.toggle(False)
        self.overview = None  # its stand-ins belong to this twin's model

    def refresh(self) -> None:
        s = self.session
        if not self.shown or s is None or s.fleet is None or self.overview is None:
            return
        if s.fleet.units != self._units:  # units discovered: lay them out again
            self._show_units(s, fit=False)
        else:
            self._update(s)
        self.host.view.request_render()

    # -- on and off ------------------------------------------------------------------------------
    def toggle(self, on: bool | None = None) -> None:
        """Show the overview (``on``), or the selected unit again; ``None``: the action's state."""
        act = self.host.action(ACTION)
        want = bool(act.isChecked() if on is None else on)
        s = self.session
        if want and (s is None or s.fleet is None):
            want = False
        act.setChecked(want)
        if want == self.shown:
            return
        view = self.host.view
        twin = view.interactor.renderer
        window = view.interactor.ren_win
        if want:
            assert s is not None
            renderer = vtk.vtkRenderer()
            renderer.SetBackground(twin.GetBackground())
            window.AddRenderer(renderer)
            twin.DrawOff()
            twin.InteractiveOff()
            self.renderer = renderer
            self.overview = FleetOverview(renderer)
            self._show_units(s, fit=True)
            view.layer = self
        else:
            view.layer = None
            if self.overview is not None:
                self.overview.clear()
            if self.renderer is not None:
                window.RemoveRenderer(self.renderer)
            self.renderer = None
            twin.DrawOn()
            twin.InteractiveOn()
        view.request_render()

    def _show_units(self, s: TwinSession, fit: bool) -> None:
        fleet = s.fleet
        assert fleet is not None and self.overview is not None
        units = list(fleet.units)
        layout = fleet.config.layout
        placement = layout_fleet(
            layout.kind,
            s.model.bounds(),
            len(units),
            layout.spacing,
            layout.columns,
            unit_positions(s) if layout.kind == "data" else None,
        )
        self.overview.show(s.model, placement.transforms, units, placement.anchors)
        self.overview.set_legend(state_legend())
        label = fleet.label.lower()
        self.overview.set_caption(
            f"{len(units)} {label}{'s' if len(units) != 1 else ''} · click one to show it"
        )
        self._units = units
        self._update(s)
        if fit:
            self.overview.fit(row_axis=placement.row_axis)

    def _update(self, s: TwinSession) -> None:
        """Colours from the fleet's health, positions from data, the selected unit outlined."""
        fleet = s.fleet
        assert fleet is not None and self.overview is not None
        self.overview.set_colours(self.colours(s))
        if fleet.config.layout.kind == "data":
            positions = unit_positions(s)
            if positions is not None and any(p is not None for p in positions):
                layout = fleet.config.layout
                placement = layout_fleet(
                    "data", s.model.bounds(), len(self._units), layout.spacing, positions=positions
                )
                self.overview.set_transforms(placement.transforms, placement.anchors)
        selected = fleet.position(fleet.selected) if fleet.selected is not None else -1
        if selected != (self.overview.highlighted if self.overview.highlighted is not None else -1):
            self.overview.highlight(selected if selected >= 0 else None)

    def colours(self, s: TwinSession) -> NDArray[np.uint8]:
        """One RGBA per unit: its NE 107 state's colour (grey: no roll-up for it yet)."""
        fleet = s.fleet
        assert fleet is not None
        health = np.full(len(self._units), -1, np.int64)
        h = fleet.health().health
        n = min(len(h), len(health))
        health[:n] = h[:n]
        return health_colours(health)

    # -- the view's layer ------------------------------------------------------------------------
    def begin_interaction(self) -> None:
        if self.overview is not None:
            self.overview.begin_interaction()

    def end_interaction(self) -> None:
        if self.overview is not None:
            self.overview.end_interaction()

    def click(self, x: int, y: int) -> None:
        """A click on a unit selects it and shows it; a click beside every unit does nothing."""
        if self.overview is None:
            return
        unit = self.overview.pick(x, y)
        if unit is None or unit >= len(self._units):
            return
        self.open_unit(self._units[unit])

    def open_unit(self, unit: str) -> None:
        """Select ``unit`` (through the Fleet dock when it is there, so that it follows) and go
        back to the single-unit view, framed on the unit."""
        s = self.session
        if s is None or s.fleet is None:
            return
        dock = self.host.features.get("fleet")
        select = getattr(dock, "select", None)
        if callable(select):
            select(unit)
        else:
            s.fleet.select(unit)
            self.host.redraw()
        self.toggle(False)
        self.host.view.scene.fit()
        self.host.view.request_render()
