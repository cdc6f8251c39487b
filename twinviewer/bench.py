"""``twinviewer bench``: each figure printed beside its target and a baseline from the same run.

Benchmarks are measurements, not tests: they never fail, and CI does not run them.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import resource
import struct
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    target: str
    baseline: float | None = None
    baseline_name: str = ""
    note: str = ""

    def line(self) -> str:
        base = (
            f"  baseline {self.baseline:.4g} {self.unit} ({self.baseline_name})"
            if (self.baseline is not None)
            else ""
        )
        note = f"  [{self.note}]" if self.note else ""
        return (
            f"{self.name:<28} {self.value:>10.4g} {self.unit:<4} target {self.target}{base}{note}"
        )


# -- the benchmark model: a 1M-triangle GLB with 10,000 named components ------------------------


def _cylinder(segments: int = 25) -> tuple[np.ndarray, np.ndarray]:
    """A closed cylinder of exactly 4 * segments triangles."""
    a = np.linspace(0, 2 * np.pi, segments, endpoint=False)
    ring = np.stack([np.cos(a) * 0.4, np.sin(a) * 0.4], axis=1)
    bottom = np.column_stack([ring, np.zeros(segments)])
    top = np.column_stack([ring, np.full(segments, 0.8)])
    verts = np.vstack([bottom, top, [[0, 0, 0]], [[0, 0, 0.8]]]).astype(np.float32)
    i = np.arange(segments)
    j = (i + 1) % segments
    cb, ct = 2 * segments, 2 * segments + 1
    faces = np.concatenate(
        [
            np.stack([i, j, segments + j], 1),
            np.stack([i, segments + j, segments + i], 1),
            np.stack([np.full(segments, cb), j, i], 1),
            np.stack([np.full(segments, ct), segments + i, segments + j], 1),
        ]
    ).astype(np.uint32)
    return verts, faces


def write_bench_glb(path: Path, n_components: int = 10_000, segments: int = 25) -> Path:
    """A GLB of ``n_components`` nodes (``part_00000``...), each its own mesh, on a grid."""
    verts, faces = _cylinder(segments)
    side = int(np.ceil(np.sqrt(n_components)))
    blob = bytearray()
    buffer_views, accessors, meshes, nodes = [], [], [], []
    for k in range(n_components):
        offset = np.array([k % side, k // side, 0], np.float32)
        v = verts + offset
        for data, target, comp, typ, count in (
            (v.tobytes(), 34962, 5126, "VEC3", len(v)),
            (faces.tobytes(), 34963, 5125, "SCALAR", faces.size),
        ):
            buffer_views.append(
                {"buffer": 0, "byteOffset": len(blob), "byteLength": len(data), "target": target}
            )
            acc = {
                "bufferView": len(buffer_views) - 1,
                "componentType": comp,
                "count": count,
                "type": typ,
            }
            if typ == "VEC3":
                acc["min"] = v.min(axis=0).tolist()
                acc["max"] = v.max(axis=0).tolist()
            accessors.append(acc)
            blob += data
            blob += b"\0" * (-len(blob) % 4)
        meshes.append({"primitives": [{"attributes": {"POSITION": 2 * k}, "indices": 2 * k + 1}]})
        nodes.append({"name": f"part_{k:05d}", "mesh": k})
    doc = {
        "asset": {"version": "2.0", "generator": "twinviewer bench"},
        "scene": 0,
        "scenes": [{"nodes": list(range(n_components))}],
        "nodes": nodes,
        "meshes": meshes,
        "accessors": accessors,
        "bufferViews": buffer_views,
        "buffers": [{"byteLength": len(blob)}],
    }
    js = json.dumps(doc, separators=(",", ":")).encode()
    js += b" " * (-len(js) % 4)
    total = 12 + 8 + len(js) + 8 + len(blob)
    with open(path, "wb") as f:
        f.write(struct.pack("<4sII", b"glTF", 2, total))
        f.write(struct.pack("<I4s", len(js), b"JSON") + js)
        f.write(struct.pack("<I4s", len(blob), b"BIN\0") + bytes(blob))
    return path


def bench_model(quick: bool) -> Path:
    n = 1_000 if quick else 10_000
    folder = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "twinviewer"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"bench_{n}_components.glb"
    if not path.exists():
        write_bench_glb(path, n)
    return path


def _time(fn: Callable[[], object], repeat: int = 3) -> float:
    """Median wall time in ms."""
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return float(np.median(times))


def _peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024 if sys.platform != "darwin" else kb / 2**20


# -- the benchmarks ----------------------------------------------------------------------------


def bench_load(quick: bool) -> list[Figure]:
    import pyvista as pv
    import trimesh

    from twinviewer.formats.registry import read_model
    from twinviewer.render.scene import TwinScene, configure_for_software_rendering

    configure_for_software_rendering()
    path = bench_model(quick)
    raw = _time(lambda: trimesh.load(path, force="scene", process=False), 3)

    def raw_to_frame() -> None:
        scene = trimesh.load(path, force="scene", process=False)
        mesh = scene.to_mesh()  # what a plain trimesh + pyvista viewer would draw
        p = pv.Plotter(off_screen=True, window_size=[1280, 800])
        p.add_mesh(pv.wrap(mesh))
        p.screenshot(return_img=True)
        p.close()

    raw_frame = _time(raw_to_frame, 1)
    read_ms: list[float] = []

    def ours() -> None:
        t0 = time.perf_counter()
        model = read_model(path)
        read_ms.append((time.perf_counter() - t0) * 1000)
        p = pv.Plotter(off_screen=True, window_size=[1280, 800])
        TwinScene(p).show_model(model)
        p.screenshot(return_img=True)
        p.close()

    ours_ms = _time(ours, 3)
    model = read_model(path)
    tag = f"{model.n_triangles / 1e6:.2f}M triangles, {model.n_components:,} components"
    return [
        Figure(
            "load_to_first_frame",
            ours_ms,
            "ms",
            f"<= 1.5x raw read ({1.5 * raw:.0f} ms)",
            raw,
            "trimesh.load of the same GLB",
            tag,
        ),
        Figure(
            "load_read_only",
            float(np.median(read_ms)),
            "ms",
            "-",
            raw,
            "trimesh.load of the same GLB",
            "read_model: file to merged ModelData",
        ),
        Figure(
            "load_raw_viewer_frame",
            raw_frame,
            "ms",
            "-",
            None,
            "",
            "trimesh load + to_mesh + pyvista first frame (what a naive viewer does)",
        ),
        Figure("memory_peak", _peak_rss_mb(), "MB", "-", None, "", "peak RSS of this process"),
    ]


def _colour_setup(n_components: int):
    from twinviewer.core.colour import NEUTRAL, ComponentBinding, SensorRules
    from twinviewer.core.project import Limits, Sensor

    sensors = [
        Sensor(
            id=f"s{k}",
            quantity="temperature" if k % 2 else "vibration",
            unit="u",
            component=f"part_{k:05d}",
            range=(0, 100),
            warning=Limits(high=70),
            alarm=Limits(high=90),
        )
        for k in range(n_components)
    ]
    rules = SensorRules.from_sensors(sensors)
    binding = ComponentBinding(
        n_components,
        np.arange(n_components, dtype=np.int32),
        np.arange(n_components, dtype=np.int32),
    )
    base = np.tile(NEUTRAL, (n_components, 1))
    return rules, binding, base


def bench_recolour(quick: bool) -> list[Figure]:
    import pyvista as pv

    from twinviewer.core.colour import (
        component_colours,
        component_status,
        normalise,
        sensor_colours,
        sensor_rank,
        sensor_status,
    )
    from twinviewer.formats.registry import read_model
    from twinviewer.render.scene import TwinScene, configure_for_software_rendering

    configure_for_software_rendering()
    model = read_model(bench_model(quick))
    n = model.n_components
    rules, binding, base = _colour_setup(n)
    rng = np.random.default_rng(1)
    times = np.zeros(n)
    p = pv.Plotter(off_screen=True, window_size=[1280, 800])
    scene = TwinScene(p)
    scene.show_model(model)
    p.screenshot(return_img=True)
    out = base.copy()

    def colour_work() -> None:
        value = rng.uniform(0, 100, n)
        st = sensor_status(rules, value, times, 0.0)
        rgba = sensor_colours(rules, value, st)
        rank = sensor_rank(st, normalise(value, rules.lo, rules.hi))
        colours, _ = component_colours(binding, rgba, rank, base, out=out)
        component_status(binding, st)
        scene.set_component_colours(colours)

    def per_component_loop() -> None:
        lut = scene._lut
        value = rng.uniform(0, 100, n)
        for k in range(n):  # what one SetTableValue per component costs
            f = value[k] / 100.0
            lut.SetTableValue(k, f, 0.5, 1 - f, 1.0)

    colour_ms = _time(colour_work, 20)
    loop_ms = _time(per_component_loop, 3)
    render_only = _time(lambda: p.ren_win.Render(), 5)

    def colour_and_render() -> None:
        colour_work()
        p.ren_win.Render()

    both = _time(colour_and_render, 5)
    p.close()
    tag = f"{n:,} components, {model.n_triangles / 1e6:.2f}M triangles"
    return [
        Figure(
            "recolour_all_components",
            colour_ms,
            "ms",
            "< 5 ms",
            loop_ms,
            "Python loop, one SetTableValue per component",
            tag,
        ),
        Figure(
            "recolour_plus_render",
            both,
            "ms",
            "render: one frame",
            render_only,
            "render alone, no recolour",
            "llvmpipe software OpenGL, 1280x800",
        ),
    ]


def bench_mqtt(quick: bool) -> list[Figure]:
    from twinviewer.bench_mqtt import bench_mqtt as run

    return run(quick)


def bench_history(quick: bool) -> list[Figure]:
    from twinviewer.bench_history import bench_history as run

    return run(quick)


def bench_sim(quick: bool) -> list[Figure]:
    from twinviewer.bench_sim import bench_sim as run

    return run(quick)


BENCHMARKS: dict[str, Callable[[bool], list[Figure]]] = {
    "load": bench_load,
    "recolour": bench_recolour,
    "mqtt": bench_mqtt,
    "history": bench_history,
    "sim": bench_sim,
}


def run_benchmarks(names: list[str], as_json: bool = False, quick: bool = False) -> int:
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        sys.stderr.write(f"unknown benchmark {unknown[0]!r}; expected {', '.join(BENCHMARKS)}\n")
        return 2
    for name in names or list(BENCHMARKS):
        for fig in BENCHMARKS[name](quick):
            text = json.dumps(asdict(fig)) if as_json else fig.line()
            sys.stdout.write(text + "\n")
            sys.stdout.flush()
    return 0
