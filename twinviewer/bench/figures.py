"""What every benchmark reports: a :class:`Figure` (value, target, baseline), and how it is timed.

The benchmark modules (:mod:`.render`, :mod:`.mqtt`, :mod:`.history`, :mod:`.sim`) import from
here, never from the :mod:`twinviewer.bench` package, so that the package can import them.
"""

from __future__ import annotations

import gc
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["Figure", "median_ms", "peak_rss_mb"]


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    target: str
    baseline: float | None = None
    baseline_name: str = ""
    note: str = ""

    def line(self) -> str:
        base = (
            f"  baseline {self.baseline:.4g} {self.unit} ({self.baseline_name})"
            if (self.baseline is not None)
            else ""
        )
        note = f"  [{self.note}]" if self.note else ""
        return (
            f"{self.name:<28} {self.value:>10.4g} {self.unit:<4} target {self.target}{base}{note}"
        )


def median_ms(fn: Callable[[], object], repeat: int = 3) -> float:
    """Median wall time in ms."""
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return float(np.median(times))


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024 if sys.platform != "darwin" else kb / 2**20
