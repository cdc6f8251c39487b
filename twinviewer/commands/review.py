"""``twinviewer review``: the design review's issues, kept in ``<project>.review/`` beside it.

* ``list [--json] [--status S] [--component C]``: the issues, oldest first;
* ``add --component C --title "..." [--at T] [--text ...] [--author A] [--priority P]``: a new
  open issue on component C; with ``--at T`` (ISO 8601, ``-10m``, ``live``) it gets the twin's
  time T and the values the history held at T for the component's sensors;
* ``export --bcf OUT.bcf``: every issue as a BCF 3.0 file for BIM tools;
* ``import IN.bcf``: topics of a BCF file, merged by GUID (a known issue is replaced); what
  could not be matched (components the twin does not have) is kept and reported.

The work is in :mod:`twinviewer.review`. Exit 2: the command line is wrong; 1: the project, the
review file or the BCF file cannot be used.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from twinviewer.commands import Subparsers
    from twinviewer.core.project import Project

NAME = "twinviewer review"
STATUSES = ("open", "in_progress", "resolved", "closed")
PRIORITIES = ("low", "normal", "high", "critical")


def add_parser(sub: Subparsers) -> None:
    r = sub.add_parser(
        "review",
        help="design review issues: list, add, BCF 3.0 export and import",
        description="review PROJECT list [--json] [--status S] [--component C] | "
        "review PROJECT add --component C --title TEXT [--at T] [--text TEXT] [--author A] "
        "[--priority P] | review PROJECT export --bcf OUT.bcf | review PROJECT import IN.bcf",
    )
    r.add_argument("project", type=Path)
    r.add_argument("action", choices=["list", "add", "export", "import"])
    r.add_argument("file", nargs="?", type=Path, help="import: the BCF file to read")
    r.add_argument("--json", action="store_true", help="list: as JSON")
    r.add_argument("--status", action="append", choices=STATUSES, help="list: only these")
    r.add_argument("--component", help="list: issues about this component; add: its component")
    r.add_argument("--at", metavar="TIME", help="add: the twin's time (ISO 8601, -10m, live)")
    r.add_argument("--title", help="add: the issue's title")
    r.add_argument("--text", default="", help="add: a longer description")
    r.add_argument("--author", help="add: who reports it (default: $USER)")
    r.add_argument("--priority", choices=PRIORITIES, default="normal", help="add: default normal")
    r.add_argument("--label", action="append", metavar="LABEL", help="add: a label (repeatable)")
    r.add_argument("--bcf", type=Path, metavar="OUT", help="export: the .bcf file to write")
    r.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Check the command line, then do the action."""
    problem = _usage(args)
    if problem:
        sys.stderr.write(f"{NAME} {args.action}: {problem}\n")
        return 2
    from twinviewer.core.project import ProjectError
    from twinviewer.review import BcfError, ReviewFileError

    try:
        if args.action == "list":
            return _list(args)
        if args.action == "add":
            return _add(args)
        if args.action == "export":
            return _export(args)
        return _import(args)
    except (ProjectError, ReviewFileError, BcfError, ValueError, ImportError, OSError) as exc:
        sys.stderr.write(f"{NAME} {args.action}: {exc}\n")
        return 1


def _usage(args: argparse.Namespace) -> str | None:
    action = args.action
    if args.file is not None and action != "import":
        return f"unexpected argument {args.file}"
    if action == "import" and args.file is None:
        return "which file? twinviewer review PROJECT import IN.bcf"
    if action == "export" and args.bcf is None:
        return "--bcf OUT.bcf is required"
    if action != "export" and args.bcf is not None:
        return "--bcf is an export option"
    if action == "add":
        if not args.component:
            return "--component C is required (the component the issue is about)"
        if not args.title or not args.title.strip():
            return "--title is required and must not be blank"
    elif args.title or args.at or args.author or args.label:
        return "--title, --at, --author and --label are add options"
    if args.at is not None:
        from twinviewer.session.headless import parse_instant

        try:
            parse_instant(args.at)
        except ValueError:
            return (
                f"--at {args.at!r}: expected an ISO 8601 time such as 2026-11-24T03:12:00Z, "
                "'live', or a relative time such as -10m, -2h, -1d"
            )
    return None


def _list(args: argparse.Namespace) -> int:
    from twinviewer.review import load_review, review_folder

    review = load_review(review_folder(args.project))
    issues = review.by_status(*args.status) if args.status else list(review.issues)
    if args.component:
        about = {i.id for i in review.by_component(args.component)}
        issues = [i for i in issues if i.id in about]
    issues.sort(key=lambda i: (i.created, i.id))
    if args.json:
        out = {
            "review": str(review_folder(args.project)),
            "count": len(issues),
            "issues": [i.model_dump(mode="json") for i in issues],
        }
        sys.stdout.write(json.dumps(out) + "\n")
        return 0
    for i in issues:
        when = _iso(i.time) if i.time is not None else "-"
        notes = f" ({len(i.comments)} comment{'s' if len(i.comments) != 1 else ''})"
        sys.stdout.write(
            f"{i.id[:8]}  {i.status:<11} {i.priority:<8} {when:<20}  {i.component or '-'}  "
            f"{i.title}{notes if i.comments else ''}\n"
        )
    total = len(review.issues)
    shown = f"{len(issues)} of {total}" if len(issues) != total else f"{total}"
    sys.stdout.write(f"{shown} issue{'s' if total != 1 else ''}\n")
    return 0


def _add(args: argparse.Namespace) -> int:
    import getpass
    import math
    import time

    from twinviewer.review import load_review, new_issue, review_folder, save_review
    from twinviewer.session import load_twin_project, open_history
    from twinviewer.session.headless import parse_instant

    project, folder = load_twin_project(args.project)
    ids, sensors_of = _components(project, folder)
    if args.component not in ids:
        raise ValueError(_unknown(args.component, ids, args.project))
    at = None
    if args.at is not None:
        at = parse_instant(args.at)
        at = time.time() if at is None else at  # live: now
    values: dict[str, float] = {}
    note = None
    sensors = sensors_of(args.component)
    if at is not None and sensors:
        store = open_history(project, folder, args.project, writer=False)
        if store is not None:
            try:
                value, _when = store.at(at)
            finally:
                store.close()
            for k in sensors:
                if math.isfinite(float(value[k])):
                    values[project.sensors[k].id] = float(value[k])
            if not values:
                note = f"no sample of {args.component}'s sensors at or before {_iso(at)}"
    try:
        user = args.author or os.environ.get("USER") or getpass.getuser()
    except Exception:  # getpass fails without a user database entry (some containers)
        user = "unknown"
    where = review_folder(args.project)
    review = load_review(where)  # a broken file stops here, before anything is written
    issue = new_issue(
        args.title.strip(),
        user,
        text=args.text,
        component=args.component,
        time=at,
        priority=args.priority,
        labels=args.label or (),
        values=values,
    )
    review.issues.append(issue)
    save_review(where, review)
    shown = ", ".join(f"{k}={v:g}" for k, v in values.items())
    sys.stdout.write(
        f"added issue {issue.id} on {args.component}"
        + (f" at {_iso(at)}" if at is not None else "")
        + (f" ({shown})" if shown else "")
        + f" to {where}\n"
    )
    if note:
        sys.stderr.write(f"{NAME} add: note: {note}\n")
    return 0


def _export(args: argparse.Namespace) -> int:
    from twinviewer.review import load_review, review_folder, write_bcf
    from twinviewer.review.store import SNAPSHOTS

    where = review_folder(args.project)
    review = load_review(where)
    warnings = write_bcf(args.bcf, review.issues, where / SNAPSHOTS)
    for w in warnings:
        sys.stderr.write(f"{NAME} export: warning: {w}\n")
    n = len(review.issues)
    sys.stdout.write(f"exported {n} issue{'s' if n != 1 else ''} to {args.bcf} (BCF 3.0)\n")
    return 0


def _import(args: argparse.Namespace) -> int:
    from twinviewer.review import load_review, read_bcf, review_folder, save_review
    from twinviewer.review.store import write_snapshot
    from twinviewer.session import load_twin_project

    project, folder = load_twin_project(args.project)
    where = review_folder(args.project)
    review = load_review(where)  # checked before the BCF file is read into it
    try:
        ids, _ = _components(project, folder)
    except Exception as exc:  # the model cannot be read: import anyway, without the check
        sys.stderr.write(f"{NAME} import: warning: components not checked ({exc})\n")
        ids = None
    result = read_bcf(args.file, ids)
    for name, data in result.snapshots.items():
        write_snapshot(where, name, data)
    added, replaced = review.merge(result.issues)
    save_review(where, review)
    for w in result.warnings:
        sys.stderr.write(f"{NAME} import: warning: {w}\n")
    sys.stdout.write(
        f"imported {len(result.issues)} topic{'s' if len(result.issues) != 1 else ''} from "
        f"{args.file}: {added} new, {replaced} updated"
        + (f", {len(result.warnings)} warning(s)" if result.warnings else "")
        + "\n"
    )
    return 0


def _components(project: Project, folder: Path) -> tuple[list[str], Any]:
    """The twin's component ids (model nodes and the project's components) and a function
    giving the indices of the project sensors on a component (or anything below it)."""
    from twinviewer.core.binding import bind
    from twinviewer.session import read_models

    model = read_models(project, folder)
    binding = bind(project, model)
    index = {c.id: i for i, c in enumerate(model.components)}
    ids = list(dict.fromkeys([*index, *binding.component_nodes]))
    kids = model.children()

    def sensors_of(cid: str) -> list[int]:
        nodes = list(binding.component_nodes.get(cid) or ([index[cid]] if cid in index else []))
        below: set[int] = set()
        while nodes:
            n = nodes.pop()
            if n not in below:
                below.add(n)
                nodes.extend(kids[n])
        return [
            k
            for k, s in enumerate(project.sensors)
            if s.component == cid or below.intersection(binding.sensor_nodes[k])
        ]

    return ids, sensors_of


def _unknown(cid: str, ids: list[str], project: Path) -> str:
    import difflib

    close = difflib.get_close_matches(cid, ids, n=5, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return f"--component {cid!r}: not a component of {project}{hint}"


def _iso(t: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="seconds")
