"""The one-click review report: a twin at a moment and over a window, as HTML or PDF.

- :mod:`~twinviewer.report.content`: :class:`ReportBuilder` gathers a Qt-free
  :class:`ReportContent` from a session and its history (snapshots, component states, charts,
  alarms and events, fidelity, data quality, issues, measurements), with progress and cancel.
- :mod:`~twinviewer.report.charts`: sensor charts (matplotlib, Agg) as PNG.
- :mod:`~twinviewer.report.html`: one self-contained HTML page (pictures embedded).
- :mod:`~twinviewer.report.pdf`: the same page printed by WeasyPrint (paged, numbered).
- :mod:`~twinviewer.report.build`: :func:`build_report` for ``twinviewer report``.

Sits between the window and the session: imports the session, rendering, the data packages
and core, never Qt.
"""

from twinviewer.report.build import build_report, report_format, write_report
from twinviewer.report.content import (
    ReportBuilder,
    ReportCancelled,
    ReportContent,
    ReportOptions,
    resolve_window,
)

__all__ = [
    "ReportBuilder",
    "ReportCancelled",
    "ReportContent",
    "ReportOptions",
    "build_report",
    "report_format",
    "resolve_window",
    "write_report",
]
