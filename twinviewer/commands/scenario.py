"""``twinviewer scenario``: what-if runs beside the project's history.

* ``list``: the runs, their kind, samples and time range;
* ``record NAME``: the simulator with changed parameters (``--set KEY=VALUE``);
* ``from-overlay NAME``: a simulation overlay's values at the project's sensors;
* ``import NAME FILE``: a recorded stream (CSV/Parquet, as for ``history import``);
* ``compare NAME``: the baseline history against the run, sensor by sensor, at ``--at``.

The work is in :mod:`twinviewer.history.scenarios` and :mod:`twinviewer.session.scenario_runs`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from twinviewer.commands import Subparsers


def add_parser(sub: Subparsers) -> None:
    sc = sub.add_parser(
        "scenario", help="what-if runs beside the project's history: list, record, compare"
    )
    sc.add_argument("project", type=Path)
    sc.add_argument(
        "action",
        choices=["list", "record", "from-overlay", "import", "compare"],
        help="list: the runs; record NAME: the simulator with changed parameters; from-overlay "
        "NAME: an overlay's values at its sensors; import NAME FILE: a recorded stream "
        "(CSV/Parquet as for history import); compare NAME: baseline against the run",
    )
    sc.add_argument("name", nargs="?", help="the scenario (record, from-overlay, compare)")
    sc.add_argument("file", nargs="?", type=Path, help="import: the CSV or Parquet file")
    sc.add_argument("--duration", type=float, default=600.0, help="record: simulated seconds (600)")
    sc.add_argument(
        "--start",
        metavar="TIME",
        help="record: the time of simulated second 0 (ISO 8601, -10m, live = now; default: "
        "the first sample of the baseline history, else now)",
    )
    sc.add_argument(
        "--set",
        dest="updates",
        action="append",
        metavar="KEY=VALUE",
        help="record: change a simulator parameter (rate, speed, seed, cycle, faults); "
        "repeatable, e.g. --set seed=5",
    )
    sc.add_argument("--without-faults", action="store_true", help="record: inject no faults")
    sc.add_argument("--replace", action="store_true", help="overwrite a run of the same name")
    sc.add_argument("--description", default="", help="a note kept with the run")
    sc.add_argument("--overlay", metavar="NAME", help="from-overlay: the project's overlay")
    sc.add_argument(
        "--origin",
        metavar="TIME",
        help="from-overlay: twin time of simulation time 0 for a session-origin clock "
        "(default: the first sample of the baseline history, else now)",
    )
    sc.add_argument(
        "--at", metavar="TIME", help="compare: at TIME (ISO 8601, -10m; default: the run's end)"
    )
    sc.add_argument("--json", action="store_true", help="as one JSON object")
    sc.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """``scenario PROJECT list|record|from-overlay|import|compare``. Exit 2: the command line
    is wrong; 1: the project, the run or the store cannot be used."""
    import math
    from datetime import datetime, timezone

    from twinviewer.core.model import ModelReadError
    from twinviewer.core.project import ProjectError
    from twinviewer.history import scenarios as sc
    from twinviewer.session.headless import parse_instant
    from twinviewer.sim.result import SimReadError

    name = f"twinviewer scenario {args.action}"

    def usage(message: str) -> int:
        sys.stderr.write(f"{name}: {message}\n")
        return 2

    def iso(t: float | None) -> str:
        if t is None or not math.isfinite(t):
            return "-"
        return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="seconds")

    def instant(option: str, text: str | None) -> float | None:
        if text is None:
            return None
        try:
            t = parse_instant(text)
        except ValueError:
            raise ValueError(
                f"{option} {text!r}: expected 'live', an ISO 8601 time such as "
                "2026-11-24T03:12:00Z, or a relative time such as -10m, -2h, -1d"
            ) from None
        return datetime.now(timezone.utc).timestamp() if t is None else t

    if args.action != "list" and not args.name:
        return usage(f"which scenario? twinviewer scenario PROJECT {args.action} NAME")
    if args.action == "list" and args.name:
        return usage(f"unexpected argument {args.name!r}")
    if args.action == "from-overlay" and not args.overlay:
        return usage("--overlay NAME is required")
    if (args.action == "import") != (args.file is not None):
        return usage(
            "which file? twinviewer scenario PROJECT import NAME FILE"
            if args.action == "import"
            else f"unexpected argument {args.file}"
        )
    if args.action != "record" and (args.updates or args.without_faults or args.start):
        return usage("--set, --without-faults and --start are record options")
    try:
        start = instant("--start", args.start)
        origin = instant("--origin", args.origin)
        at = instant("--at", args.at)
        updates = sc.parse_assignments(args.updates or [])
    except ValueError as exc:
        return usage(str(exc))
    try:
        from twinviewer.session import load_twin_project, open_history, scenario_runs

        project, folder = load_twin_project(args.project)
        if args.action == "list":
            runs = sc.list_scenarios(project, folder, args.project)
            if args.json:
                out = {
                    "folder": str(sc.scenario_folder(project, folder, args.project)),
                    "scenarios": [run.as_dict() for run in runs],
                }
                sys.stdout.write(json.dumps(out, default=str) + "\n")
                return 0
            if not runs:
                where = sc.scenario_folder(project, folder, args.project)
                sys.stdout.write(f"no scenarios in {where}\n")
            for run in runs:
                span = run.time_range or (None, None)
                sys.stdout.write(
                    f"{run.name:<24} {run.kind or '?':<9} {run.samples:>11,} samples  "
                    f"{iso(span[0])} .. {iso(span[1])}"
                    + (f"  {run.description}" if run.description else "")
                    + (f"  [{run.problem}]" if run.problem else "")
                    + "\n"
                )
            return 0
        if args.action == "import":
            info, report = sc.import_run(
                project,
                folder,
                args.project,
                args.name,
                args.file,
                description=args.description,
                replace=args.replace,
            )
            if args.json:
                imported = {**info.as_dict(), "import": report.as_dict()}
                sys.stdout.write(json.dumps(imported, default=str) + "\n")
            else:
                sys.stdout.write("\n".join(report.lines()) + "\n")
                sys.stdout.write(
                    f"scenario {info.name!r}: {info.samples:,} samples in {info.folder}\n"
                )
            return 0
        if args.action in ("record", "from-overlay"):
            first = None
            if (start if args.action == "record" else origin) is None:
                first = scenario_runs.baseline_start(project, folder, args.project)
            when = start if args.action == "record" else origin
            when = when if when is not None else first
            when = when if when is not None else datetime.now(timezone.utc).timestamp()
            if args.action == "record":
                info = scenario_runs.record_simulated(
                    project,
                    folder,
                    args.project,
                    args.name,
                    when,
                    args.duration,
                    updates,
                    args.without_faults,
                    args.description,
                    replace=args.replace,
                )
            else:
                info = scenario_runs.record_from_overlay(
                    args.project,
                    args.name,
                    args.overlay,
                    when,
                    args.description,
                    replace=args.replace,
                )
            if args.json:
                sys.stdout.write(json.dumps(info.as_dict(), default=str) + "\n")
            else:
                span = info.time_range or (None, None)
                sys.stdout.write(
                    f"scenario {info.name!r} ({info.kind}): {info.samples:,} samples, "
                    f"{iso(span[0])} .. {iso(span[1])}, in {info.folder}\n"
                )
            return 0
        # compare
        scen = sc.open_scenario(project, folder, args.project, args.name)
        try:
            base = open_history(project, folder, args.project, writer=False)
            if base is None:
                raise ValueError(f"{args.project}: no baseline history (history disabled?)")
            try:
                held = scen.time_range()
                t = at if at is not None else (held[1] if held else None)
                if t is None:
                    raise ValueError(f"scenario {args.name!r} holds no samples")
                rows = sc.compare(
                    base,
                    scen,
                    [s.id for s in project.sensors],
                    t,
                    units=[s.unit for s in project.sensors],
                    spans=[s.range[1] - s.range[0] for s in project.sensors],
                )
            finally:
                base.close()
        finally:
            scen.close()
    except (
        ProjectError,
        ModelReadError,
        SimReadError,
        ValueError,
        ImportError,
        OSError,
    ) as exc:
        sys.stderr.write(f"{name}: {exc}\n")
        return 1
    if args.json:
        table = {"scenario": args.name, "at": t, "rows": [r.as_dict() for r in rows]}
        sys.stdout.write(json.dumps(table) + "\n")
        return 0

    def num(v: float) -> str:
        return "-" if not math.isfinite(v) else f"{v:.4g}"

    sys.stdout.write(f"baseline against scenario {args.name!r} at {iso(t)}\n")
    width = max(len("sensor"), *(len(r.sensor) for r in rows))
    sys.stdout.write(
        f"{'sensor':<{width}}  {'baseline':>10}  {'scenario':>10}  {'difference':>10}  "
        f"{'relative':>8}  unit\n"
    )
    for r in rows:
        rel = "-" if not math.isfinite(r.relative) else f"{100 * r.relative:+.1f}%"
        sys.stdout.write(
            f"{r.sensor:<{width}}  {num(r.baseline):>10}  {num(r.scenario):>10}  "
            f"{num(r.difference):>10}  {rel:>8}  {r.unit}\n"
        )
    return 0
