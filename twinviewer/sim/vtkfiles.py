"""VTK files as results: single files (XML, legacy, multiblock) and ParaView's collections of
them over time (``.pvd`` collections and ``.series`` JSON files).

A collection is read cheaply when opened: its index file gives the step times and the data
files of each step (all checked to exist), and only the first step's files are read. A
``.pvd``'s ``part=`` attribute numbers the parts of a step; a multiblock file's blocks are
parts too.
"""

from __future__ import annotations

import json
import logging
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from twinviewer.sim.result import SimReadError, SimResult
from twinviewer.sim.vtkio import describe, kind_of, leaves, read_vtk_file

log = logging.getLogger(__name__)

_PVD = "a ParaView collection (.pvd)"
_SERIES = 'a ParaView file series (JSON: {"file-series-version": "1.0", "files": [...]})'
_TIME_TOKEN = re.compile(r"(?:[_\-. ]?(?:t|T|ts|step|Step|time|Time))?\d+$")
_SPLIT = re.compile(r"[_\-. ]+")


def stem_of(path: Path) -> str:
    """The name of a result without its suffixes (``mesh.vtu.series`` -> ``mesh``)."""
    name = path.name
    for suffix in (".series",):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return Path(name).stem


def read_vtk(path: Path) -> SimResult:
    """One VTK file: a single step; one part named by the stem, or one per multiblock leaf."""
    data = read_vtk_file(path)
    first = leaves(data, stem_of(path))

    def load(step: int) -> list[tuple[str, Any]]:
        if step == 0 and first:
            parts = list(first)
            first.clear()  # the result caches the merged mesh; do not hold the raw data too
            return parts
        return leaves(read_vtk_file(path), stem_of(path))

    return SimResult(path, [0.0], load, kind=describe(path.suffix.lower()))


class _Collection:
    """Steps of (part label, data file) lists, read on demand."""

    def __init__(self, path: Path, steps: list[list[tuple[str, Path]]], prefix_parts: bool):
        self.path = path
        self.steps = steps
        self.prefix_parts = prefix_parts

    def load(self, step: int) -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = []
        for label, file in self.steps[step]:
            try:
                data = read_vtk_file(file)
            except SimReadError as exc:
                raise SimReadError(self.path, f"step {step}: {exc}") from None
            blocks = leaves(data, label)
            if data.IsA("vtkDataSet") or not self.prefix_parts:
                out.extend(blocks)
            else:
                out.extend((f"{label}/{name}", ds) for name, ds in blocks)
        return out


def _check_files(path: Path, files: list[Path], what: str) -> None:
    for file in files:
        if not kind_of(file):
            raise SimReadError(
                path, f"names {file.name}, which is not a VTK data file (expected {what})"
            )
        if not file.is_file():
            raise SimReadError(
                path,
                f"names {file}, which does not exist (expected the data files of {what} beside it)",
            )


def read_pvd(path: Path) -> SimResult:
    """A ParaView collection: ``<DataSet timestep= part= file=>`` entries, grouped by time."""
    root = _parse_xml(path, _PVD)
    if root.tag != "VTKFile" or root.get("type") != "Collection":
        raise SimReadError(
            path, f'root element is <{root.tag} type="{root.get("type")}"> (expected {_PVD})'
        )
    entries = root.findall("./Collection/DataSet")
    if not entries:
        raise SimReadError(path, f"lists no DataSet entries (expected {_PVD})")
    by_time: dict[float, list[tuple[int, Path]]] = {}
    names: dict[int, str] = {}
    for entry in entries:
        file = entry.get("file")
        if not file:
            raise SimReadError(path, f"a DataSet has no file= attribute (expected {_PVD})")
        try:
            t = float(entry.get("timestep") or 0.0)
            part = int(float(entry.get("part") or 0))
        except ValueError:
            raise SimReadError(
                path,
                f"DataSet {file!r} has a timestep or part that is not a number (expected {_PVD})",
            ) from None
        by_time.setdefault(t, []).append((part, path.parent / file))
        if entry.get("name"):
            names.setdefault(part, str(entry.get("name")))
    _check_files(path, [f for files in by_time.values() for _, f in files], _PVD)
    times = sorted(by_time)
    part_ids = sorted({p for files in by_time.values() for p, _ in files})
    first_file = {p: f for t in reversed(times) for p, f in by_time[t]}
    labels = _part_labels(path, part_ids, names, first_file)
    steps = [[(labels[p], f) for p, f in sorted(by_time[t], key=lambda e: e[0])] for t in times]
    collection = _Collection(path, steps, prefix_parts=len(part_ids) > 1)
    log.debug("%s: %d steps, parts %s", path, len(times), list(labels.values()))
    return SimResult(path, times, collection.load, kind=_PVD)


def _part_labels(
    path: Path, part_ids: list[int], names: dict[int, str], first_file: dict[int, Path]
) -> dict[int, str]:
    """Part names: the file's ``name=``; else what tells the parts' file names apart (``P00``,
    ``P01`` for ``run_P00T0000.vtp``, ``run_P01T0000.vtp``); else ``part N``."""
    if len(part_ids) == 1:
        p = part_ids[0]
        return {p: names.get(p) or stem_of(path)}
    tokens = {p: _SPLIT.split(_TIME_TOKEN.sub("", first_file[p].stem)) for p in part_ids}
    shared = 0
    while all(len(t) > shared + 1 for t in tokens.values()) and (
        len({t[shared] for t in tokens.values()}) == 1
    ):
        shared += 1
    derived = {p: "_".join(t[shared:]) for p, t in tokens.items()}
    if len(set(derived.values())) != len(derived) or not all(derived.values()):
        derived = {p: f"part {p}" for p in part_ids}
    return {p: names.get(p) or derived[p] for p in part_ids}


def _parse_xml(path: Path, what: str) -> ET.Element:
    if not path.is_file():
        raise SimReadError(path, f"file not found (expected {what})")
    try:
        return ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise SimReadError(path, f"not well-formed XML: {exc} (expected {what})") from None


def read_series(path: Path) -> SimResult:
    """A ParaView ``.series`` file: ``{"files": [{"name": ..., "time": ...}, ...]}``, names
    relative to the series file."""
    if not path.is_file():
        raise SimReadError(path, f"file not found (expected {_SERIES})")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise SimReadError(path, f"not valid JSON: {exc} (expected {_SERIES})") from None
    files = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(files, list) or not files:
        raise SimReadError(path, f'has no "files" list (expected {_SERIES})')
    entries: list[tuple[float, Path]] = []
    for i, item in enumerate(files):
        name = item.get("name") if isinstance(item, dict) else None
        time = item.get("time", i) if isinstance(item, dict) else None
        if (
            not isinstance(name, str)
            or isinstance(time, bool)
            or not isinstance(time, (int, float))
        ):
            raise SimReadError(
                path, f'entry {i} needs a "name" and a numeric "time" (expected {_SERIES})'
            )
        entries.append((float(time), path.parent / name))
    entries.sort(key=lambda e: e[0])  # stable: equal times keep the file's order
    _check_files(path, [f for _, f in entries], _SERIES)
    label = stem_of(path)
    collection = _Collection(path, [[(label, f)] for _, f in entries], prefix_parts=False)
    return SimResult(path, [t for t, _ in entries], collection.load, kind=_SERIES)
