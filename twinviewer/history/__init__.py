"""The history store: append batches durably; values of all sensors at t; chart series."""

from twinviewer.history.store import HistoryStore

__all__ = ["HistoryStore"]
