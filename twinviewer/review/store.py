"""Where a project's review lives, and reading and writing it.

The review of ``plant.twin.yaml`` is the folder ``plant.review/`` beside it::

    plant.review/
      review.json        the issues and measurements (sorted keys, 2-space indent)
      snapshots/*.png    the snapshots the issues name

``review.json`` is meant to be kept in git next to the project: keys are sorted, issues are in
the order they were created (ties: by id), measurements by name, comments by date, so an edit
shows as a small diff. It is written atomically (a temporary file in the same folder, fsynced,
then ``os.replace``), so a crash leaves the old file or the new one, never half of one. A file
that cannot be read is reported (:class:`ReviewFileError`) and never overwritten.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from twinviewer.core.project import project_stem
from twinviewer.review.model import REVIEW_FORMAT, Review

log = logging.getLogger(__name__)

REVIEW_SUFFIX = ".review"
REVIEW_FILE = "review.json"
SNAPSHOTS = "snapshots"


class ReviewFileError(ValueError):
    """``review.json`` is not a review this version can read; the message names the file, the
    line or key, and what was expected."""


def review_folder(project_path: str | Path) -> Path:
    """``plant.twin.yaml`` -> ``plant.review`` beside it (any project suffix is dropped)."""
    path = Path(project_path)
    return path.parent / f"{project_stem(path)}{REVIEW_SUFFIX}"


def snapshot_path(folder: str | Path, name: str) -> Path:
    """Where the snapshot ``name`` (a plain file name) of a review is kept."""
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        raise ValueError(f"snapshot name {name!r}: expected a plain file name")
    return Path(folder) / SNAPSHOTS / name


def write_snapshot(folder: str | Path, name: str, data: bytes) -> Path:
    """Store a snapshot (PNG bytes) under ``snapshots/`` atomically; returns its path."""
    path = snapshot_path(folder, name)
    _atomic_write(path, data)
    return path


def load_review(folder: str | Path) -> Review:
    """The review in ``folder`` (an empty one when there is no ``review.json`` yet).

    Raises :class:`ReviewFileError` when the file is not JSON, not a TwinViewer review, or has
    a value that does not fit: the message says where and what was expected."""
    path = Path(folder) / REVIEW_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Review()
    except (OSError, UnicodeDecodeError) as exc:
        raise ReviewFileError(f"{path}: cannot read: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReviewFileError(
            f"{path}: line {exc.lineno}, column {exc.colno}: not valid JSON: {exc.msg}"
        ) from None
    if not isinstance(data, dict):
        raise ReviewFileError(f"{path}: expected a JSON object at the top, got {_kind(data)}")
    if data.get("format") != REVIEW_FORMAT:
        raise ReviewFileError(
            f"{path}: key 'format': expected {REVIEW_FORMAT!r}, got {data.get('format')!r} "
            "(not a TwinViewer review file)"
        )
    if data.get("version") != 1:
        raise ReviewFileError(
            f"{path}: key 'version': expected 1, got {data.get('version')!r} "
            "(written by another version of TwinViewer?)"
        )
    try:
        return Review.model_validate(data)
    except ValidationError as exc:
        raise ReviewFileError(f"{path}: {describe_errors(exc)}") from None


def save_review(folder: str | Path, review: Review) -> Path:
    """Write ``review.json`` in ``folder`` (created if needed) atomically; returns its path."""
    path = Path(folder) / REVIEW_FILE
    _atomic_write(path, dumps(review).encode("utf-8"))
    log.debug(
        "saved %d issues, %d measurements to %s", len(review.issues), len(review.measurements), path
    )
    return path


def dumps(review: Review) -> str:
    """The review as ``review.json`` holds it: one stable order, sorted keys, 2-space indent."""
    data = review.model_dump(mode="json")
    data["issues"] = sorted(data["issues"], key=lambda i: (i["created"], i["id"]))
    for issue in data["issues"]:
        issue["comments"] = sorted(issue["comments"], key=lambda c: (c["date"], c["id"]))
    data["measurements"] = sorted(data["measurements"], key=lambda m: (m["name"], m["id"]))
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def describe_errors(exc: ValidationError) -> str:
    """pydantic's errors as ``key: what was expected (got ...)``, one per line."""
    lines = []
    for err in exc.errors(include_url=False):
        key = ""
        for part in err["loc"]:
            key += f"[{part}]" if isinstance(part, int) else ("." if key else "") + str(part)
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif err["type"] == "missing":
            msg = "required key is missing"
        else:
            msg = err["msg"].removeprefix("Value error, ")
            given = err.get("input")
            if err["type"] != "value_error" and not isinstance(given, (dict, list)):
                msg += f" (got {given!r})"
        lines.append(f"key {key or '(top)'}: {msg}")
    return "; ".join(lines)


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    return "a string" if isinstance(value, str) else type(value).__name__


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
