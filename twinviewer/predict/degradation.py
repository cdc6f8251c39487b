"""Remaining useful life of a twin's component, learnt from the failures in its history.

A project's ``degradation:`` entry names a group (a component or a prediction group), the
sensors that show its wear, and the times its failures happened. Each stretch of history that
ends in a failure (from the previous failure, or from the start of the history) is a *run*
resampled on the scoring grid, and :class:`~twinviewer.predict.rul.RulModel` learns the time
left before failure from them, in seconds, capped at the entry's ``cap``. At a moment ``t`` the
current run is the history since the last failure before ``t``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from twinviewer.core.alarms import SampleReader
from twinviewer.core.project import Degradation, Project
from twinviewer.predict.rul import RulModel, Run
from twinviewer.predict.train import sensor_groups, training_matrix

MAX_ROWS = 20_000  # rows of the current run read for a prediction (its most recent)


@dataclass
class RulEntry:
    """A trained remaining-useful-life model of one group."""

    group: str
    name: str  # file stem in the models folder
    sensors: list[str]
    failures: list[float]
    model: RulModel


def failure_times(d: Degradation) -> list[float]:
    out = []
    for k, text in enumerate(d.failures):
        try:
            when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"degradation of {d.group!r}: failures[{k}] {text!r} is not an ISO 8601 time"
            ) from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        out.append(when.timestamp())
    return sorted(out)


def degradation_sensors(project: Project, d: Degradation) -> list[str]:
    if d.sensors:
        return list(d.sensors)
    for gid, ids in sensor_groups(project):
        if gid == d.group:
            return ids
    raise ValueError(
        f"degradation names group {d.group!r}, which is neither a prediction group nor a "
        "component with sensors; name its sensors"
    )


def _run(store: SampleReader, sensors: Sequence[str], t0: float, t1: float, step: float) -> Run:
    grid, X = training_matrix(store, sensors, t0, t1, step)
    have = np.isfinite(X).any(axis=1)
    return Run(grid[have], X[have])


def train_rul(project: Project, store: SampleReader, step: float, seed: int = 0) -> list[RulEntry]:
    """One model per ``degradation:`` entry, from the runs its failures end."""
    held = store.time_range()
    if held is None:
        return []
    entries = []
    for k, d in enumerate(project.degradation):
        sensors = degradation_sensors(project, d)
        fails = [f for f in failure_times(d) if held[0] < f <= held[1] + step]
        if not fails:
            raise ValueError(
                f"degradation of {d.group!r}: none of its failures lies in the history "
                f"({_iso(held[0])} to {_iso(held[1])})"
            )
        runs = []
        start = held[0]
        for f in fails:
            run = _run(store, sensors, start, f, step)
            if len(run.time) >= 2:
                runs.append(Run(run.time, run.X, failure=f))
            start = f
        if not runs:
            raise ValueError(f"degradation of {d.group!r}: its runs hold no samples")
        window = max(5, min(60, int(round(0.05 * np.median([len(r.time) for r in runs])))))
        model = RulModel(window=window, cap=d.cap, seed=seed).fit(runs, sensors)
        entries.append(RulEntry(d.group, f"rul-{k}", sensors, fails, model))
    return entries


def remaining_life(
    entry: RulEntry, store: SampleReader, t: float, step: float
) -> tuple[float, float, float] | None:
    """Estimate, lower and upper remaining life (seconds) at ``t``; None without data."""
    last = max([f for f in entry.failures if f < t], default=-math.inf)
    held = store.time_range()
    if held is None:
        return None
    t0 = max(last, held[0] - step, t - MAX_ROWS * step)
    run = _run(store, entry.sensors, t0, t, step)
    if len(run.time) == 0:
        return None
    return entry.model.predict_last(run)


def save_rul(entries: Sequence[RulEntry], folder: Path) -> list[dict[str, object]]:
    """Write the models; the index entries for ``models.json``."""
    out: list[dict[str, object]] = []
    for e in entries:
        e.model.save(folder, e.name)
        out.append({"group": e.group, "name": e.name, "sensors": e.sensors, "failures": e.failures})
    return out


def load_rul(index: list[dict[str, object]], folder: Path) -> list[RulEntry]:
    out = []
    for k, row in enumerate(index):
        try:
            name = str(row["name"])
            group = str(row["group"])
            sensors = [str(s) for s in row["sensors"]]  # type: ignore[attr-defined]
            fails = [float(f) for f in row["failures"]]  # type: ignore[attr-defined]
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{folder}/models.json: rul[{k}] is malformed ({exc})") from None
        if "/" in name or "\\" in name or name.startswith("."):
            raise ValueError(f"{folder}/models.json: rul[{k}].name {name!r} is not a file stem")
        out.append(RulEntry(group, name, sensors, fails, RulModel.load(folder, name)))
    return out


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="seconds")
