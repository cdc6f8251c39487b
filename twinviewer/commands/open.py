"""``twinviewer open`` and ``twinviewer demo``: start the window.

``open`` shows a twin project, a model file, a folder of parts or a simulation result by
itself (:mod:`twinviewer.session.result_twin`: its surface as the model, its steps on the
timeline), ``demo`` a built-in demo twin with its simulated live feed, and ``twinviewer``
without a command the welcome screen. A result is read before the window starts, so that a
broken one ends the command with its one-line error (exit 1). This is the only command module
that imports :mod:`twinviewer.app` (the composition root of the GUI).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from twinviewer.commands.render import size_arg
from twinviewer.session.demos import DEMOS, demo_project

if TYPE_CHECKING:
    from twinviewer.commands import Subparsers


def add_parser(sub: Subparsers) -> None:
    what = (
        "open a twin project, a model file, a folder of parts or a simulation result "
        "(OpenFOAM case, EnSight .case, CGNS, Exodus, XDMF, VTKHDF, .pvd/.series, ...)"
    )
    o = sub.add_parser("open", help=what, description=what[0].upper() + what[1:] + ".")
    o.add_argument(
        "project",
        type=Path,
        nargs="?",
        help="a *.twin.yaml, a model, a folder of parts, or a result (shown by itself: its "
        "surface, its time steps on the timeline); none: the start page (the desktop entry "
        "runs `twinviewer open %%f`, with or without a file)",
    )
    o.add_argument(
        "--source",
        action="append",
        metavar="ID",
        help="start this source (id or type) only; "
        "repeatable (default: the project's enabled sources)",
    )
    o.add_argument("--speed", type=float, default=None, help="simulator speed (default 1)")
    o.add_argument("--history", metavar="URL", help="record into this PostgreSQL database")
    o.set_defaults(run=run)
    d = sub.add_parser("demo", help="open a built-in demo twin with its simulated live feed")
    d.add_argument("name", nargs="?", default="mine", choices=sorted(DEMOS))
    d.add_argument(
        "--speed", type=float, default=None, help="simulated seconds per second (default 1)"
    )
    d.add_argument(
        "--render",
        type=Path,
        metavar="OUT.png",
        help="no window: render the demo to this PNG headless (for a machine without a screen)",
    )
    d.add_argument(
        "--after", type=float, default=5.0, help="with --render: seconds of simulated feed (5)"
    )
    d.add_argument(
        "--size", type=size_arg, default=(1600, 1000), help="with --render: WIDTHxHEIGHT"
    )
    d.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """``open``, ``demo``, or (no command) the welcome screen; the window's exit code."""
    if args.command == "demo" and args.render is not None:
        return _render_demo(args)
    from twinviewer.app import run_app

    if args.command == "open" and args.project is not None:
        from twinviewer.session.result_twin import open_result_twin
        from twinviewer.sim import SimReadError

        try:
            session = open_result_twin(args.project)
        except SimReadError as exc:
            sys.stderr.write(f"{exc.path}: error: {exc.reason}\n")
            return 1
        return run_app(
            project=args.project,
            speed=args.speed,
            sources=args.source,
            history=args.history,
            session=session,
        )
    if args.command == "demo":
        return run_app(project=demo_project(args.name), speed=args.speed)
    return run_app()


def _render_demo(args: argparse.Namespace) -> int:
    """``demo NAME --render OUT.png``: the demo after ``--after`` seconds of its feed, headless."""
    from twinviewer.core.model import ModelReadError
    from twinviewer.core.project import ProjectError
    from twinviewer.session.headless import render_png

    try:
        out = render_png(demo_project(args.name), args.render, args.size, after=args.after)
    except (ProjectError, ModelReadError, ValueError, OSError) as exc:
        sys.stderr.write(f"twinviewer demo: {exc}\n")
        return 1
    sys.stdout.write(f"wrote {out}\n")
    return 0
