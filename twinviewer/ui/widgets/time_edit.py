"""An editor of a twin time (epoch seconds) in a time zone, with a calendar pop-up."""

from __future__ import annotations

from PySide6.QtCore import QDateTime, QTimeZone
from PySide6.QtWidgets import QDateTimeEdit


def time_edit(t: float, zone: QTimeZone) -> QDateTimeEdit:
    """A date-time editor showing epoch seconds ``t`` in ``zone`` (``yyyy-MM-dd HH:mm:ss``
    and the zone's abbreviation)."""
    edit = QDateTimeEdit(QDateTime.fromMSecsSinceEpoch(int(t * 1000), zone))
    edit.setDisplayFormat("yyyy-MM-dd HH:mm:ss t")
    edit.setTimeZone(zone)
    edit.setCalendarPopup(True)
    return edit
