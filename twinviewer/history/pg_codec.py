"""The compressed block format of the PostgreSQL history's block layout: numpy only.

One *block* is one sensor's samples over a stretch of time, in ``(time, append)`` order: times
(float64), values (float64) and quality codes (uint8). :func:`encode_many` packs many blocks at
once (no per-block Python) into one byte buffer, :func:`decode_many` unpacks many at once; both
are bit-exact (``-0.0``, NaN payloads, subnormals survive: every check compares bit patterns).

Layout of one block (little-endian)::

    header  (28 bytes) magic u1 (1: plain, 2: payload zstd-compressed), time mode u1 (0: the
            float64 bit patterns, 3: integer milliseconds, 6: integer microseconds), dod width
            u1 (bytes per delta-of-delta, 0..8), value width u1 (4: float32, 8: float64),
            quality u1 (0: all zero, omitted; 1: present), tie width u1 (0: omitted), 2 pad,
            n u4, first i8, first delta i8
    dods    width byte planes of the n-2 zigzag delta-of-deltas of the integer times
    values  width byte planes of the n values (float32 when every value round-trips exactly)
    quality n bytes, when present
    ties    tie width byte planes of the n tie ranks, when any is not 0

A *tie rank* orders samples of different sensors with equal times (the order they were
appended in): the store gives each sample its rank among the samples of the same time, 0 when
its time is unique, so it costs nothing unless times are shared; a feed that stamps every
sensor of a scan with one time gives each sensor about the same rank every time, which
compresses to almost nothing.

Times are integers on the coarsest grid (ms, then us) that gives every time back exactly
(``round(t * 10^k) / 10^k`` has the same bits as ``t``), else the float64 bit patterns (which
grow monotonically with positive times: deltas are multiples of one ulp within a binade), so
any time survives. A regular feed has delta-of-deltas of 0 (width 0: no bytes at all); jitter
of a few ms takes one byte. Byte planes (all first bytes, then all second bytes, ...) put the
bytes that hardly change side by side, which is what makes a byte-oriented compressor (lz4,
pglz) work on floats.

Compression: plain blocks, compressed by PostgreSQL's TOAST (lz4 or pglz), or by zstd here.
Measured on this machine (2 shared cores, noisy; ``python -m twinviewer.bench.history_codec``)
in blocks of 100 samples (one sensor, 10 s at 10 Hz), bytes per sample with the header; lz4 is
pyarrow's, standing in for TOAST's:

=========================================  =====  =====  =====  ========================
data                                       plain  +lz4   +zstd  encode / decode, M/s
=========================================  =====  =====  =====  ========================
mine demo simulator (5 Hz, float64 values)  8.19   6.82   6.70   1.9 / 8.7
noisy float64 values, 10 Hz, ms jitter      9.26   7.85   7.74   3.6 / 5.2
benchmark feed (float32-exact, random t)    7.24   5.76   5.65   4.0 / 7.9
=========================================  =====  =====  =====  ========================

(the raw columns would take 16 bytes). zstd saves 1-2% more than lz4 but costs a Python call
per block to decompress (~30 us each here, with the block rebuilt), which at(t) over 10,000
sensors (one block per sensor) cannot afford, while PostgreSQL decompresses TOAST in C as it
reads. So the store writes plain blocks and leaves compression to TOAST (``SET COMPRESSION
lz4`` on the chunks' ``data``). Caveat measured in the database: PostgreSQL only compresses
rows of more than ~2 kB (``TOAST_TUPLE_THRESHOLD``; ``toast_tuple_target`` does not lower
it for inserts), so 10 s blocks at 10 Hz (~700 bytes) are stored plain: the "plain" column is
what the store holds today; longer blocks (30 s and more) would get the lz4 column. zstd is
kept in the format (magic 2) for the measurement.
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
        ("pad", "V2"),
        ("n", "<u4"),
        ("first", "<i8"),
        ("d0", "<i8"),
    ]
)
HEADER_SIZE = HEADER.itemsize  # 28
PLAIN, ZSTD = 1, 2
_GRIDS = (3, 6)  # ms, then us

U8 = NDArray[np.uint8]
I64 = NDArray[np.int64]
F64 = NDArray[np.float64]


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


def _width(zmax: NDArray[np.uint64]) -> I64:
    """Bytes needed for each unsigned value."""
    w = np.zeros(len(zmax), np.int64)
    for b in range(1, 9):
        w[zmax >= (np.uint64(1) << np.uint64(8 * (b - 1)))] = b
    return w


class Decoded(NamedTuple):
    """Blocks decoded one after the other: block i is ``[starts[i], starts[i+1])``."""

    t: F64
    v: F64
    q: U8
    tie: NDArray[np.uint32]
    starts: I64


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
    mode, x = _int_times(t, starts, g)
    # delta-of-deltas (wrapping int64 arithmetic is exact modulo 2^64, and so is the decoder)
    dx = np.zeros(n_all, np.int64)
    dx[1:] = x[1:] - x[:-1]
    ddx = np.zeros(n_all, np.int64)
    ddx[1:] = dx[1:] - dx[:-1]
    zz = ((ddx << 1) ^ (ddx >> 63)).view(np.uint64)
    zz[j < 2] = 0
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
    n_dod = np.maximum(counts - 2, 0)
    sizes = HEADER_SIZE + tw * n_dod + vw * counts + qf * counts + kw * counts
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
    hdr["n"] = counts
    hdr["first"] = x[starts]
    two = counts >= 2
    hdr["d0"][two] = dx[starts[two] + 1]
    out[offsets[:, None] + np.arange(HEADER_SIZE)] = hdr.view(np.uint8).reshape(k, HEADER_SIZE)
    vstart = offsets + HEADER_SIZE + tw * n_dod  # where each block's values begin
    for w in np.unique(tw[tw > 0]).tolist():  # dod planes, one width class at a time
        blocks = np.flatnonzero(tw == w)
        b, jj = _elements(blocks, n_dod[blocks])
        src = zz[starts[b] + 2 + jj]
        dst = offsets[b] + HEADER_SIZE + jj
        step = n_dod[b]
        for p in range(w):
            out[dst + p * step] = (src >> np.uint64(8 * p)).astype(np.uint8)
    for w in (4, 8):  # value planes
        blocks = np.flatnonzero(vw == w)
        if not len(blocks):
            continue
        b, jj = _elements(blocks, counts[blocks])
        src_i = starts[b] + jj
        bits = v32[src_i].view(np.uint32) if w == 4 else v[src_i].view(np.uint64)
        dst = vstart[b] + jj
        step = counts[b]
        for p in range(w):
            out[dst + p * step] = (bits >> (8 * p)).astype(np.uint8)
        qb = qf[b] == 1
        if qb.any():
            out[(dst + w * step)[qb]] = qa[src_i[qb]]
    kstart = vstart + (vw + qf) * counts
    for w in np.unique(kw[kw > 0]).tolist():
        _put_planes(out, np.flatnonzero(kw == w), counts, kstart, starts, ka, w)
    return out, offsets, sizes


def _times(buf: U8, offsets: I64) -> tuple[U8, I64, np.ndarray, F64, I64]:
    """The times of the blocks at ``offsets``: ``(buf, offsets, headers, t, starts)`` (zstd
    blocks decompressed: the buffer and offsets returned are the plain ones)."""
    buf = np.asarray(buf, np.uint8)
    offsets = np.asarray(offsets, np.int64)
    k = len(offsets)
    hdr = buf[offsets[:, None] + np.arange(HEADER_SIZE)].copy().view(HEADER).reshape(k)
    if (hdr["magic"] == ZSTD).any():
        buf, offsets = _unzstd(buf, offsets, hdr)
    counts = hdr["n"].astype(np.int64)
    n_all = int(counts.sum())
    starts = np.zeros(k, np.int64)
    starts[1:] = np.cumsum(counts)[:-1]
    tw = hdr["tw"].astype(np.int64)
    n_dod = np.maximum(counts - 2, 0)
    step = np.zeros(n_all, np.int64)  # the delta-of-deltas, then d0 at position 1
    for w in np.unique(tw[tw > 0]).tolist():
        blocks = np.flatnonzero(tw == w)
        b, jj = _elements(blocks, n_dod[blocks])
        src = offsets[b] + HEADER_SIZE + jj
        nd = n_dod[b]
        acc = buf[src].astype(np.uint64)
        for p in range(1, w):
            acc |= buf[src + p * nd].astype(np.uint64) << np.uint64(8 * p)
        step[starts[b] + 2 + jj] = (acc >> np.uint64(1)).view(np.int64) ^ -(
            acc & np.uint64(1)
        ).view(np.int64)
    two = counts >= 2
    step[starts[two] + 1] = hdr["d0"][two]
    # d_j = d0 + sum of dods up to j; x_j = first + sum of d up to j (segmented cumsums)
    d = _segcumsum(step, starts, counts)
    d[starts] = hdr["first"]
    x = _segcumsum(d, starts, counts)
    t = x.view(np.float64).copy()
    for kk in _GRIDS:
        blocks = np.flatnonzero(hdr["tmode"] == kk)
        if len(blocks) == k:
            t = x.astype(np.float64) / 10.0**kk
        elif len(blocks):
            b, jj = _elements(blocks, counts[blocks])
            i = starts[b] + jj
            t[i] = x[i].astype(np.float64) / 10.0**kk
    return buf, offsets, hdr, t, starts


def decode_many(buf: U8, offsets: I64) -> Decoded:
    """Decode the blocks starting at ``offsets`` of ``buf``, one after the other."""
    buf = np.asarray(buf, np.uint8)
    offsets = np.asarray(offsets, np.int64)
    if len(offsets) == 0:
        z = np.zeros(0)
        return Decoded(z, z.copy(), np.zeros(0, np.uint8), np.zeros(0, np.uint32), z.astype(int))
    buf, offsets, hdr, t, starts = _times(buf, offsets)
    counts = hdr["n"].astype(np.int64)
    n_all = len(t)
    tw = hdr["tw"].astype(np.int64)
    vw = hdr["vw"].astype(np.int64)
    n_dod = np.maximum(counts - 2, 0)
    v = np.zeros(n_all, np.float64)
    q = np.zeros(n_all, np.uint8)
    vstart = offsets + HEADER_SIZE + tw * n_dod
    for w, ut, ft in ((4, np.uint32, np.float32), (8, np.uint64, np.float64)):
        blocks = np.flatnonzero(vw == w)
        if not len(blocks):
            continue
        b, jj = _elements(blocks, counts[blocks])
        src = vstart[b] + jj
        cb = counts[b]
        acc = buf[src].astype(ut)
        for p in range(1, w):
            acc |= buf[src + p * cb].astype(ut) << ut(8 * p)
        i = starts[b] + jj
        v[i] = acc.view(ft)
        qb = hdr["qf"][b] == 1
        if qb.any():
            q[i[qb]] = buf[(src + w * cb)[qb]]
    tie = np.zeros(n_all, np.uint32)
    kw = hdr["kw"].astype(np.int64)
    kstart = vstart + (vw + hdr["qf"].astype(np.int64)) * counts
    for w in np.unique(kw[kw > 0]).tolist():
        i, val = _get_planes(buf, np.flatnonzero(kw == w), counts, kstart, starts, w)
        tie[i] = val
    return Decoded(t, v, q, tie, starts)


def times_and_values_at(buf: U8, offsets: I64, t: float) -> tuple[F64, F64]:
    """For each block at ``offsets`` (its first time at or before ``t``): the time and value of
    its last sample at or before ``t``. Only the times are decoded, then one value per block
    is read from its byte planes (what the state at t needs)."""
    buf, offsets, hdr, times, starts = _times(
        np.asarray(buf, np.uint8), np.asarray(offsets, np.int64)
    )
    counts = hdr["n"].astype(np.int64)
    upto = np.add.reduceat((times <= t).astype(np.int64), starts)
    j = np.clip(upto, 1, counts) - 1  # the index of that sample in its block
    n_dod = np.maximum(counts - 2, 0)
    vw = hdr["vw"].astype(np.int64)
    src = offsets + HEADER_SIZE + hdr["tw"].astype(np.int64) * n_dod + j
    acc = np.zeros(len(offsets), np.uint64)
    for p in range(8):
        m = vw > p
        acc[m] |= buf[src[m] + p * counts[m]].astype(np.uint64) << np.uint64(8 * p)
    v = acc.view(np.float64).copy()
    m4 = vw == 4
    v[m4] = acc[m4].astype(np.uint32).view(np.float32).astype(np.float64)
    return times[starts + j], v


def _segcumsum(a: I64, starts: I64, counts: I64) -> I64:
    """Cumulative sums restarting at every block start (wrapping int64)."""
    c = np.cumsum(a)
    before = np.zeros(len(starts), np.int64)
    before[1:] = c[starts[1:] - 1]
    return c - np.repeat(before, counts)


def zstd_blocks(buf: U8, offsets: I64, sizes: I64, level: int = 3) -> list[bytes]:
    """Each block with its payload (all after the header) compressed by zstd (magic 2)."""
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
        n, tw, vw, qf = int(h["n"]), int(h["tw"]), int(h["vw"]), int(h["qf"])
        size = tw * max(n - 2, 0) + (vw + qf + int(h["kw"])) * n
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
