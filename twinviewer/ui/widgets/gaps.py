"""Data-quality gaps as the views show them, without Qt: spans, their texts, a cached query.

The charts (one sensor's gaps), the timeline (any sensor's) and the inspector ("data missing"
at the shown time) all ask :meth:`TwinSession.gaps` through a :class:`GapQuery`: it fetches a
margin around the visible window and asks again only when the window leaves what was fetched or
a source reported a new gap, so a view refreshed twice a second (or every frame, following the
live edge) does not query the history store each time. Gaps closer together than a pixel are
drawn as one :class:`GapSpan` (a source with many small sequence gaps must not cost one
graphics item each).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from twinviewer.core.gaps import Gap, describe_cause

log = logging.getLogger(__name__)

#: The hatch of a gap: a light amber-grey, readable over the dark charts and the timeline track.
HATCH_RGBA = (226, 196, 140, 170)
#: A faint fill under the hatch, so a narrow span still reads as a band.
HATCH_FILL_RGBA = (226, 196, 140, 26)
MAX_TIP_GAPS = 4  # gaps described one by one in a span's tooltip; the rest are counted

GapFetch = Callable[[float | None, float | None, str | None], list[Gap]]
"""``fetch(t0, t1, sensor) -> gaps overlapping t0..t1``: :meth:`TwinSession.gaps`."""


def of_sensor(gaps: Iterable[Gap], sensor: str) -> list[Gap]:
    """The gaps that concern ``sensor`` (a gap naming no sensor concerns all of them)."""
    return [g for g in gaps if not g.sensors or sensor in g.sensors]


@dataclass(frozen=True)
class GapSpan:
    """One hatched span: one gap, or several within a pixel of each other."""

    start: float
    end: float
    gaps: tuple[Gap, ...]

    @property
    def missing(self) -> int:
        return sum(g.missing for g in self.gaps)

    @property
    def exact(self) -> bool:
        return all(g.exact for g in self.gaps)

    def tooltip(self) -> str:
        if len(self.gaps) == 1:
            return f"Data missing: {self.gaps[0].describe()}"
        what = f"{self.missing:,}" if self.exact else f"about {self.missing:,}"
        lines = [f"Data missing: {len(self.gaps)} gaps, {what} samples"]
        lines += [f"• {g.describe()}" for g in self.gaps[:MAX_TIP_GAPS]]
        if len(self.gaps) > MAX_TIP_GAPS:
            lines.append(f"• and {len(self.gaps) - MAX_TIP_GAPS} more")
        return "\n".join(lines)


def merge_spans(gaps: Iterable[Gap], join: float = 0.0) -> list[GapSpan]:
    """The gaps as spans in time order; gaps overlapping or less than ``join`` seconds apart
    (a pixel's worth of time) share one span."""
    spans: list[GapSpan] = []
    run: list[Gap] = []
    end = -float("inf")
    for g in sorted(gaps, key=lambda g: (g.start, g.end)):
        if run and g.start > end + join:
            spans.append(GapSpan(run[0].start, end, tuple(run)))
            run = []
        if not run:
            end = g.end
        run.append(g)
        end = max(end, g.end)
    if run:
        spans.append(GapSpan(run[0].start, end, tuple(run)))
    return spans


def span_at(spans: Sequence[GapSpan], t: float) -> GapSpan | None:
    """The span holding ``t`` strictly inside (the samples at its ends are not missing)."""
    for s in spans:
        if s.start < t < s.end:
            return s
    return None


def _share(gap: Gap) -> tuple[int, bool] | None:
    """Samples one of a gap's sensors misses: (count, exact); None when the gap names no
    sensor (all of its source's: only the total over them is known)."""
    n = len(gap.sensors)
    if n == 0:
        return None
    if n == 1:
        return gap.missing, gap.exact
    return round(gap.missing / n), gap.exact and gap.missing % n == 0  # shared out evenly


def _seconds(s: float) -> str:
    return f"{s:.1f} s" if s < 60 else f"{s / 60:.1f} min" if s < 3600 else f"{s / 3600:.1f} h"


def missing_text(gaps: Sequence[Gap]) -> str:
    """``data missing (disconnection, ~40 samples)``: what a sensor's row says at an instant
    that ``gaps`` (covering it, each naming it or no sensor) leave without data. A gap of
    every sensor of a source gives its duration instead: its count is over all of them."""
    if not gaps:
        return ""
    causes = ", ".join(dict.fromkeys(describe_cause(g.cause) for g in gaps))
    shares = [_share(g) for g in gaps]
    if any(sh is None for sh in shares):
        span = max(g.end for g in gaps) - min(g.start for g in gaps)
        return f"data missing ({causes}, {_seconds(span)})"
    count = sum(sh[0] for sh in shares if sh is not None)
    exact = all(sh[1] for sh in shares if sh is not None)
    return f"data missing ({causes}, {'' if exact else '~'}{count:,} sample{'s' * (count != 1)})"


class GapQuery:
    """The gaps around a visible window, cached.

    ``fetch`` is :meth:`TwinSession.gaps`; ``version`` changes whenever a gap was reported (the
    length of ``TwinSession.live_gaps``). :meth:`get` fetches ``margin`` window-widths either
    side and fetches again only when the window leaves that, becomes much narrower than it (so
    a zoom-in does not keep thousands of far-away gaps), or the version changed. A failing
    store is logged once per distinct error and reads as no gaps: a view must survive it.
    """

    def __init__(
        self,
        fetch: GapFetch,
        version: Callable[[], int],
        sensor: str | None = None,
        margin: float = 0.5,
    ) -> None:
        self._fetch = fetch
        self._version = version
        self.sensor = sensor
        self.margin = margin
        self._held: tuple[float, float, int] | None = None  # fetched t0, t1 and version
        self._gaps: list[Gap] = []
        self.queries = 0  # how many times the store was asked (for tests)
        self.error: str | None = None

    def invalidate(self) -> None:
        self._held = None

    def get(self, t0: float, t1: float) -> list[Gap]:
        """The gaps overlapping ``t0..t1``, oldest first."""
        version = self._version()
        held = self._held
        w = max(t1 - t0, 0.0)
        if (
            held is None
            or held[2] != version
            or t0 < held[0]
            or t1 > held[1]
            or (held[1] - held[0]) > (1 + 2 * self.margin) * w * 4 + 1e-9
        ):
            a, b = t0 - self.margin * w, t1 + self.margin * w
            self.queries += 1
            try:
                self._gaps = list(self._fetch(a, b, self.sensor))
                self.error = None
            except Exception as exc:  # noqa: BLE001 - a view must survive a failing store
                text = f"{type(exc).__name__}: {exc}"
                if text != self.error:
                    log.warning("cannot read the data-quality gaps: %s", text, exc_info=True)
                self.error = text
                self._gaps = []
            self._held = (a, b, version)
        return [g for g in self._gaps if g.overlaps(t0, t1)]


__all__ = [
    "HATCH_FILL_RGBA",
    "HATCH_RGBA",
    "GapQuery",
    "GapSpan",
    "merge_spans",
    "missing_text",
    "of_sensor",
    "span_at",
]
