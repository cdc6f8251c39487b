"""The Review dock in the window: an issue added on a part at a past moment brings the timeline
and the camera back there when it is chosen; it is saved beside the project, survives a reopen
and travels through BCF; pins in 3D and flags on the timeline show it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

pytestmark = pytest.mark.gui

FEED = 60.0  # seconds of recorded feed in the mine copy


def open_twin(qtbot, window, path: Path) -> None:
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        window.open_project(path, sources=[])


def camera_of(window) -> np.ndarray:
    pos, focal, up = window.view.scene.camera()
    return np.array([*pos, *focal, *up], float)


def click_row(qtbot, window, row: int) -> None:
    from twinviewer.ui.review.dock import COL_TITLE

    table = window.features["review"].dock.table
    rect = table.visualRect(table.model().index(row, COL_TITLE))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_issue_at_a_past_moment_brings_the_timeline_and_camera_back(
    qtbot, window, tmp_path: Path
) -> None:
    from twinviewer.review import load_review, review_folder
    from twinviewer.session.demos import demo_copy

    path, zero = demo_copy("mine", tmp_path / "a", FEED, models=False)
    open_twin(qtbot, window, path)
    s = window.session
    wb = window.workbench
    review = window.features["review"]
    window.dock("Review").raise_()
    fan = s.binding.component_nodes["l3_booster_fan"][0]
    fan_id = s.model.components[fan].id

    # a selected part at a past moment, seen from the side
    wb.selection = (fan,)
    past = zero + 30.0
    wb.timeline.current = past
    assert not wb.timeline.live
    qtbot.waitUntil(lambda: abs(s.shown_now - past) < 1e-6, timeout=5000)
    window.view.scene.standard_view("right")
    saved_camera = camera_of(window)

    dialog = review.add_issue()
    assert dialog is not None and dialog.new
    assert fan_id in dialog.where.text()
    dialog.title.setText("Fan bearing runs hot")
    dialog.priority.setCurrentIndex(dialog.priority.findData("high"))
    dialog.new_comment.setPlainText("Seen on the vibration trend too")
    dialog.accept()

    rows = review.dock.listed()
    assert len(rows) == 1
    issue = rows[0].issue
    assert issue.title == "Fan bearing runs hot" and issue.priority == "high"
    assert issue.component == fan_id
    assert issue.time == pytest.approx(past)
    assert issue.values and set(issue.values) <= {x.id for x in s.sensors}
    units = {x.id: x.unit for x in s.sensors}
    some, value = sorted(issue.values.items())[0]
    assert f"{some} = {value:.4g} {units[some]}" in rows[0].values  # shown with its unit
    assert issue.viewpoint is not None and issue.viewpoint.time == pytest.approx(past)
    assert issue.viewpoint.selection == [fan_id]
    assert [c.text for c in issue.comments] == ["Seen on the vibration trend too"]
    table = review.dock.table
    assert table.item(0, 4).text() == fan_id
    assert table.item(0, 5).toolTip() == rows[0].time_text != "–"
    assert rows[0].time_short in rows[0].time_text

    # saved beside the project, with its snapshot
    folder = review_folder(path)
    data = json.loads((folder / "review.json").read_text())
    assert [i["id"] for i in data["issues"]] == [issue.id]
    snap = folder / "snapshots" / issue.snapshot
    assert snap.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # a pin in 3D and a flag on the timeline
    assert len(review.pins.points) == 1 and review.pins.labels == ["1"]
    assert any(name.startswith("review-pin") for name in window.view.interactor.actors)
    bar = window.features["timeline"].bar
    times, _colours, tips = bar.review_marks()
    assert times.tolist() == pytest.approx([past]) and "Fan bearing runs hot" in tips[0]

    # somewhere else, live, nothing selected; then the row: back to the moment and the view
    window.view.scene.standard_view("top")
    wb.selection = ()
    wb.timeline.go_live()
    assert wb.timeline.live
    review.dock.select_issue(None)
    click_row(qtbot, window, 0)
    assert not wb.timeline.live
    assert wb.timeline.current == pytest.approx(past)
    assert camera_of(window) == pytest.approx(saved_camera, abs=1e-6)
    assert wb.selection == (fan,)
    assert review.dock.selected() == issue.id

    # the flag on the timeline does the same (the selection shows it was the issue, not a jump)
    wb.timeline.go_live()
    wb.selection = ()
    slider = bar.slider
    (x,) = slider.review_mark_xs()
    qtbot.mouseClick(slider, Qt.MouseButton.LeftButton, pos=QPoint(round(x) + 2, 3))
    assert not wb.timeline.live and wb.timeline.current == pytest.approx(past)
    assert wb.selection == (fan,)

    # BCF out of the window...
    out = review.export_bcf(tmp_path / "review.bcf")
    assert out is not None and out.is_file()

    # ...reopened, still listed
    open_twin(qtbot, window, path)
    assert [r.issue.id for r in review.dock.listed()] == [issue.id]

    # ...and into a fresh copy of the twin: the same topics, with their snapshot
    fresh, _ = demo_copy("mine", tmp_path / "b", 0.0, models=False)
    open_twin(qtbot, window, fresh)
    assert review.dock.listed() == []
    assert review.import_bcf(out) == (1, 0)
    (got,) = [r.issue for r in review.dock.listed()]
    assert (got.id, got.title, got.component, got.status, got.priority) == (
        issue.id, issue.title, fan_id, "open", "high",
    )  # fmt: skip
    assert got.time == pytest.approx(past)
    assert [c.text for c in got.comments] == ["Seen on the vibration trend too"]
    assert (review_folder(fresh) / "snapshots" / got.snapshot).is_file()
    assert [i.id for i in load_review(review_folder(fresh)).issues] == [issue.id]


def test_viewpoint_section_hidden_edit_filter_and_delete(qtbot, window, building: Path) -> None:
    from twinviewer.review import load_review, review_folder

    open_twin(qtbot, window, building)
    s = window.session
    wb = window.workbench
    review = window.features["review"]
    section = window.features["section"]
    window.dock("Review").raise_()
    floors = [s.model.index_of(c) for c in ("floor_0", "floor_1")]

    # hidden part, a section plane placed off-centre, a quantity colouring; nothing selected
    wb.hidden = (floors[1],)
    b = s.model.bounds()
    origin = ((b[0] + b[1]) / 2, (b[2] + b[3]) / 2, b[4] + 0.3 * (b[5] - b[4]))
    section.place(origin, (0.0, 0.0, 1.0))
    assert wb.section and section.plane is not None
    window.features["colouring"].choose("temperature")
    dialog = review.add_issue()
    assert dialog is not None
    dialog.title.setText("Slab cracked")
    dialog.accept()
    (row,) = review.dock.listed()
    vp = row.issue.viewpoint
    assert vp is not None
    assert vp.hidden == ["floor_1"] and vp.colour_mode == "quantity:temperature"
    assert vp.section is not None
    assert vp.section.origin == pytest.approx(origin) and vp.section.normal == pytest.approx(
        (0, 0, 1)
    )
    assert row.issue.component is None and row.issue.point is None
    assert len(review.pins.points) == 0  # no component, no point: nothing to pin

    # all changed; choosing the issue restores hidden, section and colouring
    wb.hidden = ()
    wb.section = False
    window.features["colouring"].choose(None)
    review.go_to(row.issue.id)
    assert wb.hidden == (floors[1],)
    assert wb.section and section.plane is not None
    assert section.plane[0] == pytest.approx(origin) and section.plane[1] == pytest.approx(
        (0, 0, 1)
    )
    assert window.view.scene.clip_plane is not None
    assert wb.active_quantity == "temperature"

    # edit: status, labels and a comment
    dialog = review.edit_issue(row.issue.id)
    assert dialog is not None and dialog.title.text() == "Slab cracked"
    dialog.status.setCurrentIndex(dialog.status.findData("resolved"))
    dialog.labels.setText("structure, slab , structure")
    dialog.new_comment.setPlainText("Patched")
    dialog.accept()
    stored = load_review(review_folder(building)).issues[0]
    assert stored.status == "resolved" and stored.labels == ["structure", "slab"]
    assert [c.text for c in stored.comments] == ["Patched"]
    assert review.dock.table.item(0, 1).toolTip() == "Resolved"
    assert review.dock.table.item(0, 7).text() == "1"

    # filters: unresolved hides it, the search finds it by its comment
    dock = review.dock
    dock.status_filter.setCurrentIndex(dock.status_filter.findText("Unresolved"))
    assert dock.listed() == [] and dock.empty.isVisible()
    dock.status_filter.setCurrentIndex(0)
    dock.search.setText("patched")
    assert len(dock.listed()) == 1
    dock.search.setText("nothing like it")
    assert dock.listed() == []
    dock.search.clear()

    # a pinned issue on a part: its pin stands at the part's centre
    wb.selection = (floors[0],)
    dialog = review.add_issue()
    assert dialog is not None
    dialog.title.setText("Door jams")
    dialog.accept()
    assert review.pins.labels == ["2"]  # the first has no pin; numbers follow the review
    pts = s.model.points[np.unique(s.model.triangles[s.model.cell_component == floors[0]])]
    assert review.pins.points[0] == pytest.approx((pts.min(0) + pts.max(0)) / 2)

    # "Add issue here" on the 3D view: the part under the pixel and the 3D point there
    wb.hidden = ()
    wb.section = False
    window.view.scene.standard_view("front")
    window.view.render_now()
    w, h = window.view.interactor.ren_win.GetSize()
    here = review.add_issue_at(w // 2, h // 2)
    assert here is not None
    picked = wb.selection[0]
    assert s.model.components[picked].id in here.where.text()
    here.title.setText("Crack here")
    here.accept()
    pinned = next(r.issue for r in review.dock.listed() if r.issue.title == "Crack here")
    assert pinned.point is not None and pinned.component == s.model.components[picked].id
    lo, hi = np.array(b[::2]), np.array(b[1::2])
    assert np.all(np.array(pinned.point) >= lo - 1e-3) and np.all(
        np.array(pinned.point) <= hi + 1e-3
    )
    review.delete_issue(pinned.id, confirm=False)

    # delete asks first
    review.delete_issue(row.issue.id)
    box = review.message_box
    assert box is not None and "Slab cracked" in box.text()
    box.button(box.StandardButton.Yes).click()
    assert [i.title for i in load_review(review_folder(building)).issues] == ["Door jams"]
    assert [r.number for r in dock.listed()] == [1]


def test_unreadable_review_file_is_reported_and_left_alone(qtbot, window, building: Path) -> None:
    from twinviewer.review import review_folder

    folder = review_folder(building)
    folder.mkdir()
    (folder / "review.json").write_text("{not json")
    open_twin(qtbot, window, building)
    review = window.features["review"]
    assert review.book is None
    assert not window.action("review.add").isEnabled()
    assert "cannot be read" in review.dock.empty.text()
    assert review.add_issue() is None
    assert (folder / "review.json").read_text() == "{not json"
