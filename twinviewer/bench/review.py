"""``twinviewer bench review``: what a design review waits for.

* ``clearance``: the exact minimum distance between two components of 50,000 triangles each
  (quick: 5,000), in two poses: two spheres apart (a typical pick) and a shaft in its bore (a
  cylinder inside a tube, the worst case: every triangle of the shaft is near the bore). The
  baseline is the distance between the two components' nearest *vertices* (one scipy KD-tree
  query): the cheap lower-effort answer that an exact clearance must not be far behind.
* ``report``: the mine demo with four minutes of recorded history (``demo_copy``) written as a
  self-contained HTML report and as a paged PDF, two views; the baseline is drawing those two
  views alone (what any report must at least do). No figure in PRODUCT.md: the target is the
  one a "one-click" report has to meet, a few seconds.
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

import numpy as np

from twinviewer.bench.figures import Figure

CLEARANCE_TARGET = "< 1 s typical, < 60 s worst (on a worker thread)"
REPORT_TARGET = "< 10 s (one click)"


def _sphere(n: int, radius: float, centre: tuple[float, float, float]) -> tuple:
    """A UV sphere of about ``n`` triangles."""
    nu = max(8, int(math.sqrt(n / 2)))
    nv = max(4, n // (2 * nu))
    th = np.linspace(0, np.pi, nv + 1)
    ph = np.linspace(0, 2 * np.pi, nu, endpoint=False)
    t, p = np.meshgrid(th, ph, indexing="ij")
    v = np.stack([np.sin(t) * np.cos(p), np.sin(t) * np.sin(p), np.cos(t)], -1).reshape(-1, 3)
    faces = []
    for i in range(nv):
        for j in range(nu):
            a, b = i * nu + j, i * nu + (j + 1) % nu
            c, d = a + nu, b + nu
            faces += [(a, c, b), (b, c, d)]
    return v * radius + np.asarray(centre), np.asarray(faces, np.int64)


def _tube(n: int, radius: float, length: float) -> tuple:
    """An open cylinder along z of about ``n`` triangles."""
    nu = max(8, int(math.sqrt(n * 4)))
    nz = max(1, n // (2 * nu))
    ph = np.linspace(0, 2 * np.pi, nu, endpoint=False)
    z = np.linspace(0, length, nz + 1)
    zz, pp = np.meshgrid(z, ph, indexing="ij")
    v = np.stack([radius * np.cos(pp), radius * np.sin(pp), zz], -1).reshape(-1, 3)
    faces = []
    for i in range(nz):
        for j in range(nu):
            a, b = i * nu + j, i * nu + (j + 1) % nu
            faces += [(a, a + nu, b), (b, a + nu, b + nu)]
    return v, np.asarray(faces, np.int64)


def _model(parts: list[tuple]) -> object:
    from twinviewer.core.model import ModelBuilder

    b = ModelBuilder("bench")
    for i, (v, f) in enumerate(parts):
        b.add(f"p{i}", -1, v, f)
    return b.build(units="m")


def bench_clearance(quick: bool) -> list[Figure]:
    from scipy.spatial import cKDTree

    from twinviewer.core.measure import clearance

    n = 5_000 if quick else 50_000
    poses = {
        "spheres": [_sphere(n, 1.0, (0, 0, 0)), _sphere(n, 1.0, (2.5, 0.3, 0.1))],
        "shaft in bore": [_tube(n, 0.10, 1.0), _tube(n, 0.105, 1.0)],
    }
    out = []
    for name, parts in poses.items():
        model = _model(parts)
        t0 = time.perf_counter()
        result = clearance(model, 0, 1)  # type: ignore[arg-type]
        exact = time.perf_counter() - t0
        t0 = time.perf_counter()
        nearest = float(cKDTree(parts[1][0]).query(parts[0][0])[0].min())
        base = time.perf_counter() - t0
        out.append(
            Figure(
                f"clearance {name}",
                exact,
                "s",
                CLEARANCE_TARGET,
                base,
                "nearest vertices, KD-tree",
                f"{len(parts[0][1]):,} x {len(parts[1][1]):,} triangles; "
                f"{result.distance:.4g} m (vertices: {nearest:.4g} m)",
            )
        )
    return out


def bench_report(quick: bool) -> list[Figure]:
    from twinviewer.report import ReportOptions, build_report
    from twinviewer.session import TwinSession
    from twinviewer.session.demos import demo_copy
    from twinviewer.session.headless import draw_image

    feed = 60.0 if quick else 240.0
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        path, _zero = demo_copy("mine", Path(tmp), feed, False)
        views = (("Overview", "Overview"), ("Level 3", "Level 3"))
        options = ReportOptions(views=views, author="bench")
        session = TwinSession.open(path)
        t0 = time.perf_counter()
        for _label, view in views:
            draw_image(session, view=view, size=options.size)
        drawing = time.perf_counter() - t0
        session.close()
        for suffix in ("html", "pdf"):
            t0 = time.perf_counter()
            written = build_report(path, Path(tmp) / f"report.{suffix}", options)
            took = time.perf_counter() - t0
            pages = f", {written.pages} pages" if written.pages else ""
            size = (Path(tmp) / f"report.{suffix}").stat().st_size / 1e6
            out.append(
                Figure(
                    f"report {suffix}",
                    took,
                    "s",
                    REPORT_TARGET,
                    drawing,
                    "drawing the 2 views alone",
                    f"mine demo, {feed:.0f} s of history, 2 views{pages}, {size:.1f} MB",
                )
            )
    return out


def bench_review(quick: bool) -> list[Figure]:
    return bench_clearance(quick) + bench_report(quick)
