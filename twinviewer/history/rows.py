"""What both history backends do alike: a batch of samples as the rows a store buffers, the
last row of every sensor in a run of rows (for keyframes), and raw samples as chart buckets."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from numpy.typing import NDArray

from twinviewer.core.samples import SampleBatch

Rows = tuple[
    NDArray[np.int64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.uint8],
]
"""(store sensor, time, value, arrival, quality): copies, safe to keep."""


def batch_rows(
    batch: SampleBatch,
    proj_to_store: NDArray[np.int64],
    arrival: NDArray[np.float64] | None = None,
    quality: NDArray[np.uint8] | None = None,
) -> tuple[Rows, int]:
    """The rows of ``batch`` (project sensor indices mapped to store indices) and how many
    samples were rejected: an unknown sensor or a time that is not finite. ``arrival``
    defaults to now, ``quality`` to 0 (good); either may be one value for the whole batch."""
    n = len(batch)
    ps = np.asarray(batch.sensor)
    ok = (ps >= 0) & (ps < len(proj_to_store)) & np.isfinite(batch.time)
    t = np.asarray(batch.time, np.float64)
    v = np.asarray(batch.value, np.float64)
    arr = (
        np.full(n, time.time())
        if arrival is None
        else np.broadcast_to(np.asarray(arrival, np.float64), (n,))
    )
    q = (
        np.zeros(n, np.uint8)
        if quality is None
        else np.broadcast_to(np.asarray(quality, np.uint8), (n,))
    )
    bad = int(n - ok.sum())
    if bad:
        ps, t, v, arr, q = ps[ok], t[ok], v[ok], arr[ok], q[ok]
    return (proj_to_store[ps], t.copy(), v.copy(), np.array(arr), np.array(q)), bad


def last_per_sensor(sensor: NDArray[Any]) -> tuple[NDArray[Any], NDArray[np.intp]]:
    """The distinct sensors of ``sensor`` and the index of the last row of each."""
    if len(sensor) == 0:
        return sensor[:0], np.zeros(0, np.intp)
    hi = int(sensor.max())
    if sensor.dtype.kind in "iu" and int(sensor.min()) >= 0 and hi <= 4 * len(sensor) + 65536:
        # small non-negative ids (sensor indices): the last row of each by one scatter, no sort
        last = np.full(hi + 1, -1, np.intp)
        np.maximum.at(last, sensor, np.arange(len(sensor), dtype=np.intp))
        uniq = np.flatnonzero(last >= 0)
        return uniq.astype(sensor.dtype), last[uniq]
    uniq, first_rev = np.unique(sensor[::-1], return_index=True)
    return uniq, (len(sensor) - 1 - first_rev).astype(np.intp)


def raw_buckets(
    t: NDArray[np.float64], v: NDArray[np.float64], t0: float, t1: float, pixels: int
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """A chart series from one sensor's raw samples over ``[t0, t1]`` (ordered by time, ties in
    append order): fewer than ``2 * pixels`` samples come back as they are
    (``vmin == vmax == vlast``); else ``pixels`` equal buckets, each with its start, the exact
    min and max of its samples (so no spike is hidden) and its last value."""
    if len(t) < 2 * pixels:
        return t, v.copy(), v.copy(), v.copy()
    edges = np.linspace(t0, t1, pixels + 1)
    b = np.clip(np.searchsorted(edges, t, "right") - 1, 0, pixels - 1)
    starts = np.flatnonzero(np.r_[True, b[1:] != b[:-1]])
    ends = np.append(starts[1:], len(t)) - 1
    with np.errstate(invalid="ignore"):
        vmin = np.fmin.reduceat(v, starts)
        vmax = np.fmax.reduceat(v, starts)
    return edges[b[starts]], vmin, vmax, v[ends]
