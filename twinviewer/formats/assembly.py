"""A folder read as an assembly: each supported file in it is a top-level component.

Many CAD exports ship an assembly as one file per part, named by part number; reading the
folder keeps those names as the component ids that sensor bindings refer to.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from twinviewer.core.model import ModelBuilder, ModelData, ModelReadError
from twinviewer.formats.registry import Progress, find_reader, read_model

log = logging.getLogger(__name__)


def read_folder(path: Path, progress: Progress) -> ModelData:
    """Read every supported file directly in ``path`` (sorted by name, sub-folders ignored).

    A file with a single part becomes one part named by the file's stem; a file with several
    becomes a group named by the stem holding the file's own components.

    A file that cannot be read is skipped and named, with the reason, in ``ModelData.warnings``
    (``"skipped <file>: <reason>"``): one corrupt export in a folder of hundreds of parts should
    not keep the user from the rest, and the warning (shown when the model opens) says which
    parts are missing, so that sensors bound to them are not silently bound to nothing. Only
    when no file can be read is it a :class:`ModelReadError`: the one file's own error when the
    folder holds a single model file, else one naming the folder and listing every failure.
    """
    path = Path(path)
    files = sorted(
        (f for f in path.iterdir() if f.is_file() and not f.name.startswith(".")),
        key=lambda f: f.name,
    )
    files = [f for f in files if find_reader(f) is not None]
    if not files:
        raise ModelReadError(path, "no supported model files in this folder")
    builder = ModelBuilder(path)
    units: set[str | None] = set()
    failures: list[ModelReadError] = []
    for i, file in enumerate(files):

        def step(f: float, i: int = i) -> None:
            progress((i + f) / len(files))

        try:
            model = read_model(file, step)  # its errors already name the file
        except ModelReadError as exc:
            log.warning("skipping %s in folder %s: %s", file.name, path, exc.reason)
            failures.append(exc)
            progress((i + 1) / len(files))
            continue
        units.add(model.units)
        builder.warnings.extend(f"{file.name}: {w}" for w in model.warnings)
        _add_model(builder, file.stem, model)
        progress((i + 1) / len(files))
    if len(failures) == len(files):
        if len(failures) == 1:
            raise failures[0]
        listed = "; ".join(f"{Path(e.path).name}: {e.reason}" for e in failures)
        raise ModelReadError(path, f"none of the {len(files)} model files could be read ({listed})")
    # Skipped files first: they matter more to the user than a unit note.
    skipped = [f"skipped {Path(e.path).name}: {e.reason}" for e in failures]
    builder.warnings[:0] = skipped
    if len(units) > 1:
        builder.warnings.append(
            "files use different units ("
            + ", ".join(sorted(u or "unspecified" for u in units))
            + "); shown as stored"
        )
    return builder.build(units=units.pop() if len(units) == 1 else None)


def _add_model(builder: ModelBuilder, stem: str, model: ModelData) -> None:
    """Copy ``model`` into ``builder`` as one part or one group named ``stem``."""
    order = np.argsort(model.cell_component, kind="stable")
    owners = model.cell_component[order]
    bounds = np.searchsorted(owners, np.arange(model.n_components + 1))

    def geometry(c: int) -> tuple[np.ndarray, np.ndarray] | None:
        tris = model.triangles[order[bounds[c] : bounds[c + 1]]]
        if len(tris) == 0:
            return None
        lo, hi = int(tris.min()), int(tris.max())
        return model.points[lo : hi + 1], tris - lo

    if model.n_components == 1:
        part = geometry(0)
        colour = model.components[0].colour
        if part is None:
            builder.add(stem, -1, colour=colour)
        else:
            builder.add(stem, -1, part[0], part[1], colour=colour)
        return
    group = builder.add(stem, -1)
    remap: dict[int, int] = {}
    for c, comp in enumerate(model.components):
        parent = remap.get(comp.parent, group)
        part = geometry(c)
        if part is None:
            remap[c] = builder.add(comp.name, parent, colour=comp.colour)
        else:
            remap[c] = builder.add(comp.name, parent, part[0], part[1], colour=comp.colour)
