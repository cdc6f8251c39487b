"""Colour bars and the status key of a scene, laid out together so that none overlaps another.

A scene can show the active quantity's legend (on the right), one colour bar per simulation
overlay (on the left) and a small status key (top right). VTK places each bar where it is told
and, with fixed font sizes, lets long titles and labels spill past the bar's frame, so two bars
placed at fixed offsets overlap and a title near the window edge is cut off. Here every bar's
frame is sized from its measured text (titles wrapped, or their font shrunk, when they are
long), and the bars are put side by side from the window edges, stacked in rows when a row
does not fit: :func:`layout_colour_bars` does the arithmetic (pure, tested directly) and
:class:`ColourBars` applies it to the actors whenever a bar comes or goes or the window
changes size.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
import vtk
from numpy.typing import NDArray
from vtk.util.numpy_support import vtk_to_numpy

log = logging.getLogger(__name__)

Side = Literal["left", "right"]
Measure = Callable[[str, int, bool], tuple[int, int]]

TITLE_SIZE = 15  # pt, bold: the preferred title size
MIN_TITLE_SIZE = 10  # below this a title is wrapped mid-word rather than shrunk further
LABEL_SIZE = 13
N_LABELS = 5
LABEL_FORMAT = "%.4g"
BAR_PX = 16  # thickness of the colour ramp itself
GAP_PX = 14  # between two bars, and between a bar and the window edge (at least)
BOTTOM = 0.08  # bars start this far up the window: the lower captions stay clear
TOP = 0.70  # ...and end below this: the status key sits above, from 0.72
STATUS_BOX = (0.895, 0.72, 0.095, 0.13)  # the status key: x, y, width, height (normalised)
TEXT_COLOUR = (0.92, 0.92, 0.92)


@dataclass(frozen=True)
class BarSpec:
    """One colour bar to place: what it says and the window side it belongs to."""

    key: str
    title: str
    labels: tuple[str, ...]
    side: Side = "left"


@dataclass(frozen=True)
class BarPlacement:
    """Where a bar goes, in pixels with the origin at the bottom-left of the view.

    ``x, y, width, height`` is the frame handed to VTK; ``extent`` (x0, y0, x1, y1) is all that
    is drawn for the bar, its title and labels included (VTK lets the title rise above the
    frame and the end labels reach half a line past it): extents never overlap each other and
    stay inside the window.
    """

    key: str
    x: int
    y: int
    width: int
    height: int
    title: str  # wrapped with newlines where it was too long for one line
    title_size: int
    bar_ratio: float  # the ramp's share of the frame width (VTK's BarRatio)
    extent: tuple[int, int, int, int]


def label_texts(
    lo: float, hi: float, n: int = N_LABELS, fmt: str = LABEL_FORMAT
) -> tuple[str, ...]:
    """The tick labels VTK will draw for a range (same values, same ``printf`` format)."""
    if n <= 1:
        return (fmt % ((lo + hi) / 2),)
    return tuple(fmt % (lo + (i / (n - 1)) * (hi - lo)) for i in range(n))


@lru_cache(maxsize=512)
def measure_text(text: str, size: int, bold: bool, dpi: int = 72) -> tuple[int, int]:
    """Width and height in pixels of ``text`` as VTK draws it (Arial, FreeType).

    Measured rather than estimated: glyph widths vary too much (``%`` vs ``i``) for a
    per-character guess to keep long titles inside their frame.
    """
    prop = vtk.vtkTextProperty()
    prop.SetFontFamilyToArial()
    prop.SetFontSize(size)
    prop.SetBold(bold)
    box = [0, 0, 0, 0]
    renderer = vtk.vtkTextRenderer.GetInstance()
    if renderer is None or not renderer.GetBoundingBox(prop, text, box, dpi):
        lines = text.split("\n")  # no FreeType: a generous estimate
        px = size * dpi / 72
        return (int(max(len(t) for t in lines) * px * 0.62) + 2, len(lines) * int(px * 1.2))
    return (box[1] - box[0] + 1, box[3] - box[2] + 1)


def wrap_title(title: str, max_width: int, measure: Measure = measure_text) -> tuple[str, int]:
    """``title`` broken into lines no wider than ``max_width`` pixels, and the font size.

    Lines are broken at spaces (the title's own newlines are kept); a word that does not fit
    even alone makes the font smaller, down to :data:`MIN_TITLE_SIZE`, and only then is cut.
    """
    for size in range(TITLE_SIZE, MIN_TITLE_SIZE - 1, -1):
        lines, cut = _wrap(title, max_width, size, measure, cut_words=size == MIN_TITLE_SIZE)
        if not cut or size == MIN_TITLE_SIZE:
            return "\n".join(lines), size
    raise AssertionError("unreachable")  # pragma: no cover


def _wrap(
    title: str, max_width: int, size: int, measure: Measure, cut_words: bool
) -> tuple[list[str], bool]:
    def fits(text: str) -> bool:
        return measure(text, size, True)[0] <= max_width

    lines: list[str] = []
    too_wide = False
    for paragraph in title.split("\n"):
        line = ""
        for word in paragraph.split():
            if not fits(word):
                too_wide = True
                if not cut_words:
                    return [], True
                if line:
                    lines.append(line)
                line = ""
                while not fits(word) and len(word) > 1:  # cut the word where it overflows
                    k = max(k for k in range(1, len(word) + 1) if fits(word[:k]) or k == 1)
                    lines.append(word[:k])
                    word = word[k:]
            candidate = f"{line} {word}" if line else word
            if line and not fits(candidate):
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return lines, too_wide


@dataclass(frozen=True)
class _Sized:
    spec: BarSpec
    title: str
    title_size: int
    width: int  # of all that is drawn: the wider of the title and the ramp with its labels
    frame: int  # of the frame: the ramp with its labels
    above: int  # pixels drawn above the frame (the raised title)
    below: int  # pixels drawn below it (half the bottom label)
    min_height: int


def _size_bar(spec: BarSpec, max_title: int, measure: Measure) -> _Sized:
    title, size = wrap_title(spec.title, max_title, measure) if spec.title else ("", TITLE_SIZE)
    title_w, title_h = measure(title, size, True) if title else (0, 0)
    label_w = max((measure(t, LABEL_SIZE, False)[0] for t in spec.labels), default=0)
    label_h = max((measure(t, LABEL_SIZE, False)[1] for t in spec.labels), default=0)
    # VTK puts the labels right against the ramp, 1.05 label widths wide, and centres the title
    # over the frame: a frame just holding ramp and labels, under a title centred on it (and
    # wider, if it is) reads as one block.
    frame = BAR_PX + math.ceil(1.05 * label_w) + 8
    return _Sized(
        spec=spec,
        title=title,
        title_size=size,
        width=max(frame, title_w + 8),
        frame=frame,
        above=math.ceil(0.75 * label_h) + 2,
        below=math.ceil(label_h / 2) + 2,
        min_height=title_h + N_LABELS * (label_h + 6) + 10,
    )


def layout_colour_bars(
    bars: Sequence[BarSpec],
    window: tuple[int, int],
    measure: Measure | None = None,
    dpi: int = 72,
) -> list[BarPlacement]:
    """Place colour bars in a view of ``window`` = (width, height) pixels without overlap.

    Bars of the ``"left"`` side go side by side from the left edge inwards, those of the
    ``"right"`` side from the right edge inwards, between :data:`BOTTOM` and :data:`TOP` of the
    height (clear of the lower captions and the status key). When one row is too wide for the
    window, the bars are stacked in as few rows as fit (each side fills its columns top to
    bottom). Titles wider than about a fifth of the window are wrapped (or set smaller), so a
    bar never needs more than that. Placements come in the order of ``bars``.

    ``measure(text, size, bold) -> (width, height)`` sizes text in pixels; by default VTK's own
    text renderer at ``dpi`` (the render window's), so the layout matches what is drawn.
    """
    if not bars:
        return []
    if measure is None:

        def measure(text: str, size: int, bold: bool) -> tuple[int, int]:
            return measure_text(text, size, bold, dpi)

    win_w, win_h = max(int(window[0]), 1), max(int(window[1]), 1)
    max_title = int(max(110, min(200, 0.18 * win_w)))
    sized = [_size_bar(b, max_title, measure) for b in bars]
    sides: dict[Side, list[int]] = {
        "left": [i for i, b in enumerate(bars) if b.side != "right"],
        "right": [i for i, b in enumerate(bars) if b.side == "right"],
    }
    lo, hi = round(BOTTOM * win_h), round(TOP * win_h)
    usable = win_w - 2 * GAP_PX

    def columns(members: list[int], rows: int) -> list[list[int]]:
        return [members[k : k + rows] for k in range(0, len(members), rows)]

    def side_width(members: list[int], rows: int) -> int:
        cols = columns(members, rows)
        return sum(max(sized[i].width for i in c) for c in cols) + GAP_PX * max(len(cols) - 1, 0)

    n_rows = max(len(m) for m in sides.values())
    for rows in range(1, n_rows + 1):
        widths = [side_width(m, rows) for m in sides.values() if m]
        if sum(widths) + GAP_PX * (len(widths) - 1) <= usable:
            n_rows = rows
            break
    row_h = (hi - lo - GAP_PX * (n_rows - 1)) / n_rows
    if row_h < max(s.min_height + s.above + s.below for s in sized):
        log.debug("colour bars: %d rows of %.0f px are shorter than their text", n_rows, row_h)

    out: dict[int, BarPlacement] = {}
    for side, members in sides.items():
        edge = GAP_PX if side == "left" else win_w - GAP_PX
        for col in columns(members, n_rows):
            col_w = max(sized[i].width for i in col)
            x0 = edge if side == "left" else edge - col_w
            for row, i in enumerate(col):
                s = sized[i]
                top = hi - row * (row_h + GAP_PX)
                frame_y = math.ceil(top - row_h + s.below)
                frame_h = max(int(top - s.above) - frame_y, 1)
                # a narrower bar in a wider column hugs the column's outer edge
                x = x0 if side == "left" else x0 + col_w - s.width
                frame_x = x + (s.width - s.frame) // 2
                out[i] = BarPlacement(
                    key=s.spec.key,
                    x=frame_x,
                    y=frame_y,
                    width=s.frame,
                    height=frame_h,
                    title=s.title,
                    title_size=s.title_size,
                    bar_ratio=min(BAR_PX / s.frame, 0.5),
                    extent=(x, frame_y - s.below, x + s.width, frame_y + frame_h + s.above),
                )
            edge = edge + col_w + GAP_PX if side == "left" else edge - col_w - GAP_PX
    return [out[i] for i in range(len(bars))]


def lookup_table(
    table: NDArray[np.uint8], lo: float, hi: float, nan: tuple[int, int, int] | None = None
) -> vtk.vtkLookupTable:
    """A VTK lookup table of the RGBA rows ``table`` over ``lo..hi`` (``nan``: the colour of
    a missing value). One entry is written through the API after the rows: that marks the table
    as filled by hand, so VTK does not rebuild it from its hue ramp on the next draw."""
    lut = vtk.vtkLookupTable()
    lut.SetNumberOfTableValues(len(table))
    lut.SetTableRange(lo, hi)
    lut.Build()
    vtk_to_numpy(lut.GetTable())[:] = table
    lut.SetTableValue(0, *(float(c) / 255.0 for c in table[0]))
    if nan is not None:
        lut.SetNanColor(*(float(c) / 255.0 for c in nan), 1.0)
    return lut


def make_scalar_bar(lut: vtk.vtkLookupTable, title: str) -> vtk.vtkScalarBarActor:
    """A vertical colour bar in the scene's style (its place is set by :class:`ColourBars`)."""
    bar = vtk.vtkScalarBarActor()
    bar.SetLookupTable(lut)
    bar.SetTitle(title)
    bar.SetNumberOfLabels(N_LABELS)
    bar.SetLabelFormat(LABEL_FORMAT)
    bar.SetOrientationToVertical()
    bar.SetPosition(0.885, 0.08)
    bar.SetWidth(0.07)
    bar.SetHeight(0.55)
    bar.SetBarRatio(0.35)
    bar.SetTextPositionToPrecedeScalarBar()
    bar.SetVerticalTitleSeparation(8)
    bar.UnconstrainedFontSizeOn()
    for text in (bar.GetTitleTextProperty(), bar.GetLabelTextProperty()):
        text.SetColor(*TEXT_COLOUR)
        text.SetFontFamilyToArial()
        text.ShadowOff()
        text.ItalicOff()
    bar.GetTitleTextProperty().SetFontSize(TITLE_SIZE)
    bar.GetTitleTextProperty().BoldOn()
    bar.GetLabelTextProperty().SetFontSize(LABEL_SIZE)
    bar.GetLabelTextProperty().BoldOff()
    return bar


def make_status_legend(entries: Sequence[tuple[str, NDArray[np.uint8]]]) -> vtk.vtkLegendBoxActor:
    """The small key of the non-value colours (alarm, warning, stale, no data, no sensor)."""
    box = vtk.vtkLegendBoxActor()
    box.SetNumberOfEntries(len(entries))
    square = vtk.vtkCubeSource()
    square.Update()
    for i, (label, rgba) in enumerate(entries):
        box.SetEntry(i, square.GetOutput(), label, [c / 255 for c in rgba[:3]])
    box.GetEntryTextProperty().SetColor(*TEXT_COLOUR)
    box.GetEntryTextProperty().SetFontSize(13)
    box.GetEntryTextProperty().ShadowOff()
    box.UseBackgroundOn()
    box.SetBackgroundColor(0.12, 0.13, 0.15)
    box.SetBackgroundOpacity(0.8)
    box.BorderOff()
    x, y, w, h = STATUS_BOX
    box.GetPositionCoordinate().SetCoordinateSystemToNormalizedViewport()
    box.GetPositionCoordinate().SetValue(x, y)
    box.GetPosition2Coordinate().SetCoordinateSystemToNormalizedViewport()
    box.GetPosition2Coordinate().SetValue(w, h)
    box.SetPadding(4)
    return box


@dataclass
class _Bar:
    actor: vtk.vtkScalarBarActor
    title: str  # as given: the actor's own title is the wrapped one
    side: Side


class ColourBars:
    """The colour bars shown on one renderer, kept laid out by :func:`layout_colour_bars`.

    :meth:`layout` is cheap when nothing changed, so the owner may call it before every
    render (the scene does, from the renderer's start event) to follow window resizes.
    """

    def __init__(self, renderer: vtk.vtkRenderer) -> None:
        self.renderer = renderer
        self._bars: dict[str, _Bar] = {}
        self._laid_out: tuple[int, int] | None = None  # the view size of the last layout
        self.placements: list[BarPlacement] = []

    def set(
        self, key: str, lut: vtk.vtkLookupTable, title: str, side: Side
    ) -> vtk.vtkScalarBarActor:
        """Show (or replace) the bar ``key`` for ``lut``; returns its actor."""
        self.remove(key)
        actor = make_scalar_bar(lut, title)
        self._bars[key] = _Bar(actor, title, side)
        self.renderer.AddViewProp(actor)
        self.layout(force=True)
        return actor

    def remove(self, key: str) -> None:
        bar = self._bars.pop(key, None)
        if bar is not None:
            self.renderer.RemoveViewProp(bar.actor)
            self.layout(force=True)

    def get(self, key: str) -> vtk.vtkScalarBarActor | None:
        bar = self._bars.get(key)
        return bar.actor if bar is not None else None

    def keys(self) -> list[str]:
        return list(self._bars)

    def layout(self, force: bool = False) -> None:
        """Place every bar for the renderer's current size (skipped if that did not change)."""
        size = tuple(int(v) for v in self.renderer.GetSize())
        if size[0] <= 1 or size[1] <= 1:  # not shown yet: laid out on the first render
            self._laid_out = None
            return
        if not force and size == self._laid_out:
            return
        self._laid_out = (size[0], size[1])
        specs = []
        for key, bar in self._bars.items():
            lo, hi = bar.actor.GetLookupTable().GetRange()
            specs.append(BarSpec(key, bar.title, label_texts(lo, hi), bar.side))
        window = self.renderer.GetRenderWindow()
        dpi = int(window.GetDPI()) if window is not None else 72
        self.placements = layout_colour_bars(specs, self._laid_out, dpi=dpi)
        for p in self.placements:
            actor = self._bars[p.key].actor
            actor.SetPosition(p.x / size[0], p.y / size[1])
            actor.SetWidth(p.width / size[0])
            actor.SetHeight(p.height / size[1])
            actor.SetBarRatio(p.bar_ratio)
            actor.SetTitle(p.title)
            actor.GetTitleTextProperty().SetFontSize(p.title_size)
