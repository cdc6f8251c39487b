"""X-ray (ghost) mode's arithmetic: which components stay opaque, and splitting drawn cells.

The scene draws X-ray with two actors over the same points, one for the opaque cells and one
for the translucent ones (no per-component actor: thousands of parts stay one or two draw
calls). What goes where is decided here with numpy on per-component masks, so that the rule
("the selection and what is under it; else parts in warning or alarm") is testable without a
render window.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pyvista as pv
from numpy.typing import NDArray

from twinviewer.core.colour import ALARM_COLOUR, WARNING_COLOUR


class Split(NamedTuple):
    """The drawn cells split for X-ray: opaque and translucent meshes, and (at full resolution)
    the model cell id of each of their cells, for picking (``None``: the identity)."""

    opaque: pv.PolyData
    opaque_cells: NDArray[np.int64] | None
    ghost: pv.PolyData | None
    ghost_cells: NDArray[np.int64] | None


def opaque_components(
    table: NDArray[np.uint8],
    parents: NDArray[np.int64],
    selection: NDArray[np.int64],
    emphasis: NDArray[np.bool_] | None = None,
) -> NDArray[np.bool_]:
    """The mask of components X-ray draws opaque.

    With a selection: the selected components and everything under them (selecting an
    assembly in the tree means the assembly). Without one: ``emphasis`` if given, else the
    components whose colour in ``table`` (C, 4) is the warning or alarm status colour, so that
    a part in trouble inside a housing stands out with no extra wiring from the caller.
    """
    n = len(table)
    opaque = np.zeros(n, bool)
    if len(selection):
        opaque[selection[(selection >= 0) & (selection < n)]] = True
        # A child is opaque when its parent is: push the mask down one level per pass (as many
        # passes as the tree is deep, each one numpy operation).
        has_parent = np.flatnonzero(parents[:n] >= 0)
        while True:
            grown = opaque.copy()
            grown[has_parent] |= opaque[parents[has_parent]]
            if np.array_equal(grown, opaque):
                return opaque
            opaque = grown
    if emphasis is not None:
        m = min(n, len(emphasis))
        opaque[:m] = emphasis[:m]
        return opaque
    rgb = table[:, :3]
    for colour in (WARNING_COLOUR, ALARM_COLOUR):
        opaque |= (rgb == colour[:3]).all(axis=1)
    return opaque


def same_mask(a: NDArray[np.bool_] | None, b: NDArray[np.bool_] | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return bool(np.array_equal(a, b))


def split_stand_in(data: pv.PolyData, opaque: NDArray[np.bool_]) -> Split:
    """Split the clustered camera-move stand-in by its cells' ``component`` (it keeps them)."""
    tris = _triangles_of(data)
    if tris is None:  # not triangles only: move with the stand-in unsplit
        return Split(data, None, None, None)
    comp = np.asarray(data.cell_data["component"], np.int64)
    sel = opaque[np.clip(comp, 0, len(opaque) - 1)]
    meshes = []
    for mask in (sel, ~sel):
        faces = np.empty((int(mask.sum()), 4), np.int64)
        faces[:, 0] = 3
        faces[:, 1:] = tris[mask]
        part = pv.PolyData(data.points, faces=faces.ravel())
        part.cell_data["component"] = comp[mask]
        meshes.append(part)
    return Split(meshes[0], None, meshes[1], None)


def _triangles_of(data: pv.PolyData) -> NDArray[np.int64] | None:
    """(M, 3) vertex ids of a triangles-only mesh (what quadric clustering makes), else None."""
    faces = np.asarray(data.faces, np.int64)
    if data.GetNumberOfPolys() != data.n_cells or len(faces) != 4 * data.n_cells:
        return None
    tris = faces.reshape(-1, 4)
    return tris[:, 1:] if (tris[:, 0] == 3).all() else None
