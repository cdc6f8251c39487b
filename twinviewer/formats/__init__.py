"""Model readers: file -> :class:`twinviewer.core.model.ModelData`. No Qt.

Importing this package registers every built-in reader with :mod:`.registry`. Each reader module
imports its heavy library (trimesh, pyvista, cascadio) inside the reader, so importing the
package stays cheap.
"""

from twinviewer.formats import gltf  # noqa: F401  (registers readers on import)
from twinviewer.formats.registry import read_model, supported_suffixes

__all__ = ["read_model", "supported_suffixes"]
