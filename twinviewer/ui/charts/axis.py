"""The charts' time axis: pyqtgraph's date axis, in the panel's time zone.

Split from :mod:`twinviewer.ui.charts.panel` (which re-exports :class:`TimeAxis`) to keep the
panel module readable.
"""

from __future__ import annotations

import time
from datetime import datetime, tzinfo
from typing import Any

import pyqtgraph as pg
import pyqtgraph.graphicsItems.DateAxisItem as _dates


def utc_offset(tz: tzinfo | None, t: float) -> float | None:
    """pyqtgraph's ``utcOffset`` (seconds *behind* UTC) of ``tz`` at ``t``; ``None`` for the
    local zone, which pyqtgraph then resolves per timestamp, with its DST rules."""
    if tz is None:
        return None
    try:
        off = datetime.fromtimestamp(t, tz).utcoffset()
    except (OverflowError, ValueError, OSError):
        off = datetime.now(tz).utcoffset()
    return None if off is None else -off.total_seconds()


class TimeAxis(pg.DateAxisItem):
    """pyqtgraph's date axis in a time zone, with day ticks that name their month ("Feb 04").

    pyqtgraph takes one fixed UTC offset; a zone's offset depends on the date (daylight saving),
    so the offset is taken at the middle of the range drawn, each time ticks are made: winter
    data viewed in summer is labelled in winter time, as the cursor's clock shows it.
    """

    def __init__(self, tz: tzinfo | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tz = tz
        self.utcOffset = utc_offset(tz, time.time())

    def set_time_zone(self, tz: tzinfo | None) -> None:
        self.tz = tz
        self.utcOffset = utc_offset(tz, time.time())
        self.picture = None  # pyqtgraph's cached drawing
        self.update()

    def tickValues(self, minVal: float, maxVal: float, size: float) -> Any:  # noqa: N802, N803
        if self.tz is not None:
            self.utcOffset = utc_offset(self.tz, (minVal + maxVal) / 2)
        return super().tickValues(minVal, maxVal, size)

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        strings: list[str] = super().tickStrings(values, scale, spacing)
        spec = next((s for s in self.zoomLevel.tickSpecs if s.spacing == spacing), None)
        if spec is None or spec.format != "%d":
            return strings
        out = []
        for v, text in zip(values, strings, strict=False):
            try:
                d = _dates.utcfromtimestamp(
                    _dates.adjustTimestampToPreferredUtcOffset(v, self.utcOffset)
                )
            except (OverflowError, ValueError, OSError):
                out.append(text)
                continue
            out.append(f"{d:%b} {text}" if text else text)
        return out


__all__ = ["TimeAxis", "utc_offset"]
