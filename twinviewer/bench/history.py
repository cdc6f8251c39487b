"""History store benchmarks: ingest, state at t, chart series, bytes on disk; SQLite baseline.

The store is built here, in a temporary folder (quick: 10^6 samples; full: 10^8 samples of
1,000 sensors, plus a 10,000-sensor store). Values are float32-exact (like most field-bus
values), times grow at a steady rate with sensors in random order.

The same queries run against the PostgreSQL store (``history[pg]`` figures) on the same
synthetic data, beside a baseline in the same run: a plain table ``(sensor, time, value)`` with
an index on ``(sensor, time)``, loaded by binary COPY, queried with the straightforward SQL
(``DISTINCT ON (sensor) ... WHERE time <= t`` for the state, ``GROUP BY width_bucket`` for a
series). The database is ``$TWINVIEWER_BENCH_PG`` (a URL; ``off`` skips it), else a temporary
local server (:mod:`twinviewer.history.pg_local`) when PostgreSQL is installed. Loading 10^8
rows into PostgreSQL takes far too long for a benchmark run, so the full run uses 10^7 samples
there (the figures say so).
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from twinviewer.bench.figures import Figure
from twinviewer.core.samples import SampleBatch
from twinviewer.history.store import HistoryStore

log = logging.getLogger(__name__)

BATCH = 100_000
T0 = 1.7e9
PG_ENV = "TWINVIEWER_BENCH_PG"
PG_SAMPLES_QUICK = 1_000_000
PG_SAMPLES_FULL = 10_000_000


def _batches(n: int, sensors: int, seed: int = 7) -> Iterator[SampleBatch]:
    """``n`` samples in batches of ``BATCH``: 10 templates reused with advancing times."""
    rng = np.random.default_rng(seed)
    rate = sensors * 10.0  # every sensor at 10 Hz on average
    templates = []
    for _ in range(10):
        s = rng.integers(0, sensors, BATCH).astype(np.int32)
        v = (np.round(rng.normal(50.0, 10.0, BATCH) * 64) / 64).astype(np.float64)
        templates.append((s, v))
    dt = np.arange(BATCH) / rate
    for k in range(0, n, BATCH):
        s, v = templates[(k // BATCH) % 10]
        m = min(BATCH, n - k)
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


def bench_history(quick: bool) -> list[Figure]:
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
    return figs + figs10k + bench_history_postgres(quick)


# -- PostgreSQL --------------------------------------------------------------------------------


def _pg_server() -> tuple[str | None, Any]:
    """``(url, server to stop)``: ``$TWINVIEWER_BENCH_PG``, else a temporary local server."""
    env = os.environ.get(PG_ENV, "").strip()
    if env.lower() in ("off", "no", "0"):
        return None, None
    try:
        import psycopg  # noqa: F401
    except ImportError:
        log.warning("history[pg] benchmark skipped: psycopg is not installed")
        return None, None
    if env:
        return env, None
    from twinviewer.history.pg_local import LocalPostgres, find_bindir

    if find_bindir() is None:
        log.warning("history[pg] benchmark skipped: no PostgreSQL server (set %s=URL)", PG_ENV)
        return None, None
    settings = {
        "shared_buffers": "1GB",
        "max_wal_size": "8GB",
        "work_mem": "64MB",
        # durable, like the embedded store's figures (and async commit keeps vacuum from
        # marking freshly loaded pages all-visible, which index-only scans need)
        "fsync": "on",
        "synchronous_commit": "on",
        "full_page_writes": "on",
    }
    server = LocalPostgres(settings=settings).start()
    return server.url, server


def _with_schema(url: str, schema: str) -> str:
    return url + ("&" if "?" in url else "?") + f"schema={schema}"


def _drop_schema(url: str, schema: str) -> None:
    import psycopg
    from psycopg import sql

    from twinviewer.history.postgres import split_url

    with psycopg.connect(split_url(url)[0], autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def _bench_pg_store(
    url: str, n: int, sensors: int, quick: bool, label: str, at_target: str
) -> list[Figure]:
    from twinviewer.history.postgres import PostgresHistoryStore

    ids = [f"s{i:05d}" for i in range(sensors)]
    store = PostgresHistoryStore(url, ids, flush_interval=1.0)
    start = time.perf_counter()
    for batch in _batches(n, sensors):
        store.append(batch)
    store.close()  # everything committed
    took = time.perf_counter() - start
    log.info("history[pg] bench: %d samples of %d sensors in %.1f s", n, sensors, took)
    _vacuum(url)  # what autovacuum does soon after a load (the baseline gets the same)
    store = PostgresHistoryStore(url, ids, writer=False)  # a viewer beside the recorder
    try:
        stats = store.stats()
        t_lo, t_hi = stats["time_range"]
        rng = np.random.default_rng(3)
        at_times = []
        for t in rng.uniform(t_lo, t_hi, 60 if quick else 300):
            s0 = time.perf_counter()
            store.at(float(t))
            at_times.append(time.perf_counter() - s0)
        series_times = []
        for s in rng.integers(0, sensors, 20 if quick else 50):
            s0 = time.perf_counter()
            store.series(int(s), t_lo, t_hi, 2000)
            series_times.append(time.perf_counter() - s0)
        store.raw_rows_limit = 0  # what a longer history uses: the summary blocks
        block_times = []
        for s in rng.integers(0, sensors, 20 if quick else 50):
            s0 = time.perf_counter()
            store.series(int(s), t_lo, t_hi, 2000)
            block_times.append(time.perf_counter() - s0)
    finally:
        store.close()
    size = f"{n:.0e} samples, {sensors} sensors"
    return [
        Figure(
            f"history[pg] ingest{label}",
            n / took / 1e6,
            "M/s",
            ">= 2",
            note=f"committed, binary COPY per flush; built in {took:.1f} s; {size}",
        ),
        Figure(f"history[pg] at(t) p95{label}", _p95(at_times), "ms", at_target, note=size),
        Figure(
            f"history[pg] series 2000px p95{label}",
            _p95(series_times),
            "ms",
            "< 20",
            note="one sensor, whole range",
        ),
        Figure(
            f"history[pg] series blocks p95{label}",
            _p95(block_times),
            "ms",
            "< 20",
            note="as above, forced through the 10 s summary blocks (long histories)",
        ),
        Figure(
            f"history[pg] bytes/sample{label}",
            float(stats["bytes_per_sample"]),
            "B",
            "< 8",
            note="tables + indexes + keyframes + blocks",
        ),
    ]


def _vacuum(url: str) -> None:
    import psycopg
    from psycopg import sql

    from twinviewer.history.postgres import split_url

    conninfo, schema = split_url(url)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for name in ("samples", "late", "keyframes", "blocks"):
            conn.execute(
                sql.SQL("VACUUM ANALYZE {}").format(sql.Identifier(schema, f"twinviewer_{name}"))
            )


def _pg_baseline(url: str, n: int, sensors: int, quick: bool) -> tuple[float, float, float, float]:
    """A plain table and the straightforward SQL: ingest M/s, at p95, series p95, bytes/sample."""
    import psycopg
    from psycopg import sql

    from twinviewer.history.postgres import _pack_copy, split_url

    conninfo, schema = split_url(url)
    table = sql.Identifier(schema, "baseline")
    fields = [("sensor", "i4"), ("time", "f8"), ("value", "f8")]
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        conn.execute(
            sql.SQL(
                "CREATE TABLE {} (sensor integer, time double precision, value double precision)"
            ).format(table)
        )
        conn.execute(sql.SQL("CREATE INDEX ON {} (sensor, time)").format(table))
        start = time.perf_counter()
        copy = sql.SQL("COPY {} (sensor, time, value) FROM STDIN (FORMAT BINARY)").format(table)
        for batch in _batches(n, sensors):
            data = _pack_copy(
                fields, {"sensor": batch.sensor, "time": batch.time, "value": batch.value}
            )
            with conn.transaction(), conn.cursor() as cur, cur.copy(copy) as cp:
                cp.write(data)
        ingest = n / (time.perf_counter() - start) / 1e6
        conn.execute(sql.SQL("VACUUM ANALYZE {}").format(table))
        t_lo, t_hi = conn.execute(
            sql.SQL("SELECT min(time), max(time) FROM {}").format(table)
        ).fetchone() or (T0, T0)
        rng = np.random.default_rng(3)
        at_sql = sql.SQL(
            "SELECT DISTINCT ON (sensor) sensor, value, time FROM {} WHERE time <= %s "
            "ORDER BY sensor, time DESC"
        ).format(table)
        at_times = []
        for t in rng.uniform(t_lo, t_hi, 5):  # seconds each at 10^7 rows
            s0 = time.perf_counter()
            conn.execute(at_sql, (float(t),)).fetchall()
            at_times.append(time.perf_counter() - s0)
        series_sql = sql.SQL(
            "SELECT width_bucket(time, %s, %s, 2000) AS b, min(time), min(value), max(value) "
            "FROM {} WHERE sensor = %s AND time BETWEEN %s AND %s GROUP BY b ORDER BY b"
        ).format(table)
        series_times = []
        for s in rng.integers(0, sensors, 10 if quick else 20):
            s0 = time.perf_counter()
            conn.execute(
                series_sql, (t_lo, np.nextafter(t_hi, np.inf), int(s), t_lo, t_hi)
            ).fetchall()
            series_times.append(time.perf_counter() - s0)
        size = conn.execute(
            "SELECT pg_total_relation_size(%s::regclass)", (f'"{schema}".baseline',)
        )
        nbytes = int((size.fetchone() or (0,))[0])
    return ingest, _p95(at_times), _p95(series_times), nbytes / n


def bench_history_postgres(quick: bool) -> list[Figure]:
    """The PostgreSQL store beside a plain-table baseline on the same data (see the module)."""
    url, server = _pg_server()
    if url is None:
        return []
    figs: list[Figure] = []
    try:
        n = PG_SAMPLES_QUICK if quick else PG_SAMPLES_FULL
        for sensors, label, at_target in ((1000, "", "< 5"), (10_000, " (10k sensors)", "< 20")):
            schema = f"twinviewer_bench_{uuid.uuid4().hex[:8]}"
            sub = _with_schema(url, schema)
            try:
                mine = _bench_pg_store(sub, n, sensors, quick, label, at_target)
                ingest, at_ms, series_ms, bps = _pg_baseline(sub, n, sensors, quick)
            finally:
                _drop_schema(url, schema)
            name = f"plain table + straightforward SQL, {n:.0e} rows"
            for fig, base in zip(mine, (ingest, at_ms, series_ms, series_ms, bps), strict=True):
                fig.baseline, fig.baseline_name = base, name
            figs += mine
    finally:
        if server is not None:
            server.stop()
    return figs


if __name__ == "__main__":
    import sys

    logging.basicConfig(level=logging.INFO)
    run = bench_history_postgres if "--pg-only" in sys.argv else bench_history
    for f in run("--full" not in sys.argv):
        sys.stderr.write(f.line() + "\n")
