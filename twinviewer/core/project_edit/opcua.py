"""The ``nodes:`` of an ``opcua`` source: which node id each sensor reads (the OPC UA browser)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml

from twinviewer.core.project import (
    OpcUaSource,
    load_project,
)
from twinviewer.core.project_edit.text import (
    ProjectEditError,
    _last_line,
    _replace_checked,
    _scalar,
    _splice,
)


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


def _flow(bindings: dict[str, str]) -> str:
    pairs = (f"{_scalar(k, True)}: {_scalar(v, True)}" for k, v in bindings.items())
    return "{" + ", ".join(pairs) + "}"


def _block(bindings: dict[str, str], indent: int) -> list[str]:
    return [f"{' ' * indent}{_scalar(k)}: {_scalar(v)}" for k, v in bindings.items()]


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
