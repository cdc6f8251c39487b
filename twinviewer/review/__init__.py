"""The design review: issues and measurements taken on the twin, kept beside the project.

- :mod:`~twinviewer.review.model`: :class:`Issue` (title, status, priority, the component, the
  3D point, the twin's time, the sensor values then, a :class:`Viewpoint`, a snapshot,
  :class:`Comment` s), :class:`Measurement`, and the :class:`Review` that holds them.
- :mod:`~twinviewer.review.store`: ``<project stem>.review/`` beside the project file:
  ``review.json`` (stable order, diffs well in git) and ``snapshots/*.png``.
- :mod:`~twinviewer.review.bcf`: BCF 3.0 export and import (``.bcf``), so issues travel to and
  from BIM tools; TwinViewer's extras ride along in a JSON document of each topic.

Data only: pydantic, lxml and :mod:`twinviewer.core`; no Qt, no VTK.
"""

from twinviewer.review.bcf import BcfError, BcfImport, read_bcf, write_bcf
from twinviewer.review.model import (
    Camera,
    ClipPlane,
    Comment,
    Issue,
    Measurement,
    Review,
    Viewpoint,
    new_issue,
)
from twinviewer.review.store import (
    ReviewFileError,
    load_review,
    review_folder,
    save_review,
    snapshot_path,
    write_snapshot,
)

__all__ = [
    "BcfError",
    "BcfImport",
    "Camera",
    "ClipPlane",
    "Comment",
    "Issue",
    "Measurement",
    "Review",
    "ReviewFileError",
    "Viewpoint",
    "load_review",
    "new_issue",
    "read_bcf",
    "review_folder",
    "save_review",
    "snapshot_path",
    "write_bcf",
    "write_snapshot",
]
