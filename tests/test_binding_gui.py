"""Binding sensors in the window: *Pick in 3D* in the sensor dialog, the live preview of what a
name or pattern matches (outlined in 3D), a sensor row dropped onto another component (tree and
3D view, undoable), and the banner naming sensors bound to nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QPoint, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from twinviewer.core.project import load_project  # noqa: E402
from twinviewer.ui.widgets.sensor_drag import sensor_mime  # noqa: E402

pytestmark = pytest.mark.gui

PROJECT = """\
# A three-storey building, bound by hand.
name: Building
models: [{model}]
components:
  floors: {{glob: "floor_*"}}  # every storey
sensors:
  # the ground floor
  - id: F0_T
    quantity: temperature
    unit: degC
    component: floor_0
    range: [0, 100]
  - id: ALL_CO
    quantity: co
    unit: ppm
    component: floors
    range: [0, 50]
  - id: F1_T
    quantity: temperature
    unit: degC
    component: {f1}
    range: [0, 100]
"""


@pytest.fixture
def project(corpus: Path, tmp_path: Path):
    def make(f1: str = "floor_1") -> Path:
        model = corpus / "meshes" / "gltf" / "no_indices_3storybuilding.glb"
        path = tmp_path / "building.twin.yaml"
        path.write_text(PROJECT.format(model=model, f1=f1))
        return path

    return make


def open_twin(qtbot, window, path: Path) -> None:
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        window.open_project(path, sources=[])
    window.view.scene.standard_view("front")
    window.view.render_now()


def screen_pos(window, component: str) -> QPoint:
    """Where the middle of a component's triangles is on the 3D widget (Qt coordinates)."""
    s = window.session
    i = s.model.index_of(component)
    pts = s.model.points[np.unique(s.model.triangles[s.model.cell_component == i])]
    r = window.view.interactor.renderer
    r.SetWorldPoint(*((pts.min(axis=0) + pts.max(axis=0)) / 2), 1.0)
    r.WorldToDisplay()
    x, y, _ = r.GetDisplayPoint()
    widget = window.view.interactor
    ratio = widget.devicePixelRatioF()
    return QPoint(int(round(x / ratio)), int(round(widget.height() - 1 - y / ratio)))


def click_3d(qtbot, window, component: str) -> None:
    """A click in the 3D view, as a user clicks (the view's own pick)."""
    pos = screen_pos(window, component)
    widget = window.view.interactor
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=pos)


def drop(widget, pos: QPoint, sensors: list[str]) -> bool:
    """Drag sensor rows over ``widget`` and drop them at ``pos`` (the events a drag sends)."""
    data = sensor_mime(sensors)
    copy, left = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton
    none = Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(pos, copy, data, left, none)
    QApplication.sendEvent(widget, enter)
    move = QDragMoveEvent(pos, copy, data, left, none)
    QApplication.sendEvent(widget, move)
    event = QDropEvent(QPointF(pos), copy, data, left, none)
    QApplication.sendEvent(widget, event)
    return enter.isAccepted() and event.isAccepted()


def outline_x_extent(window) -> float:
    """How wide the 3D outline (the highlight actor) is, in model units."""
    actor = window.view.interactor.actors.get("twin-highlight")
    if actor is None:
        return 0.0
    b = actor.GetBounds()
    return b[1] - b[0]


def component_extent(window, *components: str) -> float:
    s = window.session
    idx = [s.model.index_of(c) for c in components]
    pts = s.model.points[np.unique(s.model.triangles[np.isin(s.model.cell_component, idx)])]
    return float(pts[:, 0].max() - pts[:, 0].min())


def key(qtbot, window, k, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    """A key pressed in the 3D view (shortcuts need the window active)."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    widget = window.view.interactor
    widget.setFocus()
    qtbot.keyClick(widget, k, modifiers)


def sensors_in(path: Path) -> dict:
    return {s.id: s for s in load_project(path)[0].sensors}


def test_pick_in_3d_and_in_the_tree_fills_the_component(qtbot, window, project) -> None:
    path = project()
    open_twin(qtbot, window, path)
    s = window.session
    window.workbench.selection = (s.model.index_of("floor_0"),)
    inspector = window.features["inspector"]
    assert inspector.inspector.select_sensor("F0_T")
    inspector.inspector.edit_button.click()
    dialog = inspector.dialog
    assert dialog.component == "floor_0"

    # the dialog steps aside; a click in the 3D view picks floor_1
    dialog.pick_button.click()
    assert not dialog.isVisible()
    assert "click it in the 3D view" in window.statusBar().currentMessage()
    assert window.workbench.selection == ()
    click_3d(qtbot, window, "floor_1")
    assert dialog.isVisible() and dialog.component == "floor_1"
    assert dialog.preview_text() == "matches 1 component: floor_1"

    # the tree picks the same way (a row selected there)
    dialog.pick_button.click()
    window.features["components"].tree._items[s.model.index_of("floor_2")].setSelected(True)
    assert dialog.isVisible() and dialog.component == "floor_2"

    # Escape: the dialog back as it was, the selection too
    before = window.workbench.selection
    dialog.pick_button.click()
    key(qtbot, window, Qt.Key.Key_Escape)
    assert dialog.isVisible() and dialog.component == "floor_2"
    assert window.workbench.selection == before

    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        dialog.ok_button.click()
    assert sensors_in(path)["F0_T"].component == "floor_2"
    assert window.statusBar().currentMessage() == "F0_T → floor_2"


def test_the_preview_counts_names_globs_and_regexes_and_outlines_them(
    qtbot, window, project
) -> None:
    open_twin(qtbot, window, project())
    s = window.session
    window.workbench.selection = (s.model.index_of("floor_0"),)
    inspector = window.features["inspector"]
    dialog = inspector.add_sensor()
    one = component_extent(window, "floor_0")
    three = component_extent(window, "floor_0", "floor_1", "floor_2")

    cases = {
        "floor_*": "matches 3 components (shell pattern): floor_0, floor_1, floor_2",
        "re:floor_[01]": "matches 2 components (regular expression): floor_0, floor_1",
        "floors": "matches 3 components (glob 'floor_*'): floor_0, floor_1, floor_2",
        "building/floor_2": "matches 1 component: floor_2",
        "building": "matches 1 component: building",
    }
    for ref, text in cases.items():
        dialog.set_component(ref)
        assert dialog.preview_text() == text, ref
        assert "component" not in dialog.problems()
    dialog.set_component("building")  # a group: everything under it is coloured and outlined
    qtbot.waitUntil(lambda: abs(outline_x_extent(window) - three) < 1e-3, timeout=3000)
    assert dialog.matches == [0, 1, 2, 3]
    dialog.set_component("floor_0")
    qtbot.waitUntil(lambda: abs(outline_x_extent(window) - one) < 1e-3, timeout=3000)

    # nothing matched: said in red with the closest name; OK stays allowed
    for name, text in {"id": "T9", "quantity": "temperature", "unit": "degC",
                       "range.min": "0", "range.max": "100"}.items():  # fmt: skip
        dialog.edits[name].setText(text)
    dialog.set_component("flor_1")
    assert dialog.preview_text() == (
        "matches nothing — did you mean 'floor_1', 'floor_2' or 'floor_0'?"  # closest first
    )
    assert "#d04040" in dialog.preview.styleSheet()
    assert dialog.ok_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.matches == [] and outline_x_extent(window) > 0, timeout=3000)
    # a regex that cannot be read is an error under the field
    dialog.set_component("re:floor_(")
    assert "the regex cannot be read" in dialog.problems()["component"]
    assert not dialog.ok_button.isEnabled()

    # closed: the outline is the selection's again
    dialog.set_component("floor_*")
    qtbot.waitUntil(lambda: abs(outline_x_extent(window) - three) < 1e-3, timeout=3000)
    dialog.reject()
    assert abs(outline_x_extent(window) - one) < 1e-3


def test_a_sensor_dropped_on_the_tree_is_rebound_and_undone(
    qtbot, window, project, monkeypatch: pytest.MonkeyPatch
) -> None:
    from twinviewer.ui.inspector import binding as binding_module

    path = project()
    original = path.read_text()
    open_twin(qtbot, window, path)
    s = window.session
    tree = window.features["components"].tree
    item = tree._items[s.model.index_of("floor_2")]
    pos = tree.tree.visualItemRect(item).center()
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        assert drop(tree.tree.viewport(), pos, ["F0_T"])
    text = path.read_text()
    assert "  # the ground floor\n  - id: F0_T\n" in text  # its comment kept
    assert "    component: floor_2\n" in text and "component: floor_0" not in text
    assert text.count("\n") == original.count("\n")
    assert window.statusBar().currentMessage() == "F0_T → floor_2"
    assert window.action("edit.undo").text() == "&Undo bind F0_T to floor_2"
    k = window.session.sensor_index["F0_T"]
    assert window.session.binding.sensor_nodes[k] == [window.session.model.index_of("floor_2")]

    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert path.read_text() == original

    # a sensor bound by a pattern matching three floors: asked before the pattern goes
    asked: list[str] = []

    def answer(button):
        def ask(_parent, _title, text, *_a, **_k):
            asked.append(text)
            return button

        return ask

    monkeypatch.setattr(
        binding_module.QMessageBox, "question", answer(QMessageBox.StandardButton.No)
    )
    floor_1 = tree.tree.visualItemRect(tree._items[s.model.index_of("floor_1")]).center()
    drop(tree.tree.viewport(), floor_1, ["ALL_CO"])
    assert "ALL_CO is bound to 'floors', which matches 3 components" in asked[0]
    assert path.read_text() == original  # refused: nothing written
    monkeypatch.setattr(
        binding_module.QMessageBox, "question", answer(QMessageBox.StandardButton.Yes)
    )
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        drop(tree.tree.viewport(), floor_1, ["ALL_CO"])
    assert sensors_in(path)["ALL_CO"].component == "floor_1"


def test_a_sensor_dropped_on_a_component_in_3d_is_rebound(qtbot, window, project) -> None:
    path = project()
    open_twin(qtbot, window, path)
    widget = window.view.interactor
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        assert drop(widget, screen_pos(window, "floor_2"), ["F1_T"])
    assert sensors_in(path)["F1_T"].component == "floor_2"
    assert window.statusBar().currentMessage() == "F1_T → floor_2"


def test_the_banner_names_an_unbound_sensor_until_it_is_fixed(qtbot, window, project) -> None:
    path = project(f1="flor_1")
    open_twin(qtbot, window, path)
    banner = window.features["unbound-banner"]
    assert banner.shown
    assert banner.text() == (
        "1 sensor is bound to no component: F1_T → 'flor_1' (did you mean 'floor_1'?)"
    )
    # above the 3D view, not over it
    view = window.view.interactor
    top = view.mapTo(window, QPoint(0, 0)).y()
    assert banner.banner.mapTo(window, QPoint(0, banner.banner.height())).y() <= top

    # Fix…: the dialog on that sensor, saying what is wrong
    banner.fix.linkActivated.emit("fix")
    dialog = window.features["inspector"].dialog
    assert dialog is not None and dialog.original.id == "F1_T"
    assert dialog.preview_text().startswith("matches nothing — did you mean 'floor_1'")
    dialog.set_component("floor_1")
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        dialog.ok_button.click()
    assert sensors_in(path)["F1_T"].component == "floor_1"
    assert not banner.shown

    # closed with ×, it stays closed while the same sensors are unbound
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        window.action("edit.undo").trigger()
    assert banner.shown
    banner.close_button.click()
    assert not banner.shown
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        window.reopen()
    assert not banner.shown
