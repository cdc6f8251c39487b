"""``twinviewer history``: what the project's history store holds, and moving samples in and out.

* ``stats``: samples, time range and size on disk;
* ``export -o FILE``: a window of the history (``--from``/``--to``, ``--sensor``) to CSV or
  Parquet;
* ``import FILE``: a historian export (CSV/Parquet), bad rows reported by line and skipped.

The work is in :mod:`twinviewer.history.transfer` and the store behind
:func:`twinviewer.session.open_history` (``--history URL``: a PostgreSQL database instead).
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
    h = sub.add_parser("history", help="what the project's history store holds")
    h.add_argument("project", type=Path)
    h.add_argument(
        "action",
        choices=["stats", "export", "import"],
        help="stats: samples, time range, size on disk; export: a window to CSV/Parquet (-o); "
        "import FILE: a historian export (CSV/Parquet), bad rows reported by line and skipped",
    )
    h.add_argument("file", nargs="?", type=Path, help="import: the CSV or Parquet file to read")
    h.add_argument("-o", "--output", type=Path, help="export: the file to write (.csv, .parquet)")
    h.add_argument("--from", dest="t_from", metavar="TIME", help="export from TIME (ISO, -10m)")
    h.add_argument("--to", dest="t_to", metavar="TIME", help="export up to TIME (ISO, -10m)")
    h.add_argument(
        "--sensor",
        action="append",
        metavar="ID",
        help="export: only this sensor (repeatable); import: the sensor of a single-series file",
    )
    h.add_argument("--format", choices=["csv", "parquet"], help="default: from the file suffix")
    h.add_argument("--time-column", metavar="COL", help="import: default time/timestamp/ts/date")
    h.add_argument(
        "--time-format",
        choices=["auto", "iso", "s", "ms", "us", "ns"],
        default="auto",
        help="import: ISO 8601 or epoch unit (default auto)",
    )
    h.add_argument("--timezone", default="UTC", help="import: zone of times without an offset")
    h.add_argument("--sensor-column", metavar="COL", help="import: long format's sensor column")
    h.add_argument("--value-column", metavar="COL", help="import: the value column")
    h.add_argument(
        "--map",
        action="append",
        metavar="COLUMN=SENSOR",
        help="import: a column (wide) or sensor name (long) is this sensor id (repeatable)",
    )
    h.add_argument("--json", action="store_true", help="as one JSON object")
    h.add_argument("--history", metavar="URL", help="this PostgreSQL database instead")
    h.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """``history PROJECT stats``; export and import are :func:`transfer`. Exit 1: the project
    or the store cannot be used."""
    from datetime import datetime, timezone

    from twinviewer.core.project import ProjectError
    from twinviewer.session import history_location, load_twin_project, open_history

    if args.action in ("export", "import"):
        return transfer(args)
    try:
        project, folder = load_twin_project(args.project)
        store = open_history(project, folder, args.project, args.history, writer=False)
        if store is None:
            raise ValueError(f"{args.project}: no history (a bare model, or history disabled)")
        try:
            where = history_location(project, folder, args.project, args.history)
            stats = {"path": where, **store.stats()}
        finally:
            store.close()
    except (ProjectError, ValueError, ImportError, OSError) as exc:
        sys.stderr.write(f"twinviewer history: {exc}\n")
        return 1
    if args.json:
        sys.stdout.write(json.dumps(stats, default=str) + "\n")
        return 0
    for key, value in stats.items():
        if key == "time_range" and value:
            value = " .. ".join(
                datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="seconds") for t in value
            )
        elif key == "bytes_per_sample":
            value = f"{value:.2f}"
        elif isinstance(value, int) and not isinstance(value, bool):
            value = f"{value:,}"
        sys.stdout.write(f"{key:>18}: {value}\n")
    return 0


def transfer(args: argparse.Namespace) -> int:
    """``history PROJECT export|import``; the work is in :mod:`twinviewer.history.transfer`.
    Exit 2: the command line is wrong; 1: the project, the store or the file cannot be used. An
    import whose bad rows were reported and skipped exits 0."""
    from twinviewer.core.project import ProjectError
    from twinviewer.history.transfer import (
        ImportMapping,
        export_history,
        format_of,
        import_history,
    )
    from twinviewer.session import load_twin_project, open_history
    from twinviewer.session.headless import parse_instant

    name = f"twinviewer history {args.action}"

    def usage(message: str) -> int:
        sys.stderr.write(f"{name}: {message}\n")
        return 2

    exporting = args.action == "export"
    if exporting and args.output is None:
        return usage("-o/--output FILE is required (.csv or .parquet)")
    if exporting and args.file is not None:
        return usage(f"unexpected argument {args.file}: name the file to write with -o")
    if not exporting and args.file is None:
        return usage("which file? twinviewer history PROJECT import FILE")
    if not exporting and (args.output or args.t_from or args.t_to):
        return usage("-o, --from and --to are export options")
    if not exporting and args.sensor and len(args.sensor) > 1:
        return usage("--sensor: a single-series file holds one sensor; name it once")
    rename: dict[str, str] = {}
    for item in args.map or []:
        column, sep, sensor = item.partition("=")
        if not sep or not column.strip() or not sensor.strip():
            return usage(f"--map {item!r}: expected COLUMN=SENSOR_ID")
        rename[column.strip()] = sensor.strip()
    bounds: list[float | None] = []
    for option, text in (("--from", args.t_from), ("--to", args.t_to)):
        try:
            bounds.append(None if text is None else parse_instant(text))
        except ValueError:
            return usage(
                f"{option} {text!r}: expected an ISO 8601 time such as 2026-11-24T03:12:00Z "
                "or a relative time such as -10m, -2h, -1d"
            )
    try:
        target = args.output if exporting else args.file
        fmt = format_of(target, args.format)
        mapping = ImportMapping(
            time_column=args.time_column,
            time_format=args.time_format,
            timezone=args.timezone,
            sensor_column=args.sensor_column,
            value_column=args.value_column,
            sensor=args.sensor[0] if args.sensor and not exporting else None,
            rename=rename,
        )
    except ValueError as exc:
        return usage(str(exc))
    try:
        project, folder = load_twin_project(args.project)
        store = open_history(
            project, folder, args.project, getattr(args, "history", None), writer=not exporting
        )
        if store is None:
            raise ValueError(f"{args.project}: no history (a bare model, or history disabled)")
        try:
            if exporting:
                n = export_history(store, None, args.output, bounds[0], bounds[1], args.sensor, fmt)
            else:
                ids = [s.id for s in project.sensors]
                report = import_history(store, ids, args.file, mapping, fmt=fmt)
        finally:
            store.close()
    except (ProjectError, ValueError, ImportError, OSError) as exc:
        sys.stderr.write(f"{name}: {exc}\n")
        return 1
    if exporting:
        out = {"path": str(args.output), "format": fmt, "samples": n}
        out.update({"from": bounds[0], "to": bounds[1], "sensors": args.sensor})
        text = f"exported {n:,} samples to {args.output}"
        sys.stdout.write((json.dumps(out) if args.json else text) + "\n")
        return 0
    if args.json:
        sys.stdout.write(json.dumps(report.as_dict()) + "\n")
    else:
        sys.stdout.write("\n".join(report.lines()) + "\n")
    return 0
