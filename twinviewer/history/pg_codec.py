"""The compressed block format of the PostgreSQL history's block layout: numpy only.

One *block* is one sensor's samples over a stretch of time, in ``(time, append)`` order: times
(float64), values (float64) and quality codes (uint8). :func:`encode_many` packs many blocks at
once (no per-block Python) into one byte buffer, :func:`decode_many` unpacks many at once; both
are bit-exact (``-0.0``, NaN payloads, subnormals survive: every check compares bit patterns).
The format is built so that the server can cut out the few samples around a time t without
decoding anything (at(t): :mod:`twinviewer.history.pg_blocks_queries`), and
:func:`values_at_windows` decodes just those.

Layout of one block (little-endian; format 3, magic 3 or 4; the magics 1 and 2 of the first
block format, with delta-of-delta times, are refused)::

    header  (28 bytes) magic u1 (3: plain, 4: payload zstd-compressed), time mode u1 (0: the
            float64 bit patterns, 3: integer milliseconds, 6: integer microseconds), residual
            width u1 (bytes, 0..8), value width u1 (4: float32, 8: float64), quality u1 (0: all
            zero, omitted; 1: present), tie width u1 (0: omitted), slots u2 (K), n u4,
            first i8, last i8 (the integer times of the first and the last sample)
    slots   K - 1 cumulative counts (1 byte each when n <= 255, 2 when n <= 65535, else 4):
            entry k is how many samples fall in the time slots 0..k, slot of a time y being
            ``floor((y - t0) / (t1 - t0) * K)`` (float64, clipped to K - 1; t0, t1 the first
            and last time: the row's columns)
    times   n - 2 records of the residual width: the zigzag residual of the integer time of
            samples 1 .. n-2 against the straight line ``first + j * D``, ``D = (last -
            first) // (n - 1)`` (wrapping int64 arithmetic: exact whatever the times)
    values  n records of the value width (float32 when every value round-trips exactly)
    quality n bytes, when present
    ties    tie width byte planes of the n tie ranks, when any is not 0

Random access: sample j's time is ``first + j * D + residual_j`` and its value record j, so any
run of samples is two substrings of the block. The slot table says in which run the last
sample at or before t lies: the slot of t is k; every sample of a slot before k is earlier than
t and every one of a slot after k later (the slot is a non-decreasing function of the time,
computed alike here and by the server, both IEEE float64), so the answer is among the samples
of slot k and the one before them: about ``n / K + 1`` samples. K is ``n // SLOT_SAMPLES``
(none below 2 x that; none when ``t1 - t0`` is not a finite positive float: the server's float8
arithmetic refuses overflows).

A *tie rank* orders samples of different sensors with equal times (the order they were
appended in): the store gives each sample its rank among the samples of the same time, 0 when
its time is unique, so it costs nothing unless times are shared.

Times are integers on the coarsest grid (ms, then us) that gives every time back exactly
(``round(t * 10^k) / 10^k`` has the same bits as ``t``), else the float64 bit patterns (which
grow monotonically with positive times), so any time survives. A regular feed has residuals of
0 (width 0: no bytes at all); jitter of a few ms takes one byte; random arrival times (the
benchmark's feed) a random walk around the line, 3 bytes at the us grid, as many as the
delta-of-deltas of the first format took.

Compression: plain blocks, compressed by PostgreSQL's TOAST (lz4 or pglz), or by zstd here.
Measured on this machine (2 shared cores, noisy; ``python -m twinviewer.bench.history_codec``)
in blocks of 100 samples (one sensor, 10 s at 10 Hz), bytes per sample with the header and
the slot table; lz4 is pyarrow's, standing in for TOAST's (first format in brackets):

=========================================  ===========  ===========  ===========  ==========
data                                       plain        +lz4         +zstd        enc / dec
=========================================  ===========  ===========  ===========  ==========
mine demo simulator (5 Hz, float64 values)  8.30 (8.19)  7.86 (6.82)  7.89 (6.70)  1.8 / 8.5
noisy float64 values, 10 Hz, ms jitter      9.37 (9.26)  9.37 (7.85)  9.11 (7.74)  2.8 / 4.9
benchmark feed (float32-exact, random t)    7.35 (7.24)  7.35 (5.76)  6.74 (5.65)  3.4 / 8.4
=========================================  ===========  ===========  ===========  ==========

(encode / decode in M samples/s; the raw columns would take 16 bytes). Records instead of the
first format's byte planes cost lz4 and zstd their grip on floats; it does not matter today:
PostgreSQL compresses only rows of more than ~2 kB (``TOAST_TUPLE_THRESHOLD``;
``toast_tuple_target`` does not lower it for inserts), so 10 s blocks at 10 Hz (~700 bytes)
are stored plain, and at(t) needs the records. zstd costs a Python call per block to
decompress (~30 us each), which at(t) over 10,000 sensors cannot afford, while PostgreSQL
decompresses TOAST in C as it reads; so the store writes plain blocks (and leaves ``SET
COMPRESSION lz4`` on the chunks' ``data`` for longer blocks). zstd is kept in the format
(magic 4) for the measurement.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

HEADER = np.dtype(
    [
        ("magic", "u1"),
        ("tmode", "u1"),
        ("tw", "u1"),
        ("vw", "u1"),
        ("qf", "u1"),
        ("kw", "u1"),
        ("slots", "<u2"),
        ("n", "<u4"),
        ("first", "<i8"),
        ("last", "<i8"),
    ]
)
HEADER_SIZE = HEADER.itemsize  # 28
PLAIN, ZSTD = 3, 4
OLD_MAGICS = (1, 2)  # the first block format (delta-of-delta times, byte planes)
SLOT_SAMPLES = 8  # samples per slot of the slot table (about)
_GRIDS = (3, 6)  # ms, then us

U8 = NDArray[np.uint8]
I64 = NDArray[np.int64]
F64 = NDArray[np.float64]


class BlockFormatError(ValueError):
    """A block of a format this TwinViewer does not read."""


def _group_index(starts: I64, n: int) -> tuple[I64, I64]:
    """Per sample: its block number and its position in the block."""
    counts = np.diff(np.append(starts, n))
    g = np.repeat(np.arange(len(starts)), counts)
    return g, np.arange(n) - starts[g]


def _elements(blocks: I64, counts: I64) -> tuple[I64, I64]:
    """For the elements of ``blocks`` (``counts`` each, in order): block and position."""
    total = int(counts.sum())
    first = np.zeros(len(blocks), np.int64)
    first[1:] = np.cumsum(counts)[:-1]
    rep = np.repeat(np.arange(len(blocks)), counts)
    return blocks[rep], np.arange(total) - first[rep]


def _int_times(t: F64, starts: I64, g: I64) -> tuple[NDArray[np.uint8], I64]:
    """Per block the time mode, and per sample the integer time of its block's mode."""
    bits = t.view(np.int64)
    mode = np.zeros(len(starts), np.uint8)
    x = bits.copy()
    undecided = np.ones(len(starts), bool)
    for k in _GRIDS:
        scale = 10.0**k
        with np.errstate(invalid="ignore", over="ignore"):
            r = np.round(t * scale)
            fits = np.abs(r) < 2.0**53
            xi = np.where(fits, r, 0.0).astype(np.int64)
            ok = fits & ((xi.astype(np.float64) / scale).view(np.int64) == bits)
        blk_ok = np.logical_and.reduceat(ok, starts) & undecided
        if blk_ok.all():
            x = xi
        elif blk_ok.any():
            use = blk_ok[g]
            x[use] = xi[use]
        mode[blk_ok] = k
        undecided &= ~blk_ok
        if not undecided.any():
            break
    return mode, x


def int_time(t: F64, mode: NDArray[Any]) -> I64:
    """The integer times of ``t`` in each one's time mode (the inverse of :func:`_float_time`
    on the times a block of that mode holds)."""
    t = np.asarray(t, np.float64)
    x = t.view(np.int64).copy()
    for k in _GRIDS:
        m = mode == k
        if m.any():
            x[m] = np.round(t[m] * 10.0**k).astype(np.int64)
    return x


def _float_time(x: I64, mode: NDArray[Any]) -> F64:
    t = x.view(np.float64).copy()
    for k in _GRIDS:
        m = mode == k
        if m.all():
            return x.astype(np.float64) / 10.0**k
        if m.any():
            t[m] = x[m].astype(np.float64) / 10.0**k
    return t


def _width(zmax: NDArray[np.uint64]) -> I64:
    """Bytes needed for each unsigned value."""
    w = np.zeros(len(zmax), np.int64)
    for b in range(1, 9):
        w[zmax >= (np.uint64(1) << np.uint64(8 * (b - 1)))] = b
    return w


def slot_count(n: I64, t0: F64, t1: F64) -> I64:
    """K per block (module docstring)."""
    with np.errstate(invalid="ignore", over="ignore"):
        span = t1 - t0
    ok = np.isfinite(span) & (span > 0) & (n >= 2 * SLOT_SAMPLES)
    return np.where(ok, np.minimum(n // SLOT_SAMPLES, 65535), 0).astype(np.int64)


def slot_width(n: I64) -> I64:
    """Bytes per slot table entry."""
    return np.where(n <= 255, 1, np.where(n <= 65535, 2, 4)).astype(np.int64)


def slot_of(y: F64, t0: F64, t1: F64, k: I64) -> I64:
    """The slot of each time ``y`` in its block (``t0``, ``t1``, ``k`` slots; ``k > 0``)."""
    with np.errstate(invalid="ignore", over="ignore"):
        f = np.floor((y - t0) / (t1 - t0) * k.astype(np.float64))
    return np.clip(np.nan_to_num(f, nan=0.0), 0, k - 1).astype(np.int64)


class Decoded(NamedTuple):
    """Blocks decoded one after the other: block i is ``[starts[i], starts[i+1])``."""

    t: F64
    v: F64
    q: U8
    tie: NDArray[np.uint32]
    starts: I64


def _put_records(out: U8, dst: I64, vals: NDArray[Any], w: int) -> None:
    """Little-endian records of ``w`` bytes at ``dst``."""
    u = vals.astype(np.uint64)
    for p in range(w):
        out[dst + p] = (u >> np.uint64(8 * p)).astype(np.uint8)


def _get_records(buf: U8, src: I64, w: int) -> NDArray[np.uint64]:
    acc = np.zeros(len(src), np.uint64)
    for p in range(w):
        acc |= buf[src + p].astype(np.uint64) << np.uint64(8 * p)
    return acc


def _put_planes(
    out: U8, blocks: I64, counts: I64, section: I64, starts: I64, src: NDArray[Any], w: int
) -> None:
    """Write the ``w`` low byte planes of the elements of ``blocks`` (``src`` indexed like the
    samples) into each block's ``section``."""
    b, jj = _elements(blocks, counts[blocks])
    vals = src[starts[b] + jj].astype(np.uint64)
    dst = section[b] + jj
    step = counts[b]
    for p in range(w):
        out[dst + p * step] = (vals >> np.uint64(8 * p)).astype(np.uint8)


def _get_planes(
    buf: U8, blocks: I64, counts: I64, section: I64, starts: I64, w: int
) -> tuple[I64, NDArray[np.uint64]]:
    """The elements of ``blocks`` read from ``w`` byte planes: ``(sample index, value)``."""
    b, jj = _elements(blocks, counts[blocks])
    src = section[b] + jj
    step = counts[b]
    acc = buf[src].astype(np.uint64)
    for p in range(1, w):
        acc |= buf[src + p * step].astype(np.uint64) << np.uint64(8 * p)
    return starts[b] + jj, acc


def _unzigzag(z: NDArray[np.uint64]) -> I64:
    return (z >> np.uint64(1)).view(np.int64) ^ -(z & np.uint64(1)).view(np.int64)


def _slope(first: I64, last: I64, n: I64) -> I64:
    """D per block (wrapping int64; 0 for single samples)."""
    with np.errstate(over="ignore"):
        span = last - first
    return np.where(n > 1, span // np.maximum(n - 1, 1), 0)


def _sections(hdr: np.ndarray, offsets: I64) -> tuple[I64, I64, I64, I64, I64, I64]:
    """Per block: n, residual width, value width, K, where the times and the values begin."""
    n = hdr["n"].astype(np.int64)
    tw = hdr["tw"].astype(np.int64)
    vw = hdr["vw"].astype(np.int64)
    k = hdr["slots"].astype(np.int64)
    tstart = np.asarray(offsets + HEADER_SIZE + np.maximum(k - 1, 0) * slot_width(n), np.int64)
    vstart = np.asarray(tstart + tw * np.maximum(n - 2, 0), np.int64)
    return n, tw, vw, k, tstart, vstart


def _segcumsum(a: I64, starts: I64, counts: I64) -> I64:
    """Cumulative sums restarting at every block start (wrapping int64)."""
    c = np.cumsum(a)
    before = np.zeros(len(starts), np.int64)
    before[1:] = c[starts[1:] - 1]
    return c - np.repeat(before, counts)


def encode_many(
    t: F64,
    v: F64,
    starts: I64,
    q: U8 | None = None,
    tie: NDArray[np.uint32] | None = None,
) -> tuple[U8, I64, I64]:
    """Encode the blocks ``[starts[i], starts[i+1])`` of ``t``/``v``/``q``/``tie`` (each block
    sorted by time, ties in append order). Returns ``(buffer, offsets, sizes)``: block i is
    ``buffer[offsets[i]:offsets[i] + sizes[i]]``."""
    t = np.ascontiguousarray(t, np.float64)
    v = np.ascontiguousarray(v, np.float64)
    starts = np.asarray(starts, np.int64)
    n_all = len(t)
    k = len(starts)
    if k == 0:
        return np.zeros(0, np.uint8), np.zeros(0, np.int64), np.zeros(0, np.int64)
    g, j = _group_index(starts, n_all)
    counts = np.diff(np.append(starts, n_all))
    ends = starts + counts - 1
    mode, x = _int_times(t, starts, g)
    first, last = x[starts], x[ends]
    slope = _slope(first, last, counts)
    with np.errstate(over="ignore"):
        r = x - first[g] - j * slope[g]
    zz = ((r << 1) ^ (r >> 63)).view(np.uint64)
    interior = (j >= 1) & (j < counts[g] - 1)
    zz[~interior] = 0
    tw = _width(np.maximum.reduceat(zz, starts))
    # values: float32 where every value of the block round-trips exactly (bit for bit)
    with np.errstate(over="ignore", invalid="ignore"):
        v32 = v.astype(np.float32)
    exact = v32.astype(np.float64).view(np.int64) == v.view(np.int64)
    vw = np.where(np.logical_and.reduceat(exact, starts), 4, 8).astype(np.int64)
    qa = np.zeros(n_all, np.uint8) if q is None else np.asarray(q, np.uint8)
    qf = (np.maximum.reduceat(qa, starts) > 0).astype(np.int64)
    ka = np.zeros(n_all, np.uint32) if tie is None else np.asarray(tie, np.uint32)
    kw = _width(np.maximum.reduceat(ka, starts).astype(np.uint64))
    ks = slot_count(counts, t[starts], t[ends])
    sw = slot_width(counts)
    sizes = (
        HEADER_SIZE
        + np.maximum(ks - 1, 0) * sw
        + tw * np.maximum(counts - 2, 0)
        + (vw + qf + kw) * counts
    )
    offsets = np.zeros(k, np.int64)
    offsets[1:] = np.cumsum(sizes)[:-1]
    out = np.zeros(int(sizes.sum()), np.uint8)
    hdr = np.zeros(k, HEADER)
    hdr["magic"] = PLAIN
    hdr["tmode"] = mode
    hdr["tw"] = tw
    hdr["vw"] = vw
    hdr["qf"] = qf
    hdr["kw"] = kw
    hdr["slots"] = ks
    hdr["n"] = counts
    hdr["first"] = first
    hdr["last"] = last
    out[offsets[:, None] + np.arange(HEADER_SIZE)] = hdr.view(np.uint8).reshape(k, HEADER_SIZE)
    _put_slots(out, offsets, t, starts, ends, g, counts, ks, sw)
    _, _, _, _, tstart, vstart = _sections(hdr, offsets)
    for w in np.unique(tw[tw > 0]).tolist():
        sel = interior & (tw[g] == w)
        _put_records(out, tstart[g[sel]] + (j[sel] - 1) * w, zz[sel], w)
    for w in (4, 8):
        sel = vw[g] == w
        if sel.any():
            bits = v32[sel].view(np.uint32) if w == 4 else v[sel].view(np.uint64)
            _put_records(out, vstart[g[sel]] + j[sel] * w, bits, w)
    qs = qf[g] == 1
    if qs.any():
        out[(vstart + vw * counts)[g[qs]] + j[qs]] = qa[qs]
    kstart = vstart + (vw + qf) * counts
    for w in np.unique(kw[kw > 0]).tolist():
        _put_planes(out, np.flatnonzero(kw == w), counts, kstart, starts, ka, w)
    return out, offsets, sizes


def _put_slots(
    out: U8,
    offsets: I64,
    t: F64,
    starts: I64,
    ends: I64,
    g: I64,
    counts: I64,
    ks: I64,
    sw: I64,
) -> None:
    """The slot tables (cumulative counts) of the blocks with slots."""
    blocks = np.flatnonzero(ks > 0)
    if not len(blocks):
        return
    m = (ks > 0)[g]
    gb = g[m]
    sl = slot_of(t[m], t[starts][gb], t[ends][gb], ks[gb])
    kb = ks[blocks]
    base = np.zeros(len(ks), np.int64)
    base[blocks] = np.cumsum(kb) - kb
    hist = np.bincount(base[gb] + sl, minlength=int(kb.sum())).astype(np.int64)
    cum = _segcumsum(hist, base[blocks], kb)
    b, kk = _elements(blocks, kb - 1)
    vals = cum[base[b] + kk]
    for w in np.unique(sw[blocks]).tolist():
        sel = sw[b] == w
        _put_records(out, offsets[b[sel]] + HEADER_SIZE + kk[sel] * w, vals[sel], w)


def _headers(buf: U8, offsets: I64) -> tuple[U8, I64, np.ndarray]:
    """The headers of the blocks at ``offsets`` (zstd blocks decompressed: the buffer and
    offsets returned are the plain ones)."""
    k = len(offsets)
    hdr = buf[offsets[:, None] + np.arange(HEADER_SIZE)].copy().view(HEADER).reshape(k)
    magic = hdr["magic"]
    if np.isin(magic, OLD_MAGICS).any() or (~np.isin(magic, (PLAIN, ZSTD))).any():
        raise BlockFormatError(
            f"history block of format magic {int(magic[~np.isin(magic, (PLAIN, ZSTD))][0])}: "
            "this TwinViewer reads block format 3 only"
        )
    if (magic == ZSTD).any():
        buf, offsets = _unzstd(buf, offsets, hdr)
        hdr = buf[offsets[:, None] + np.arange(HEADER_SIZE)].copy().view(HEADER).reshape(k)
    return buf, offsets, hdr


def decode_many(buf: U8, offsets: I64) -> Decoded:
    """Decode the blocks starting at ``offsets`` of ``buf``, one after the other."""
    buf = np.asarray(buf, np.uint8)
    offsets = np.asarray(offsets, np.int64)
    if len(offsets) == 0:
        z = np.zeros(0)
        return Decoded(z, z.copy(), np.zeros(0, np.uint8), np.zeros(0, np.uint32), z.astype(int))
    buf, offsets, hdr = _headers(buf, offsets)
    n, tw, vw, _, tstart, vstart = _sections(hdr, offsets)
    n_all = int(n.sum())
    starts = np.zeros(len(n), np.int64)
    starts[1:] = np.cumsum(n)[:-1]
    g, j = _group_index(starts, n_all)
    first = hdr["first"].astype(np.int64)
    last = hdr["last"].astype(np.int64)
    slope = _slope(first, last, n)
    interior = (j >= 1) & (j < n[g] - 1)
    r = np.zeros(n_all, np.int64)
    for w in np.unique(tw[tw > 0]).tolist():
        sel = interior & (tw[g] == w)
        r[sel] = _unzigzag(_get_records(buf, tstart[g[sel]] + (j[sel] - 1) * w, w))
    with np.errstate(over="ignore"):
        x = first[g] + j * slope[g] + r
    x[starts + n - 1] = last
    t = _float_time(x, hdr["tmode"][g])
    v = np.zeros(n_all, np.float64)
    for w, ut, ft in ((4, np.uint32, np.float32), (8, np.uint64, np.float64)):
        sel = vw[g] == w
        if sel.any():
            acc = _get_records(buf, vstart[g[sel]] + j[sel] * w, w)
            v[sel] = acc.astype(ut).view(ft)
    q = np.zeros(n_all, np.uint8)
    qf = hdr["qf"].astype(np.int64)
    qs = qf[g] == 1
    if qs.any():
        q[qs] = buf[(vstart + vw * n)[g[qs]] + j[qs]]
    tie = np.zeros(n_all, np.uint32)
    kw = hdr["kw"].astype(np.int64)
    kstart = vstart + (vw + qf) * n
    for w in np.unique(kw[kw > 0]).tolist():
        i, val = _get_planes(buf, np.flatnonzero(kw == w), n, kstart, starts, w)
        tie[i] = val
    return Decoded(t, v, q, tie, starts)


def window_bounds(buf: U8, offsets: I64, t: float) -> tuple[I64, I64]:
    """For each block at ``offsets`` with ``t0 <= t < t1``: the first and last position of the
    samples the server cuts for at(t) (what the SQL of
    :mod:`twinviewer.history.pg_blocks_queries` computes; for the tests)."""
    buf, offsets, hdr = _headers(np.asarray(buf, np.uint8), np.asarray(offsets, np.int64))
    n, _, _, ks, _, _ = _sections(hdr, offsets)
    mode = hdr["tmode"]
    t0 = _float_time(hdr["first"].astype(np.int64), mode)
    t1 = _float_time(hdr["last"].astype(np.int64), mode)
    sw = slot_width(n)
    kt = np.where(ks > 0, slot_of(np.full(len(n), t), t0, t1, np.maximum(ks, 1)), 0)

    def entry(i: I64) -> I64:
        raw = np.zeros(len(n), np.int64)
        ok = (i >= 0) & (i < ks - 1)
        for w in np.unique(sw).tolist():
            s = ok & (sw == w)
            src = offsets[s] + HEADER_SIZE + i[s] * w
            raw[s] = _get_records(buf, src, w).astype(np.int64)
        return np.where(i < 0, 0, np.where(i >= ks - 1, n, raw))

    lo = np.maximum(entry(kt - 1) - 1, 0)
    return lo, entry(kt) - 1


def cut_windows(buf: U8, offsets: I64, lo: I64, hi: I64) -> tuple[U8, I64]:
    """The server's cut of each block (positions ``lo..hi``): its bytes 1..3 (time mode,
    residual width, value width), the residual records of the interior samples among them and
    their value records (for the tests; the store cuts in SQL)."""
    buf, offsets, hdr = _headers(np.asarray(buf, np.uint8), np.asarray(offsets, np.int64))
    n, tw, vw, _, tstart, vstart = _sections(hdr, offsets)
    pieces, out_off, pos = [], [], 0
    for i in range(len(offsets)):
        a, b = max(int(lo[i]), 1), min(int(hi[i]), int(n[i]) - 2)
        o = int(offsets[i])
        cut = [buf[o + 1 : o + 4]]
        if b >= a:
            cut.append(buf[tstart[i] + (a - 1) * tw[i] : tstart[i] + b * tw[i]])
        cut.append(buf[vstart[i] + lo[i] * vw[i] : vstart[i] + (hi[i] + 1) * vw[i]])
        piece = np.concatenate(cut)
        pieces.append(piece)
        out_off.append(pos)
        pos += len(piece)
    return np.concatenate(pieces).astype(np.uint8), np.array(out_off, np.int64)


def values_at_windows(
    buf: U8, offsets: I64, t0: F64, t1: F64, n: I64, lo: I64, hi: I64, t: float
) -> tuple[F64, F64]:
    """For each block cut by the server (at ``offsets`` of ``buf``: its positions ``lo..hi``,
    :func:`cut_windows`; ``t0``, ``t1``, ``n`` its columns) the time and value of its last
    sample at or before ``t`` (the window holds it: module docstring)."""
    buf = np.asarray(buf, np.uint8)
    offsets = np.asarray(offsets, np.int64)
    n, lo, hi = (np.asarray(a, np.int64) for a in (n, lo, hi))
    mode = buf[offsets]
    tw = buf[offsets + 1].astype(np.int64)
    vw = buf[offsets + 2].astype(np.int64)
    first, last = int_time(t0, mode), int_time(t1, mode)
    slope = _slope(first, last, n)
    m = hi - lo + 1
    b, jj = _elements(np.arange(len(offsets)), m)
    j = lo[b] + jj
    a = np.maximum(lo, 1)
    n_res = np.maximum(np.minimum(hi, n - 2) - a + 1, 0)
    interior = (j >= 1) & (j <= n[b] - 2)
    r = np.zeros(len(j), np.int64)
    for w in np.unique(tw[tw > 0]).tolist():
        sel = interior & (tw[b] == w)
        bs = b[sel]
        r[sel] = _unzigzag(_get_records(buf, offsets[bs] + 3 + (j[sel] - a[bs]) * w, w))
    with np.errstate(over="ignore"):
        x = first[b] + j * slope[b] + r
    end = j == n[b] - 1
    x[end] = last[b[end]]
    times = _float_time(x, mode[b])
    wstart = np.cumsum(m) - m
    upto = np.add.reduceat((times <= t).astype(np.int64), wstart)
    jw = np.clip(upto, 1, m) - 1  # the index of that sample in the window
    src = offsets + 3 + n_res * tw + jw * vw
    acc = _get_records(buf, src, 8) if (vw == 8).all() else np.zeros(len(src), np.uint64)
    if not (vw == 8).all():
        for w in (4, 8):
            s = vw == w
            acc[s] = _get_records(buf, src[s], w)
    val = acc.view(np.float64).copy()
    m4 = vw == 4
    val[m4] = acc[m4].astype(np.uint32).view(np.float32).astype(np.float64)
    return times[wstart + jw], val


def _payload_size(h: np.void) -> int:
    n, tw, vw, qf, kw, ks = (int(h[f]) for f in ("n", "tw", "vw", "qf", "kw", "slots"))
    sw = 1 if n <= 255 else 2 if n <= 65535 else 4
    return max(ks - 1, 0) * sw + tw * max(n - 2, 0) + (vw + qf + kw) * n


def zstd_blocks(buf: U8, offsets: I64, sizes: I64, level: int = 3) -> list[bytes]:
    """Each block with its payload (all after the header) compressed by zstd (magic 4)."""
    import pyarrow as pa

    out = []
    for o, s in zip(offsets.tolist(), sizes.tolist(), strict=True):
        head = bytearray(buf[o : o + HEADER_SIZE].tobytes())
        head[0] = ZSTD
        body = pa.compress(buf[o + HEADER_SIZE : o + s].tobytes(), "zstd", asbytes=True)
        out.append(bytes(head) + len(body).to_bytes(4, "little") + body)
    return out


def _unzstd(buf: U8, offsets: I64, hdr: np.ndarray) -> tuple[U8, I64]:
    """The buffer rebuilt with every zstd block decompressed (one call per block)."""
    import pyarrow as pa

    parts: list[bytes] = []
    new_off = []
    pos = 0
    for i, o in enumerate(offsets.tolist()):
        h = hdr[i]
        size = _payload_size(h)
        head = bytearray(buf[o : o + HEADER_SIZE].tobytes())
        if h["magic"] == ZSTD:
            clen = int.from_bytes(buf[o + HEADER_SIZE : o + HEADER_SIZE + 4].tobytes(), "little")
            a = o + HEADER_SIZE + 4
            body = pa.decompress(buf[a : a + clen].tobytes(), size, "zstd", asbytes=True)
            head[0] = PLAIN
        else:
            body = buf[o + HEADER_SIZE : o + HEADER_SIZE + size].tobytes()
        parts += [bytes(head), body]
        new_off.append(pos)
        pos += HEADER_SIZE + size
    return np.frombuffer(b"".join(parts), np.uint8), np.array(new_off, np.int64)


def encode(t: F64, v: F64, q: U8 | None = None, tie: NDArray[np.uint32] | None = None) -> bytes:
    """One block as bytes."""
    buf, _, _ = encode_many(t, v, np.zeros(1 if len(t) else 0, np.int64), q, tie)
    return buf.tobytes()


def decode(blob: bytes) -> Decoded:
    """One block back."""
    return decode_many(np.frombuffer(blob, np.uint8), np.zeros(1, np.int64))
