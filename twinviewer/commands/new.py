"""``twinviewer new MODEL``: a project file for a bare model, ready for its sensors."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from twinviewer.commands import Subparsers


def add_parser(sub: Subparsers) -> None:
    c = sub.add_parser(
        "new",
        help="write a project file for a model: its components, an overview camera, examples",
        description="Write a new project (*.twin.yaml) beside MODEL naming the model, its "
        "top-level components as patterns that survive a re-export, an overview camera and "
        "commented examples of a sensor and a data source; then check that it loads.",
    )
    c.add_argument("model", type=Path, help="model file or folder of part files")
    c.add_argument(
        "-o", "--output", type=Path, help="project file (default: MODEL's stem + .twin.yaml)"
    )
    c.add_argument("--name", help="the twin's name (default: the model's stem)")
    c.add_argument("--force", action="store_true", help="overwrite an existing project file")
    c.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from twinviewer.core.binding import bind
    from twinviewer.core.model import ModelReadError
    from twinviewer.core.project import ProjectError, load_project
    from twinviewer.core.project_new import (
        default_project_path,
        model_reference,
        new_project_text,
        suggest_components,
    )
    from twinviewer.formats.registry import read_model

    model_path: Path = args.model
    out: Path = args.output or default_project_path(model_path)
    if out.exists() and not args.force:
        sys.stderr.write(f"{out}: error: the file exists; give --force to overwrite it\n")
        return 1
    try:
        model = read_model(model_path)
    except ModelReadError as exc:
        sys.stderr.write(f"{exc.path}: error: {exc.reason}\n")
        return 1
    text = new_project_text(model, model_reference(model_path, out), out.name, args.name)
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        sys.stderr.write(f"{out}: error: cannot write: {exc}\n")
        return 1
    try:
        project, _ = load_project(out)
    except ProjectError as exc:  # a bug here, never the user's: say so plainly
        sys.stderr.write(f"{exc}\n{out}: error: the new project does not load (a bug)\n")
        return 1
    binding = bind(project, model)
    components = suggest_components(model)
    written = len(project.components)
    w = sys.stdout.write
    w(
        f"Wrote {out}: model {project.models[0].path} ({model.n_components} nodes, "
        f"{model.n_triangles:,} triangles), {written} component{'s' * (written != 1)}"
        + (f" (of {len(components)} top-level nodes)" if written < len(components) else "")
        + f", view '{project.views[0].name}'\n"
    )
    for cid in binding.unmatched_components:  # cannot happen for what was just read; say so
        w(f"  warning: component {cid!r} matches no node of the model\n")
    w(
        "Next steps:\n"
        "  1. Sensors from a tag list (CSV or Excel; columns found by their headers):\n"
        f"       twinviewer tags {out} import TAGS.csv\n"
        "  2. Check the bindings and sources, then open the twin:\n"
        f"       twinviewer check {out}\n"
        f"       twinviewer open {out}\n"
    )
    return 0
