"""Helper for tests/test_history.py: append numbered samples to a store until killed.

Usage: python tests/history_writer.py FOLDER. Sample k has value k, sensor k % 10 and a
wall-clock time that grows with k. About every 50 ms it prints (flushed) the highest time it
has appended so far."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from twinviewer.core.samples import SampleBatch
from twinviewer.history import HistoryStore


def main() -> None:
    store = HistoryStore.open(Path(sys.argv[1]), [f"s{i}" for i in range(10)], flush_interval=0.2)
    k = 0
    last_print = 0.0
    prev = time.time()
    while True:
        time.sleep(0.005)
        now = time.time()
        n = 500
        times = np.linspace(prev, now, n, endpoint=False)
        prev = now
        ks = np.arange(k, k + n)
        store.append(SampleBatch.of(ks % 10, times, ks.astype(np.float64)))
        k += n
        if now - last_print >= 0.05:
            last_print = now
            sys.stdout.write(f"{float(times[-1])!r}\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
