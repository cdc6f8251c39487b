"""Dragging sensors between panels: the inspector's and the alarm list's rows onto a chart.

The payload is the sensors' ids, one per line, under a private MIME type (plain text too, so
that dropping into a text editor gives the ids).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QMimeData

SENSOR_MIME = "application/x-twinviewer-sensors"


def sensor_mime(ids: Sequence[str]) -> QMimeData:
    data = QMimeData()
    text = "\n".join(dict.fromkeys(ids))  # unique, in order
    data.setData(SENSOR_MIME, text.encode())
    data.setText(text)
    return data


def sensors_from(data: QMimeData) -> list[str]:
    """The sensor ids carried by a drag (empty when it carries none)."""
    if not data.hasFormat(SENSOR_MIME):
        return []
    raw = bytes(data.data(SENSOR_MIME).data()).decode(errors="replace")
    return [s for s in raw.splitlines() if s]
