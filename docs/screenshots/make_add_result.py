"""The *Add simulation result* dialog (*File > Add simulation result…*) warning that a result
does not sit on the twin.

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/screenshots/make_add_result.py

The twin is the corpus's pyramids plate (a 3MF model, in millimetres); the result is the
corpus's notched-plate FEA result (``sim/fea/notch_disp.vtu``, in metres, at the origin). As
read, the placed result is off the twin and a thousand times too small: the warning shows both
boxes and *Fit result to twin*. Writes ``add-result.png`` (the dialog as it opens in a
1600x1000 window) and ``add-result-small.png`` (squeezed to its smallest, as on a 1024x700 screen).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from make_screenshots import pump

from twinviewer.ui.application import create_app
from twinviewer.ui.main_window import QtMainWindow
from twinviewer.ui.overlays.add_result import AddResultFeature

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parents[2] / "shared" / "corpus"
MODEL = CORPUS / "meshes" / "3mf" / "pyramids.3mf"
RESULT = CORPUS / "sim" / "fea" / "notch_disp.vtu"

PROJECT = f"""\
# Pyramids on a plate: the test rig (model in mm)
name: Pyramid rig
models: [{MODEL}]
"""


def main() -> int:
    if not MODEL.is_file() or not RESULT.is_file():
        sys.stderr.write(f"the corpus is not at {CORPUS}\n")
        return 1
    app = create_app()
    project = Path(tempfile.mkdtemp(prefix="tv-add-result-")) / "rig.twin.yaml"
    project.write_text(PROJECT)

    w = QtMainWindow()
    w.resize(1600, 1000)
    w.show()
    w.open_project(project, sources=[])
    while w.session is None:
        pump(app, 0.2)
    pump(app, 1.0)
    dialog = w.feature(AddResultFeature).open_dialog(RESULT)
    if dialog is None:
        sys.stderr.write("the dialog did not open\n")
        return 1
    while dialog.sim is None:
        pump(app, 0.2)
        if dialog.job is None and dialog.sim is None:
            sys.stderr.write(f"the result was not read: {dialog.status.text()}\n")
            return 1
    pump(app, 0.5)
    for name, small in (("add-result.png", False), ("add-result-small.png", True)):
        if small:  # the smallest the dialog goes: what a 1024x700 screen may force
            w.resize(1024, 700)
            dialog.resize(dialog.minimumSizeHint())
        pump(app, 0.8)
        dialog.grab().save(str(HERE / name))
        sys.stdout.write(f"wrote {HERE / name} ({dialog.width()}x{dialog.height()})\n")
    dialog.reject()
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
