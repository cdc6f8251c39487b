"""The fleet demo in View > Fleet overview: twelve locomotives in a depot row, each in its NE 107
state's colour; loco-07's axle-4 bearing has been in alarm long enough to be a failure, loco-11
has sent nothing (check function), loco-03 has a winding temperature in warning (maintenance
required), loco-07 is the selected unit (outlined).

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/screenshots/make_fleet_overview.py

Writes ``fleet-depot-row.png`` at 1600x1000 and ``fleet-depot-row-small.png`` at 1024x700.
The data are fed to the session directly (no simulator, so the picture does not depend on how
long the simulator ran); the fleet's ``failure_after`` is shortened to two seconds so that the
alarm becomes a failure while the script waits, as it would after ten minutes.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from make_screenshots import pump  # the same folder: run as a script
from PySide6.QtWidgets import QApplication

from twinviewer.core.samples import SampleBatch
from twinviewer.session.demos import demo_project
from twinviewer.ui.application import create_app
from twinviewer.ui.fleet.overview import FleetOverviewFeature
from twinviewer.ui.main_window import QtMainWindow

HERE = Path(__file__).resolve().parent


def _feed(w: QtMainWindow, app: QApplication, hot: bool) -> None:
    """Every sensor at the middle of its normal band; loco-11 silent; loco-07's axle-4 bearing
    above its alarm limit and loco-03's first traction motor above its warning limit."""
    s = w.session
    assert s is not None and s.fleet is not None
    r = s.rules
    lo = np.where(np.isfinite(r.warn_low), r.warn_low, r.lo)
    hi = np.where(np.isfinite(r.warn_high), r.warn_high, r.hi)
    values = (lo + hi) / 2
    ids = {x.id: i for i, x in enumerate(s.sensors)}
    if hot:
        i = ids["loco-07/axle4_bearing_temperature"]
        values[i] = r.alarm_high[i] + 8
    i = ids["loco-03/tm1_winding_temperature"]
    values[i] = (r.warn_high[i] + r.alarm_high[i]) / 2
    keep = np.array([not x.id.startswith("loco-11/") for x in s.sensors])
    index = np.flatnonzero(keep)
    now = time.time()
    s.queue.put(SampleBatch.of(index, np.full(len(index), now), values[keep]))
    w.tick(force=True)
    w.refresh_panels()
    pump(app, 0.2)


def shot(app: QApplication, size: tuple[int, int], name: str) -> None:
    w = QtMainWindow()
    w.resize(*size)
    w.show()
    w.open_project(demo_project("fleet"), sources=[])
    while w.session is None:
        pump(app, 0.2)
    pump(app, 1.0)
    w.resize(*size)  # opening fits the window to the screen; the size wanted again
    pump(app, 0.5)
    s = w.session
    assert s is not None and s.fleet is not None
    s.fleet.config.failure_after = 2.0  # see the module docstring
    w.workbench.timeline.go_live()  # no live source: the clock is followed only when asked
    _feed(w, app, hot=True)
    time.sleep(2.5)
    _feed(w, app, hot=True)
    w.features["fleet"].select("loco-07")  # type: ignore[attr-defined]
    w.feature(FleetOverviewFeature).toggle(True)
    w.refresh_panels()
    pump(app, 0.5)
    w.view.render_now()
    w.grab().save(str(HERE / name))
    sys.stdout.write(f"wrote {HERE / name}\n")
    w.close()


def main() -> None:
    app = create_app()
    shot(app, (1600, 1000), "fleet-depot-row.png")
    shot(app, (1024, 700), "fleet-depot-row-small.png")


if __name__ == "__main__":
    main()
