"""The block codec of the PostgreSQL history (:mod:`twinviewer.history.pg_codec`) on three kinds of
data: bytes per sample plain, with lz4 (what PostgreSQL's TOAST does with ``SET COMPRESSION
lz4``, measured here with pyarrow's lz4 as a stand-in) and with zstd, beside the raw 16 bytes;
encoding and decoding speed. ``python -m twinviewer.bench.history_codec`` prints the table that
the codec's docstring quotes.

The data: the mine demo's simulator feed (5 Hz per sensor, epoch times), noisy float64 values
at 10 Hz with a few ms of jitter, and the history benchmark's feed (float32-exact values, each
sensor at random times).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from twinviewer.bench.figures import Figure
from twinviewer.history import pg_codec

BLOCK = 100  # samples per block (one sensor: 10 s at 10 Hz)
F64 = NDArray[np.float64]


def _demo_feed(seconds: float = 120.0) -> tuple[F64, F64, NDArray[np.int64]]:
    """(times, values, sensor) of the mine demo's simulator, sorted by sensor then time."""
    from twinviewer.core.project import SimulatorSource, load_project
    from twinviewer.sources.simulator import simulate

    root = Path(__file__).resolve().parents[2] / "assets" / "mine" / "mine.twin.yaml"
    project, _ = load_project(root)
    config = next(s for s in project.sources if isinstance(s, SimulatorSource))
    batch = simulate(project, config, seconds)
    order = np.lexsort((batch.time, batch.sensor))
    t = 1.7e9 + batch.time[order]  # epoch times, as recorded
    return t, batch.value[order], batch.sensor[order].astype(np.int64)


def _noisy_feed(sensors: int = 200, per: int = 600) -> tuple[F64, F64, NDArray[np.int64]]:
    rng = np.random.default_rng(11)
    base = np.round(1.7e9 + np.arange(per) * 0.1, 3)
    t = np.concatenate([base + np.round(rng.normal(0, 0.003, per), 3) for _ in range(sensors)])
    t = np.round(t, 3)
    s = np.repeat(np.arange(sensors), per)
    order = np.lexsort((t, s))
    v = np.cumsum(rng.normal(0, 0.01, len(t))) + rng.normal(0, 1e-3, len(t))
    return t[order], v, s[order]


def _bench_feed(sensors: int = 1000, n: int = 600_000) -> tuple[F64, F64, NDArray[np.int64]]:
    rng = np.random.default_rng(7)
    s = rng.integers(0, sensors, n)
    t = 1.7e9 + np.arange(n) / (sensors * 10.0)
    v = np.round(rng.normal(50.0, 10.0, n) * 64) / 64
    order = np.lexsort((t, s))
    return t[order], v[order], s[order]


def _starts(s: NDArray[np.int64], t: F64) -> NDArray[np.int64]:
    """Blocks of at most BLOCK samples per sensor."""
    new = np.r_[True, s[1:] != s[:-1]]
    run = np.flatnonzero(new)
    pos = np.arange(len(s)) - np.repeat(run, np.diff(np.append(run, len(s))))
    return np.flatnonzero(new | (pos % BLOCK == 0))


def measure(t: F64, v: F64, s: NDArray[np.int64]) -> dict[str, float]:
    import pyarrow as pa

    starts = _starts(s, t)
    n = len(t)
    t0 = time.perf_counter()
    buf, off, size = pg_codec.encode_many(t, v, starts)
    enc = time.perf_counter() - t0
    t0 = time.perf_counter()
    tt, vv = pg_codec.decode_many(buf, off)[:2]
    dec = time.perf_counter() - t0
    assert tt.tobytes() == t.tobytes() and vv.tobytes() == v.tobytes()
    lz4 = zstd = 0
    blobs = [buf[o : o + z].tobytes() for o, z in zip(off.tolist(), size.tolist(), strict=True)]
    for b in blobs:
        lz4 += min(len(b), len(pa.compress(b, "lz4", asbytes=True)))
    zs = pg_codec.zstd_blocks(buf, off, size)
    zstd = sum(len(z) for z in zs)
    zbuf = np.frombuffer(b"".join(zs), np.uint8)
    zoff = np.cumsum([0] + [len(z) for z in zs[:-1]])
    t0 = time.perf_counter()
    pg_codec.decode_many(zbuf, zoff)
    zdec = time.perf_counter() - t0
    return {
        "plain": len(buf) / n,
        "lz4": lz4 / n,
        "zstd": zstd / n,
        "encode": n / enc / 1e6,
        "decode": n / dec / 1e6,
        "zstd_us": (zdec - dec) / len(blobs) * 1e6,
    }


def bench_codec(quick: bool = True) -> list[Figure]:
    figs = []
    feeds: dict[str, Callable[[], tuple[F64, F64, NDArray[np.int64]]]] = {
        "demo": _demo_feed,
        "noisy": _noisy_feed,
        "bench": _bench_feed,
    }
    for name, make in feeds.items():
        m = measure(*make())
        for key in ("plain", "lz4", "zstd"):
            figs.append(
                Figure(f"codec {name} {key}", m[key], "B", "<= 10", note="bytes per sample")
            )
        figs.append(Figure(f"codec {name} encode", m["encode"], "M/s", ">= 1.5"))
        figs.append(Figure(f"codec {name} decode", m["decode"], "M/s", ""))
        figs.append(Figure(f"codec {name} zstd call", m["zstd_us"], "us", "", note="per block"))
    return figs


if __name__ == "__main__":
    import sys

    for f in bench_codec():
        sys.stdout.write(f.line() + "\n")
