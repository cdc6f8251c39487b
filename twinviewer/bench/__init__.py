"""``twinviewer bench``: each figure printed beside its target and a baseline from the same run.

Benchmarks are measurements, not tests: they never fail, and CI does not run them. Each lives in
a submodule (heavy dependencies such as pyvista, paho or PostgreSQL are imported when it runs):

* ``load``, ``recolour``: :mod:`twinviewer.bench.render`, a 10,000-component model;
* ``mqtt``: :mod:`twinviewer.bench.mqtt`, the MQTT source through a real mosquitto;
* ``history``: :mod:`twinviewer.bench.history`, the history stores against plain SQL;
* ``sim``: :mod:`twinviewer.bench.sim`, a simulation field mapped onto the twin;
* ``field``: :mod:`twinviewer.bench.field`, the mine's methane field along the airways;
* ``motion``: :mod:`twinviewer.bench.motion`, the mine's moving skips and loader per frame;
* ``reliability``: :mod:`twinviewer.bench.reliability`, the mine demo through mosquitto across
  a graceful restart, a ``kill -9`` and a network cut: samples missing beside the gaps reported;
* ``predict``: :mod:`twinviewer.bench.predict`, training and scoring 10,000 sensors;
* ``review``: :mod:`twinviewer.bench.review`, clearances of 50k-triangle parts and the review
  report of the mine demo as HTML and PDF;
* ``video``: :mod:`twinviewer.bench.video`, seconds of export per minute of 1080p tour video
  beside drawing its frames alone;
* ``fleet``: :mod:`twinviewer.bench.fleet`, 1,000 units x 40 sensors through mosquitto into the
  history, the fleet's roll-up, ``at(t)`` over 40,000 sensors and the 3D overview of 100 units.

:class:`~twinviewer.bench.figures.Figure` and the timing helpers are in
:mod:`twinviewer.bench.figures`; the submodules import them from there.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from twinviewer.bench.figures import Figure
from twinviewer.bench.render import bench_load, bench_recolour, write_bench_glb

__all__ = ["BENCHMARKS", "Figure", "run_benchmarks", "write_bench_glb"]


def _mqtt(quick: bool) -> list[Figure]:
    from twinviewer.bench.mqtt import bench_mqtt

    return bench_mqtt(quick)


def _history(quick: bool, backend: str = "all", samples: int | None = None) -> list[Figure]:
    from twinviewer.bench.history import bench_history

    return bench_history(quick, backend=backend, samples=samples)


def _sim(quick: bool) -> list[Figure]:
    from twinviewer.bench.sim import bench_sim

    return bench_sim(quick)


def _field(quick: bool) -> list[Figure]:
    from twinviewer.bench.field import bench_field

    return bench_field(quick)


def _motion(quick: bool) -> list[Figure]:
    from twinviewer.bench.motion import bench_motion

    return bench_motion(quick)


def _reliability(quick: bool) -> list[Figure]:
    from twinviewer.bench.reliability import bench_reliability

    return bench_reliability(quick)


def _video(quick: bool) -> list[Figure]:
    from twinviewer.bench.video import bench_video

    return bench_video(quick)


def _predict(quick: bool) -> list[Figure]:
    from twinviewer.bench.predict import bench_predict

    return bench_predict(quick)


def _review(quick: bool) -> list[Figure]:
    from twinviewer.bench.review import bench_review

    return bench_review(quick)


def _fleet(quick: bool) -> list[Figure]:
    from twinviewer.bench.fleet import bench_fleet

    return bench_fleet(quick)


# in the order they run by default; mqtt, history and sim import their module when they run
BENCHMARKS: dict[str, Callable[[bool], list[Figure]]] = {
    "load": bench_load,
    "recolour": bench_recolour,
    "mqtt": _mqtt,
    "history": _history,
    "sim": _sim,
    "field": _field,
    "motion": _motion,
    "reliability": _reliability,
    "predict": _predict,
    "review": _review,
    "video": _video,
    "fleet": _fleet,
}


def run_benchmarks(
    names: list[str],
    as_json: bool = False,
    quick: bool = False,
    history: dict[str, Any] | None = None,
) -> int:
    """Run ``names`` (all when empty), one line per figure. Exit 2: an unknown name.
    ``history``: the history benchmark's options (``backend``, ``samples``)."""
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        sys.stderr.write(f"unknown benchmark {unknown[0]!r}; expected {', '.join(BENCHMARKS)}\n")
        return 2
    for name in names or list(BENCHMARKS):
        run = BENCHMARKS[name]
        figs = _history(quick, **history) if name == "history" and history else run(quick)
        for fig in figs:
            text = json.dumps(asdict(fig)) if as_json else fig.line()
            sys.stdout.write(text + "\n")
            sys.stdout.flush()
    return 0
