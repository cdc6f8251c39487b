"""``twinviewer bench``: run the benchmarks of :mod:`twinviewer.bench`.

Each figure is printed beside its target and a baseline from the same run (``--json``: one
object per line). Exit 2: an unknown benchmark name.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from twinviewer.commands import Subparsers


def add_parser(sub: Subparsers) -> None:
    b = sub.add_parser("bench", help="run the benchmarks; figures beside their targets")
    b.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    b.add_argument("--json", action="store_true", help="one JSON object per line")
    b.add_argument("--quick", action="store_true", help="a smaller model, for a smoke run")
    b.add_argument(
        "--backend",
        choices=("embedded", "postgres", "all"),
        default="all",
        help="history: which stores (postgres: both layouts beside the embedded store)",
    )
    b.add_argument(
        "--samples",
        type=float,
        default=None,
        help="history --backend postgres: samples per store (default 1e7; the issue's: 1e8)",
    )
    b.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from twinviewer.bench import run_benchmarks

    history = {"backend": args.backend, "samples": int(args.samples) if args.samples else None}
    return run_benchmarks(args.names, as_json=args.json, quick=args.quick, history=history)
