"""The PostgreSQL history store's benchmark: both layouts side by side and the embedded store on
the same data in the same run, each figure beside its target from issue 18.

For 1,000 and 10,000 sensors, ``n`` samples (10^7 by default, ``--samples 1e8`` for the issue's
full size, 10^6 with ``--quick``) of the history benchmark's feed (every sensor at 10 Hz on
average, float32-exact values; :func:`twinviewer.bench.history._batches`) are appended to a
fresh schema of each layout (``?layout=blocks``, ``?layout=rows``) through the store's own
writer thread, and the clock stops when :meth:`close` returns: the *committed* ingest rate,
one recorder, one connection. Then ``VACUUM ANALYZE`` and ``CHECKPOINT`` (what autovacuum does
soon after a load) and the bytes on disk of every table of the schema with its indexes and
TOAST (``pg_total_relation_size``) per sample; then a viewer (``writer=False``) asks ``at(t)``
at random times and a chart series of one sensor over the whole range at 2,000 px (the store's
choice of path, and forced through the summary blocks as long histories are). Last, the
control room: the recorder appends a fifth more of the feed (at most 2 x 10^7 samples) while
``VIEWERS`` viewer processes (:mod:`twinviewer.bench.history_pg_viewers`) each alternate
``at(t)`` and a chart series: the committed rate beside them and their p95 latencies. The row
layout (the baseline) is built to at most ``ROWS_MAX`` samples: at ~0.2 M samples/s a 10^8
build would take ten minutes per sensor count.

The database is ``$TWINVIEWER_BENCH_PG`` (a URL; ``off`` skips it), else a temporary local
server (:mod:`twinviewer.history.pg_local`) with fsync on, like a real one.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
import uuid
from typing import Any

import numpy as np

from twinviewer.bench.figures import Figure

log = logging.getLogger(__name__)

PG_ENV = "TWINVIEWER_BENCH_PG"
SAMPLES_QUICK = 1_000_000
SAMPLES_DEFAULT = 10_000_000
LAYOUTS = ("blocks", "rows")
AT_TARGET = {1000: "< 10", 10_000: "< 25"}
ROWS_MAX = 20_000_000  # the row layout's size at most (1e8 rows would take ~10 min a build)
VIEWERS = 4  # viewer processes querying while the recorder ingests


def pg_server() -> tuple[str | None, Any]:
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
        # durable, like the embedded store's figures
        "fsync": "on",
        "synchronous_commit": "on",
        "full_page_writes": "on",
    }
    server = LocalPostgres(settings=settings).start()
    return server.url, server


def _with(url: str, **options: str) -> str:
    extra = "&".join(f"{k}={v}" for k, v in options.items())
    return url + ("&" if "?" in url else "?") + extra


def _admin(url: str, statements: list[Any]) -> None:
    import psycopg

    from twinviewer.history.postgres import split_url

    with psycopg.connect(split_url(url)[0], autocommit=True) as conn:
        for stmt in statements:
            conn.execute(stmt)


def _drop_schema(url: str, schema: str) -> None:
    from psycopg import sql

    _admin(url, [sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))])


def _settle(url: str, schema: str) -> None:
    """VACUUM ANALYZE every table of the schema, then a CHECKPOINT."""
    import psycopg
    from psycopg import sql

    from twinviewer.history.postgres import split_url

    with psycopg.connect(split_url(url)[0], autocommit=True) as conn:
        names = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
        ).fetchall()
        for (name,) in names:
            conn.execute(sql.SQL("VACUUM ANALYZE {}").format(sql.Identifier(schema, name)))
        conn.execute("CHECKPOINT")


def _p95(xs: list[float]) -> float:
    return float(np.percentile(np.array(xs) * 1e3, 95))


def measure_layout(url: str, layout: str, n: int, sensors: int, quick: bool) -> dict[str, float]:
    """Build one schema of ``layout`` and measure it (module docstring)."""
    from twinviewer.bench.history import _batches
    from twinviewer.history.postgres import PostgresHistoryStore

    schema = f"twinviewer_bench_{layout}_{uuid.uuid4().hex[:8]}"
    sub = _with(url, schema=schema, layout=layout)
    ids = [f"s{i:05d}" for i in range(sensors)]
    try:
        store = PostgresHistoryStore(sub, ids, flush_interval=1.0)
        start = time.perf_counter()
        for batch in _batches(n, sensors):
            store.append(batch)
        store.close()  # everything committed
        took = time.perf_counter() - start
        log.info("history[pg %s]: %d samples of %d sensors in %.1f s", layout, n, sensors, took)
        _settle(url, schema)
        reader = PostgresHistoryStore(sub, ids, writer=False)  # a viewer beside the recorder
        try:
            stats = reader.stats()
            t_lo, t_hi = stats["time_range"]
            rng = np.random.default_rng(3)
            at_times = []
            for t in rng.uniform(t_lo, t_hi, 40 if quick else 200):
                s0 = time.perf_counter()
                reader.at(float(t))
                at_times.append(time.perf_counter() - s0)
            series_times, block_times = [], []
            for s in rng.integers(0, sensors, 10 if quick else 40):
                s0 = time.perf_counter()
                reader.series(int(s), t_lo, t_hi, 2000)
                series_times.append(time.perf_counter() - s0)
            reader.raw_rows_limit = 0  # what a longer history uses: the summary blocks
            for s in rng.integers(0, sensors, 10 if quick else 40):
                s0 = time.perf_counter()
                reader.series(int(s), t_lo, t_hi, 2000)
                block_times.append(time.perf_counter() - s0)
        finally:
            reader.close()
        busy = _busy(sub, ids, n, sensors, quick)
    finally:
        _drop_schema(url, schema)
    return {
        "n": float(n),
        "ingest": n / took / 1e6,
        "took": took,
        "bytes": float(stats["bytes_per_sample"]),
        "at": _p95(at_times),
        "series": _p95(series_times),
        "series_blocks": _p95(block_times),
        **busy,
    }


def busy_samples(n: int, quick: bool) -> int:
    """How many samples the recorder adds while the viewers query (a multiple of the batch)."""
    from twinviewer.bench.history import BATCH

    m = max(BATCH, min(n // 5, 20_000_000)) if not quick else max(BATCH, n // 2)
    return m - m % BATCH


def _busy(url: str, ids: list[str], n: int, sensors: int, quick: bool) -> dict[str, float]:
    """The recorder appends more of the feed (after the ``n`` held) while ``VIEWERS`` viewer
    processes query: its committed rate and the viewers' at(t) and series p95."""
    from twinviewer.bench.history import _batches
    from twinviewer.bench.history_pg_viewers import Viewers
    from twinviewer.history.postgres import PostgresHistoryStore

    m = busy_samples(n, quick)
    with Viewers(url, ids, VIEWERS) as viewers:
        store = PostgresHistoryStore(url, ids, flush_interval=1.0)
        start = time.perf_counter()
        for batch in _batches(m, sensors, start=n):
            store.append(batch)
        store.close()
        took = time.perf_counter() - start
    log.info(
        "history[pg]: %d more samples in %.1f s beside %d viewers (%d at, %d series)",
        m,
        took,
        VIEWERS,
        len(viewers.at),
        len(viewers.series),
    )
    nan = float("nan")
    return {
        "busy_ingest": m / took / 1e6,
        "busy_took": took,
        "busy_at": _p95(viewers.at) if viewers.at else nan,
        "busy_series": _p95(viewers.series) if viewers.series else nan,
    }


def measure_embedded(n: int, sensors: int, quick: bool) -> dict[str, float]:
    """The embedded store on the same feed: ingest, bytes/sample, at(t) and series p95."""
    from twinviewer.bench.history import _bench_store

    figs, store, took = _bench_store(n, sensors, quick, "", "")
    store.close()
    shutil.rmtree(store.folder.parent, ignore_errors=True)
    by = {f.name: f.value for f in figs}
    return {
        "n": float(n),
        "ingest": by["history ingest"],
        "took": took,
        "bytes": by["history bytes/sample"],
        "at": by["history at(t) p95"],
        "series": by["history series 2000px p95"],
        "series_blocks": float("nan"),
        "busy_ingest": float("nan"),
    }


def bench_history_postgres(
    quick: bool, samples: int | None = None, embedded: bool = True
) -> list[Figure]:
    """Both layouts (and the embedded store) at 1,000 and 10,000 sensors (module docstring)."""
    url, server = pg_server()
    if url is None:
        return []
    n = samples or (SAMPLES_QUICK if quick else SAMPLES_DEFAULT)
    figs: list[Figure] = []
    try:
        for sensors in (1000, 10_000):
            got = {
                layout: measure_layout(url, layout, _layout_n(layout, n), sensors, quick)
                for layout in LAYOUTS
            }
            if embedded:
                got["embedded"] = measure_embedded(n, sensors, quick)
            figs += _figures(got, sensors)
    finally:
        if server is not None:
            server.stop()
    return figs


def _layout_n(layout: str, n: int) -> int:
    """The row layout (the baseline, ~0.2 M samples/s) is built to at most ``ROWS_MAX``."""
    return min(n, ROWS_MAX) if layout == "rows" else n


def _size(n: float) -> str:
    return f"{n:.0e} samples" + ("" if n >= 100_000_000 else " (the issue's full size: 1e8)")


def _figures(got: dict[str, dict[str, float]], sensors: int) -> list[Figure]:
    at_target = AT_TARGET[sensors]
    rows = [
        ("ingest", "M/s", ">= 1.5", "committed; built in {took:.0f} s"),
        ("bytes", "B", "<= 10", "per sample: tables + indexes + TOAST, vacuumed"),
        ("at", "ms", at_target, "at(t) p95, random t"),
        ("series", "ms", "< 20", "series p95, one sensor, whole range, 2000 px"),
        ("series_blocks", "ms", "< 20", "series p95 through the summary blocks"),
        ("busy_ingest", "M/s", ">= 1.5", f"committed beside {VIEWERS} viewer processes"),
        ("busy_at", "ms", at_target, f"at(t) p95 of {VIEWERS} viewers while the recorder ingests"),
        ("busy_series", "ms", "< 20", f"series p95 of {VIEWERS} viewers while it ingests"),
    ]
    figs = []
    for key, unit, target, note in rows:
        for layout, m in got.items():
            if key.startswith(("series_blocks", "busy")) and layout == "embedded":
                continue
            base = got["rows"] if layout == "blocks" else None
            figs.append(
                Figure(
                    f"history[{'pg ' if layout != 'embedded' else ''}{layout}] {key}",
                    m[key],
                    unit,
                    target,
                    baseline=base[key] if base else None,
                    baseline_name="row layout, same run" if base else "",
                    note=f"{note.format(took=m['took'])}; {sensors:,} sensors, {_size(m['n'])}",
                )
            )
    return figs
