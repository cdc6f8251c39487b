"""Views: frame the model, the standard views, the project's saved views, and screenshots."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QComboBox, QFileDialog, QLabel, QWidget

from twinviewer.render.scene import STANDARD_VIEWS
from twinviewer.session import TwinSession
from twinviewer.ui.feature import ActionSpec, Feature

if TYPE_CHECKING:
    from twinviewer.ui.main_window import QtMainWindow


class ViewsFeature(Feature):
    name = "views"

    def __init__(self, host: QtMainWindow) -> None:
        super().__init__(host)
        self.combo = QComboBox()
        self.combo.setMinimumWidth(120)
        self.combo.setToolTip("Saved views of the project")
        self.combo.activated.connect(lambda i: self.apply_saved_view(self.combo.itemText(i)))

    def actions(self) -> list[ActionSpec]:
        specs = [
            ActionSpec(
                "views.screenshot",
                "Save &screenshot…",
                self.screenshot_dialog,
                "File",
                "export",
                "Ctrl+Shift+S",
                "Save the 3D view as a PNG image",
                toolbar=True,
            ),
            ActionSpec(
                "views.fit", "&Fit all", self.fit, "View", "camera", "F",
                "Frame the visible model", toolbar=True,
            ),
        ]  # fmt: skip
        for i, name in enumerate(STANDARD_VIEWS):
            specs.append(
                ActionSpec(
                    f"views.{name}",
                    f"{name.capitalize()} view",
                    lambda _=False, n=name: self.standard_view(n),
                    "View",
                    "standard",
                    f"Ctrl+{i + 1}",
                    toolbar=name in ("iso", "top", "front", "right"),
                )
            )
        return specs

    def submenus(self) -> list[str]:
        return ["View/Saved views"]

    def toolbar_widgets(self) -> list[QWidget]:
        return [QLabel(" View: "), self.combo]

    def opened(self, session: TwinSession) -> None:
        self.combo.clear()
        menu = self.host.menu("View/Saved views")
        menu.clear()
        for v in session.project.views:
            self.combo.addItem(v.name)
            act = menu.addAction(v.name)
            act.triggered.connect(lambda _=False, n=v.name: self.apply_saved_view(n))
        menu.setEnabled(bool(session.project.views))
        self.combo.setEnabled(bool(session.project.views))
        if session.project.views:
            self.apply_saved_view(session.project.views[0].name)
        else:
            self.host.view.scene.standard_view("iso")

    def closed(self) -> None:
        self.combo.clear()
        self.combo.setEnabled(False)

    def fit(self) -> None:
        self.host.view.scene.fit()
        self.host.view.request_render()

    def standard_view(self, name: str) -> None:
        self.host.view.scene.standard_view(name)
        self.host.view.request_render()

    def apply_saved_view(self, name: str) -> None:
        s = self.session
        if s is None:
            return
        for v in s.project.views:
            if v.name == name:
                self.host.view.scene.set_camera(v.position, v.focal_point, v.up)
                self.combo.setCurrentText(name)
                self.host.view.request_render()
                return

    def screenshot_dialog(self) -> None:
        default = str(Path.cwd() / "twinviewer.png")
        path, _ = QFileDialog.getSaveFileName(
            self.host, "Save screenshot", default, "PNG image (*.png)"
        )
        if path:
            self.save_screenshot(path)

    def save_screenshot(self, path: str | Path) -> Path:
        """The 3D view as a PNG at its on-screen size."""
        path = Path(path)
        if path.suffix.lower() != ".png":
            path = path.with_suffix(".png")
        self.host.view.screenshot(str(path))
        self.host.statusBar().showMessage(f"Saved {path}", 5000)
        return path
