"""``twinviewer bench fleet``: a fleet of 1,000 units, and the 3D overview of 100.

* ``fleet_mqtt_ingest``: 1,000 units x 40 sensors, one JSON message per unit per second
  (``fleet/<unit>/state``, the 40 values and the time, format ``json_object``-like columns) for
  :data:`INGEST_SECONDS` seconds of data published through a real mosquitto, decoded by the fleet
  session's MQTT source (``{unit}`` in the topic) and written into its history store; samples/s
  end to end (publish start to the last sample in the store) and samples lost. Baseline: the
  same number of samples as one unit at 1,000 Hz (the same 40 sensors, 1,000 messages/s).
* ``fleet_refresh``: the fleet's NE 107 roll-up (``FleetState.update`` + ``health()`` +
  ``rows()``) and the fleet table's model update for 1,000 units. Target < 50 ms (issue 15).
  Baseline: one unit.
* ``fleet_at_p95``: the value of every sensor of the fleet (40,000) at a random past time from
  the history store, p95. Target < 20 ms. Baseline: one unit's 40 sensors.
* ``fleet_overview_move``: a camera-move frame of the 3D overview of 100 units of a 50k-triangle
  model (one instanced mapper, the coarse stand-in); target <= 2x one unit's frame. Baseline:
  one unit's camera-move frame in the twin's own scene. ``fleet_overview_rest`` is the frame
  once the camera rests (the finer stand-in), beside the full-resolution instanced frame.

All off screen, software OpenGL (llvmpipe) at 1280x800, as ``bench load``.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson

from twinviewer.bench.figures import Figure, median_ms

if TYPE_CHECKING:
    import pyvista as pv

    from twinviewer.core.model import ModelData

log = logging.getLogger(__name__)

__all__ = ["bench_fleet", "bench_overview", "fleet_model"]

WINDOW = (1280, 800)
OVERVIEW_UNITS = 100
MODEL_TRIANGLES = 50_000
MOVE_TARGET = "<= 2x one unit's frame"


# -- the 3D overview ---------------------------------------------------------------------------


def fleet_model(triangles: int = MODEL_TRIANGLES) -> ModelData:
    """A ``ModelData`` of about ``triangles`` triangles: 50 rounded parts (tessellated
    ellipsoids, as CAD exports them) packed into a 10 x 5 block twice as long as it is wide,
    like a vehicle's equipment."""
    import pyvista as pv

    from twinviewer.core.model import Component, ModelData

    parts = 50
    res = max(4, int(round(np.sqrt(triangles / parts / 2))) + 2)
    ball = pv.Sphere(radius=0.5, theta_resolution=res, phi_resolution=res).triangulate()
    verts = np.asarray(ball.points, np.float64)
    faces = np.asarray(ball.faces).reshape(-1, 4)[:, 1:]
    points, tris, comp = [], [], []
    for k in range(parts):
        height = 1.0 + 0.6 * ((k * 7) % 5) / 4
        offset = np.array([k % 10, k // 10, height / 2])
        points.append(verts * [0.95, 0.95, height] + offset)
        tris.append(faces + k * len(verts))
        comp.append(np.full(len(faces), k, np.int32))
    return ModelData(
        source="bench fleet model",
        components=[
            Component(id=f"part_{k:02d}", name=f"part_{k:02d}", parent=-1) for k in range(parts)
        ],
        points=np.vstack(points).astype(np.float32),
        triangles=np.vstack(tris).astype(np.int32),
        cell_component=np.concatenate(comp),
    )


def _move_frames(plotter: pv.Plotter, frames: int) -> float:
    """Median ms of ``frames`` renders, the camera turned 2 degrees before each (a drag)."""
    plotter.ren_win.Render()  # first frame: uploads, not timed
    cam = plotter.renderer.GetActiveCamera()
    times = []
    for _ in range(frames):
        cam.Azimuth(2.0)
        plotter.renderer.ResetCameraClippingRange()
        t0 = time.perf_counter()
        plotter.ren_win.Render()
        times.append((time.perf_counter() - t0) * 1000)
    return float(np.median(times))


def bench_overview(quick: bool) -> list[Figure]:
    """The overview's camera-move and rest frames beside one unit's frame."""
    import pyvista as pv

    from twinviewer.core.fleet_layout import layout_grid
    from twinviewer.render.fleet_overview import FleetOverview, health_colours
    from twinviewer.render.scene import TwinScene, configure_for_software_rendering

    configure_for_software_rendering()
    frames = 5 if quick else 20
    model = fleet_model()
    one = pv.Plotter(off_screen=True, window_size=list(WINDOW))
    try:
        scene = TwinScene(one)
        scene.show_model(model)
        scene.standard_view("iso")
        scene.begin_interaction()
        one_ms = _move_frames(one, frames)
    finally:
        one.close()

    n = OVERVIEW_UNITS
    placement = layout_grid(model.bounds(), n)
    plotter = pv.Plotter(off_screen=True, window_size=list(WINDOW))
    try:
        overview = FleetOverview(plotter.renderer)
        t0 = time.perf_counter()
        overview.show(
            model, placement.transforms, [f"unit-{i:03d}" for i in range(n)], placement.anchors
        )
        build_s = time.perf_counter() - t0
        overview.set_colours(health_colours(np.arange(n) % 5))
        overview.fit()
        rest_per_unit = overview.triangles_per_unit
        rest_ms = _move_frames(plotter, max(3, frames // 4))
        overview.begin_interaction()
        move_per_unit = overview.triangles_per_unit
        move_ms = _move_frames(plotter, frames)
        overview.end_interaction()
        full_ms = float("nan")
        if not quick:  # every instance at full resolution: what the stand-ins save
            overview._mapper.SetSourceData(overview._full)
            full_ms = _move_frames(plotter, 3)
            overview._mapper.SetSourceData(overview._rest)
    finally:
        plotter.close()
    tris = model.n_triangles
    move_note = (
        f"{n} units of {tris:,} triangles as one instanced mapper; {move_per_unit:,} triangles "
        f"per unit while moving ({n * move_per_unit / 1e6:.2f}M in all); stand-ins made in "
        f"{build_s:.2f} s"
    )
    rest_note = f"{rest_per_unit:,} triangles per unit ({n * rest_per_unit / 1e6:.2f}M in all)" + (
        f"; full resolution ({n * tris / 1e6:.1f}M) {full_ms:.0f} ms" if not quick else ""
    )
    return [
        Figure(
            "fleet_overview_move",
            move_ms,
            "ms",
            MOVE_TARGET,
            one_ms,
            f"one unit ({tris:,} triangles)",
            move_note,
        ),
        Figure(
            "fleet_overview_rest",
            rest_ms,
            "ms",
            "interactive (< 250 ms)",
            one_ms,
            "one unit",
            rest_note,
        ),
    ]


# -- a fleet twin on disk ----------------------------------------------------------------------

N_UNITS = 1000
N_TEMPLATES = 40


def _write_twin(folder: Path, units: int, templates: int, fleet: bool, port: int) -> Path:
    """A twin of ``units`` units (``fleet: false``: one plain unit) of ``templates`` sensors on
    one box, fed by MQTT: ``bench/{unit}/state`` carries a unit's sensors as one columnar
    ``json_batch`` message (the plain twin: ``bench/one/state``)."""
    (folder / "box.stl").write_text(
        "solid body\nfacet normal 0 0 1\n outer loop\n  vertex 0 0 0\n  vertex 1 0 0\n"
        "  vertex 0 1 0\n endloop\nendfacet\nendsolid body\n"
    )
    lines = ["twinviewer: 1", "name: Bench fleet", "models: [box.stl]"]
    if fleet:
        lines += ["fleet:", "  label: Unit", "  units:"]
        lines += [f"  - u{u:04d}" for u in range(units)]
    lines.append("sensors:")
    for k in range(templates):
        lines.append(
            f"- {{id: s{k:02d}, quantity: temperature, unit: degC, component: body, "
            "range: [0, 100], warning: {high: 70}, alarm: {high: 90}, stale_after: 3600}"
        )
    topic = "bench/{unit}/state" if fleet else "bench/one/state"
    lines += [
        "sources:",
        f"- {{type: mqtt, url: 'mqtt://127.0.0.1:{port}', topic: '{topic}', "
        "format: json_batch, qos: 0}",
    ]
    path = folder / ("fleet.twin.yaml" if fleet else "one.twin.yaml")
    path.write_text("\n".join(lines) + "\n")
    return path


def _packets(topics: list[bytes], seconds: int, templates: int, per_second: int) -> bytes:
    """``seconds`` of data: each second one columnar message per topic (``per_second`` messages
    a second spread over the topics in turn), every template's value, one time per message."""
    from twinviewer.bench.mqtt import _publish_packet

    rng = np.random.default_rng(0)
    names = [f"s{k:02d}" for k in range(templates)]
    head = orjson.dumps({"sensor": names})[:-1]  # the same sensor column in every message
    t0 = time.time() - seconds - 5
    out = bytearray()
    for k in range(seconds):
        for m in range(per_second):
            topic = topics[m % len(topics)]
            ts = t0 + k + m / per_second
            values = np.round(rng.uniform(20, 60, templates), 2).tolist()
            payload = head + b',"ts":%.6f,"value":' % ts + orjson.dumps(values) + b"}"
            out += _publish_packet(topic, payload)
    return bytes(out)


def _ingest(path: Path, port: int, data: bytes, expected: int) -> tuple[float, int, int, float]:
    """Open the twin, start its MQTT source and history, publish ``data`` in one go; drain
    every 10 ms (as the window's frame does) until every sample is in or nothing moves for a
    second, then flush the history. (samples/s from publishing to the flushed store, samples
    in the store, samples the source rejected, seconds the twin took to open)."""
    from twinviewer.bench.mqtt import _RawPublisher, _wait_quiet
    from twinviewer.session import TwinSession
    from twinviewer.sources.base import SourceState

    t_open = time.perf_counter()
    session = TwinSession.open(path)
    opened = time.perf_counter() - t_open
    try:
        store = session.open_history()
        assert store is not None
        session.sources = session.create_sources()
        session.start_sources()
        feed = session.sources[0]
        deadline = time.monotonic() + 10
        while feed.status.state != SourceState.LIVE and time.monotonic() < deadline:
            time.sleep(0.01)
        taken = [0]
        stop = threading.Event()

        def frames() -> None:
            while not stop.is_set():
                taken[0] += session.drain()
                time.sleep(0.01)

        pub = _RawPublisher(port)
        t0 = time.perf_counter()
        drainer = threading.Thread(target=frames)
        drainer.start()
        pub.send(data)
        _wait_quiet(lambda: taken[0], expected, 120.0)
        stop.set()
        drainer.join()
        taken[0] += session.drain()
        store.flush()
        elapsed = time.perf_counter() - t0
        pub.close()
        in_store = int(store.stats()["samples"])
        rejected = feed.status.rejected_total
        return in_store / elapsed, in_store, rejected, opened
    finally:
        session.stop_sources()
        session.close()


def _ingest_figure(quick: bool) -> Figure:
    from twinviewer.bench.mqtt import _broker, _mosquitto

    name, unit, target = "fleet_mqtt_ingest", "samples/s", ">= 40k samples/s (real time), 0 lost"
    if _mosquitto() is None:
        return Figure(name, float("nan"), unit, target, note="mosquitto is not installed")
    seconds = 3 if quick else 20
    expected = seconds * N_UNITS * N_TEMPLATES
    with _broker() as port, tempfile.TemporaryDirectory(prefix="twinviewer-fleet-") as tmp:
        folder = Path(tmp)
        fleet = _write_twin(folder, N_UNITS, N_TEMPLATES, True, port)
        topics = [f"bench/u{u:04d}/state".encode() for u in range(N_UNITS)]
        rate, got, rejected, opened = _ingest(
            fleet, port, _packets(topics, seconds, N_TEMPLATES, N_UNITS), expected
        )
        one = _write_twin(folder, 1, N_TEMPLATES, False, port)
        base, base_got, _, _ = _ingest(
            one, port, _packets([b"bench/one/state"], seconds, N_TEMPLATES, N_UNITS), expected
        )
    return Figure(
        name,
        rate,
        unit,
        target,
        base,
        f"one unit at 1,000 Hz, same {expected:,} samples",
        f"{seconds} s of 1,000 units x {N_TEMPLATES} sensors at 1 Hz ({expected:,} samples, one "
        f"message per unit per second) published in one burst; {expected - got:,} lost "
        f"({rejected:,} rejected); baseline lost {expected - base_got:,}; the fleet twin "
        f"opened in {opened:.1f} s",
    )


# -- fleet refresh and at(t) -------------------------------------------------------------------


def _refresh_ms(path: Path, repeat: int) -> tuple[float, float, int]:
    """(median ms of the fleet's roll-up and table rows, median ms of the frame's colours
    around it, units). Every sensor gets a value first, some in warning and alarm."""
    from twinviewer.core.samples import SampleBatch
    from twinviewer.session import TwinSession

    session = TwinSession.open(path)
    try:
        n = len(session.sensors)
        rng = np.random.default_rng(1)
        values = rng.uniform(20, 60, n)
        values[rng.choice(n, max(1, n // 50), replace=False)] = 80.0  # warnings
        values[rng.choice(n, max(1, n // 200), replace=False)] = 95.0  # alarms
        now = time.time()
        session.state.apply(SampleBatch.of(np.arange(n), np.full(n, now), values))
        session.update(now)
        fleet = session.fleet

        def roll_up() -> None:
            if fleet is not None:
                fleet.update(session, now)
                fleet.health()
                fleet.rows()

        roll = median_ms(roll_up, repeat)
        frame = median_ms(lambda: session.update(now), repeat)
        return roll, frame, len(fleet.units) if fleet is not None else 1
    finally:
        session.close()


def _refresh_figure(quick: bool) -> Figure:
    with tempfile.TemporaryDirectory(prefix="twinviewer-fleet-") as tmp:
        folder = Path(tmp)
        repeat = 5 if quick else 21
        roll, frame, units = _refresh_ms(
            _write_twin(folder, N_UNITS, N_TEMPLATES, True, 1883), repeat
        )
        (folder / "one").mkdir()
        base, _, _ = _refresh_ms(_write_twin(folder / "one", 1, N_TEMPLATES, True, 1883), repeat)
    return Figure(
        "fleet_refresh",
        roll,
        "ms",
        "< 50 ms",
        base,
        "one unit",
        f"{units:,} units x {N_TEMPLATES} sensors: NE 107 roll-up (FleetState.update) + health() "
        f"+ rows(); the frame's colours with it (TwinSession.update) {frame:.1f} ms. The dock's "
        "Qt model update is not in it (benchmarks import no Qt): FleetFeature.refresh_ms has it",
    )


def _history(folder: Path, ids: list[str], seconds: int) -> Any:
    """A history store of ``ids`` at 1 Hz for ``seconds`` seconds (written directly)."""
    from twinviewer.core.samples import SampleBatch
    from twinviewer.history.store import HistoryStore

    store = HistoryStore.open(folder, ids, flush_interval=3600.0)
    rng = np.random.default_rng(2)
    n = len(ids)
    t0 = time.time() - seconds
    index = np.arange(n)
    for k in range(seconds):
        store.append(SampleBatch.of(index, np.full(n, t0 + k), rng.uniform(20, 60, n)))
        if (k + 1) % 60 == 0:
            store.flush()
    store.flush()
    return store


def _at_p95(store: Any, seconds: int, n: int) -> float:
    lo, hi = store.time_range()
    rng = np.random.default_rng(3)
    times = []
    for t in rng.uniform(lo, hi, n):
        t0 = time.perf_counter()
        store.at(float(t))
        times.append((time.perf_counter() - t0) * 1000)
    return float(np.percentile(times, 95))


def _at_figure(quick: bool) -> Figure:
    seconds = 120 if quick else 900
    queries = 50 if quick else 300
    ids = [f"u{u:04d}/s{k:02d}" for u in range(N_UNITS) for k in range(N_TEMPLATES)]
    with tempfile.TemporaryDirectory(prefix="twinviewer-fleet-") as tmp:
        t0 = time.perf_counter()
        store = _history(Path(tmp) / "fleet", ids, seconds)
        written = time.perf_counter() - t0
        try:
            p95 = _at_p95(store, seconds, queries)
            samples = int(store.stats()["samples"])
        finally:
            store.close()
        one = _history(Path(tmp) / "one", ids[:N_TEMPLATES], seconds)
        try:
            base = _at_p95(one, seconds, queries)
        finally:
            one.close()
    return Figure(
        "fleet_at_p95",
        p95,
        "ms",
        "< 20 ms",
        base,
        f"one unit's {N_TEMPLATES} sensors",
        f"{len(ids):,} sensors, {seconds // 60} min at 1 Hz ({samples / 1e6:.0f}M samples, written "
        f"in {written:.0f} s); {queries} random times",
    )


def bench_fleet(quick: bool) -> list[Figure]:
    """Every fleet figure (see the module)."""
    return [
        _ingest_figure(quick),
        _refresh_figure(quick),
        _at_figure(quick),
        *bench_overview(quick),
    ]
