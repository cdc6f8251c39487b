"""The review report (being built)."""
