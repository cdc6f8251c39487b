"""The text edits every project edit is made of: YAML written the way a person writes it (plain
scalars where they read back the same, short flow lists, wrapped text), the lines of a block list's
items, an item appended to or dropped from a top-level list, and the check before a file is
replaced (it must load as the project expected, else nothing is written)."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml

from twinviewer.core.project import (
    Project,
    ProjectError,
    load_project,
)

_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.;=:/\-]*")


class ProjectEditError(ValueError):
    """The edit cannot be made (or would not give a valid project); the file is unchanged."""


def _scalar(s: str, flow: bool = False) -> str:
    """``s`` as a YAML scalar: plain when that reads back as the same string, else quoted."""
    if _PLAIN.fullmatch(s) and not (flow and ":" in s):
        try:
            if yaml.safe_load(s) == s:
                return s
        except yaml.YAMLError:
            pass
    return json.dumps(s, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


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


def write_file(path: Path, data: bytes) -> None:
    """Put ``data`` in ``path`` at once (a temporary file renamed over it, the mode kept): an
    undo that puts back a file's very bytes."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        shutil.copymode(path, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


_WIDTH = 96


_FLOW_MAPPING = 64


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
