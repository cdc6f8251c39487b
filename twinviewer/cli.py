"""The ``twinviewer`` command line: the same functions the GUI uses, one sub-command each."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from twinviewer import __version__
from twinviewer.demos import DEMOS, demo_project


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected WIDTHxHEIGHT, e.g. 1600x1000, got {text!r}"
        ) from None
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        raise argparse.ArgumentTypeError(f"size {text!r} out of range 16..8192")
    return w, h


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="twinviewer", description="Desktop viewer for industrial digital twins."
    )
    p.add_argument("--version", action="version", version=f"twinviewer {__version__}")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv: debug)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

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
    d = sub.add_parser("demo", help="open a built-in demo twin with its simulated live feed")
    d.add_argument("name", nargs="?", default="mine", choices=sorted(DEMOS))
    d.add_argument(
        "--speed", type=float, default=None, help="simulated seconds per second (default 1)"
    )
    c = sub.add_parser("check", help="validate a project; non-zero exit on errors")
    c.add_argument("project", type=Path)
    c.add_argument("--json", action="store_true", help="findings as JSON")
    r = sub.add_parser("render", help="render a project to a PNG without a window")
    r.add_argument("project", type=Path)
    r.add_argument("-o", "--output", type=Path, required=True, help="PNG file to write")
    r.add_argument("--size", type=_size, default=(1600, 1000), help="WIDTHxHEIGHT (1600x1000)")
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
    r.add_argument("--field", metavar="F", help="with --overlay: colour by this field instead")
    fid = sub.add_parser(
        "fidelity", help="measured versus simulated for one overlay: errors, pass/fail, summary"
    )
    fid.add_argument("project", type=Path)
    fid.add_argument("--overlay", metavar="NAME", required=True, help="the overlay to compare")
    fid.add_argument(
        "--after", type=float, help="compare after S seconds of simulated feed (default 600)"
    )
    fid.add_argument(
        "--at",
        metavar="TIME",
        help="compare the recorded values at TIME instead (live, ISO 8601, -10m)",
    )
    fid.add_argument(
        "--origin",
        metavar="TIME",
        help="with --at: the twin time of simulation time 0 (default: the first recorded sample)",
    )
    fid.add_argument("--history", metavar="URL", help="--at reads this PostgreSQL database")
    fid.add_argument("--json", action="store_true", help="as one JSON object")
    sim = sub.add_parser(
        "simulate",
        help="publish a project's simulated feed to an MQTT broker or as an OPC UA server",
    )
    sim.add_argument("project", type=Path)
    where = sim.add_mutually_exclusive_group(required=True)
    where.add_argument("--mqtt", metavar="URL", help="broker, e.g. mqtt://127.0.0.1:1883")
    where.add_argument("--opcua-server", metavar="ENDPOINT", help="e.g. opc.tcp://0.0.0.0:4840")
    sim.add_argument("--rate", type=float, default=None, help="samples per second per sensor")
    sim.add_argument("--speed", type=float, default=1.0, help="simulated seconds per second")
    sim.add_argument("--duration", type=float, default=None, help="seconds (default: until Ctrl+C)")
    sim.add_argument(
        "--faults",
        action="store_true",
        help="inject drop-outs, malformed messages, NaN, out-of-order and duplicate samples",
    )
    rec = sub.add_parser("record", help="connect the project's sources headless; print a summary")
    rec.add_argument("project", type=Path)
    rec.add_argument("--duration", type=float, default=None, help="seconds (default: until Ctrl+C)")
    rec.add_argument(
        "--source", action="append", metavar="ID", help="only this source (repeatable)"
    )
    rec.add_argument("--json", action="store_true", help="the summary as one JSON object")
    rec.add_argument(
        "--history",
        metavar="URL",
        help="record into this PostgreSQL database (postgresql://user:pw@host/db[?schema=NAME])",
    )
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
    b = sub.add_parser("bench", help="run the benchmarks; figures beside their targets")
    b.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    b.add_argument("--json", action="store_true", help="one JSON object per line")
    b.add_argument("--quick", action="store_true", help="a smaller model, for a smoke run")
    s = sub.add_parser("schema", help="print the JSON Schema of the project file")
    s.add_argument("-o", "--output", type=Path, help="write it to this file")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return _dispatch(args)
    except BrokenPipeError:  # `twinviewer ... | head`: the reader left; that is not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _dispatch(args: argparse.Namespace) -> int:
    cmd = args.command
    if cmd == "check":
        return _check(args.project, args.json)
    if cmd == "render":
        return _render(args)
    if cmd == "fidelity":
        return _fidelity(args)
    if cmd == "simulate":
        return _simulate(args)
    if cmd == "history":
        return _history(args)
    if cmd == "record":
        return _record(args)
    if cmd == "scenario":
        return _scenario(args)
    if cmd == "bench":
        from twinviewer.bench import run_benchmarks

        return run_benchmarks(args.names, as_json=args.json, quick=args.quick)
    if cmd == "schema":
        from twinviewer.core.project import project_json_schema

        text = project_json_schema()
        if args.output:
            args.output.write_text(text)
        else:
            sys.stdout.write(text)
        return 0
    from twinviewer.app import run_app

    if cmd == "open":
        return run_app(
            project=args.project, speed=args.speed, sources=args.source, history=args.history
        )
    if cmd == "demo":
        return run_app(project=demo_project(args.name), speed=args.speed)
    return run_app()


def _check(path: Path, as_json: bool) -> int:
    from twinviewer.check import check

    report = check(path)
    if as_json:
        out = {
            "path": str(path),
            "ok": report.ok,
            "problems": [p.model_dump() for p in report.problems],
            "components": [c.id for c in report.model.components] if report.model else [],
        }
        sys.stdout.write(json.dumps(out, indent=2) + "\n")
    else:
        for p in report.problems:
            stream = sys.stderr if p.severity == "error" else sys.stdout
            stream.write(f"{p}\n")
        for line in report.lines:
            sys.stdout.write(line + "\n")
        n_err = sum(p.severity == "error" for p in report.problems)
        n_warn = sum(p.severity == "warning" for p in report.problems)
        verdict = "OK" if report.ok else "FAILED"
        sys.stdout.write(f"{verdict}: {path}: {n_err} errors, {n_warn} warnings\n")
    return 0 if report.ok else 1


def _simulate(args: argparse.Namespace) -> int:
    import signal
    import threading
    from dataclasses import asdict

    from twinviewer.core.project import ProjectError
    from twinviewer.session import load_twin_project

    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        project, folder = load_twin_project(args.project)
        if not project.sensors:
            raise ValueError(f"{args.project}: the project has no sensors to simulate")
        stats: dict[str, object]
        if args.mqtt:
            from twinviewer.sources.mqtt_publish import publish_mqtt

            stats = publish_mqtt(
                project,
                args.mqtt,
                folder=folder,
                rate=args.rate,
                speed=args.speed,
                duration=args.duration,
                faults=args.faults,
                stop=stop,
            ).as_dict()
        else:
            from twinviewer.sources.opcua_server import serve_opcua

            stats = asdict(
                serve_opcua(
                    project,
                    args.opcua_server,
                    rate=args.rate,
                    speed=args.speed,
                    duration=args.duration,
                    faults=args.faults,
                    stop=stop,
                )
            )
    except (ProjectError, ValueError, ImportError, OSError, ConnectionError) as exc:
        sys.stderr.write(f"twinviewer simulate: {exc}\n")
        return 1
    sys.stdout.write(json.dumps(stats) + "\n")
    return 0


def _history(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from twinviewer.core.project import ProjectError
    from twinviewer.session import history_location, load_twin_project, open_history

    if args.action in ("export", "import"):
        return _history_transfer(args)
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


def _history_transfer(args: argparse.Namespace) -> int:
    """``history PROJECT export|import``; the work is in ``history/transfer.py``. Exit 2: the
    command line is wrong; 1: the project, the store or the file cannot be used. An import
    whose bad rows were reported and skipped exits 0."""
    from twinviewer.core.project import ProjectError
    from twinviewer.headless import parse_instant
    from twinviewer.history.transfer import (
        ImportMapping,
        export_history,
        format_of,
        import_history,
    )
    from twinviewer.session import load_twin_project, open_history

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


def _scenario(args: argparse.Namespace) -> int:
    """``scenario PROJECT list|record|from-overlay|compare``; the work is in
    ``history/scenarios.py`` and ``scenario_runs.py``. Exit 2: the command line is wrong; 1:
    the project, the run or the store cannot be used."""
    import math
    from datetime import datetime, timezone

    from twinviewer.core.model import ModelReadError
    from twinviewer.core.project import ProjectError
    from twinviewer.headless import parse_instant
    from twinviewer.history import scenarios as sc
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
        from twinviewer import scenario_runs
        from twinviewer.session import load_twin_project, open_history

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


def _record(args: argparse.Namespace) -> int:
    from twinviewer.core.project import ProjectError
    from twinviewer.record import record

    try:
        summary = record(args.project, args.duration, args.source, history=args.history)
    except (ProjectError, ValueError, ImportError, OSError) as exc:
        sys.stderr.write(f"twinviewer record: {exc}\n")
        return 1
    if args.json:
        sys.stdout.write(json.dumps(summary.as_dict()) + "\n")
    else:
        sys.stdout.write("\n".join(summary.lines()) + "\n")
    return 0


def _fidelity(args: argparse.Namespace) -> int:
    from twinviewer.core.model import ModelReadError
    from twinviewer.core.project import ProjectError
    from twinviewer.fidelity_report import fidelity_report
    from twinviewer.sim.result import SimReadError

    try:
        report = fidelity_report(
            str(args.project), args.overlay, args.after, args.at, args.origin, args.history
        )
    except (ProjectError, ModelReadError, SimReadError, ValueError, OSError) as exc:
        sys.stderr.write(f"twinviewer fidelity: {exc}\n")
        return 1
    if args.json:
        sys.stdout.write(json.dumps(report.as_dict()) + "\n")
    else:
        sys.stdout.write(report.text() + "\n")
    return 0


def _render(args: argparse.Namespace) -> int:
    from twinviewer.core.model import ModelReadError
    from twinviewer.core.project import ProjectError
    from twinviewer.headless import render_png
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
            field=args.field,
        )
    except (ProjectError, ModelReadError, SimReadError, ValueError, OSError) as exc:
        sys.stderr.write(f"twinviewer render: {exc}\n")
        return 1
    sys.stdout.write(f"wrote {out}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
