"""Where the docks go, and keeping the window on its screen.

The default layout is declared by the features (:class:`~twinviewer.ui.feature.DockSpec`:
area, a dock to split from or tab with, a preferred and a minimum size) and applied once the
window has its size (tabbing docks before the window is laid out leaves a stray tab bar behind
in Qt). *View > Reset layout* applies it again. The window never grows past the screen: its
maximum size is the screen's available area, so a dock that asks for more room is squeezed
instead of pushing the timeline off the bottom.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QMainWindow,
    QScrollArea,
    QWidget,
)

from twinviewer.ui.feature import DockSpec

H = Qt.Orientation.Horizontal
V = Qt.Orientation.Vertical


class DockLayout:
    """The docks of a main window and their default arrangement."""

    def __init__(self, window: QMainWindow) -> None:
        self.window = window
        self.docks: dict[str, QDockWidget] = {}
        self.specs: dict[str, DockSpec] = {}
        self._applied = False

    def add(self, spec: DockSpec) -> QDockWidget:
        w = self.window
        dock = QDockWidget(spec.title, w)
        dock.setObjectName(spec.title)
        # a tall panel scrolls rather than growing the window
        dock.setWidget(scrolled(spec.widget) if spec.scroll else spec.widget)
        dock.setMinimumSize(*spec.minimum)
        w.addDockWidget(spec.area, dock)
        self.docks[spec.title] = dock
        self.specs[spec.title] = spec
        if self._applied:  # added after the layout was made (a new chart panel): place it now
            self._place(spec, dock)
            self._size([spec])
        return dock

    def apply_default_once(self) -> None:
        if not self._applied:
            self.reset(True)

    def reset(self, shown: bool) -> None:
        """Every dock back in its area, split and tabbed as declared, at its preferred size."""
        w = self.window
        for title, dock in self.docks.items():
            dock.setFloating(False)
            w.removeDockWidget(dock)
            w.addDockWidget(self.specs[title].area, dock)
        for title, spec in self.specs.items():
            if spec.tab_with is None:
                self._place(spec, self.docks[title])
        for title, spec in self.specs.items():
            if spec.tab_with is not None:
                self._place(spec, self.docks[title])
        self._applied = True
        self.set_twin_shown(shown)
        for title, spec in self.specs.items():
            if spec.raised:
                self.docks[title].raise_()
        self._size(list(self.specs.values()))

    def _place(self, spec: DockSpec, dock: QDockWidget) -> None:
        w = self.window
        if spec.split_from in self.docks:
            w.splitDockWidget(self.docks[spec.split_from], dock, V)
        if spec.tab_with in self.docks:
            w.tabifyDockWidget(self.docks[spec.tab_with], dock)

    def resize_docks(self) -> None:
        """Every dock at its preferred size for the window's size now."""
        self._size(list(self.specs.values()))

    def _size(self, specs: list[DockSpec]) -> None:
        """Preferred sizes are for a 1600x1000 window; a smaller one gets them in proportion
        (never below a dock's minimum), so the 3D view keeps its share."""
        w = self.window
        fx, fy = min(1.0, w.width() / 1600), min(1.0, w.height() / 1000)

        def width(s: DockSpec) -> int:
            return max(s.minimum[0], round(s.size[0] * fx))

        def height(s: DockSpec) -> int:
            return max(s.minimum[1], round(s.size[1] * fy))

        side = (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea)
        across = [s for s in specs if s.area in side and s.tab_with is None and not s.split_from]
        if across:
            w.resizeDocks([self.docks[s.title] for s in across], [width(s) for s in across], H)
        tall = [s for s in specs if s.tab_with is None]
        if tall:
            w.resizeDocks([self.docks[s.title] for s in tall], [height(s) for s in tall], V)

    def set_twin_shown(self, shown: bool) -> None:
        """Docks that belong to an open twin are shown with it and hidden on the start page."""
        for title, spec in self.specs.items():
            if spec.shown_with_twin and (self._applied or not shown):
                self.docks[title].setVisible(shown)


def scrolled(widget: QWidget, across: bool = False) -> QScrollArea:
    """``widget`` in a frameless scroll area: it may be squeezed below its minimum size
    (vertically; also across with ``across``, otherwise its own tables scroll sideways)."""
    area = QScrollArea()
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidgetResizable(True)
    if not across:
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setWidget(widget)
    return area


def fit_to_screen(window: QWidget, preferred: tuple[int, int] | None = None) -> None:
    """Keep ``window`` (frame included) inside its screen's available area, and never let it
    grow past it; with ``preferred``, resize it to that size or the screen's, whichever is
    smaller."""
    screen = window.screen()
    if screen is None:
        return
    avail = screen.availableGeometry()
    frame_w = max(0, window.frameGeometry().width() - window.width())
    frame_h = max(0, window.frameGeometry().height() - window.height())
    max_w, max_h = avail.width() - frame_w, avail.height() - frame_h
    window.setMaximumSize(max_w, max_h)
    want_w, want_h = preferred if preferred is not None else (window.width(), window.height())
    if window.isMaximized() or window.isFullScreen():
        return
    window.resize(min(want_w, max_w), min(want_h, max_h))
    g = window.frameGeometry()
    x = min(max(g.x(), avail.x()), avail.right() - g.width() + 1)
    y = min(max(g.y(), avail.y()), avail.bottom() - g.height() + 1)
    if (x, y) != (g.x(), g.y()):
        window.move(x, y)
