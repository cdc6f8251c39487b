"""Regenerate the screenshots in this folder: the real window, on a (virtual) screen.

    python docs/screenshots/make_screenshots.py        # starts Xvfb itself when there is no display

The mine runs its simulated feed at 10x so that the developing fault reaches its alarm colour.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from twinviewer.session.demos import demo_project
from twinviewer.ui.application import create_app
from twinviewer.ui.main_window import QtMainWindow

HERE = Path(__file__).resolve().parent


def pump(app: object, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.02)


def shot(window: QtMainWindow, name: str) -> None:
    window.view.render_now()
    window.grab().save(str(HERE / name))
    sys.stdout.write(f"wrote {HERE / name}\n")


def mqtt_shot(app: object, w: QtMainWindow) -> None:
    """The mine fed through a real mosquitto by `twinviewer simulate --mqtt`, with faults."""
    import shutil
    import socket
    import subprocess

    broker = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mine = demo_project("mine")
    project = mine.with_name("_screenshot.twin.yaml")
    project.write_text(mine.read_text().replace("127.0.0.1:1883", f"127.0.0.1:{port}"))
    procs = [subprocess.Popen([broker, "-p", str(port)], stderr=subprocess.DEVNULL)]
    time.sleep(0.5)
    try:
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "twinviewer",
                    "simulate",
                    str(project),
                    "--mqtt",
                    f"mqtt://127.0.0.1:{port}",
                    "--faults",
                    "--speed",
                    "10",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        w.open_project(project, sources=["mqtt"])
        w.wait_loaded()
        pump(app, 20.0)
        w.dock("Data sources").raise_()
        w.refresh_panels()
        pump(app, 0.6)
        shot(w, "mine-mqtt.png")
        w.dock("Data sources").grab().save(str(HERE / "connection-panel.png"))
    finally:
        w.close_session()
        for p in reversed(procs):
            p.terminate()
            p.wait(5)
        project.unlink()


def main() -> None:
    app = create_app()
    w = QtMainWindow()
    w.resize(1600, 1000)
    w.show()
    pump(app, 1.0)
    shot(w, "welcome.png")

    w.open_project(demo_project("mine"), speed=10.0)
    w.wait_loaded()
    pump(app, 3.0)
    shot(w, "mine-opened.png")
    pump(app, 25.0)  # ~4 simulated minutes: the fault is in alarm
    s = w.session
    assert s is not None
    worst = int(s.component_state.argmax())
    w.features["components"].tree.select([worst])
    w.workbench.selection = (worst,)
    w.features["views"].apply_saved_view("Level 3")
    w.refresh_panels()
    pump(app, 1.0)
    shot(w, "mine-live.png")
    # back in time, before the fault: the recorded history coloured on the same model
    assert s.history is not None
    s.history.flush()
    w.workbench.timeline.current = w.workbench.timeline.start + 0.35 * (
        w.workbench.timeline.end - w.workbench.timeline.start
    )
    w.refresh_panels()
    pump(app, 1.0)
    w.refresh_panels()
    shot(w, "mine-history.png")
    # the alarm list: a click on the first warning of the fault moves the timeline there
    w.features["alarms"].watcher.poke()
    pump(app, 1.5)
    listed = w.features["alarms"].alarm_list.listed()
    if len(listed):
        w.features["alarms"].alarm_list.select_row(
            len(listed) - 1
        )  # newest first: the last row is the first one
        w.refresh_panels()
        pump(app, 1.0)
        w.refresh_panels()
        shot(w, "mine-alarms.png")
    w.workbench.timeline.go_live()

    mqtt_shot(app, w)

    w.open_project(demo_project("locomotive"), speed=10.0)
    w.wait_loaded()
    pump(app, 20.0)
    s = w.session
    assert s is not None
    worst = int(s.component_state.argmax())
    w.features["components"].tree.select([worst])
    w.workbench.selection = (worst,)
    if "temperature" in s.quantities():
        w.features["colouring"].choose("temperature")
    pump(app, 1.0)
    shot(w, "locomotive-live.png")
    overlay_shots(app, w)
    scenario_shot(app, w)
    w.close()


def overlay_shots(app: object, w: QtMainWindow) -> None:
    """The locomotive's heat simulation on its motors and axle boxes, the fidelity table (axle
    4's bearing fault is where simulation and measurement part), then the residual colours."""
    s = w.session
    assert s is not None and s.project.overlays
    w.features["colouring"].choose(None)
    w.dock("Simulation").raise_()
    w.features["overlays"].panel.visible.setChecked(True)
    w.features["views"].apply_saved_view("Running gear")
    w.refresh_panels()
    table = w.features["overlays"].panel.table
    for r in range(table.rowCount()):
        if table.item(r, 0).text().lower().startswith("axle 4"):
            table.setCurrentCell(r, 0)
    pump(app, 1.0)
    w.refresh_panels()
    shot(w, "locomotive-overlay.png")
    w.features["overlays"].panel.residual.setChecked(True)
    w.features["views"].apply_saved_view("Overview")
    pump(app, 1.0)
    w.refresh_panels()
    shot(w, "locomotive-residual.png")


def scenario_shot(app: object, w: QtMainWindow) -> None:
    """What-if: the same locomotive run without its bearing fault, recorded headless as a
    scenario, side by side with the live baseline (one camera, one timeline)."""
    from twinviewer.session.scenario_runs import record_simulated

    s = w.session
    assert s is not None
    w.features["overlays"].panel.residual.setChecked(False)
    w.features["overlays"].panel.visible.setChecked(False)
    record_simulated(
        s.project,
        s.folder,
        s.path,
        "no bearing fault",
        start=w.session_start,
        duration=600.0,
        updates={"speed": 10.0},
        without_faults=True,
        description="the demo feed without the axle 4 bearing fault",
        replace=True,
    )
    w.features["scenarios"].compare_scenario("no bearing fault", "side")
    w.features["views"].apply_saved_view("Overview")
    w.features["components"].zoom_to(
        [s.model.index_of("bogie_rear")]
    )  # axle 4 is in the rear bogie
    pump(app, 1.5)
    w.refresh_panels()
    assert w.features["scenarios"].compare_view is not None
    w.features["scenarios"].compare_view.render_now()
    shot(w, "locomotive-scenario.png")
    w.features["scenarios"].stop_comparing()


if __name__ == "__main__":
    main()
