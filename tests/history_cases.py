"""What the history tests of both backends share: random histories (hypothesis strategies) and
brute-force answers to check the stores against."""

from __future__ import annotations

import math

from hypothesis import strategies as st

IDS = [f"sensor-{i}" for i in range(6)]

# one sample: (sensor, time, value); times from a small set so that duplicates are common
sample = st.tuples(
    st.integers(0, len(IDS) - 1),
    st.integers(0, 40).map(lambda k: 1.7e9 + k * 0.25),
    st.one_of(
        st.integers(-50, 50).map(float),  # float32-exact: stored as float32
        st.floats(-1e6, 1e6, allow_nan=False).map(lambda x: x + 0.1),  # needs float64
    ),
)
# a history: batches, each followed by a flush or not, and a reopen point
history = st.lists(
    st.tuples(st.lists(sample, min_size=1, max_size=12), st.booleans()), min_size=1, max_size=6
)


def brute_at(samples: list[tuple[int, float, float]], t: float, n: int) -> tuple[list, list]:
    """Latest at or before t per sensor; ties: the sample appended last (later in the list)."""
    value = [math.nan] * n
    when = [math.nan] * n
    for s, ts, v in samples:  # in append order: a later one wins a tie
        if ts <= t and (math.isnan(when[s]) or ts >= when[s]):
            value[s], when[s] = v, ts
    return value, when


def check_buckets(samples, sensor, t0, t1, pixels, out, exact_last: bool) -> None:
    t, vmin, vmax, vlast = out
    mine = [(ts, v) for s, ts, v in samples if s == sensor]  # append order
    inside = [x for x in mine if t0 <= x[0] <= t1]
    assert len(t) == len(vmin) == len(vmax) == len(vlast)
    if len(inside) == 0:
        return
    assert len(t) > 0
    assert t[0] <= min(x[0] for x in inside)
    for i in range(len(t)):
        hi = t[i + 1] if i + 1 < len(t) else None
        if hi is None:
            got = [x for x in mine if x[0] >= t[i] and x[0] <= (t1 if exact_last else t1)]
        else:
            got = [x for x in mine if t[i] <= x[0] < hi]
        vals = [v for _, v in got if not math.isnan(v)]  # NaN is in no min or max
        if hi is None and not exact_last:  # the last bucket may reach beyond t1
            # (a block that starts exactly at t1 may hold only samples after it)
            if vals:
                assert vmin[i] <= min(vals) and vmax[i] >= max(vals)
            continue
        assert got, f"bucket {i} at {t[i]} holds no sample"
        assert _same(vmin[i], min(vals) if vals else math.nan), i
        assert _same(vmax[i], max(vals) if vals else math.nan), i
        last_t = max(x[0] for x in got)
        assert _same(vlast[i], [v for ts, v in got if ts == last_t][-1]), i


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b
