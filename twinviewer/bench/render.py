"""``twinviewer bench load`` and ``recolour``: reading a big model and recolouring it.

The benchmark model is a GLB of 10,000 named components (quick: 1,000), ~1M triangles, written
once to ``$XDG_CACHE_HOME/twinviewer`` (:func:`bench_model`).

* ``load_to_first_frame``: :func:`~twinviewer.formats.registry.read_model` + the first
  off-screen frame of a :class:`~twinviewer.render.scene.TwinScene`. Baseline: ``trimesh.load``
  of the same GLB. ``load_read_only`` is the read alone, ``load_raw_viewer_frame`` what a naive
  trimesh + pyvista viewer takes, ``memory_peak`` the process's peak RSS.
* ``recolour_all_components``: a new value for every sensor, its status, colour and rank, the
  worst per component, into the scene's lookup table. Baseline: a Python loop with one
  ``SetTableValue`` per component. ``recolour_plus_render`` adds one software-rendered frame.
"""

from __future__ import annotations

import json
import os
import struct
import time
from pathlib import Path

import numpy as np

from twinviewer.bench.figures import Figure, median_ms, peak_rss_mb

__all__ = ["bench_load", "bench_model", "bench_recolour", "write_bench_glb"]


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


# -- the benchmarks ----------------------------------------------------------------------------


def bench_load(quick: bool) -> list[Figure]:
    import pyvista as pv
    import trimesh

    from twinviewer.formats.registry import read_model
    from twinviewer.render.scene import TwinScene, configure_for_software_rendering

    configure_for_software_rendering()
    path = bench_model(quick)
    raw = median_ms(lambda: trimesh.load(path, force="scene", process=False), 3)

    def raw_to_frame() -> None:
        scene = trimesh.load(path, force="scene", process=False)
        mesh = scene.to_mesh()  # what a plain trimesh + pyvista viewer would draw
        p = pv.Plotter(off_screen=True, window_size=[1280, 800])
        p.add_mesh(pv.wrap(mesh))
        p.screenshot(return_img=True)
        p.close()

    raw_frame = median_ms(raw_to_frame, 1)
    read_ms: list[float] = []

    def ours() -> None:
        t0 = time.perf_counter()
        model = read_model(path)
        read_ms.append((time.perf_counter() - t0) * 1000)
        p = pv.Plotter(off_screen=True, window_size=[1280, 800])
        TwinScene(p).show_model(model)
        p.screenshot(return_img=True)
        p.close()

    ours_ms = median_ms(ours, 3)
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
        Figure("memory_peak", peak_rss_mb(), "MB", "-", None, "", "peak RSS of this process"),
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

    colour_ms = median_ms(colour_work, 20)
    loop_ms = median_ms(per_component_loop, 3)
    render_only = median_ms(lambda: p.ren_win.Render(), 5)

    def colour_and_render() -> None:
        colour_work()
        p.ren_win.Render()

    both = median_ms(colour_and_render, 5)
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
