"""The Field colour mode in the window: chosen from Colour by, drawn over the twin, following the
timeline, its method chosen from Data > Colour by > Field method."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.gui

FEED = 120.0


def test_the_methane_field_follows_the_timeline(qtbot, window, tmp_path: Path) -> None:
    from twinviewer.session.demos import demo_copy
    from twinviewer.ui.colouring import FIELD

    path, zero = demo_copy("mine", tmp_path, FEED, models=False)
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        window.open_project(path, sources=[])
    colouring = window.features["colouring"]
    scene = window.view.scene
    combo = colouring.combo
    index = combo.findData(FIELD + "methane")
    assert index >= 0 and combo.findData(FIELD + "airflow") >= 0
    assert combo.findData(FIELD + "current") < 0  # no positioned current sensors
    combo.activated.emit(index)
    wb = window.workbench
    assert wb.field_quantity == "methane" and wb.active_quantity == "methane"
    assert combo.currentData() == FIELD + "methane"
    assert colouring.field is not None and colouring.field.method == "geodesic"
    assert "field" in (scene.colour_bars.get("legend").GetTitle() or "")

    wb.timeline.current = zero + 20.0
    qtbot.waitUntil(lambda: np.isfinite(scene.point_field_values()).any(), timeout=5000)
    early = scene.point_field_values().copy()
    wb.timeline.current = zero + 110.0
    qtbot.waitUntil(
        lambda: not np.allclose(scene.point_field_values(), early, equal_nan=True), timeout=5000
    )
    field = colouring.field
    late = scene.point_field_values()
    shown = window.session.shown_value[field.sensors]
    np.testing.assert_allclose(late, field.values(window.session.shown_value))
    assert np.nanmin(late) >= shown.min() - 1e-9 and np.nanmax(late) <= shown.max() + 1e-9

    # the method from the menu: the same quantity, spread in a straight line now
    menu = next(
        a.menu() for a in colouring.menu.actions() if a.menu() and "Field method" in a.text()
    )
    idw = next(a for a in menu.actions() if a.text().startswith("Inverse distance"))
    idw.trigger()
    assert wb.field_method == "idw" and colouring.field.method == "idw"
    assert len(scene.point_field_values()) == len(colouring.field.points)

    # another colouring takes the field away
    combo.activated.emit(combo.findData(None))
    assert wb.field_quantity is None and scene.point_field_values() is None
