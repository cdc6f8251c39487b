"""Frames of a mine tour video: the video is exported as ``twinviewer tour`` does, then decoded
with PyAV and three of its frames saved as PNG (what a viewer of the MP4 sees, encoding and all).

    python docs/screenshots/make_video_frames.py

The tour is the mine demo's "Your first day underground" when its project has it, else a
three-step tour written here. The demo copy gets ten minutes of recorded feed so that the
replay step has a past to play.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import av

from twinviewer.session.demos import demo_copy
from twinviewer.video import VideoRequest, export_project

HERE = Path(__file__).resolve().parent
NAME = "Your first day underground"
FALLBACK = """
tours:
  - name: Your first day underground
    steps:
      - title: The shaft
        caption: "The **main shaft** is 1 km deep; the cage takes 3 minutes from the collar to
          the bottom. The hoist on the surface (outlined) winds it."
        view: Shaft
        transition: {type: cut}
        highlight: [hoist]
        dwell: 4
      - title: Level 3 and its booster fan
        caption: "Fresh air reaches level 3 through the booster fan. Watch its bearing: the
          vibration rises first, the temperature follows."
        view: Level 3
        transition: {type: fly, duration: 3}
        time: {from: start+150s, to: start+390s, speed: 60}
        callouts: [l3_fan_vibration, l3_fan_bearing_temperature]
        colour: vibration
"""
SIZE = (1600, 900)
FPS = 2.0


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        path, _ = demo_copy("mine", Path(tmp), 600.0, models=False)
        text = path.read_text(encoding="utf-8")
        if NAME not in text:
            path.write_text(text + FALLBACK, encoding="utf-8")
        out = Path(tmp) / "mine-tour.mp4"
        done = export_project(path, VideoRequest(out, SIZE, FPS, tour=NAME))
        # a frame resting on the first step, one in the flight to the second, and one late in
        # the replay (the demo tour's incident is its last step but one; the fallback's last)
        starts = [i for i, k in enumerate(done.steps) if i == 0 or done.steps[i - 1] != k]
        second = starts[1] if len(starts) > 1 else len(done.steps) // 2
        late = starts[-1] - 2 if len(starts) > 3 else done.frames - 2
        wanted = {starts[0] + 3: 1, second + 3: 2, late: 3}
        with av.open(str(out)) as container:
            for i, frame in enumerate(container.decode(video=0)):
                if i in wanted:
                    target = HERE / f"tour-frame-{wanted[i]}.png"
                    frame.to_image().save(target)
                    sys.stdout.write(f"wrote {target} (frame {i}, step {done.steps[i] + 1})\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
