"""``twinviewer replay``: a window of the recorded history as a video, at a speed.

``twinviewer replay PROJECT --from T0 --to T1 [--speed 60] [--view NAME | --tour NAME]
-o replay.mp4 [--size 1920x1080] [--fps 30]``: frame ``i`` shows the twin as the history held
it at ``T0 + speed * i / fps`` (the time stamp burned in says so), the camera fixed on a saved
or standard view, or flying a tour's path. Times are ISO 8601 or relative to the recorded
history (``start+10m``, ``end-1h``), as in a tour. The work is
:func:`twinviewer.video.export_video`.

Exit 2: the command line is wrong (a time that cannot be read or lies outside the history, an
unknown view or tour, an output that is neither .mp4 nor .webm); 1: the project, its history
or the output cannot be used.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from twinviewer.commands.tour import add_video_options, export

if TYPE_CHECKING:
    from twinviewer.commands import Subparsers
    from twinviewer.session import TwinSession
    from twinviewer.video import VideoRequest

NAME = "twinviewer replay"
TIME_HELP = "ISO 8601 (2026-11-24T03:12:00Z), or relative to the history: start+10m, end-1h"


def add_parser(sub: Subparsers) -> None:
    r = sub.add_parser(
        "replay",
        help="a window of the recorded history as a video (MP4/WebM), at a speed",
        description="Replay the recorded history from T0 to T1 at a speed into a video, the "
        "camera on a view or following a tour, the twin's time burned in.",
    )
    r.add_argument("project", type=Path)
    r.add_argument("--from", dest="start", metavar="T0", required=True, help=TIME_HELP)
    r.add_argument("--to", dest="end", metavar="T1", required=True, help=TIME_HELP)
    r.add_argument(
        "--speed", type=float, default=60.0, help="twin seconds per second of video (60)"
    )  # fmt: skip
    camera = r.add_mutually_exclusive_group()
    camera.add_argument("--view", help="a saved view, or iso/top/front/... (default: the first)")
    camera.add_argument("--tour", metavar="NAME", help="the camera follows this tour's path")
    add_video_options(r)
    r.set_defaults(run=run)


def resolve(text: str, option: str, held: tuple[float, float] | None) -> float:
    """Epoch seconds of a replay time; ValueError says what is wrong with it."""
    from twinviewer.core.project_tours import check_tour_instant, resolve_tour_instant

    try:
        t = resolve_tour_instant(check_tour_instant(text), held)
    except ValueError as exc:
        raise ValueError(f"{option}: {exc}") from None
    if t is None:
        raise ValueError(f"{option} {text!r}: a replay runs between two recorded times, not live")
    return t


def run(args: argparse.Namespace) -> int:
    if not 0 < args.speed <= 100000:
        sys.stderr.write(f"{NAME}: --speed must be above 0 and at most 100000\n")
        return 2

    def request(session: TwinSession, held: tuple[float, float] | None) -> VideoRequest:
        from twinviewer.session.tour_scene import find_tour
        from twinviewer.video import VideoRequest

        if held is None:
            raise ValueError(f"{session.path}: no recorded history to replay")
        t0 = resolve(args.start, "--from", held)
        t1 = resolve(args.end, "--to", held)
        if t1 <= t0:
            raise ValueError(f"--to {args.end!r} is not after --from {args.start!r}")
        if args.tour is not None:
            find_tour(session, args.tour)
        return VideoRequest(
            args.output, args.size, args.fps, start=t0, end=t1, speed=args.speed,
            view=args.view, follow=args.tour,
        )  # fmt: skip

    return export(args, NAME, request)
