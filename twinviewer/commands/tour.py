"""``twinviewer tour``: a guided tour of the project as a video, or the list of its tours.

``twinviewer tour PROJECT NAME -o tour.mp4 [--size 1920x1080] [--fps 30]`` renders every frame
of the tour off-screen at its exact time and encodes it in-process (H.264 in .mp4, VP9 in
.webm); ``twinviewer tour PROJECT --list`` lists the tours with their steps and length. The work
is :func:`twinviewer.video.export_video`; ``twinviewer replay`` shares :func:`export` below.

Exit 2: the command line is wrong (no such tour or view, a time that cannot be read, an output
that is neither .mp4 nor .webm); 1: the project, its history or the output cannot be used.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from twinviewer.commands.render import size_arg

if TYPE_CHECKING:
    from twinviewer.commands import Subparsers
    from twinviewer.core.project import Project
    from twinviewer.session import TwinSession
    from twinviewer.video import VideoRequest

NAME = "twinviewer tour"


def add_video_options(p: argparse.ArgumentParser) -> None:
    """The options every video command takes: output, size, frame rate, history."""
    p.add_argument(
        "-o", "--output", type=Path, help="the video: .mp4 (H.264) or .webm (VP9)"
    )  # fmt: skip
    p.add_argument("--size", type=size_arg, default=(1920, 1080), help="WIDTHxHEIGHT (1920x1080)")
    p.add_argument("--fps", type=float, default=30.0, help="frames per second (30)")
    p.add_argument("--history", metavar="URL", help="read this PostgreSQL history instead")


def add_parser(sub: Subparsers) -> None:
    t = sub.add_parser(
        "tour",
        help="a guided tour of the project as a video (MP4/WebM), or --list its tours",
        description="Render a tour of the project's tours: block to a video, every frame at its "
        "exact time, captions and the twin's time burned in.",
    )
    t.add_argument("project", type=Path)
    t.add_argument("name", nargs="?", help="the tour's name (see --list)")
    t.add_argument("--list", action="store_true", help="list the project's tours and stop")
    add_video_options(t)
    t.set_defaults(run=run)


def _held(session: TwinSession) -> tuple[float, float] | None:
    store = session.open_history()
    return store.time_range() if store is not None else None


def list_tours(project: Project, held: tuple[float, float] | None) -> str:
    """One line per tour: its name, steps, length in a video, and description."""
    from twinviewer.core.tour_plan import Pose, TourPlan, step_times

    lines = []
    for tour in project.tours:
        try:
            still = [Pose((1.0, 0.0, 0.0), (0.0, 0.0, 0.0))] * len(tour.steps)  # length only
            length = f"{TourPlan(tour, still, step_times(tour, held)).duration:.0f} s"
        except ValueError:
            length = "needs a recorded history"
        about = f"  {tour.description}" if tour.description else ""
        lines.append(f"{tour.name}\t{len(tour.steps)} steps\t{length}{about}")
    if not lines:
        return f"{project.name}: no tours (add a tours: block to the project)\n"
    return "\n".join(lines) + "\n"


def export(
    args: argparse.Namespace,
    name: str,
    request_of: Callable[[TwinSession, tuple[float, float] | None], VideoRequest],
) -> int:
    """Open the project, build the request (``request_of(session, held)``), export with
    progress on stderr, report what was written."""
    from twinviewer.core.model import ModelReadError
    from twinviewer.core.project import ProjectError
    from twinviewer.session import TwinSession
    from twinviewer.sim.result import SimReadError
    from twinviewer.video import VideoError, export_video, video_format

    if args.output is None:
        sys.stderr.write(f"{name}: give the video file with -o FILE.mp4 (or .webm)\n")
        return 2
    try:
        video_format(args.output)
    except VideoError as exc:
        sys.stderr.write(f"{name}: {exc}\n")
        return 2
    began = time.perf_counter()
    shown = [-1]

    def progress(f: float, text: str) -> None:
        tenth = int(f * 10)
        if tenth > shown[0]:
            shown[0] = tenth
            sys.stderr.write(f"{name}: {f:4.0%}  {text}\n")

    try:
        session = TwinSession.open(args.project)
    except (ProjectError, ModelReadError, OSError) as exc:
        sys.stderr.write(f"{name}: {exc}\n")
        return 1
    session.history_url = args.history
    try:
        held = _held(session)
        try:
            request = request_of(session, held)
        except ValueError as exc:
            sys.stderr.write(f"{name}: {exc}\n")
            return 2
        done = export_video(session, request, progress, store=session.history)
    except ValueError as exc:  # an unknown view, a time no history resolves
        sys.stderr.write(f"{name}: {exc}\n")
        return 2
    except (VideoError, ProjectError, SimReadError, OSError) as exc:
        sys.stderr.write(f"{name}: {exc}\n")
        return 1
    finally:
        session.close()
    took = time.perf_counter() - began
    w, h = done.size
    sys.stdout.write(
        f"wrote {done.path}: {done.frames} frames, {done.duration:.1f} s of video, {w}x{h} at "
        f"{done.fps:g} fps, {done.encoding} (took {took:.1f} s, "
        f"{took / max(done.duration, 1e-9) * 60:.0f} s per minute of video)\n"
    )
    return 0


def run(args: argparse.Namespace) -> int:
    if args.list:
        return _list(args)
    if not args.name:
        sys.stderr.write(f"{NAME}: name the tour (twinviewer tour PROJECT --list lists them)\n")
        return 2

    def request(session: TwinSession, held: tuple[float, float] | None) -> VideoRequest:
        from twinviewer.session.tour_scene import find_tour
        from twinviewer.video import VideoRequest

        find_tour(session, args.name)  # an unknown tour fails before anything is drawn
        return VideoRequest(args.output, args.size, args.fps, tour=args.name)

    return export(args, NAME, request)


def _list(args: argparse.Namespace) -> int:
    """The project's tours; the history (if any) gives the length of replays in them."""
    from twinviewer.core.project import ProjectError
    from twinviewer.session.twin import load_twin_project, open_history

    try:
        project, folder = load_twin_project(args.project)
        store = open_history(project, folder, args.project, args.history, writer=False)
    except (ProjectError, OSError) as exc:
        sys.stderr.write(f"{NAME}: {exc}\n")
        return 1
    try:
        held = store.time_range() if store is not None else None
    finally:
        if store is not None:
            store.close()
    sys.stdout.write(list_tours(project, held))
    return 0
