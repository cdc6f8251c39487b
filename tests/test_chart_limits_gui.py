"""Limits edited on a chart: a warning or alarm line dragged with the mouse is written to the
project file (comments kept), recolours the twin, and is undone with Ctrl+Z; a drag that would
make no sense snaps back and the status bar says why."""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from twinviewer.core.colour import WARNING_COLOUR, Status  # noqa: E402
from twinviewer.core.project import Limits, Sensor, load_project  # noqa: E402
from twinviewer.core.samples import SampleBatch  # noqa: E402
from twinviewer.ui.charts.limit_drag import LimitLine, moved_limit, snap  # noqa: E402

from .conftest import BUILDING_PROJECT  # noqa: E402

pytestmark = pytest.mark.gui

COMMENTED = "# Building twin: limits tuned on site\n" + BUILDING_PROJECT.replace(
    "sensors:\n", "sensors:  # one per floor\n"
)


@pytest.fixture
def project(corpus: Path, tmp_path: Path) -> Path:
    model = corpus / "meshes" / "gltf" / "no_indices_3storybuilding.glb"
    path = tmp_path / "building.twin.yaml"
    path.write_text(COMMENTED.format(model=model))
    return path


def open_on_floor_0(qtbot, window, path: Path):
    """The twin open, F0_T reading 50 degC, floor_0 selected: its chart shows F0_T."""
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        window.open_project(path)
    feed_50(window)
    window.workbench.selection = (window.session.model.index_of("floor_0"),)
    panel = window.features["charts"].panel
    qtbot.waitUntil(lambda: [r.sensor.id for r in panel.rows] == ["F0_T"], timeout=5000)
    qtbot.wait(300)  # the docks settle: a drag maps values to pixels of the final layout
    return panel


def feed_50(window) -> None:
    s = window.session
    s.queue.put(SampleBatch.of([0], [time.time()], [50.0]))
    window.tick(force=True)


def floor_0_cells(window) -> np.ndarray:
    s = window.session
    i = s.model.index_of("floor_0")
    return window.view.scene.cell_colours()[s.model.cell_component == i]


def floor_0_state(window) -> Status:
    s = window.session
    return Status(int(s.component_state[s.model.index_of("floor_0")]))


def drag_line(qtbot, panel, line: LimitLine, to: float) -> None:
    """Press on the line, move in steps and release, as a mouse does (the events go to the
    chart's viewport, where pyqtgraph turns them into a drag of the item under the cursor)."""
    row = next(r for r in panel.rows if line in r.limit_lines.values())
    vb = row.plot.getViewBox()
    x = float(np.mean(vb.viewRange()[0]))
    viewport = panel.view.viewport()

    def at(y: float) -> QPoint:
        return panel.view.mapFromScene(vb.mapViewToScene(QPointF(x, y)))

    def send(kind: QEvent.Type, pos: QPoint, buttons: Qt.MouseButton) -> None:
        button = (
            Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else Qt.MouseButton.LeftButton
        )
        event = QMouseEvent(
            kind,
            QPointF(pos),
            QPointF(viewport.mapToGlobal(pos)),
            button,
            buttons,
            Qt.KeyboardModifier.NoModifier,
        )
        QApplication.sendEvent(viewport, event)

    start = at(float(line.value()))
    left = Qt.MouseButton.LeftButton
    send(QEvent.Type.MouseMove, start, Qt.MouseButton.NoButton)  # hover: the label shows
    send(QEvent.Type.MouseButtonPress, start, left)
    y0 = float(line.value())
    for k in range(1, 11):
        send(QEvent.Type.MouseMove, at(y0 + (to - y0) * k / 10), left)
        qtbot.wait(5)
    assert line.moving and line.label.isVisible()  # the value shown while dragging
    assert line.label.toPlainText().startswith(f"{line.level} {line.side} ")
    assert line.label.toPlainText().endswith(" degC")
    send(QEvent.Type.MouseButtonRelease, at(to), Qt.MouseButton.NoButton)


def key(qtbot, window, k, modifiers) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    chart = window.features["charts"].panel.view  # focus in the charts: their undo history
    chart.setFocus()
    qtbot.keyClick(chart, k, modifiers)


def test_dragging_the_warning_line_writes_recolours_and_undoes(qtbot, window, project) -> None:
    original = project.read_text()
    panel = open_on_floor_0(qtbot, window, project)
    assert floor_0_state(window) == Status.NORMAL  # 50 degC, warning above 60
    line = panel.limit_drag.line("F0_T", "warning.high")
    assert line is not None and line.movable
    assert line.cursor().shape() == Qt.CursorShape.SizeVerCursor
    assert "Drag to change the warning limit" in line.toolTip()

    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        drag_line(qtbot, panel, line, 40.0)
    text = project.read_text()
    assert text != original
    f0 = {s.id: s for s in load_project(project)[0].sensors}["F0_T"]
    assert f0.warning is not None and f0.warning.high == pytest.approx(40.0, abs=0.5)
    assert f0.alarm == Limits(high=80)
    for comment in ("# Building twin: limits tuned on site", "# one per floor"):
        assert comment in text  # comments kept
    assert window.statusBar().currentMessage().startswith("F0_T: warning high ")
    assert window.action("edit.undo").text() == "&Undo warning high limit of F0_T"

    # the twin reopened with the new limit: 50 degC is now a warning, on the part and the chart
    feed_50(window)
    assert floor_0_state(window) == Status.WARNING
    assert (floor_0_cells(window) == WARNING_COLOUR).all()
    qtbot.waitUntil(lambda: [r.sensor.id for r in panel.rows] == ["F0_T"], timeout=5000)
    assert panel.rows[0].limit_lines["warning.high"].value() == f0.warning.high
    assert panel.rows[0].state_of(50.0) == "warning"

    # Ctrl+Z: the file as it was, the part normal again; Ctrl+Shift+Z: the new limit back
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert project.read_text() == original
    feed_50(window)
    assert floor_0_state(window) == Status.NORMAL
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        key(
            qtbot,
            window,
            Qt.Key.Key_Z,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
        )
    assert project.read_text() == text


def test_an_invalid_drag_snaps_back_and_says_why(qtbot, window, project) -> None:
    original = project.read_text()
    panel = open_on_floor_0(qtbot, window, project)
    opened: list[object] = []
    window.sessionOpened.connect(opened.append)
    line = panel.limit_drag.line("F0_T", "warning.high")
    assert line is not None
    drag_line(qtbot, panel, line, 90.0)  # above the alarm (80)
    qtbot.wait(200)
    assert project.read_text() == original and opened == []
    assert line.value() == 60.0  # snapped back
    message = window.statusBar().currentMessage()
    assert "F0_T: limit not changed" in message
    said = re.search(
        r"the high warning \((\d+(?:\.\d+)?) degC\) must be below the high alarm \(80 degC\)",
        message,
    )
    assert said is not None and float(said.group(1)) > 80  # where the mouse let go (~90)

    # the same path without the mouse: the line moved and let go, out of the sensor's range
    alarm = panel.limit_drag.line("F0_T", "alarm.high")
    assert alarm is not None
    alarm.setValue(130.0)
    alarm.sigPositionChangeFinished.emit(alarm)
    assert alarm.value() == 80.0
    assert "outside the range of F0_T (0 degC to 100 degC)" in window.statusBar().currentMessage()
    assert project.read_text() == original


def test_limits_of_a_bare_model_cannot_be_dragged(qtbot, window, corpus: Path) -> None:
    """A model opened without a project file has nowhere to write limits to."""
    model = corpus / "meshes" / "gltf" / "no_indices_3storybuilding.glb"
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        window.open_project(model)
    panel = window.features["charts"].panel
    assert not panel.limit_drag.editable


def sensor(**kw) -> Sensor:
    base = dict(id="P1", quantity="pressure", unit="bar", range=(0, 10))
    return Sensor.model_validate({**base, **kw})


def test_moved_limit_rules() -> None:
    s = sensor(warning={"low": 2, "high": 7}, alarm={"low": 1, "high": 9})
    assert moved_limit(s, "warning", "high", 8.0).warning == Limits(low=2, high=8)
    assert moved_limit(s, "alarm", "low", 0.5).alarm == Limits(low=0.5, high=9)
    for level, side, value, why in [
        ("warning", "high", 9.5, "must be below the high alarm (9 bar)"),
        ("warning", "low", 0.5, "must be above the low alarm (1 bar)"),
        ("alarm", "high", 6.0, "must be below the high alarm (6 bar)"),
        ("warning", "low", 7.5, "warning.low (7.5 bar) must be below warning.high (7 bar)"),
        ("alarm", "high", 11.0, "outside the range of P1 (0 bar to 10 bar)"),
    ]:
        with pytest.raises(ValueError, match=why.replace("(", r"\(").replace(")", r"\)")):
            moved_limit(s, level, side, value)
    # a sensor with only an alarm: a warning can be dragged only where there is one
    assert moved_limit(sensor(alarm={"high": 9}), "alarm", "high", 8.0).alarm == Limits(high=8)
    assert snap(62.4999, 0.1) == 62.5 and snap(3.0000001, 1.0) == 3.0
