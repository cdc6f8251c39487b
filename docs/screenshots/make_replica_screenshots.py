"""A viewer on a PostgreSQL streaming replica: the status bar says the history is read-only.

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/screenshots/make_replica_screenshots.py

Starts a throw-away primary and a hot standby of it (``twinviewer.history.pg_local``), records
the mine demo on the primary for a few seconds (``twinviewer record --history``), waits until
the standby replayed it, opens the mine on the standby (no live sources) and scrubs back into
what was recorded. Writes ``replica-viewer.png`` (1600x1000) and ``replica-viewer-small.png``
(1024x700), the whole window.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from make_screenshots import pump

from twinviewer.history.pg_local import LocalPostgres
from twinviewer.ui.application import create_app
from twinviewer.ui.main_window import QtMainWindow

HERE = Path(__file__).resolve().parent
MINE = HERE.parents[1] / "assets" / "mine"


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="tv-replica-"))
    shutil.copy(MINE / "mine.glb", folder / "mine.glb")
    project = folder / "mine.twin.yaml"
    project.write_text((MINE / "mine.twin.yaml").read_text())
    with LocalPostgres(replication=True) as primary:
        standby = LocalPostgres.standby_of(primary)
        try:
            url = "?schema=control_room"
            rec = subprocess.run(
                [sys.executable, "-m", "twinviewer", "record", str(project), "--history",
                 primary.url + url, "--duration", "4"],
                capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            if rec.returncode != 0:
                sys.stderr.write(rec.stderr)
                return 1
            standby.wait_replayed()
            app = create_app()
            w = QtMainWindow()
            w.resize(1600, 1000)
            w.show()
            w.open_project(project, sources=[], history=standby.url + url)
            while w.session is None:
                pump(app, 0.2)
            pump(app, 1.5)
            held = w.session.history.time_range() if w.session.history else None
            if held is not None:
                w.workbench.timeline.current = held[1] - 1.0
            w.redraw()
            for name, size in (
                ("replica-viewer.png", (1600, 1000)),
                ("replica-viewer-small.png", (1024, 700)),
            ):
                w.resize(*size)
                pump(app, 1.0)
                w.view.render_now()
                w.grab().save(str(HERE / name))
                sys.stdout.write(f"wrote {HERE / name}\n")
            w.close()
            pump(app, 0.3)
        finally:
            standby.stop()
    shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
