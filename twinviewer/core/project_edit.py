"""Small, careful edits of a project file that keep everything else in it as it was.

The project file is written by people: comments, key order, quoting and layout carry meaning,
and a YAML round trip through a parser loses all of them. So an edit here is a targeted text
edit at the positions the YAML composer reports, and the result is checked before it replaces the
file: it must load with :func:`~twinviewer.core.project.load_project`, say what was asked, and
say everything else exactly as before. Otherwise nothing is written.

Only :mod:`twinviewer.core` is imported.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from twinviewer.core.project import (
    OpcUaSource,
    Overlay,
    Project,
    ProjectError,
    Sensor,
    load_project,
)
from twinviewer.core.project_tours import Tour

__all__ = [
    "ProjectEditError",
    "RemovedSensor",
    "SensorEdit",
    "add_overlay",
    "add_sensors",
    "delete_tour",
    "plan_sensors",
    "remove_overlay",
    "remove_sensor",
    "save_tour",
    "set_opcua_bindings",
]

_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.;=:/\-]*")


class ProjectEditError(ValueError):
    """The edit cannot be made (or would not give a valid project); the file is unchanged."""


def set_opcua_bindings(
    project_path: str | Path, source_id: str, bindings: Mapping[str, str]
) -> None:
    """Make ``bindings`` ({sensor id: node id}) the ``nodes:`` of the ``opcua`` source
    ``source_id`` in the project file, keeping the rest of the file (comments included).

    In a block mapping of one-line entries, only the entries that change are touched: an
    unchanged binding keeps its line and comment, a changed one its comment, new ones are added
    after the last, removed ones disappear. Other layouts are rewritten as a whole (a flow mapping
    ``{...}`` in a block becomes a block). Raises :class:`ProjectEditError` (or
    :class:`~twinviewer.core.project.ProjectError` when the file is invalid to begin with).
    """
    path = Path(project_path)
    bindings = dict(bindings)
    for k, v in bindings.items():
        if not (isinstance(k, str) and k and isinstance(v, str) and v):
            raise ProjectEditError(f"a binding needs a sensor id and a node id, got {k!r}: {v!r}")
    project, _ = load_project(path)
    index = [i for i, s in enumerate(project.sources) if s.type == "opcua" and s.id == source_id]
    if not index:
        have = [s.id for s in project.sources if s.type == "opcua"]
        raise ProjectEditError(
            f"{path}: no opcua source with id {source_id!r}"
            + (f" (there is: {', '.join(have)})" if have else " (the file has none)")
        )
    raw = path.read_bytes().decode("utf-8")
    newline = "\r\n" if "\r\n" in raw else "\n"
    text = raw.replace("\r\n", "\n")
    root = yaml.compose(text)
    item = _source_node(root, index[0])
    edited = _edit(text, item, bindings)

    expected = project.model_copy(deep=True)
    source = expected.sources[index[0]]
    assert isinstance(source, OpcUaSource)
    source.nodes = bindings
    _replace_checked(path, edited.replace("\n", newline), expected.model_dump())


def _source_node(root: yaml.Node | None, i: int) -> yaml.MappingNode:
    if isinstance(root, yaml.MappingNode):
        for k, v in root.value:
            if k.value == "sources" and isinstance(v, yaml.SequenceNode) and i < len(v.value):
                item = v.value[i]
                if isinstance(item, yaml.MappingNode):
                    return item
    raise ProjectEditError("cannot find the source in the file's YAML (anchors or tags?)")


def _scalar(s: str, flow: bool = False) -> str:
    """``s`` as a YAML scalar: plain when that reads back as the same string, else quoted."""
    if _PLAIN.fullmatch(s) and not (flow and ":" in s):
        try:
            if yaml.safe_load(s) == s:
                return s
        except yaml.YAMLError:
            pass
    return json.dumps(s, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def _flow(bindings: dict[str, str]) -> str:
    pairs = (f"{_scalar(k, True)}: {_scalar(v, True)}" for k, v in bindings.items())
    return "{" + ", ".join(pairs) + "}"


def _block(bindings: dict[str, str], indent: int) -> list[str]:
    return [f"{' ' * indent}{_scalar(k)}: {_scalar(v)}" for k, v in bindings.items()]


def _last_line(node: yaml.Node) -> int:
    """The last line holding content of ``node`` (a block collection's end mark lies beyond)."""
    if isinstance(node, yaml.ScalarNode) or getattr(node, "flow_style", False):
        return int(node.end_mark.line)
    if isinstance(node, yaml.MappingNode):
        return max(_last_line(n) for pair in node.value for n in pair)
    if isinstance(node, yaml.SequenceNode) and node.value:
        return max(_last_line(n) for n in node.value)
    return int(node.end_mark.line)


def _splice(text: str, start: int, end: int, new: str) -> str:
    return text[:start] + new + text[end:]


def _edit(text: str, item: yaml.MappingNode, bindings: dict[str, str]) -> str:
    pair = next(((k, v) for k, v in item.value if k.value == "nodes"), None)
    if item.flow_style:  # - {type: opcua, ..., nodes: {...}}: stay on one line
        if pair is not None:
            v = pair[1]
            return _splice(text, v.start_mark.index, v.end_mark.index, _flow(bindings))
        if not bindings:
            return text
        close = item.end_mark.index - 1
        if text[close] != "}":
            raise ProjectEditError("unexpected layout of the source's flow mapping")
        body_end = len(text[:close].rstrip())
        return _splice(text, body_end, body_end, f", nodes: {_flow(bindings)}")

    key_col = item.start_mark.column
    lines = text.split("\n")
    if pair is None:  # no nodes: yet, add it after the source's last line
        if not bindings:
            return text
        at = _last_line(item) + 1
        lines[at:at] = [f"{' ' * key_col}nodes:", *_block(bindings, key_col + 2)]
        return "\n".join(lines)

    key, value = pair
    if not isinstance(value, yaml.MappingNode):
        raise ProjectEditError("the source's nodes: is not a mapping")
    if value.flow_style or not value.value:  # nodes: {...} -> a block below the key
        if not bindings:
            return _splice(text, value.start_mark.index, value.end_mark.index, "{}")
        before = text[: value.start_mark.index].rstrip(" \t")
        text = before + text[value.end_mark.index :]
        lines = text.split("\n")
        at = key.start_mark.line + 1
        lines[at:at] = _block(bindings, key_col + 2)
        return "\n".join(lines)

    entries = value.value
    last_end = entries[-1][1].end_mark.index
    if not bindings:
        return _splice(text, key.start_mark.index, last_end, "nodes: {}")
    simple = all(
        isinstance(k, yaml.ScalarNode)
        and isinstance(v, yaml.ScalarNode)
        and k.start_mark.line == v.end_mark.line
        for k, v in entries
    )
    indent = value.start_mark.column
    if not simple:  # rewrite the whole block
        body = "\n".join(_block(bindings, indent))[indent:]
        return _splice(text, value.start_mark.index, last_end, body)

    out: list[str | None] = list(lines)
    for k, v in entries:
        n = k.start_mark.line
        if k.value not in bindings:
            out[n] = None
        elif bindings[k.value] != v.value:
            line = lines[n]
            new_value = _scalar(bindings[k.value])
            out[n] = line[: v.start_mark.column] + new_value + line[v.end_mark.column :]
    existing = {k.value for k, _ in entries}
    at = entries[-1][0].start_mark.line + 1
    out[at:at] = _block({k: v for k, v in bindings.items() if k not in existing}, indent)
    return "\n".join(line for line in out if line is not None)


def _replace_checked(
    path: Path, text: str, expected: dict[str, object], what: str = "the bindings"
) -> None:
    """Write ``text`` over ``path`` if it loads as the ``expected`` project; else raise."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode("utf-8"))
        try:
            got, _ = load_project(tmp)
        except ProjectError as exc:
            problems = str(exc).replace(str(tmp), str(path))
            raise ProjectEditError(
                f"the edited project would not load, {path} is unchanged:\n{problems}"
            ) from None
        if got.model_dump() != expected:
            raise ProjectEditError(f"the edit would change more than {what}, {path} is unchanged")
        shutil.copymode(path, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# --------------------------------------------------------------------------------------------
# Tours
# --------------------------------------------------------------------------------------------

#: Widest line a written tour aims for; short lists and mappings go on one line within it.
_WIDTH = 96
#: Widest one-line mapping (``transition: {type: fly, duration: 3}``).
_FLOW_MAPPING = 64


def save_tour(path: str | Path, tour: Tour, replace: str | None = None) -> None:
    """Write ``tour`` into the project's ``tours:`` list, keeping the rest of the file.

    The tour named ``replace`` (else the one named like ``tour``) is replaced where it stands;
    otherwise the tour is appended, and a missing ``tours:`` key is added at the end of the file.
    In a block list only the lines of that one tour change: comments and layout elsewhere (other
    tours included) stay byte for byte. A ``tours:`` in flow style (``tours: [...]``) is rewritten
    as a block list (comments inside its brackets are lost). The tour is written as block YAML,
    short lists such as camera positions and short mappings on one line, long captions folded.
    The result must load as the project with this tour; otherwise :class:`ProjectEditError` says
    why (lines counted in the edited text) and nothing is written.
    """
    path = Path(path)
    project, _ = load_project(path)
    names = [t.name for t in project.tours]
    at: int | None = None
    if replace is not None and replace in names:
        at = names.index(replace)
    elif tour.name in names:
        at = names.index(tour.name)
    expected = project.model_copy(deep=True)
    if at is None:
        expected.tours.append(tour.model_copy(deep=True))
    else:
        expected.tours[at] = tour.model_copy(deep=True)
    _edit_tours(path, expected.model_dump(), expected.tours, at, tour)


def delete_tour(path: str | Path, name: str) -> None:
    """Remove the tour ``name`` from the project file, keeping the rest of it (comments
    included); :class:`ProjectEditError` when there is no such tour."""
    path = Path(path)
    project, _ = load_project(path)
    names = [t.name for t in project.tours]
    if name not in names:
        have = ", ".join(repr(n) for n in names) or "none"
        raise ProjectEditError(f"{path}: no tour named {name!r} (its tours: {have})")
    at = names.index(name)
    expected = project.model_copy(deep=True)
    del expected.tours[at]
    _edit_tours(path, expected.model_dump(), expected.tours, at, None)


def _edit_tours(
    path: Path, expected: dict[str, object], tours: list[Tour], at: int | None, new: Tour | None
) -> None:
    """Put ``new`` at index ``at`` of the file's tours (``at`` None: append; ``new`` None:
    delete), given the whole list of ``tours`` it then holds."""
    raw = path.read_bytes().decode("utf-8")
    newline = "\r\n" if "\r\n" in raw else "\n"
    text = raw.replace("\r\n", "\n")
    root = yaml.compose(text)
    if not isinstance(root, yaml.MappingNode) or root.flow_style:
        raise ProjectEditError(f"{path}: the top of the file is not a block mapping")
    pair = next(((k, v) for k, v in root.value if k.value == "tours"), None)
    if pair is None:  # a new key at the end of the file
        lines = text.rstrip("\n").split("\n") if text.strip() else []
        lines += ["", "tours:", *_tour_lines(tours, 2), ""]
        edited = "\n".join(lines)
    elif not (isinstance(pair[1], yaml.SequenceNode) and not pair[1].flow_style):
        edited = _rewrite_value(text, *pair, tours)
    else:
        edited = _edit_block(text, pair[0], pair[1], at, new)
    _replace_checked(path, edited.replace("\n", newline), expected, "the tour")


def _rewrite_value(text: str, key: yaml.Node, value: yaml.Node, tours: list[Tour]) -> str:
    """``tours: [...]`` or an empty ``tours:``: the list as a block below the key."""
    before = text[: value.start_mark.index].rstrip(" \t")
    after = text[value.end_mark.index :]
    if not tours:
        return before + " []" + after
    lines = (before + after).split("\n")
    at = key.start_mark.line + 1
    lines[at:at] = _tour_lines(tours, key.start_mark.column + 2)
    return "\n".join(lines)


def _item_spans(text: str, seq: yaml.SequenceNode, what: str) -> tuple[list[tuple[int, int]], int]:
    """The (first, last) line of each item of a block list, and the column of its dashes;
    ProjectEditError when an item does not start a line of its own."""
    spans = []
    dash = 0
    for item in seq.value:
        i = text.rfind("-", 0, item.start_mark.index)
        line_start = text.rfind("\n", 0, i) + 1
        if text[line_start:i].strip():
            raise ProjectEditError(f"unexpected layout of the {what}: list (an item shares a line)")
        dash = i - line_start
        spans.append((text.count("\n", 0, i), _end_line(text, item)))
    return spans, dash


def _edit_block(
    text: str, key: yaml.Node, seq: yaml.SequenceNode, at: int | None, new: Tour | None
) -> str:
    """One item of a block list replaced, appended or removed; every other line kept."""
    lines = text.split("\n")
    spans, dash = _item_spans(text, seq, "tours")
    body = [] if new is None else _tour_lines([new], dash)
    if at is None:
        after = spans[-1][1] + 1
        lines[after:after] = body
    else:
        first, last = spans[at]
        lines[first : last + 1] = body
    if new is None and len(seq.value) == 1:  # the last tour went: an empty list stays
        n = key.start_mark.line
        col = key.end_mark.column
        colon = lines[n].index(":", col)
        lines[n] = lines[n][: colon + 1] + " []" + lines[n][colon + 1 :]
    return "\n".join(lines)


def _end_line(text: str, node: yaml.Node) -> int:
    """The last line holding content of ``node`` (a block scalar's or collection's end mark
    lies beyond it, past blank lines and comments)."""
    if isinstance(node, yaml.ScalarNode):
        return int(node.start_mark.line) + text[
            node.start_mark.index : node.end_mark.index
        ].rstrip().count("\n")
    if getattr(node, "flow_style", False):
        return int(node.end_mark.line)
    if isinstance(node, yaml.MappingNode) and node.value:
        return max(_end_line(text, n) for pair in node.value for n in pair)
    if isinstance(node, yaml.SequenceNode) and node.value:
        return max(_end_line(text, n) for n in node.value)
    return int(node.start_mark.line)


def _tour_lines(tours: list[Tour], dash: int) -> list[str]:
    """Tours as the items of a block list whose dashes stand in column ``dash``."""
    out: list[str] = []
    for tour in tours:
        out += _item_lines(_tour_data(tour), dash)
    return out


def _tour_data(tour: Tour) -> dict[str, Any]:
    """What the file says of ``tour``: its keys as written (``from``/``to``), defaults left
    out (but a transition's type), a callout without a label as the sensor id alone."""
    data: dict[str, Any] = tour.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    for step in data.get("steps", []):
        if "transition" in step:  # say fly or cut, even where fly goes without saying
            step["transition"] = {"type": "fly", **step["transition"]}
        if "callouts" in step:
            step["callouts"] = [
                c["sensor"] if set(c) == {"sensor"} else c for c in step["callouts"]
            ]
    return data


def _item_lines(value: Any, dash: int) -> list[str]:
    """``value`` as one item of a block sequence (``- ...``) with its dash in column ``dash``."""
    pad = " " * dash
    if isinstance(value, dict) and value:
        inner = _mapping_lines(value, dash + 2)
        return [pad + "- " + inner[0][dash + 2 :], *inner[1:]]
    inline = _inline(value, dash + 2, _WIDTH - dash - 2)
    if inline is None:  # a list of lists: not in a tour, but be safe
        inline = json.dumps(value, ensure_ascii=False)
    first, *rest = inline.split("\n")
    return [pad + "- " + first, *rest]


def _mapping_lines(data: dict[str, Any], indent: int) -> list[str]:
    pad = " " * indent
    out: list[str] = []
    for k, v in data.items():
        key = _text(str(k), indent, _WIDTH)
        inline = _inline(v, indent, _WIDTH - indent - len(key) - 2)
        if inline is not None:
            first, *rest = inline.split("\n")
            out += [f"{pad}{key}: {first}", *rest]
        elif isinstance(v, dict):
            out += [f"{pad}{key}:", *_mapping_lines(v, indent + 2)]
        else:
            out.append(f"{pad}{key}:")
            for x in v:
                out += _item_lines(x, indent + 2)
    return out


def _is_scalar(v: Any) -> bool:
    return v is None or isinstance(v, (str, int, float, bool))


def _inline(v: Any, indent: int, room: int) -> str | None:
    """``v`` written after ``key: `` (continuation lines already indented), or None when it
    takes a block of its own."""
    if isinstance(v, str):
        return _text(v, indent, room)
    if _is_scalar(v):
        return _number(v)
    if isinstance(v, list):
        if not v:
            return "[]"
        if all(_is_scalar(x) for x in v):
            flow = "[" + ", ".join(_flow_scalar(x) for x in v) + "]"
            numbers = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)
            if numbers or len(flow) <= room:
                return flow
        return None
    if isinstance(v, dict):
        if not v:
            return "{}"
        if all(_is_scalar(x) for x in v.values()):
            pairs = (f"{_flow_scalar(str(k))}: {_flow_scalar(x)}" for k, x in v.items())
            flow = "{" + ", ".join(pairs) + "}"
            if len(flow) <= min(room, _FLOW_MAPPING):
                return flow
        return None
    return json.dumps(v, ensure_ascii=False)


def _number(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    x = float(v)
    if math.isnan(x):
        return ".nan"
    if math.isinf(x):
        return ".inf" if x > 0 else "-.inf"
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    r = repr(x)
    if "e" in r and "." not in r:  # YAML 1.1 reads 1e-05 as a string
        mantissa, exponent = r.split("e")
        r = f"{mantissa}.0e{exponent}"
    return r


def _loads_as(doc: str, expected: Any) -> bool:
    try:
        return bool(yaml.safe_load(doc) == expected)
    except yaml.YAMLError:
        return False


def _flow_scalar(v: Any) -> str:
    if not isinstance(v, str):
        return _number(v)
    if (
        v
        and not any(c in v for c in ",[]{}:#")
        and _loads_as(f"[{v}]", [v])
        and _loads_as(f"{{k: {v}}}", {"k": v})
    ):
        return v
    return json.dumps(v, ensure_ascii=False)


def _text(s: str, indent: int, room: int) -> str:
    """A string as a block value: plain when that reads back the same, a literal block for
    several lines, a folded block when too long for one line, else double-quoted."""
    pad = " " * (indent + 2)
    if "\n" in s.rstrip("\n"):
        chomp = "|-" if not s.endswith("\n") else "|" if not s.endswith("\n\n") else None
        if chomp is not None:
            body = s[:-1] if s.endswith("\n") else s
            block = chomp + "".join(f"\n{pad}{line}" if line else "\n" for line in body.split("\n"))
            if _loads_as(f"{' ' * indent}k: {block}", {"k": s}):
                return block
    elif len(s) <= room and s.strip() == s and _loads_as(f"k: {s}", {"k": s}):
        return s
    elif len(s) > room and " " in s and "  " not in s and s.strip() == s:
        words = s.split(" ")
        rows = [words[0]]
        for w in words[1:]:
            if len(rows[-1]) + 1 + len(w) <= max(20, _WIDTH - indent - 2):
                rows[-1] += " " + w
            else:
                rows.append(w)
        block = ">-" + "".join(f"\n{pad}{r}" for r in rows)
        if _loads_as(f"{' ' * indent}k: {block}", {"k": s}):
            return block
    return json.dumps(s, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


# --------------------------------------------------------------------------------------------
# Sensors (a tag-list import) and their source bindings
# --------------------------------------------------------------------------------------------


@dataclass
class SensorEdit:
    """What :func:`add_sensors` did, by sensor id."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    bindings: dict[str, int] = field(default_factory=dict)  # source id -> node ids written


def plan_sensors(project: Project, sensors: Sequence[Sensor]) -> SensorEdit:
    """Which of ``sensors`` :func:`add_sensors` would add, update or leave as they are."""
    have = {s.id: s for s in project.sensors}
    edit = SensorEdit()
    for s in sensors:
        old = have.get(s.id)
        if old is None:
            edit.added.append(s.id)
        elif old.model_dump() == s.model_dump():
            edit.unchanged.append(s.id)
        else:
            edit.updated.append(s.id)
    return edit


def add_sensors(
    project_path: str | Path,
    sensors: Sequence[Sensor],
    opcua_nodes: Mapping[str, Mapping[str, str]] | None = None,
) -> SensorEdit:
    """Put ``sensors`` into the project file: a sensor whose id is there already is updated in
    place (its entry rewritten where it stands; unchanged ones are not touched), new ones are
    appended to ``sensors:``. ``opcua_nodes`` ({source id: {sensor id: node id}}) becomes the
    ``nodes:`` of those ``opcua`` sources, as :func:`set_opcua_bindings` writes it.

    Everything else in the file stays as it was, comments included; ``sensors: []`` (or a flow
    list) becomes a block list. The result must load as the project with these changes, else
    :class:`ProjectEditError` and nothing is written (one write for sensors and bindings).
    """
    path = Path(project_path)
    project, _ = load_project(path)
    ids = [s.id for s in sensors]
    if len(set(ids)) != len(ids):
        raise ProjectEditError(
            f"a sensor id is given twice: {sorted({i for i in ids if ids.count(i) > 1})}"
        )
    edit = plan_sensors(project, sensors)
    expected = project.model_copy(deep=True)
    index = {s.id: i for i, s in enumerate(expected.sensors)}
    changed: dict[int, Sensor] = {}
    new: list[Sensor] = []
    for s in sensors:
        if s.id in edit.updated:
            changed[index[s.id]] = s
            expected.sensors[index[s.id]] = s.model_copy(deep=True)
        elif s.id in edit.added:
            new.append(s)
            expected.sensors.append(s.model_copy(deep=True))
    raw = path.read_bytes().decode("utf-8")
    newline = "\r\n" if "\r\n" in raw else "\n"
    text = raw.replace("\r\n", "\n")
    if changed or new:
        text = _edit_sensors(text, expected.sensors, changed, new)
    for source_id, nodes in (opcua_nodes or {}).items():
        at = [i for i, s in enumerate(expected.sources) if s.type == "opcua" and s.id == source_id]
        if not at:
            raise ProjectEditError(f"{path}: no opcua source with id {source_id!r}")
        source = expected.sources[at[0]]
        assert isinstance(source, OpcUaSource)
        if source.nodes == dict(nodes):
            continue
        source.nodes = dict(nodes)
        text = _edit(text, _source_node(yaml.compose(text), at[0]), dict(nodes))
        edit.bindings[source_id] = len(nodes)
    if changed or new or edit.bindings:
        _replace_checked(path, text.replace("\n", newline), expected.model_dump(), "the sensors")
    return edit


def _sensor_data(sensor: Sensor) -> dict[str, Any]:
    data: dict[str, Any] = sensor.model_dump(mode="json", exclude_defaults=True)
    return data


def _edit_sensors(
    text: str, all_sensors: list[Sensor], changed: dict[int, Sensor], new: list[Sensor]
) -> str:
    root = yaml.compose(text)
    if not isinstance(root, yaml.MappingNode) or root.flow_style:
        raise ProjectEditError("the top of the file is not a block mapping")
    pair = next(((k, v) for k, v in root.value if k.value == "sensors"), None)
    if pair is None:  # a new key at the end of the file
        lines = text.rstrip("\n").split("\n") if text.strip() else []
        lines += ["", "sensors:", *_sensor_lines(all_sensors, 2), ""]
        return "\n".join(lines)
    key, seq = pair
    if not (isinstance(seq, yaml.SequenceNode) and not seq.flow_style and seq.value):
        before = text[: seq.start_mark.index].rstrip(" \t")
        lines = (before + text[seq.end_mark.index :]).split("\n")
        at = key.start_mark.line + 1
        lines[at:at] = _sensor_lines(all_sensors, key.start_mark.column + 2)
        return "\n".join(lines)
    lines = text.split("\n")
    spans, dash = _item_spans(text, seq, "sensors")
    after = spans[-1][1] + 1
    lines[after:after] = _sensor_lines(new, dash)
    for i in sorted(changed, reverse=True):
        first, last = spans[i]
        lines[first : last + 1] = _sensor_lines([changed[i]], dash)
    return "\n".join(lines)


def _sensor_lines(sensors: Sequence[Sensor], dash: int) -> list[str]:
    out: list[str] = []
    for s in sensors:
        out += _item_lines(_sensor_data(s), dash)
    return out


# --------------------------------------------------------------------------------------------
# Removing a sensor
# --------------------------------------------------------------------------------------------


@dataclass
class RemovedSensor:
    """What :func:`remove_sensor` took out of the file: the sensor, where it stood in
    ``sensors:``, and its node id in each ``opcua`` source that bound it ({source id: node})."""

    sensor: Sensor
    index: int
    bindings: dict[str, str] = field(default_factory=dict)


def remove_sensor(project_path: str | Path, sensor_id: str) -> RemovedSensor:
    """Take the sensor ``sensor_id`` out of the project file, and its binding out of every
    ``opcua`` source's ``nodes:``, keeping the rest of the file (comments included).

    In a block list only the sensor's own lines go (the last one leaves ``sensors: []``); a
    flow list is rewritten as a block. The result must load as the project without the sensor
    (a tour callout or a simulator fault still naming it makes it invalid), else
    :class:`ProjectEditError` and nothing is written.
    """
    path = Path(project_path)
    project, _ = load_project(path)
    ids = [s.id for s in project.sensors]
    if sensor_id not in ids:
        raise ProjectEditError(f"{path}: no sensor with id {sensor_id!r}")
    at = ids.index(sensor_id)
    expected = project.model_copy(deep=True)
    removed = RemovedSensor(expected.sensors.pop(at), at)
    raw = path.read_bytes().decode("utf-8")
    newline = "\r\n" if "\r\n" in raw else "\n"
    text = _drop_sensor_item(raw.replace("\r\n", "\n"), at, expected.sensors)
    for i, source in enumerate(expected.sources):
        if isinstance(source, OpcUaSource) and sensor_id in source.nodes:
            removed.bindings[source.id] = source.nodes.pop(sensor_id)
            text = _edit(text, _source_node(yaml.compose(text), i), dict(source.nodes))
    _replace_checked(path, text.replace("\n", newline), expected.model_dump(), "the sensor")
    return removed


def _drop_sensor_item(text: str, at: int, remaining: list[Sensor]) -> str:
    """The file's ``sensors:`` without its item ``at`` (``remaining``: the items left)."""
    root = yaml.compose(text)
    if not isinstance(root, yaml.MappingNode) or root.flow_style:
        raise ProjectEditError("the top of the file is not a block mapping")
    pair = next(((k, v) for k, v in root.value if k.value == "sensors"), None)
    if pair is None or not isinstance(pair[1], yaml.SequenceNode):
        raise ProjectEditError("cannot find the sensors: list in the file's YAML")
    key, seq = pair
    if seq.flow_style:  # [...]: the rest as a block below the key, or []
        before = text[: seq.start_mark.index].rstrip(" \t")
        after = text[seq.end_mark.index :]
        if not remaining:
            return before + " []" + after
        lines = (before + after).split("\n")
        line = key.start_mark.line + 1
        lines[line:line] = _sensor_lines(remaining, key.start_mark.column + 2)
        return "\n".join(lines)
    first, last = _item_spans(text, seq, "sensors")[0][at]
    lines = text.split("\n")
    del lines[first : last + 1]
    if not remaining:  # the last sensor went: an empty list stays
        n = key.start_mark.line
        colon = lines[n].index(":", key.end_mark.column)
        lines[n] = lines[n][: colon + 1] + " []" + lines[n][colon + 1 :]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Data sources (the MQTT source dialog)
# --------------------------------------------------------------------------------------------


def add_source(project_path: str | Path, source: Any) -> None:
    """Append ``source`` (an ``MqttSource``, ``OpcUaSource`` ...) to the file's ``sources:``.

    Only additions: a source whose id is taken is refused. Its defaults are left out, the rest
    of the file (comments included) stays as it was; a missing ``sources:`` key is added at the
    end, ``sources: []`` (or a flow list) becomes a block list. The result must load as the
    project plus this source, else :class:`ProjectEditError` and nothing is written."""
    path = Path(project_path)
    project, _ = load_project(path)
    if any(s.id == source.id for s in project.sources):
        raise ProjectEditError(f"{path}: a source with id {source.id!r} is there already")
    expected = project.model_copy(deep=True)
    expected.sources.append(source.model_copy(deep=True))
    _append_item(
        path, "sources", [_source_data(s) for s in expected.sources], expected, "the new source"
    )


def _source_data(source: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"type": source.type, "id": source.id}
    data.update(source.model_dump(mode="json", exclude_defaults=True))
    return data


# --------------------------------------------------------------------------------------------
# Simulation overlays (File > Add simulation result…)
# --------------------------------------------------------------------------------------------


def add_overlay(project_path: str | Path, overlay: Overlay) -> None:
    """Append ``overlay`` to the file's ``overlays:``.

    Only additions: an overlay whose name is taken is refused. Its defaults are left out, the
    rest of the file (comments included) stays as it was; a missing ``overlays:`` key is added
    at the end, ``overlays: []`` (or a flow list) becomes a block list. The result must load as
    the project plus this overlay, else :class:`ProjectEditError` and nothing is written."""
    path = Path(project_path)
    project, _ = load_project(path)
    if any(o.name == overlay.name for o in project.overlays):
        raise ProjectEditError(f"{path}: an overlay named {overlay.name!r} is there already")
    expected = project.model_copy(deep=True)
    expected.overlays.append(overlay.model_copy(deep=True))
    _append_item(
        path,
        "overlays",
        [_overlay_data(o) for o in expected.overlays],
        expected,
        "the new overlay",
    )


def remove_overlay(project_path: str | Path, name: str) -> Overlay:
    """Take the overlay ``name`` out of the project file, keeping the rest of it (comments
    included); returns it (for an undo). In a block list only its own lines go (the last one
    leaves ``overlays: []``); a flow list is rewritten as a block. The result must load as the
    project without it (a tour step still showing it makes it invalid), else
    :class:`ProjectEditError` and nothing is written."""
    path = Path(project_path)
    project, _ = load_project(path)
    names = [o.name for o in project.overlays]
    if name not in names:
        have = ", ".join(repr(n) for n in names) or "none"
        raise ProjectEditError(f"{path}: no overlay named {name!r} (its overlays: {have})")
    at = names.index(name)
    expected = project.model_copy(deep=True)
    removed = expected.overlays.pop(at)
    raw = path.read_bytes().decode("utf-8")
    newline = "\r\n" if "\r\n" in raw else "\n"
    text = _drop_item(
        raw.replace("\r\n", "\n"), "overlays", at, [_overlay_data(o) for o in expected.overlays]
    )
    _replace_checked(path, text.replace("\n", newline), expected.model_dump(), "the overlay")
    return removed


def _overlay_data(overlay: Overlay) -> dict[str, Any]:
    data: dict[str, Any] = overlay.model_dump(mode="json", exclude_defaults=True)
    return data


# --------------------------------------------------------------------------------------------
# One item appended to (or dropped from) a top-level list
# --------------------------------------------------------------------------------------------


def _top_level(text: str, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    """The (key, value) nodes of the top-level ``key`` (None: the file has no such key)."""
    root = yaml.compose(text)
    if not isinstance(root, yaml.MappingNode) or root.flow_style:
        raise ProjectEditError("the top of the file is not a block mapping")
    return next(((k, v) for k, v in root.value if k.value == key), None)


def _append_item(
    path: Path, key: str, items: list[dict[str, Any]], expected: Project, what: str
) -> None:
    """Write ``items[-1]`` as a new last item of the file's top-level list ``key``, given the
    data of every item the list then holds (``items``), if the file then loads as ``expected``.

    A missing key is added at the end of the file; an empty or flow list (``[...]``) becomes a
    block list below its key (comments inside the brackets are lost); in a block list the new
    item goes after the last one, with its dash in the same column, and no other line changes.
    """
    raw = path.read_bytes().decode("utf-8")
    newline = "\r\n" if "\r\n" in raw else "\n"
    text = raw.replace("\r\n", "\n")
    pair = _top_level(text, key)
    if pair is None:
        lines = text.rstrip("\n").split("\n") if text.strip() else []
        lines += ["", f"{key}:", *_item_lines(items[-1], 2), ""]
    else:
        name, seq = pair
        if not isinstance(seq, yaml.SequenceNode):
            raise ProjectEditError(f"{path}: the file's {key}: is not a list")
        if seq.flow_style or not seq.value:  # [] or [...]: a block list below the key
            before = text[: seq.start_mark.index].rstrip(" \t")
            lines = (before + text[seq.end_mark.index :]).split("\n")
            at = name.start_mark.line + 1
            block: list[str] = []
            for item in items:
                block += _item_lines(item, name.start_mark.column + 2)
            lines[at:at] = block
        else:
            spans, dash = _item_spans(text, seq, key)
            lines = text.split("\n")
            after = spans[-1][1] + 1
            lines[after:after] = _item_lines(items[-1], dash)
    _replace_checked(path, "\n".join(lines).replace("\n", newline), expected.model_dump(), what)


def _drop_item(text: str, key: str, at: int, remaining: list[dict[str, Any]]) -> str:
    """The file's top-level list ``key`` without its item ``at`` (``remaining``: the data of
    the items left). In a block list only that item's lines go (the last one leaves ``[]``); a
    flow list is rewritten as a block list of what remains."""
    pair = _top_level(text, key)
    if pair is None or not isinstance(pair[1], yaml.SequenceNode):
        raise ProjectEditError(f"cannot find the {key}: list in the file's YAML")
    name, seq = pair[0], pair[1]
    if seq.flow_style:  # [...]: the rest as a block below the key, or []
        before = text[: seq.start_mark.index].rstrip(" \t")
        after = text[seq.end_mark.index :]
        if not remaining:
            return before + " []" + after
        lines = (before + after).split("\n")
        line = name.start_mark.line + 1
        block: list[str] = []
        for item in remaining:
            block += _item_lines(item, name.start_mark.column + 2)
        lines[line:line] = block
        return "\n".join(lines)
    first, last = _item_spans(text, seq, key)[0][at]
    lines = text.split("\n")
    del lines[first : last + 1]
    if not remaining:  # the last item went: an empty list stays
        n = name.start_mark.line
        colon = lines[n].index(":", name.end_mark.column)
        lines[n] = lines[n][: colon + 1] + " []" + lines[n][colon + 1 :]
    return "\n".join(lines)
