"""Alarm and warning intervals computed from recorded samples, incrementally.

An *interval* is a run of consecutive samples of one sensor at the same level (warning or
alarm): it starts at the first sample past a limit and ends at the first sample of the next run
(a different level). A level is left only once the value is back inside its limit by the
sensor's *deadband* (hysteresis, as alarm management standards such as ISA-18.2 ask), so noise
around a limit does not chatter. An interval whose sensor is still at that level has no end
yet (NaN). A sensor that goes from warning to alarm therefore has a warning interval that
ends where its alarm interval starts. The peak is the value furthest past the limit during
the interval.

Because they come from the samples and not from the live status, the intervals are the same for
live, replayed and imported data. :class:`AlarmLog` is fed time-ordered chunks (for example
every new second of the history store) and carries each sensor's open run from one chunk to the
next, so the work per chunk is a few vectorised passes over that chunk only.

Staleness is not an interval: a gap in the data leaves an interval running until a sample at a
different level arrives.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from twinviewer.core.colour import SensorRules, Status
from twinviewer.core.samples import SampleReader, read_after

log = logging.getLogger(__name__)

INTERVAL_DTYPE = np.dtype(
    [
        ("sensor", "<i4"),  # project sensor index
        ("level", "i1"),  # Status.WARNING or Status.ALARM
        ("start", "<f8"),
        ("end", "<f8"),  # NaN: still at this level
        ("peak", "<f8"),  # the value furthest past the limit
    ]
)

F64 = NDArray[np.float64]


def sample_levels(rules: SensorRules, sensor: NDArray[np.int64], value: F64) -> NDArray[np.int8]:
    """NORMAL, WARNING or ALARM of each sample from its sensor's limits alone (no deadband)."""
    with np.errstate(invalid="ignore"):
        warn = (value < rules.warn_low[sensor]) | (value > rules.warn_high[sensor])
        alarm = (value < rules.alarm_low[sensor]) | (value > rules.alarm_high[sensor])
    level = np.full(len(value), Status.NORMAL, np.int8)
    level[warn] = Status.WARNING
    level[alarm] = Status.ALARM
    return level


class AlarmLog:
    """Alarm and warning intervals of every sensor, built from time-ordered sample chunks."""

    def __init__(self, rules: SensorRules) -> None:
        self.rules = rules
        self.reset()

    def reset(self) -> None:
        n = self.rules.n
        self._closed: list[np.ndarray] = []
        self._closed_n = 0
        # each sensor's current run (level 0 = none yet)
        self._level = np.zeros(n, np.int8)
        self._start = np.full(n, np.nan)
        self._vmin = np.full(n, np.nan)
        self._vmax = np.full(n, np.nan)
        self._trig = np.zeros((n, 4), bool)  # warn high, alarm high, warn low, alarm low: on?
        self.processed_until = -np.inf  # every sample at or before this time has been fed
        self.samples = 0
        self.version = 0  # bumped whenever the intervals change

    def feed(self, sensor: NDArray[np.int64], time: F64, value: F64) -> None:
        """Add samples (project sensor indices) ordered by time, ties in append order; every
        one later than those fed before."""
        n = len(sensor)
        if n == 0:
            return
        sensor = np.asarray(sensor, np.int64)
        time = np.asarray(time, np.float64)
        value = np.asarray(value, np.float64)
        ok = np.isfinite(value) & (sensor >= 0) & (sensor < self.rules.n)
        if not ok.all():
            sensor, time, value = sensor[ok], time[ok], value[ok]
            n = len(sensor)
            if n == 0:
                return
        order = np.argsort(sensor, kind="stable")  # sensor-major, time order kept
        s, t, v = sensor[order], time[order], value[order]
        lev = self._levels(s, v)
        brk = np.r_[True, (s[1:] != s[:-1]) | (lev[1:] != lev[:-1])]
        st = np.flatnonzero(brk)
        rs, rl, r0 = s[st], lev[st], t[st]
        vmin = np.minimum.reduceat(v, st)
        vmax = np.maximum.reduceat(v, st)
        first = np.r_[True, rs[1:] != rs[:-1]]  # the first run of each sensor in this chunk
        last = np.r_[rs[1:] != rs[:-1], True]
        end = np.full(len(st), np.nan)
        end[:-1] = np.where(rs[1:] == rs[:-1], r0[1:], np.nan)

        # join each sensor's first run to the run carried over from the previous chunk
        fi = np.flatnonzero(first)
        fs = rs[fi]
        same = self._level[fs] == rl[fi]
        j, js = fi[same], fs[same]
        r0[j] = self._start[js]
        vmin[j] = np.fmin(vmin[j], self._vmin[js])
        vmax[j] = np.fmax(vmax[j], self._vmax[js])
        ended = fs[~same & (self._level[fs] >= Status.WARNING)]
        if len(ended):
            ends_at = r0[fi[~same & (self._level[fs] >= Status.WARNING)]]
            self._emit(
                ended,
                self._level[ended],
                self._start[ended],
                ends_at,
                self._vmin[ended],
                self._vmax[ended],
            )

        closed = ~last & (rl >= Status.WARNING)
        if closed.any():
            self._emit(rs[closed], rl[closed], r0[closed], end[closed], vmin[closed], vmax[closed])
        li = np.flatnonzero(last)
        ls = rs[li]
        self._level[ls] = rl[li]
        self._start[ls] = r0[li]
        self._vmin[ls] = vmin[li]
        self._vmax[ls] = vmax[li]
        self.processed_until = max(self.processed_until, float(time.max()))
        self.samples += n
        self.version += 1

    def _levels(self, s: NDArray[np.int64], v: F64) -> NDArray[np.int8]:
        """Each sample's level with hysteresis: every limit is a Schmitt trigger that switches
        on past the limit and off only once back inside it by the deadband; each sensor starts
        from the triggers carried over from the previous chunk. Vectorised: a sample that
        switches nothing takes the state of the last one that did (a running maximum of
        positions; the first sample of each sensor always counts, with the carried state)."""
        r = self.rules
        n = len(s)
        first = np.r_[True, s[1:] != s[:-1]]
        last = np.r_[s[1:] != s[:-1], True]
        idx = np.arange(n)
        db = r.deadband[s]
        on_any = np.zeros((4, n), bool)
        for k, (limit, high) in enumerate(
            ((r.warn_high, True), (r.alarm_high, True), (r.warn_low, False), (r.alarm_low, False))
        ):
            lim = limit[s]
            with np.errstate(invalid="ignore"):
                if high:
                    on, off = v > lim, ~(v > lim - db)  # no limit (NaN): always off
                else:
                    on, off = v < lim, ~(v < lim + db)
            val = np.where(on, True, np.where(off, False, self._trig[s, k]))
            pos = np.maximum.accumulate(np.where(on | off | first, idx, 0))
            state = val[pos]
            self._trig[s[last], k] = state[last]
            on_any[k] = state
        level = np.full(n, Status.NORMAL, np.int8)
        level[on_any[0] | on_any[2]] = Status.WARNING
        level[on_any[1] | on_any[3]] = Status.ALARM
        return level

    def _emit(
        self,
        sensor: NDArray[np.int64],
        level: NDArray[np.int8],
        start: F64,
        end: F64,
        vmin: F64,
        vmax: F64,
    ) -> None:
        rec = np.zeros(len(sensor), INTERVAL_DTYPE)
        rec["sensor"], rec["level"], rec["start"], rec["end"] = sensor, level, start, end
        rec["peak"] = self._peak(sensor, level, vmin, vmax)
        self._closed.append(rec)
        self._closed_n += len(rec)

    def _peak(
        self, sensor: NDArray[np.int64], level: NDArray[np.int8], vmin: F64, vmax: F64
    ) -> F64:
        r = self.rules
        high = np.where(level == Status.ALARM, r.alarm_high[sensor], r.warn_high[sensor])
        with np.errstate(invalid="ignore"):
            above = vmax > high  # NaN limit: False, so the low side
        return np.where(above, vmax, vmin)

    def intervals(self) -> np.ndarray:
        """Every interval, closed and open, sorted by start time (then sensor)."""
        if len(self._closed) > 1:
            self._closed = [np.concatenate(self._closed)]
        parts = list(self._closed)
        open_ = np.flatnonzero(self._level >= Status.WARNING)
        if len(open_):
            rec = np.zeros(len(open_), INTERVAL_DTYPE)
            rec["sensor"], rec["level"] = open_, self._level[open_]
            rec["start"], rec["end"] = self._start[open_], np.nan
            rec["peak"] = self._peak(
                open_, self._level[open_], self._vmin[open_], self._vmax[open_]
            )
            parts.append(rec)
        if not parts:
            return np.zeros(0, INTERVAL_DTYPE)
        out = np.concatenate(parts)
        return out[np.lexsort((out["sensor"], out["start"]))]


def catch_up(
    alarms: AlarmLog,
    store: SampleReader,
    project_ids: Sequence[str],
    until: float | None = None,
    window: float = 3600.0,
) -> int:
    """Feed ``alarms`` the samples the store holds after ``alarms.processed_until`` up to ``until``
    (default: everything), one time ``window`` at a time so memory stays bounded.
    Returns the number of samples fed."""
    fed = 0
    for s, t, v, top in read_after(store, project_ids, alarms.processed_until, until, window):
        if len(s):
            alarms.feed(s, t, v)
            fed += len(s)
        alarms.processed_until = max(alarms.processed_until, top)
    return fed


class Acknowledgements:
    """Which intervals an operator acknowledged, by ``(sensor id, start time)``; kept in a JSON
    file (beside the history) when a path is given, so they survive a restart."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._keys: dict[tuple[str, float], float] = {}  # -> when it was acknowledged
        if path is not None and path.exists():
            try:
                for row in json.loads(path.read_text())["acknowledged"]:
                    self._keys[(str(row["sensor"]), float(row["start"]))] = float(row["at"])
            except (ValueError, KeyError, TypeError) as exc:
                log.warning(
                    "alarms: %s is unreadable (%s); acknowledgements start afresh", path, exc
                )

    def __contains__(self, key: tuple[str, float]) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def acknowledge(self, keys: Sequence[tuple[str, float]], when: float) -> int:
        """Acknowledge these intervals; returns how many were new."""
        new = [k for k in keys if k not in self._keys]
        for k in new:
            self._keys[k] = when
        if new:
            self._save()
        return len(new)

    def _save(self) -> None:
        if self.path is None:
            return
        rows = [{"sensor": s, "start": t, "at": a} for (s, t), a in self._keys.items()]
        tmp = self.path.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps({"acknowledged": rows}))
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("alarms: could not save acknowledgements to %s: %s", self.path, exc)
