"""The report's pictures as PNG bytes: a sensor over the window (matplotlib, Agg, no pyplot so
no global state and any thread), and a rendered image encoded as PNG.

A chart shows the sensor's value (the last of each bucket as the line, each bucket's min-max as
a band, so a spike between two pixels still shows), its warning and alarm limits, the
intervals it spent past them, the recorded data gaps (hatched) and the report's moment.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import tzinfo
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from twinviewer.core.colour import STATUS_COLOURS, Status
from twinviewer.core.gaps import Gap

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from twinviewer.core.project import Sensor

F64 = NDArray[np.float64]
SIZE = (7.4, 2.3)  # inches: the printed width of an A4 page between its margins
DPI = 160
_ALARM = tuple(STATUS_COLOURS[Status.ALARM][:3] / 255.0)
_WARNING = tuple(STATUS_COLOURS[Status.WARNING][:3] / 255.0)


def png_bytes(image: NDArray[np.uint8]) -> bytes:
    """An RGB(A) image array as PNG bytes."""
    from matplotlib.image import imsave

    buf = io.BytesIO()
    imsave(buf, image, format="png")
    return buf.getvalue()


def _dates(t: F64) -> NDArray[np.datetime64]:
    return (np.asarray(t, np.float64) * 1e6).astype("datetime64[us]")


def sensor_chart(
    sensor: Sensor,
    t: F64,
    vmin: F64,
    vmax: F64,
    vlast: F64,
    intervals: np.ndarray,
    gaps: Sequence[Gap],
    start: float,
    end: float,
    at: float,
    tz: tzinfo | None,
) -> bytes:
    """One sensor over ``start..end`` as PNG bytes (see the module's description).
    ``intervals`` are its :data:`~twinviewer.core.alarms.INTERVAL_DTYPE` rows."""
    from matplotlib import dates as mdates
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    x = _dates(t)
    if len(t):
        if np.any(vmin != vmax):
            ax.fill_between(x, vmin, vmax, step="post", color="#4c78a8", alpha=0.25, lw=0)
        ax.plot(x, vlast, color="#1f4e79", lw=1.1, drawstyle="steps-post", label="value")
    else:
        ax.text(0.5, 0.5, "no samples in the window", transform=ax.transAxes, ha="center")
    _limits(ax, sensor)
    for r in intervals:
        s0 = max(float(r["start"]), start)
        s1 = end if np.isnan(r["end"]) else min(float(r["end"]), end)
        colour = _ALARM if int(r["level"]) == Status.ALARM else _WARNING
        ax.axvspan(_dates(np.array([s0]))[0], _dates(np.array([s1]))[0], color=colour, alpha=0.15)
    for g in gaps:
        g0, g1 = _dates(np.array([max(g.start, start), min(g.end, end)]))
        ax.axvspan(g0, g1, facecolor="none", edgecolor="#777777", hatch="///", lw=0)
    if start <= at <= end:
        ax.axvline(_dates(np.array([at]))[0], color="#333333", lw=1.2, ls=":")
    ax.set_xlim(_dates(np.array([start]))[0], _dates(np.array([end]))[0])
    locator = mdates.AutoDateLocator(tz=tz, minticks=4, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=tz))
    ax.set_ylabel(sensor.unit, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(True, color="#dddddd", lw=0.6)
    ax.set_title(
        f"{sensor.id}: {sensor.quantity.replace('_', ' ')} [{sensor.unit}]", fontsize=9, loc="left"
    )
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def _limits(ax: Axes, sensor: Sensor) -> None:
    for limits, colour, name in ((sensor.warning, _WARNING, "warning"),
                                 (sensor.alarm, _ALARM, "alarm")):  # fmt: skip
        if limits is None:
            continue
        for value in (limits.low, limits.high):
            if value is not None:
                ax.axhline(value, color=colour, lw=0.9, ls="--")
                ax.annotate(
                    f"{name} {value:g}", (1.0, value), xycoords=("axes fraction", "data"),
                    xytext=(-3, 2), textcoords="offset points", ha="right", fontsize=6.5,
                    color=colour,
                )  # fmt: skip
