"""Helpers shared by the readers: colour conversion and trimesh scenes to components.

Kept private: readers differ in what a component is, but they all hand geometry to a
:class:`~twinviewer.core.model.ModelBuilder` the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from twinviewer.core.model import ModelBuilder

log = logging.getLogger(__name__)


def linear_to_srgb(rgb: Sequence[float]) -> tuple[float, float, float]:
    """Convert a linear colour (glTF's ``baseColorFactor``) to the sRGB value a user picked.

    glTF stores material factors in linear light; every other format and the viewer's colour
    rules use display (sRGB) values, so a red exported from CAD reads back as the same red.
    """
    c = np.clip(np.asarray(rgb[:3], dtype=np.float64), 0.0, 1.0)
    s = np.where(c <= 0.0031308, c * 12.92, 1.055 * np.power(c, 1 / 2.4) - 0.055)
    return (float(s[0]), float(s[1]), float(s[2]))


def transform_points(points: NDArray, matrix: NDArray) -> NDArray[np.float64]:
    """Apply a 4x4 homogeneous transform (column vectors) to ``(N, 3)`` points."""
    m = np.asarray(matrix, dtype=np.float64)
    return np.asarray(points) @ m[:3, :3].T + m[:3, 3]


def orient_faces(faces: NDArray, matrix: NDArray) -> NDArray:
    """Reverse the winding when ``matrix`` mirrors, so outward normals stay outward."""
    (a, b, c), (d, e, f), (g, h, i) = np.asarray(matrix, dtype=np.float64)[:3, :3].tolist()
    if a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g) < 0:
        return np.ascontiguousarray(np.asarray(faces)[:, ::-1])
    return np.asarray(faces)


def trimesh_colour(geometry: Any) -> tuple[float, float, float] | None:
    """The base colour of a trimesh geometry, 0..1 sRGB, or ``None`` when the file sets none.

    trimesh invents a default grey for every mesh; only a colour the file gave is worth keeping,
    because the viewer shows its own neutral colour for parts that have none.
    """
    visual = getattr(geometry, "visual", None)
    if visual is None:
        return None
    try:
        kind = visual.kind
        if kind is None:
            return None
        if kind == "texture":
            material = getattr(visual, "material", None)
            base = getattr(material, "baseColorFactor", None)
            if base is None:
                base = getattr(material, "main_color", None)
            if base is None:
                return None
            rgb = np.asarray(base, dtype=np.float64)[:3]
        else:
            rgb = np.asarray(visual.main_color, dtype=np.float64)[:3]
    except Exception:  # a malformed material is not worth failing the read over
        log.debug("could not read a colour from %r", geometry, exc_info=True)
        return None
    if rgb.max() > 1.0:
        rgb = rgb / 255.0
    return (float(rgb[0]), float(rgb[1]), float(rgb[2]))


def add_trimesh_scene(
    builder: ModelBuilder,
    scene: Any,
    parent: int = -1,
    names: dict[str, str] | None = None,
    order: list[str] | None = None,
) -> int:
    """Add every node of a ``trimesh.Scene`` below ``parent``, keeping its hierarchy.

    Nodes without geometry become groups only when something below them has geometry.
    ``names`` maps trimesh node names to the names to show (trimesh makes names unique by
    renaming, which would hide the duplicates the builder reports). ``order`` optionally lists the
    children of the base frame in the file's order. Returns the number of parts added.
    """
    graph = scene.graph
    children: dict[str, list[str]] = graph.transforms.children
    parents: dict[str, str] = graph.transforms.parents
    edges = graph.transforms.edge_data
    names = names or {}
    added = 0

    # Keep a node when it or anything below it has triangles: walk up once from each mesh.
    keep: set[str] = set()
    for (_, node), edge in edges.items():
        geom = edge.get("geometry")
        if geom is None or _faces(scene.geometry.get(geom)) is None:
            continue
        while node is not None and node not in keep and node != graph.base_frame:
            keep.add(node)
            node = parents.get(node)

    roots = [n for n in children.get(graph.base_frame, []) if n in keep]
    if order is not None:
        rank = {n: i for i, n in enumerate(order)}
        roots.sort(key=lambda n: rank.get(n, len(rank)))
    stack: list[tuple[str, int, NDArray[np.float64]]] = [
        (n, parent, np.eye(4)) for n in reversed(roots)
    ]
    while stack:
        node, parent_index, parent_matrix = stack.pop()
        edge = edges.get((parents.get(node), node), {})
        local = edge.get("matrix")
        world = parent_matrix if local is None else parent_matrix @ np.asarray(local, np.float64)
        geometry = scene.geometry.get(edge.get("geometry")) if edge.get("geometry") else None
        faces = _faces(geometry)
        kids = [k for k in children.get(node, []) if k in keep]
        name = names.get(node, node)
        if faces is not None and geometry is not None:
            vertices = transform_points(geometry.vertices, world)
            index = builder.add(
                name,
                parent_index,
                vertices,
                orient_faces(faces, world),
                colour=trimesh_colour(geometry),
            )
            added += 1
        else:
            index = builder.add(name, parent_index)
        stack.extend((k, index, world) for k in reversed(kids))
    return added


def _faces(geometry: Any) -> NDArray | None:
    faces = getattr(geometry, "faces", None)
    if faces is None or len(faces) == 0:
        return None
    return np.asarray(faces)
