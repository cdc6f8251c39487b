"""The chart panel's time windows and its "Custom…" range dialog.

The windows are spans shown while following (the live edge or the timeline's cursor), up to
"All data": the whole range the timeline holds, for history imported from years ago that no
fixed span would find. "Custom…" asks for a from/to pair in the panel's time zone, the zone the
axis is labelled in, so what is typed is what the axis then shows.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, tzinfo

from PySide6.QtCore import QDate, QDateTime, Qt, QTime, QTimeZone
from PySide6.QtWidgets import (
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from twinviewer.ui.timeline.ticks import from_wall_time, wall_time

ALL_DATA = math.inf
"""The window "All data": the whole range the timeline holds (``QtChartPanel.set_window``)."""
CUSTOM = "custom"
"""The window combo's data for "Custom…" (opens :class:`RangeDialog`)."""
#: Time windows offered when following (seconds, label), then "All data" and "Custom…".
WINDOWS: list[tuple[float, str]] = [
    (60.0, "1 min"),
    (600.0, "10 min"),
    (3600.0, "1 h"),
    (8 * 3600.0, "8 h"),
    (86400.0, "1 day"),
    (7 * 86400.0, "7 days"),
    (30 * 86400.0, "30 days"),
    (ALL_DATA, "All data"),
]
WINDOW_TIPS = {
    ALL_DATA: "The whole time range held (imported history too), growing with live data",
}
EDIT_FORMAT = "yyyy-MM-dd HH:mm:ss"
ERROR_STYLE = "color: #ff6e6e;"


def zone_name(tz: tzinfo | None, at: float) -> str:
    """How the dialog names the zone: ``"Europe/Berlin (UTC+01:00)"``, or the local zone's."""
    aware = datetime.fromtimestamp(at, tz) if tz is not None else datetime.fromtimestamp(at)
    aware = aware if tz is not None else aware.astimezone()
    off = aware.utcoffset() or timedelta(0)
    sign = "-" if off < timedelta(0) else "+"
    minutes = abs(int(off.total_seconds())) // 60
    utc = f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    key = getattr(tz, "key", None)
    if tz is None:
        return f"local time ({aware.tzname() or utc}, {utc})"
    if key in ("UTC", "Etc/UTC"):
        return "UTC"
    return f"{key} ({utc})" if key else (aware.tzname() or utc)


class RangeDialog(QDialog):
    """From/to date-times in a time zone; OK only for from < to, with a message saying why.

    Parameters
    ----------
    t0, t1
        The range to start from (Unix seconds), e.g. the chart's visible one.
    tz
        The zone the fields are in (``None``: the computer's zone).

    The fields hold the zone's *wall-clock* time (Qt's editors run in UTC, so that Qt's own
    idea of the local zone and its DST gaps never shifts what is typed); :meth:`time_range`
    converts it to Unix seconds.
    """

    def __init__(
        self, t0: float, t1: float, tz: tzinfo | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.tz = tz
        self.setWindowTitle("Custom time range")
        self.from_edit = self._edit()
        self.to_edit = self._edit()
        self.zone_label = QLabel(f"Times in {zone_name(tz, t1)}", self)
        self.message = QLabel(self)
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.setWordWrap(True)
        self.message.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("From", self.from_edit)
        form.addRow("To", self.to_edit)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.zone_label)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.set_time_range(t0, t1)
        for edit in (self.from_edit, self.to_edit):
            edit.dateTimeChanged.connect(self._validate)

    def _edit(self) -> QDateTimeEdit:
        edit = QDateTimeEdit(self)
        if hasattr(edit, "setTimeZone"):  # Qt >= 6.7
            edit.setTimeZone(QTimeZone.utc())
        else:
            edit.setTimeSpec(Qt.TimeSpec.UTC)
        edit.setDisplayFormat(EDIT_FORMAT)
        edit.setCalendarPopup(True)
        return edit

    def _set(self, edit: QDateTimeEdit, t: float) -> None:
        w = wall_time(t, self.tz)
        edit.setDateTime(
            QDateTime(
                QDate(w.year, w.month, w.day),
                QTime(w.hour, w.minute, w.second),
                QTimeZone.utc(),
            )
        )

    def _get(self, edit: QDateTimeEdit) -> float:
        qdt = edit.dateTime()
        d, t = qdt.date(), qdt.time()
        wall = datetime(d.year(), d.month(), d.day(), t.hour(), t.minute(), t.second())
        return from_wall_time(wall, self.tz)

    def set_time_range(self, t0: float, t1: float) -> None:
        """Fill the fields with ``t0`` and ``t1`` (Unix seconds; shown to the second)."""
        self._set(self.from_edit, t0)
        self._set(self.to_edit, t1)
        self._validate()

    def time_range(self) -> tuple[float, float]:
        """The from and to instants typed (Unix seconds)."""
        return self._get(self.from_edit), self._get(self.to_edit)

    def error(self) -> str | None:
        """Why the typed range cannot be shown, or ``None`` when it can."""
        t0, t1 = self.time_range()
        if not t0 < t1:
            return "“From” must be before “To”: the range would be empty."
        return None

    def _validate(self, *_: object) -> None:
        err = self.error()
        self.message.setText(err or "")
        self.message.setVisible(err is not None)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        if ok is not None:
            ok.setEnabled(err is None)

    def accept(self) -> None:
        """Close with the range, unless it is invalid: then stay open and say why."""
        self._validate()
        if self.error() is None:
            super().accept()


__all__ = ["ALL_DATA", "CUSTOM", "WINDOWS", "RangeDialog", "zone_name"]
