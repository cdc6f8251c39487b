"""The Review dock: issues pinned to a component, a point, a viewpoint and a moment."""
