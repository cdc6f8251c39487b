"""Training tours written into ``tours:`` and deleted from it (the tour editor)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from twinviewer.core.project import (
    load_project,
)
from twinviewer.core.project_edit.text import (
    ProjectEditError,
    _item_lines,
    _item_spans,
    _replace_checked,
)
from twinviewer.core.project_tours import Tour


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
