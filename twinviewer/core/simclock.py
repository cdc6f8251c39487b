"""The clock of a simulation overlay: twin time (Unix seconds) <-> simulation time.

``twin = origin + offset + scale * sim`` (see :class:`twinviewer.core.project.OverlayTime`).
The origin ``session`` and the scale ``simulator`` are resolved when the twin is opened: the
session's start time and one over the project's simulator speed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from twinviewer.core.project import OverlayTime, Project


@dataclass(frozen=True)
class SimClock:
    origin: float  # twin time (Unix seconds) of simulation time 0, offset included
    scale: float  # twin seconds per simulation second
    step_index: bool = False  # the steps' indices are their simulation times
    interpolate: bool = True
    repeat: tuple[float, float] | None = None  # past repeat[1], wrap back to repeat[0]

    @classmethod
    def of(cls, cfg: OverlayTime, session_start: float, simulator_speed: float = 1.0) -> SimClock:
        if cfg.origin == "session":
            origin = session_start
        else:
            dt = datetime.fromisoformat(cfg.origin.replace("Z", "+00:00"))
            if dt.tzinfo is None:
                dt = dt.replace(tzinfo=timezone.utc)
            origin = dt.timestamp()
        scale = 1.0 / simulator_speed if cfg.scale == "simulator" else float(cfg.scale)
        return cls(
            origin + cfg.offset, scale, cfg.mode == "step_index", cfg.interpolate, cfg.repeat
        )

    def to_sim(self, t: float) -> float:
        sim = (t - self.origin) / self.scale
        if self.repeat is not None and sim > self.repeat[1]:
            a, b = self.repeat
            sim = a + (sim - a) % (b - a)
        return sim

    def to_twin(self, sim: float) -> float:
        return self.origin + self.scale * sim


def simulator_speed(project: Project, override: float | None = None) -> float:
    """The speed of the project's (first enabled) simulator, for ``scale: simulator``."""
    if override is not None:
        return float(override)
    for src in project.sources:
        if src.type == "simulator" and src.enabled:
            return float(src.speed)
    return 1.0
