"""Tag lists (CSV or Excel) to project sensors: columns found by their headers, rows checked.

A plant's tag list is a table with one row per signal. :func:`parse_tags` finds its columns by
their header names (``Tag``, ``Description``, ``Eng Units``, ``Equipment``, ``Range``,
``Alarm High``, ``Node Id``...; ``mapping`` overrides), turns every row into a
:class:`~twinviewer.core.project.Sensor` and reports each row it cannot, with its line and the
reason. :func:`unbound_tags` lists the sensors whose component matches nothing in the model (with
the closest names), :func:`plan_bindings` what the address column binds through the project's
data sources. Writing the sensors is :func:`twinviewer.core.project_edit.add_sensors`.
Qt-free; the window's import dialog calls the same functions.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from twinviewer.core.binding import component_names, match_reference, suggest_names
from twinviewer.core.model import ModelData
from twinviewer.core.project import MqttSource, Project, Sensor

__all__ = [
    "FIELDS",
    "BadRow",
    "Bindings",
    "TagFileError",
    "TagRow",
    "TagTable",
    "Unbound",
    "detect_columns",
    "parse_tags",
    "plan_bindings",
    "unbound_tags",
]

#: What a column may hold. ``min``/``max`` or ``range`` make the sensor's range; ``address`` is
#: an MQTT topic or Sparkplug metric, or an OPC UA node id.
FIELDS = (
    "id",
    "name",
    "quantity",
    "unit",
    "component",
    "min",
    "max",
    "range",
    "warning_low",
    "warning_high",
    "alarm_low",
    "alarm_high",
    "address",
    "colormap",
    "deadband",
    "stale_after",
)
IGNORE = "ignore"

# Whole header names (lower case, separators as one space) for each field.
_HEADERS: dict[str, set[str]] = {
    "id": {"id", "tag", "tagname", "tag name", "tag id", "tag no", "tag number", "sensor",
           "sensor id", "point", "point id", "point name", "signal id"},
    "name": {"name", "description", "desc", "tag description", "descriptor", "label",
             "sensor name", "signal", "signal name", "display name"},
    "unit": {"unit", "units", "eng units", "eng unit", "engineering units", "engineering unit",
             "eu", "egu", "uom", "unit of measure", "unit of measurement"},
    "quantity": {"quantity", "measurement", "measured quantity", "measurand", "type",
                 "signal type", "variable", "measured variable"},
    "component": {"component", "component id", "asset", "asset id", "equipment",
                  "equipment id", "equipment tag", "device", "part", "model node"},
    "min": {"min", "minimum", "range min", "range low", "range lo", "eu min", "eu low",
            "scale min", "scale low", "lrv", "low range", "lower range"},
    "max": {"max", "maximum", "range max", "range high", "range hi", "eu max", "eu high",
            "scale max", "scale high", "urv", "high range", "upper range"},
    "range": {"range", "eu range", "span", "scale", "normal range", "display range"},
    "warning_low": {"l", "lo", "low", "warning low", "warn low", "low warning", "warning lo",
                    "lo warning", "low limit", "warning l"},
    "warning_high": {"h", "hi", "high", "warning high", "warn high", "high warning",
                     "warning hi", "hi warning", "high limit", "warning h"},
    "alarm_low": {"ll", "lolo", "low low", "alarm low", "alarm lo", "low alarm", "lo alarm",
                  "alarm ll", "trip low"},
    "alarm_high": {"hh", "hihi", "high high", "alarm high", "alarm hi", "high alarm",
                   "hi alarm", "alarm hh", "trip high"},
    "address": {"topic", "mqtt topic", "node", "node id", "nodeid", "opc node", "opc ua node",
                "opcua node", "opc node id", "address", "source address", "metric",
                "sparkplug metric", "opc item", "item id"},
    "colormap": {"colormap", "colour map", "color map", "colourmap"},
    "deadband": {"deadband", "dead band", "hysteresis"},
    "stale_after": {"stale after", "stale", "timeout", "stale s"},
}  # fmt: skip

# A quantity from the unit, where the tag list does not say.
_UNIT_QUANTITY = {
    "temperature": {"degc", "°c", "c", "degf", "°f", "f", "k", "deg c", "deg f"},
    "pressure": {"bar", "barg", "bara", "mbar", "psi", "psig", "pa", "kpa", "mpa", "hpa"},
    "current": {"a", "ma", "amp", "amps"},
    "voltage": {"v", "kv", "mv", "volt", "volts"},
    "power": {"w", "kw", "mw", "hp"},
    "vibration": {"mm/s", "in/s", "g", "um", "µm", "mm/s rms"},
    "speed": {"rpm", "1/min", "hz"},
    "flow": {"m3/h", "m3/s", "m³/h", "m³/s", "l/s", "l/min", "kg/s", "kg/h", "t/h", "gpm"},
    "gas": {"ppm", "%lel", "lel"},
}
_OPCUA_NODE = re.compile(r"^(ns=\d+;|nsu=[^;]+;)?[isgb]=.+$")
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_RANGE = re.compile(rf"^\[?\s*({_NUMBER})\s*(?:\.\.|to|;|,|–|-)\s*({_NUMBER})\s*\]?$")


_REQUIRED = ("quantity", "unit")


class TagFileError(ValueError):
    """The tag list cannot be read at all (no file, no header, no id column, a bad mapping)."""


@dataclass(frozen=True)
class BadRow:
    """A row that was not imported: where it is, its tag (if it has one) and why."""

    line: int
    tag: str | None
    reason: str
    where: str = "line"

    def __str__(self) -> str:
        tag = f" {self.tag!r}" if self.tag else ""
        return f"{self.where} {self.line}{tag}: {self.reason}"


@dataclass(frozen=True)
class TagRow:
    """A good row: its line, the sensor it makes, and its source address (if any)."""

    line: int
    sensor: Sensor
    address: str | None = None


@dataclass
class TagTable:
    """A parsed tag list."""

    source: str
    where: str  # "line" (CSV) or "row" (a spreadsheet's row numbers)
    columns: dict[str, str]  # field -> the header it was read from
    unused: list[str]  # headers no field was read from
    rows: list[TagRow] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)
    guessed_quantity: list[str] = field(default_factory=list)  # ids whose quantity was inferred

    @property
    def sensors(self) -> list[Sensor]:
        return [r.sensor for r in self.rows]


def _norm(header: object) -> str:
    return re.sub(r"[^0-9a-z%]+", " ", str(header or "").lower()).strip()


def detect_columns(
    headers: Sequence[object], mapping: Mapping[str, str] | None = None
) -> dict[str, int]:
    """Field -> column index, from the header names; ``mapping`` ({header: field}, a field
    of :data:`FIELDS` or ``ignore``) comes first. Raises :class:`TagFileError` for a mapping
    naming a header or field that does not exist."""
    norms = [_norm(h) for h in headers]
    out: dict[str, int] = {}
    taken: set[int] = set()
    for column, fld in (mapping or {}).items():
        if fld not in FIELDS and fld != IGNORE:
            raise TagFileError(
                f"--map {column}={fld}: unknown field {fld!r}; expected one of "
                f"{', '.join(FIELDS)} or {IGNORE}"
            )
        want = _norm(column)
        if want not in norms:
            shown = ", ".join(repr(str(h)) for h in headers if str(h or "").strip())
            raise TagFileError(f"--map {column}={fld}: no column {column!r}; the columns: {shown}")
        i = norms.index(want)
        taken.add(i)
        if fld != IGNORE:
            out[fld] = i
    for i, n in enumerate(norms):
        if i in taken or not n:
            continue
        for fld, names in _HEADERS.items():
            if fld not in out and n in names:
                out[fld] = i
                break
    return out


def read_rows(path: Path, sheet: str | None) -> tuple[str, list[tuple[int, list[Any]]]]:
    """("line" or "row", [(line number, cells)]) of the file's non-empty rows."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return "row", _read_xlsx(path, sheet)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TagFileError(f"{path}: cannot read: {exc}") from None
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    try:
        dialect: Any = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    rows = []
    start = 1
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                rows.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise TagFileError(f"{path}: line {reader.line_num}: not CSV: {exc}") from None
    return "line", rows


def _read_xlsx(path: Path, sheet: str | None) -> list[tuple[int, list[Any]]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a file that is not a workbook
        raise TagFileError(f"{path}: not a readable Excel workbook ({exc})") from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise TagFileError(
                f"{path}: no sheet {sheet!r}; its sheets: {', '.join(book.sheetnames)}"
            )
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        rows = []
        for n, cells in enumerate(ws.iter_rows(values_only=True), start=1):
            values = ["" if c is None else c for c in cells]
            if any(str(c).strip() for c in values):
                rows.append((n, values))
        return rows
    finally:
        book.close()


def _text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()


def _number(v: Any, what: str) -> float | None:
    if isinstance(v, bool):
        raise ValueError(f"{what} {v!r} is not a number")
    if isinstance(v, int | float):
        return float(v)
    s = str(v).strip()
    if not s:
        return None
    if re.fullmatch(r"[-+]?\d+,\d+", s):  # a decimal comma
        s = s.replace(",", ".")
    try:
        return float(s)
    except ValueError:
        raise ValueError(f"{what} {s!r} is not a number") from None


def _range(v: Any) -> tuple[float, float] | None:
    s = _text(v)
    if not s:
        return None
    m = _RANGE.match(s)
    if not m:
        raise ValueError(f"range {s!r}: expected 'min-max', 'min..max' or '[min, max]'")
    return float(m[1]), float(m[2])


def _guess_quantity(unit: str, name: str) -> str | None:
    u = unit.strip().lower()
    for quantity, units in _UNIT_QUANTITY.items():
        if u in units:
            return quantity
    words = set(re.findall(r"[a-z]+", name.lower()))
    for quantity in ("temperature", "pressure", "vibration", "current", "voltage", "power",
                     "speed", "flow", "level", "humidity", "methane", "airflow"):  # fmt: skip
        if quantity in words:
            return quantity
    return None


def _row_fields(cells: list[Any], columns: Mapping[str, int]) -> dict[str, Any]:
    """The row's values by field (only the fields the table has columns for)."""

    def cell(fld: str) -> Any:
        i = columns[fld]
        return cells[i] if i < len(cells) else ""

    data: dict[str, Any] = {}
    for fld in ("name", "quantity", "unit", "component", "colormap"):
        if fld in columns:
            data[fld] = _text(cell(fld)) or None
    if "min" in columns or "max" in columns:
        lo = _number(cell("min"), "min") if "min" in columns else None
        hi = _number(cell("max"), "max") if "max" in columns else None
        if lo is not None or hi is not None:
            if lo is None or hi is None:
                raise ValueError("the range needs both min and max")
            data["range"] = (lo, hi)
    if "range" not in data and "range" in columns:
        rng = _range(cell("range"))
        if rng is not None:
            data["range"] = rng
    for kind in ("warning", "alarm"):
        if f"{kind}_low" in columns or f"{kind}_high" in columns:
            limits = {
                side: _number(cell(f"{kind}_{side}"), f"{kind} {side}")
                for side in ("low", "high")
                if f"{kind}_{side}" in columns
            }
            given = {k: v for k, v in limits.items() if v is not None}
            data[kind] = given or None
    for fld in ("deadband", "stale_after"):
        if fld in columns:
            data[fld] = _number(cell(fld), fld.replace("_", " "))
    return data


def _reason(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            msg = "missing" + (" (give min and max, or a range)" if loc == "range" else "")
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


def parse_tags(
    path: str | Path,
    mapping: Mapping[str, str] | None = None,
    existing: Sequence[Sensor] = (),
    sheet: str | None = None,
) -> TagTable:
    """Read a tag list (CSV with any of ``, ; TAB |``, or ``.xlsx``) into sensors.

    The first non-empty row is the header. A tag that is one of ``existing`` (by id) is
    updated: the columns the table has replace what the project said (an empty cell clears an
    optional value), everything else is kept. A row whose values do not make a valid sensor is
    a :class:`BadRow` with its line and reason; so is a repeated id (the first one counts).
    Without a quantity, it is inferred from the unit or the name (listed in
    ``guessed_quantity``), else ``value``.
    """
    path = Path(path)
    if not path.is_file():
        raise TagFileError(f"{path}: no such file")
    where, rows = read_rows(path, sheet)
    if not rows:
        raise TagFileError(f"{path}: no rows; expected a header row and one row per tag")
    header_line, headers = rows[0]
    columns = detect_columns(headers, mapping)
    if "id" not in columns:
        shown = ", ".join(repr(_text(h)) for h in headers if _text(h))
        raise TagFileError(
            f"{path}: {where} {header_line}: no tag id column (a header such as 'Tag', "
            f"'Tag name' or 'Id'); the columns: {shown}. Name it with --map COLUMN=id"
        )
    table = TagTable(
        source=str(path),
        where=where,
        columns={f: _text(headers[i]) for f, i in columns.items()},
        unused=[_text(h) for i, h in enumerate(headers) if i not in columns.values() and _text(h)],
    )
    have = {s.id: s for s in existing}
    first_line: dict[str, int] = {}
    for line, cells in rows[1:]:
        i = columns["id"]
        tag = _text(cells[i]) if i < len(cells) else ""
        if not tag:
            table.bad.append(BadRow(line, None, "no tag id", where))
            continue
        if tag in first_line:
            table.bad.append(BadRow(line, tag, f"the id repeats {where} {first_line[tag]}", where))
            continue
        first_line[tag] = line
        try:
            fields = _row_fields(cells, columns)
        except ValueError as exc:
            table.bad.append(BadRow(line, tag, str(exc), where))
            continue
        old = have.get(tag)
        data: dict[str, Any] = old.model_dump(exclude_unset=True) if old else {}
        # an empty cell clears an optional value; a required one keeps what the project said
        data.update({k: v for k, v in fields.items() if v is not None or k not in _REQUIRED})
        data["id"] = tag
        for k in ("name", "component", "colormap", "deadband", "warning", "alarm"):
            if data.get(k) is None:
                data.pop(k, None)  # empty: the model's default
        if data.get("unit") is None:
            data["unit"] = ""
        guessed = not data.get("quantity")
        if guessed:
            guess = _guess_quantity(data.get("unit") or "", data.get("name") or tag)
            data["quantity"] = guess or "value"
        address = (
            _text(cells[columns["address"]])
            if "address" in columns and columns["address"] < len(cells)
            else ""
        )
        try:
            sensor = Sensor.model_validate(data)
        except ValidationError as exc:
            table.bad.append(BadRow(line, tag, _reason(exc), where))
            continue
        table.rows.append(TagRow(line, sensor, address or None))
        if guessed:
            table.guessed_quantity.append(tag)
    return table


# --------------------------------------------------------------------------------------------
# What the tags bind to: model components, and data sources
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unbound:
    """A tag whose component matches nothing in the model (``component`` None: it has none)."""

    line: int
    sensor: str
    component: str | None
    suggestions: tuple[str, ...] = ()


def unbound_tags(rows: Sequence[TagRow], project: Project, model: ModelData) -> list[Unbound]:
    """The rows whose sensor would colour nothing: no component, or a component that is neither
    one of the project's (matching some node) nor a node of the model; with up to three
    similar component names each."""
    out = []
    names: list[str] | None = None
    matched: dict[str, bool] = {}
    for row in rows:
        ref = row.sensor.component
        if ref is None:
            out.append(Unbound(row.line, row.sensor.id, None))
            continue
        if ref not in matched:  # a component, a node's name, a glob or re:<regex>
            matched[ref] = bool(match_reference(project, model, ref).nodes)
        if not matched[ref]:
            if names is None:
                names = component_names(project, model)
            hints = tuple(n for n in suggest_names(ref, names) if n != ref)
            out.append(Unbound(row.line, row.sensor.id, ref, hints))
    return out


@dataclass
class Bindings:
    """What the tags' addresses bind: OPC UA node ids written into ``opcua`` sources' ``nodes``,
    MQTT topics a source's topic template already reaches; and every address nothing binds."""

    opcua: dict[str, dict[str, str]] = field(default_factory=dict)  # source -> its whole map
    opcua_new: dict[str, int] = field(default_factory=dict)  # source -> node ids from the tags
    mqtt_reached: dict[str, int] = field(default_factory=dict)  # source -> topics it reaches
    unbound: list[tuple[int, str, str, str]] = field(default_factory=list)  # line, id, addr, why
    notes: list[str] = field(default_factory=list)


def _template_regex(source: MqttSource, sensor: str) -> re.Pattern[str]:
    rx = re.escape(source.topic)
    rx = rx.replace(re.escape("{sensor}"), re.escape(sensor))
    for any_level in ("{component}", "{any}", "+"):
        rx = rx.replace(re.escape(any_level), "[^/]+")
    rx = rx.replace(re.escape("#"), ".*")
    return re.compile(rx)


def _reaches(source: MqttSource, sensor: str, address: str) -> bool:
    if source.format == "sparkplug_b":  # a metric maps by its name or its last part
        return sensor in (address, address.rsplit("/", 1)[-1])
    return bool(_template_regex(source, sensor).fullmatch(address))


def _template_for(rows: Sequence[tuple[str, str, str | None]]) -> str | None:
    """One topic template that yields every (sensor, topic, component), if there is one."""
    templates = set()
    for sensor, topic, component in rows:
        levels = topic.split("/")
        if sensor not in levels:
            return None
        levels = ["{sensor}" if lv == sensor else lv for lv in levels]
        if component:
            levels = ["{component}" if lv == component else lv for lv in levels]
        templates.add("/".join(levels))
    return templates.pop() if len(templates) == 1 else None


def plan_bindings(
    rows: Sequence[TagRow], project: Project, source_id: str | None = None
) -> Bindings:
    """Bind each row's address through the project's sources (``source_id``: only that one).

    An OPC UA node id (``ns=2;s=Fan1.Vib``) goes into the ``nodes:`` of the project's opcua
    source (there must be exactly one, or ``source_id`` names it). Any other address is an MQTT
    topic (or a Sparkplug metric): the project file has no per-sensor topics, so it is bound
    when an mqtt source's topic template with ``{sensor}`` = the tag's id gives that topic;
    otherwise it is listed, with a template that would reach all such topics where one exists.
    """
    out = Bindings()
    sources = [s for s in project.sources if source_id is None or s.id == source_id]
    if source_id is not None and not sources:
        have = ", ".join(s.id for s in project.sources) or "none"
        raise TagFileError(f"no source with id {source_id!r} in the project (its sources: {have})")
    opcua = [s for s in sources if s.type == "opcua"]
    mqtt = [s for s in sources if isinstance(s, MqttSource)]
    lost_topics: list[tuple[str, str, str | None]] = []
    for row in rows:
        addr, sid = row.address, row.sensor.id
        if not addr:
            continue
        if _OPCUA_NODE.match(addr):
            if len(opcua) != 1:
                why = (
                    "the project has no opcua source"
                    if not opcua
                    else f"several opcua sources ({', '.join(s.id for s in opcua)}): "
                    "choose one with --source"
                )
                out.unbound.append((row.line, sid, addr, why))
                continue
            src = opcua[0]
            nodes = out.opcua.setdefault(src.id, dict(getattr(src, "nodes", {})))
            nodes[sid] = addr
            out.opcua_new[src.id] = out.opcua_new.get(src.id, 0) + 1
            continue
        reached = next((s for s in mqtt if _reaches(s, sid, addr)), None)
        if reached is not None:
            out.mqtt_reached[reached.id] = out.mqtt_reached.get(reached.id, 0) + 1
            continue
        why = (
            "no mqtt source's topic template gives this topic for this id"
            if mqtt
            else "the project has no mqtt source"
        )
        out.unbound.append((row.line, sid, addr, why))
        lost_topics.append((sid, addr, row.sensor.component))
    if lost_topics:
        template = _template_for(lost_topics)
        if template:
            out.notes.append(
                f"an mqtt source with topic: {template!r} would reach all "
                f"{len(lost_topics)} of these topics"
            )
    return out
