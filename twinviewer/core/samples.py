"""Sample batches (the one thing sources emit) and the latest-value state they update."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class SampleBatch:
    """Columnar samples: ``sensor[i]`` (index into the project's sensors) had ``value[i]`` at
    ``time[i]`` (seconds since the Unix epoch, or simulated seconds).

    Never one object per sample."""

    sensor: NDArray[np.int32]
    time: NDArray[np.float64]
    value: NDArray[np.float64]

    def __post_init__(self) -> None:
        if not (len(self.sensor) == len(self.time) == len(self.value)):
            raise ValueError(
                f"batch columns differ in length: sensor {len(self.sensor)}, "
                f"time {len(self.time)}, value {len(self.value)}"
            )

    def __len__(self) -> int:
        return len(self.sensor)

    @classmethod
    def of(cls, sensor: object, time: object, value: object) -> SampleBatch:
        return cls(
            np.asarray(sensor, np.int32).ravel(),
            np.asarray(time, np.float64).ravel(),
            np.asarray(value, np.float64).ravel(),
        )

    @classmethod
    def concat(cls, batches: list[SampleBatch]) -> SampleBatch:
        if len(batches) == 1:
            return batches[0]
        return cls(
            np.concatenate([b.sensor for b in batches]),
            np.concatenate([b.time for b in batches]),
            np.concatenate([b.value for b in batches]),
        )


class LatestState:
    """The latest value and time of every sensor. Updated from batches, vectorised.

    A sample older than the one held is ignored (late or replayed data never moves the present
    backwards). Not thread-safe: it is owned by the thread that draws (see :class:`BatchQueue`).
    """

    def __init__(self, n_sensors: int) -> None:
        self.value = np.full(n_sensors, np.nan)
        self.time = np.full(n_sensors, np.nan)
        self.samples = 0  # accepted samples so far
        self.version = 0  # bumped on every change, so views can skip work when nothing moved

    @property
    def n(self) -> int:
        return len(self.value)

    def apply(self, batch: SampleBatch) -> int:
        """Take a batch in; returns how many sensors changed."""
        if len(batch) == 0:
            return 0
        s, t, v = batch.sensor, batch.time, batch.value
        ok = (s >= 0) & (s < self.n) & np.isfinite(t)
        if not ok.all():
            s, t, v = s[ok], t[ok], v[ok]
        if len(s) == 0:
            return 0
        order = np.lexsort((t, s))  # by sensor, then time: the last of each run is the newest
        s, t, v = s[order], t[order], v[order]
        last = np.ones(len(s), bool)
        last[:-1] = s[1:] != s[:-1]
        s, t, v = s[last], t[last], v[last]
        held = self.time[s]
        newer = np.isnan(held) | (t >= held)
        s, t, v = s[newer], t[newer], v[newer]
        self.value[s] = v
        self.time[s] = t
        self.samples += int(ok.sum())
        if len(s):
            self.version += 1
        return int(len(s))


class BatchQueue:
    """Hands batches from source threads to the thread that owns the state. Thread-safe.

    Sources call :meth:`put` from their own threads; the drawing side calls :meth:`drain` once
    per frame and gets everything that arrived as one batch.
    """

    def __init__(self) -> None:
        self._items: deque[SampleBatch] = deque()
        self._lock = threading.Lock()

    def put(self, batch: SampleBatch) -> None:
        with self._lock:
            self._items.append(batch)

    def drain(self) -> SampleBatch | None:
        with self._lock:
            if not self._items:
                return None
            items = list(self._items)
            self._items.clear()
        return SampleBatch.concat(items)


F64 = NDArray[np.float64]


class SampleReader(Protocol):
    """What a reader of recorded samples needs of a history store (embedded or PostgreSQL)."""

    @property
    def sensor_ids(self) -> list[str]: ...

    def read(self, t0: float = ..., t1: float = ...) -> tuple[NDArray[np.int64], F64, F64]: ...

    def time_range(self) -> tuple[float, float] | None: ...


def read_after(
    store: SampleReader,
    project_ids: Sequence[str],
    after: float,
    until: float | None = None,
    window: float = 3600.0,
) -> Iterator[tuple[NDArray[np.int64], F64, F64, float]]:
    """The samples ``store`` holds after ``after`` up to ``until`` (default: all), one time
    ``window`` at a time so memory stays bounded: ``(sensor, time, value, window end)`` with the
    store's sensor indices turned into indices of ``project_ids`` (sensors the project does not
    name are left out). Every window is yielded, empty or not, so a reader can move its clock.
    """
    held = store.time_range()
    if held is None:
        return
    index = {sid: i for i, sid in enumerate(project_ids)}

    def mapping() -> NDArray[np.int64]:
        return np.array([index.get(sid, -1) for sid in store.sensor_ids], np.int64)

    to_project = mapping()
    lo = max(after, held[0] - 1.0)
    hi = held[1] if until is None else min(until, held[1])
    while lo < hi:
        top = min(hi, lo + window)
        s, t, v = store.read(float(np.nextafter(lo, np.inf)), top)
        if len(s) and int(s.max()) >= len(to_project):  # the store learnt new sensors meanwhile
            to_project = mapping()
        ps = to_project[s] if len(s) else np.zeros(0, np.int64)
        keep = ps >= 0
        yield ps[keep], t[keep], v[keep], top
        lo = top
