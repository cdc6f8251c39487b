"""``twinviewer check``: validate a project (or a bare model) and report every finding."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twinviewer.core.model import ModelData, ModelReadError
from twinviewer.core.project import Problem, Project, ProjectError
from twinviewer.session import is_project_file, load_twin_project, read_models

if TYPE_CHECKING:
    from twinviewer.commands import Subparsers
    from twinviewer.core.binding import Binding


@dataclass
class CheckReport:
    path: Path
    problems: list[Problem] = field(default_factory=list)
    model: ModelData | None = None
    lines: list[str] = field(default_factory=list)  # the summary for people
    result: dict[str, Any] | None = None  # a simulation result's description (check_result)

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


def _tour_problems(
    project: Project, model: ModelData, binding: Binding, file: str
) -> list[Problem]:
    """A warning for each component a tour step names that the model does not have (the tour
    still plays; the step shows less than it says)."""
    known = {c.id for c in model.components}
    known |= {cid for cid, nodes in binding.component_nodes.items() if len(nodes)}
    out = []
    for i, tour in enumerate(project.tours):
        for k, step in enumerate(tour.steps):
            for key in ("highlight", "isolate", "hide", "transparent"):
                for j, cid in enumerate(getattr(step, key)):
                    if cid not in known:
                        out.append(
                            Problem(
                                severity="warning",
                                file=file,
                                key=f"tours[{i}].steps[{k}].{key}[{j}]",
                                message=f"tour {tour.name!r}, step {k + 1} ({step.title!r}): "
                                f"{key}: no component {cid!r} in the model or 'components'",
                            )
                        )
    return out


def check(path: str | Path, list_components: int = 40, as_result: bool = False) -> CheckReport:
    """Everything wrong with a project: schema, model files, bindings. A simulation result no
    model reader reads (``.pvd``, an OpenFOAM case, ``.case``, ...), or any result with
    ``as_result``, is described instead (:func:`check_result`)."""
    path = Path(path)
    report = CheckReport(path)
    file = str(path)
    if not path.exists():
        report.problems.append(
            Problem(severity="error", file=file, message="no such file or folder")
        )
        return report
    if as_result or _bare_result(path):
        return check_result(path)
    try:
        project, folder = load_twin_project(path)
    except ProjectError as exc:
        report.problems.extend(exc.problems)
        return report
    try:
        model = read_models(project, folder)
    except ModelReadError as exc:
        key = "models" if is_project_file(path) else ""
        report.problems.append(Problem(severity="error", file=file, key=key, message=str(exc)))
        return report
    report.model = model
    for w in model.warnings:
        report.problems.append(Problem(severity="warning", file=model.source, message=w))

    from twinviewer.core.binding import bind, sensor_problems

    binding = bind(project, model)
    for cid in binding.unmatched_components:
        sel = project.components[cid]
        how = next(
            f"{k} {v!r}" for k, v in sel.model_dump().items() if v is not None and k != "label"
        )
        report.problems.append(
            Problem(
                severity="error",
                file=file,
                key=f"components.{cid}",
                message=f"{how} matches no node of the model",
            )
        )
    report.problems += sensor_problems(project, model, binding, file)
    known_sensors = {s.id for s in project.sensors}
    if project.fleet is not None:  # a unit's sensors (loco-07/temp), and whole units (silence)
        from twinviewer.core.project_fleet import unit_sensor_id

        units = project.fleet.units
        known_sensors |= {unit_sensor_id(u, s.id) for u in units for s in project.sensors}
        known_sensors |= set(units)
    for j, src in enumerate(project.sources):
        for k, fault in enumerate(getattr(src, "faults", [])):
            if fault.sensor not in known_sensors:
                report.problems.append(
                    Problem(
                        severity="error",
                        file=file,
                        key=f"sources[{j}].faults[{k}].sensor",
                        message=f"unknown sensor {fault.sensor!r}",
                    )
                )
        for sensor_id in getattr(src, "nodes", {}):
            if sensor_id not in known_sensors:
                report.problems.append(
                    Problem(
                        severity="error",
                        file=file,
                        key=f"sources[{j}].nodes.{sensor_id}",
                        message=f"unknown sensor {sensor_id!r}; nodes bind to project sensors",
                    )
                )
        if src.type == "mqtt" and "{sensor}" not in src.topic and src.format == "json":
            topic = src.topic
            report.problems.append(
                Problem(
                    severity="warning",
                    file=file,
                    key=f"sources[{j}].topic",
                    message=f"no {{sensor}} in {topic!r}: each JSON message must then name its "
                    f"sensor in the {src.sensor_field!r} field",
                )
            )

    report.problems += _tour_problems(project, model, binding, file)

    parts = [c for c in model.components if c.kind == "part"]
    report.lines.append(
        f"{project.name}: {model.n_components} components ({len(parts)} with geometry), "
        f"{model.n_triangles:,} triangles, {len(project.sensors)} sensors, "
        f"{len(project.sources)} sources"
    )
    counts = model.triangle_counts()
    depth: dict[int, int] = {}
    for i, c in enumerate(model.components):
        depth[i] = depth[c.parent] + 1 if c.parent >= 0 else 0
        if i < list_components:
            tris = f" ({counts[i]:,} triangles)" if counts[i] else ""
            report.lines.append(f"  {'  ' * depth[i]}{c.id}{tris}")
    if model.n_components > list_components:
        report.lines.append(f"  ... and {model.n_components - list_components} more")
    if project.sensors:
        unbound = binding.unbound_parts
        if unbound:
            names = ", ".join(model.components[i].id for i in unbound[:12])
            more = f" and {len(unbound) - 12} more" if len(unbound) > 12 else ""
            report.lines.append(f"components with no sensor ({len(unbound)}): {names}{more}")
        if binding.unbound_sensors:
            report.lines.append(f"sensors bound to nothing: {', '.join(binding.unbound_sensors)}")
    return report


def _bare_result(path: Path) -> bool:
    """A simulation result that is not also a model file (``.vtu`` etc. stay models)."""
    from twinviewer.formats.registry import find_reader
    from twinviewer.sim import is_result

    if is_project_file(path):
        return False
    return is_result(path) and (path.is_dir() or find_reader(path) is None)


def check_result(path: str | Path, list_items: int = 40) -> CheckReport:
    """Describe a simulation result (format, time steps, fields with units, parts, bounds), or
    one error line when it cannot be read."""
    from twinviewer.sim import SimReadError, read_result

    path = Path(path)
    report = CheckReport(path)
    try:
        result = read_result(path)
    except SimReadError as exc:
        report.problems.append(Problem(severity="error", file=str(path), message=exc.reason))
        return report
    n = result.n_steps
    for step in range(1, n) if n <= 20 else (n // 2, n - 1):  # a step cut short fails here
        try:
            result.mesh(step)
        except SimReadError as exc:
            report.problems.append(Problem(severity="error", file=str(path), message=exc.reason))
            return report
    times = result.times
    bounds = result.bounds
    report.result = {
        "format": result.kind,
        "steps": result.n_steps,
        "times": [float(t) for t in times],
        "fields": [
            {
                "name": f.name,
                "association": f.association,
                "components": f.components,
                "unit": f.unit,
            }
            for f in result.fields
        ],
        "parts": list(result.parts),
        "bounds": list(bounds),
    }
    span = f", t = {times[0]:g} .. {times[-1]:g}" if result.n_steps > 1 else ""
    report.lines.append(f"{path.name}: {result.kind}")
    report.lines.append(f"  {result.n_steps} time step{'s' if result.n_steps != 1 else ''}{span}")
    report.lines.append(f"  fields ({len(result.fields)}):")
    for f in result.fields[:list_items]:
        unit = f" [{f.unit}]" if f.unit else ""
        shape = "scalar" if f.components == 1 else f"{f.components} components"
        report.lines.append(f"    {f.name}{unit}  ({f.association}, {shape})")
    report.lines.append(f"  parts ({len(result.parts)}):")
    for name in result.parts[:list_items]:
        report.lines.append(f"    {name}")
    if len(result.parts) > list_items:
        report.lines.append(f"    ... and {len(result.parts) - list_items} more")
    lo, hi = bounds[0::2], bounds[1::2]
    report.lines.append(
        "  bounds: "
        + ", ".join(f"{a} {x:g} .. {y:g}" for a, x, y in zip("xyz", lo, hi, strict=True))
    )
    return report


def add_parser(sub: Subparsers) -> None:
    c = sub.add_parser("check", help="validate a project; non-zero exit on errors")
    c.add_argument("project", type=Path)
    c.add_argument("--json", action="store_true", help="findings as JSON")
    c.add_argument(
        "--result",
        action="store_true",
        help="describe the file as a simulation result (steps, fields, parts) even where it "
        "is also a model file (.vtu, .vtk, ...); results that are not models always are",
    )
    c.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """The findings (``--json``: as one object; errors to stderr); exit 1 on any error."""
    path: Path = args.project
    report = check(path, as_result=getattr(args, "result", False))
    if args.json:
        out = {
            "path": str(path),
            "ok": report.ok,
            "problems": [p.model_dump() for p in report.problems],
            "components": [c.id for c in report.model.components] if report.model else [],
        }
        if report.result is not None:
            out["result"] = report.result
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
