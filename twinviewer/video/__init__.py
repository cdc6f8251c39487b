"""Video of tours and history replays (being built)."""
