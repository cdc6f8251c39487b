"""Rows of the alarm list, without Qt: recorded intervals, predicted alarms, anomaly events.

One structured dtype holds all three kinds so that the list sorts, filters and selects them
alike: :data:`REAL` rows are :class:`~twinviewer.core.alarms.AlarmLog` intervals,
:data:`PREDICTED` rows are forecast limit crossings (``start`` the expected time, ``early`` and
``late`` its interval, ``at`` when the forecast was made, ``peak`` the limit), :data:`ANOMALY`
rows are intervals of a model's anomaly score above its limit (``sensor`` indexes the group
after the project's sensors).
"""

from __future__ import annotations

import numpy as np

from twinviewer.core.alarms import INTERVAL_DTYPE

#: What a row is: a recorded interval, a forecast crossing, or an anomaly event of a model.
REAL, PREDICTED, ANOMALY = 0, 1, 2
ROW_DTYPE = np.dtype(
    INTERVAL_DTYPE.descr + [("kind", "i1"), ("early", "<f8"), ("late", "<f8"), ("at", "<f8")]
)


def as_rows(intervals: np.ndarray, kind: int = REAL) -> np.ndarray:
    """Intervals (``INTERVAL_DTYPE``) as list rows of one kind."""
    out = np.zeros(len(intervals), ROW_DTYPE)
    for name in INTERVAL_DTYPE.names or ():
        out[name] = intervals[name]
    out["kind"] = kind
    out["early"] = out["late"] = out["at"] = np.nan
    return out
