"""Screenshots of the tour editor (the Tours dock) and of presenter mode, on the mine demo.

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/screenshots/make_tour_screenshots.py

Two hundred seconds of the mine's feed are simulated headless into a copy of the demo
(``demo_copy``), long enough for the level 3 booster fan's bearing fault to reach its alarm.
A three-step tour is authored the way a trainer does it: set the window up (a saved view, a
part selected, parts hidden, X-ray, a section, a moment on the timeline), *Add view*, then
title and caption in the dock; the last step gets callouts and a question. The editor is shot
at 1600x1000 and 1024x700; then the tour plays in presenter mode, on the fan step, with the
laser pointer on the fan.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from make_screenshots import pump, shot  # the same folder: run as a script
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from twinviewer.session.demos import demo_copy
from twinviewer.ui.application import create_app
from twinviewer.ui.main_window import QtMainWindow

HERE = Path(__file__).resolve().parent
FEED = 200.0
TOUR = "Shift handover: the fan alarm"


def choose(w: QtMainWindow) -> None:
    """Our tour chosen in the dock (the demo may bring tours of its own)."""
    tours = w.features["tours"]
    names = [d.name for d in tours.book.drafts]
    tours.choose_tour(names.index(TOUR))


def author(app: object, w: QtMainWindow, zero: float) -> None:
    """The tour as a trainer makes it in the window."""
    s = w.session
    assert s is not None
    wb = w.workbench
    tours = w.features["tours"]
    views = w.features["views"]
    dock = tours.dock
    tours.new_tour(TOUR)

    views.apply_saved_view("Overview")
    wb.timeline.current = zero + 60.0
    pump(app, 0.3)
    tours.add_step("The mine")
    tours.edit_step({"caption": "Four levels of drifts off one shaft, a **spiral decline** "
                                "and the pump station at the bottom.", "dwell": 6})  # fmt: skip

    views.apply_saved_view("Shaft")
    wb.selection = tuple(s.binding.component_nodes["hoist"])
    pump(app, 0.3)
    tours.add_step("The hoist")
    tours.edit_step({"caption": "The hoist winds the cage up and down the **shaft**: "
                                "people, ore and supplies all pass here.",
                     "transition": {"type": "fly", "duration": 3}})  # fmt: skip

    fan = s.binding.component_nodes["l3_booster_fan"][0]
    wb.selection = (fan,)
    wb.xray = True
    views.apply_saved_view("Level 3")
    wb.timeline.current = zero + 185.0
    pump(app, 0.5)
    tours.add_step("The booster fan alarm")
    tours.edit_step({
        "caption": "Three minutes in, the **level 3 booster fan** bearing passes its alarm "
                   "limit. Watch the *vibration*: it rose first.",
        "callouts": ["l3_fan_vibration", "l3_fan_bearing_temperature"],
        "dwell": "wait",
        "question": {"text": "Which reading warned first?",
                     "answers": ["Bearing temperature", "Bearing vibration", "Motor current"],
                     "correct": 2,
                     "explanation": "A failing bearing shakes before it heats up."},
    })  # fmt: skip
    wb.selection = ()
    wb.xray = False
    dock.steps.setCurrentRow(2)
    tours.save()
    pump(app, 0.3)


def main() -> None:
    app = create_app()
    with tempfile.TemporaryDirectory() as tmp:
        path, zero = demo_copy("mine", Path(tmp), history=FEED, models=False)
        for size, name in (((1600, 1000), "tour-editor.png"),
                           ((1024, 700), "tour-editor-small.png")):  # fmt: skip
            w = QtMainWindow()
            w.resize(*size)
            w.show()
            w.open_project(path, sources=[])
            pump(app, 5.0)
            tours = w.features["tours"]
            if TOUR not in [d.name for d in tours.book.drafts]:
                author(app, w, zero)
            choose(w)
            w.dock("Tours").show()
            w.dock("Tours").raise_()
            w.dock("Inspector").hide()  # the whole right column for the editor, as a trainer
            w.dock("Alarms and events").hide()  # writing captions would arrange it
            w.dock("Data sources").hide()
            tours.dock.steps.setCurrentRow(2)
            tours.preview(2)  # the chosen step shown in the window, paused
            w.refresh_panels()
            pump(app, 1.5)
            w.refresh_panels()
            pump(app, 0.5)
            shot(w, name)
            if size[0] == 1600:
                present(app, w)
            w.close()
            pump(app, 0.5)
    sys.stdout.flush()


def present(app: object, w: QtMainWindow) -> None:
    """Presenter mode on the fan step, answered, with the laser pointer on the fan."""
    tours = w.features["tours"]
    tours.stop()
    choose(w)
    tours.set_presenter(True)
    pump(app, 1.0)
    player = tours.player
    player.go_to(2)
    player.pause()
    pump(app, 1.0)
    tours.presenter.quiz.choose(2)
    view = w.view.interactor
    s = w.session
    assert s is not None
    fan = s.binding.component_nodes["l3_booster_fan"][0]
    from twinviewer.render.pins import component_centre

    centre = component_centre(s.model, s.model.subtree(fan))
    renderer = view.renderer
    renderer.SetWorldPoint(*centre, 1.0)
    renderer.WorldToDisplay()
    x, y, _ = renderer.GetDisplayPoint()
    ratio = view.devicePixelRatioF()
    at = QPointF(x / ratio - 26, view.height() - y / ratio + 22)  # beside the fan, under its labels
    move = QMouseEvent(QEvent.Type.MouseMove, at, at, Qt.MouseButton.NoButton,
                       Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)  # fmt: skip
    QApplication.sendEvent(view, move)
    w.tick(force=True)
    pump(app, 1.0)
    shot(w, "tour-presenter.png")
    tours.presenter.exit()
    tours.stop()
    pump(app, 0.5)


if __name__ == "__main__":
    main()
