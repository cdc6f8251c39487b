"""The design review's data: validation names its key, review.json round trips and is never
overwritten when broken, and `twinviewer review` add/list/export/import on a real project."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError

from twinviewer.cli import main
from twinviewer.review import (
    Camera,
    ClipPlane,
    Comment,
    Issue,
    Measurement,
    Review,
    ReviewFileError,
    Viewpoint,
    load_review,
    new_issue,
    review_folder,
    save_review,
)
from twinviewer.review.store import REVIEW_FILE, dumps

T0 = datetime(2026, 11, 24, 3, 0, tzinfo=timezone.utc).timestamp()


def _keys(exc: ValidationError) -> set[str]:
    return {".".join(str(p) for p in e["loc"]) for e in exc.errors()}


def _viewpoint() -> Viewpoint:
    return Viewpoint(
        camera=Camera(position=(5, -150, 5), focal_point=(5, -30, 5), up=(0, 0, 1)),
        selection=["floor_0"],
        hidden=["roof"],
        section=ClipPlane(origin=(0, 0, 3), normal=(0, 0, 1)),
        overlay="temperature",
        time=T0,
    )


def test_validation_errors_name_their_key() -> None:
    with pytest.raises(ValidationError) as e:
        Issue.model_validate({"title": "  ", "author": "ann"})
    assert _keys(e.value) == {"title"}
    with pytest.raises(ValidationError) as e:
        Issue.model_validate({"title": "t", "author": "ann", "status": "done"})
    assert _keys(e.value) == {"status"}
    with pytest.raises(ValidationError) as e:
        Issue.model_validate({"title": "t", "author": "ann", "colour": "red"})
    assert _keys(e.value) == {"colour"}  # unknown keys are refused
    with pytest.raises(ValidationError) as e:
        Issue.model_validate({"title": "t", "author": "ann", "created": "yesterday"})
    assert _keys(e.value) == {"created"}
    with pytest.raises(ValidationError) as e:
        Issue.model_validate({"title": "t", "author": "ann", "snapshot": "../x.png"})
    assert _keys(e.value) == {"snapshot"}
    with pytest.raises(ValidationError) as e:
        Measurement(name="gap", kind="distance", points=[(0, 0, 0)], value=1, unit="m")
    assert "2 points" in str(e.value)
    with pytest.raises(ValidationError) as e:
        Viewpoint.model_validate({"camera": {"position": [0, 0, 0], "focal_point": [1, 0, 0]}})
    assert _keys(e.value) == {"camera.up"}


def test_new_issue_and_filters() -> None:
    a = new_issue("Hot floor", "ann", component="floor_0", time=T0, priority="high")
    b = new_issue("CO high", "bob", component="floor_2", time=T0 + 600)
    b.status = "resolved"
    c = new_issue("No time", "ann", viewpoint=_viewpoint())
    c.comments.append(Comment(author="carl", text="agreed"))
    review = Review(issues=[a, b, c])
    assert a.created.endswith("Z") and len(a.id) == 36 and a.status == "open"
    assert review.issue(b.id) is b and review.issue(b.id[:8]) is b
    with pytest.raises(KeyError):
        review.issue("nope")
    assert review.by_status("open") == [a, c]
    assert review.by_component("floor_0") == [a, c]  # c's viewpoint selects it
    assert review.by_author("carl") == [c]
    assert review.in_window(T0 + 1, None) == [b]
    with pytest.raises(ValueError, match="unknown status"):
        review.by_status("done")
    with pytest.raises(ValidationError, match="appears twice"):
        Review(issues=[a, a])


def test_save_load_round_trip_is_stable(tmp_path: Path) -> None:
    assert review_folder(tmp_path / "plant.twin.yaml") == tmp_path / "plant.review"
    folder = tmp_path / "plant.review"
    assert load_review(folder) == Review()  # nothing yet: an empty review
    issue = new_issue("Hot floor", "ann", component="floor_0", time=T0, values={"F0_T": 61.5})
    issue.viewpoint = _viewpoint()
    issue.comments.append(Comment(author="bob", text="seen", viewpoint_id=issue.viewpoint.id))
    m = Measurement(
        name="stair width", kind="distance", points=[(0, 0, 0), (1.2, 0, 0)], value=1.2, unit="m"
    )
    review = Review(issues=[issue], measurements=[m])
    path = save_review(folder, review)
    assert load_review(folder) == review
    text = path.read_text()
    assert text == dumps(load_review(folder))  # saving again writes the same bytes
    assert text.startswith('{\n  "format": "twinviewer-review",\n  "issues"')
    assert list(folder.iterdir()) == [path]  # no temporary file left behind


def test_broken_file_is_a_clear_error_and_not_overwritten(tmp_path: Path) -> None:
    folder = tmp_path / "plant.review"
    folder.mkdir()
    path = folder / REVIEW_FILE
    path.write_text('{\n  "format": "twinviewer-review",\n  "issues": [\n')
    with pytest.raises(ReviewFileError, match=r"review.json: line \d+, column \d+: not valid JSON"):
        load_review(folder)
    path.write_text(json.dumps({"format": "something-else", "version": 1}))
    with pytest.raises(ReviewFileError, match="key 'format': expected 'twinviewer-review'"):
        load_review(folder)
    bad = {"format": "twinviewer-review", "version": 1, "issues": [{"title": "x"}]}
    path.write_text(json.dumps(bad))
    with pytest.raises(ReviewFileError, match=r"key issues\[0\]\.author: required key is missing"):
        load_review(folder)
    before = path.read_bytes()
    project = tmp_path / "plant.twin.yaml"
    assert main(["review", str(project), "list"]) == 1
    assert path.read_bytes() == before


# -- the command on a real project with a history --------------------------------------------


def _record(project: Path) -> None:
    """Samples of the building's three sensors: 20..39 over 20 minutes from T0."""
    from twinviewer.core.samples import SampleBatch
    from twinviewer.history import HistoryStore

    store = HistoryStore(
        project.with_name("building.history"), ["F0_T", "F1_T", "F2_CO"], writer_thread=False
    )
    try:
        for k in range(20):
            t = T0 + 60 * k
            store.append(SampleBatch.of([0, 1, 2], [t, t, t], [20 + k, 30 + k, 5 + k / 2]))
        store.flush()
    finally:
        store.close()


def test_cli_add_list_export_import(building: Path, tmp_path: Path, capsys) -> None:
    _record(building)
    project = str(building)
    at = "2026-11-24T03:10:30Z"  # between samples: the one of 03:10 holds
    rc = main(
        [
            "review",
            project,
            "add",
            "--component",
            "floor_0",
            "--at",
            at,
            "--title",
            "Floor 0 runs hot",
            "--author",
            "ann",
            "--priority",
            "high",
        ]
    )
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert "F0_T=30" in out.out
    rc = main(["review", project, "add", "--component", "floors", "--title", "Check all floors"])
    assert rc == 0
    capsys.readouterr()

    review = load_review(review_folder(building))
    (hot,) = review.by_component("floor_0")  # two issues of one second: file order is by id
    (floors,) = review.by_component("floors")
    assert hot.component == "floor_0" and hot.author == "ann" and hot.priority == "high"
    assert hot.time == T0 + 630 and hot.values == {"F0_T": 30.0}
    assert floors.time is None and floors.author  # $USER or the login

    assert main(["review", project, "list", "--component", "floor_0"]) == 0
    out = capsys.readouterr().out
    assert "Floor 0 runs hot" in out and "Check all floors" not in out and "1 of 2" in out
    assert main(["review", project, "list", "--json", "--status", "open"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["count"] == 2
    assert {i["component"]: i["values"] for i in listed["issues"]}["floor_0"] == {"F0_T": 30.0}

    rc = main(["review", project, "add", "--component", "flor_0", "--title", "x"])
    err = capsys.readouterr().err
    assert rc == 1 and "'flor_0'" in err and "did you mean floor_0" in err
    assert main(["review", project, "add", "--title", "x"]) == 2  # no --component
    assert (
        main(["review", project, "add", "--component", "floor_0", "--title", "x", "--at", "soon"])
        == 2
    )
    assert main(["review", project, "export"]) == 2  # no --bcf
    capsys.readouterr()

    bcf = tmp_path / "out.bcf"
    assert main(["review", project, "export", "--bcf", str(bcf)]) == 0
    assert "exported 2 issues" in capsys.readouterr().out
    # into a second copy of the project: the same issues come in, then an import merges
    other = building.with_name("other.twin.yaml")
    other.write_text(building.read_text())
    assert main(["review", str(other), "import", str(bcf)]) == 0
    assert "2 new, 0 updated" in capsys.readouterr().out
    assert load_review(review_folder(other)).issues == review.issues
    assert main(["review", str(other), "import", str(bcf)]) == 0
    assert "0 new, 2 updated" in capsys.readouterr().out
    assert len(load_review(review_folder(other)).issues) == 2
