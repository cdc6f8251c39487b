"""The Review dock (being built)."""

from __future__ import annotations

from twinviewer.ui.feature import Feature


class ReviewFeature(Feature):
    name = "review"
