"""The measurement tools in the window, clicked as a user clicks (pytest-qt under Xvfb), on a
project of two boxes of known size, so that every value has an exact answer."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QPoint, Qt  # noqa: E402

from twinviewer.ui.measure.tool import TOOLS  # noqa: E402

pytestmark = pytest.mark.gui

# block: 2 x 1 x 0.5 m at the origin; plate: 1 x 1 x 0.1 m, 0.5 m to the side, 0.5 m higher
BOXES = {"block": ((0, 0, 0), (2, 1, 0.5)), "plate": ((-1.5, 0, 1.0), (-0.5, 1, 1.1))}
FACES = [(0, 1, 3), (0, 3, 2), (4, 6, 7), (4, 7, 5), (0, 4, 5), (0, 5, 1),
         (2, 3, 7), (2, 7, 6), (0, 2, 6), (0, 6, 4), (1, 5, 7), (1, 7, 3)]  # fmt: skip


@pytest.fixture
def boxes(tmp_path: Path) -> Path:
    lines: list[str] = []
    for k, (name, (lo, hi)) in enumerate(BOXES.items()):
        lines.append(f"o {name}")
        lines += [
            f"v {x} {y} {z}" for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])
        ]
        lines += [f"f {a + 1 + 8 * k} {b + 1 + 8 * k} {c + 1 + 8 * k}" for a, b, c in FACES]
    (tmp_path / "boxes.obj").write_text("\n".join(lines) + "\n")
    path = tmp_path / "boxes.twin.yaml"
    path.write_text("name: Boxes\nmodels: [boxes.obj]\n")
    return path


def open_twin(qtbot, window, path: Path):
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        window.open_project(path, sources=[])
    window.view.scene.standard_view("iso")
    window.view.render_now()
    return window.features["measure"]


def widget_pos(window, point, towards=None, pixels: float = 0.0) -> QPoint:
    """Where a world point is on the 3D widget (Qt coordinates), moved ``pixels`` towards the
    display position of ``towards`` (to land on a face beside a vertex, not on its edge)."""
    r = window.view.interactor.renderer

    def display(p):
        r.SetWorldPoint(*p, 1.0)
        r.WorldToDisplay()
        return np.array(r.GetDisplayPoint()[:2])

    d = display(point)
    if towards is not None:
        step = display(towards) - d
        d = d + pixels * step / np.linalg.norm(step)
    widget = window.view.interactor
    ratio = widget.devicePixelRatioF()
    # pyvistaqt flips y: VTK's y = height - 1 - Qt's y
    return QPoint(int(round(d[0] / ratio)), int(round(widget.height() - 1 - d[1] / ratio)))


def click(qtbot, window, point, towards=None, pixels: float = 0.0) -> None:
    pos = widget_pos(window, point, towards, pixels)
    widget = window.view.interactor
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=pos)


def key(qtbot, window, k, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    """A key pressed in the 3D view, where the user just clicked (shortcuts need the window
    active)."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    widget = window.view.interactor
    widget.setFocus()
    qtbot.keyClick(widget, k, modifiers)


TOP_CENTRE = (1.0, 0.5, 0.5)


def test_distance_by_two_clicks_snaps_to_vertices_and_undoes(qtbot, window, boxes) -> None:
    measure = open_twin(qtbot, window, boxes)
    window.action("measure.distance").trigger()
    assert measure.tool.tool == "distance"
    assert "click the first point" in window.statusBar().currentMessage()
    # hovering near a vertex shows the snap marker there (a throttled pick)
    widget = window.view.interactor
    qtbot.mouseMove(widget, widget_pos(window, (0, 0, 0.5), TOP_CENTRE, 5))
    qtbot.waitUntil(lambda: measure.layer.snap_kind == "vertex", timeout=3000)
    # two clicks a few pixels inside the top face's corners snap to the corners exactly
    click(qtbot, window, (0, 0, 0.5), TOP_CENTRE, 5)
    assert "second point" in window.statusBar().currentMessage()
    click(qtbot, window, (2, 1, 0.5), TOP_CENTRE, 5)
    (m,) = measure.book.measurements
    assert m.kind == "distance" and m.unit == "m"
    assert m.points == [(0, 0, 0.5), (2, 1, 0.5)]  # exactly the vertices
    assert m.value == pytest.approx(math.sqrt(5))
    assert measure.dock.row_texts() == [("Distance 1", "Distance", "2.2361 m", "block")]
    assert measure.layer.labels[m.id].GetInput() == ("Distance 1: 2.2361 m\ndX 2 m  dY 1 m  dZ 0 m")
    assert window.workbench.selection == ()  # measuring clicks do not select
    assert measure.tool.tool == "distance"  # ready for the next one
    # the unit switch relabels the list and the 3D label
    combo = measure.dock.unit_combo
    combo.setCurrentIndex(combo.findData("mm"))
    combo.activated.emit(combo.currentIndex())
    assert measure.dock.row_texts()[0][2] == "2,236.1 mm"
    assert measure.layer.labels[m.id].GetInput().startswith("Distance 1: 2,236.1 mm")
    # Ctrl+Z takes it away, Ctrl+Shift+Z brings it back; Escape ends the tool
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert measure.book.measurements == [] and measure.dock.row_texts() == []
    assert not measure.layer.labels
    mods = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    key(qtbot, window, Qt.Key.Key_Z, mods)
    assert [x.id for x in measure.book.measurements] == [m.id] and m.id in measure.layer.labels
    key(qtbot, window, Qt.Key.Key_Escape)
    assert not measure.tool.active and not window.action("measure.distance").isChecked()
    # with no tool on, a click selects again
    click(qtbot, window, TOP_CENTRE)
    assert window.workbench.selection == (window.session.model.index_of("block"),)


def test_measurements_survive_close_and_reopen(qtbot, window, boxes) -> None:
    measure = open_twin(qtbot, window, boxes)
    window.action("measure.point").trigger()
    click(qtbot, window, (2, 0, 0.5), TOP_CENTRE, 4)
    (m,) = measure.book.measurements
    assert m.kind == "point" and m.points == [(2, 0, 0.5)]
    assert measure.dock.row_texts() == [("Point 1", "Point", "x 2 m, y 0 m, z 0.5 m", "block")]
    saved = json.loads((boxes.parent / "boxes.review" / "review.json").read_text())
    assert [x["name"] for x in saved["measurements"]] == ["Point 1"]
    window.close_session()
    assert measure.dock.row_texts() == [] and not measure.layer.labels
    measure = open_twin(qtbot, window, boxes)
    assert measure.dock.row_texts() == [("Point 1", "Point", "x 2 m, y 0 m, z 0.5 m", "block")]
    assert measure.layer.labels[m.id].GetInput() == "Point 1\nx 2 m, y 0 m, z 0.5 m"


def test_rename_and_delete_from_the_list_with_undo(qtbot, window, boxes) -> None:
    measure = open_twin(qtbot, window, boxes)
    window.action("measure.angle").trigger()
    for corner in ((2, 0, 0.5), (0, 0, 0.5), (0, 1, 0.5)):
        click(qtbot, window, corner, TOP_CENTRE, 5)
    (m,) = measure.book.measurements
    assert m.kind == "angle" and m.value == pytest.approx(90) and m.unit == "deg"
    table = measure.dock.table
    table.item(0, 0).setText("Corner")  # what an edit of the name cell commits
    assert measure.book.measurements[0].name == "Corner"
    assert measure.layer.labels[m.id].GetInput() == "Corner: 90.00°"
    assert window.action("edit.undo").text() == "&Undo rename Angle 1 to Corner"
    window.action("edit.undo").trigger()
    assert measure.book.measurements[0].name == "Angle 1"
    measure.dock.select(m.id)
    assert measure.layer.selected == m.id
    qtbot.mouseClick(measure.dock.delete_button, Qt.MouseButton.LeftButton)
    assert measure.book.measurements == []
    window.action("edit.undo").trigger()
    assert [x.name for x in measure.book.measurements] == ["Angle 1"]


def test_clearance_runs_off_the_ui_thread_and_face_area(qtbot, window, boxes) -> None:
    measure = open_twin(qtbot, window, boxes)
    window.action("measure.clearance").trigger()
    click(qtbot, window, (1.0, 0.0, 0.25))  # the block's front face
    assert "second component" in window.statusBar().currentMessage()
    click(qtbot, window, (-1.0, 0.5, 1.1))  # the plate's top
    qtbot.waitUntil(lambda: len(measure.book.measurements) == 1, timeout=10000)
    (c,) = measure.book.measurements
    assert c.kind == "clearance" and c.components == ["block", "plate"]
    assert c.value == pytest.approx(math.sqrt(0.5), abs=1e-6)
    # the worker's result and its end arrive as two queued signals: the busy bar goes after
    qtbot.waitUntil(lambda: not measure.computing and not measure.busy.isVisible(), timeout=5000)
    window.action("measure.face").trigger()
    assert not window.action("measure.clearance").isChecked()
    click(qtbot, window, (1.0, 0.0, 0.25))  # the front face: 2 x 0.5
    face = measure.book.measurements[-1]
    assert face.kind == "area" and face.value == pytest.approx(1.0)
    assert len(face.points) == 4 and all(p[1] == 0 for p in face.points)
    assert measure.dock.row_texts()[-1][:3] == ("Area 1", "Area", "1 m²")


def test_polygon_area_closes_on_its_first_corner(qtbot, window, boxes) -> None:
    measure = open_twin(qtbot, window, boxes)
    window.action("measure.area").trigger()
    corners = [(0, 0, 0.5), (2, 0, 0.5), (2, 1, 0.5), (0, 1, 0.5)]
    for corner in corners:
        click(qtbot, window, corner, TOP_CENTRE, 5)
    assert measure.book.measurements == []  # still open: Enter, a double click or corner 1
    click(qtbot, window, corners[0], TOP_CENTRE, 5)
    (a,) = measure.book.measurements
    assert a.kind == "area" and a.value == pytest.approx(2.0) and len(a.points) == 4


def test_tools_are_listed_and_the_toolbar_fits_a_small_window(qtbot, window) -> None:
    titles = [a.text() for a in window.menu("View/Measure").actions() if a.text()]
    assert len([t for t in titles if t]) >= len(TOOLS) + 3
    assert window.findChild(type(window.features["measure"].button), "measure-button")
    window.resize(1024, 700)
    qtbot.wait(100)
    bar = window.choosers
    button = window.features["measure"].button
    assert bar.geometry().right() <= window.width()
    assert button.isVisible() and bar.geometry().contains(button.geometry().translated(bar.pos()))
