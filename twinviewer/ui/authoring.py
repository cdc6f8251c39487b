"""Authoring: *File > New twin from model…* writes a project for a bare model and opens it.

The project is what ``twinviewer new`` writes (:mod:`twinviewer.core.project_new`): the
model's top-level nodes as components, an overview camera and commented examples, saved
beside the model as ``<model>.twin.yaml``. An existing file there is overwritten only when
the user says so.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog, QMessageBox

from twinviewer.core.model import ModelReadError
from twinviewer.core.project import ProjectError, load_project
from twinviewer.core.project_new import default_project_path, model_reference, new_project_text
from twinviewer.formats.registry import read_model, supported_suffixes
from twinviewer.ui.feature import ActionSpec, Feature

if TYPE_CHECKING:
    from twinviewer.ui.main_window import QtMainWindow

log = logging.getLogger(__name__)


def ask_model(host: QtMainWindow) -> Path | None:
    """The model file the user picks, or None."""
    patterns = " ".join(f"*{s}" for s in supported_suffixes())
    path, _ = QFileDialog.getOpenFileName(
        host,
        "New twin from model",
        str(Path.cwd()),
        f"Models ({patterns});;All files (*)",
    )
    return Path(path) if path else None


def confirm_overwrite(host: QtMainWindow, path: Path) -> bool:
    """Whether the user agrees to replace the existing project file ``path``."""
    answer = QMessageBox.question(
        host,
        "Replace the project?",
        f"{path} exists already.\nReplace it with a new project for the model?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


class AuthoringFeature(Feature):
    name = "authoring"

    def actions(self) -> list[ActionSpec]:
        return [
            ActionSpec(
                "file.new_twin",
                "&New twin from model…",
                lambda _=False: self.new_twin(),
                "File",
                "open",
                tip="Write a project for a model file (its components and an overview camera) "
                "beside it, and open it",
                needs_twin=False,
            )
        ]

    def new_twin(self, model_path: Path | None = None) -> Path | None:
        """Write a project for ``model_path`` (asked for when None) beside it and open it;
        the project's path, or None when nothing was written."""
        if model_path is None:
            model_path = ask_model(self.host)
            if model_path is None:
                return None
        out = default_project_path(model_path)
        if out.exists() and not confirm_overwrite(self.host, out):
            return None
        try:
            model = read_model(model_path)
        except ModelReadError as exc:
            self.host.error("The model cannot be read", f"{exc.path}: {exc.reason}")
            return None
        text = new_project_text(model, model_reference(model_path, out), out.name)
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            self.host.error("The project cannot be written", f"{out}: {exc}")
            return None
        try:
            load_project(out)
        except ProjectError as exc:  # a bug, never the user's: say so, keep the file to look at
            log.error("the new project %s does not load: %s", out, exc)
            self.host.error("The new project does not load", f"{exc}\n(a bug in TwinViewer)")
            return None
        self.host.statusBar().showMessage(f"Wrote {out}", 5000)
        self.host.open_project(out)
        return out
