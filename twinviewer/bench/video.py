"""``twinviewer bench video``: how long a 1080p video of a tour takes to export, per minute of it.

The mine demo (a copy with ten minutes of recorded feed) and a tour that flies between its four
saved views, then replays two minutes of history at 60x with two callouts: the frames of
``SECONDS`` seconds of it at 1920x1080 and 30 fps are exported to H.264 MP4, and, as the
baseline, the same frames are drawn without encoding. Both are given in seconds per minute of
video.

Target: 10 minutes of export per minute of 1080p video (10x real time). No product figure
exists; this is what keeps a five-minute training tour under an hour on this 2-core software
renderer, where drawing alone (llvmpipe, ~0.1-0.2 s per 1080p frame of the mine) already
costs several minutes per minute of video.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from twinviewer.bench.figures import Figure

SECONDS = 6.0  # of video exported (2 s with --quick)
SIZE = (1920, 1080)
FPS = 30.0
TARGET = "<= 600 s/min (10x real time)"
BENCH_TOUR = """
tours:
  - name: Bench tour
    steps:
      - {title: Overview, view: Overview, transition: {type: cut}, dwell: 1}
      - title: The shaft
        caption: "The main shaft and the hoist."
        view: Shaft
        transition: {type: fly, duration: 2}
        highlight: [hoist]
        dwell: 1
      - title: Level 3
        view: Level 3
        transition: {type: fly, duration: 2}
        time: {from: start+60s, to: start+180s, speed: 60}
        callouts: [l3_fan_vibration, l3_fan_bearing_temperature]
"""


def bench_video(quick: bool) -> list[Figure]:
    from twinviewer.session import TwinSession
    from twinviewer.session.demos import demo_copy
    from twinviewer.video import VideoExport, VideoRequest

    seconds = 2.0 if quick else SECONDS
    frames = int(round(seconds * FPS))
    with tempfile.TemporaryDirectory(prefix="twinviewer-bench-video-") as tmp:
        path, _ = demo_copy("mine", Path(tmp), 600.0, models=False)
        path.write_text(path.read_text(encoding="utf-8") + BENCH_TOUR, encoding="utf-8")
        session = TwinSession.open(path)
        try:
            store = session.open_history()
            request = VideoRequest(Path(tmp) / "bench.mp4", SIZE, FPS, tour="Bench tour")

            # the baseline: drawing the frames, nothing encoded
            job = VideoExport(session, request, store)
            t0 = time.perf_counter()
            for i in range(frames):
                job.render(i)
            draw = time.perf_counter() - t0
            job.abort()

            # the export: drawing and encoding (on its own thread), the file written
            job = VideoExport(session, request, store)
            job.times = job.times[:frames]  # the first `seconds` of the tour only
            t0 = time.perf_counter()
            job.step(frames)
            done = job.finish()
            export = time.perf_counter() - t0
        finally:
            session.close()
    per_min = 60.0 / seconds
    note = f"{frames} frames {SIZE[0]}x{SIZE[1]} at {FPS:g} fps, {done.encoding}"
    return [
        Figure(
            "video export 1080p", export * per_min, "s/min", TARGET,
            draw * per_min, "drawing the frames only", note,
        ),
    ]  # fmt: skip
