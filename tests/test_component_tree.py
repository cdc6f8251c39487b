"""The component tree widget on its own (pytest-qt under pytest-xvfb): hiding and isolating a
node's own geometry apart from its children, and the search box across models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402

from twinviewer.core.model import ModelBuilder, ModelData  # noqa: E402
from twinviewer.formats import read_model  # noqa: E402
from twinviewer.ui.components.tree import OWN_SUFFIX, QtComponentTree  # noqa: E402


def tri() -> tuple[np.ndarray, np.ndarray]:
    return np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], float), np.array([[0, 1, 2]])


def truck() -> ModelData:
    """Like Khronos' CesiumMilkTruck: a root node with a mesh of its own and children."""
    b = ModelBuilder("truck")
    group = b.add("fleet")
    body = b.add("truck", group, *tri())
    b.add("wheel_front", body, *tri())
    b.add("wheel_rear", body, *tri())
    b.add("trailer", group, *tri())
    return b.build()


@pytest.fixture
def tree(qtbot) -> QtComponentTree:
    from twinviewer.ui.application import create_app

    create_app()
    widget = QtComponentTree()
    qtbot.addWidget(widget)
    return widget


def states(tree: QtComponentTree) -> list[Qt.CheckState]:
    return [item.checkState(0) for item in tree._items]


def test_nested_gltf_nodes_with_meshes_get_an_own_geometry_row(
    tree: QtComponentTree, corpus: Path, qtbot
) -> None:
    model = read_model(corpus / "meshes/gltf/nested.glb")  # block01 > block02 > block03
    tree.set_model(model, np.zeros(model.n_components, np.int64))
    b1, b2, b3 = (model.index_of(f"block0{k}") for k in (1, 2, 3))
    assert tree.has_own_geometry_row(b1) and tree.has_own_geometry_row(b2)
    assert not tree.has_own_geometry_row(b3)  # a leaf: its row is its geometry
    top = tree._items[b1]
    own = top.child(0)  # the first child row, above the node's children
    assert own is not None and own.text(0) == "block01" + OWN_SUFFIX
    # unchecking the own-geometry row hides block01's triangles only
    with qtbot.waitSignal(tree.visibilityChanged) as sig:
        tree._own_items[b1].setCheckState(0, Qt.CheckState.Unchecked)
    assert sig.args[0].tolist() == [True, False, False]
    assert top.checkState(0) == Qt.CheckState.PartiallyChecked  # the subtree is mixed
    # clicking the partly checked node (Qt turns it checked) shows the whole subtree again
    top.setCheckState(0, Qt.CheckState.Checked)
    assert not tree.hidden.any()
    # unchecking the node hides the whole subtree, as before
    top.setCheckState(0, Qt.CheckState.Unchecked)
    assert tree.hidden.all()
    assert tree._own_items[b1].checkState(0) == Qt.CheckState.Unchecked
    tree.show_all()
    assert states(tree) == [Qt.CheckState.Checked] * 3


def test_hide_and_isolate_subtree_or_own_geometry(tree: QtComponentTree) -> None:
    model = truck()
    tree.set_model(model, np.zeros(model.n_components, np.int64))
    fleet, body, front, rear, trailer = range(5)
    tree.select([body])
    tree.hide_selected()  # default: the subtree, as a CAD tree does
    assert tree.hidden.tolist() == [False, True, True, True, False]
    tree.show_all()
    tree.hide_selected(own_only=True)
    assert tree.hidden.tolist() == [False, True, False, False, False]
    assert states(tree)[body] == Qt.CheckState.PartiallyChecked
    tree.show_all()
    tree.isolate_selected(own_only=True)
    assert tree.hidden.tolist() == [False, False, True, True, True]  # the group stays checked
    tree.isolate_selected()
    assert tree.hidden.tolist() == [False, False, False, False, True]
    # isolating a wheel hides the body it hangs from: its own geometry is not the wheel's
    tree.select([front])
    tree.isolate_selected()
    assert tree.hidden.tolist() == [False, True, False, True, True]
    assert states(tree)[body] == Qt.CheckState.PartiallyChecked
    # a pick in the 3D view lands on own triangles: the own-geometry row is selected, and a
    # plain "Hide" then hides what was clicked, not the wheels with it
    tree.show_all()
    tree.select([body], own_geometry=True)
    assert tree._own_items[body].isSelected() and tree.selected() == [body]
    tree.hide_selected()
    assert tree.hidden.tolist() == [False, True, False, False, False]


def test_opening_another_model_clears_the_search(tree: QtComponentTree) -> None:
    model = truck()
    tree.set_model(model, np.zeros(model.n_components, np.int64))
    tree.search.setText("wheel")
    visible = [it.text(0) for it in tree._items if not it.isHidden()]
    assert "trailer" not in visible and "wheel_front" in visible
    tree.set_model(model, np.zeros(model.n_components, np.int64))
    assert tree.search.text() == ""
    assert not any(it.isHidden() for it in tree._items)
