"""STEP reader (``.step``, ``.stp``) through cascadio, the packaged OpenCASCADE converter.

cascadio triangulates the B-rep and writes a GLB that keeps the assembly tree, the product
names and the solids' colours; that GLB is then read by the glTF reader, so STEP parts map to
components exactly as glTF nodes do. cascadio is optional: it is imported only when a STEP file
is opened, and its absence is reported with the command that installs it.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from twinviewer.core.model import ModelBuilder, ModelData, ModelReadError
from twinviewer.formats.gltf import load_glb_bytes
from twinviewer.formats.registry import Progress, reader

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'twinviewer[step]'"


@reader("STEP", (".step", ".stp"))
def load_step(path: Path, progress: Progress) -> ModelData:
    """Triangulate a STEP file with cascadio's default tolerances (0.01 linear, 0.5 rad).

    Coordinates come out in metres whatever unit the STEP file uses.
    """
    try:
        import cascadio
    except ImportError:
        raise ModelReadError(
            path, f"reading STEP files needs the optional cascadio package: {INSTALL_HINT}"
        ) from None
    with tempfile.TemporaryDirectory(prefix="twinviewer-step-") as tmp:
        glb = Path(tmp) / "converted.glb"
        progress(0.05)
        status = cascadio.step_to_glb(str(path), str(glb))
        if status != 0 or not glb.is_file() or glb.stat().st_size == 0:
            log.debug("cascadio.step_to_glb(%s) returned %s", path, status)
            raise ModelReadError(
                path, "not a readable STEP file (OpenCASCADE could not convert it)"
            )
        data = glb.read_bytes()
    progress(0.8)
    builder = ModelBuilder(path)
    load_glb_bytes(builder, path, data, lambda f: progress(0.8 + 0.2 * f))
    return builder.build(units="m")
