"""Rows of the alarm list, without Qt: recorded intervals, predicted alarms, anomaly events.

One structured dtype holds all three kinds so that the list sorts, filters and selects them
alike: :data:`REAL` rows are :class:`~twinviewer.core.alarms.AlarmLog` intervals,
:data:`PREDICTED` rows are forecast limit crossings (``start`` the expected time, ``early`` and
``late`` its interval, ``at`` when the forecast was made, ``peak`` the limit), :data:`ANOMALY`
rows are intervals of a model's anomaly score above its limit (``sensor`` indexes the group
after the project's sensors), :data:`COMMAND` rows are commands sent from the twin (audit
records: ``sensor`` indexes the list's :class:`CommandEvent` entries, ``start`` the attempt,
``end`` its outcome).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twinviewer.core.alarms import INTERVAL_DTYPE

#: What a row is: a recorded interval, a forecast crossing, or an anomaly event of a model.
REAL, PREDICTED, ANOMALY, COMMAND = 0, 1, 2, 3
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


@dataclass(frozen=True)
class CommandEvent:
    """A command row's words (one per audit record): what, on which component, the outcome."""

    key: str  # the attempt's correlation id: the row keeps its selection as the list changes
    label: str  # the command as the operator reads it
    component: str  # its component's name ("" without one)
    result: str  # confirmed, failed, refused, pending
    change: str  # "80 % → 70 %"
    detail: str  # the outcome in words ("read back 70.1 %", "timeout after 10 s", ...)
    tip: str  # who, role, what, old → new, reason, result
    rgb: tuple[int, int, int]
    component_index: int = -1  # model node to select on a click (-1: none)


def command_rows(starts: list[float], ends: list[float]) -> np.ndarray:
    """:data:`COMMAND` rows for events at these times (``sensor`` = the event's position)."""
    out = np.zeros(len(starts), ROW_DTYPE)
    out["sensor"] = np.arange(len(starts))
    out["start"] = starts
    out["end"] = ends
    out["peak"] = out["early"] = out["late"] = out["at"] = np.nan
    out["kind"] = COMMAND
    return out
