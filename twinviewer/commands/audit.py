"""``twinviewer audit``: list and verify the project's audit trail of commands.

``--verify`` walks the hash chain and exits 1 at the first record that was edited, removed
or reordered (its line and what is wrong); without it, the records from ``--from`` to
``--to`` (ISO 8601, UTC unless a zone is given, or relative: ``-10m``, ``-2h``, ``-1d``).
When the project's history is PostgreSQL (or ``--history URL``) the trail is the control
room's table in that database (a record's "line" is then its position in ``seq`` order).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from twinviewer.commands import Subparsers


def add_parser(sub: Subparsers) -> None:
    a = sub.add_parser("audit", help="list or verify the audit trail of commands")
    a.add_argument("project", type=Path)
    a.add_argument("--from", dest="t0", metavar="T", help="from this time (ISO 8601 or -2h)")
    a.add_argument("--to", dest="t1", metavar="T", help="up to this time")
    a.add_argument("--json", action="store_true", help="one JSON object per line")
    a.add_argument("--verify", action="store_true", help="check the hash chain (exit 1: broken)")
    a.add_argument(
        "--history",
        metavar="URL",
        help="the PostgreSQL history whose audit table to read (default: the project's)",
    )
    a.set_defaults(run=run)


def instant(text: str, now: float | None = None) -> float:
    """ISO 8601 (UTC unless zoned) or relative to now (``-90s``, ``-10m``, ``-2h``, ``-1d``)."""
    from twinviewer.core.audit import parse_utc

    now = time.time() if now is None else now
    m = re.fullmatch(r"-(\d+(?:\.\d+)?)\s*([smhd])", text.strip())
    if m:
        return now - float(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    try:
        return parse_utc(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r}: expected an ISO 8601 time such as 2026-11-24T03:12:00Z or a relative "
            "time such as -10m, -2h, -1d"
        ) from None


def line_of(r: dict[str, Any]) -> str:
    def num(v: Any) -> str:
        return "?" if v is None else f"{v:g}" if isinstance(v, float) else str(v)

    change = f"{num(r.get('old'))} -> {num(r.get('new'))} {r.get('unit') or ''}".rstrip()
    out = (
        f"{r.get('time')}  #{r.get('seq')}  {r.get('user')} ({r.get('role')})  "
        f"{r.get('command')}: {change}  {str(r.get('result')).upper()}  via {r.get('target')}"
    )
    if r.get("readback") is not None:
        out += f"  read back {num(r['readback'])}"
    if r.get("message"):
        out += f"  - {r['message']}"
    if r.get("reason"):
        out += f"  reason: {r['reason']}"
    return out + f"  [{str(r.get('correlation'))[:8]}]"


def run(args: argparse.Namespace) -> int:
    """Exit 0; 1 the chain is broken (``--verify``) or the project cannot be read; 2 usage."""
    from twinviewer.core.project import ProjectError
    from twinviewer.session import load_twin_project
    from twinviewer.session.control_room import audit_trail_for

    try:
        project, folder = load_twin_project(args.project)
    except (ProjectError, OSError) as exc:
        sys.stderr.write(f"twinviewer audit: {exc}\n")
        return 1
    try:
        t0 = instant(args.t0) if args.t0 else None
        t1 = instant(args.t1) if args.t1 else None
    except ValueError as exc:
        sys.stderr.write(f"twinviewer audit: {exc}\n")
        return 2
    try:  # the control room's table when the history is PostgreSQL, else the file
        trail = audit_trail_for(project, folder, args.project, args.history)
    except (OSError, ValueError, ImportError) as exc:
        sys.stderr.write(f"twinviewer audit: {exc}\n")
        return 1
    if args.verify:
        v = trail.verify()
        if args.json:
            found = {"ok": v.ok, "records": v.records, "line": v.line, "problem": v.problem}
            sys.stdout.write(json.dumps({**found, "path": trail.where}) + "\n")
        else:
            out = sys.stdout if v.ok else sys.stderr
            out.write(f"{trail.where}: {v.describe()}\n")
        return 0 if v.ok else 1
    records = trail.records(t0, t1)
    for r in records:
        sys.stdout.write((json.dumps(r) if args.json else line_of(r)) + "\n")
    if not args.json and not records:
        sys.stderr.write(f"{trail.where}: no records in that time\n")
    return 0
