"""Which samples of a feed the database already holds, for a writer that follows another one.

Two recorders receive the same feed (a recorder and its hot standby, or a recorder restarted
with a spool left over from before another recorder took its place). When one of them becomes
the writer, what it holds that was received before it had the lock may already be in the
database, written by the other one. :class:`HeldSamples` decides, *once, before the new writer
writes anything*, what of it to write. The rule, per sensor, with ``T`` = the newest time the
database holds for the sensor when the decision is taken:

* a sample newer than ``T`` is written: the database cannot hold it;
* a sample at or before ``T`` (equal times, and *late* samples: the feed may deliver a sample
  older than one the other recorder had already committed) is written only if the database
  lacks it: the samples are matched by ``(sensor, time, value)`` against what the database
  holds at those times, as multisets (the database holds ``m`` copies, the candidates count
  ``k``: the first ``m`` in feed order are taken as held, the last ``k - m`` are written).

The database is read once over the times of those candidates (in clusters, so that a late
sample hours back does not read the hours between). Deciding before writing means the new
writer's own rows never count as the other one's. Gaps the sources reported are written unless
the database holds the same one (source, start, end, sensors).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from twinviewer.core.gaps import Gap

if TYPE_CHECKING:
    from twinviewer.history.postgres import PostgresHistoryStore

log = logging.getLogger(__name__)

CLUSTER_S = 60.0  # candidate times further apart than this are read from the database apart


def _key(s: int, t: float, v: float) -> tuple[int, float, float | str]:
    return (s, t, "nan" if v != v else v)


class HeldSamples:
    """The database's newest time per project sensor of ``ids`` now (``store`` must hold the
    writer lock, so that nobody else writes any more); :meth:`unheld` decides batches."""

    def __init__(self, store: PostgresHistoryStore, ids: Sequence[str]) -> None:
        self.store = store
        self.ids = list(ids)
        _, newest = store.at(np.inf)
        self.newest: NDArray[np.float64] = np.where(np.isnan(newest), -np.inf, newest)
        self.held = 0  # samples found held, over every call
        self.read_samples = 0  # samples read from the database to match candidates

    def unheld(
        self, batches: Sequence[tuple[NDArray[np.int32], NDArray[np.float64], NDArray[np.float64]]]
    ) -> list[NDArray[np.bool_]]:
        """Per batch ``(project sensor, time, value)`` in feed order: a mask of the samples to
        write (module docstring). Sensors out of range are left to the store (kept)."""
        n = len(self.ids)
        masks: list[NDArray[np.bool_]] = []
        cand: list[tuple[int, NDArray[np.intp]]] = []  # (batch, indices at or before T)
        for b, (s, t, _v) in enumerate(batches):
            ok = (s >= 0) & (s < n)
            older = ok & (t <= self.newest[np.clip(s, 0, max(n - 1, 0))])
            masks.append(~older)
            if older.any():
                cand.append((b, np.flatnonzero(older)))
        if not cand:
            return masks
        times = np.concatenate([batches[b][1][i] for b, i in cand])
        counts = self._held_counts(times, {int(x) for b, i in cand for x in batches[b][0][i]})
        for b, idx in cand:
            s, t, v = batches[b]
            for j, key in zip(
                idx.tolist(),
                map(_key, s[idx].tolist(), t[idx].tolist(), v[idx].tolist()),
                strict=True,
            ):
                if counts.get(key, 0) > 0:
                    counts[key] -= 1  # the database has this one
                    self.held += 1
                else:
                    masks[b][j] = True
        return masks

    def _held_counts(self, times: NDArray[np.float64], sensors: set[int]) -> Counter:
        """``(project sensor, time, value)`` -> how many the database holds, for ``sensors`` at
        ``times`` (read over clusters of those times)."""
        where = {sid: i for i, sid in enumerate(self.ids)}
        store_ids = self.store.sensor_ids
        to_proj = np.array([where.get(x, -1) for x in store_ids] + [-1], np.int64)
        wanted = set(np.unique(times).tolist())
        u = np.unique(times)
        breaks = np.flatnonzero(np.diff(u) > CLUSTER_S) + 1
        counts: Counter = Counter()
        for part in np.split(u, breaks):
            ss, tt, vv = self.store.read(float(part[0]), float(part[-1]))
            self.read_samples += len(tt)
            if len(store_ids) != len(to_proj) - 1:  # new sensors while reading
                store_ids = self.store.sensor_ids
                to_proj = np.array([where.get(x, -1) for x in store_ids] + [-1], np.int64)
            proj = to_proj[np.clip(ss, 0, len(to_proj) - 1)]
            for p, t, v in zip(proj.tolist(), tt.tolist(), vv.tolist(), strict=True):
                if p in sensors and t in wanted:
                    counts[_key(p, t, v)] += 1
        return counts


def unheld_gaps(store: PostgresHistoryStore, gaps: list[Gap]) -> list[Gap]:
    """The gaps the database does not hold already (same source, start, end and sensors)."""
    if not gaps:
        return []
    have = {
        (g.source, g.start, g.end, tuple(g.sensors))
        for g in store.gaps(min(g.start for g in gaps), max(g.end for g in gaps))
    }
    return [g for g in gaps if (g.source, g.start, g.end, tuple(g.sensors)) not in have]
