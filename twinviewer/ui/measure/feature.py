"""Measurement tools in the 3D view (being built)."""

from __future__ import annotations

from twinviewer.ui.feature import Feature


class MeasureFeature(Feature):
    name = "measure"
