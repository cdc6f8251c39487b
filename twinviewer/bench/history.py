"""History store benchmarks: ingest, state at t, chart series, bytes on disk; SQLite baseline.

The store is built here, in a temporary folder (quick: 10^6 samples; full: 10^8 samples of
1,000 sensors, plus a 10,000-sensor store). Values are float32-exact (like most field-bus
values), times grow at a steady rate with sensors in random order.

The same queries run against the PostgreSQL store, both its layouts side by side (compressed
blocks and a row per sample) and the embedded store on the same data in the same run:
:mod:`twinviewer.bench.history_pg` (``twinviewer bench history --backend postgres``; 10^7
samples by default, ``--samples 1e8`` for the issue's full size).
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from twinviewer.bench.figures import Figure
from twinviewer.core.samples import SampleBatch
from twinviewer.history.store import HistoryStore

log = logging.getLogger(__name__)

BATCH = 100_000
T0 = 1.7e9


def _batches(n: int, sensors: int, seed: int = 7, start: int = 0) -> Iterator[SampleBatch]:
    """``n`` samples in batches of ``BATCH``: 10 templates reused with advancing times; the
    feed from its sample ``start`` on (a multiple of ``BATCH``), to continue a history."""
    rng = np.random.default_rng(seed)
    rate = sensors * 10.0  # every sensor at 10 Hz on average
    templates = []
    for _ in range(10):
        s = rng.integers(0, sensors, BATCH).astype(np.int32)
        v = (np.round(rng.normal(50.0, 10.0, BATCH) * 64) / 64).astype(np.float64)
        templates.append((s, v))
    dt = np.arange(BATCH) / rate
    for k in range(start, start + n, BATCH):
        s, v = templates[(k // BATCH) % 10]
        m = min(BATCH, start + n - k)
        yield SampleBatch(s[:m], T0 + k / rate + dt[:m], v[:m])


def _p95(xs: list[float]) -> float:
    return float(np.percentile(np.array(xs) * 1e3, 95))


def _build(folder: Path, n: int, sensors: int) -> tuple[HistoryStore, float]:
    ids = [f"s{i:05d}" for i in range(sensors)]
    store = HistoryStore.open(folder, ids, flush_interval=1.0)
    start = time.perf_counter()
    for batch in _batches(n, sensors):
        store.append(batch)
    store.close()  # everything durable
    took = time.perf_counter() - start
    return HistoryStore.open(folder, ids), took


def _bench_store(
    n: int, sensors: int, quick: bool, label: str, at_target: str
) -> tuple[list[Figure], HistoryStore, float]:
    tmp = Path(tempfile.mkdtemp(prefix="twinviewer-history-bench-"))
    store, took = _build(tmp / "store", n, sensors)
    log.info("history bench: built %d samples of %d sensors in %.1f s", n, sensors, took)
    stats = store.stats()
    t_lo, t_hi = stats["time_range"]
    rng = np.random.default_rng(3)
    at_times = []
    for t in rng.uniform(t_lo, t_hi, 60 if quick else 300):
        s0 = time.perf_counter()
        store.at(float(t))
        at_times.append(time.perf_counter() - s0)
    scrub = []
    t = (t_lo + t_hi) / 2
    for _ in range(100):
        t += (t_hi - t_lo) * 1e-5
        s0 = time.perf_counter()
        store.at(t)
        scrub.append(time.perf_counter() - s0)
    series_times = []
    for s in rng.integers(0, sensors, 20):
        s0 = time.perf_counter()
        store.series(int(s), t_lo, t_hi, 2000)
        series_times.append(time.perf_counter() - s0)
    size = f"{n:.0e} samples, {sensors} sensors"
    figs = [
        Figure(
            f"history ingest{label}",
            n / took / 1e6,
            "M/s",
            ">= 2",
            note=f"durable (fsync'd), batches of {BATCH:,}; built in {took:.1f} s; {size}",
        ),
        Figure(f"history at(t) p95{label}", _p95(at_times), "ms", at_target, note=size),
        Figure(
            f"history scrub at(t) p95{label}",
            _p95(scrub),
            "ms",
            at_target,
            note="small steps (cached row groups)",
        ),
        Figure(
            f"history series 2000px p95{label}",
            _p95(series_times),
            "ms",
            "< 20",
            note="one sensor, whole range",
        ),
        Figure(
            f"history bytes/sample{label}",
            float(stats["bytes_per_sample"]),
            "B",
            "< 8",
            note=f"{stats['segments']} segments",
        ),
    ]
    return figs, store, took


def _sqlite_baseline(n: int, sensors: int, quick: bool) -> tuple[float, float, float, float, int]:
    """SQLite (stdlib): ingest rate, at(t) p95 and series p95 in ms, bytes/sample; rows used."""
    tmp = Path(tempfile.mkdtemp(prefix="twinviewer-history-sqlite-"))
    db = sqlite3.connect(tmp / "h.db")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE s (sensor INTEGER, t REAL, v REAL)")
    db.execute("CREATE INDEX s_st ON s (sensor, t)")
    start = time.perf_counter()
    rows = 0
    for batch in _batches(n, sensors):
        with db:
            db.executemany(
                "INSERT INTO s VALUES (?, ?, ?)",
                zip(batch.sensor.tolist(), batch.time.tolist(), batch.value.tolist(), strict=True),
            )
        rows += len(batch)
    ingest = rows / (time.perf_counter() - start) / 1e6
    t_lo, t_hi = db.execute("SELECT min(t), max(t) FROM s").fetchone()
    rng = np.random.default_rng(3)
    at_times = []
    for t in rng.uniform(t_lo, t_hi, 10 if quick else 20):
        s0 = time.perf_counter()
        db.execute(
            "SELECT sensor, v, max(t) FROM s WHERE t <= ? GROUP BY sensor", (float(t),)
        ).fetchall()
        at_times.append(time.perf_counter() - s0)
    series_times = []
    width = (t_hi - t_lo) / 2000
    for s in rng.integers(0, sensors, 10):
        s0 = time.perf_counter()
        db.execute(
            "SELECT CAST((t - ?) / ? AS INTEGER) AS b, min(t), min(v), max(v) FROM s "
            "WHERE sensor = ? AND t BETWEEN ? AND ? GROUP BY b",
            (t_lo, width, int(s), t_lo, t_hi),
        ).fetchall()
        series_times.append(time.perf_counter() - s0)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    nbytes = sum(p.stat().st_size for p in tmp.iterdir())
    shutil.rmtree(tmp, ignore_errors=True)
    return ingest, _p95(at_times), _p95(series_times), nbytes / rows, rows


def bench_history(quick: bool, backend: str = "all", samples: int | None = None) -> list[Figure]:
    """``backend``: ``embedded`` (10^8 samples, SQLite beside it), ``postgres`` (both layouts of
    the PostgreSQL store and the embedded store on ``samples``: :mod:`.history_pg`), ``all``."""
    figs = bench_history_embedded(quick) if backend in ("embedded", "all") else []
    if backend in ("postgres", "all"):
        from twinviewer.bench.history_pg import bench_history_postgres

        figs += bench_history_postgres(quick, samples)
    return figs


def bench_history_embedded(quick: bool) -> list[Figure]:
    n = 1_000_000 if quick else 100_000_000
    figs, store, _ = _bench_store(n, 1000, quick, "", "< 5")
    store.close()
    shutil.rmtree(store.folder.parent, ignore_errors=True)  # the temporary folder
    sql_rows = n if quick else 5_000_000
    ingest, at_ms, series_ms, bps, rows = _sqlite_baseline(sql_rows, 1000, quick)
    name = f"SQLite, {rows:.0e} rows" + (" (a subset)" if rows < n else "")
    for fig, base in zip(figs, (ingest, at_ms, None, series_ms, bps), strict=True):
        if base is not None:
            fig.baseline, fig.baseline_name = base, name
    n10k = 1_000_000 if quick else 100_000_000
    figs10k, store10k, _ = _bench_store(n10k, 10_000, quick, " (10k sensors)", "< 20")
    store10k.close()
    shutil.rmtree(store10k.folder.parent, ignore_errors=True)
    return figs + figs10k


if __name__ == "__main__":
    import sys

    logging.basicConfig(level=logging.INFO)
    backend = "postgres" if "--pg-only" in sys.argv else "all"
    for f in bench_history("--full" not in sys.argv, backend=backend):
        sys.stderr.write(f.line() + "\n")
