"""Prediction in the window: the mine demo's fan-bearing fault is predicted before it alarms.

The demo's history is built quickly (the simulator run headless up to 120 s of feed, stamped so
that it ends now) in a copy of the demo beside its trained models; the window opens it with no
live source, scores it on the health watcher and shows what the models say.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.gui

FEED = 120.0  # seconds of feed recorded: the fault is on its way, the alarm (170 s) not yet
ALARM_AT = 170.0  # the simulator's fault reaches the alarm limit at start + duration


def mine_copy(tmp_path: Path, models: bool = True) -> tuple[Path, float]:
    """The mine demo in ``tmp_path`` with FEED seconds of history ending now; the epoch time of
    feed second 0."""
    from twinviewer.session.demos import demo_copy

    return demo_copy("mine", tmp_path, FEED, models)


def open_scored(qtbot, window, path: Path) -> None:
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        window.open_project(path, sources=[])
    health = window.features["health"]
    qtbot.waitUntil(
        lambda: health.scored > 0 and window.workbench.health is not None, timeout=20000
    )


def predicted_rows(window, sensor: str):
    from twinviewer.core.colour import Status
    from twinviewer.ui.alarms.rows import PREDICTED

    lst = window.features["alarms"].alarm_list
    rows = lst.model.intervals
    ids = lst.model.sensor_ids
    return [
        r
        for r in rows
        if int(r["kind"]) == PREDICTED
        and ids[int(r["sensor"])] == sensor
        and int(r["level"]) == Status.ALARM
    ]


def test_fan_fault_is_a_predicted_alarm_before_it_alarms(qtbot, window, tmp_path: Path) -> None:
    path, zero = mine_copy(tmp_path)
    open_scored(qtbot, window, path)
    true_alarm = zero + ALARM_AT
    wb = window.workbench

    # live edge (feed 120 s): the alarm list shows the predicted alarm, no real one yet
    qtbot.waitUntil(lambda: len(predicted_rows(window, "l3_fan_vibration")) == 1, timeout=10000)
    (row,) = predicted_rows(window, "l3_fan_vibration")
    assert row["start"] < true_alarm + 30  # expected around the true time...
    assert row["early"] <= true_alarm <= row["late"]  # ...whose interval holds it
    lst = window.features["alarms"].alarm_list
    real = [
        r for r in lst.model.intervals
        if int(r["kind"]) == 0 and lst.model.sensor_ids[int(r["sensor"])] == "l3_fan_vibration"
        and int(r["level"]) == 5
    ]  # fmt: skip
    assert real == []
    shown = [lst.model.index(r, 0).data() for r in range(lst.model.rowCount())]
    assert "Predicted alarm" in shown

    # scrub back to 65 s before the alarm: what the models said then already predicted it
    wb.timeline.current = zero + ALARM_AT - 65.0
    qtbot.waitUntil(lambda: len(predicted_rows(window, "l3_fan_vibration")) == 1, timeout=5000)
    (early_row,) = predicted_rows(window, "l3_fan_vibration")
    assert early_row["at"] <= true_alarm - 60.0
    assert early_row["early"] <= true_alarm <= early_row["late"]

    # the fan's group is anomalous, and an anomaly event is listed for it
    from twinviewer.ui.alarms.rows import ANOMALY

    events = [r for r in lst.model.intervals if int(r["kind"]) == ANOMALY]
    assert any(lst.model.sensor_ids[int(r["sensor"])] == "anomaly/l3_booster_fan" for r in events)
    assert not any(
        lst.model.sensor_ids[int(r["sensor"])] != "anomaly/l3_booster_fan" for r in events
    )


def test_health_colours_and_inspector(qtbot, window, tmp_path: Path) -> None:
    from twinviewer.predict.health import health_rgba
    from twinviewer.ui.colouring import HEALTH, HEALTH_LABEL

    path, zero = mine_copy(tmp_path)
    open_scored(qtbot, window, path)
    s = window.session
    colouring = window.features["colouring"]
    assert colouring.combo.findData(HEALTH) >= 0
    assert colouring.combo.itemText(colouring.combo.findData(HEALTH)) == HEALTH_LABEL
    colouring.choose_health()
    assert window.workbench.health_colours
    window.redraw()
    colours = window.view.scene.component_colours
    fan = s.binding.component_nodes["l3_booster_fan"][0]
    healthy = s.binding.component_nodes["l1_booster_fan"][0]
    assert tuple(colours[fan][:3]) == tuple(health_rgba(np.array([0.0]))[0][:3])  # red: failing
    assert colours[healthy][1] > colours[healthy][0]  # green dominates: healthy

    window.workbench.selection = (fan,)
    window.refresh_panels()
    props = window.features["inspector"].inspector.properties()
    assert props["Health"].endswith("(anomalous)")
    assert "l3_fan_vibration" in props["Driven by"]
    assert props["Forecast"].startswith("l3_fan_vibration: alarm in")

    colouring.choose(None)  # back to the sensors' colours
    assert not window.workbench.health_colours


def test_without_models_nothing_is_predicted(qtbot, window, tmp_path: Path) -> None:
    from twinviewer.ui.colouring import HEALTH

    path, _ = mine_copy(tmp_path, models=False)
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        window.open_project(path, sources=[])
    assert window.session.prediction is None
    assert window.features["colouring"].combo.findData(HEALTH) == -1
    window.refresh_panels()
    assert window.workbench.health is None
    assert predicted_rows(window, "l3_fan_vibration") == []


def test_broken_model_file_is_reported_and_the_twin_opens(qtbot, window, tmp_path, monkeypatch):
    path, _ = mine_copy(tmp_path)
    (tmp_path / "mine.models" / "models.json").write_text("{not json")
    errors: list[tuple[str, str]] = []
    monkeypatch.setattr(window, "error", lambda title, msg: errors.append((title, msg)))
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        window.open_project(path, sources=[])
    assert window.session is not None and window.session.prediction is None
    assert errors and errors[0][0] == "Prediction is off"
    assert "models.json" in errors[0][1] and "not a TwinViewer model index" in errors[0][1]
