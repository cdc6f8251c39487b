"""The review book: every change is saved at once and announced, and a broken file stays."""

from __future__ import annotations

from pathlib import Path

import pytest

from twinviewer.review import Measurement, ReviewFileError, load_review, new_issue
from twinviewer.session.review_book import ReviewBook


def _project(tmp_path: Path) -> Path:
    path = tmp_path / "plant.twin.yaml"
    path.write_text("name: plant\n")
    return path


def test_changes_are_saved_and_announced(tmp_path: Path) -> None:
    book = ReviewBook(_project(tmp_path))
    seen: list[int] = []
    book.changed.connect(lambda: seen.append(1))
    issue = book.add_issue(new_issue("Hot bearing", "ana", component="pump3"), b"\x89PNG fake")
    m = Measurement(name="gap 1", kind="distance", points=[(0, 0, 0), (1, 0, 0)], value=1, unit="m")
    book.add_measurement(m)
    assert (book.folder / "snapshots" / f"{issue.id}.png").read_bytes() == b"\x89PNG fake"
    again = load_review(tmp_path / "plant.review")
    assert [i.title for i in again.issues] == ["Hot bearing"]
    assert again.issues[0].snapshot == f"{issue.id}.png"
    assert [x.name for x in again.measurements] == ["gap 1"]
    assert book.unique_name("gap") == "gap 2"
    where, gone = book.remove_measurement(m.id)
    assert (where, gone.name) == (0, "gap 1")
    assert load_review(book.folder).measurements == []
    book.add_measurement(gone, where)  # undo
    assert [x.id for x in load_review(book.folder).measurements] == [m.id]
    assert len(seen) == 4
    book.remove_issue(issue.id)
    assert not (book.folder / "snapshots" / f"{issue.id}.png").exists()
    assert load_review(book.folder).issues == []


def test_a_broken_review_file_is_reported_and_kept(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (tmp_path / "plant.review").mkdir()
    broken = tmp_path / "plant.review" / "review.json"
    broken.write_text('{"format": "twinviewer-review", "version": 1, "issues": [{}]')
    with pytest.raises(ReviewFileError, match="review.json: line 1"):
        ReviewBook(project)
    assert broken.read_text().endswith("[{}]")


def test_an_unsaved_book_never_writes(tmp_path: Path) -> None:
    project = _project(tmp_path)
    book = ReviewBook.unsaved(project, "review.json: line 3: not valid JSON")
    seen: list[int] = []
    book.changed.connect(lambda: seen.append(1))
    book.add_issue(new_issue("Noted anyway", "ana"), b"\x89PNG")
    m = Measurement(name="gap 1", kind="distance", points=[(0, 0, 0), (1, 0, 0)], value=1, unit="m")
    book.add_measurement(m)
    assert [i.title for i in book.issues] == ["Noted anyway"]
    assert [x.name for x in book.measurements] == ["gap 1"]
    assert seen == [1, 1]
    assert not (tmp_path / "plant.review").exists()
