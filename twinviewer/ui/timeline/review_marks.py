"""Review issues on the timeline: a small flag at each issue's moment, in its status colour.

The flags stand in the slider's track band above the track (alarm ticks cross the whole band,
forecast triangles hang from its top edge at their own times), so the three read apart. A
click on a flag selects its issue instead of moving the time (the bar's
``reviewMarkClicked``); hovering one lists the issues it stands for in the tooltip.

Other features put their own flags in the same band through the bar's ``set_flags`` (a named
layer, e.g. the command audit trail); those are drawn as square banners (``shape="banner"``)
so that they read apart from the review's pennants, and a click on one emits the bar's
``flagClicked`` (layer, index).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QLineF, QPointF, QRectF
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF

FLAG_HIT_PX = 5.0  # a press this close (horizontally) to a flag, in the band above the track
FLAG_TOP = 1.0
FLAG_W = 8.0
FLAG_H = 7.0


@dataclass(frozen=True)
class ReviewMark:
    """One flag as the slider holds it: where (a fraction of the visible window), its colour,
    and the index the bar was given it at."""

    fraction: float
    colour: QColor
    index: int
    shape: str = "pennant"  # or "banner": another layer's flag (see the module's docstring)


def paint_review_mark(
    p: QPainter, x: float, colour: QColor, track_top: float, shape: str = "pennant"
) -> None:
    """A pennant (or a square banner) on a thin pole at ``x``: the pole from the band's top to
    the track."""
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QPen(colour.darker(130), 1.2))
    p.drawLine(QLineF(x, FLAG_TOP, x, track_top))
    p.setPen(QPen(QColor(20, 22, 26), 0.8))
    p.setBrush(colour)
    if shape == "banner":
        p.drawRect(QRectF(x, FLAG_TOP, FLAG_W - 1, FLAG_H - 1))
        p.restore()
        return
    p.drawPolygon(
        QPolygonF(
            [
                QPointF(x, FLAG_TOP),
                QPointF(x + FLAG_W, FLAG_TOP + FLAG_H / 2),
                QPointF(x, FLAG_TOP + FLAG_H),
            ]
        )
    )
    p.restore()


def mark_at(xs: list[float], x: float) -> int | None:
    """The position in ``xs`` of the flag nearest ``x`` within :data:`FLAG_HIT_PX` (the pennant
    points right, so a little more room is given on that side), or None."""
    best, best_d = None, FLAG_HIT_PX + 1
    for k, xm in enumerate(xs):
        d = x - xm
        d = d - FLAG_W / 2 if d > 0 else -d  # the pennant's middle counts as its centre
        d = abs(d)
        if d <= FLAG_HIT_PX and d < best_d:
            best, best_d = k, d
    return best
