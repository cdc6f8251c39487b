"""Authoring in the window: a new twin from a bare model; sensors added, edited and removed
through the inspector, each undoable."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from twinviewer.core.project import load_project  # noqa: E402
from twinviewer.ui import authoring  # noqa: E402

pytestmark = pytest.mark.gui


@pytest.fixture
def bare_model(corpus: Path, tmp_path: Path) -> Path:
    model = tmp_path / "building.glb"
    shutil.copy(corpus / "meshes" / "gltf" / "no_indices_3storybuilding.glb", model)
    return model


def new_twin(qtbot, window, model: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """File > New twin from model… with the file dialog answered ``model``."""
    monkeypatch.setattr(authoring, "ask_model", lambda _host: model)
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        window.action("file.new_twin").trigger()
    return model.with_suffix(".twin.yaml")


def test_new_twin_from_model_writes_and_opens_the_project(
    qtbot, window, bare_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert window.action("file.new_twin").isEnabled()  # no twin open yet
    path = new_twin(qtbot, window, bare_model, monkeypatch)
    assert path.is_file()
    project, _ = load_project(path)
    assert project.components  # the model's top-level nodes
    assert "# Sensors: one entry per measured signal" in path.read_text()
    assert window.session is not None and window.session.path.resolve() == path.resolve()
    assert window.windowTitle().startswith(project.name)


def test_new_twin_asks_before_overwriting(
    qtbot, window, bare_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = bare_model.with_suffix(".twin.yaml")
    path.write_text("# mine\n")
    asked: list[Path] = []

    def refuse(_host: object, p: Path) -> bool:
        asked.append(p)
        return False

    monkeypatch.setattr(authoring, "confirm_overwrite", refuse)
    monkeypatch.setattr(authoring, "ask_model", lambda _host: bare_model)
    window.action("file.new_twin").trigger()
    assert asked == [path]
    assert path.read_text() == "# mine\n"  # kept
    assert window.session is None

    monkeypatch.setattr(authoring, "confirm_overwrite", lambda _h, _p: True)
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        window.action("file.new_twin").trigger()
    assert "twinviewer: 1" in path.read_text()
