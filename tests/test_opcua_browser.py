"""The OPC UA binding dialog against a real server (serve_opcua), under Xvfb with pytest-qt."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")
pytest.importorskip("asyncua")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QDialog, QDialogButtonBox  # noqa: E402

from tests.test_opcua import PROJECT, Served, free_port  # noqa: E402
from twinviewer.core.project import OpcUaSource, Project, load_project  # noqa: E402

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    path = tmp_path_factory.mktemp("plant") / "plant.twin.yaml"
    path.write_text(PROJECT)
    return load_project(path)[0]


@pytest.fixture(scope="module")
def server(project: Project) -> Iterator[Served]:
    with Served(project, rate=5.0) as s:
        yield s


def dialog(qtbot, project: Project, endpoint: str, nodes: dict[str, str], folder: Path):
    from twinviewer.ui.application import create_app
    from twinviewer.ui.data_sources.opcua_browser import QtOpcUaBrowser

    create_app()
    cfg = OpcUaSource(type="opcua", id="plc", endpoint=endpoint, nodes=nodes)
    dlg = QtOpcUaBrowser(cfg, project.sensors, folder)
    qtbot.addWidget(dlg)
    return dlg


def test_tree_fills_and_binding_a_node_returns_the_mapping(
    qtbot, project: Project, server: Served, tmp_path: Path
) -> None:
    dlg = dialog(
        qtbot, project, server.endpoint, {"P1_T": "ns=2;s=P1_T", "GHOST": "ns=2;s=gone"}, tmp_path
    )
    assert dlg.tree.topLevelItemCount() == 0  # browsing runs on a thread, not in the constructor
    with qtbot.waitSignal(dlg.browsed, timeout=15000) as blocker:
        dlg.show()
    assert blocker.args == [4]
    twin = dlg.tree.topLevelItem(0)
    assert twin.text(0) == "Test plant" and twin.isExpanded()
    assert sorted(twin.child(i).text(0) for i in range(twin.childCount())) == [
        "AMB", "fan", "pump_1"]  # fmt: skip
    assert "4 variables" in dlg.status.text()

    # Existing bindings: one found on the server, one naming no sensor of the project.
    states = {dlg.table.item(r, 0).text(): dlg.table.item(r, 2).text() for r in range(2)}
    assert states == {"P1_T": "found", "GHOST": "no such sensor"}
    assert dlg._items["ns=2;s=P1_T"].text(3) == "P1_T"  # the tree's "Bound to" column

    # Pick a variable: the sensor named like it is suggested; Bind.
    assert dlg.select_node("ns=2;s=F_V")
    assert dlg.sensor_combo.currentData() == "F_V"
    assert "Double" in dlg.node_label.text()
    qtbot.mouseClick(dlg.bind_button, Qt.MouseButton.LeftButton)
    assert dlg.bindings() == {
        "P1_T": "ns=2;s=P1_T", "GHOST": "ns=2;s=gone", "F_V": "ns=2;s=F_V"}  # fmt: skip
    assert dlg._items["ns=2;s=F_V"].text(3) == "F_V"

    # A folder cannot be bound.
    dlg.select_node(twin.data(0, Qt.ItemDataRole.UserRole))
    assert not dlg.bind_button.isEnabled()

    # Remove the stale binding, bind the rest by name, OK.
    row = next(r for r in range(dlg.table.rowCount()) if dlg.table.item(r, 0).text() == "GHOST")
    dlg.table.selectRow(row)
    qtbot.mouseClick(dlg.remove_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dlg.auto_button, Qt.MouseButton.LeftButton)
    assert dlg.count_label.text() == "4 of 4 sensors bound"
    qtbot.mouseClick(
        dlg.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton
    )
    assert dlg.result() == QDialog.DialogCode.Accepted
    assert dlg.bindings() == {s.id: f"ns=2;s={s.id}" for s in project.sensors}

    # The filter hides what does not match.
    dlg.filter.setText("P1_I")
    pump = next(
        twin.child(i) for i in range(twin.childCount()) if twin.child(i).text(0) == "pump_1"
    )
    hidden = {pump.child(i).text(2): pump.child(i).isHidden() for i in range(pump.childCount())}
    assert hidden == {"ns=2;s=P1_T": True, "ns=2;s=P1_I": False}


def test_an_unreachable_server_is_shown_not_raised(qtbot, project: Project, tmp_path: Path) -> None:
    dlg = dialog(
        qtbot, project, f"opc.tcp://127.0.0.1:{free_port()}", {"AMB": "ns=2;s=AMB"}, tmp_path
    )
    with qtbot.waitSignal(dlg.failed, timeout=15000):
        dlg.show()
    assert "connection refused" in dlg.status.text()
    qtbot.waitUntil(dlg.refresh_button.isEnabled, timeout=5000)  # ready to try again
    assert dlg.tree.topLevelItemCount() == 0
    dlg.reject()
    assert dlg.bindings() == {"AMB": "ns=2;s=AMB"}  # unchanged
