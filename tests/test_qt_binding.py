"""Guards against a Qt binding that would crash a long-running window."""

from __future__ import annotations

import sys

import pytest


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12")
def test_void_qt_calls_keep_none_alive(qapp) -> None:
    """PySide6 6.12.0 decremented None's reference count on each void call; the live window
    makes such calls many times a second and aborted with 'none_dealloc' after minutes."""
    from PySide6.QtWidgets import QTreeWidgetItem

    item = QTreeWidgetItem(["a"])
    before = sys.getrefcount(None)
    for _ in range(2000):
        item.setToolTip(0, "x")
        item.setText(0, "a")
    assert abs(sys.getrefcount(None) - before) < 100
