"""The gaps beside an export: ``out.csv`` or ``out.parquet`` -> ``out.gaps.csv``.

An export of samples alone would turn a recorded loss into an unexplained hole: whoever reads
the file cannot tell "the sensor was quiet" from "the link was down". So
:func:`~twinviewer.history.transfer.export_history` writes the gaps that overlap the exported
window to a small CSV *sidecar* beside it, and
:func:`~twinviewer.history.transfer_import.import_history` reads it back when it is there.
A sidecar rather than extra rows or Parquet metadata: the sample file stays the plain long
table every tool reads, and the sidecar is readable by the same tools (and by hand).

Columns, one row per gap: ``source``, ``sensors`` (ids joined with ``;``; empty: every sensor
of the source), ``start`` and ``end`` (ISO 8601 UTC with microseconds and ``Z``, like the sample
times of a CSV export, so they round-trip exactly on a microsecond grid), ``missing``, ``cause``,
``exact`` (``true``/``false``), ``detail``. The file is written atomically, and only when there
are gaps: an export without gaps removes a sidecar of the same name, which would otherwise
describe some earlier export.

This module is also where a sidecar's gaps are fitted to what is exported or imported:
:func:`restrict_gaps` narrows them to the exported sensors, :func:`map_gaps` renames and drops
sensor ids the way import does for samples.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from twinviewer.core.gaps import SEQUENCE, Gap
from twinviewer.history.segments import atomic_write_bytes

log = logging.getLogger(__name__)

COLUMNS = ("source", "sensors", "start", "end", "missing", "cause", "exact", "detail")
SUFFIX = ".gaps.csv"
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_US = timedelta(microseconds=1)


def gap_sidecar(path: Path | str) -> Path:
    """The sidecar of an export file: ``out.csv`` / ``out.parquet`` -> ``out.gaps.csv``."""
    path = Path(path)
    return path.with_name(path.stem + SUFFIX)


def iso_us(t: float) -> str:
    """``2013-12-02T21:15:00.000000Z``: rounded to the microsecond, computed in integers (no
    float drift from ``fromtimestamp``), the sample times' form in a CSV export."""
    return (_EPOCH + round(t * 1e6) * _US).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> float:
    """Epoch seconds of an ISO 8601 time (UTC unless it says otherwise) or an epoch number."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    when = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return ((when - _EPOCH) // _US) / 1e6


# -- narrowing and mapping ---------------------------------------------------------------------


def restrict_gaps(gaps: Sequence[Gap], sensors: Sequence[str] | None) -> list[Gap]:
    """The gaps of an export of ``sensors`` only (None: all, unchanged).

    A gap is kept if it touches one of them, listing only those. A gap that listed other
    sensors too has its ``missing`` scaled by the share of its sensors kept and becomes an
    estimate (how the loss split between sensors is not known). A gap that listed none (all of
    its source's sensors) lists the exported ones, since in a file that holds only those, "all"
    would wrongly spread to every sensor of the store it is imported into; its count stays the
    source's, as its share is unknown."""
    if not sensors:
        return list(gaps)
    wanted = list(dict.fromkeys(sensors))
    out: list[Gap] = []
    for g in gaps:
        if not g.sensors:
            out.append(replace(g, sensors=tuple(wanted)))
            continue
        kept = tuple(s for s in g.sensors if s in wanted)
        if not kept:
            continue
        if len(kept) == len(g.sensors):
            out.append(g)
            continue
        share = max(1, round(g.missing * len(kept) / len(g.sensors))) if g.missing else 0
        out.append(replace(g, sensors=kept, missing=share, exact=False))
    return out


def map_gaps(
    gaps: Sequence[Gap], sensor_of: Callable[[str], str | None]
) -> tuple[list[Gap], list[Gap]]:
    """``(kept, skipped)``: each gap's sensors through ``sensor_of`` (the id in the target
    store, or None: unknown there, dropped from the gap). A gap left with no sensor is skipped;
    one that listed none to begin with (every sensor of its source) is kept as it is."""
    kept: list[Gap] = []
    skipped: list[Gap] = []
    for g in gaps:
        if not g.sensors:
            kept.append(g)
            continue
        mapped = [sensor_of(s) for s in g.sensors]
        ids = tuple(dict.fromkeys(s for s in mapped if s is not None))
        if not ids:
            skipped.append(g)
        else:
            kept.append(g if ids == g.sensors else replace(g, sensors=ids))
    return kept, skipped


# -- the file ----------------------------------------------------------------------------------


def write_gap_sidecar(path: Path | str, gaps: Sequence[Gap]) -> Path | None:
    """Write ``gaps`` beside the export ``path`` (atomically); with no gaps, remove a stale
    sidecar instead. Returns the sidecar written, or None."""
    side = gap_sidecar(path)
    if not gaps:
        if side.exists():
            log.info("history: removing %s (this export has no gaps)", side)
            side.unlink()
        return None
    text = io.StringIO()
    w = csv.writer(text, lineterminator="\n")
    w.writerow(COLUMNS)
    for g in gaps:
        w.writerow(
            [
                g.source,
                ";".join(g.sensors),
                iso_us(g.start),
                iso_us(g.end),
                g.missing,
                g.cause,
                "true" if g.exact else "false",
                g.detail,
            ]
        )
    atomic_write_bytes(side, text.getvalue().encode())
    log.info("history: wrote %d gap(s) to %s", len(gaps), side)
    return side


@dataclass
class GapSidecar:
    """What a sidecar held: its gaps, and the rows that were not one (line number, reason)."""

    path: Path
    gaps: list[Gap] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)


def _exact(text: str) -> bool:
    low = text.strip().lower()
    if low in ("true", "1", "yes", ""):
        return True
    if low in ("false", "0", "no"):
        return False
    raise ValueError(f"exact {text!r} is not true or false")


def read_gap_sidecar(path: Path | str) -> GapSidecar:
    """The gaps of a sidecar (this module's columns; ``source``, ``start`` and ``end`` needed).
    A bad row is noted with its line number and skipped; a file without those columns is a
    ValueError naming it."""
    path = Path(path)
    out = GapSidecar(path)
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in ("source", "start", "end") if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: not a gap file (no column {', '.join(missing)})")
        line = reader.line_num
        for row in reader:
            where, line = line + 1, reader.line_num
            try:
                if None in row or any(v is None for v in row.values()):
                    raise ValueError("wrong number of fields")
                d = {
                    "source": row["source"],
                    "sensors": row.get("sensors", ""),
                    "start": parse_time(row["start"]),
                    "end": parse_time(row["end"]),
                    "missing": int(row.get("missing") or 0),
                    "cause": row.get("cause") or SEQUENCE,
                    "exact": _exact(row.get("exact", "")),
                    "detail": row.get("detail", ""),
                }
                out.gaps.append(Gap.from_dict(d))
            except ValueError as exc:
                out.problems.append((where, str(exc)))
    return out
