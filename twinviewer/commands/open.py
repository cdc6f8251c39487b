"""``twinviewer open`` and ``twinviewer demo``: start the window.

``open`` shows a twin project, a model file or a folder of parts, ``demo`` a built-in demo twin
with its simulated live feed, and ``twinviewer`` without a command the welcome screen. This is
the only command module that imports :mod:`twinviewer.app` (the composition root of the GUI).
"""

from __future__ import annotations

import argparse
import sys
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
        refused = _bare_result(args.project)
        if refused is not None:
            sys.stderr.write(refused + "\n")
            return 1 if ": error:" in refused else 2
        return run_app(
            project=args.project, speed=args.speed, sources=args.source, history=args.history
        )
    if args.command == "demo":
        return run_app(project=demo_project(args.name), speed=args.speed)
    return run_app()


def _bare_result(path: Path) -> str | None:
    """What to tell a user who opens a simulation result by itself (``None`` for anything the
    window opens). The window shows results as overlays on a twin's model, so a result that is
    not also a model file is described and the way to show it is given."""
    from twinviewer.formats.registry import find_reader
    from twinviewer.session import is_project_file
    from twinviewer.sim import SimReadError, is_result, read_result

    if is_project_file(path) or not is_result(path):
        return None
    if path.is_file() and find_reader(path) is not None:
        return None  # a .vtu, .vtk ...: the window opens it as a model
    try:
        result = read_result(path)
    except SimReadError as exc:
        return f"{exc.path}: error: {exc.reason}"
    fields = ", ".join(dict.fromkeys(f.name for f in result.fields)) or "no fields"
    return (
        f"{path}: {result.kind} ({result.n_steps} time steps; {fields}) is a simulation "
        "result; the window shows results on a twin's model: add it to a project as "
        f"'overlays: [{{name: result, result: {path}, visible: true}}]' beside a model, then "
        f"'twinviewer open PROJECT.twin.yaml' ('twinviewer check {path}' describes it)"
    )
