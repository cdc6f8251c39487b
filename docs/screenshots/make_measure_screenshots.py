"""Screenshots of the measurement tools on the mine demo: a distance, an angle and a clearance
over the live colours, the Measurements dock, and a distance tool at work with its snap marker.

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/screenshots/make_measure_screenshots.py

The clicks go through the same path as a user's (the view's click signal, then the scene's
pick and the snap), at the display positions of points of the model.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
from make_screenshots import pump, shot  # the same folder: run as a script

from twinviewer.session.demos import demo_copy
from twinviewer.ui.application import create_app
from twinviewer.ui.main_window import QtMainWindow
from twinviewer.ui.measure.feature import MeasureFeature

HERE = Path(__file__).resolve().parent
PLANT = ("surface_headframe", "surface_sheaves", "surface_hoist_drum", "surface_hoist_motor",
         "surface_hoist_brakes", "surface_ore_bin", "surface_shaft_pad")  # fmt: skip


def display(w: QtMainWindow, point: np.ndarray) -> np.ndarray:
    r = w.view.interactor.renderer
    r.SetWorldPoint(*point, 1.0)
    r.WorldToDisplay()
    return np.array(r.GetDisplayPoint()[:2])


def pan(w: QtMainWindow, fraction: float, lift: float, zoom: float) -> None:
    """Move the view sideways by ``fraction`` of its height (positive: the scene goes left, off
    the colour bar on the right) and down by ``lift`` (the scene goes up), zoom by ``zoom``."""
    cam = w.view.interactor.renderer.GetActiveCamera()
    pos, focal = np.array(cam.GetPosition()), np.array(cam.GetFocalPoint())
    forward = focal - pos
    right = np.cross(forward, np.array(cam.GetViewUp()))
    right /= np.linalg.norm(right)
    height = 2 * np.linalg.norm(forward) * np.tan(np.radians(cam.GetViewAngle() / 2))
    up = np.cross(right, forward)
    shift = height * (fraction * right - lift * up / np.linalg.norm(up))
    cam.SetPosition(*(pos + shift))
    cam.SetFocalPoint(*(focal + shift))
    cam.Dolly(zoom)
    w.view.interactor.renderer.ResetCameraClippingRange()


def facing(w: QtMainWindow, component: str) -> list[int]:
    """The component's triangles that face the camera, largest first."""
    m = w.session.model  # type: ignore[union-attr]
    tri = np.flatnonzero(m.cell_component == m.index_of(component))
    t = m.points[m.triangles[tri]].astype(float)
    n = np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0])
    cam = np.array(w.view.interactor.renderer.GetActiveCamera().GetPosition())
    toward = (cam - t.mean(axis=1) * 1.0) @ np.eye(3)
    front = np.einsum("ij,ij->i", n, toward) > 0
    order = np.argsort(-np.linalg.norm(n, axis=1) * front)
    return [int(tri[k]) for k in order if front[k]]


def click_on(w: QtMainWindow, measure: MeasureFeature, component: str, corner: int | None) -> None:
    """Click a visible triangle of ``component``: beside one of its corners (to snap there) or
    at its centre."""
    m = w.session.model  # type: ignore[union-attr]
    for triangle in facing(w, component):
        corners = m.points[m.triangles[triangle]].astype(float)
        centre = corners.mean(axis=0)
        target = display(w, centre)
        if corner is not None:
            d = display(w, corners[corner])
            target = d + 4 * (target - d) / max(np.linalg.norm(target - d), 1e-9)
        x, y = int(round(target[0])), int(round(target[1]))
        hit = w.view.scene.pick_point(x, y)
        if hit is not None and m.cell_component[hit[0]] == m.index_of(component):
            measure.picker.clicked.emit(x, y)
            return
    raise RuntimeError(f"no visible triangle of {component}")


def hover_on(w: QtMainWindow, measure: MeasureFeature, component: str, corner: int) -> None:
    m = w.session.model  # type: ignore[union-attr]
    triangle = facing(w, component)[0]
    corners = m.points[m.triangles[triangle]].astype(float)
    d, c = display(w, corners[corner]), display(w, corners.mean(axis=0))
    target = d + 4 * (c - d) / np.linalg.norm(c - d)
    measure.picker.hovered.emit(int(round(target[0])), int(round(target[1])))


def main() -> None:
    app = create_app()
    with tempfile.TemporaryDirectory() as tmp:
        path, _ = demo_copy("mine", Path(tmp), history=60.0, models=False)
        for size, name in (((1600, 1000), "measure-tools.png"),
                           ((1024, 700), "measure-tools-small.png")):  # fmt: skip
            w = QtMainWindow()
            w.resize(*size)
            w.show()
            w.open_project(path, sources=[])
            pump(app, 5.0)
            s = w.session
            assert s is not None
            measure = w.feature(MeasureFeature)
            model = s.model
            w.view.scene.set_camera((38.0, -52.0, 40.0), (-10.0, 0.0, 10.0), (0, 0, 1))
            w.view.scene.fit_components([model.index_of(c) for c in PLANT])
            pan(w, 0.12, 0.06, 1.0)
            w.view.render_now()
            if not measure.measurements:  # the first window takes them; the second reopens
                w.action("measure.distance").trigger()
                click_on(w, measure, "surface_sheaves", 0)
                click_on(w, measure, "surface_ore_bin", 0)
                w.action("measure.angle").trigger()
                click_on(w, measure, "surface_ore_bin", 1)
                click_on(w, measure, "surface_shaft_pad", 0)
                click_on(w, measure, "surface_hoist_drum", 0)
                w.action("measure.clearance").trigger()
                click_on(w, measure, "surface_hoist_motor", None)
                click_on(w, measure, "surface_hoist_brakes", None)
                while measure.computing:
                    pump(app, 0.2)
            w.action("measure.distance").trigger()  # a tool at work: one point, the marker
            click_on(w, measure, "surface_headframe", 0)
            hover_on(w, measure, "surface_hoist_drum", 1)
            w.redraw()
            pump(app, 1.0)
            shot(w, name)
            sys.stdout.write(f"  {len(measure.measurements)} measurements\n")
            w.close()
            pump(app, 0.5)


if __name__ == "__main__":
    main()
