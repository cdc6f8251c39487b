"""How a capability plugs into the window: a :class:`Feature` declares its docks and actions.

The window (:class:`~twinviewer.ui.main_window.QtMainWindow`) is only a host. Each capability
of the workbench (components, inspector, charts, alarms, overlays, ...) is a feature module
under ``ui/`` with its widgets and its controller. A feature

- declares its docks (:class:`DockSpec`) and its actions (:class:`ActionSpec`: title, shortcut,
  menu, toolbar) as data; the host turns them into dock widgets, QActions, menus and toolbar
  buttons, in the order the features are registered (:mod:`twinviewer.ui.features`);
- reads and writes the shared :class:`~twinviewer.core.workbench.Workbench` model and
  subscribes to the fields it cares about, never to another feature's widgets;
- gets four calls from the host: :meth:`Feature.opened` when a twin is open,
  :meth:`Feature.closed` before it closes, :meth:`Feature.frame` on every drawn frame (after
  the live colours are on the twin, so a feature may paint over them), and
  :meth:`Feature.refresh` twice a second for panels that show numbers.

Actions, menus and shortcuts are plain data rather than app-model's (pyapp-kit) registry:
TwinViewer has a few dozen actions in four menus, and a 60-line dataclass plus one loop in the
host reads more simply than app-model's dependency injection and context expressions. The
data shape is the same, so moving to app-model later is a mechanical change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from twinviewer.core.workbench import Workbench
    from twinviewer.session import TwinSession
    from twinviewer.ui.main_window import QtMainWindow

Shortcut = str | QKeySequence | QKeySequence.StandardKey

#: Top-level menus in the order the menu bar shows them.
MENUS = ("File", "Edit", "View", "Data", "Help")


@dataclass
class ActionSpec:
    """One command of a feature, as data.

    Parameters
    ----------
    id
        Unique name, ``feature.verb`` (the host keeps the QAction under it).
    title
        Menu text with an ``&`` mnemonic.
    callback
        Called with no argument (or with the checked state for ``checkable`` actions).
    menu
        ``"View"`` or a submenu path ``"View/Saved views"``; ``None``: no menu entry.
    group
        Actions of one group sit together in a menu; a separator parts groups.
    shortcut, tip, checkable
        As QAction's.
    toolbar
        Also a button on the main toolbar.
    needs_twin
        Enabled only while a twin is open.
    at_end
        Kept at the end of its menu, below what later features add (Close, Quit).
    """

    id: str
    title: str
    callback: Callable[..., Any]
    menu: str | None = None
    group: str = ""
    shortcut: Shortcut | None = None
    tip: str = ""
    checkable: bool = False
    toolbar: bool = False
    needs_twin: bool = True
    at_end: bool = False


@dataclass
class DockSpec:
    """A dock widget of a feature.

    ``tab_with`` names a dock (by title) to share a tab stack with; ``split_from`` one to split
    (vertically) from; ``size`` is the preferred (width, height) in the default layout;
    ``minimum`` the smallest (width, height) the dock may be squeezed to; ``scroll`` puts a
    tall panel in a scroll area; ``raised`` brings it to the front of its tab stack.
    """

    title: str
    widget: QWidget
    area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea
    tab_with: str | None = None
    split_from: str | None = None
    size: tuple[int, int] = (300, 200)
    minimum: tuple[int, int] = (160, 80)
    shown_with_twin: bool = True
    view_menu: bool = True
    scroll: bool = False
    raised: bool = False


class Feature:
    """A capability of the workbench, hosted by the window.

    Subclasses set :attr:`name`, build their widgets in ``__init__`` and override what they
    need of the methods below.
    """

    name: ClassVar[str] = ""

    def __init__(self, host: QtMainWindow) -> None:
        self.host = host

    @property
    def workbench(self) -> Workbench:
        return self.host.workbench

    @property
    def session(self) -> TwinSession | None:
        return self.host.session

    # -- what the feature declares ---------------------------------------------------------------
    def docks(self) -> list[DockSpec]:
        return []

    def actions(self) -> list[ActionSpec]:
        return []

    def submenus(self) -> list[str]:
        """Submenus the feature fills itself (``"File/Open recent"``), placed with its actions."""
        return []

    def toolbar_widgets(self) -> list[QWidget]:
        """Widgets on the main toolbar after the actions (combo boxes and their labels)."""
        return []

    # -- what the host calls ---------------------------------------------------------------------
    def hosted(self) -> None:
        """Every feature is hosted (their menus exist): fill menus that depend on others'."""

    def opened(self, session: TwinSession) -> None:
        """A twin is open (its history too) and laid out; sources start after this."""

    def closed(self) -> None:
        """The twin is about to close: drop everything that refers to it."""

    def frame(self, t: float, live: bool) -> None:
        """A frame is drawn at time ``t``, after the live colours are on the twin."""

    def refresh(self) -> None:
        """Twice a second while a twin is open: numbers in panels, states in lists."""

    def shutdown(self) -> None:
        """The window is closing."""
