"""``twinviewer predict``: train the twin's models, ask what they say, evaluate the methods.

* ``predict PROJECT train [--from T] [--to T]``: fit a model of normal behaviour per group of
  sensors on a healthy window of the history (and remaining-useful-life models where the
  project has a ``degradation:`` block); written to ``<project>.models/``;
* ``predict PROJECT [--at T] [--json]``: score the history up to now and report, per group,
  health, anomaly score and the top contributing sensors, and per sensor the forecast time to
  its warning and alarm limits;
* ``predict evaluate FORMAT FILES... [--json]``: the detectors on public benchmarks, as a
  user compares methods: ``skab``, ``nab`` (with ``--windows combined_windows.json``) and
  ``cmapss`` (``--train``, ``--test``, ``--rul``; cross-validated on the training engines
  without a test split).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from twinviewer.commands import Subparsers
    from twinviewer.predict.health import HealthState
    from twinviewer.session.prediction import PredictionService

NAME = "twinviewer predict"


def add_parser(sub: Subparsers) -> None:
    p = sub.add_parser(
        "predict",
        help="prediction and health: train models, report health and time to limits, evaluate",
        description="predict PROJECT train [--from T --to T] | predict PROJECT [--at T] "
        "[--json] | predict evaluate {skab,nab,cmapss} FILES... [--json]",
    )
    p.add_argument("target", help="the project file, or 'evaluate'")
    p.add_argument(
        "rest",
        nargs="*",
        help="after a project: 'train' or 'status' (default); after evaluate: the format "
        "(skab, nab, cmapss) and its files",
    )
    p.add_argument(
        "--from",
        dest="t_from",
        metavar="TIME",
        help="train: window start (ISO 8601, -10m, or seconds after the history's first sample)",
    )
    p.add_argument("--to", dest="t_to", metavar="TIME", help="train: window end (same forms)")
    p.add_argument(
        "--simulated",
        type=float,
        metavar="SECONDS",
        help="train: on the project's built-in simulator running healthy (faults off) for "
        "SECONDS instead of the history (a baseline before real data; the demos use it)",
    )
    p.add_argument("--at", metavar="TIME", help="status: at TIME (ISO 8601, -10m; default now)")
    p.add_argument("--json", action="store_true", help="as one JSON object")
    p.add_argument("--method", choices=["t2q", "mset"], help="evaluate skab/nab: the detector")
    p.add_argument("--windows", type=Path, help="evaluate nab: combined_windows.json")
    p.add_argument("--train", type=Path, help="evaluate cmapss: train_FD00x.txt")
    p.add_argument("--test", type=Path, help="evaluate cmapss: test_FD00x.txt")
    p.add_argument("--rul", type=Path, help="evaluate cmapss: RUL_FD00x.txt")
    p.add_argument("--folds", type=int, default=5, help="evaluate cmapss without a test: folds")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.target == "evaluate":
        return evaluate(args)
    action = args.rest[0] if args.rest else "status"
    if action not in ("train", "status") or len(args.rest) > 1:
        sys.stderr.write(f"{NAME}: after the project: 'train' or 'status', got {args.rest}\n")
        return 2
    return train(args) if action == "train" else status(args)


def _bound(text: str | None) -> str | None:
    """A window bound for :func:`twinviewer.predict.train.train`: numbers (seconds after the
    first sample) and ISO pass through; ``-10m`` becomes an ISO time."""
    if text is None or re.fullmatch(r"\s*\d+(\.\d*)?\s*", text):
        return text
    from datetime import datetime, timezone

    from twinviewer.session.headless import parse_instant

    t = parse_instant(text)
    if t is None:
        return None
    return datetime.fromtimestamp(t, timezone.utc).isoformat()


def train(args: argparse.Namespace) -> int:
    from twinviewer.core.project import ProjectError
    from twinviewer.predict.train import train as fit
    from twinviewer.session import is_project_file, load_twin_project, open_history
    from twinviewer.session.prediction import models_folder, simulated_history

    path = Path(args.target)
    try:
        if not is_project_file(path):
            raise ValueError(f"{path}: expected a twin project file (*.twin.yaml)")
        project, folder = load_twin_project(path)
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="twinviewer-train-") as tmp:
            store: Any
            if args.simulated is not None:
                store = simulated_history(project, args.simulated, Path(tmp))
            else:
                store = open_history(project, folder, path, writer=False)
            if store is None:
                raise ValueError(f"{path}: no history to train on (history disabled?)")
            try:
                models = fit(project, store, _bound(args.t_from), _bound(args.t_to))
            finally:
                store.close()
        seconds = time.perf_counter() - started
        out = models_folder(project, folder, path)
        models.save(out)
    except (ProjectError, ValueError, OSError) as exc:
        sys.stderr.write(f"{NAME} train: {exc}\n")
        return 1
    summary = {
        "models": str(out),
        "rul_models": [e.group for e in models.rul],
        "groups": len(models.groups),
        "sensors": sum(len(g.sensors) for g in models.groups),
        "train_from": models.train_from,
        "train_to": models.train_to,
        "seconds": round(seconds, 3),
        "skipped": models.skipped,
    }
    if args.json:
        sys.stdout.write(json.dumps(summary) + "\n")
        return 0
    if args.simulated is not None:
        sys.stdout.write(f"on the simulator's healthy feed, {args.simulated:g} s\n")
    sys.stdout.write(
        f"trained {summary['groups']} groups ({summary['sensors']} sensors) on "
        f"{_iso(models.train_from)} .. {_iso(models.train_to)} in {seconds:.2f} s -> {out}\n"
    )
    for gid, why in models.skipped.items():
        sys.stdout.write(f"  skipped {gid}: {why}\n")
    return 0


def status(args: argparse.Namespace) -> int:
    from twinviewer.core.project import ProjectError
    from twinviewer.predict.model_set import ModelFileError
    from twinviewer.session import load_twin_project, open_history
    from twinviewer.session.headless import parse_instant
    from twinviewer.session.prediction import PredictionService

    path = Path(args.target)
    try:
        project, folder = load_twin_project(path)
        at = parse_instant(args.at) if args.at else None
        store = open_history(project, folder, path)
        if store is None:
            raise ValueError(f"{path}: no history (a bare model, or history disabled)")
        try:
            service = PredictionService.open(project, folder, path, store)
            if service is None:
                raise ValueError(
                    f"{path}: no trained models; run `twinviewer predict {path} train` first"
                )
            try:
                service.catch_up()
                service.flush()
                held = service.store.time_range()
                t = at if at is not None else (held[1] if held else math.nan)
                state = service.state_at(t) if math.isfinite(t) else None
                report = _report(service, state)
                if state is not None and service.models.rul:
                    report["remaining_life"] = [
                        {"group": g, "rul_s": round(r[0], 1), "lower_s": round(r[1], 1),
                         "upper_s": round(r[2], 1)}
                        for g, r in service.remaining_life(state.time).items()
                    ]  # fmt: skip
            finally:
                service.close()
        finally:
            store.close()
    except (ProjectError, ModelFileError, ValueError, OSError) as exc:
        sys.stderr.write(f"{NAME}: {exc}\n")
        return 1
    if args.json:
        sys.stdout.write(json.dumps(report, default=_json_number) + "\n")
        return 0
    _print_report(report)
    return 0


def _report(service: PredictionService, state: HealthState | None) -> dict[str, Any]:
    from twinviewer.core.colour import SensorRules

    project = service.project
    sensors = project.sensors
    if state is None:
        return {"time": None, "groups": [], "sensors": [], "anomaly_events": 0}
    rules = SensorRules.from_sensors(sensors)
    groups = []
    for g, gm in enumerate(service.models.groups):
        groups.append(
            {
                "group": gm.id,
                "health": _num(state.health[g]),
                "anomaly_score": _num(state.score[g]),
                "top_contributors": [
                    {"sensor": sensors[i].id, "share": round(share, 3)}
                    for i, share in state.top_contributors(g)
                ],
            }
        )
    groups.sort(key=lambda r: math.inf if r["health"] is None else r["health"])
    rows = []
    for c in state.crossings(rules, service.horizon):
        rows.append(
            {
                "sensor": sensors[c.sensor].id,
                "level": "alarm" if c.level == 5 else "warning",
                "limit": c.limit,
                "unit": sensors[c.sensor].unit,
                "in_s": round(c.expected, 1),
                "early_s": round(c.early, 1),
                "late_s": None if not math.isfinite(c.late) else round(c.late, 1),
            }
        )
    return {
        "time": state.time,
        "time_iso": _iso(state.time),
        "groups": groups,
        "sensors": rows,
        "anomaly_events": int(len(service.anomaly_events())),
    }


def _print_report(r: dict[str, Any]) -> None:
    out = sys.stdout
    if r["time"] is None:
        out.write("no predictions yet: the history holds nothing after training\n")
        return
    out.write(f"predictions at {r['time_iso']}\n\n")
    out.write(f"{'group':<28} {'health':>6} {'score':>6}  top contributors\n")
    for g in r["groups"]:
        tops = ", ".join(f"{c['sensor']} {100 * c['share']:.0f}%" for c in g["top_contributors"])
        health = "-" if g["health"] is None else f"{g['health']:.0f}"
        score = "-" if g["anomaly_score"] is None else f"{g['anomaly_score']:.2f}"
        out.write(f"{g['group']:<28} {health:>6} {score:>6}  {tops}\n")
    out.write("\n")
    if not r["sensors"]:
        out.write("no limit crossing forecast\n")
    for s in r["sensors"]:
        late = "open" if s["late_s"] is None else _dur(s["late_s"])
        out.write(
            f"{s['sensor']}: {s['level']} ({s['limit']:g} {s['unit']}) expected in "
            f"{_dur(s['in_s'])} ({_dur(s['early_s'])} - {late})\n"
        )
    for x in r.get("remaining_life", []):
        out.write(
            f"{x['group']}: remaining useful life {_dur(x['rul_s'])} "
            f"({_dur(x['lower_s'])} - {_dur(x['upper_s'])})\n"
        )
    out.write(f"\nanomaly events recorded: {r['anomaly_events']}\n")


def evaluate(args: argparse.Namespace) -> int:
    if not args.rest:
        sys.stderr.write(f"{NAME} evaluate: name the format: skab, nab or cmapss\n")
        return 2
    fmt, files = args.rest[0], [Path(f) for f in args.rest[1:]]
    try:
        if fmt == "skab":
            from twinviewer.predict.benchmarks import evaluate_skab

            if not files:
                raise ValueError("skab: name one or more SKAB CSV files")
            result = evaluate_skab(files, method=args.method or "t2q")
        elif fmt == "nab":
            from twinviewer.predict.benchmarks import evaluate_nab

            windows = args.windows or _find_windows(files)
            if not files or windows is None:
                raise ValueError("nab: name the CSV files and --windows combined_windows.json")
            result = evaluate_nab(files, windows, method=args.method or "mset")
        elif fmt == "cmapss":
            from twinviewer.predict.cmapss import evaluate_cmapss

            train_file = args.train or (files[0] if files else None)
            if train_file is None:
                raise ValueError("cmapss: --train train_FD00x.txt is needed")
            if (args.test is None) != (args.rul is None):
                raise ValueError("cmapss: --test and --rul go together")
            result = evaluate_cmapss(train_file, args.test, args.rul, folds=args.folds)
        else:
            raise ValueError(f"unknown format {fmt!r}; expected skab, nab or cmapss")
    except (ValueError, OSError) as exc:
        sys.stderr.write(f"{NAME} evaluate: {exc}\n")
        return 1
    if args.json:
        sys.stdout.write(json.dumps(result, default=_json_number) + "\n")
        return 0
    published = result.get("published", {})
    for key, value in result.items():
        if key == "published" or isinstance(value, (dict, list)):
            continue
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        line = f"{key:>16}: {shown}"
        if key in published:
            line += "    published: " + ", ".join(f"{k} {v}" for k, v in published[key].items())
        sys.stdout.write(line + "\n")
    return 0


def _find_windows(files: list[Path]) -> Path | None:
    for f in files:
        cand = f.parent / "combined_windows.json"
        if cand.exists():
            return cand
    return None


def _num(x: float) -> float | None:
    return None if not math.isfinite(float(x)) else round(float(x), 3)


def _json_number(x: Any) -> Any:
    try:
        f = float(x)
    except (TypeError, ValueError):
        return str(x)
    return f if math.isfinite(f) else None


def _iso(t: float) -> str:
    from datetime import datetime, timezone

    if not math.isfinite(t):
        return "-"
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="seconds")


def _dur(s: float) -> str:
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.1f} h"
