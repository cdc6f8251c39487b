"""Moving samples in and out of a history store: export a window to CSV or Parquet, import
historian exports. No Qt; used by ``twinviewer history PROJECT export|import``.

Export format
-------------
One *long* table, one row per sample, ordered by time (then append order), three columns:

* ``time``: the sample's instant in UTC at microsecond resolution. In CSV an ISO 8601 string
  with six fractional digits and ``Z`` (``2013-12-02T21:15:00.000000Z``); in Parquet a
  ``timestamp[us, tz=UTC]`` column (pandas, DuckDB and Spark read it as a real timestamp).
  The store keeps float64 epoch seconds; times on a microsecond grid round-trip exactly,
  anything finer is rounded to the nearest microsecond.
* ``sensor``: the sensor id (a string; dictionary-encoded in Parquet).
* ``value``: float64 (CSV: the shortest text that reads back to the same double).

Gaps: where the store recorded that a source lost samples
(:class:`~twinviewer.core.gaps.Gap`), the gaps overlapping the exported window go to a CSV
*sidecar* beside the file, ``out.csv`` or ``out.parquet`` -> ``out.gaps.csv``: columns
``source``, ``sensors`` (ids joined with ``;``, empty: every sensor of the source), ``start``,
``end`` (ISO 8601 UTC with microseconds and ``Z``), ``missing``, ``cause``, ``exact``,
``detail``. With ``sensors`` given, only gaps touching one of them, listing only those
(:func:`~twinviewer.history.transfer_gaps.restrict_gaps`). Written atomically and only when
there are gaps (a stale sidecar of the same name is removed), and only from stores that record
gaps (a ``gaps`` method). Import reads the sidecar back
(:mod:`twinviewer.history.transfer_gaps`).

Export streams: the store is read in time windows of about ``EXPORT_ROWS`` samples and each is
written by pyarrow's CSV or Parquet writer, so memory does not grow with the window exported.
The file is written under a temporary name and renamed when complete.

Import
------
:func:`import_history` and what it reads are in :mod:`twinviewer.history.transfer_import`
(the formats, the layouts, how bad rows are reported); it parses columns with
:mod:`twinviewer.history.transfer_parse` and reads files with
:mod:`twinviewer.history.transfer_files`. Their public names are importable from here as well.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from numpy.typing import NDArray

# ``NAME as NAME``: defined here before import moved out
from twinviewer.history.transfer_files import CSV_BLOCK as CSV_BLOCK
from twinviewer.history.transfer_files import FORMATS as FORMATS
from twinviewer.history.transfer_files import format_of
from twinviewer.history.transfer_gaps import gap_sidecar as gap_sidecar
from twinviewer.history.transfer_gaps import restrict_gaps, write_gap_sidecar
from twinviewer.history.transfer_import import BAD_TIME as BAD_TIME
from twinviewer.history.transfer_import import FIELD_COUNT as FIELD_COUNT
from twinviewer.history.transfer_import import MAX_PROBLEMS as MAX_PROBLEMS
from twinviewer.history.transfer_import import MISSING_SENSOR as MISSING_SENSOR
from twinviewer.history.transfer_import import MISSING_TIME as MISSING_TIME
from twinviewer.history.transfer_import import MISSING_VALUE as MISSING_VALUE
from twinviewer.history.transfer_import import NON_FINITE as NON_FINITE
from twinviewer.history.transfer_import import NOT_A_NUMBER as NOT_A_NUMBER
from twinviewer.history.transfer_import import PARQUET_BATCH as PARQUET_BATCH
from twinviewer.history.transfer_import import SENSOR_COLUMNS as SENSOR_COLUMNS
from twinviewer.history.transfer_import import TIME_COLUMNS as TIME_COLUMNS
from twinviewer.history.transfer_import import TIME_FORMATS as TIME_FORMATS
from twinviewer.history.transfer_import import UNKNOWN_SENSOR as UNKNOWN_SENSOR
from twinviewer.history.transfer_import import ImportMapping as ImportMapping
from twinviewer.history.transfer_import import ImportReport as ImportReport
from twinviewer.history.transfer_import import Problem as Problem
from twinviewer.history.transfer_import import import_history as import_history
from twinviewer.history.transfer_import import list_names
from twinviewer.history.transfer_parse import F64 as F64

log = logging.getLogger(__name__)

EXPORT_ROWS = 1_000_000  # samples per export window (and per written chunk)


# -- export ------------------------------------------------------------------------------------


def _windows(store: Any, t0: float, t1: float) -> list[tuple[float, float]]:
    """Time windows of roughly ``EXPORT_ROWS`` samples each (from the store's sample count)."""
    held = store.time_range() if hasattr(store, "time_range") else None
    if held is not None:
        t0, t1 = max(t0, held[0]), min(t1, held[1])
        if t0 > t1:
            return []
    if not (math.isfinite(t0) and math.isfinite(t1)) or t1 <= t0:
        return [(t0, t1)]
    samples = 0
    if hasattr(store, "stats"):
        try:
            samples = int(store.stats().get("samples") or 0)
        except Exception:  # any store: an estimate only
            samples = 0
        if held is not None and held[1] > held[0]:
            samples = int(samples * (t1 - t0) / (held[1] - held[0]))
    n = max(1, min(100_000, math.ceil(samples / EXPORT_ROWS)))
    edges = np.linspace(t0, t1, n + 1)
    edges[0], edges[-1] = t0, t1
    return [(float(edges[i]), float(edges[i + 1])) for i in range(n)]


def _time_array(t: F64) -> pa.Array:
    us = np.round(np.asarray(t, np.float64) * 1e6).astype(np.int64)
    return pa.array(us, pa.timestamp("us", tz="UTC"))


def _iso_strings(ts: pa.Array) -> pa.Array:
    """``2013-12-02T21:15:00.000000Z`` (a cast and two string kernels: 10x faster than
    ``strftime``)."""
    text = pc.cast(pc.cast(ts, pa.timestamp("us")), pa.string())  # 2013-12-02 21:15:00.000000
    text = pc.replace_substring(text, " ", "T", max_replacements=1)
    return pc.binary_join_element_wise(text, "Z", "")


def export_history(
    store: Any,
    sensor_ids: Sequence[str] | None,
    path: Path | str,
    t0: float | None = None,
    t1: float | None = None,
    sensors: Sequence[str] | None = None,
    fmt: str | None = None,
) -> int:
    """Write the samples with ``t0 <= time <= t1`` (of ``sensors`` only, if given) to ``path``
    in the long format (module docstring), and the gaps overlapping the window to its sidecar
    ``<stem>.gaps.csv`` when the store records gaps. Returns the number of samples written.

    ``store`` needs ``read(t0, t1) -> (index, time, value)``; ``sensor_ids[index]`` is the id of
    ``index`` (None: ``store.sensor_ids``, the store's own order that ``read`` returns)."""
    path = Path(path)
    kind = format_of(path, fmt)
    ids = list(store.sensor_ids if sensor_ids is None else sensor_ids)
    lo = -np.inf if t0 is None else float(t0)
    hi = np.inf if t1 is None else float(t1)
    if lo > hi:
        raise ValueError(f"the window ends before it starts ({t0} > {t1})")
    wanted: NDArray[np.int64] | None = None
    if sensors:
        unknown = [s for s in sensors if s not in ids]
        if unknown:
            raise ValueError(
                f"unknown sensor{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}"
                f" (the store holds: {list_names(ids)})"
            )
        index = {s: i for i, s in enumerate(ids)}
        wanted = np.array(sorted(index[s] for s in sensors), np.int64)
    dictionary = pa.array(ids, pa.string())
    if kind == "csv":
        schema = pa.schema(
            [("time", pa.string()), ("sensor", pa.string()), ("value", pa.float64())]
        )
    else:
        schema = pa.schema(
            [
                ("time", pa.timestamp("us", tz="UTC")),
                ("sensor", pa.dictionary(pa.int32(), pa.string())),
                ("value", pa.float64()),
            ]
        )
    tmp = path.with_name(path.name + ".tmp")
    written = 0
    writer: Any
    if kind == "csv":
        writer = pacsv.CSVWriter(
            str(tmp), schema, write_options=pacsv.WriteOptions(quoting_style="needed")
        )
    else:
        writer = pq.ParquetWriter(str(tmp), schema, compression="zstd")
    try:
        windows = _windows(store, lo, hi)
        for k, (a, b) in enumerate(windows):
            s, t, v = store.read(a, b)
            s = np.asarray(s, np.int64)
            t = np.asarray(t, np.float64)
            v = np.asarray(v, np.float64)
            keep = np.ones(len(t), bool) if k == len(windows) - 1 else t < b
            if wanted is not None:
                keep &= np.isin(s, wanted)
            if not keep.all():
                s, t, v = s[keep], t[keep], v[keep]
            if len(s) and (s.min() < 0 or s.max() >= len(ids)):
                raise ValueError("the store returned a sensor index beyond the sensor ids given")
            for c in range(0, len(t), EXPORT_ROWS):
                sl = slice(c, c + EXPORT_ROWS)
                ts = _time_array(t[sl])
                if kind == "csv":
                    cols = [
                        _iso_strings(ts),
                        dictionary.take(pa.array(s[sl], pa.int32())),
                        pa.array(v[sl], pa.float64()),
                    ]
                else:
                    cols = [
                        ts,
                        pa.DictionaryArray.from_arrays(pa.array(s[sl], pa.int32()), dictionary),
                        pa.array(v[sl], pa.float64()),
                    ]
                writer.write_table(pa.Table.from_arrays(cols, schema=schema))
                written += len(ts)
        writer.close()
        os.replace(tmp, path)
    except BaseException:
        try:
            writer.close()
        except Exception:
            pass
        tmp.unlink(missing_ok=True)
        raise
    log.info("history: exported %d samples to %s", written, path)
    if hasattr(store, "gaps"):
        write_gap_sidecar(path, restrict_gaps(store.gaps(t0, t1), sensors))
    return written
