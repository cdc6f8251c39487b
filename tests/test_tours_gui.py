"""Tours in the window: a two-step tour authored from the workbench, saved into the project file
(comments kept, the twin kept open), read back after a reopen, played (each step's highlight,
hidden parts, section and moment applied, undone on leaving), presented full screen and back,
and a step's question answered and kept in the user's settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QModelIndex, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QDockWidget

pytestmark = pytest.mark.gui

FEED = 60.0  # seconds of recorded feed in the mine copy


def open_twin(qtbot, window, path: Path) -> None:
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        window.open_project(path, sources=[])


def camera_of(window) -> np.ndarray:
    pos, focal, up = window.view.scene.camera()
    return np.array([*pos, *focal, *up], float)


def click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def key(qtbot, window, k, mods=Qt.KeyboardModifier.NoModifier) -> None:
    """A key pressed in the 3D view (shortcuts need the window active)."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    widget = window.view.interactor
    widget.setFocus()
    qtbot.keyClick(widget, k, mods)


def choose(tours, name: str):
    """The tour ``name`` chosen in the dock (the demo brings tours of its own)."""
    tours.choose_tour([d.name for d in tours.book.drafts].index(name))
    return tours.draft


def shown_docks(window) -> set[str]:
    return {d.windowTitle() for d in window.findChildren(QDockWidget) if d.isVisible()}


def test_author_save_reopen_play_and_present(qtbot, window, tmp_path: Path) -> None:
    from twinviewer.core.project import load_project
    from twinviewer.session.demos import demo_copy, demo_project
    from twinviewer.ui.tours.capture import moment_text

    path, zero = demo_copy("mine", tmp_path / "a", FEED, models=False)
    comments = [line for line in path.read_text().splitlines() if line.startswith("#")]
    open_twin(qtbot, window, path)
    s = window.session
    wb = window.workbench
    tours = window.features["tours"]
    dock = tours.dock
    window.dock("Tours").show()
    window.dock("Tours").raise_()
    fan = s.binding.component_nodes["l3_booster_fan"][0]
    main_fan = s.model.index_of("surface_main_fan")
    hidden1 = tuple(s.model.subtree(main_fan))

    # step 1: the booster fan highlighted, the main fan hidden, a section, a past moment
    wb.selection = (fan,)
    wb.hidden = hidden1
    window.features["section"].place((40.0, 0.0, -100.0), (0.0, 1.0, 0.0))
    first = zero + 20.0
    wb.timeline.current = first
    window.view.scene.standard_view("right")
    cam1 = camera_of(window)
    click(qtbot, dock.new_tour)
    dock.name.setText("First day")
    dock.name.editingFinished.emit()
    click(qtbot, dock.add_step)
    draft = tours.draft
    assert draft.name == "First day" and len(draft.steps) == 1
    step1 = draft.steps[0]
    fan_id = s.model.components[fan].id
    assert step1.highlight == [fan_id]
    assert step1.hide == ["surface_main_fan"] and step1.isolate == []
    assert step1.section is not None and step1.section.origin == (40.0, 0.0, -100.0)
    assert step1.section.normal == (0.0, 1.0, 0.0)
    assert step1.time == moment_text(first) and step1.colour == "status"

    # step 2: nothing highlighted or hidden, no section, another moment, from the top
    wb.selection = ()
    wb.hidden = ()
    wb.section = False
    second = zero + 45.0
    wb.timeline.current = second
    window.view.scene.standard_view("top")
    cam2 = camera_of(window)
    click(qtbot, dock.add_step)
    assert [x.title for x in draft.steps] == ["Step 1", "Step 2"]
    assert dock.current_step() == 1
    step2 = draft.steps[1]
    assert step2.highlight == [] and step2.hide == [] and step2.section is None
    assert step2.time == moment_text(second)

    # caption and title edited in the dock; undo and redo with the keys
    dock.title.setText("The fan from above")
    dock.title.editingFinished.emit()
    dock.caption.setPlainText("The **booster fan** keeps *level 3* breathing.")
    dock.commit_caption()
    assert draft.steps[1].title == "The fan from above"
    assert draft.steps[1].caption == "The **booster fan** keeps *level 3* breathing."
    assert window.action("edit.undo").text() == "&Undo edit step The fan from above"
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert draft.steps[1].caption == ""
    assert dock.caption.toPlainText() == ""
    mods = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    key(qtbot, window, Qt.Key.Key_Z, mods)
    assert draft.steps[1].caption.startswith("The **booster fan**")
    # dwell edited: wait for the trainee on step 2
    dock.steps.setCurrentRow(1)
    dock.wait.setChecked(True)
    assert draft.steps[1].dwell == "wait"

    # reordered by a drag (the list's move), undone
    dock.steps.model().moveRow(QModelIndex(), 1, QModelIndex(), 0)
    qtbot.waitUntil(lambda: draft.steps[0].title == "The fan from above", timeout=3000)
    assert [dock.steps.item(i).text() for i in range(2)] == [
        "1. The fan from above",
        "2. Step 1",
    ]
    window.action("edit.undo").trigger()
    assert [x.title for x in draft.steps] == ["Step 1", "The fan from above"]

    # a third step added and deleted, and the delete undone and redone
    click(qtbot, dock.add_step)
    assert len(draft.steps) == 3
    dock.steps.setCurrentRow(2)
    click(qtbot, dock.delete_step)
    assert len(draft.steps) == 2
    window.action("edit.undo").trigger()
    assert len(draft.steps) == 3
    window.action("edit.redo").trigger()
    assert len(draft.steps) == 2

    # saved into the file: the comments stay, the twin stays open (no reload)
    assert dock.saved.text() == "Unsaved changes"
    click(qtbot, dock.save)
    assert dock.saved.text() == ""
    assert window.session is s
    text = path.read_text()
    assert "tours:" in text and "First day" in text
    assert [line for line in text.splitlines() if line.startswith("#")] == comments
    demo_tours = [t.name for t in load_project(demo_project("mine"))[0].tours]
    assert [t.name for t in s.project.tours] == [*demo_tours, "First day"]
    saved = load_project(path)[0].tours[-1]
    assert saved.name == "First day" and saved.steps == draft.steps

    # closed and opened again: the tour is there
    window.close_session()
    open_twin(qtbot, window, path)
    s = window.session
    draft = choose(tours, "First day")
    assert not draft.dirty
    assert [x.title for x in draft.steps] == ["Step 1", "The fan from above"]

    # somewhere else before playing: live-like latest moment, nothing selected, iso view
    before = zero + 55.0
    wb.selection = ()
    wb.hidden = ()
    wb.section = False
    wb.timeline.current = before
    window.view.scene.standard_view("iso")
    cam0 = camera_of(window)

    # play: step 1's state on entering it, its camera once arrived
    player = tours.player
    tours.dock.steps.setCurrentRow(0)
    click(qtbot, dock.play)
    assert player.playing and player.index == 0
    player.pause()
    assert wb.selection == (fan,)
    assert wb.hidden == hidden1
    assert wb.section and window.features["section"].plane == (
        (40.0, 0.0, -100.0),
        (0.0, 1.0, 0.0),
    )
    assert not wb.timeline.live and wb.timeline.current == pytest.approx(first, abs=1e-3)
    timing = player.plan.timings[0]
    player.advance(timing.arrive - player.t + 0.01)
    assert camera_of(window) == pytest.approx(cam1, abs=1e-6)
    assert "step 1 of 2" in dock.status.text()

    # step 2: step 1's highlight, hidden part, section and moment undone, step 2's applied
    click(qtbot, dock.next)
    assert player.index == 1
    assert wb.selection == () and wb.hidden == () and not wb.section
    assert wb.timeline.current == pytest.approx(second, abs=1e-3)
    player.advance(player.plan.timings[1].arrive - player.t + 0.01)
    assert camera_of(window) == pytest.approx(cam2, abs=1e-6)
    player.play()
    player.advance(30.0)  # a wait step holds until Next
    assert player.index == 1 and player.holding and player.playing
    assert "waiting" in dock.status.text()
    player.pause()

    # presenter mode on: full screen, docks and bars hidden, the caption large
    docks_before = shown_docks(window)
    assert "Tours" in docks_before
    geometry = window.geometry()
    presenter = tours.presenter
    window.action("tours.presenter").trigger()
    assert presenter.active and window.isFullScreen()
    assert shown_docks(window) == set()
    assert not window.menuBar().isVisible() and not window.toolbar.isVisible()
    assert presenter.bottom_bar.isVisible() and presenter.top_bar.isVisible()
    assert presenter.title.text() == "The fan from above"
    assert "<b>booster fan</b>" in presenter.caption.text()
    assert "<i>level 3</i>" in presenter.caption.text()
    assert presenter.strip.titles == ["Step 1", "The fan from above"]
    assert presenter.strip.current == 1

    # the laser pointer follows the mouse over the 3D view
    view = window.view.interactor
    move = QMouseEvent(
        QEvent.Type.MouseMove,
        QPointF(120, 80),
        QPointF(120, 80),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(view, move)
    ratio = view.devicePixelRatioF()
    assert presenter.laser_at == pytest.approx((120 * ratio, (view.height() - 80) * ratio))

    # keys: Left, Right, Space, Esc
    key(qtbot, window, Qt.Key.Key_Left)
    assert player.index == 0 and wb.selection == (fan,)
    assert presenter.title.text() == "Step 1"
    key(qtbot, window, Qt.Key.Key_Right)
    assert player.index == 1 and wb.selection == ()
    key(qtbot, window, Qt.Key.Key_Space)
    assert player.playing
    key(qtbot, window, Qt.Key.Key_Space)
    assert not player.playing
    key(qtbot, window, Qt.Key.Key_Escape)
    assert not presenter.active and not window.isFullScreen()
    assert not window.action("tours.presenter").isChecked()
    assert shown_docks(window) == docks_before
    assert window.menuBar().isVisible() and window.toolbar.isVisible()
    assert not presenter.bottom_bar.isVisible()
    qtbot.waitUntil(lambda: window.geometry() == geometry, timeout=3000)

    # look around and come back to the step
    click(qtbot, dock.leave)
    assert player.left and dock.leave.text() == "Return to step"
    wb.selection = (main_fan,)
    window.view.scene.standard_view("front")
    click(qtbot, dock.leave)
    assert not player.left and wb.selection == ()
    assert camera_of(window) == pytest.approx(cam2, abs=1e-6)

    # stop: the window as it was before the tour
    click(qtbot, dock.stop)
    assert not player.active
    assert wb.timeline.current == pytest.approx(before, abs=1e-3)
    assert wb.selection == () and wb.hidden == () and not wb.section
    assert camera_of(window) == pytest.approx(cam0, abs=1e-6)


def test_callouts_stay_live_and_a_question_is_scored_and_kept(
    qtbot, window, tmp_path: Path
) -> None:
    from PySide6.QtCore import QSettings

    from twinviewer.core.project_edit import save_tour
    from twinviewer.core.project_tours import Tour
    from twinviewer.session.demos import demo_copy
    from twinviewer.ui.tours.quiz import QuizBook

    path, zero = demo_copy("mine", tmp_path / "b", FEED, models=False)
    tour = Tour.model_validate(
        {
            "name": "Fan fault",
            "steps": [
                {
                    "title": "The fan at work",
                    "view": "Level 3",
                    "transition": {"type": "cut"},
                    "isolate": ["l3_booster_fan"],
                    "transparent": ["surface_main_fan"],
                    "time": {"from": "start+5s", "to": "start+35s", "speed": 10},
                    "callouts": ["l3_fan_vibration"],
                    "question": {
                        "text": "What warned first?",
                        "answers": ["the temperature", "the vibration"],
                        "correct": 2,
                        "explanation": "The bearing shakes before it heats.",
                    },
                },
                {"title": "Everything", "view": "Overview", "colour": "vibration"},
            ],
        }
    )
    save_tour(path, tour)
    open_twin(qtbot, window, path)
    s = window.session
    wb = window.workbench
    tours = window.features["tours"]
    player = tours.player
    choose(tours, "Fan fault")
    assert tours.preview(0)
    assert player.index == 0 and not player.playing

    # isolate: only the booster fan's parts are shown; transparent: X-ray with the main fan
    # see-through
    shown = {int(i) for i in range(s.model.n_components)} - set(wb.hidden)
    fan_nodes = s.binding.component_nodes["l3_booster_fan"]
    assert shown == {i for n in fan_nodes for i in s.model.subtree(n)}
    assert wb.xray

    # the replay runs the timeline at 10x from start+5s; the callout follows the values
    t0 = wb.timeline.current
    label = player.callouts.labels["l3_fan_vibration"].GetInput()
    assert label.startswith("Level 3 booster fan bearing vibration\n")
    player.advance(2.0)
    assert wb.timeline.current == pytest.approx(t0 + 20.0, abs=1e-3)
    texts = set()
    for dt in (0.3, 0.3, 0.3):
        player.advance(dt)
        window.tick(force=True)
        texts.add(player.callouts.labels["l3_fan_vibration"].GetInput())
    assert len(texts) > 1  # the value moved with the replay

    # the question: a wrong answer, told why; then the right one; kept in the user's settings
    quiz = tours.dock.quiz
    assert quiz.isVisible() and quiz.text.text() == "What warned first?"
    quiz.choose(1)
    assert "Not quite" in quiz.verdict and "the vibration" in quiz.verdict
    assert "The bearing shakes before it heats." in quiz.verdict
    assert quiz.score.text() == "Score: 0 of 1 right (1 answered)"
    quiz.choose(2)
    assert "Right." in quiz.verdict
    book = QuizBook(QSettings())
    assert book.answer(QuizBook.key(path, "Fan fault", 0)) == (2, True)
    assert book.score(path, tour).right == 1
    assert "What warned" not in path.read_text().split("Fan fault")[0]  # never in the project

    # the next step: X-ray and the isolation undone, coloured by vibration, no callout
    player.next()
    assert player.index == 1
    assert wb.hidden == () and not wb.xray and wb.active_quantity == "vibration"
    assert player.callouts.labels == {}
    assert not quiz.isVisible()
    player.previous()
    assert quiz.isVisible() and "Right." in quiz.verdict  # the answer given is shown again
    player.stop()
    assert wb.active_quantity is None and not wb.xray and wb.hidden == ()
