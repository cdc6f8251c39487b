"""File > Export video… (being built)."""

from __future__ import annotations

from twinviewer.ui.feature import Feature


class VideoExportFeature(Feature):
    name = "video"
