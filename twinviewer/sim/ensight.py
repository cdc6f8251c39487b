"""EnSight Gold (and EnSight 6) results through VTK's ``vtkGenericEnSightReader``.

A result is a ``.case`` file (``.encas`` as Fluent and CFD-Post name it) naming the geometry
and variable files, ASCII or binary (C or Fortran), with a ``TIME`` section for transient
results; STAR-CCM+ and Fluent exports are such cases. Each part of the geometry is a part of the
result (named by its description line); each per-node or per-element variable is a field named
by its description in the case file.

VTK's ASCII EnSight reader reads past the end of a cut-short file, sometimes into a crash. So
before VTK reads a step, the files of that step are checked here: each must exist, and an ASCII
geometry or variable file must hold every line its counts call for. Binary files are left to
VTK, which reports a short one as an error.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twinviewer.sim.result import SimReadError, SimResult
from twinviewer.sim.vtkio import quiet_stderr, quiet_vtk, read_parts, time_steps, watch

log = logging.getLogger(__name__)

ENSIGHT = "an EnSight Gold case (.case naming its geometry and variable files)"
CASE_SUFFIXES = (".case", ".encas")

#: Nodes per element of the fixed-size element types (ghost types ``g_...`` too).
_NODES = {
    "point": 1,
    "bar2": 2,
    "bar3": 3,
    "tria3": 3,
    "tria6": 6,
    "quad4": 4,
    "quad8": 8,
    "tetra4": 4,
    "tetra10": 10,
    "pyramid5": 5,
    "pyramid13": 13,
    "penta6": 6,
    "penta15": 15,
    "hexa8": 8,
    "hexa20": 20,
}
_COMPONENTS = {"scalar": 1, "vector": 3, "tensor": 6, "tensor9": 9}
_VARIABLE = re.compile(
    r"^(scalar|vector|tensor9|tensor(?:\s+(?:symm|asym))?)\s+per\s+"
    r"(node|element|measured node)\s*:",
    re.IGNORECASE,
)


@dataclass
class _TimeSet:
    times: list[float] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    start: int = 0
    increment: int = 1
    steps: int = 0

    def number(self, index: int) -> int:
        if index < len(self.numbers):
            return self.numbers[index]
        return self.start + index * self.increment

    def index_at(self, t: float) -> int:
        """The last step of this set at or before ``t`` (the first when none is)."""
        best = 0
        for i, v in enumerate(self.times):
            if v <= t + 1e-12 * max(1.0, abs(t)):
                best = i
        return best


@dataclass
class _File:
    """A file the case names: geometry or a variable (``components`` per value, 0 for the
    geometry), with its time set (0: none) and whether it holds several steps (``fs``)."""

    name: str
    components: int = 0
    per: str = ""  # "node" | "element" for variables
    time_set: int = 0
    single_file: bool = False


@dataclass
class _Case:
    geometry: _File | None = None
    variables: list[_File] = field(default_factory=list)
    time_sets: dict[int, _TimeSet] = field(default_factory=dict)
    gold: bool = True  # "type: ensight gold"; EnSight 6 files are not walked here

    def file_at(self, folder: Path, f: _File, t: float) -> Path:
        if "*" not in f.name:
            return folder / f.name
        ts = self.time_sets.get(f.time_set) or next(iter(self.time_sets.values()), _TimeSet())
        number = ts.number(ts.index_at(t))
        return folder / re.sub(r"\*+", lambda m: str(number).zfill(len(m.group(0))), f.name)


def read_ensight(path: Path) -> SimResult:
    """An EnSight case, see the module docstring."""
    from vtkmodules.vtkIOEnSight import vtkGenericEnSightReader

    case = _parse_case(path)
    folder = path.parent
    times0 = sorted({t for ts in case.time_sets.values() for t in ts.times}) or [0.0]
    _check_step(path, case, times0[0], check_content=False)
    reader = vtkGenericEnSightReader()
    with quiet_vtk() as messages, quiet_stderr():
        watch(reader, messages)
        reader.SetFilePath(str(folder) + "/")
        reader.SetCaseFileName(path.name)
        reader.ReadAllVariablesOn()
        reader.UpdateInformation()
        errors = messages.all_errors()
    if errors:
        raise SimReadError(path, f"not readable: {errors[0]} (expected {ENSIGHT})")
    times = time_steps(reader)
    lock = threading.Lock()

    def load(step: int) -> list[tuple[str, Any]]:
        t = times[step] if times else 0.0
        _check_step(path, case, t, check_content=True)
        with lock:
            return read_parts(reader, path, times, step, ENSIGHT)

    return SimResult(path, times or [0.0], load, kind=ENSIGHT)


# -- the case file ---------------------------------------------------------------------------


def _parse_case(path: Path) -> _Case:
    if not path.is_file():
        raise SimReadError(path, f"file not found (expected {ENSIGHT})")
    try:
        text = path.read_bytes()[:4_000_000].decode("utf-8", "replace")
    except OSError as exc:
        raise SimReadError(path, f"not readable: {exc} (expected {ENSIGHT})") from None
    lines = [ln.split("#", 1)[0].rstrip() for ln in text.splitlines()]
    if not any(ln.strip().upper() == "FORMAT" for ln in lines):
        raise SimReadError(
            path, f"no FORMAT section: not an EnSight case file (expected {ENSIGHT})"
        )
    case = _Case()
    section = ""
    current: _TimeSet | None = None
    listing = ""  # "times" | "numbers" while a list continues over lines
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if line.upper() in ("FORMAT", "GEOMETRY", "VARIABLE", "TIME", "FILE", "MATERIAL"):
            section, listing = line.upper(), ""
            continue
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if section == "FORMAT" and key == "type":
            case.gold = "gold" in value.lower()
        elif section == "GEOMETRY" and key == "model":
            case.geometry = _file_entry(path, value, names_description=False)
        elif section == "VARIABLE":
            match = _VARIABLE.match(line)
            if match and "complex" not in key:
                entry = _file_entry(path, value, names_description=True)
                kind = match.group(1).lower()
                entry.components = _COMPONENTS.get(kind.split()[0] if " " in kind else kind, 6)
                if kind.startswith("tensor") and "asym" in kind:
                    entry.components = 9
                entry.per = "element" if match.group(2).lower() == "element" else match.group(2)
                case.variables.append(entry)
        elif section == "TIME":
            listing = _time_line(path, case, key, value, line, listing, current)
            if key == "time set":
                current = case.time_sets[_first_int(path, value)]
            elif current is None and key:
                current = case.time_sets.setdefault(1, _TimeSet())
                listing = _time_line(path, case, key, value, line, "", current)
    if case.geometry is None:
        raise SimReadError(path, f"names no geometry (no 'model:' line) (expected {ENSIGHT})")
    return case


def _time_line(
    path: Path, case: _Case, key: str, value: str, line: str, listing: str, ts: _TimeSet | None
) -> str:
    """Apply one line of the TIME section to ``ts``; what list continues on the next line."""
    if key == "time set":
        case.time_sets[_first_int(path, value)] = _TimeSet()
        return ""
    if ts is None:
        return listing
    numbers = value.split() if ":" in line else line.split()
    try:
        if key == "number of steps":
            ts.steps = int(numbers[0])
            return ""
        if key == "filename start number":
            ts.start = int(numbers[0])
            return ""
        if key == "filename increment":
            ts.increment = int(numbers[0])
            return ""
        if key == "time values":
            ts.times.extend(float(v) for v in numbers)
            return "times"
        if key == "filename numbers":
            ts.numbers.extend(int(v) for v in numbers)
            return "numbers"
        if ":" not in line and listing == "times":
            ts.times.extend(float(v) for v in numbers)
        elif ":" not in line and listing == "numbers":
            ts.numbers.extend(int(v) for v in numbers)
    except (ValueError, IndexError):
        raise SimReadError(
            path, f"TIME section: cannot read {line!r} (expected {ENSIGHT})"
        ) from None
    return listing


def _first_int(path: Path, value: str) -> int:
    try:
        return int(value.split()[0])
    except (ValueError, IndexError):
        raise SimReadError(
            path, f"TIME section: bad time set {value!r} (expected {ENSIGHT})"
        ) from None


def _file_entry(path: Path, value: str, names_description: bool) -> _File:
    """``[ts] [fs] [description] filename ...`` after the colon of a model or variable line."""
    tokens = value.split()
    numbers: list[int] = []
    while tokens and tokens[0].isdigit() and len(numbers) < 2:
        numbers.append(int(tokens.pop(0)))
    if names_description and tokens:
        tokens.pop(0)
    if not tokens:
        raise SimReadError(path, f"a line names no file: {value.strip()!r} (expected {ENSIGHT})")
    return _File(tokens[0], time_set=numbers[0] if numbers else 0, single_file=len(numbers) > 1)


# -- checking a step's files -------------------------------------------------------------------


def _check_step(path: Path, case: _Case, t: float, check_content: bool) -> None:
    """Every file of the step at ``t`` exists; ASCII ones hold all the lines they announce."""
    folder = path.parent
    assert case.geometry is not None
    geometry = case.file_at(folder, case.geometry, t)
    files = [(case.geometry, geometry)] + [(v, case.file_at(folder, v, t)) for v in case.variables]
    for _entry, file in files:
        if not file.is_file():
            raise SimReadError(
                path,
                f"names {file.name}, which does not exist "
                f"(expected {ENSIGHT}, its files beside it)",
            )
    if not check_content or not case.gold or case.geometry.single_file or _is_binary(geometry):
        return
    try:
        parts = _geometry_counts(geometry.read_text(encoding="latin-1").splitlines())
    except _Short as exc:
        raise SimReadError(path, f"{geometry.name}: {exc} (expected {ENSIGHT})") from None
    for entry, file in files[1:]:
        if entry.single_file or _is_binary(file):
            continue
        try:
            _check_variable(file.read_text(encoding="latin-1").splitlines(), entry, parts)
        except _Short as exc:
            raise SimReadError(path, f"{file.name}: {exc} (expected {ENSIGHT})") from None


def _is_binary(file: Path) -> bool:
    with file.open("rb") as f:
        head = f.read(80)
    return b"Binary" in head or b"\x00" in head


class _Short(Exception):
    """An ASCII file ends (or breaks) before what its counts announce."""


@dataclass
class _Part:
    nodes: int = 0
    elements: dict[str, int] = field(default_factory=dict)  # element type (or "block") -> count
    known: bool = True  # False: a layout not checked here (left to VTK)


class _Lines:
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.i = 0

    def more(self) -> bool:
        while self.i < len(self.lines) and not self.lines[self.i].strip():
            self.i += 1
        return self.i < len(self.lines)

    def peek(self) -> str:
        return self.lines[self.i].strip().lower() if self.more() else ""

    def next(self, what: str) -> str:
        if not self.more():
            raise _Short(f"ends early, before {what} (cut short?)")
        self.i += 1
        return self.lines[self.i - 1].strip()

    def count(self, what: str) -> int:
        line = self.next(what)
        try:
            return int(line.split()[0])
        except (ValueError, IndexError):
            raise _Short(f"line {self.i}: {what} should be a number, not {line[:40]!r}") from None

    def skip(self, n: int, what: str) -> None:
        if n < 0:
            raise _Short(f"line {self.i}: a negative count of {what}")
        self.i += n
        if self.i > len(self.lines):
            raise _Short(f"ends early, in {what} (cut short?)")


def _geometry_counts(lines: list[str]) -> dict[int, _Part]:
    """Walk an ASCII Gold geometry file: each part's node and element counts."""
    r = _Lines(lines)
    r.next("the description")
    r.next("the description")
    node_ids = r.next("node id").lower().split()[-1] in ("given", "ignore")
    element_ids = r.next("element id").lower().split()[-1] in ("given", "ignore")
    if r.peek().startswith("extents"):
        r.next("extents")
        r.skip(3, "the extents")
    parts: dict[int, _Part] = {}
    while r.more():
        word = r.next("a part")
        if word.lower() != "part":
            raise _Short(f"line {r.i}: 'part' expected, found {word[:40]!r}")
        number = r.count("the part number")
        r.next("the part's description")
        part = parts[number] = _Part()
        head = r.next("coordinates").lower()
        if head.startswith("coordinates"):
            part.nodes = r.count("the number of nodes")
            r.skip(part.nodes * (4 if node_ids else 3), "the coordinates")
            _elements(r, part, element_ids)
        elif head.startswith("block"):
            _block(r, part, head)
        else:
            raise _Short(f"line {r.i}: 'coordinates' or 'block' expected, found {head[:40]!r}")
    return parts


def _elements(r: _Lines, part: _Part, element_ids: bool) -> None:
    while r.more() and r.peek() != "part":
        kind = r.next("an element type").lower().split()[0]
        base = kind[2:] if kind.startswith("g_") else kind
        n = r.count(f"the number of {kind} elements")
        part.elements[kind] = n
        if element_ids:
            r.skip(n, f"the {kind} element ids")
        if base in _NODES:
            r.skip(n, f"the {kind} connectivity")
        elif base == "nsided":
            r.skip(n, "the nsided node counts")
            r.skip(n, "the nsided connectivity")
        elif base == "nfaced":
            faces = sum(r.count("an nfaced face count") for _ in range(n))
            r.skip(faces, "the nfaced node counts")
            r.skip(faces, "the nfaced connectivity")
        else:
            raise _Short(f"line {r.i}: unknown element type {kind!r}")


def _block(r: _Lines, part: _Part, head: str) -> None:
    options = head.split()[1:]
    if any(o not in ("curvilinear", "rectilinear", "uniform", "iblanked") for o in options):
        part.known = False  # ranges, ghost flags: not walked here
        r.i = len(r.lines)
        return
    dims = [int(v) for v in r.next("the block's dimensions").split()[:3]]
    if len(dims) != 3 or min(dims) < 1:
        raise _Short(f"line {r.i}: the block's i j k dimensions are not three positive numbers")
    n = dims[0] * dims[1] * dims[2]
    part.nodes = n
    part.elements["block"] = max(dims[0] - 1, 1) * max(dims[1] - 1, 1) * max(dims[2] - 1, 1)
    if "uniform" in options:
        r.skip(6, "the block's origin and spacing")
    elif "rectilinear" in options:
        r.skip(sum(dims), "the block's coordinates")
    else:
        r.skip(3 * n, "the block's coordinates")
    if "iblanked" in options:
        r.skip(n, "the block's iblanking")


def _check_variable(lines: list[str], entry: _File, parts: dict[int, _Part]) -> None:
    """Walk an ASCII Gold variable file against the geometry's counts."""
    r = _Lines(lines)
    r.next("the description")
    k = max(entry.components, 1)
    while r.more():
        word = r.next("a part")
        if word.lower() != "part":
            raise _Short(f"line {r.i}: 'part' expected, found {word[:40]!r}")
        number = r.count("the part number")
        part = parts.get(number)
        if part is None:
            raise _Short(f"line {r.i}: part {number} is not in the geometry")
        if not part.known:
            return
        if not r.more():
            raise _Short(f"ends early, before the values of part {number} (cut short?)")
        while r.more() and r.peek() != "part":
            head = r.next("a section").lower().split()
            kind = head[0]
            if entry.per == "node" or kind == "coordinates":
                n = part.nodes
            elif kind == "block":
                n = part.elements.get("block", 0)
            else:
                n = part.elements.get(kind, 0)
            if "undef" in head:
                r.next("the undefined value")
            if "partial" in head:
                n = r.count("the number of partial values")
                r.skip(n, "the partial ids")
            r.skip(n * k, f"the values of part {number}")
