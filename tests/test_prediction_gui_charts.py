"""The models' forecast on the charts and the timeline: the mine fan's bearing fault.

The mine demo's history is built quickly (its simulator run headless for 120 s of feed, stamped
so that it ends now: the fault is on its way, its alarm at 170 s not yet) in a copy of the demo
beside its trained models; the window opens it with no live source and the health watcher
scores it. The chart of ``l3_fan_vibration`` then shows a dashed forecast with its 95% band that
reaches the alarm limit at the predicted time, and the timeline a hollow predicted-alarm marker
after its live edge. Without models nothing predicted is drawn.
"""

from __future__ import annotations

import gc
import math
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QEvent, QPoint, Qt  # noqa: E402
from PySide6.QtGui import QHelpEvent  # noqa: E402
from PySide6.QtWidgets import QToolTip  # noqa: E402

from tests.conftest import ASSETS  # noqa: E402

pytestmark = pytest.mark.gui

FEED = 120.0  # seconds of feed recorded: the fault is on its way, the alarm not yet
ALARM_AT = 170.0  # feed second at which the simulated fault passes the alarm limit (11 mm/s)
ALARM_LIMIT = 11.0
SENSOR = "l3_fan_vibration"


@pytest.fixture(autouse=True)
def _delete_closed_windows():
    """Delete earlier tests' windows on the GUI thread before this one opens (see
    tests/test_gaps_gui.py: a deferred delete reaching a dead object can crash the next)."""
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is not None:
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


def mine_copy(tmp_path: Path, models: bool = True) -> tuple[Path, float]:
    """The mine demo in ``tmp_path`` with FEED seconds of history ending now, and the epoch
    time of feed second 0."""
    from twinviewer.core.project import SimulatorSource, load_project
    from twinviewer.core.samples import SampleBatch
    from twinviewer.history.store import HistoryStore
    from twinviewer.sources.simulator import simulate

    src = ASSETS / "mine"
    shutil.copy(src / "mine.twin.yaml", tmp_path / "mine.twin.yaml")
    (tmp_path / "mine.glb").symlink_to(src / "mine.glb")
    (tmp_path / "sim").symlink_to(src / "sim")
    if models:
        shutil.copytree(src / "mine.models", tmp_path / "mine.models")
    project, _ = load_project(tmp_path / "mine.twin.yaml")
    sim = project.sources[0]
    assert isinstance(sim, SimulatorSource)
    batch = simulate(project, sim, FEED)
    zero = time.time() - FEED - 2.0
    store = HistoryStore.open(tmp_path / "mine.history", [s.id for s in project.sensors])
    store.append(SampleBatch(batch.sensor, batch.time + zero, batch.value))
    store.close()
    return tmp_path / "mine.twin.yaml", zero


def open_fan(qtbot, window, path: Path, scored: bool = True) -> None:
    """Open with no live source, wait for the models' first pass, select the level 3 fan."""
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        window.open_project(path, sources=[])
    if scored:
        health = window.features["health"]
        qtbot.waitUntil(
            lambda: health.scored > 0 and window.workbench.health is not None, timeout=15000
        )
    s = window.session
    window.workbench.selection = (s.model.index_of("l3_booster_fan"),)


def chart_row(window, sensor: str):
    panel = window.features["charts"].panel
    return panel, next(r for r in panel.rows if r.sensor.id == sensor)


def test_chart_forecast_band_reaches_the_alarm_limit_when_predicted(
    qtbot, window, tmp_path: Path
) -> None:
    path, zero = mine_copy(tmp_path)
    open_fan(qtbot, window, path)
    wb = window.workbench
    state = wb.health
    panel, row = chart_row(window, SENSOR)
    qtbot.waitUntil(lambda: (f := panel.forecast.of(row)) is not None and f.shown, timeout=5000)
    fc = panel.forecast.of(row)
    assert fc is not None

    # drawn on the vibration row's plot, dashed and translucent, from the state's time on
    for item in (fc.mean, fc.band):
        assert item.scene() is row.plot.scene() and item.isVisible()
    assert fc.mean.opts["pen"].style() == Qt.PenStyle.DashLine
    assert fc.band.brush().color().alpha() < 80
    t, mean, lo, hi = fc.data()
    assert t[0] == pytest.approx(state.time)
    assert np.all(lo <= mean) and np.all(mean <= hi) and np.all(np.diff(t) > 0)

    # the predicted alarm: a tick where the mean reaches 11 mm/s, labelled with its interval
    (tick,) = [k for k in fc.ticks if k.predicted.is_alarm]
    p = tick.predicted
    assert p.sensor_id == SENSOR and p.limit == ALARM_LIMIT
    assert mean[0] < ALARM_LIMIT < mean[-1]  # the line is seen passing the limit
    t_cross = float(np.interp(ALARM_LIMIT, mean, t))
    assert float(tick.line.value()) == pytest.approx(t_cross, abs=1.0)
    assert tick.line.scene() is row.plot.scene()
    assert tick.line.pen.style() == Qt.PenStyle.DashLine
    assert p.early < p.time < p.late
    truth = zero + ALARM_AT
    assert wb.timeline.end < p.time < truth + (p.late - p.early)  # ahead, and about right
    label = tick.label.toPlainText()
    assert label.startswith("alarm in ") and " s (" in label
    assert "–" in label or label.endswith(" or later)")  # a slowing drift: open-ended
    lo_at, hi_at = np.interp(p.time, t, lo), np.interp(p.time, t, hi)
    assert lo_at < ALARM_LIMIT < hi_at
    # the view (all data, opened without a live source) makes room for the forecast past
    # the crossing, up to half its width
    x0, x1 = panel.x_range()
    assert x0 < state.time and x1 > p.time
    assert x1 >= min(t[-1], wb.timeline.end + 0.5 * wb.timeline.span) - 1e-6
    # and the row's y range holds the limit the band reaches
    y0, y1 = row.plot.getViewBox().viewRange()[1]
    assert y0 < ALARM_LIMIT < y1

    # only departing sensors get a forecast: the fan's other sensors stay as they are
    departing = state.departing()
    for other in panel.rows:
        f = panel.forecast.of(other)
        assert (f is not None and f.shown) == bool(departing[other.index])

    # no models' view (the health cleared): the forecast goes
    wb.health = None
    assert not fc.shown and fc.ticks == [] and tick.line.scene() is None


def test_timeline_shows_the_predicted_alarm_after_the_live_edge(
    qtbot, window, tmp_path: Path
) -> None:
    path, zero = mine_copy(tmp_path)
    open_fan(qtbot, window, path)
    wb = window.workbench
    bar = window.features["timeline"].bar
    zone = bar.zone
    qtbot.waitUntil(zone.isVisible, timeout=5000)
    edge = wb.timeline.end

    alarms = [(x, p) for x, p in zone.markers() if p.sensor_id == SENSOR and p.is_alarm]
    assert len(alarms) == 1
    x, p = alarms[0]
    truth = zero + ALARM_AT
    assert edge < p.time < truth + (p.late - p.early)
    # drawn in its own space right of the slider, at its time on the zone's scale
    assert zone.geometry().left() >= bar.slider.geometry().right()
    assert zone.edge == edge and zone.span >= p.time - edge
    assert 0 < x < zone.width()
    assert x == pytest.approx(zone.x_of(p.time))
    assert zone.x_of(edge) < x < zone.x_of(edge + zone.span)

    # its tooltip names the sensor, the level and the interval
    tip = zone.tooltip_at(x)
    assert "Predicted alarm" in tip and SENSOR in tip and "95% interval" in tip
    assert "11 mm/s" in tip
    zone.event(QHelpEvent(QEvent.Type.ToolTip, QPoint(round(x), 4), zone.mapToGlobal(QPoint())))
    assert SENSOR in QToolTip.text()
    QToolTip.hideText()
    # away from a marker: what the zone is
    assert "Predicted: the next" in zone.tooltip_at(zone.width() - 1.0 if x < 20 else 1.0)

    # the timeline is not extended into the future: the current time stops at the live edge
    assert bar.view_range()[1] == edge
    wb.timeline.current = p.time
    assert wb.timeline.current == edge
    # the real alarm markers are all in the past
    times, _ = bar.markers()
    assert np.all(times <= edge)

    # no models' view: the zone goes
    wb.health = None
    assert not zone.isVisible() and zone.markers() == []


def test_nothing_predicted_without_models(qtbot, window, tmp_path: Path) -> None:
    path, _zero = mine_copy(tmp_path, models=False)
    open_fan(qtbot, window, path, scored=False)
    wb = window.workbench
    assert window.session.prediction is None
    qtbot.wait(600)  # a refresh or two: nothing arrives
    assert wb.health is None
    panel, row = chart_row(window, SENSOR)
    s = window.session
    fan = s.binding.sensor_nodes[s.sensor_index[SENSOR]]
    on_fan = [k for k in range(len(s.sensors)) if s.binding.sensor_nodes[k] == fan]
    assert len(panel.rows) == len(on_fan) >= 3  # a row for each of the fan's sensors
    assert all(f is None or not f.shown for f in map(panel.forecast.of, panel.rows))
    assert math.isnan(panel.forecast.end)
    bar = window.features["timeline"].bar
    assert not bar.zone.isVisible() and bar.zone.markers() == []
    # the chart's view ends where the data ends (no room kept for a forecast)
    assert panel.x_range()[1] == pytest.approx(wb.timeline.end, abs=1e-6)


def test_crossing_texts() -> None:
    from twinviewer.ui.timeline.predictions import crossing_label, format_duration, format_span
    from twinviewer.ui.timeline.zone import zone_span

    assert crossing_label("alarm", 173.0, 142.0, 209.0, 100.0) == "alarm in 73 s (42–109 s)"
    assert crossing_label("warning", 100.0, 90.0, 130.0, 100.0, now=105.0).startswith("warning due")
    assert format_duration(250.0) == "4 min 10 s"
    assert format_duration(7500.0) == "2 h 05 min"
    assert format_span(30.0, math.inf) == "30 s or later"
    assert zone_span(31.0) == 60.0 and zone_span(55.0) == 120.0
