"""The window now, as a tour step: *Add the current view as a step*.

What the review's viewpoint captures (:func:`twinviewer.ui.review.viewpoint.capture`: camera,
selection, hidden components, section, overlay, colouring, time) becomes the step's camera,
``highlight``, ``isolate``/``hide``, ``section``, ``overlay``, ``colour`` and ``time``; X-ray
becomes ``transparent`` (the components drawn see-through). Component lists are kept short: a
component whose parent is in the same list is left out (its parent brings it), and a model
with most of its parts hidden is written as what is isolated.

A moment of the history is written in ISO 8601 (UTC); the timeline following live is ``live``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from twinviewer.core.model import ModelData
from twinviewer.core.project_tours import Section, TourCamera, TourStep
from twinviewer.render.xray import opaque_components
from twinviewer.ui.review.viewpoint import (
    DIFFERENCE_MODE,
    QUANTITY_MODE,
    RESIDUAL_MODE,
    capture,
)

if TYPE_CHECKING:
    from twinviewer.session import TwinSession
    from twinviewer.ui.main_window import QtMainWindow


def parents_of(model: ModelData) -> NDArray[np.int64]:
    return np.array([c.parent for c in model.components], np.int64)


def expand(model: ModelData, roots: Iterable[int]) -> NDArray[np.bool_]:
    """The mask of ``roots`` and everything under them."""
    mask = np.zeros(model.n_components, bool)
    for r in roots:
        mask[model.subtree(int(r))] = True
    return mask


def roots(model: ModelData, mask: NDArray[np.bool_]) -> list[int]:
    """The members of ``mask`` whose parent is not a member (each brings its subtree only when
    the whole subtree is a member: callers check with :func:`expand`)."""
    parents = parents_of(model)
    members = np.flatnonzero(mask)
    return [int(i) for i in members if parents[i] < 0 or not mask[parents[i]]]


def hidden_by(model: ModelData, isolate: Iterable[int], hide: Iterable[int]) -> NDArray[np.bool_]:
    """What a step hides: everything outside the ``isolate`` subtrees (when it isolates), and
    the ``hide`` subtrees."""
    isolate = list(isolate)
    hidden = ~expand(model, isolate) if isolate else np.zeros(model.n_components, bool)
    return hidden | expand(model, hide)


def visibility(model: ModelData, hidden: NDArray[np.bool_]) -> tuple[list[int], list[int]]:
    """``(isolate, hide)`` component indices that give exactly ``hidden`` (see
    :func:`hidden_by`): the hidden subtrees, or (when shorter) the visible ones isolated and
    the subtrees hidden under them."""
    if not hidden.any():
        return [], []
    options: list[tuple[list[int], list[int]]] = []
    hide = roots(model, hidden)
    if np.array_equal(expand(model, hide), hidden):
        options.append(([], hide))
    shown = roots(model, ~hidden)
    extra = roots(model, expand(model, shown) & hidden)
    if shown and np.array_equal(hidden_by(model, shown, extra), hidden):
        options.append((shown, extra))
    if not options:  # hidden parents over shown children over hidden ones: name them all
        return [], [int(i) for i in np.flatnonzero(hidden)]
    return min(options, key=lambda o: len(o[0]) + len(o[1]))


def see_through(
    session: TwinSession, colours: NDArray[np.uint8], selection: Iterable[int]
) -> list[int]:
    """The components X-ray draws translucent now (as few subtree roots as say it exactly)."""
    model = session.model
    sel = np.asarray(list(selection), np.int64)
    opaque = opaque_components(colours, parents_of(model), sel)
    ghost = ~opaque
    top = roots(model, ghost)
    covered = expand(model, top)
    if np.array_equal(covered, ghost):
        return top
    return [int(i) for i in np.flatnonzero(ghost)]


def moment_text(t: float) -> str:
    """An instant as the tour writes it: ISO 8601 in UTC, to the millisecond when needed."""
    when = datetime.fromtimestamp(t, tz=timezone.utc)
    spec = "milliseconds" if when.microsecond else "seconds"
    return when.isoformat(timespec=spec).replace("+00:00", "Z")


def step_colour(mode: str) -> str | None:
    """A viewpoint's colour mode as a step's ``colour`` (residual and difference cannot be)."""
    if mode in (RESIDUAL_MODE, DIFFERENCE_MODE):
        return None
    return mode.removeprefix(QUANTITY_MODE)


def capture_step(host: QtMainWindow, title: str) -> TourStep:
    """The window's view now as a step titled ``title`` (fly there in 2 s, default dwell)."""
    s = host.session
    assert s is not None
    vp = capture(host)
    wb = host.workbench
    model = s.model
    hidden = wb.hidden_mask(model.n_components, covered=False)
    isolate, hide = visibility(model, hidden)
    transparent: list[int] = []
    if wb.xray:
        transparent = see_through(s, host.view.scene.component_colours, wb.selection)
    cam = vp.camera
    return TourStep(
        title=title,
        camera=TourCamera(
            position=cam.position, focal_point=cam.focal_point, up=cam.up,
            view_angle=cam.view_angle,
        ),
        highlight=list(vp.selection),
        isolate=s.component_ids(isolate),
        hide=s.component_ids(hide),
        transparent=s.component_ids(transparent),
        section=None if vp.section is None else Section(
            origin=vp.section.origin, normal=vp.section.normal
        ),
        colour=step_colour(vp.colour_mode) if vp.colour_mode else None,
        overlay=vp.overlay,
        time="live" if vp.time is None else moment_text(vp.time),
    )  # fmt: skip
