"""``twinviewer bench field``: the mine demo's methane field along the airways.

* ``field_build``: the refined surface of the mine model plus the along-the-mesh (geodesic)
  weights of its methane sensors, made once when the *Field* colour mode is first chosen. No
  figure in PRODUCT.md; the target is what a colour-mode switch may cost, a couple of seconds.
  Baseline: the same surface with straight-line (inverse-distance) weights, the cheapest field
  there is.
* ``field_frame``: one frame of the field from every sensor's value (weights times values plus
  the colours), against PRODUCT.md's recolour target (well under a 16 ms frame). Baseline: the
  twin's own per-component colours for the same values (``colours_for``), what every frame
  already pays.
"""

from __future__ import annotations

import time

import numpy as np

from twinviewer.bench.figures import Figure, median_ms

BUILD_TARGET = "< 2 s (on choosing the colour mode)"
FRAME_TARGET = "<< 16 ms (a frame)"


def bench_field(quick: bool) -> list[Figure]:
    from twinviewer.session import TwinSession
    from twinviewer.session.demos import demo_project
    from twinviewer.session.field import FieldBook

    session = TwinSession.open(demo_project("mine"))
    try:
        rng = np.random.default_rng(0)
        lo, hi = session.quantity_range("methane")
        values = rng.uniform(lo, hi, len(session.sensors))
        now = time.time()
        times = np.full(len(values), now)

        start = time.perf_counter()
        book = FieldBook(session)
        n_triangles = len(book.surface.triangles)
        surface = time.perf_counter() - start
        start = time.perf_counter()
        field = book.field("methane", "geodesic")
        geodesic = time.perf_counter() - start
        start = time.perf_counter()
        book.field("methane", "idw")
        idw = time.perf_counter() - start

        repeat = 5 if quick else 25
        frame = median_ms(lambda: field.colours(field.values(values)), repeat)
        components = median_ms(lambda: session.colours_for(values, times, now), repeat)
        note = (
            f"surface of {n_triangles:,} triangles {surface:.2f} s + weights {geodesic:.2f} s; "
            f"{len(field.sensors)} sensors reach {len(field.triangles):,} triangles"
        )
        return [
            Figure(
                "field_build",
                surface + geodesic,
                "s",
                BUILD_TARGET,
                surface + idw,
                "same surface, straight-line IDW weights",
                note,
            ),
            Figure("field_frame", frame, "ms", FRAME_TARGET, components, "per-component colours"),
        ]
    finally:
        session.close()
