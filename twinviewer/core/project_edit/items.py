"""Data sources and simulation overlays appended to (or taken out of) their lists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from twinviewer.core.project import (
    Overlay,
    load_project,
)
from twinviewer.core.project_edit.text import (
    ProjectEditError,
    _append_item,
    _drop_item,
    _replace_checked,
)


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
