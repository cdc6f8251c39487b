"""``twinviewer fidelity``: measured versus simulated for one overlay, as a table.

The measured values come from a headless run of the project's simulated feed (``after``
seconds, the default) or from the history at an instant (``at``). In a headless run, twin time
is simulated seconds from 0, so the overlay clock's ``session`` origin is 0 and its
``simulator`` scale 1; from the history, ``session`` is the first recorded sample unless
``origin`` says otherwise.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from twinviewer.core.fidelity import FidelitySummary, summarise
from twinviewer.session import TwinSession

if TYPE_CHECKING:
    from twinviewer.commands import Subparsers


@dataclass
class FidelityReport:
    overlay: str
    field: str
    unit: str | None
    t: float  # twin time compared at
    sim_time: float
    rows: np.ndarray  # core.fidelity.ROW_DTYPE
    summary: FidelitySummary
    sensor_ids: list[str]
    units: list[str]
    relative_to: str

    def as_dict(self) -> dict[str, Any]:
        def num(x: float) -> float | None:
            return None if not math.isfinite(x) else float(x)

        return {
            "overlay": self.overlay,
            "field": self.field,
            "t": self.t,
            "sim_time": self.sim_time,
            "tolerance": self.summary.tolerance,
            "relative_to": self.relative_to,
            "compared": self.summary.compared,
            "passed": self.summary.passed,
            "share_passed": num(self.summary.share),
            "worst": [self.sensor_ids[k] for k in self.summary.worst],
            "sensors": [
                {
                    "sensor": self.sensor_ids[int(r["sensor"])],
                    "unit": self.units[int(r["sensor"])],
                    "measured": num(r["measured"]),
                    "simulated": num(r["simulated"]),
                    "abs_error": num(r["abs_error"]),
                    "rel_error": num(r["rel_error"]),
                    "passed": bool(r["passed"]),
                    "compared": bool(r["compared"]),
                }
                for r in self.rows
            ],
        }

    def text(self) -> str:
        s = self.summary
        when = (
            f"t = {self.t:g} s of simulated feed"
            if self.t < 1e8
            else datetime.fromtimestamp(self.t, timezone.utc).isoformat(timespec="seconds")
        )
        lines = [
            f"overlay {self.overlay!r}: field {self.field!r}, {when} "
            f"(simulation time {self.sim_time:g} s)",
            f"{'sensor':<34} {'measured':>12} {'simulated':>12} {'error':>10} {'rel':>8}  result",
        ]
        for r in self.rows:
            k = int(r["sensor"])
            unit = self.units[k]
            if not r["compared"]:
                why = "no measurement" if not math.isfinite(r["measured"]) else "outside the result"
                lines.append(f"{self.sensor_ids[k]:<34} {'':>12} {'':>12} {'':>10} {'':>8}  {why}")
                continue
            lines.append(
                f"{self.sensor_ids[k]:<34} {r['measured']:>8.4g} {unit:<3} "
                f"{r['simulated']:>8.4g} {unit:<3} {r['abs_error']:>10.3g} "
                f"{100 * r['rel_error']:>7.2f}%  {'pass' if r['passed'] else 'FAIL'}"
            )
        share = "n/a" if not s.compared else f"{100 * s.share:.0f}%"
        lines.append(
            f"{s.passed} of {s.compared} sensors within {100 * s.tolerance:g}% "
            f"(relative to the {self.relative_to}): {share}"
            + (f"; worst: {', '.join(self.sensor_ids[k] for k in s.worst)}" if s.worst else "")
        )
        return "\n".join(lines)


def fidelity_report(
    path: str,
    overlay: str,
    after: float | None = None,
    at: str | None = None,
    origin: str | None = None,
    history: str | None = None,
) -> FidelityReport:
    from twinviewer.session.headless import apply_feed, recorded_state  # pyvista: not for --help

    session = TwinSession.open(path)
    session.history_url = history
    if at is not None:
        t, measured, _, held = recorded_state(session, at)
        start = held[0] if origin is None else _instant(origin)
        sim = session.overlay(overlay, start)
    else:
        seconds = 600.0 if after is None else after
        t = apply_feed(session, seconds)
        measured = session.state.value.copy()
        sim = session.overlay(overlay, 0.0, simulator_speed=1.0)
    p = session.project
    rows = sim.fidelity(t, measured, p.sensors, p.fidelity.tolerance, p.fidelity.relative_to)
    sim_time, _ = sim.steps_at(t)
    return FidelityReport(
        overlay=overlay,
        field=sim.field,
        unit=sim.unit,
        t=t,
        sim_time=sim_time,
        rows=rows,
        summary=summarise(rows, p.fidelity.tolerance),
        sensor_ids=[s.id for s in p.sensors],
        units=[s.unit for s in p.sensors],
        relative_to=p.fidelity.relative_to,
    )


def _instant(text: str) -> float:
    from twinviewer.session.headless import parse_instant

    try:
        return float(text)
    except ValueError:
        t = parse_instant(text)
        if t is None:
            raise ValueError("--origin must be an instant, not 'live'") from None
        return t


def add_parser(sub: Subparsers) -> None:
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
    fid.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """The table (``--json``: as one object). Exit 1: the project, the overlay or the history
    cannot be used."""
    from twinviewer.core.model import ModelReadError
    from twinviewer.core.project import ProjectError
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
