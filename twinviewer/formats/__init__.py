"""Model readers: file -> :class:`twinviewer.core.model.ModelData`. No Qt.

Importing this package registers every built-in reader with :mod:`.registry`. Each reader imports
its heavy library (trimesh, VTK, lxml, cascadio) inside the function, so importing the package
stays cheap and an optional library that is missing only fails the format that needs it.
"""

from twinviewer.formats import (  # noqa: F401  (imported to register their readers)
    assembly,
    gltf,
    obj,
    ply,
    step,
    stl,
    threemf,
    vtkdata,
)
from twinviewer.formats.registry import read_model, supported_suffixes

__all__ = ["read_model", "supported_suffixes"]
