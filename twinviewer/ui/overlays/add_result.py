"""File > Add simulation result…: a result put on the open twin as an overlay (placeholder)."""

from __future__ import annotations

from twinviewer.ui.feature import Feature


class AddResultFeature(Feature):
    name = "add-result"
