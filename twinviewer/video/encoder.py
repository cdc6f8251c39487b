"""Frames to a video file, encoded in-process with PyAV (FFmpeg's libraries in its wheels).

The container and codec follow the file's suffix: ``.mp4`` is H.264 (``libx264``, yuv420p,
the moov atom first so that a browser starts playing before it has the whole file), ``.webm``
is VP9 (``libvpx-vp9``). PyPI's ``av`` wheels carry both; a build without them falls back to
another encoder of the same format (OpenH264; VP8) or says clearly what is missing.

:class:`VideoWriter` writes to a temporary file beside the target and moves it into place on
:meth:`~VideoWriter.close`, so a cancelled or failed export leaves no half-written video (and
an older file of that name untouched). Encoding runs on a thread of its own, fed through a
short queue, so that rendering the next frame and encoding the last one overlap.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

log = logging.getLogger(__name__)

SUFFIXES = {".mp4": "mp4", ".m4v": "mp4", ".webm": "webm"}


class VideoError(Exception):
    """The video cannot be written (format, encoder, size or file); the message says why."""


@dataclass(frozen=True)
class Encoding:
    """How a format is written: the container, the encoder and its options."""

    container: str
    codec: str
    options: dict[str, str]
    label: str  # e.g. "H.264 (libx264) in MP4"


# By preference; the first encoder this PyAV build has is used.
_CANDIDATES: dict[str, list[tuple[str, dict[str, str], str]]] = {
    "mp4": [
        ("libx264", {"preset": "veryfast", "crf": "20"}, "H.264 (libx264)"),
        ("libopenh264", {"b": "8M"}, "H.264 (OpenH264)"),
    ],
    "webm": [
        (
            "libvpx-vp9",
            {"deadline": "realtime", "cpu-used": "8", "crf": "32", "b": "0", "row-mt": "1"},
            "VP9 (libvpx-vp9)",
        ),
        ("libvpx", {"deadline": "realtime", "cpu-used": "8", "crf": "10", "b": "4M"}, "VP8"),
    ],
}


def video_format(path: str | Path) -> str:
    """``mp4`` or ``webm`` from the file's suffix; VideoError for anything else."""
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        got = repr(suffix) if suffix else "no suffix"
        raise VideoError(f"{path}: a video is written as .mp4 (H.264) or .webm (VP9), not {got}")
    return SUFFIXES[suffix]


def encoders() -> set[str]:
    """The video encoders this PyAV build carries (of those TwinViewer can use)."""
    import av

    out = set()
    for kind in _CANDIDATES.values():
        for name, _, _ in kind:
            try:
                av.Codec(name, "w")
            except Exception:  # av.codec.codec.UnknownCodecError, by version
                continue
            out.add(name)
    return out


def choose_encoding(path: str | Path) -> Encoding:
    """The encoding of ``path`` by its suffix, with the best encoder there is."""
    kind = video_format(path)
    have = encoders()
    for name, options, label in _CANDIDATES[kind]:
        if name in have:
            return Encoding(kind, name, dict(options), f"{label} in {kind.upper()}")
    names = ", ".join(n for n, _, _ in _CANDIDATES[kind])
    other = "webm" if kind == "mp4" else "mp4"
    raise VideoError(
        f"this PyAV build has no encoder for .{kind} ({names}); write .{other} instead, or "
        "install the PyPI wheel of 'av', which carries them"
    )


def check_size(size: tuple[int, int]) -> tuple[int, int]:
    """A frame size both formats take: even width and height (4:2:0 chroma), 16..8192."""
    w, h = size
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        raise VideoError(f"video size {w}x{h} out of range 16..8192")
    if w % 2 or h % 2:
        raise VideoError(f"video size {w}x{h}: width and height must be even (4:2:0 video)")
    return w, h


_STOP = object()


class VideoWriter:
    """RGB frames (height x width x 3, uint8) into ``path``; see the module doc.

    ``metadata`` goes into the container (``title``, ``comment``...). Use as a context manager
    or call :meth:`close` (keep the file) or :meth:`abort` (drop it).
    """

    def __init__(
        self,
        path: str | Path,
        size: tuple[int, int],
        fps: float,
        metadata: dict[str, str] | None = None,
    ) -> None:
        import av

        self.path = Path(path)
        self.encoding = choose_encoding(self.path)
        self.size = check_size(size)
        if not 0 < fps <= 240:
            raise VideoError(f"frame rate {fps:g} out of range (0, 240]")
        self.fps = Fraction(fps).limit_denominator(1001)
        self.frames = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise VideoError(f"{self.path}: cannot be written ({exc.strerror or exc})") from None
        self._tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.part{self.path.suffix}")
        options = {"movflags": "+faststart"} if self.encoding.container == "mp4" else {}
        try:
            self._out: Any = av.open(
                str(self._tmp), "w", format=self.encoding.container, options=options
            )
        except OSError as exc:
            raise VideoError(f"{self.path}: cannot be written ({exc.strerror or exc})") from None
        for key, value in (metadata or {}).items():
            self._out.metadata[key] = value
        stream: Any = self._out.add_stream(self.encoding.codec, rate=self.fps)
        stream.width, stream.height = self.size
        stream.pix_fmt = "yuv420p"
        stream.time_base = 1 / self.fps
        stream.options = self.encoding.options
        self._stream: Any = stream
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=4)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._encode_loop, name="video-encode", daemon=True)
        self._thread.start()
        self._open = True

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()

    def write(self, image: NDArray[np.uint8]) -> None:
        """Append one frame (shown for 1/fps seconds)."""
        if self._error is not None:
            raise VideoError(f"encoding failed: {self._error}") from self._error
        if not self._open:
            raise VideoError("the video is closed")
        h, w = image.shape[:2]
        if (w, h) != self.size:
            raise VideoError(f"frame of {w}x{h}, the video is {self.size[0]}x{self.size[1]}")
        self._queue.put((self.frames, np.ascontiguousarray(image[:, :, :3])))
        self.frames += 1

    def _encode_loop(self) -> None:
        import av

        while True:
            item = self._queue.get()
            if item is _STOP:
                break
            if self._error is not None:
                continue  # drain; the error is raised on the caller's thread
            try:
                if item is None:
                    packets = self._stream.encode(None)  # flush the encoder
                else:
                    i, pixels = item
                    frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
                    frame.pts = i
                    packets = self._stream.encode(frame)
                self._out.mux(packets)
            except Exception as exc:  # reported by write() or close()
                self._error = exc

    def _stop(self, flush: bool) -> None:
        if not self._open:
            return
        self._open = False
        if flush:
            self._queue.put(None)
        self._queue.put(_STOP)
        self._thread.join()

    def close(self) -> Path:
        """Finish the file and move it into place; returns its path."""
        if not self._open:
            return self.path
        self._stop(flush=True)
        try:
            self._out.close()
            if self._error is not None:
                raise VideoError(f"encoding failed: {self._error}") from self._error
            os.replace(self._tmp, self.path)
        except OSError as exc:
            raise VideoError(f"{self.path}: cannot be written ({exc.strerror or exc})") from None
        finally:
            self._tmp.unlink(missing_ok=True)
        return self.path

    def abort(self) -> None:
        """Stop and drop the file (an older file of that name stays as it was)."""
        self._stop(flush=False)
        try:
            self._out.close()
        except Exception:  # nothing useful left to say about a file being thrown away
            log.debug("video: closing an aborted file", exc_info=True)
        self._tmp.unlink(missing_ok=True)
