"""``twinviewer bench sim``: a simulation field mapped onto the twin's surface.

The result is built here: a unit cube of tetrahedra (``ImageData.triangulate``, five per voxel;
full: ~1.03M cells, quick: ~98k) with a smooth scalar field at two time steps and a vector
field, written as a ``.vtu`` to a temporary folder. The twin is a sphere of ~1M triangles
(quick: ~100k) inside the cube; its vertices are the targets.

* ``sim_map_first_step``: read the ``.vtu`` + locate the twin's vertices
  (:class:`~twinviewer.sim.mapping.FieldMapper`) + map one field. Baseline: read the ``.vtu`` +
  pyvista's ``target.sample(source)`` on the same data (what it takes without the mapper).
* ``sim_map_next_step``: the next time step's field at all vertices (one gather + row sum).
  Baseline: ``sample`` again on the already-read mesh object with the new field set (what
  stepping costs when every step is probed).
* ``sim_map_vector_step``: a displacement field (3 components) at the vertices plus the warp.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from twinviewer.bench.figures import Figure, median_ms
from twinviewer.sim.mapping import FieldMapper, warp

log = logging.getLogger(__name__)


def _field(points: np.ndarray, phase: float) -> np.ndarray:
    x, y, z = points[:, 0], points[:, 1], points[:, 2]
    return np.sin(6.0 * x + phase) * np.cos(4.0 * y) + 0.5 * z**2 + phase


def _write_result(folder: Path, cells_per_side: int) -> tuple[Path, np.ndarray, int]:
    import pyvista as pv

    n = cells_per_side
    grid = pv.ImageData(dimensions=(n + 1,) * 3, spacing=(1.0 / n,) * 3).triangulate()
    grid = grid.cast_to_unstructured_grid()
    pts = np.asarray(grid.points, dtype=np.float64)
    grid.points = pts
    grid.point_data["temperature"] = _field(pts, 0.0)
    grid.point_data["displacement"] = np.column_stack([pts[:, 2], -pts[:, 0], 0.1 * pts[:, 1]])
    path = folder / "result.vtu"
    grid.save(path)
    return path, _field(pts, 0.1), grid.n_cells


def _twin(resolution: int) -> tuple[np.ndarray, int]:
    import pyvista as pv

    s = pv.Sphere(
        radius=0.48,
        center=(0.5, 0.5, 0.5),
        theta_resolution=2 * resolution,
        phi_resolution=resolution,
    )
    return np.asarray(s.points, dtype=np.float64), s.n_cells


def bench_sim(quick: bool) -> list[Figure]:
    import pyvista as pv

    side = 27 if quick else 59  # 5 * side**3 tetrahedra: ~98k or ~1.03M
    resolution = 158 if quick else 500  # 4 * resolution**2 triangles: ~100k or ~1M
    repeat = 3
    folder = Path(tempfile.mkdtemp(prefix="twinviewer-bench-sim-"))
    try:
        path, next_step, n_cells = _write_result(folder, side)
        targets, n_triangles = _twin(resolution)
        mb = path.stat().st_size / 2**20

        parts: dict[str, list[float]] = {"read": [], "locate": [], "map": []}
        state: dict[str, Any] = {}

        def ours() -> None:
            t0 = time.perf_counter()
            mesh = pv.read(path)
            t1 = time.perf_counter()
            mapper = FieldMapper(mesh, targets)
            t2 = time.perf_counter()
            values = mapper.map_point_field(mesh.point_data["temperature"])
            t3 = time.perf_counter()
            parts["read"].append((t1 - t0) * 1e3)
            parts["locate"].append((t2 - t1) * 1e3)
            parts["map"].append((t3 - t2) * 1e3)
            state.update(mesh=mesh, mapper=mapper, values=values)

        def baseline() -> None:
            mesh = pv.read(path)
            state["sampled"] = pv.PolyData(targets).sample(mesh)

        ours_ms = median_ms(ours, repeat)
        base_ms = median_ms(baseline, repeat)
        mesh = state["mesh"]
        mapper = state["mapper"]
        assert isinstance(mapper, FieldMapper)
        sampled = state["sampled"]
        both = mapper.valid & np.asarray(sampled["vtkValidPointMask"], dtype=bool)
        diff = np.abs(np.asarray(state["values"])[both] - np.asarray(sampled["temperature"])[both])
        n_targets = len(targets)

        out = np.empty(n_targets)
        step_ms = median_ms(lambda: mapper.map_point_field(next_step, out=out), 20)

        def sample_again() -> None:
            mesh.point_data["temperature"] = next_step
            pv.PolyData(targets).sample(mesh)

        sample_again()  # its locator is built and cached on the mesh from here on
        resample_ms = median_ms(sample_again, repeat)
        disp = np.asarray(mesh.point_data["displacement"])
        vec_ms = median_ms(lambda: warp(targets, mapper.map_point_field(disp), 10.0), 10)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    tag = (
        f"{n_cells / 1e6:.2f}M tetrahedra ({mb:.0f} MB .vtu) onto {n_triangles / 1e6:.2f}M "
        f"triangles ({n_targets / 1e6:.2f}M vertices)"
    )
    med = {k: float(np.median(v)) for k, v in parts.items()}
    per_million = step_ms * 1e6 / n_targets
    return [
        Figure(
            "sim_map_first_step",
            ours_ms,
            "ms",
            "< 2000 ms",
            base_ms,
            "read + pyvista sample",
            f"{tag}; read {med['read']:.0f} + locate {med['locate']:.0f} + map "
            f"{med['map']:.1f} ms; max |ours - sample| {diff.max():.1e} on {both.sum():,} points",
        ),
        Figure(
            "sim_map_next_step",
            step_ms,
            "ms",
            "< 16 ms",
            resample_ms,
            "pyvista sample of the next step, same mesh object",
            f"{per_million:.1f} ms per million vertices, m={mapper.index.shape[1]} weights each",
        ),
        Figure(
            "sim_map_vector_step",
            vec_ms,
            "ms",
            "-",
            None,
            "",
            "3-component displacement at every vertex + warp (scale 10)",
        ),
    ]
