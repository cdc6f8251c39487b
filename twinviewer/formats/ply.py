"""PLY reader: a PLY file holds one mesh, so one component named by the file's stem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from twinviewer.core.model import ModelBuilder, ModelData, ModelReadError
from twinviewer.formats._common import trimesh_colour
from twinviewer.formats.registry import Progress, reader


@reader("PLY", (".ply",))
def load_ply(path: Path, progress: Progress) -> ModelData:
    """Read a PLY mesh without trimesh's processing (merging vertices is 10x slower and not
    needed for display). A point cloud without faces is refused with a clear reason.
    """
    import trimesh

    mesh: Any = trimesh.load(str(path), file_type="ply", process=False)
    progress(0.8)
    faces = getattr(mesh, "faces", None)
    if faces is None or len(faces) == 0:
        raise ModelReadError(path, "no faces found: the PLY file holds only points")
    builder = ModelBuilder(path)
    builder.add(path.stem, -1, mesh.vertices, faces, colour=trimesh_colour(mesh))
    return builder.build()
