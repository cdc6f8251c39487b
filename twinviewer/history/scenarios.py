"""What-if scenario runs: second sources of values for the same sensors, stored beside the project.

A *scenario run* is an embedded :class:`~twinviewer.history.store.HistoryStore` in its own
folder, ``<project stem>.scenarios/<slug>/`` beside the project file (next to the default
``<project stem>.history`` store), plus a ``scenario.json`` describing it::

    {"name": "Cooler bearing", "slug": "cooler-bearing", "description": "...",
     "created": "2026-11-25T00:30:00+00:00", "kind": "simulator",
     "parameters": {...}, "time_range": [t0, t1], "samples": 117000}

``kind`` is ``simulator`` (the built-in simulator with changed parameters), ``overlay`` (a
simulation overlay's values at its compared sensors, one sample per step) or ``import``. The
baseline is the project's own history; the GUI shows a run side by side with it (two views on
one timeline) or as a difference, and ``twinviewer scenario`` compares them headless.

This module is pure history + core: folders, metadata, writing a batch as a run, validating
simulator parameters and comparing two stores. Producing the samples (running the simulator,
sampling an overlay) lives in :mod:`twinviewer.session.scenario_runs`, which needs the sources, the
session and the simulation layers.

Writing is all or nothing: a run is written into a hidden temporary folder, closed, described,
and only then renamed into place (a replaced run is renamed away first and deleted after), so
a crash never leaves half a run under the scenario's name.
"""

from __future__ import annotations

import json
import logging
import math
import re
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import yaml
from numpy.typing import NDArray
from pydantic import ValidationError

from twinviewer.core.project import Project, SimulatorSource, project_stem
from twinviewer.core.samples import SampleBatch
from twinviewer.history.store import HistoryStore
from twinviewer.history.transfer import ImportMapping, ImportReport, import_history

log = logging.getLogger(__name__)

F64 = NDArray[np.float64]
META_FILE = "scenario.json"
SCENARIOS_SUFFIX = ".scenarios"
KINDS = ("simulator", "overlay", "import")
# simulator parameters a scenario may change (type, id and enabled say nothing about values)
SIM_PARAMETERS = ("rate", "speed", "seed", "cycle", "faults")


class StateAt(Protocol):
    """What comparing needs of a store (embedded or PostgreSQL): the state at an instant."""

    def at(self, t: float) -> tuple[F64, F64]: ...


class ScenarioError(ValueError):
    """A scenario cannot be found, written or parameterised; the message is for the user."""


@dataclass
class ScenarioInfo:
    """What ``list_scenarios`` reports about one run. ``problem`` is set (and the other fields
    are best effort) when the metadata or the store cannot be read."""

    name: str
    slug: str
    folder: Path
    kind: str | None = None
    description: str = ""
    created: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    samples: int = 0
    time_range: tuple[float, float] | None = None
    problem: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["folder"] = str(self.folder)
        out["time_range"] = list(self.time_range) if self.time_range else None
        return out


# -- where -------------------------------------------------------------------------------------


def slugify(name: str) -> str:
    """A folder name for a scenario: lower case, ``[a-z0-9._-]``, other runs become ``-``."""
    slug = re.sub(r"[^a-z0-9._-]+", "-", name.strip().lower()).strip("-.")
    if not slug:
        raise ScenarioError(f"scenario name {name!r}: needs at least one letter or digit")
    return slug


def scenario_folder(project: Project, folder: Path, path: Path, name: str | None = None) -> Path:
    """The project's scenario folder ``<stem>.scenarios`` beside the project file, or, given a
    ``name``, the folder of that run inside it."""
    del project  # the place depends on the project file only; kept for a uniform signature
    root = Path(folder) / f"{project_stem(path)}{SCENARIOS_SUFFIX}"
    return root if name is None else root / slugify(name)


def _read_meta(run: Path) -> dict[str, Any]:
    meta = json.loads((run / META_FILE).read_text())
    if not isinstance(meta, dict):
        raise ValueError(f"{META_FILE} holds {type(meta).__name__}, not an object")
    return meta


def _is_run(run: Path) -> bool:
    return run.is_dir() and not run.name.startswith(".")


def list_scenarios(project: Project, folder: Path, path: Path) -> list[ScenarioInfo]:
    """Every run in the project's scenario folder, by name. Never raises for a broken run: its
    ``problem`` says what is wrong (missing or unreadable metadata, an unreadable store)."""
    root = scenario_folder(project, folder, path)
    if not root.is_dir():
        return []
    ids = [s.id for s in project.sensors]
    out: list[ScenarioInfo] = []
    for run in sorted(p for p in root.iterdir() if _is_run(p)):
        info = ScenarioInfo(name=run.name, slug=run.name, folder=run)
        problems: list[str] = []
        try:
            meta = _read_meta(run)
            info.name = str(meta.get("name") or run.name)
            info.kind = meta.get("kind")
            info.description = str(meta.get("description") or "")
            info.created = meta.get("created")
            params = meta.get("parameters")
            info.parameters = params if isinstance(params, dict) else {}
        except FileNotFoundError:
            problems.append(f"no {META_FILE}")
        except (OSError, ValueError) as exc:
            problems.append(f"{META_FILE} unreadable ({exc})")
        if any(run.glob("*.parquet")):
            try:
                store = HistoryStore(run, ids, writer_thread=False)
                try:
                    stats = store.stats()
                finally:
                    store.close()
                info.samples = int(stats["samples"])
                info.time_range = stats["time_range"]
                if stats["skipped_files"]:
                    problems.append(f"{len(stats['skipped_files'])} unreadable file(s) skipped")
            except Exception as exc:  # a broken run is reported, never fatal to the listing
                problems.append(f"store unreadable ({exc})")
        else:
            problems.append("no samples")
        info.problem = "; ".join(problems) or None
        out.append(info)
    return out


def _available(project: Project, folder: Path, path: Path) -> str:
    names = [i.name for i in list_scenarios(project, folder, path)]
    return ", ".join(repr(n) for n in names) or "none"


def open_scenario(
    project: Project, folder: Path, path: Path, name: str, writer: bool = False
) -> HistoryStore:
    """The store of scenario ``name`` (a name or its slug), opened with the project's sensor
    ids, so ``at`` and ``series`` answer in project order like the baseline's. ``writer=True``
    starts the store's writer thread (to append to the run)."""
    run = scenario_folder(project, folder, path, name)
    if not _is_run(run) or not (run / META_FILE).exists():
        root = scenario_folder(project, folder, path)
        raise ScenarioError(
            f"{path}: no scenario {name!r} in {root} "
            f"(available: {_available(project, folder, path)})"
        )
    ids = [s.id for s in project.sensors]
    return HistoryStore(run, ids, writer_thread=writer)


# -- writing -----------------------------------------------------------------------------------


def write_run(
    project: Project,
    folder: Path,
    path: Path,
    name: str,
    batch: SampleBatch,
    *,
    kind: str,
    parameters: Mapping[str, Any] | None = None,
    description: str = "",
    replace: bool = False,
) -> ScenarioInfo:
    """Store ``batch`` (project sensor indices, epoch seconds) as the scenario run ``name``.

    An existing run of that name is an error unless ``replace``; then it is swapped out only
    once the new run is complete."""
    if len(batch) == 0:
        raise ScenarioError(f"scenario {name!r}: no samples to store")

    def fill(store: HistoryStore) -> None:
        store.append(batch, arrival=batch.time)

    return _write(project, folder, path, name, fill, kind, parameters, description, replace)


def import_run(
    project: Project,
    folder: Path,
    path: Path,
    name: str,
    file: Path,
    mapping: ImportMapping | None = None,
    *,
    fmt: str | None = None,
    description: str = "",
    replace: bool = False,
) -> tuple[ScenarioInfo, ImportReport]:
    """A recorded stream from a CSV or Parquet file (any layout ``twinviewer history import``
    reads) as the scenario run ``name``; bad rows are reported and skipped as there."""
    reports: list[ImportReport] = []

    def fill(store: HistoryStore) -> None:
        ids = [s.id for s in project.sensors]
        reports.append(import_history(store, ids, file, mapping, fmt=fmt))
        if not reports[0].imported:
            raise ScenarioError(
                f"{file}: no samples imported ({reports[0].problem_count} problems)"
            )

    params = {"file": str(file), "format": fmt}
    info = _write(project, folder, path, name, fill, "import", params, description, replace)
    return info, reports[0]


def _write(
    project: Project,
    folder: Path,
    path: Path,
    name: str,
    fill: Callable[[HistoryStore], None],
    kind: str,
    parameters: Mapping[str, Any] | None,
    description: str,
    replace: bool,
) -> ScenarioInfo:
    if kind not in KINDS:
        raise ScenarioError(f"scenario kind {kind!r}: expected one of {', '.join(KINDS)}")
    if not project.sensors:
        raise ScenarioError(f"{path}: the project has no sensors")
    run = scenario_folder(project, folder, path, name)
    if run.exists() and not replace:
        raise ScenarioError(
            f"scenario {name!r} already exists ({run}); "
            "choose another name, or replace it (--replace)"
        )
    run.parent.mkdir(parents=True, exist_ok=True)
    tmp = run.with_name(f".{run.name}.tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    ids = [s.id for s in project.sensors]
    try:
        store = HistoryStore(tmp, ids, writer_thread=False)
        try:
            fill(store)
            store.flush()
            stats = store.stats()
        finally:
            store.close()
        info = ScenarioInfo(
            name=name,
            slug=run.name,
            folder=run,
            kind=kind,
            description=description,
            created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            parameters=dict(parameters or {}),
            samples=int(stats["samples"]),
            time_range=stats["time_range"],
        )
        meta = info.as_dict()
        del meta["folder"], meta["problem"]
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2, default=str) + "\n")
        old = run.with_name(f".{run.name}.old")
        if run.exists():
            if old.exists():
                shutil.rmtree(old)
            run.rename(old)
        tmp.rename(run)
        if old.exists():
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("scenario %r: %d samples in %s", name, info.samples, run)
    return info


# -- simulator parameters ----------------------------------------------------------------------


def parse_assignments(items: Sequence[str]) -> dict[str, Any]:
    """``["seed=5", "faults=[]"]`` -> ``{"seed": 5, "faults": []}``; values are YAML scalars
    or flow collections, as in the project file."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ScenarioError(f"--set {item!r}: expected KEY=VALUE, e.g. seed=5")
        try:
            out[key] = yaml.safe_load(text) if text.strip() else ""
        except yaml.YAMLError as exc:
            raise ScenarioError(f"--set {key}: cannot read {text!r} ({exc})") from None
    return out


def simulator_config(
    project: Project, updates: Mapping[str, Any] | None = None, without_faults: bool = False
) -> SimulatorSource:
    """A copy of the project's first simulator source (the defaults when it has none) with
    ``updates`` applied and validated by the project's own model: an unknown key or a bad value
    is a :class:`ScenarioError` naming the key."""
    base = next((s for s in project.sources if isinstance(s, SimulatorSource)), None)
    if base is None:
        base = SimulatorSource(type="simulator")
    updates = dict(updates or {})
    for key in updates:
        if key not in SIM_PARAMETERS:
            raise ScenarioError(
                f"--set {key}: not a simulator parameter (expected one of "
                f"{', '.join(SIM_PARAMETERS)})"
            )
    data = base.model_dump()
    data.update(updates)
    if without_faults:
        data["faults"] = []
    try:
        cfg = SimulatorSource.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "?"
        raise ScenarioError(f"--set {where}: {err['msg']} (got {err.get('input')!r})") from None
    known = {s.id for s in project.sensors}
    for f in cfg.faults:
        if f.sensor not in known:
            raise ScenarioError(f"--set faults: no sensor {f.sensor!r} in the project")
    return cfg


# -- comparing ---------------------------------------------------------------------------------


@dataclass
class ComparisonRow:
    """One sensor, baseline against scenario at one instant. ``relative`` is the difference over
    the sensor's range span (over ``|baseline|`` when no span is known); NaN when either value
    is missing."""

    sensor: str
    baseline: float
    scenario: float
    difference: float
    relative: float
    unit: str = ""
    baseline_time: float = math.nan
    scenario_time: float = math.nan

    def as_dict(self) -> dict[str, Any]:
        return {
            k: (None if isinstance(v, float) and math.isnan(v) else v)
            for k, v in asdict(self).items()
        }


def difference_at(baseline: StateAt, scenario: StateAt, t: float) -> tuple[F64, F64, F64]:
    """``(baseline values, scenario values, scenario - baseline)`` of every project sensor at
    ``t`` (latest sample at or before), in project order; NaN where either has no sample.
    Both stores must have been opened with the project's sensor ids."""
    base, _ = baseline.at(t)
    scen, _ = scenario.at(t)
    return base, scen, scen - base


def relative_difference(diff: F64, base: F64, spans: F64 | None = None) -> F64:
    """``diff`` over the span (where given and > 0), else over ``|base|``; NaN-safe: 0 where
    the difference is 0, NaN where it cannot be scaled."""
    diff = np.asarray(diff, np.float64)
    scale = np.abs(np.asarray(base, np.float64))
    if spans is not None:
        sp = np.asarray(spans, np.float64)
        scale = np.where(np.isfinite(sp) & (sp > 0), sp, scale)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(scale > 0, diff / scale, np.nan)
    rel[diff == 0] = 0.0
    return rel


def compare(
    baseline: StateAt,
    scenario: StateAt,
    sensor_ids: Sequence[str],
    t: float,
    *,
    units: Sequence[str] | None = None,
    spans: Sequence[float] | None = None,
) -> list[ComparisonRow]:
    """Baseline against scenario at ``t``, one row per project sensor, sorted by
    ``|relative|``, biggest first (sensors missing on either side last, in project order)."""
    base, bt = baseline.at(t)
    scen, st = scenario.at(t)
    diff = scen - base
    rel = relative_difference(diff, base, None if spans is None else np.asarray(spans, float))
    rows = [
        ComparisonRow(
            sensor=sid,
            baseline=float(base[i]),
            scenario=float(scen[i]),
            difference=float(diff[i]),
            relative=float(rel[i]),
            unit=units[i] if units is not None else "",
            baseline_time=float(bt[i]),
            scenario_time=float(st[i]),
        )
        for i, sid in enumerate(sensor_ids)
    ]
    key = np.where(np.isnan(rel), -1.0, np.abs(rel))
    order = np.argsort(-key, kind="stable")
    return [rows[i] for i in order]
