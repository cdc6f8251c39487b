"""The block codec of the PostgreSQL history (twinviewer/history/pg_codec.py): bit-exact round
trips of many blocks at once, whatever the floats (NaN payloads, -0.0, infinities, subnormals),
and the compact forms it promises for regular feeds and float32-exact values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twinviewer.history import pg_codec

any_float = st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True)
times = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),  # anything finite
    st.integers(0, 10**6).map(lambda k: 1.7e9 + k / 1000),  # epoch milliseconds
    st.integers(0, 10**6).map(lambda k: 1.7e9 + k * 1e-6),  # epoch microseconds
    st.integers(-50, 50).map(lambda k: k * 0.25),
)
block = st.tuples(
    st.lists(times, min_size=1, max_size=40),
    st.lists(
        st.one_of(any_float, st.integers(-100, 100).map(float), st.just(float("nan"))),
        min_size=40,
        max_size=40,
    ),
    st.booleans(),
)
NAN_PAYLOAD = np.array([0x7FF8_0000_DEAD_BEEF], np.int64).view(np.float64)[0]


def _bits(a: np.ndarray) -> list[int]:
    return np.asarray(a, np.float64).view(np.int64).tolist()


@settings(max_examples=150, deadline=None)
@given(blocks=st.lists(block, min_size=1, max_size=8), zstd=st.booleans())
def test_many_blocks_round_trip_bit_exactly(blocks, zstd) -> None:
    ts, vs, qs, ties, starts = [], [], [], [], []
    n = 0
    for tt, vv, with_quality in blocks:
        t = np.sort(np.array(tt, np.float64))
        v = np.array(vv[: len(t)], np.float64)
        if len(v) > 1:
            v[0] = NAN_PAYLOAD  # a NaN that float32 would not keep
        q = (np.arange(len(t)) % 3).astype(np.uint8) if with_quality else np.zeros(len(t), "u1")
        ties.append((np.arange(len(t)) * 977 * with_quality).astype(np.uint32))
        starts.append(n)
        n += len(t)
        ts.append(t)
        vs.append(v)
        qs.append(q)
    t, v, q = np.concatenate(ts), np.concatenate(vs), np.concatenate(qs)
    tie = np.concatenate(ties)
    buf, offs, sizes = pg_codec.encode_many(t, v, np.array(starts), q, tie)
    assert offs.tolist() == (np.cumsum(sizes) - sizes).tolist() and len(buf) == sizes.sum()
    if zstd:
        blobs = pg_codec.zstd_blocks(buf, offs, sizes)
        buf = np.frombuffer(b"".join(blobs), np.uint8)
        lengths = np.array([len(b) for b in blobs])
        offs = np.cumsum(lengths) - lengths
    t2, v2, q2, tie2, starts2 = pg_codec.decode_many(buf, offs)
    assert starts2.tolist() == starts
    assert _bits(t2) == _bits(t)
    assert _bits(v2) == _bits(v)
    assert q2.tolist() == q.tolist() and tie2.tolist() == tie.tolist()


@given(t=st.lists(times, min_size=1, max_size=60), v=st.lists(any_float, min_size=60, max_size=60))
def test_one_block_round_trips(t, v) -> None:
    tt = np.sort(np.array(t))
    vv = np.array(v[: len(tt)])
    t2, v2, q2, tie, _ = pg_codec.decode(pg_codec.encode(tt, vv))
    assert _bits(t2) == _bits(tt) and _bits(v2) == _bits(vv)
    assert not q2.any() and not tie.any()


def _header(blob: bytes) -> np.void:
    return np.frombuffer(blob[: pg_codec.HEADER_SIZE], pg_codec.HEADER)[0]


def test_regular_feed_and_float32_values_are_compact() -> None:
    t = 1.7e9 + np.arange(600) * 0.1  # 10 Hz on the millisecond grid
    v = np.round(np.sin(np.arange(600) / 50) * 1000) / 8  # float32-exact
    blob = pg_codec.encode(t, v)
    h = _header(blob)
    assert (h["tmode"], h["tw"], h["vw"], h["qf"]) == (3, 0, 4, 0)
    slots = 2 * (600 // pg_codec.SLOT_SAMPLES - 1)  # the slot table: 2-byte counts
    assert len(blob) == pg_codec.HEADER_SIZE + slots + 4 * 600  # no byte for the times at all
    jitter = np.round(t + np.r_[0, np.tile([0.002, -0.001], 299), 0], 3)  # ms: a byte each
    h = _header(pg_codec.encode(jitter, v + 0.1))
    assert (h["tmode"], h["tw"], h["vw"]) == (3, 1, 8)
    odd = np.sort(np.random.default_rng(1).uniform(0, 1, 50))  # on no decimal grid
    assert _header(pg_codec.encode(odd, odd))["tmode"] == 0


@given(blocks=st.lists(block, min_size=1, max_size=6), where=st.floats(0, 1))
def test_the_sample_at_t_of_many_blocks(blocks, where) -> None:
    """What at(t) reads: per block with ``t0 <= t < t1``, the window of positions the slot
    table gives, cut out of the block (as the server does), holds its last sample at or
    before t, and decoding only the cut gives that sample's time and value bit for bit."""
    ts = [np.sort(np.array(tt, np.float64)) for tt, _, _ in blocks]
    vs = [np.array(vv[: len(t)]) for t, (_, vv, _) in zip(ts, blocks, strict=True)]
    lo, hi = max(t[0] for t in ts), max(t[-1] for t in ts)
    with np.errstate(over="ignore"):  # finite times may lie more than the largest float apart
        at = lo + (hi - lo) * where if np.isfinite(hi - lo) else lo
    keep = [i for i, t in enumerate(ts) if t[0] <= at < t[-1]]
    if not keep:
        return
    ts, vs = [ts[i] for i in keep], [vs[i] for i in keep]
    starts = np.cumsum([0] + [len(t) for t in ts[:-1]])
    buf, offs, _ = pg_codec.encode_many(np.concatenate(ts), np.concatenate(vs), starts)
    w_lo, w_hi = pg_codec.window_bounds(buf, offs, at)
    cut, cut_offs = pg_codec.cut_windows(buf, offs, w_lo, w_hi)
    t0 = np.array([t[0] for t in ts])
    t1 = np.array([t[-1] for t in ts])
    n = np.array([len(t) for t in ts])
    t_at, v_at = pg_codec.values_at_windows(cut, cut_offs, t0, t1, n, w_lo, w_hi, at)
    for i, (t, v) in enumerate(zip(ts, vs, strict=True)):
        j = int(np.searchsorted(t, at, "right")) - 1
        assert w_lo[i] <= j <= w_hi[i]
        assert _bits(t_at[i : i + 1]) == _bits(t[j : j + 1])
        assert _bits(v_at[i : i + 1]) == _bits(v[j : j + 1])


def test_the_slot_table_keeps_the_window_small() -> None:
    """Random arrival times, 100 samples a block: the server cuts about n / K + 1 samples."""
    rng = np.random.default_rng(5)
    ts = [1.7e9 + np.sort(np.round(rng.uniform(0, 10, 100), 6)) for _ in range(50)]
    starts = np.arange(50) * 100
    buf, offs, _ = pg_codec.encode_many(np.concatenate(ts), np.ones(5000), starts)
    w_lo, w_hi = pg_codec.window_bounds(buf, offs, 1.7e9 + 5.0)
    assert 2 <= np.mean(w_hi - w_lo + 1) <= 20


def test_blocks_of_the_first_format_are_refused() -> None:
    blob = bytearray(pg_codec.encode(np.arange(5.0), np.arange(5.0)))
    blob[0] = 1
    with pytest.raises(pg_codec.BlockFormatError, match="format 3"):
        pg_codec.decode(bytes(blob))
