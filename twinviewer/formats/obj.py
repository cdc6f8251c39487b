"""Wavefront OBJ reader: one component per object (``o``) and group (``g``).

trimesh merges a whole OBJ into one mesh by default, losing part identity; it is asked to split
by object and group (the plural keyword names; the singular ones are silently ignored) and not by
material, so a part painted in two colours stays one part.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from twinviewer.core.model import ModelBuilder, ModelData, ModelReadError
from twinviewer.formats._common import add_trimesh_scene
from twinviewer.formats.registry import Progress, reader


@reader("OBJ", (".obj",))
def load_obj(path: Path, progress: Progress) -> ModelData:
    """Read an OBJ file; parts are named ``object`` or ``object_group`` as trimesh joins them.

    A file with neither objects nor groups gives one part named by the file's stem.
    """
    import trimesh

    scene: Any = trimesh.load(
        str(path),
        file_type="obj",
        force="scene",
        process=False,
        split_objects=True,
        split_groups=True,
        group_material=False,
    )
    progress(0.8)
    if not any(len(getattr(g, "faces", ())) for g in scene.geometry.values()):
        raise ModelReadError(path, "no faces found: not a Wavefront OBJ file, or one without faces")
    # trimesh builds its parts last-first; the file's order reads better in the component tree.
    order = list(reversed(scene.graph.transforms.children.get(scene.graph.base_frame, [])))
    names = {path.name: path.stem}  # trimesh names an unnamed OBJ after the file
    builder = ModelBuilder(path)
    add_trimesh_scene(builder, scene, names=names, order=order)
    return builder.build()
