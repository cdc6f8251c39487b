"""STL reader: binary or ASCII; each ``solid NAME ... endsolid`` of an ASCII file is a component.

A binary STL holds one body and its 80-byte header is free text that exporters fill with their
own banner (or zeros), so the part is named by the file's stem. An ASCII file names its solids;
those names are read from the file itself because trimesh renames repeated ones, which would hide
the duplicate-name warning.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from twinviewer.core.model import ModelBuilder, ModelData, ModelReadError
from twinviewer.formats._common import trimesh_colour
from twinviewer.formats.registry import Progress, reader

_SOLID = re.compile(rb"^[ \t]*solid(?:[ \t]+([^\r\n]*))?[ \t]*\r?$", re.MULTILINE)


@reader("STL", (".stl",))
def load_stl(path: Path, progress: Progress) -> ModelData:
    """Read an STL file without trimesh's processing (10x slower and not needed to display)."""
    import trimesh

    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(84)
    binary = len(head) == 84 and size == 84 + 50 * int.from_bytes(head[80:84], "little")
    scene: Any = trimesh.load(str(path), file_type="stl", force="scene", process=False)
    progress(0.8)
    meshes = [g for g in scene.geometry.values() if len(getattr(g, "faces", ())) > 0]
    if not meshes:
        raise ModelReadError(path, "no triangles found: not an STL file, or an empty one")
    names: list[str | None]
    if binary:
        names = [path.stem] * len(meshes)
    else:
        found = [
            (m.group(1) or b"").decode("utf-8", "replace").strip() or None
            for m in _SOLID.finditer(path.read_bytes())
        ]
        names = found if len(found) == len(meshes) else [g.metadata.get("name") for g in meshes]
        if len(meshes) == 1:
            names = [names[0] or path.stem]
    builder = ModelBuilder(path)
    for name, mesh in zip(names, meshes, strict=True):
        builder.add(name, -1, mesh.vertices, mesh.faces, colour=trimesh_colour(mesh))
    return builder.build()
