"""A video of a tour or of a history replay: frames rendered off-screen at exact times, encoded.

Frame ``i`` shows tour time ``i / fps`` exactly, whatever the machine's speed: the exporter
renders every frame (none dropped, none doubled) and the encoder stamps it ``pts = i``. A tour
video lasts the tour's :class:`~twinviewer.core.tour_plan.TourPlan` duration (``round(duration
* fps)`` frames); a replay video lasts ``(end - start) / speed`` seconds and frame ``i`` shows
the twin at ``start + i / fps * speed``. What each frame shows is
:class:`~twinviewer.session.tour_scene.TourScene`'s; the picture is drawn on an off-screen
pyvista plotter of the requested size and handed to :class:`~twinviewer.video.encoder.VideoWriter`.

:class:`VideoExport` is the job, driven a few frames at a time (:meth:`VideoExport.step`) by
whoever owns the thread: ``twinviewer tour`` and ``twinviewer replay`` in a loop
(:func:`export_video`), the window from a timer so that it stays responsive. It draws on the
caller's thread (an off-screen VTK window on a worker thread is not reliable under Xvfb) and
colours a session of its own that shares the twin's project and model, so an export beside
the window does not disturb what the window shows.

The container's metadata says what was rendered: ``title`` (the tour or the replay) and
``comment``, a JSON object with the frame rate, the frame count and, for a replay, the twin's
start time and speed (the twin time of frame ``i`` is ``start + speed * i / fps``).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from twinviewer.render.offscreen import offscreen_plotter
from twinviewer.render.scene import TwinScene
from twinviewer.session import TwinSession
from twinviewer.session.tour_scene import TourScene, find_tour, plan_tour
from twinviewer.video.encoder import VideoError, VideoWriter, check_size, choose_encoding

if TYPE_CHECKING:
    from twinviewer.history.postgres import PostgresHistoryStore
    from twinviewer.history.store import HistoryStore

    Store = HistoryStore | PostgresHistoryStore

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
Cancel = Callable[[], bool] | None
DEFAULT_SIZE = (1920, 1080)
DEFAULT_FPS = 30.0
DEFAULT_SPEED = 60.0
MAX_FRAMES = 30 * 3600 * 2  # two hours at 30 fps: a replay window typed wrong is refused


class VideoCancelled(Exception):
    """The user cancelled the export; no file was written."""


@dataclass
class VideoRequest:
    """What to export. A tour video names ``tour``; a replay gives ``start`` and ``end`` (epoch
    seconds) and ``speed``, with the camera on ``view`` or following the tour ``follow``."""

    out: Path
    size: tuple[int, int] = DEFAULT_SIZE
    fps: float = DEFAULT_FPS
    tour: str | None = None
    start: float | None = None
    end: float | None = None
    speed: float = DEFAULT_SPEED
    view: str | None = None
    follow: str | None = None

    @property
    def is_replay(self) -> bool:
        return self.tour is None


@dataclass
class Exported:
    """A video on disk and how it was made."""

    path: Path
    frames: int
    fps: float
    size: tuple[int, int]
    encoding: str
    seconds: float  # wall time of the whole export
    render_seconds: float  # of which drawing the frames (the rest: setup, encoding, waiting)
    twin_times: list[float] = field(default_factory=list)  # per frame (NaN: no history)
    steps: list[int] = field(default_factory=list)  # per frame: the tour step (-1: a replay)

    @property
    def duration(self) -> float:
        return self.frames / self.fps


class VideoExport:
    """One export, frame by frame (see the module doc). ``session`` is the open twin (only read);
    ``store`` its history (default: ``session.history``)."""

    def __init__(
        self, session: TwinSession, request: VideoRequest, store: Store | None = None
    ) -> None:

        self.request = request
        self.encoding = choose_encoding(request.out).label  # a wrong suffix fails first
        size = check_size(request.size)
        if not 0 < request.fps <= 240:
            raise VideoError(f"frame rate {request.fps:g} out of range (0, 240]")
        store = store if store is not None else session.history
        self.began = time.perf_counter()
        self.render_seconds = 0.0
        twin = TwinSession(session.project, session.folder, session.model, session.path)
        twin.set_active_quantity(session.active_quantity)
        twin.history = store  # only read (health colours); never closed from here
        self.twin = twin
        self.plotter = offscreen_plotter(size)
        self._writer: VideoWriter | None = None
        try:
            self.scene = TwinScene(self.plotter, session.project.display.background)
            self.scene.show_model(session.model)
            _, positions = twin.sensor_positions()
            self.scene.show_markers(positions)
            self.tour_scene, self.times, title, comment = self._plan(store)
            if len(self.times) > MAX_FRAMES:
                raise VideoError(
                    f"{len(self.times)} frames ({len(self.times) / request.fps / 60:.0f} min of "
                    f"video) is more than the {MAX_FRAMES} an export takes; shorten the window "
                    "or raise the speed"
                )
            comment.update(fps=request.fps, frames=len(self.times))
            self._writer = VideoWriter(
                request.out, size, request.fps, {"title": title, "comment": json.dumps(comment)}
            )
        except BaseException:
            self.plotter.close()
            raise
        self.done = 0
        self.twin_times: list[float] = []
        self.steps: list[int] = []

    def _plan(self, store: Store | None) -> tuple[TourScene, NDArray[np.float64], str, dict]:
        r, s = self.request, self.twin
        held = store.time_range() if store is not None else None
        if not r.is_replay:
            assert r.tour is not None
            tour = find_tour(s, r.tour)
            plan = plan_tour(s, self.scene, tour, held)
            scene = TourScene(s, self.scene, plan, store)
            return scene, plan.frame_times(r.fps), f"{s.project.name}: {tour.name}", {}
        if store is None or held is None:
            raise ValueError(f"{s.path}: no recorded history to replay")
        if r.start is None or r.end is None:
            raise ValueError("a replay needs a start and an end time")
        if r.end <= r.start:
            raise ValueError("the replay ends before it starts")
        if not r.speed > 0:
            raise ValueError(f"speed must be above 0, got {r.speed:g}")
        if r.end < held[0] or r.start > held[1]:
            raise ValueError("the replay window holds none of the recorded history")
        follow = find_tour(s, r.follow) if r.follow is not None else None
        scene = TourScene.replay(s, self.scene, store, r.start, r.end, r.speed, r.view, follow)
        n = max(1, int(round((r.end - r.start) / r.speed * r.fps)))
        comment = {"twin_start": r.start, "twin_end": r.end, "speed": r.speed}
        return scene, np.arange(n, dtype=float) / r.fps, scene.title, comment

    # -- the frames -------------------------------------------------------------------------
    @property
    def frames(self) -> int:
        return len(self.times)

    @property
    def finished(self) -> bool:
        return self.done >= self.frames

    def fraction(self) -> float:
        return self.done / self.frames if self.frames else 1.0

    def progress_text(self) -> str:
        fps = self.request.fps
        return (
            f"Frame {self.done} of {self.frames} "
            f"({self.done / fps:.1f} of {self.frames / fps:.1f} s of video)"
        )

    def render(self, i: int) -> NDArray[np.uint8]:
        """Draw frame ``i`` (tour time ``i / fps``) and return its pixels."""
        shown = self.tour_scene.show(float(self.times[i]))
        self.twin_times.append(shown.twin_time)
        self.steps.append(shown.step)
        self.plotter.render()
        image: NDArray[np.uint8] = self.plotter.screenshot(None, return_img=True)
        return image

    def step(self, frames: int = 1) -> bool:
        """Render and encode up to ``frames`` more frames; True when all are done."""
        assert self._writer is not None
        end = min(self.frames, self.done + max(1, frames))
        while self.done < end:
            t0 = time.perf_counter()
            image = self.render(self.done)
            self.render_seconds += time.perf_counter() - t0
            self._writer.write(image)
            self.done += 1
        return self.finished

    def finish(self) -> Exported:
        """Encode what is left and write the file (every frame must have been rendered)."""
        assert self._writer is not None
        if not self.finished:
            raise RuntimeError(f"{self.frames - self.done} frames not rendered yet")
        try:
            path = self._writer.close()
        finally:
            self._close()
        r = self.request
        return Exported(
            path, self.frames, r.fps, r.size, self.encoding,
            time.perf_counter() - self.began, self.render_seconds,
            self.twin_times, self.steps,
        )  # fmt: skip

    def abort(self) -> None:
        """Stop: no file is written."""
        if self._writer is not None:
            self._writer.abort()
        self._close()

    def _close(self) -> None:
        if self.twin.prediction is not None:
            self.twin.prediction.close()
            self.twin.prediction = None
        self.twin.history = None
        self.tour_scene.close()
        self.plotter.close()


def export_video(
    session: TwinSession,
    request: VideoRequest,
    progress: Progress | None = None,
    cancelled: Cancel = None,
    store: Store | None = None,
) -> Exported:
    """Export the whole video on this thread; :class:`VideoCancelled` if ``cancelled()``."""
    job = VideoExport(session, request, store)
    try:
        while not job.finished:
            if cancelled is not None and cancelled():
                raise VideoCancelled("the export was cancelled")
            job.step(max(1, int(math.ceil(request.fps))))
            if progress is not None:
                progress(job.fraction(), job.progress_text())
    except BaseException:
        job.abort()
        raise
    if progress is not None:
        progress(1.0, f"Writing {request.out.name}")
    return job.finish()


def export_project(
    path: str | Path,
    request: VideoRequest,
    progress: Progress | None = None,
    cancelled: Cancel = None,
    history: str | None = None,
) -> Exported:
    """Open the project at ``path`` and its history, export, close (``twinviewer tour`` and
    ``twinviewer replay``)."""
    session = TwinSession.open(path)
    session.history_url = history
    try:
        store = session.open_history()
        return export_video(session, request, progress, cancelled, store)
    finally:
        session.close()
