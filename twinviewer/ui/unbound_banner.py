"""A banner above the 3D view naming sensors bound to components that match nothing
(placeholder)."""

from __future__ import annotations

from twinviewer.ui.feature import Feature


class UnboundBannerFeature(Feature):
    name = "unbound-banner"
