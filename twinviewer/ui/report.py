"""File > Export review report (being built)."""

from __future__ import annotations

from twinviewer.ui.feature import Feature


class ReportFeature(Feature):
    name = "report"
