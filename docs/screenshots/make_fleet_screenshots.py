"""The Fleet dock with the locomotive fleet demo running.

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/screenshots/make_fleet_screenshots.py

A copy of the fleet demo with four minutes of its simulated feed recorded (so that loco-07's
axle-4 bearing is already in alarm and loco-11 has gone stale) is opened with the simulator
running; the faulty unit is on top of the list and is selected, so the 3D view shows its hot
axle box. Writes ``fleet-dock.png`` (1600x1000) and ``fleet-dock-small.png`` (1024x700).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from make_screenshots import pump, shot

from twinviewer.session.demos import demo_copy
from twinviewer.ui.application import create_app
from twinviewer.ui.fleet.feature import FleetFeature
from twinviewer.ui.main_window import QtMainWindow


def main() -> int:
    app = create_app()
    # the recorded feed ends now; the live simulator starts again at its second 0, so the
    # recorded minutes are what the units show: run the feed on from where it is instead
    path, _zero = demo_copy("fleet", Path(tempfile.mkdtemp(prefix="tv-fleet-")), 0.0, False)
    w = QtMainWindow()
    w.resize(1600, 1000)
    w.show()
    w.open_project(path, speed=12.0)  # twelve simulated seconds a second: the fault in 15 s
    while w.session is None:
        pump(app, 0.2)
    feature = w.feature(FleetFeature)
    pump(app, 20.0)
    first = feature.table.shown_units()[0]
    feature.select(first)
    pump(app, 1.5)
    shot(w, "fleet-dock.png")
    w.resize(1024, 700)
    pump(app, 1.5)
    shot(w, "fleet-dock-small.png")
    w.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
