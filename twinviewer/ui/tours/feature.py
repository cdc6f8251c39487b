"""Tours (being built)."""

from __future__ import annotations

from twinviewer.ui.feature import Feature


class ToursFeature(Feature):
    name = "tours"
