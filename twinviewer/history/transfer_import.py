"""Importing historian exports into a history store: ``twinviewer history PROJECT import``.

:func:`import_history` reads a CSV or Parquet file in chunks, picks its layout, parses each
chunk's columns, appends the good samples and reports the bad rows by line. Apart from export
(:mod:`twinviewer.history.transfer`), from the columnar parsing of times and values
(:mod:`twinviewer.history.transfer_parse`) and from reading the file's bytes
(:mod:`twinviewer.history.transfer_files`).

Import formats
--------------
CSV (comma, semicolon, tab or ``|``, detected from the header line; the first line is the
header) or Parquet, in one of three layouts, chosen by :class:`ImportMapping`:

* **long**: a time column, a sensor column and a value column (what export writes). Chosen
  when ``sensor_column`` is given or a column is called ``sensor``. ``rename`` maps the names
  found in the sensor column to project sensor ids.
* **single series** (e.g. the NAB files, ``timestamp,value``): ``sensor`` names the project
  sensor; the value column is ``value_column``, else the only column besides time, else
  ``value``.
* **wide**: every other column is one sensor, its id the column name or ``rename[column]``.
  A column that names no project sensor is reported once (on line 1, the header) and left
  out. Empty cells are sensors not sampled at that instant: they are skipped silently and
  counted (``empty_cells``).

Times (``time_format``): ``auto`` accepts ISO 8601 (``2013-12-02 21:15:00``,
``2013-12-02T21:15:00.5+01:00``, ``...Z``; a date alone is midnight) and epoch numbers, whose
unit is taken from the magnitude of the file's first numeric times (< 1e11 seconds, < 1e14
milliseconds, < 1e17 microseconds, else nanoseconds); ``iso``, ``s``, ``ms``, ``us`` and ``ns``
accept only that one form. ISO times without a zone offset are in ``timezone`` (an IANA name,
default UTC); a wall time that a daylight-saving change skips or repeats takes the earliest
instant. Parquet timestamp columns are used as they are (naive ones in ``timezone``).

Bad rows are reported with the 1-based line number of the file where they start (the header
is line 1; for Parquet the 1-based row number) and a reason, and skipped; everything else is
imported: an unparseable or missing time, a value that is missing, not a number or not finite
(NaN, inf), a line with the wrong number of fields, an unknown sensor. The report keeps the
first ``max_problems`` problems in file order and counts all of them by kind.

Gaps: when the file has a gap sidecar beside it (``out.gaps.csv`` for ``out.csv`` or
``out.parquet``, as export writes it: :mod:`twinviewer.history.transfer_gaps`), its gaps are
added to the store after the samples, their sensor ids mapped as the samples' are (``rename``;
a single-series import's gaps are that sensor's). Sensors that are not project sensors are
dropped from a gap's list; a gap left with none is skipped and reported, and so is a gap the
store already holds (to the microsecond: importing the same file twice does not double a loss).

Nothing already stored is touched: import only appends, in chunks (the store keeps every
sample; data older than what it holds goes to its late segments), and flushes at the end.

Parsing is columnar: pyarrow.csv reads blocks of rows as strings and pyarrow.compute converts
whole columns; a column whose conversion fails is split until the failing cells are found, so
bad cells cost per-cell work, good ones do not. Physical line numbers are computed only when
there are problems to report; only when the file has blank lines or quoted line breaks does
that take a line-by-line pass over the file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from numpy.typing import NDArray

from twinviewer.core.gaps import Gap
from twinviewer.core.samples import SampleBatch
from twinviewer.history.transfer_files import (
    CsvChunks,
    InvalidRow,
    csv_header,
    format_of,
    physical_lines,
    scan_lines,
)
from twinviewer.history.transfer_gaps import gap_sidecar, map_gaps, read_gap_sidecar
from twinviewer.history.transfer_parse import (
    F64,
    TimeState,
    cell_text,
    parse_times,
    parse_values,
    utf8,
)

log = logging.getLogger(__name__)

PARQUET_BATCH = 262_144  # rows of Parquet read at a time
MAX_PROBLEMS = 20
TIME_FORMATS = ("auto", "iso", "s", "ms", "us", "ns")
TIME_COLUMNS = ("time", "timestamp", "ts", "date", "datetime")
SENSOR_COLUMNS = ("sensor",)

# problem kinds (the report counts problems by these)
BAD_TIME = "bad time"
MISSING_TIME = "missing time"
MISSING_VALUE = "missing value"
NOT_A_NUMBER = "not a number"
NON_FINITE = "non-finite value"
UNKNOWN_SENSOR = "unknown sensor"
MISSING_SENSOR = "missing sensor"
FIELD_COUNT = "wrong number of fields"


# -- import: the mapping and the report ---------------------------------------------------------


@dataclass
class ImportMapping:
    """How the columns of a file become samples (module docstring)."""

    time_column: str | None = None  # None: the first of TIME_COLUMNS present (any case)
    time_format: str = "auto"  # auto | iso | s | ms | us | ns
    timezone: str = "UTC"  # for ISO times without an offset
    sensor_column: str | None = None  # long format
    value_column: str | None = None
    sensor: str | None = None  # single series: the project sensor id
    rename: dict[str, str] = field(default_factory=dict)  # column (or sensor name) -> sensor id
    delimiter: str | None = None  # CSV; None: detected from the header line

    def __post_init__(self) -> None:
        if self.time_format not in TIME_FORMATS:
            raise ValueError(
                f"unknown time format {self.time_format!r}: "
                f"expected one of {', '.join(TIME_FORMATS)}"
            )
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {self.timezone!r}: expected an IANA name such as UTC or "
                "Europe/Berlin"
            ) from None


@dataclass
class Problem:
    line: int  # 1-based line of the file (header = 1); Parquet: 1-based row
    reason: str
    kind: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "reason": self.reason}


@dataclass
class ImportReport:
    path: str
    format: str
    layout: str = ""
    rows: int = 0  # data rows read (lines after the header, blank lines not counted)
    imported: int = 0  # samples appended to the store
    skipped_rows: int = 0  # rows with at least one problem
    empty_cells: int = 0  # wide layout: cells left empty (not a problem)
    problems: list[Problem] = field(default_factory=list)  # the first few, in file order
    counts: dict[str, int] = field(default_factory=dict)  # every problem, by kind
    time_range: tuple[float, float] | None = None
    sensors: dict[str, int] = field(default_factory=dict)  # sensor id -> samples imported
    hint: str | None = None
    gap_file: str | None = None  # the gap sidecar read, if there was one
    gaps: int = 0  # gaps added to the store
    gaps_skipped: int = 0  # sidecar rows not added (bad, no project sensor, already held)
    gap_problems: list[str] = field(default_factory=list)  # why, the first few

    @property
    def problem_count(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "layout": self.layout,
            "rows": self.rows,
            "imported": self.imported,
            "skipped_rows": self.skipped_rows,
            "empty_cells": self.empty_cells,
            "problems": [p.as_dict() for p in self.problems],
            "problem_count": self.problem_count,
            "problem_counts": dict(self.counts),
            "time_range": list(self.time_range) if self.time_range else None,
            "time_range_iso": [_iso(t) for t in self.time_range] if self.time_range else None,
            "sensors": dict(self.sensors),
            "hint": self.hint,
            "gap_file": self.gap_file,
            "gaps": self.gaps,
            "gaps_skipped": self.gaps_skipped,
            "gap_problems": list(self.gap_problems),
        }

    def lines(self) -> list[str]:
        where = "row" if self.format == "parquet" else "line"
        out = [
            f"imported {self.imported:,} samples from {self.path} "
            f"({self.rows:,} rows, {self.layout}; rows with problems: {self.skipped_rows:,})"
        ]
        if self.time_range:
            out.append(f"time range: {_iso(self.time_range[0])} .. {_iso(self.time_range[1])}")
        if self.empty_cells:
            out.append(f"empty cells skipped: {self.empty_cells:,}")
        for p in self.problems:
            out.append(
                f"{self.path}:{p.line}: {p.reason}"
                if where == "line"
                else f"row {p.line}: {p.reason}"
            )
        more = self.problem_count - len(self.problems)
        if more > 0:
            kinds = ", ".join(f"{k}: {n:,}" for k, n in sorted(self.counts.items()))
            out.append(f"... and {more:,} more problems ({self.problem_count:,} in all: {kinds})")
        if self.hint:
            out.append(self.hint)
        if self.gap_file:
            out.append(
                f"gaps: {self.gaps:,} imported from {self.gap_file}"
                + (f" ({self.gaps_skipped:,} skipped)" if self.gaps_skipped else "")
            )
            out.extend(self.gap_problems)
        return out


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="microseconds")


def list_names(ids: Sequence[str], limit: int = 30) -> str:
    """Ids for a message: the first ``limit`` of them, then how many there are in all."""
    shown = ", ".join(ids[:limit])
    return shown + (f", ... ({len(ids)} in all)" if len(ids) > limit else "")


# -- import ---------------------------------------------------------------------------------------


@dataclass
class _Layout:
    kind: str  # long | single | wide
    time: str
    columns: list[str]  # value columns (long/single: one)
    sensor_col: str | None = None
    column_sensor: dict[str, int] = field(default_factory=dict)  # wide/single: col -> project idx


class _Collector:
    """Problems as ``(where, index, reason, kind)``: where is ``header``, ``record`` (index: the
    0-based data record of the right width) or ``invalid`` (index: the k-th row of the wrong
    width). Every problem is counted; only the first few of each kind per chunk are detailed."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.detailed: list[tuple[str, int, str, str]] = []
        self.counts: dict[str, int] = {}

    def add(self, where: str, index: int, reason: str, kind: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        self.detailed.append((where, index, reason, kind))

    def count(self, kind: str, n: int) -> None:
        if n > 0:
            self.counts[kind] = self.counts.get(kind, 0) + n


def _choose_layout(
    names: list[str], mapping: ImportMapping, project: dict[str, int], path: Path
) -> tuple[_Layout, list[tuple[str, str]]]:
    """The layout, and header-level problems (wide columns that name no project sensor)."""
    lower = {n.lower(): n for n in names}

    def column(name: str, option: str) -> str:
        if name in names:
            return name
        if name.lower() in lower:
            return lower[name.lower()]
        raise ValueError(f"{path}: no column {name!r} ({option}); the columns are {names}")

    if mapping.time_column:
        tcol = column(mapping.time_column, "--time-column")
    else:
        found = [lower[c] for c in TIME_COLUMNS if c in lower]
        if not found:
            raise ValueError(
                f"{path}: no time column (looked for {', '.join(TIME_COLUMNS)}); name it with "
                f"--time-column (the columns are {names})"
            )
        tcol = found[0]
    others = [n for n in names if n != tcol]
    header_problems: list[tuple[str, str]] = []
    scol = None
    if mapping.sensor_column:
        scol = column(mapping.sensor_column, "--sensor-column")
    elif mapping.sensor is None:
        scol = next((lower[c] for c in SENSOR_COLUMNS if c in lower and lower[c] != tcol), None)
    if scol is not None:
        if mapping.value_column:
            vcol = column(mapping.value_column, "--value-column")
        else:
            vcol = column("value", "--value-column")
        return _Layout("long", tcol, [vcol], sensor_col=scol), header_problems
    if mapping.sensor is not None:
        sid = mapping.rename.get(mapping.sensor, mapping.sensor)
        if sid not in project:
            raise ValueError(
                f"--sensor {mapping.sensor!r}: unknown sensor; the project's sensors: "
                f"{list_names(list(project))}"
            )
        if mapping.value_column:
            vcol = column(mapping.value_column, "--value-column")
        elif len(others) == 1:
            vcol = others[0]
        elif "value" in lower:
            vcol = lower["value"]
        else:
            raise ValueError(
                f"{path}: which column holds the values of {mapping.sensor!r}? name it with "
                f"--value-column (the columns are {names})"
            )
        return _Layout("single", tcol, [vcol], column_sensor={vcol: project[sid]}), header_problems
    cols = [column(mapping.value_column, "--value-column")] if mapping.value_column else others
    col_sensor: dict[str, int] = {}
    for c in cols:
        sid = mapping.rename.get(c, c)
        if sid in project:
            col_sensor[c] = project[sid]
        else:
            header_problems.append(
                (f"column {c!r}: unknown sensor {sid!r}; column skipped", UNKNOWN_SENSOR)
            )
    if not col_sensor:
        raise ValueError(
            f"{path}: no column names a project sensor (columns: {names}); name the sensor of a "
            f"single series with --sensor ID, or map columns with --map COLUMN=SENSOR_ID "
            f"(the project's sensors: {list_names(list(project))})"
        )
    kind = "single" if len(cols) == 1 else "wide"
    return _Layout(kind, tcol, list(col_sensor), column_sensor=col_sensor), header_problems


def import_history(
    store: Any,
    project_sensor_ids: Sequence[str],
    path: Path | str,
    mapping: ImportMapping | None = None,
    *,
    fmt: str | None = None,
    max_problems: int = MAX_PROBLEMS,
) -> ImportReport:
    """Append the samples of a CSV or Parquet file to ``store`` (module docstring); bad rows are
    reported and skipped. ``store.append`` takes indices into ``project_sensor_ids``; the store
    is flushed at the end (also after an error: what was read so far is kept)."""
    path = Path(path)
    mapping = mapping or ImportMapping()
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    kind = format_of(path, fmt)
    project = {sid: i for i, sid in enumerate(project_sensor_ids)}
    report = ImportReport(str(path), kind)
    problems = _Collector(max_problems)
    state = TimeState(mapping.time_format, mapping.timezone)
    t_lo, t_hi = np.inf, -np.inf
    per_sensor = np.zeros(len(project), np.int64)
    delimiter = ","
    chunks: Any
    if kind == "csv":
        names, delimiter = csv_header(path, mapping.delimiter)
    else:
        try:
            pf = pq.ParquetFile(str(path))
        except (pa.ArrowInvalid, OSError) as exc:
            raise ValueError(f"{path}: not a readable Parquet file ({exc})") from None
        names = list(pf.schema_arrow.names)
    layout, header_problems = _choose_layout(names, mapping, project, path)
    report.layout = layout.kind
    for reason, pkind in header_problems:
        problems.add("header", 0, reason, pkind)
    needed = [layout.time] + ([layout.sensor_col] if layout.sensor_col else []) + layout.columns
    if kind == "csv":
        try:
            chunks = CsvChunks(path, names, delimiter, needed)
        except pa.ArrowInvalid as exc:
            raise ValueError(f"{path}: not a readable CSV file ({exc})") from None
    else:
        chunks = pf.iter_batches(batch_size=PARQUET_BATCH, columns=needed)
    base = 0  # data records of the right width before this chunk
    try:
        for batch in chunks:
            n = batch.num_rows
            if n == 0:
                continue
            sens, times, vals, skipped = _import_chunk(
                batch, layout, state, mapping, project, problems, base, report
            )
            report.rows += n
            report.skipped_rows += skipped
            if len(sens):
                store.append(SampleBatch.of(sens, times, vals))
                report.imported += len(sens)
                per_sensor += np.bincount(sens, minlength=len(project))
                t_lo, t_hi = min(t_lo, float(times.min())), max(t_hi, float(times.max()))
            base += n
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise ValueError(
            f"{path}: cannot read past data row {base} ({report.imported} samples before it "
            f"were imported and are kept): {exc}"
        ) from None
    finally:
        store.flush()
    invalid: list[InvalidRow] = chunks.invalid if kind == "csv" else []
    for k, inv in enumerate(invalid):
        if k < max_problems:
            reason = f"{inv.fields} field{'s' if inv.fields != 1 else ''}, expected {len(names)}"
            problems.add("invalid", k, reason, FIELD_COUNT)
        else:
            problems.count(FIELD_COUNT, 1)
    report.rows += len(invalid)
    report.skipped_rows += len(invalid)
    report.counts = dict(sorted(problems.counts.items()))
    report.problems = _place(problems, invalid, path, delimiter, len(names), kind, base)
    if report.imported:
        report.time_range = (t_lo, t_hi)
    report.sensors = {project_sensor_ids[i]: int(c) for i, c in enumerate(per_sensor) if c}
    if report.counts.get(UNKNOWN_SENSOR):
        report.hint = f"the project's sensors: {list_names(list(project))}"
    _import_gaps(store, path, layout, mapping, project, report, max_problems)
    log.info(
        "history: imported %d samples from %s (%d rows, %d with problems)",
        report.imported,
        path,
        report.rows,
        report.skipped_rows,
    )
    return report


def _import_gaps(
    store: Any,
    path: Path,
    layout: _Layout,
    mapping: ImportMapping,
    project: dict[str, int],
    report: ImportReport,
    max_problems: int,
) -> None:
    """Add the gaps of ``path``'s sidecar, if there is one (module docstring), to ``report``."""
    side = gap_sidecar(path)
    if side == path or not side.is_file():
        return
    report.gap_file = str(side)
    read = read_gap_sidecar(side)
    notes = [f"{side}:{line}: {reason}; gap skipped" for line, reason in read.problems]
    gaps = read.gaps
    if layout.kind == "single":  # one series: whatever the sidecar names, the loss is its
        index = next(iter(layout.column_sensor.values()))
        only = next(sid for sid, i in project.items() if i == index)
        gaps = [replace(g, sensors=(only,)) for g in gaps]

    def sensor_of(name: str) -> str | None:
        sid = mapping.rename.get(name, name)
        return sid if sid in project else None

    kept, unknown = map_gaps(gaps, sensor_of)
    for g in unknown:
        notes.append(
            f"{side}: gap of {', '.join(g.sensors)} from {g.start:.6f} skipped: "
            "none of its sensors is a project sensor"
        )
    fresh: list[Gap] = []
    if kept and hasattr(store, "add_gaps") and hasattr(store, "gaps"):
        held = {
            _gap_key(g) for g in store.gaps(min(g.start for g in kept), max(g.end for g in kept))
        }
        for g in kept:
            if _gap_key(g) in held:
                notes.append(f"{side}: {g.describe()}: already recorded; skipped")
            else:
                held.add(_gap_key(g))
                fresh.append(g)
        if fresh:
            store.add_gaps(fresh)
    elif kept:
        notes.append(f"{side}: {len(kept)} gap(s) skipped: this store does not record gaps")
    report.gaps = len(fresh)
    report.gaps_skipped = len(read.problems) + len(read.gaps) - len(fresh)
    report.gap_problems = notes[:max_problems]
    if len(notes) > max_problems:
        report.gap_problems.append(f"... and {len(notes) - max_problems:,} more gap problems")
    log.info(
        "history: imported %d gap(s) from %s (%d skipped)", report.gaps, side, report.gaps_skipped
    )


def _gap_key(g: Gap) -> tuple[object, ...]:
    """A gap's identity to the microsecond (the sidecar's resolution): the same loss recorded
    in the store and read back from an export of it compares equal."""
    return (g.source, g.sensors, round(g.start * 1e6), round(g.end * 1e6), g.missing, g.cause)


def _time_reason(col: pa.Array, i: int, state: TimeState) -> str:
    if state.fmt == "iso":
        expected = "ISO 8601"
    elif state.fmt == "auto":
        expected = "ISO 8601 or an epoch number"
    else:
        expected = f"epoch {state.fmt}"
    return f"time {cell_text(col, i)!r} is not {expected}"


def _import_chunk(
    batch: pa.RecordBatch,
    layout: _Layout,
    state: TimeState,
    mapping: ImportMapping,
    project: dict[str, int],
    problems: _Collector,
    base: int,
    report: ImportReport,
) -> tuple[NDArray[np.int32], F64, F64, int]:
    """One chunk's good samples ``(sensor, time, value)`` and how many rows had a problem."""
    n = batch.num_rows
    tcol = batch.column(layout.time)
    t, t_missing, t_bad = parse_times(tcol, state)
    none = np.zeros(n, bool)
    row_bad = _report_checks(
        [
            (t_missing, MISSING_TIME, lambda i: "missing time"),
            (t_bad, BAD_TIME, lambda i: _time_reason(tcol, i, state)),
        ],
        none,
        base,
        problems,
    )
    sens_parts: list[NDArray[np.int32]] = []
    time_parts: list[F64] = []
    val_parts: list[F64] = []
    cell_bad = np.zeros(n, bool)
    if layout.kind == "long":
        assert layout.sensor_col is not None
        scol = batch.column(layout.sensor_col)
        if pa.types.is_dictionary(scol.type):
            scol = scol.cast(scol.type.value_type)
        valid, broken = utf8(scol.cast(pa.string()))
        enc = pc.dictionary_encode(pc.utf8_trim_whitespace(valid))
        dict_names = enc.dictionary.to_pylist()
        lookup = np.array(
            [project.get(mapping.rename.get(s, s), -1) if s else -2 for s in dict_names] + [-2],
            np.int64,
        )
        codes = np.asarray(
            enc.indices.fill_null(len(dict_names)).to_numpy(zero_copy_only=False), np.int64
        )
        sidx = lookup[codes]
        sidx[broken] = -1
        vcol = batch.column(layout.columns[0])
        v, v_missing, v_nan, v_inf = parse_values(vcol)
        checks: list[tuple[NDArray[np.bool_], str, Callable[[int], str]]] = [
            (sidx == -2, MISSING_SENSOR, lambda i: "missing sensor"),
            (sidx == -1, UNKNOWN_SENSOR, lambda i: f"unknown sensor {cell_text(scol, i)!r}"),
            (v_missing, MISSING_VALUE, lambda i: "missing value"),
            (v_nan, NOT_A_NUMBER, lambda i: f"value {cell_text(vcol, i)!r} is not a number"),
            (v_inf, NON_FINITE, lambda i: f"value {cell_text(vcol, i)!r} is not finite"),
        ]
        cell_bad = _report_checks(checks, row_bad, base, problems)
        ok = ~row_bad & ~cell_bad
        sens_parts.append(sidx[ok].astype(np.int32))
        time_parts.append(t[ok])
        val_parts.append(v[ok])
    else:
        for c in layout.columns:
            vcol = batch.column(c)
            v, v_missing, v_nan, v_inf = parse_values(vcol)
            label = "" if layout.kind == "single" else f"column {c!r}: "

            def nan_reason(i: int, vc: pa.Array = vcol, lb: str = label) -> str:
                return f"{lb}value {cell_text(vc, i)!r} is not a number"

            def inf_reason(i: int, vc: pa.Array = vcol, lb: str = label) -> str:
                return f"{lb}value {cell_text(vc, i)!r} is not finite"

            checks = [(v_nan, NOT_A_NUMBER, nan_reason), (v_inf, NON_FINITE, inf_reason)]
            if layout.kind == "single":
                checks.insert(0, (v_missing, MISSING_VALUE, lambda i: "missing value"))
            else:
                report.empty_cells += int((v_missing & ~row_bad).sum())
            bad_here = _report_checks(checks, row_bad, base, problems)
            cell_bad |= bad_here
            ok = ~row_bad & ~bad_here & ~v_missing
            sens_parts.append(np.full(int(ok.sum()), layout.column_sensor[c], np.int32))
            time_parts.append(t[ok])
            val_parts.append(v[ok])
    skipped = int((row_bad | cell_bad).sum())
    return (
        np.concatenate(sens_parts),
        np.concatenate(time_parts),
        np.concatenate(val_parts),
        skipped,
    )


def _report_checks(
    checks: list[tuple[NDArray[np.bool_], str, Callable[[int], str]]],
    already: NDArray[np.bool_],
    base: int,
    problems: _Collector,
) -> NDArray[np.bool_]:
    """Record the problems of one chunk (the first failing check of a row that is not already
    bad); returns the rows that failed a check."""
    taken = already.copy()
    for mask, kind, reason in checks:
        m = mask & ~taken
        hits = np.flatnonzero(m)
        for i in hits[: problems.limit]:
            problems.add("record", base + int(i), reason(int(i)), kind)
        problems.count(kind, len(hits) - problems.limit)
        taken |= m
    return taken & ~already


def _place(
    problems: _Collector,
    invalid: list[InvalidRow],
    path: Path,
    delimiter: str,
    expected: int,
    kind: str,
    records: int,
) -> list[Problem]:
    """Turn record indices into line numbers; the first problems in file order."""
    if not problems.detailed:
        return []
    if kind == "parquet":
        rows = [
            Problem(0 if where == "header" else i + 1, r, k) for where, i, r, k in problems.detailed
        ]
        return sorted(rows, key=lambda p: p.line)[: problems.limit]
    kept_lines: NDArray[np.int64] | None = None
    invalid_lines: list[int] = []
    if any(where != "header" for where, *_ in problems.detailed):
        total = records + len(invalid)
        numbers = [inv.number for inv in invalid]
        if all(n is not None for n in numbers) and physical_lines(path) == total + 1:
            # every record is one line: pyarrow's row numbers are line numbers
            invalid_lines = [int(n) for n in numbers if n is not None]
            kept_lines = np.delete(
                np.arange(2, total + 2, dtype=np.int64), np.array(invalid_lines, np.int64) - 2
            )
        else:  # blank lines or quoted line breaks: count lines one by one
            kept, invalid_lines = scan_lines(path, delimiter, expected)
            kept_lines = np.array(kept, np.int64)
    out: list[Problem] = []
    for where, i, reason, pkind in problems.detailed:
        if where == "header":
            line = 1
        elif where == "invalid":
            line = invalid_lines[i] if i < len(invalid_lines) else 0
        else:
            assert kept_lines is not None
            line = int(kept_lines[i]) if i < len(kept_lines) else i + 2
        out.append(Problem(line, reason, pkind))
    out.sort(key=lambda p: p.line)
    return out[: problems.limit]
