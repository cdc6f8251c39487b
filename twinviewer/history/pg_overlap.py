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
  held at those times when the decision began (the database holds ``m`` copies: the first
  ``m`` in feed order are taken as held), and a sample identical to one this writer already
  found held or decided to write is not written again (an MQTT QoS 1 message delivered before
  a recorder was killed is delivered again to its session: its spool and its feed then hold
  it twice).

A recorder's own leftover spool is decided with ``remember``: its samples count as written and
raise ``T``, so that its MQTT session delivering them again after the restart writes nothing
twice. The database is read once over the times of those candidates (in clusters, so that a late
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
        self.held = 0  # samples found held (or written already), over every call
        self.read_samples = 0  # samples read from the database to match candidates
        self._counts: Counter = Counter()  # key -> copies of others not matched yet
        self._known: set[tuple[int, float, float | str]] = set()  # keys counted in the database
        self._written: set[tuple[int, float, float | str]] = set()  # keys held or written

    def unheld(
        self,
        batches: Sequence[tuple[NDArray[np.int32], NDArray[np.float64], NDArray[np.float64]]],
        *,
        remember: bool = False,
    ) -> list[NDArray[np.bool_]]:
        """Per batch ``(project sensor, time, value)`` in feed order: a mask of the samples to
        write (module docstring). Sensors out of range are left to the store (kept).
        ``remember``: also the samples written because they are newer than ``T`` count as
        written, and ``T`` rises to the newest of them (a recorder's leftover spool, which its
        MQTT session may deliver again)."""
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
            if remember:
                self._remember(batches, masks)
            return masks
        keys = [
            list(
                map(
                    _key,
                    batches[b][0][i].tolist(),
                    batches[b][1][i].tolist(),
                    batches[b][2][i].tolist(),
                )
            )
            for b, i in cand
        ]
        new = {k for ks in keys for k in ks} - self._known
        if new:  # the database's copies of keys never decided before (none of them ours)
            self._counts.update(self._held_counts(new))
            self._known |= new
        counts, written = self._counts, self._written
        for (b, idx), ks in zip(cand, keys, strict=True):
            for j, key in zip(idx.tolist(), ks, strict=True):
                if counts.get(key, 0) > 0:
                    counts[key] -= 1  # the database has this one
                    self.held += 1
                    written.add(key)  # held: a copy delivered again is not written either
                elif key in written:
                    self.held += 1  # delivered twice: held or written once
                else:
                    written.add(key)
                    masks[b][j] = True
        if remember:
            self._remember(batches, masks)
        return masks

    def _remember(
        self,
        batches: Sequence[tuple[NDArray[np.int32], NDArray[np.float64], NDArray[np.float64]]],
        masks: list[NDArray[np.bool_]],
    ) -> None:
        n = len(self.ids)
        for (s, t, v), m in zip(batches, masks, strict=True):
            ok = m & (s >= 0) & (s < n)
            if ok.any():
                self._written.update(map(_key, s[ok].tolist(), t[ok].tolist(), v[ok].tolist()))
                np.maximum.at(self.newest, s[ok], t[ok])

    def _held_counts(self, keys: set[tuple[int, float, float | str]]) -> Counter:
        """``(project sensor, time, value)`` -> how many the database holds, for ``keys`` (read
        over clusters of their times)."""
        times = np.array(sorted({k[1] for k in keys}), np.float64)
        where = {sid: i for i, sid in enumerate(self.ids)}
        store_ids = self.store.sensor_ids
        to_proj = np.array([where.get(x, -1) for x in store_ids] + [-1], np.int64)
        u = times
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
                key = _key(p, t, v)
                if key in keys:
                    counts[key] += 1
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
