"""``twinviewer history``: what the project's history store holds, and moving samples in and out.

* ``stats``: samples, time range and size on disk, and the gaps recorded (how many, samples
  missing);
* ``gaps``: the data-quality gaps recorded (``--from``/``--to``, one ``--sensor``): where a
  source is known to have lost samples, one line each;
* ``export -o FILE``: a window of the history (``--from``/``--to``, ``--sensor``) to CSV or
  Parquet, with its gaps in a ``FILE-stem.gaps.csv`` sidecar;
* ``import FILE``: a historian export (CSV/Parquet), bad rows reported by line and skipped; the
  gaps of a sidecar beside it are imported too.

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
        choices=["stats", "gaps", "export", "import"],
        help="stats: samples, time range, size on disk, gaps; gaps: where sources lost samples "
        "(--from, --to, --sensor); export: a window to CSV/Parquet (-o), gaps beside it; "
        "import FILE: a historian export (CSV/Parquet), bad rows reported by line and skipped",
    )
    h.add_argument("file", nargs="?", type=Path, help="import: the CSV or Parquet file to read")
    h.add_argument("-o", "--output", type=Path, help="export: the file to write (.csv, .parquet)")
    h.add_argument(
        "--from", dest="t_from", metavar="TIME", help="export, gaps: from TIME (ISO, -10m)"
    )
    h.add_argument("--to", dest="t_to", metavar="TIME", help="export, gaps: up to TIME (ISO, -10m)")
    h.add_argument(
        "--sensor",
        action="append",
        metavar="ID",
        help="export: only this sensor (repeatable); import: the sensor of a single-series file; "
        "gaps: only the gaps of this sensor",
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
    if args.action == "gaps":
        return list_gaps(args)
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
        if key.startswith("time_range") and value:
            value = " .. ".join(
                datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="seconds") for t in value
            )
        elif key == "rollups":
            value = (
                ", ".join(
                    f"{r['width']:g} s kept "
                    + ("always" if r["retention_days"] is None else f"{r['retention_days']:g} days")
                    for r in value
                )
                or "none"
            )
        elif key == "bytes_per_sample":
            value = f"{value:.2f}"
        elif isinstance(value, int) and not isinstance(value, bool):
            value = f"{value:,}"
        sys.stdout.write(f"{key:>23}: {value}\n")
    return 0


def list_gaps(args: argparse.Namespace) -> int:
    """``history PROJECT gaps``: the recorded gaps overlapping ``--from``..``--to`` (of one
    ``--sensor``), oldest first, so that an operator can tell a quiet sensor from a lost link
    without opening the window. Exit 2: the command line is wrong; 1: the project or the store
    cannot be used; 0 also when there are no gaps (that is an answer, not a failure)."""
    from twinviewer.core.project import ProjectError
    from twinviewer.history.transfer_gaps import iso_us
    from twinviewer.session import history_location, load_twin_project, open_history
    from twinviewer.session.headless import parse_instant

    name = "twinviewer history gaps"
    if args.file is not None or args.output is not None:
        sys.stderr.write(f"{name}: takes no file (the gaps are listed on standard output)\n")
        return 2
    if args.sensor and len(args.sensor) > 1:
        sys.stderr.write(f"{name}: --sensor: name one sensor (or none for every sensor)\n")
        return 2
    bounds: list[float | None] = []
    for option, text in (("--from", args.t_from), ("--to", args.t_to)):
        try:
            bounds.append(None if text is None else parse_instant(text))
        except ValueError:
            sys.stderr.write(
                f"{name}: {option} {text!r}: expected an ISO 8601 time such as "
                "2026-11-24T03:12:00Z or a relative time such as -10m, -2h, -1d\n"
            )
            return 2
    sensor = args.sensor[0] if args.sensor else None
    try:
        project, folder = load_twin_project(args.project)
        if sensor is not None and sensor not in {s.id for s in project.sensors}:
            raise ValueError(f"--sensor {sensor!r}: not a sensor of {args.project}")
        store = open_history(project, folder, args.project, args.history, writer=False)
        if store is None:
            raise ValueError(f"{args.project}: no history (a bare model, or history disabled)")
        try:
            where = history_location(project, folder, args.project, args.history)
            gaps = store.gaps(bounds[0], bounds[1], sensor)
        finally:
            store.close()
    except (ProjectError, ValueError, ImportError, OSError) as exc:
        sys.stderr.write(f"{name}: {exc}\n")
        return 1
    missing = sum(g.missing for g in gaps)
    if args.json:
        out = {
            "path": where,
            "from": bounds[0],
            "to": bounds[1],
            "sensor": sensor,
            "count": len(gaps),
            "missing": missing,
            "gaps": [
                {**g.as_dict(), "start_iso": iso_us(g.start), "end_iso": iso_us(g.end)}
                for g in gaps
            ],
        }
        sys.stdout.write(json.dumps(out) + "\n")
        return 0
    for g in gaps:
        sensors = ", ".join(g.sensors) if g.sensors else "every sensor of the source"
        detail = f"; {g.detail}" if g.detail else ""
        sys.stdout.write(f"{g.describe()}; sensors: {sensors}{detail}\n")
    estimated = sum(1 for g in gaps if not g.exact)
    summary = (
        f"{len(gaps):,} gap{'s' if len(gaps) != 1 else ''}, {missing:,} sample"
        f"{'s' if missing != 1 else ''} missing"
        + (f" ({estimated:,} of the gaps estimated)" if estimated else "")
        if gaps
        else "no gaps recorded"
    )
    sys.stdout.write(f"{summary} ({where})\n")
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
    from twinviewer.history.transfer_gaps import gap_sidecar, read_gap_sidecar
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
        side = gap_sidecar(args.output)
        gaps = len(read_gap_sidecar(side).gaps) if side.is_file() else 0
        out = {"path": str(args.output), "format": fmt, "samples": n}
        out.update({"from": bounds[0], "to": bounds[1], "sensors": args.sensor})
        out.update({"gaps": gaps, "gap_file": str(side) if gaps else None})
        text = f"exported {n:,} samples to {args.output}" + (
            f", {gaps:,} gap{'s' if gaps != 1 else ''} to {side}" if gaps else ""
        )
        sys.stdout.write((json.dumps(out) if args.json else text) + "\n")
        return 0
    if args.json:
        sys.stdout.write(json.dumps(report.as_dict()) + "\n")
    else:
        sys.stdout.write("\n".join(report.lines()) + "\n")
    return 0
