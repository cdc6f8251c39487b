"""``twinviewer bench motion``: what moving parts cost a frame, on the mine demo.

Each frame of the feed (the skips and the loader moving, every sensor's value new) is timed as
the window draws it, off screen:

* ``motion_pose``: the pose from the shown values (every motion's and group's transform) and
  the posed points of the moving vertices (:class:`~twinviewer.session.motion.TwinPose`).
  Baseline: the recolour of the same values (``colours_for``), what every frame already pays.
* ``motion_frame``: a whole frame with motion: pose, the points written into the scene's mesh,
  the recolour and the render (VTK uploads the moved points again). Baseline: the frame of the
  same twin without its ``motion:`` block (recolour and render), in the same run, on the same
  scene. Target: motion adds well under PRODUCT.md's 16 ms frame, at most 2 ms.
"""

from __future__ import annotations

import numpy as np

from twinviewer.bench.figures import Figure, median_ms

POSE_TARGET = "<< 16 ms (a frame)"
FRAME_TARGET = "< 2 ms over a frame without motion"


def bench_motion(quick: bool) -> list[Figure]:
    import pyvista as pv

    from twinviewer.render.scene import TwinScene, configure_for_software_rendering
    from twinviewer.session import TwinSession
    from twinviewer.session.demos import demo_project
    from twinviewer.session.headless import apply_pose
    from twinviewer.sources.simulator import SignalModel

    session = TwinSession.open(demo_project("mine"))
    try:
        cfg = next(c for c in session.project.sources if c.type == "simulator")
        signals = SignalModel(session.sensors, cfg)
        n = 20 if quick else 100
        frames = [signals.step(t) for t in np.arange(n) * 0.2]  # the feed at 5 samples/s
        now = 1.0e9
        times = np.full(len(session.sensors), now)
        pose = session.pose
        k = iter(range(10**9))

        def pose_only() -> None:
            pose.update(frames[next(k) % n])

        def recolour_only() -> None:
            session.colours_for(frames[next(k) % n], times, now)

        repeat = n
        pose_ms = median_ms(pose_only, repeat)
        recolour_ms = median_ms(recolour_only, repeat)

        configure_for_software_rendering()
        plotter = pv.Plotter(off_screen=True, window_size=[1280, 800])
        try:
            scene = TwinScene(plotter)
            scene.show_model(session.model)
            scene.standard_view("iso")
            plotter.render()

            # the same twin without its motion block: the frame every twin pays
            plain = session.project.model_copy(update={"motion": []})
            still_twin = TwinSession(plain, session.folder, session.model, session.path)

            def frame(twin: TwinSession) -> None:
                twin.update(now, frames[next(k) % n], times)
                apply_pose(scene, twin)
                scene.set_component_colours(twin.component_rgba)
                plotter.render()

            frame(session)
            moving = median_ms(lambda: frame(session), repeat)
            scene.set_model_points(None)
            still = median_ms(lambda: frame(still_twin), repeat)
        finally:
            plotter.close()
        moved = len(pose.moving_vertices)
        note = (
            f"{len(pose.rig.motions)} motions, {moved:,} of {len(session.model.points):,} "
            f"vertices move; {session.model.n_triangles:,} triangles"
        )
        return [
            Figure("motion_pose", pose_ms, "ms", POSE_TARGET, recolour_ms, "recolour", note),
            Figure("motion_frame", moving, "ms", FRAME_TARGET, still, "frame without motion", note),
        ]
    finally:
        session.close()
