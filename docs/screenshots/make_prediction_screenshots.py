"""Screenshots of prediction in the window: the mine demo 120 s into its feed, its level 3
booster fan bearing drifting towards its alarm limit (reached at 170 s).

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/screenshots/make_prediction_screenshots.py

The feed's first 120 s are simulated headless into a copy of the demo (``demo_copy``), so that
the picture does not take three minutes of waiting; the window then scores that history with the
demo's trained models, exactly as it does live.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from make_screenshots import pump  # the same folder: run as a script

from twinviewer.session.demos import demo_copy
from twinviewer.ui.application import create_app
from twinviewer.ui.main_window import QtMainWindow

HERE = Path(__file__).resolve().parent


def main() -> None:
    app = create_app()
    with tempfile.TemporaryDirectory() as tmp:
        path, _ = demo_copy("mine", Path(tmp), history=120.0)
        for size, name in (((1600, 1000), "prediction-health.png"),
                           ((1024, 700), "prediction-health-small.png")):  # fmt: skip
            w = QtMainWindow()
            w.resize(*size)
            w.show()
            w.open_project(path, sources=[])
            pump(app, 6.0)
            s = w.session
            assert s is not None and s.prediction is not None
            w.features["colouring"].choose_health()
            fan = s.binding.component_nodes["l3_booster_fan"][0]
            w.workbench.selection = (fan,)
            w.features["charts"].controller  # noqa: B018 (the selection fills the charts)
            pump(app, 4.0)
            w.refresh_panels()
            w.redraw()
            pump(app, 1.0)
            w.view.render_now()
            w.grab().save(str(HERE / name))
            sys.stdout.write(f"wrote {HERE / name}\n")
            if size[0] == 1600:  # the failing fan itself, red among green, unselected
                w.features["components"].zoom_to([fan])
                w.workbench.selection = ()
                pump(app, 1.5)
                w.view.render_now()
                w.grab().save(str(HERE / "prediction-health-fan.png"))
                sys.stdout.write(f"wrote {HERE / 'prediction-health-fan.png'}\n")
            w.close()
            pump(app, 0.5)


if __name__ == "__main__":
    main()
