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
    h = sub.add_parser("history", help="what the project's history store holds")
    h.add_argument("project", type=Path)
    h.add_argument("action", choices=["stats"], help="stats: samples, time range, size on disk")
    h.add_argument("--json", action="store_true", help="as one JSON object")
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
    cmd = args.command
    if cmd == "check":
        return _check(args.project, args.json)
    if cmd == "render":
        return _render(args)
    if cmd == "simulate":
        return _simulate(args)
    if cmd == "history":
        return _history(args)
    if cmd == "record":
        return _record(args)
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
        return run_app(project=args.project, speed=args.speed, sources=args.source)
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
    from twinviewer.session import history_folder, load_twin_project, open_history

    try:
        project, folder = load_twin_project(args.project)
        store = open_history(project, folder, args.project)
        if store is None:
            raise ValueError(f"{args.project}: no history (a bare model, or history disabled)")
        try:
            stats = {"path": str(history_folder(project, folder, args.project)), **store.stats()}
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
        elif isinstance(value, int):
            value = f"{value:,}"
        sys.stdout.write(f"{key:>18}: {value}\n")
    return 0


def _record(args: argparse.Namespace) -> int:
    from twinviewer.core.project import ProjectError
    from twinviewer.record import record

    try:
        summary = record(args.project, args.duration, args.source)
    except (ProjectError, ValueError, ImportError, OSError) as exc:
        sys.stderr.write(f"twinviewer record: {exc}\n")
        return 1
    if args.json:
        sys.stdout.write(json.dumps(summary.as_dict()) + "\n")
    else:
        sys.stdout.write("\n".join(summary.lines()) + "\n")
    return 0


def _render(args: argparse.Namespace) -> int:
    from twinviewer.core.model import ModelReadError
    from twinviewer.core.project import ProjectError
    from twinviewer.headless import render_png

    try:
        out = render_png(
            args.project, args.output, args.size, args.view, args.after, args.quantity, args.at
        )
    except (ProjectError, ModelReadError, ValueError, OSError) as exc:
        sys.stderr.write(f"twinviewer render: {exc}\n")
        return 1
    sys.stdout.write(f"wrote {out}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
