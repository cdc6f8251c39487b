"""project_edit.add_overlay / remove_overlay: a simulation result written into ``overlays:``
with the rest of the project file kept (comments, layout), checked before the file is replaced."""

from __future__ import annotations

from pathlib import Path

import pytest

from twinviewer.core.project import Overlay, OverlayTime, Placement, load_project
from twinviewer.core.project_edit import ProjectEditError, add_overlay, remove_overlay

HEAD = """\
# Pump skid, commissioning 2026
name: Pump skid   # shown in the title bar
models: [{model}]
sensors:
  - {{id: T1, quantity: temperature, unit: degC, component: box, range: [0, 100]}}  # the casing
"""

BLOCK = """\
overlays:
  # the first CFD run, spring 2026
  - name: Run 1
    result: run1.vtu
    field: T   # degC
    visible: true

# views come last
views:
  - {name: Front, position: [0, -5, 0], focal_point: [0, 0, 0], up: [0, 0, 1]}
"""


def _project(tmp_path: Path, tail: str) -> Path:
    model = tmp_path / "box.stl"
    import pyvista as pv

    pv.Cube().triangulate().save(model)
    path = tmp_path / "skid.twin.yaml"
    path.write_text(HEAD.format(model=model.name) + tail)
    load_project(path)  # a valid start
    return path


def _overlay(name: str = "Run 2") -> Overlay:
    return Overlay(
        name=name,
        result="results/run2.vtu",
        field="pressure",
        placement=Placement(translate=(1.0, 2.0, 0.5), scale=1000.0),
        time=OverlayTime(mode="step_index", origin="2026-01-31T08:00:00Z", offset=30.0),
        colormap="viridis",
        visible=True,
    )


def _kept_in_order(before: str, after: str) -> bool:
    """Every line of ``before`` is in ``after``, in the same order."""
    it = iter(after.split("\n"))
    return all(any(line == n for n in it) for line in before.rstrip("\n").split("\n"))


def test_appended_to_a_block_list_with_comments_kept(tmp_path: Path) -> None:
    path = _project(tmp_path, BLOCK)
    before = path.read_text()
    add_overlay(path, _overlay())
    after = path.read_text()
    assert _kept_in_order(before, after)
    # right after the last overlay, its dash in the same column, defaults left out
    assert (
        "    visible: true\n"
        "  - name: Run 2\n"
        "    result: results/run2.vtu\n"
        "    field: pressure\n"
        "    placement:\n"
        "      translate: [1, 2, 0.5]\n"
        "      scale: 1000\n"
        '    time: {mode: step_index, origin: "2026-01-31T08:00:00Z", offset: 30}\n'
        "    colormap: viridis\n"
        "    visible: true\n"
        "\n# views come last\n"
    ) in after
    project, _ = load_project(path)
    assert [o.name for o in project.overlays] == ["Run 1", "Run 2"]
    assert project.overlays[1] == _overlay()

    removed = remove_overlay(path, "Run 2")
    assert removed == _overlay()
    assert path.read_text() == before


def test_a_flow_list_becomes_a_block_list(tmp_path: Path) -> None:
    path = _project(tmp_path, "overlays: [{name: Run 1, result: run1.vtu}]   # one so far\n")
    add_overlay(path, _overlay())
    text = path.read_text()
    assert text.startswith(HEAD.format(model="box.stl"))
    assert (
        "overlays:   # one so far\n  - name: Run 1\n    result: run1.vtu\n  - name: Run 2\n"
    ) in text
    project, _ = load_project(path)
    assert [o.name for o in project.overlays] == ["Run 1", "Run 2"]
    # taking both out again leaves an empty list
    remove_overlay(path, "Run 2")
    remove_overlay(path, "Run 1")
    assert "overlays: []   # one so far\n" in path.read_text()
    assert load_project(path)[0].overlays == []


@pytest.mark.parametrize("tail", ["", "overlays: []  # none yet\n"])
def test_a_missing_key_or_empty_list(tmp_path: Path, tail: str) -> None:
    path = _project(tmp_path, tail)
    before = path.read_text()
    add_overlay(path, Overlay(name="Run 2", result="run2.vtu"))
    text = path.read_text()
    assert _kept_in_order(before.replace("overlays: []", "overlays:"), text)
    assert "  - name: Run 2\n    result: run2.vtu\n" in text
    assert "# Pump skid, commissioning 2026\n" in text
    assert load_project(path)[0].overlays == [Overlay(name="Run 2", result="run2.vtu")]


def test_a_name_taken_is_refused(tmp_path: Path) -> None:
    path = _project(tmp_path, BLOCK)
    before = path.read_text()
    with pytest.raises(ProjectEditError, match="an overlay named 'Run 1' is there already"):
        add_overlay(path, _overlay("Run 1"))
    with pytest.raises(ProjectEditError, match="no overlay named 'Run 9'.*'Run 1'"):
        remove_overlay(path, "Run 9")
    assert path.read_text() == before


def test_an_invalid_overlay_is_refused_and_the_file_unchanged(tmp_path: Path) -> None:
    path = _project(tmp_path, BLOCK)
    before = path.read_text()
    bad = Overlay.model_construct(**{**_overlay().__dict__, "opacity": 3.0})  # not validated
    with pytest.raises(ProjectEditError, match=r"(?s)would not load.*overlays\[1\]\.opacity"):
        add_overlay(path, bad)
    assert path.read_text() == before
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind


def test_an_overlay_a_tour_shows_is_not_removed(tmp_path: Path) -> None:
    tour = (
        "tours:\n  - name: Intro\n    steps:\n      - {title: Run 1, view: Front, overlay: Run 1}\n"
    )
    path = _project(tmp_path, BLOCK + tour)
    before = path.read_text()
    with pytest.raises(ProjectEditError, match="would not load"):
        remove_overlay(path, "Run 1")
    assert path.read_text() == before


def test_crlf_line_ends_are_kept(tmp_path: Path) -> None:
    path = _project(tmp_path, BLOCK)
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    add_overlay(path, _overlay())
    raw = path.read_bytes()
    assert b"\r\n  - name: Run 2\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
