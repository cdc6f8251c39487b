"""Sensors added, updated in place and removed (the inspector, a tag-list import, a drag onto
another component, a limit dragged on a chart), with their OPC UA node bindings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from twinviewer.core.project import (
    OpcUaSource,
    Project,
    Sensor,
    load_project,
)
from twinviewer.core.project_edit.opcua import _edit, _source_node
from twinviewer.core.project_edit.text import (
    ProjectEditError,
    _drop_item,
    _end_line,
    _item_lines,
    _item_spans,
    _mapping_lines,
    _replace_checked,
    _top_level,
)


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
        text = _edit_sensors(text, expected.sensors, changed, new, project.sensors)
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
    text: str,
    all_sensors: list[Sensor],
    changed: dict[int, Sensor],
    new: list[Sensor],
    old: Sequence[Sensor] = (),
) -> str:
    pair = _top_level(text, "sensors")
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
        item = seq.value[i]
        keys = None
        if i < len(old) and isinstance(item, yaml.MappingNode) and not item.flow_style:
            keys = _changed_keys(text, item, _sensor_data(old[i]), _sensor_data(changed[i]))
        if keys is not None:  # only the keys that changed: comments in the entry stay
            for first, last, new_lines in keys:
                lines[first : last + 1] = new_lines
            continue
        first, last = spans[i]
        lines[first : last + 1] = _sensor_lines([changed[i]], dash)
    return "\n".join(lines)


def _changed_keys(
    text: str, item: yaml.MappingNode, old: dict[str, Any], new: dict[str, Any]
) -> list[tuple[int, int, list[str]]] | None:
    """The line edits (first, last, new lines; last to first) that turn the block mapping
    ``item`` from ``old`` into ``new`` key by key: a changed key's lines rewritten (a comment
    after a one-line value kept), a dropped key's lines gone, a new key after the entry's last
    line. ``None`` when the item cannot be edited that way (its first key would go)."""
    lines = text.split("\n")
    pairs = {k.value: (k, v) for k, v in item.value}
    col = item.value[0][0].start_mark.column
    first_key = item.value[0][0].value
    edits: list[tuple[int, int, list[str]]] = []
    added: list[str] = []
    for name in dict.fromkeys([*old, *new]):
        if old.get(name) == new.get(name):
            continue
        if name not in pairs:
            if name in new:
                added += _mapping_lines({name: new[name]}, col)
            continue
        key, value = pairs[name]
        first, last = key.start_mark.line, _end_line(text, value)
        if name not in new:
            if name == first_key:
                return None
            edits.append((first, last, []))
            continue
        repl = _mapping_lines({name: new[name]}, col)
        repl[0] = lines[first][:col] + repl[0][col:]  # the dash of the entry's first key
        if first == last == value.end_mark.line and len(repl) == 1:
            rest = lines[first][value.end_mark.column :]
            if rest.lstrip().startswith("#"):
                repl[0] += rest
        edits.append((first, last, repl))
    if added:
        end = _end_line(text, item)
        edits.append((end + 1, end, added))
    return sorted(edits, key=lambda e: e[0], reverse=True)


def _sensor_lines(sensors: Sequence[Sensor], dash: int) -> list[str]:
    out: list[str] = []
    for s in sensors:
        out += _item_lines(_sensor_data(s), dash)
    return out


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
    return _drop_item(text, "sensors", at, [_sensor_data(s) for s in remaining])
