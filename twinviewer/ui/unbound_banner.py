"""A banner above the 3D view naming the sensors bound to components that match nothing.

A sensor whose ``component`` names nothing in the model colours nothing, and a typo there is
easy to make and hard to see; ``twinviewer check`` calls it an error. In the window the banner
says it where the user looks: "2 sensors are bound to no component: fan_speed → 'fan_3' (did
you mean 'fan_03'?), …", with *Fix…* (the sensor dialog on the first one) and a close button.
It is worked out again each time the twin opens, so it follows every sensor edit (an edit
reopens the twin); closed, it stays closed until the set of unbound sensors changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton

from twinviewer.core.binding import UnboundSensor, unbound_sensors
from twinviewer.session.twin import is_project_file
from twinviewer.ui.feature import Feature
from twinviewer.ui.inspector.feature import InspectorFeature

if TYPE_CHECKING:
    from twinviewer.session import TwinSession
    from twinviewer.ui.main_window import QtMainWindow

SHOWN = 3  # sensors named in the text; the tooltip lists them all
STYLE = """
QFrame#unbound-banner { background: #4a3a12; border-bottom: 2px solid #e0a526; }
QFrame#unbound-banner QLabel { color: #ffe2a0; }
QFrame#unbound-banner QToolButton { color: #ffe2a0; border: none; font-size: 15px; }
QFrame#unbound-banner QToolButton:hover { color: white; }
"""
LINK_COLOUR = "#ffc94d"


def banner_text(unbound: list[UnboundSensor]) -> str:
    """``2 sensors are bound to no component: a → 'x' (did you mean 'y'?), …``."""
    n = len(unbound)
    head = "1 sensor is" if n == 1 else f"{n} sensors are"
    named = ", ".join(u.describe() for u in unbound[:SHOWN])
    more = f" and {n - SHOWN} more" if n > SHOWN else ""
    return f"{head} bound to no component: {named}{more}"


class UnboundBannerFeature(Feature):
    name = "unbound-banner"

    def __init__(self, host: QtMainWindow) -> None:
        super().__init__(host)
        self.unbound: list[UnboundSensor] = []
        self._text = ""
        self._dismissed: frozenset[tuple[str, str]] = frozenset()
        self.banner = QFrame()
        self.banner.setObjectName("unbound-banner")
        self.banner.setStyleSheet(STYLE)
        self.icon = QLabel("⚠", self.banner)
        self.icon.setStyleSheet("font-size: 16px;")
        self.label = QLabel("", self.banner)
        self.label.setObjectName("unbound-text")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.fix = QLabel(f'<a href="fix" style="color:{LINK_COLOUR}">Fix…</a>', self.banner)
        self.fix.setObjectName("unbound-fix")
        self.fix.setToolTip("Edit the first of these sensors")
        self.fix.linkActivated.connect(lambda _href: self.fix_first())
        self.close_button = QToolButton(self.banner)
        self.close_button.setObjectName("unbound-close")
        self.close_button.setText("×")
        self.close_button.setToolTip("Hide this notice (until the unbound sensors change)")
        self.close_button.clicked.connect(lambda _=False: self.dismiss())
        row = QHBoxLayout(self.banner)
        row.setContentsMargins(10, 5, 6, 5)
        row.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.label, 1)
        row.addWidget(self.fix, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.banner.setVisible(False)
        host.view.add_banner(self.banner)

    def opened(self, session: TwinSession) -> None:
        self.unbound = unbound_sensors(session.project, session.model, session.binding)
        key = self._key()
        if key != self._dismissed:
            self._dismissed = frozenset()
        self._text = banner_text(self.unbound) if self.unbound else ""
        # a narrow window wraps between sensors, not inside "sensor → 'name'"
        self.label.setText(self._text.replace(" → ", "\u00a0→\u00a0"))
        self.label.setToolTip("\n".join(u.describe() for u in self.unbound))
        self.fix.setVisible(is_project_file(session.path))  # a bare model has no sensors
        self.banner.setVisible(bool(self.unbound) and key != self._dismissed)

    def closed(self) -> None:
        self.banner.setVisible(False)

    def _key(self) -> frozenset[tuple[str, str]]:
        return frozenset((u.sensor, u.component) for u in self.unbound)

    @property
    def shown(self) -> bool:
        """Whether the banner is up (for tests and accessibility)."""
        return not self.banner.isHidden()

    def text(self) -> str:
        """The banner's text while it is up, else empty."""
        return self._text if self.shown else ""

    def dismiss(self) -> None:
        """The close button: hidden until the unbound sensors change."""
        self._dismissed = self._key()
        self.banner.setVisible(False)

    def fix_first(self) -> None:
        """*Fix…*: the sensor dialog on the first unbound sensor."""
        if self.unbound:
            self.host.feature(InspectorFeature).edit_sensor(self.unbound[0].sensor)
