"""``twinviewer report``: the one-click review report of a twin, as HTML or PDF.

``twinviewer report PROJECT [--at T] [--from T0 --to T1] [--view NAME ...] [--sensor ID ...]
-o report.html|report.pdf``: the twin at the moment T (default: the end of the window, else the
newest recorded sample) and over the window (default: the hour up to T): snapshots of the views,
every component's state, charts of the sensors that alarmed (and of ``--sensor``), the alarm
and event list, measured versus simulated for the overlays, data quality, the review's issues
and measurements. The work is :func:`twinviewer.report.build_report`.

Exit 2: the command line is wrong (a time that cannot be read, an output that is neither .html
nor .pdf); 1: the project, its history, a view or sensor, or the output cannot be used.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from twinviewer.commands import Subparsers

NAME = "twinviewer report"
TIME_HELP = "ISO 8601 (e.g. 2026-11-24T03:12:00Z), live, or relative to now as -10m"


def add_parser(sub: Subparsers) -> None:
    r = sub.add_parser(
        "report",
        help="the review report of a twin at a moment and over a window, as HTML or PDF",
        description="Write the review report: views, the state of every component, charts of "
        "the alarmed sensors, alarms and events, fidelity, data quality, issues, measurements.",
    )
    r.add_argument("project", type=Path)
    r.add_argument(
        "-o", "--output", type=Path, required=True, help="report.html (one self-contained "
        "file) or report.pdf (paginated)",
    )  # fmt: skip
    r.add_argument("--at", metavar="T", help=f"the moment reported ({TIME_HELP}; use --at=-10m)")
    r.add_argument("--from", dest="start", metavar="T0", help="the window's start")
    r.add_argument("--to", dest="end", metavar="T1", help="the window's end (default: T)")
    r.add_argument(
        "--view", action="extend", nargs="+", metavar="NAME", default=[],
        help="saved views or iso/top/front/... to include (default: the first saved view)",
    )  # fmt: skip
    r.add_argument(
        "--sensor", action="extend", nargs="+", metavar="ID", default=[],
        help="also chart these sensors (the ones that alarmed are always charted)",
    )  # fmt: skip
    r.add_argument("--title", help="the report's title (default: Review report: <twin>)")
    r.add_argument("--author", help="who reports (default: $TWINVIEWER_AUTHOR or the login)")
    r.add_argument("--quantity", help="colour the views by this quantity")
    r.add_argument("--history", metavar="URL", help="read this PostgreSQL history instead")
    r.set_defaults(run=run)


def _instant(option: str, text: str | None) -> float | None:
    from twinviewer.session.headless import parse_instant

    if text is None:
        return None
    try:
        return parse_instant(text)  # None for live: the newest sample
    except ValueError:
        raise ValueError(f"{option} {text!r}: expected {TIME_HELP}") from None


def _usage(args: argparse.Namespace) -> str | None:
    from twinviewer.report import report_format

    try:
        report_format(args.output)
    except ValueError as exc:
        return str(exc)
    out: Path = args.output
    if out.is_dir():
        return f"-o {out}: is a folder; name the report file"
    probe = out.with_name(f".{out.name}.{os.getpid()}.probe")
    try:  # try it, before minutes of work: permissions alone do not tell (root, read-only mounts)
        out.parent.mkdir(parents=True, exist_ok=True)
        probe.open("wb").close()
        probe.unlink()
        if out.exists():
            out.open("ab").close()
    except OSError as exc:
        return f"-o {out}: cannot write the report there ({exc.strerror or exc})"
    return None


def run(args: argparse.Namespace) -> int:
    from twinviewer.core.model import ModelReadError
    from twinviewer.core.project import ProjectError
    from twinviewer.report import ReportOptions, build_report
    from twinviewer.report.pdf import PdfUnavailable
    from twinviewer.review import ReviewFileError

    try:
        at = _instant("--at", args.at)
        start = _instant("--from", args.start)
        end = _instant("--to", args.end)
    except ValueError as exc:
        sys.stderr.write(f"{NAME}: {exc}\n")
        return 2
    problem = _usage(args)
    if problem:
        sys.stderr.write(f"{NAME}: {problem}\n")
        return 2 if "html or .pdf" in problem else 1
    options = ReportOptions(
        at=at,
        start=start,
        end=end,
        views=[(v, v) for v in args.view],
        sensors=args.sensor,
        title=args.title,
        author=args.author,
        quantity=args.quantity,
    )
    began = time.perf_counter()
    try:
        written = build_report(args.project, args.output, options, history=args.history)
    except (ProjectError, ModelReadError, ReviewFileError, PdfUnavailable, ValueError,
            OSError) as exc:  # fmt: skip
        sys.stderr.write(f"{NAME}: {exc}\n")
        return 1
    c = written.content
    alarms = sum(a.level == "alarm" for a in c.alarms)
    counts = [
        _n(written.pages or 0, "page"),
        _n(len(c.snapshots), "view"),
        _n(alarms, "alarm"),
        _n(len(c.alarms) - alarms, "warning"),
        _n(len(c.issues), "issue"),
    ]
    if not written.pages:
        counts = counts[1:]
    sys.stdout.write(
        f"wrote {written.path} ({', '.join(counts)}; {time.perf_counter() - began:.1f} s)\n"
    )
    return 0


def _n(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
