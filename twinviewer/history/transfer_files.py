"""Recognising and reading the files that history import and export use.

The format from a file's suffix (:func:`format_of`), the CSV header line (delimiter detection,
column names), the chunked CSV reader that hands out blocks of rows as string columns and notes
the rows of the wrong width (:class:`CsvChunks`), and the physical line numbers that problems
are reported on (:func:`physical_lines`, :func:`scan_lines`). Apart from the columnar parsing
(:mod:`twinviewer.history.transfer_parse`) and the import itself
(:mod:`twinviewer.history.transfer_import`): this is where the bytes of a file are looked at.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

CSV_BLOCK = 16 << 20  # bytes of CSV parsed at a time
FORMATS = ("csv", "parquet")


def format_of(path: Path | str, fmt: str | None = None) -> str:
    """``csv`` or ``parquet``: ``fmt`` if given, else from the file's suffix."""
    if fmt:
        if fmt.lower() not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}: expected csv or parquet")
        return fmt.lower()
    suffix = Path(path).suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        return "csv"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    raise ValueError(
        f"{path}: cannot tell the format from the suffix {suffix!r}; use --format csv or parquet"
    )


def detect_delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def csv_header(path: Path, delimiter: str | None) -> tuple[list[str], str]:
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
        first = f.readline()
    if not first.strip():
        raise ValueError(f"{path}: no header line (the first line names the columns)")
    delim = delimiter or detect_delimiter(first)
    names = next(csv.reader([first], delimiter=delim))
    names = [n.strip() for n in names]
    if len(set(names)) != len(names):
        raise ValueError(f"{path}: repeated column names in the header: {names}")
    return names, delim


@dataclass
class InvalidRow:
    number: int | None  # pyarrow's row number (header = 1), None if unknown
    fields: int


class CsvChunks:
    """Blocks of a CSV file as string columns, with the rows of the wrong width noted."""

    def __init__(self, path: Path, names: list[str], delimiter: str, columns: list[str]) -> None:
        self.path = path
        self.names = names
        self.invalid: list[InvalidRow] = []
        self.expected = len(names)

        def handler(row: Any) -> str:
            self.invalid.append(InvalidRow(row.number, int(row.actual_columns)))
            return "skip"

        self.reader = pacsv.open_csv(
            str(path),
            read_options=pacsv.ReadOptions(
                use_threads=False, block_size=CSV_BLOCK, skip_rows=1, column_names=names
            ),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=handler),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in names},
                include_columns=columns,
                strings_can_be_null=False,
                check_utf8=False,  # a stray byte is one bad cell, not an unreadable file
                quoted_strings_can_be_null=False,
            ),
        )

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        yield from self.reader


def physical_lines(path: Path) -> int:
    n = 0
    last = b"\n"
    with open(path, "rb") as f:
        while chunk := f.read(1 << 24):
            n += chunk.count(b"\n")
            last = chunk[-1:]
    return n + (0 if last == b"\n" else 1)


def scan_lines(path: Path, delimiter: str, expected: int) -> tuple[list[int], list[int]]:
    """Line-by-line: the start line of every data record of the right width, and of every
    record of the wrong width (blank lines are no record). Only to place problems."""
    kept: list[int] = []
    invalid: list[int] = []
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
        reader = csv.reader(f, delimiter=delimiter)
        prev = 0
        for k, rec in enumerate(reader):
            start, prev = prev + 1, reader.line_num
            if k == 0 or not rec:
                continue
            (kept if len(rec) == expected else invalid).append(start)
    return kept, invalid
