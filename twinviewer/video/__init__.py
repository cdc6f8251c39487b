"""Videos of tours and of history replays, encoded in-process with PyAV.

- :mod:`~twinviewer.video.encoder`: :class:`VideoWriter`, RGB frames to H.264 in MP4 or VP9
  in WebM (by the file's suffix), on an encoding thread, written atomically.
- :mod:`~twinviewer.video.export`: :class:`VideoExport`, the frames of a tour or a replay
  rendered off-screen at exact times (``i / fps``) through
  :class:`~twinviewer.session.tour_scene.TourScene`, with progress and cancel;
  :func:`export_project` for ``twinviewer tour`` and ``twinviewer replay``.

A layer beside :mod:`twinviewer.report`: imports the session, rendering, the data packages and
core, never Qt.
"""

from twinviewer.video.encoder import VideoError, VideoWriter, choose_encoding, video_format
from twinviewer.video.export import (
    DEFAULT_FPS,
    DEFAULT_SIZE,
    DEFAULT_SPEED,
    Exported,
    VideoCancelled,
    VideoExport,
    VideoRequest,
    export_project,
    export_video,
)

__all__ = [
    "DEFAULT_FPS",
    "DEFAULT_SIZE",
    "DEFAULT_SPEED",
    "Exported",
    "VideoCancelled",
    "VideoError",
    "VideoExport",
    "VideoRequest",
    "VideoWriter",
    "choose_encoding",
    "export_project",
    "export_video",
    "video_format",
]
