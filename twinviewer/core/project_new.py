"""A new project file for a bare model: its components, an overview camera, commented examples.

:func:`suggest_components` proposes the twin's components from the model's hierarchy,
:func:`overview_view` a camera that frames the whole model, and :func:`new_project_text` writes
both into a commented ``*.twin.yaml`` text that a person is meant to go on editing. Reading the
model is the caller's (``twinviewer new`` reads it with the formats registry; the window will
hand over the model it has open). Only :mod:`twinviewer.core` is imported.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from twinviewer.core.model import ModelData
from twinviewer.core.project import ComponentSelector, View

__all__ = [
    "SuggestedComponent",
    "default_project_path",
    "new_project_text",
    "overview_view",
    "suggest_components",
]

#: Most components written into a new project; the rest are named in a comment.
MAX_COMPONENTS = 100

# A CAD instance number after the part's name: SolidWorks/Onshape glTF ``dowel#1:9:6:8:7``,
# Inventor/Fusion ``Bracket:3``, Blender ``Cube.001``. A re-export renumbers it, so the
# component selects the name with any number there.
_INSTANCE = re.compile(r"^(?P<base>.*?[^#:.\s])(?P<sep>#|:|\.)(?P<num>[0-9][0-9:]*)$")


@dataclass(frozen=True)
class SuggestedComponent:
    """A proposed twin component: its id, its selector and how many model nodes it selects."""

    id: str
    selector: ComponentSelector
    nodes: int


def _top_level(model: ModelData) -> list[int]:
    """The top of the hierarchy that says something: the roots, or the children of a single
    root group without geometry of its own (``world`` > parts), descending while there is only
    one such group."""
    kids = model.children()
    level = [i for i, c in enumerate(model.components) if c.parent < 0]
    while len(level) == 1 and kids[level[0]] and model.components[level[0]].kind == "group":
        level = kids[level[0]]
    return level


def _slug(name: str) -> str:
    slug = re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")
    return slug or "part"


def suggest_components(model: ModelData) -> list[SuggestedComponent]:
    """One component per top-level node of the model, as a selector that survives a re-export.

    A node named with a CAD instance number (``dowel#1:9:6:8:7``, ``Bracket:3``, ``Cube.001``)
    becomes a glob on its name with any number (``dowel#*``), so all its instances are one
    component and a renumbering export still matches; any other node is selected by its exact
    ``name``, which matches it wherever a re-export puts it in the hierarchy. Ids are the names
    in lower case with ``_`` for separators, made unique.
    """
    out: list[SuggestedComponent] = []
    seen: dict[tuple[str, str], int] = {}
    ids: set[str] = set()
    for i in _top_level(model):
        name = model.components[i].name or model.components[i].id  # unnamed: its path
        m = _INSTANCE.match(name)
        if m:
            base = m["base"]
            key = ("glob", f"{base}{m['sep']}*")
        else:
            base = name
            key = ("name", name)
        if key in seen:  # another instance of the same part
            k = seen[key]
            out[k] = SuggestedComponent(out[k].id, out[k].selector, out[k].nodes + 1)
            continue
        cid = _slug(base)
        n = 2
        while cid in ids:
            cid = f"{_slug(base)}_{n}"
            n += 1
        ids.add(cid)
        label = base if base.lower() != cid else None  # a display name worth keeping
        selector = ComponentSelector.model_validate({key[0]: key[1], "label": label})
        seen[key] = len(out)
        out.append(SuggestedComponent(cid, selector, 1))
    return out


def overview_view(model: ModelData, name: str = "Overview") -> View:
    """A camera from the isometric corner (x, -y, +z; Z up) that frames the whole model, as
    VTK's reset does: the bounding sphere fills the 30 degree view angle."""
    x0, x1, y0, y1, z0, z1 = model.bounds()
    centre = ((x0 + x1) / 2, (y0 + y1) / 2, (z0 + z1) / 2)
    radius = 0.5 * math.dist((x0, y0, z0), (x1, y1, z1)) or 1.0
    distance = radius / math.sin(math.radians(15))
    step = distance / math.sqrt(3)
    digits = max(0, 3 - math.floor(math.log10(radius)))

    def r(v: float) -> float:
        return round(v, digits) + 0.0  # no -0.0

    position = (r(centre[0] + step), r(centre[1] - step), r(centre[2] + step))
    focal = (r(centre[0]), r(centre[1]), r(centre[2]))
    return View(name=name, position=position, focal_point=focal, up=(0.0, 0.0, 1.0))


def default_project_path(model_path: str | Path) -> Path:
    """``pump.glb`` -> ``pump.twin.yaml`` beside it; a folder ``plant/`` -> ``plant.twin.yaml``
    beside the folder."""
    p = Path(model_path)
    stem = p.name if p.is_dir() else p.stem
    return p.parent / f"{stem}.twin.yaml"


def model_reference(model_path: str | Path, project_path: str | Path) -> str:
    """The model's path as the project names it: relative to the project's folder (forward
    slashes), or absolute where no relative path exists (another drive)."""
    model = Path(model_path).resolve()
    folder = Path(project_path).resolve().parent
    try:
        return Path(os.path.relpath(model, folder)).as_posix()
    except ValueError:
        return model.as_posix()


def _s(value: str) -> str:
    """A string as a YAML scalar: plain when that reads back as the same string."""
    if re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_ .\-/]*", value) and value == value.strip():
        try:
            if yaml.safe_load(value) == value:
                return value
        except yaml.YAMLError:
            pass
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def _n(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def _triple(v: tuple[float, float, float]) -> str:
    return "[" + ", ".join(_n(x) for x in v) + "]"


_HEADER = """\
# {name}: a TwinViewer project, written by `twinviewer new` from {model_file}.
#
# This file is yours to edit: TwinViewer's own edits (tag import, tours, bindings) keep your
# comments and layout. Check it with
#   twinviewer check {file}
# (`twinviewer schema` prints the JSON Schema every key is checked against).
twinviewer: 1
name: {name_scalar}
description: ""

# The model file(s), relative to this file. Several files become one model.
models:
  - {model_ref}
"""

_COMPONENTS = """
# Components: the parts of the twin that sensors are bound to. Each id selects model nodes by
# exactly one of
#   name:  an exact node name; it matches the node wherever it sits in the hierarchy, so a
#          re-export that regroups the model keeps the binding;
#   glob:  a shell pattern such as 'pump_*' or 'dowel#*' (any instance number a CAD export gives);
#   regex: a regular expression that must match the whole name,
# tried against each node's name and its '/'-joined path. 'label' is the name shown.
# These are the top-level nodes of {model_file} ({n_nodes} nodes in all; `twinviewer check {file}`
# lists them). A sensor may also name any model node directly.
components:
"""

_SENSORS = """
# Sensors: one entry per measured signal. Import a tag list (CSV or Excel) with
#   twinviewer tags {file} import TAGS.csv
# or write them here, for example:
#   - id: P101_TT01               # the id your data sources send
#     name: Pump 101 bearing temperature
#     quantity: temperature
#     unit: degC
#     component: {example_component}{example_pad}# a component id above, or a model node name
#     range: [0, 120]             # the colour map's normal range
#     warning: {{high: 80}}         # thresholds: low and/or high
#     alarm: {{high: 95}}
sensors: []

# Data sources: where live values come from. An MQTT broker, for example:
#   - type: mqtt
#     id: plant
#     url: mqtt://localhost:1883
#     topic: "site/{{component}}/{{sensor}}"   # {{sensor}} is one topic level holding the sensor id
#     format: json                           # json, json_batch or sparkplug_b
# or an OPC UA server (type: opcua, endpoint: opc.tcp://host:4840, nodes: {{sensor id: node id}}),
# or the built-in simulator, which feeds every sensor plausible values: - type: simulator
sources: []

# Saved cameras: the View menu, `twinviewer render {file} --view Overview`.
views:
"""


def new_project_text(
    model: ModelData,
    model_ref: str,
    project_file: str,
    name: str | None = None,
    max_components: int = MAX_COMPONENTS,
) -> str:
    """The text of a new project for ``model`` (read from ``model_ref``, the path the project
    will name) to be saved as ``project_file`` (the name used in its comments)."""
    model_file = Path(model_ref).name
    name = name or Path(model_ref).stem or "twin"
    fmt = {
        "name": name,
        "name_scalar": _s(name),
        "model_file": model_file,
        "model_ref": _s(model_ref),
        "file": Path(project_file).name,
        "n_nodes": model.n_components,
    }
    suggested = suggest_components(model)
    lines = [_HEADER.format(**fmt), _COMPONENTS.format(**fmt)]
    for c in suggested[:max_components]:
        sel = c.selector.model_dump(exclude_none=True)
        body = ", ".join(f"{k}: {_s(v)}" for k, v in sel.items())
        count = f"  # {c.nodes} instances" if c.nodes > 1 else ""
        lines.append(f"  {_s(c.id)}: {{{body}}}{count}\n")
    if len(suggested) > max_components:
        rest = ", ".join(c.id for c in suggested[max_components : max_components + 8])
        lines.append(
            f"  # ... and {len(suggested) - max_components} more top-level nodes ({rest}, ...)\n"
        )
    if not suggested:
        lines[-1] = lines[-1].rstrip("\n") + " {}\n"
    example = suggested[0].id if suggested else "pump_101"
    fmt["example_component"] = example
    fmt["example_pad"] = " " * max(1, 17 - len(example))
    lines.append(_SENSORS.format(**fmt))
    if model.joints:
        lines[-1] = lines[-1].replace("sensors: []\n", joint_sensors_text(model))
    view = overview_view(model)
    lines.append(
        f"  - name: {_s(view.name)}\n"
        f"    position: {_triple(view.position)}\n"
        f"    focal_point: {_triple(view.focal_point)}\n"
        f"    up: {_triple(view.up)}\n"
    )
    return "".join(lines)


def joint_sensors_text(model: ModelData) -> str:
    """A ``sensors:`` block with one sensor per movable joint of the model (a URDF robot's):
    named after the joint, so that it drives the joint with no ``motion:`` entry, in radians
    (revolute, continuous) or metres (prismatic) over the joint's limits (a full turn for a
    continuous joint)."""
    out = [
        "# One sensor per movable joint (from the model's kinematics): a sensor named after a "
        "joint drives it,\n# in radians or metres; give your source's ids with `motion:` "
        "entries (kind: joint) instead.\nsensors:\n"
    ]
    for j in model.joints:
        angle = j.type != "prismatic"
        lo, hi = j.lower, j.upper
        if lo is None or hi is None or hi <= lo:
            lo, hi = (-math.pi, math.pi) if angle else (-1.0, 1.0)
        quantity, unit = ("angle", "rad") if angle else ("position", "m")
        out.append(
            f"  - {{id: {_s(j.name)}, quantity: {quantity}, unit: {unit}, "
            f"component: {_s(model.components[j.child].id)}, "
            f"range: [{_n(round(lo, 6))}, {_n(round(hi, 6))}]}}\n"
        )
    return "".join(out)
