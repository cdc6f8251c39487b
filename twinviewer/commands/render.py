"""``twinviewer render``: render a project to a PNG without a window.

The state drawn is the project's simulated feed after ``--after`` seconds, or the recorded
state at ``--at``; ``--overlay`` draws a simulation result instead, and ``--field QUANTITY``
(without ``--overlay``) spreads that quantity's point sensors over the surface. The work is
:func:`twinviewer.session.headless.render_png`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from twinviewer.commands import Subparsers


def size_arg(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected WIDTHxHEIGHT, e.g. 1600x1000, got {text!r}"
        ) from None
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        raise argparse.ArgumentTypeError(f"size {text!r} out of range 16..8192")
    return w, h


def add_parser(sub: Subparsers) -> None:
    r = sub.add_parser("render", help="render a project to a PNG without a window")
    r.add_argument("project", type=Path)
    r.add_argument("-o", "--output", type=Path, required=True, help="PNG file to write")
    r.add_argument("--size", type=size_arg, default=(1600, 1000), help="WIDTHxHEIGHT (1600x1000)")
    r.add_argument("--view", help="saved view name, or iso/top/bottom/front/back/left/right")
    r.add_argument("--after", type=float, default=0.0, help="seconds of simulated feed first")
    r.add_argument(
        "--at",
        metavar="TIME",
        help="the recorded state at TIME: live, ISO 8601 (e.g. 2026-11-24T03:12:00Z), or "
        "relative to now as --at=-10m",
    )
    r.add_argument("--quantity", help="colour by this quantity (default: worst per component)")
    r.add_argument("--history", metavar="URL", help="--at reads this PostgreSQL database")
    r.add_argument("--overlay", metavar="NAME", help="draw this simulation overlay of the project")
    r.add_argument(
        "--field",
        metavar="F",
        help="with --overlay: colour the overlay by this field instead; without: spread the "
        "point sensors of quantity F over the surface (a sensor field)",
    )
    r.add_argument(
        "--field-method",
        choices=("geodesic", "idw", "rbf"),
        default="geodesic",
        help="how a sensor field spreads: geodesic (distance along the mesh, the default), "
        "idw (inverse distance in a straight line) or rbf (radial basis functions)",
    )
    r.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Exit 1: the project, the model, the overlay or the output cannot be used."""
    from twinviewer.core.model import ModelReadError
    from twinviewer.core.project import ProjectError
    from twinviewer.session.headless import render_png
    from twinviewer.sim.result import SimReadError

    try:
        out = render_png(
            args.project,
            args.output,
            args.size,
            args.view,
            args.after,
            args.quantity,
            args.at,
            history=args.history,
            overlay=args.overlay,
            field=args.field if args.overlay else None,
            sensor_field=None if args.overlay else args.field,
            field_method=args.field_method,
        )
    except (ProjectError, ModelReadError, SimReadError, ValueError, OSError) as exc:
        sys.stderr.write(f"twinviewer render: {exc}\n")
        return 1
    sys.stdout.write(f"wrote {out}\n")
    return 0
