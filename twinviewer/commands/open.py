"""``twinviewer open`` and ``twinviewer demo``: start the window.

``open`` shows a twin project, a model file or a folder of parts, ``demo`` a built-in demo twin
with its simulated live feed, and ``twinviewer`` without a command the welcome screen. This is
the only command module that imports :mod:`twinviewer.app` (the composition root of the GUI).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from twinviewer.session.demos import DEMOS, demo_project

if TYPE_CHECKING:
    from twinviewer.commands import Subparsers


def add_parser(sub: Subparsers) -> None:
    o = sub.add_parser("open", help="open a twin project, a model file or a folder of parts")
    o.add_argument("project", type=Path)
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
    d.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """``open``, ``demo``, or (no command) the welcome screen; the window's exit code."""
    from twinviewer.app import run_app

    if args.command == "open":
        return run_app(
            project=args.project, speed=args.speed, sources=args.source, history=args.history
        )
    if args.command == "demo":
        return run_app(project=demo_project(args.name), speed=args.speed)
    return run_app()
