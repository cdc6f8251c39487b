"""Screenshots of the Review dock: the mine demo with three issues pinned to parts and moments.

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/screenshots/make_review_screenshots.py

Two minutes of the mine's feed are simulated headless into a copy of the demo (``demo_copy``);
the issues are added the way a user adds them (select a part, scrub to the moment, *Add
issue…*, fill in the dialog), then the first one is chosen in the dock, which brings its view
and moment back: pins in 3D, flags on the timeline, the dock's list and details.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from make_screenshots import pump, shot  # the same folder: run as a script
from PySide6.QtCore import Qt

from twinviewer.session.demos import demo_copy
from twinviewer.ui.application import create_app
from twinviewer.ui.main_window import QtMainWindow

HERE = Path(__file__).resolve().parent
FEED = 120.0

# (component, feed second, title, status, priority, labels, author, description, comments)
ISSUES = [
    ("hoist", 35.0, "Hoist motor runs warmer than its twin", "open", "normal", ["thermal"],
     "j.okafor", "Winding temperature 6 K above the simulated value at the same load.", []),
    ("l4_crusher", 70.0, "Crusher vibration sensor replaced", "resolved", "low",
     ["maintenance"], "m.schulz", "Readings were frozen for 40 s; sensor swapped on shift B.", []),
    ("l3_booster_fan", 110.0, "Level 3 booster fan bearing vibration rising", "in_progress",
     "high", ["bearing", "vibration"], "a.mendes",
     "Vibration has doubled since the start of the shift; temperature follows.",
     [("j.okafor", "Lubrication scheduled for the next stop."),
      ("a.mendes", "Trend is still rising, keep it under watch.")]),
]  # fmt: skip


def add_issues(app: object, w: QtMainWindow, zero: float) -> None:
    s = w.session
    assert s is not None
    review = w.features["review"]
    wb = w.workbench
    for comp, second, title, status, priority, labels, author, text, comments in ISSUES:
        node = s.binding.component_nodes[comp][0]
        wb.selection = (node,)
        wb.timeline.current = zero + second
        pump(app, 0.4)
        if comp == "l3_booster_fan":  # the last one: the whole mine, all pins in sight
            w.features["views"].apply_saved_view("Overview")
        else:
            w.features["components"].zoom_to([node])
        review.book.author = author
        pump(app, 0.3)
        dialog = review.add_issue()
        assert dialog is not None
        dialog.title.setText(title)
        dialog.text.setPlainText(text)
        dialog.status.setCurrentIndex(dialog.status.findData(status))
        dialog.priority.setCurrentIndex(dialog.priority.findData(priority))
        dialog.labels.setText(", ".join(labels))
        dialog.accept()
        for who, note in comments:  # later remarks by others, through the edit dialog
            review.book.author = who
            issue = review.book.issues[-1]
            edit = review.edit_issue(issue.id)
            assert edit is not None
            edit.new_comment.setPlainText(note)
            edit.accept()
        pump(app, 0.2)


def main() -> None:
    os.environ.setdefault("TWINVIEWER_AUTHOR", "a.mendes")
    app = create_app()
    with tempfile.TemporaryDirectory() as tmp:
        path, zero = demo_copy("mine", Path(tmp), history=FEED, models=False)
        for size, name in (((1600, 1000), "review-dock.png"),
                           ((1024, 700), "review-dock-small.png")):  # fmt: skip
            w = QtMainWindow()
            w.resize(*size)
            w.show()
            w.open_project(path, sources=[])
            pump(app, 5.0)
            review = w.features["review"]
            if not review.book.issues:
                add_issues(app, w, zero)
            w.dock("Review").show()
            w.dock("Review").raise_()
            if size[0] == 1600:  # room for every column, as a reviewer would widen it
                w.resizeDocks([w.dock("Review")], [640], Qt.Orientation.Horizontal)
            # somewhere else, then the fan's issue chosen in the list: back to its moment
            w.workbench.timeline.current = w.workbench.timeline.end
            w.workbench.selection = ()
            pump(app, 0.5)
            fan = next(r for r in review.dock.listed() if "booster fan" in r.issue.title)
            review.dock.select_issue(None)
            review.go_to(fan.issue.id)
            w.refresh_panels()
            pump(app, 1.5)
            w.refresh_panels()
            pump(app, 0.5)
            shot(w, name)
            w.close()
            pump(app, 0.5)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
