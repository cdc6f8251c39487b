"""The Fleet dock: sorted by health, searched and filtered; selecting a unit makes the 3D
colours, the inspector and the caption follow."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.test_fleet import FLEET, _stl
from twinviewer.core.colour import STATUS_COLOURS, Status
from twinviewer.core.samples import SampleBatch

pytestmark = pytest.mark.gui


@pytest.fixture
def fleet_window(window, qtbot, tmp_path: Path):
    _stl(tmp_path / "pumps.stl")
    path = tmp_path / "pumps.twin.yaml"
    path.write_text(FLEET.format(discover="true"))
    window.open_project(path)
    qtbot.waitUntil(lambda: window.session is not None, timeout=30000)
    return window


def _feed(window, values: list[float]) -> None:
    import time

    s = window.session
    now = time.time()
    s.queue.put(SampleBatch.of(range(len(values)), [now] * len(values), values))
    window.tick(force=True)
    window.refresh_panels()


def test_fleet_dock_sorts_filters_and_selects(fleet_window, qtbot) -> None:
    from twinviewer.ui.fleet.feature import FleetFeature
    from twinviewer.ui.inspector.feature import InspectorFeature

    w = fleet_window
    s = w.session
    feature = w.feature(FleetFeature)
    table = feature.table
    assert w.dock("Fleet").isVisible()
    # p1 normal, p2 temperature alarm (casing), p3 vibration warning (casing)
    _feed(w, [20, 2, 30, 95, 2, 30, 20, 8, 30])
    assert table.shown_units() == ["p2", "p3", "p1"]  # worst first
    model = table.model
    assert model.data(model.index(0, 1)) == "Out of specification"  # p2, on top
    assert "95 degC" in model.data(model.index(0, 3))
    # sortable by every column: by unit id
    table.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    assert table.shown_units() == ["p1", "p2", "p3"]
    table.view.sortByColumn(1, Qt.SortOrder.DescendingOrder)  # back to health
    table.search.setText("p3")
    assert table.shown_units() == ["p3"]
    table.search.setText("")
    table.state.setCurrentText("Maintenance required")
    assert table.shown_units() == ["p3"]
    table.state.setCurrentText("All states")

    casing = s.binding.component_nodes["casing"][0]
    cells = s.model.cell_component == casing
    w.workbench.selection = (casing,)
    p1_colour = w.view.scene.cell_colours()[cells][0].copy()
    assert not np.array_equal(p1_colour, STATUS_COLOURS[Status.ALARM])
    # select p2 in the table: the 3D colours, the inspector and the caption follow
    row = table.shown_units().index("p2")
    qtbot.mouseClick(
        table.view.viewport(),
        Qt.MouseButton.LeftButton,
        pos=table.view.visualRect(table.model.index(row, 0)).center(),
    )
    assert s.fleet.selected == "p2"
    assert np.array_equal(w.view.scene.cell_colours()[cells][0], STATUS_COLOURS[Status.ALARM])
    inspector = w.feature(InspectorFeature).inspector
    qtbot.waitUntil(lambda: inspector.sensor_ids() == ["p2/temp", "p2/vib"], timeout=5000)
    assert "p2" in w.windowTitle() and "p2" in table.caption.text()


def test_discovered_unit_appears_in_the_dock(fleet_window) -> None:
    from twinviewer.ui.fleet.feature import FleetFeature

    w = fleet_window
    s = w.session
    table = w.feature(FleetFeature).table
    _feed(w, [20, 2, 30] * 3)
    i = s.fleet.index.get("p9/temp")  # a source meets a new unit
    import time

    s.queue.put(SampleBatch.of([i], [time.time()], [99.0]))
    w.tick(force=True)
    w.refresh_panels()
    assert "p9" in table.shown_units() and table.shown_units()[0] == "p9"
    assert len(s.sensors) == 12
