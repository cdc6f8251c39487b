"""``twinviewer tags PROJECT import TAGS.csv|.xlsx``: a plant's tag list into the project."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from twinviewer.commands import Subparsers


def add_parser(sub: Subparsers) -> None:
    c = sub.add_parser(
        "tags",
        help="import a tag list (CSV or Excel) as the project's sensors",
        description="Sensors from a tag list: one row per tag, columns found by their headers "
        "(tag/id, description/name, unit/eng units/uom, component/asset/equipment, min and max "
        "or range, warning and alarm high/low (H, HH, L, LL), topic/node id/address/metric). "
        "Bad rows are reported by line and skipped; a tag already in the project is updated "
        "in place; tags whose component matches nothing in the model are listed as UNBOUND.",
    )
    c.add_argument("project", type=Path, help="the project file (*.twin.yaml)")
    actions = c.add_subparsers(dest="tags_action", metavar="ACTION", required=True)
    imp = actions.add_parser("import", help="import a tag list")
    imp.add_argument("file", type=Path, help="tag list: .csv (any of , ; TAB |) or .xlsx")
    imp.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="COLUMN=FIELD",
        help="read COLUMN as FIELD (id, name, quantity, unit, component, min, max, range, "
        "warning_low, warning_high, alarm_low, alarm_high, address, colormap, deadband, "
        "stale_after, or ignore); repeatable",
    )
    imp.add_argument("--sheet", help="the workbook's sheet (default: the first)")
    imp.add_argument(
        "--source", help="bind addresses through this source only (an opcua or mqtt source id)"
    )
    imp.add_argument("--dry-run", action="store_true", help="report, change nothing")
    imp.set_defaults(run=run)


def _mapping(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        column, sep, fld = item.rpartition("=")
        if not sep or not column.strip() or not fld.strip():
            raise ValueError(f"--map {item!r}: expected COLUMN=FIELD")
        out[column.strip()] = fld.strip()
    return out


def run(args: argparse.Namespace) -> int:
    """Exit 0 when every row was imported, 1 when a row was bad or nothing could be done."""
    from twinviewer.core.model import ModelReadError
    from twinviewer.core.project import ProjectError, load_project
    from twinviewer.core.project_edit import ProjectEditError, add_sensors, plan_sensors
    from twinviewer.core.tags import TagFileError, parse_tags, plan_bindings, unbound_tags
    from twinviewer.session import read_models

    err, w = sys.stderr.write, sys.stdout.write
    path: Path = args.project
    try:
        project, folder = load_project(path)
        table = parse_tags(args.file, _mapping(args.map), project.sensors, args.sheet)
        bindings = plan_bindings(table.rows, project, args.source)
    except ProjectError as exc:
        err(f"{exc}\n")
        return 1
    except (TagFileError, ValueError) as exc:
        err(f"error: {exc}\n")
        return 1
    try:
        model = read_models(project, folder)
    except ModelReadError as exc:
        err(f"{exc.path}: error: {exc.reason} (needed to check the tags' components)\n")
        return 1

    n = len(table.rows) + len(table.bad)
    w(f"{args.file}: {n} tags: {len(table.rows)} good, {len(table.bad)} bad\n")
    w("columns: " + ", ".join(f"{f} <- {h!r}" for f, h in table.columns.items()) + "\n")
    if table.unused:
        w("not read: " + ", ".join(repr(h) for h in table.unused) + " (--map COLUMN=FIELD)\n")
    for bad in table.bad:
        err(f"{args.file}: {bad}\n")
    if table.guessed_quantity:
        w(
            f"quantity from the unit or name (no quantity column or cell) for "
            f"{len(table.guessed_quantity)} tags\n"
        )

    unbound = unbound_tags(table.rows, project, model)
    if unbound:
        w(f"UNBOUND ({len(unbound)}): their component matches nothing in the model\n")
        for u in unbound:
            if u.component is None:
                w(f"  {table.where} {u.line}: {u.sensor!r}: no component\n")
                continue
            hint = f"; did you mean {', '.join(map(repr, u.suggestions))}?" if u.suggestions else ""
            w(f"  {table.where} {u.line}: {u.sensor!r}: component {u.component!r}{hint}\n")
    for source, count in bindings.opcua_new.items():
        w(f"OPC UA: {count} node ids into source {source!r} nodes\n")
    for source, count in bindings.mqtt_reached.items():
        w(f"MQTT: {count} topics reached by source {source!r}'s topic template\n")
    if bindings.unbound:
        w(f"addresses not bound ({len(bindings.unbound)}):\n")
        for line, sid, addr, why in bindings.unbound:
            w(f"  {table.where} {line}: {sid!r}: {addr!r}: {why}\n")
        for note in bindings.notes:
            w(f"  {note}\n")

    plan = plan_sensors(project, table.sensors)
    counts = (
        f"{len(plan.added)} added, {len(plan.updated)} updated, {len(plan.unchanged)} unchanged"
    )
    if args.dry_run:
        w(f"dry run: {path} would have {counts}; nothing written\n")
    else:
        try:
            add_sensors(path, table.sensors, bindings.opcua)
        except (ProjectEditError, ProjectError) as exc:
            err(f"{exc}\n")
            return 1
        w(f"{path}: sensors {counts}\n")
        if unbound:
            w(f"fix the UNBOUND components, then: twinviewer check {path}\n")
    return 1 if table.bad else 0
