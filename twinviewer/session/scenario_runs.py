"""Producing what-if scenario runs: the simulator with changed parameters, or an overlay's values.

The runs themselves (folders, ``scenario.json``, opening, comparing) are
:mod:`twinviewer.history.scenarios`; this module makes the samples, which needs the simulator
(``sources``), the session and the simulation overlays, so it sits above them.

* :func:`record_simulated` runs :func:`~twinviewer.sources.simulator.simulate` headless (no
  wall-clock wait) with a copy of the project's simulator configuration, changed by ``updates``
  and validated by the project model, and shifts simulated second 0 to ``start`` (epoch s).
* :func:`record_from_overlay` takes a simulation overlay's value at each of its compared
  sensors at every result step, stamped with the step's twin time: a "simulated result series"
  scenario, compared with the baseline like any other run.
* :func:`baseline_start` is the default ``start``: the first sample of the project's history,
  so a scenario lines up with what was recorded.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from twinviewer.core.project import Project
from twinviewer.core.samples import SampleBatch
from twinviewer.history.scenarios import (
    ScenarioError,
    ScenarioInfo,
    simulator_config,
    write_run,
)
from twinviewer.session import TwinSession, open_history
from twinviewer.sources.simulator import simulate

log = logging.getLogger(__name__)


def baseline_start(project: Project, folder: Path, path: Path) -> float | None:
    """The time of the first sample in the project's history; None when it holds none."""
    store = open_history(project, folder, path, writer=False)
    if store is None:
        return None
    try:
        held = store.time_range()
    finally:
        store.close()
    return None if held is None else held[0]


def record_simulated(
    project: Project,
    folder: Path,
    path: Path,
    name: str,
    start: float,
    duration: float,
    updates: Mapping[str, Any] | None = None,
    without_faults: bool = False,
    description: str = "",
    *,
    replace: bool = False,
) -> ScenarioInfo:
    """Simulate ``duration`` simulated seconds with the changed configuration and store them as
    scenario ``name``, stamped as the live feed would: simulated second ``s`` at
    ``start + s / speed``; ``rate * duration`` samples per sensor (when ``duration`` is a whole
    number of periods)."""
    if not project.sensors:
        raise ScenarioError(f"{path}: the project has no sensors to simulate")
    if not (duration > 0 and np.isfinite(duration)):
        raise ScenarioError(f"--duration {duration}: must be a positive number of seconds")
    if not np.isfinite(start):
        raise ScenarioError(f"--start {start}: not a time")
    cfg = simulator_config(project, updates, without_faults)
    t0 = time.perf_counter()
    batch = simulate(project, cfg, duration)
    keep = batch.time < duration - 1e-9  # [start, start + duration): consecutive runs tile
    # stamped like the live feed: simulated seconds run ``speed`` times faster than the clock
    stamps = batch.time[keep] / cfg.speed + float(start)
    shifted = SampleBatch(batch.sensor[keep], stamps, batch.value[keep])
    log.info(
        "scenario %r: simulated %d samples in %.2f s", name, len(batch), time.perf_counter() - t0
    )
    parameters = {
        "simulator": cfg.model_dump(mode="json"),
        "updates": dict(updates or {}),
        "without_faults": without_faults,
        "start": float(start),
        "duration": float(duration),
    }
    return write_run(
        project,
        folder,
        path,
        name,
        shifted,
        kind="simulator",
        parameters=parameters,
        description=description,
        replace=replace,
    )


def overlay_batch(session: TwinSession, overlay_name: str, origin: float) -> SampleBatch:
    """The overlay's simulated value at each compared sensor at every step, stamped with the
    step's twin time (``origin``: the twin time of a ``session``-origin clock's zero)."""
    ov = session.overlay(overlay_name, session_start=origin)
    sensors, times, values = [], [], []
    for k in ov.sensors:
        t, v = ov.sensor_series(k)
        ok = np.isfinite(t) & np.isfinite(v)
        sensors.append(np.full(int(ok.sum()), k, np.int32))
        times.append(t[ok])
        values.append(v[ok])
    if not sensors or not sum(len(t) for t in times):
        raise ScenarioError(
            f"{session.path}: overlay {overlay_name!r} reaches no sensor of the project "
            "(nothing to record)"
        )
    t_all = np.concatenate(times)
    order = np.argsort(t_all, kind="stable")
    return SampleBatch(np.concatenate(sensors)[order], t_all[order], np.concatenate(values)[order])


def record_from_overlay(
    session: TwinSession | str | Path,
    name: str,
    overlay_name: str,
    origin: float,
    description: str = "",
    *,
    replace: bool = False,
) -> ScenarioInfo:
    """Store an overlay's values at its compared sensors (every step) as scenario ``name``.
    ``session`` is an open :class:`TwinSession` or a project path (opened and read here)."""
    own = not isinstance(session, TwinSession)
    sess = TwinSession.open(session) if not isinstance(session, TwinSession) else session
    try:
        batch = overlay_batch(sess, overlay_name, origin)
        cfg = next(o for o in sess.project.overlays if o.name == overlay_name)
        parameters = {
            "overlay": overlay_name,
            "result": cfg.result,
            "field": cfg.field,
            "origin": float(origin),
            "sensors": sorted({sess.project.sensors[int(k)].id for k in np.unique(batch.sensor)}),
        }
        return write_run(
            sess.project,
            sess.folder,
            sess.path,
            name,
            batch,
            kind="overlay",
            parameters=parameters,
            description=description,
            replace=replace,
        )
    finally:
        if own:
            sess.close()
