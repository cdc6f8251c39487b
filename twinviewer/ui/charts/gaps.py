"""Data-quality gaps on a chart row: hatched spans the plot's full height, behind the curves.

Each span is a :class:`GapRegion` (a fixed ``LinearRegionItem``: it follows the view's y range
by itself) over the gap's ``start..end``, with :meth:`GapSpan.tooltip` as its tooltip. It takes
no mouse buttons, so panning, zooming and dragging the cursor work through it. A small label
says "data missing" once per row, inside the first span in view, and the curves break at each
span instead of drawing a straight line across the samples that are not there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QGraphicsRectItem, QGraphicsSimpleTextItem

from twinviewer.ui.widgets.gaps import HATCH_FILL_RGBA, HATCH_RGBA, GapSpan, span_at

HATCH = QColor(*HATCH_RGBA)
HATCH_FILL = QColor(*HATCH_FILL_RGBA)
HATCH_EDGE = QColor(HATCH.red(), HATCH.green(), HATCH.blue(), 110)
LABEL_PLATE = QColor(30, 33, 38, 210)
GAP_Z = -10  # over the normal and limit bands (-30..-18), under the envelope and lines (0..3)
LABEL_Z = 40  # over the curves, under the cursor (50) and the header (60)
LABEL_TOP = 20.0  # px from the plot's top: under the header line
F64 = NDArray[np.float64]


def hatch_brush() -> QBrush:
    return QBrush(HATCH, Qt.BrushStyle.BDiagPattern)


class GapRegion(pg.LinearRegionItem):
    """A fixed, hatched span over the plot's full height; ``brush`` is the hatch."""

    def __init__(self, span: GapSpan) -> None:
        super().__init__(
            values=(span.start, span.end),
            orientation="vertical",
            brush=hatch_brush(),
            pen=pg.mkPen(HATCH_EDGE, width=1),
            movable=False,
        )
        self.gap_span = span
        self.setZValue(GAP_Z)
        for item in (self, *self.lines):
            item.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
            item.setAcceptHoverEvents(False)
        self.setToolTip(span.tooltip())

    def set_span(self, span: GapSpan) -> None:
        self.gap_span = span
        self.setRegion((span.start, span.end))
        self.setToolTip(span.tooltip())

    def paint(self, p: QPainter, *args: Any) -> None:
        rect = self.boundingRect()
        p.setPen(pg.mkPen(None))
        p.fillRect(rect, HATCH_FILL)
        p.fillRect(rect, self.brush)  # the pattern is cosmetic: same density at any zoom


class RowGaps:
    """The gap spans of one chart row (items are reused as the spans change), the curves'
    breaks at them, and one "data missing" label at the first span in view."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self.plot = plot
        self.items: list[GapRegion] = []
        self.spans: list[GapSpan] = []
        vb = plot.getViewBox()
        self.plate = QGraphicsRectItem(vb)
        self.plate.setPen(QPen(Qt.PenStyle.NoPen))
        self.plate.setBrush(QBrush(LABEL_PLATE))
        self.label = QGraphicsSimpleTextItem("data missing", vb)
        font = QFont()
        font.setPointSizeF(8.5)
        self.label.setFont(font)
        self.label.setBrush(QBrush(HATCH))
        for i, item in enumerate((self.plate, self.label)):
            item.setZValue(LABEL_Z + i)
            item.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
            item.setVisible(False)
        vb.sigResized.connect(self.place_label)

    def set_spans(self, spans: Sequence[GapSpan]) -> bool:
        """Show these spans; returns whether anything changed."""
        spans = list(spans)
        if spans == self.spans:
            self.place_label()
            return False
        self.spans = spans
        for item, span in zip(self.items, spans, strict=False):
            if item.gap_span != span:
                item.set_span(span)
        for span in spans[len(self.items) :]:
            item = GapRegion(span)
            self.plot.addItem(item, ignoreBounds=True)
            self.items.append(item)
        for item in self.items[len(spans) :]:
            self.plot.removeItem(item)
        del self.items[len(spans) :]
        self.place_label()
        return True

    def place_label(self, *_: Any) -> None:
        """ "data missing" once, just inside the first span in view, under the row's header."""
        vb = self.plot.getViewBox()
        (x0, x1), _y = vb.viewRange()
        first = next((s for s in self.spans if s.end > x0 and s.start < x1), None)
        r = self.label.boundingRect()
        # a row squeezed to its header has no room for it: the hatch and tooltips remain
        shown = first is not None and vb.height() >= LABEL_TOP + r.height() + 8
        self.label.setVisible(shown)
        self.plate.setVisible(shown)
        if first is None or not shown:
            return
        self.label.setToolTip(first.tooltip())
        left = vb.mapFromView(QPointF(max(first.start, x0), 0.0)).x()
        x = min(max(left + 4.0, 2.0), max(vb.width() - r.width() - 4.0, 2.0))
        self.label.setPos(x, LABEL_TOP)
        self.plate.setRect(QRectF(x - 3, LABEL_TOP - 1, r.width() + 6, r.height() + 2))

    def broken(self, t: F64, *columns: F64) -> tuple[F64, ...]:
        """``t`` and ``columns`` with a NaN inside each span, so that a curve drawn with
        ``connect="finite"`` stops at a gap instead of drawing a line across it."""
        if not self.spans or not len(t):
            return (t, *columns)
        mids = np.array([(s.start + s.end) / 2 for s in self.spans])
        mids = mids[(mids > t[0]) & (mids < t[-1])]
        if not len(mids):
            return (t, *columns)
        at = np.searchsorted(t, mids)
        return (np.insert(t, at, mids), *(np.insert(c, at, np.nan) for c in columns))

    def at(self, t: float) -> GapSpan | None:
        """The span holding ``t`` (strictly inside), if any."""
        return span_at(self.spans, t)


__all__ = ["GAP_Z", "HATCH", "GapRegion", "RowGaps", "hatch_brush"]
