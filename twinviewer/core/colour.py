"""Colour rules: sensor values to status and colour, sensors to component colours. Vectorised.

Everything here works on whole arrays (one entry per sensor or per component) so that recolouring
10,000 components is a handful of numpy operations, whatever the number of sensors.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from numpy.typing import NDArray


class Status(IntEnum):
    """Sensor status, ordered by severity: a component shows its worst sensor."""

    UNBOUND = 0  # a component with no sensor
    NO_DATA = 1
    NORMAL = 2
    STALE = 3
    WARNING = 4
    ALARM = 5


STATUS_LABELS = {
    Status.UNBOUND: "no sensor",
    Status.NO_DATA: "no data",
    Status.NORMAL: "normal",
    Status.STALE: "stale",
    Status.WARNING: "warning",
    Status.ALARM: "alarm",
}

# RGBA uint8 for the states that are not a value on a colour map.
NEUTRAL = np.array([176, 182, 190, 255], np.uint8)  # a part with no sensor: light steel
#: What a component with nothing to compare is drawn in under residual or difference colours.
BACKDROP = np.array([128, 132, 140, 255], np.uint8)
NO_DATA_COLOUR = np.array([120, 120, 120, 255], np.uint8)  # bound, nothing received yet
STALE_COLOUR = np.array([92, 78, 110, 255], np.uint8)  # had data, too old: muted violet-grey
WARNING_COLOUR = np.array([255, 170, 0, 255], np.uint8)
ALARM_COLOUR = np.array([230, 25, 40, 255], np.uint8)
STATUS_COLOURS = {
    Status.UNBOUND: NEUTRAL,
    Status.NO_DATA: NO_DATA_COLOUR,
    Status.NORMAL: np.array([40, 170, 90, 255], np.uint8),
    Status.STALE: STALE_COLOUR,
    Status.WARNING: WARNING_COLOUR,
    Status.ALARM: ALARM_COLOUR,
}

# Colour maps as evenly spaced anchors (sRGB 0-255), interpolated linearly into 256-entry tables.
# The anchors are samples of the well-known perceptual maps of the same names.
_ANCHORS: dict[str, list[tuple[int, int, int]]] = {
    "viridis": [
        (68, 1, 84),
        (72, 40, 120),
        (62, 74, 137),
        (49, 104, 142),
        (38, 130, 142),
        (31, 158, 137),
        (53, 183, 121),
        (110, 206, 88),
        (181, 222, 43),
        (253, 231, 37),
    ],
    "plasma": [
        (13, 8, 135),
        (84, 2, 163),
        (139, 10, 165),
        (185, 50, 137),
        (219, 92, 104),
        (244, 136, 73),
        (254, 188, 43),
        (240, 249, 33),
    ],
    "inferno": [
        (0, 0, 4),
        (40, 11, 84),
        (101, 21, 110),
        (159, 42, 99),
        (212, 72, 66),
        (245, 125, 21),
        (250, 193, 39),
        (252, 255, 164),
    ],
    "magma": [
        (0, 0, 4),
        (28, 16, 68),
        (79, 18, 123),
        (129, 37, 129),
        (181, 54, 122),
        (229, 80, 100),
        (251, 135, 97),
        (254, 194, 135),
        (252, 253, 191),
    ],
    "cividis": [
        (0, 34, 78),
        (40, 60, 110),
        (85, 91, 109),
        (124, 123, 120),
        (166, 157, 117),
        (212, 194, 97),
        (255, 234, 70),
    ],
    "turbo": [
        (48, 18, 59),
        (70, 107, 227),
        (40, 187, 236),
        (50, 241, 152),
        (164, 252, 60),
        (237, 208, 58),
        (251, 128, 34),
        (210, 49, 5),
        (122, 4, 3),
    ],
    "coolwarm": [
        (59, 76, 192),
        (98, 130, 234),
        (141, 176, 254),
        (184, 208, 249),
        (221, 221, 221),
        (245, 196, 173),
        (244, 154, 123),
        (222, 96, 77),
        (180, 4, 38),
    ],
    "blues": [(247, 251, 255), (198, 219, 239), (107, 174, 214), (33, 113, 181), (8, 48, 107)],
    "reds": [(255, 245, 240), (252, 187, 161), (251, 106, 74), (203, 24, 29), (103, 0, 13)],
    "greens": [(247, 252, 245), (199, 233, 192), (116, 196, 118), (35, 139, 69), (0, 68, 27)],
    "thermal": [
        (20, 40, 120),
        (40, 120, 200),
        (80, 190, 160),
        (230, 220, 80),
        (240, 120, 40),
        (200, 30, 30),
    ],
}
TABLE_SIZE = 256
DEADBAND_FRACTION = 0.02  # default alarm deadband: 2% of the sensor's range


def _table(anchors: list[tuple[int, int, int]]) -> NDArray[np.uint8]:
    a = np.asarray(anchors, float)
    x = np.linspace(0, 1, len(a))
    xs = np.linspace(0, 1, TABLE_SIZE)
    rgb = np.stack([np.interp(xs, x, a[:, k]) for k in range(3)], axis=1)
    out = np.empty((TABLE_SIZE, 4), np.uint8)
    out[:, :3] = np.round(rgb).astype(np.uint8)
    out[:, 3] = 255
    return out


COLORMAPS: dict[str, NDArray[np.uint8]] = {name: _table(a) for name, a in _ANCHORS.items()}


def colormap_table(name: str) -> NDArray[np.uint8]:
    """The 256x4 RGBA table of a colour map (raises ``KeyError`` for an unknown name)."""
    return COLORMAPS[name]


@dataclass
class SensorRules:
    """Per-sensor rule arrays, built once from the project's sensors (NaN = no limit)."""

    lo: NDArray[np.float64]
    hi: NDArray[np.float64]
    warn_low: NDArray[np.float64]
    warn_high: NDArray[np.float64]
    alarm_low: NDArray[np.float64]
    alarm_high: NDArray[np.float64]
    stale_after: NDArray[np.float64]
    colormap: NDArray[np.int32]  # index into ``cmap_tables``
    cmap_tables: NDArray[np.uint8]  # (n_maps, 256, 4)
    deadband: NDArray[np.float64]  # alarm hysteresis, in the sensor's unit

    @property
    def n(self) -> int:
        return len(self.lo)

    @classmethod
    def from_sensors(cls, sensors: list) -> SensorRules:
        """Build from :class:`twinviewer.core.project.Sensor` objects."""

        def limit(s: object, band: str, side: str) -> float:
            b = getattr(s, band)
            v = getattr(b, side) if b is not None else None
            return np.nan if v is None else float(v)

        names = sorted({s.colormap for s in sensors}) or ["viridis"]
        index = {n: i for i, n in enumerate(names)}
        return cls(
            lo=np.array([s.range[0] for s in sensors], float),
            hi=np.array([s.range[1] for s in sensors], float),
            warn_low=np.array([limit(s, "warning", "low") for s in sensors], float),
            warn_high=np.array([limit(s, "warning", "high") for s in sensors], float),
            alarm_low=np.array([limit(s, "alarm", "low") for s in sensors], float),
            alarm_high=np.array([limit(s, "alarm", "high") for s in sensors], float),
            stale_after=np.array([s.stale_after for s in sensors], float),
            deadband=np.array(
                [
                    DEADBAND_FRACTION * (s.range[1] - s.range[0])
                    if getattr(s, "deadband", None) is None
                    else s.deadband
                    for s in sensors
                ],
                float,
            ),
            colormap=np.array([index[s.colormap] for s in sensors], np.int32),
            cmap_tables=np.stack([COLORMAPS[n] for n in names]),
        )


def sensor_status(
    rules: SensorRules, value: NDArray[np.float64], time: NDArray[np.float64], now: float
) -> NDArray[np.int8]:
    """Status of every sensor from its latest value and time (NaN time = never received)."""
    status = np.full(rules.n, Status.NORMAL, np.int8)
    with np.errstate(invalid="ignore"):
        warn = (value < rules.warn_low) | (value > rules.warn_high)
        alarm = (value < rules.alarm_low) | (value > rules.alarm_high)
        stale = (now - time) > rules.stale_after
    status[warn] = Status.WARNING
    status[alarm] = Status.ALARM
    status[stale] = Status.STALE  # an old alarm is not a current alarm: stale wins
    status[np.isnan(time) | np.isnan(value)] = Status.NO_DATA
    return status


def normalise(
    value: NDArray[np.float64], lo: NDArray[np.float64] | float, hi: NDArray[np.float64] | float
) -> NDArray[np.float64]:
    """Value to 0..1 over [lo, hi], clipped; NaN stays NaN."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.clip((value - lo) / (np.asarray(hi) - lo), 0.0, 1.0)


def sensor_colours(
    rules: SensorRules,
    value: NDArray[np.float64],
    status: NDArray[np.int8],
    lo: NDArray[np.float64] | None = None,
    hi: NDArray[np.float64] | None = None,
    table: NDArray[np.uint8] | None = None,
) -> NDArray[np.uint8]:
    """RGBA per sensor: colour map over [lo, hi] (default: each sensor's range) when normal,
    threshold colours in warning and alarm, grey shades without (fresh) data.

    ``table`` puts every sensor on one colour map (so that one legend explains the picture);
    by default each sensor uses its own.
    """
    frac = normalise(value, rules.lo if lo is None else lo, rules.hi if hi is None else hi)
    idx = np.nan_to_num(frac * (TABLE_SIZE - 1), nan=0.0).astype(np.int32)
    rgba = table[idx] if table is not None else rules.cmap_tables[rules.colormap, idx]
    for st in (Status.WARNING, Status.ALARM, Status.STALE, Status.NO_DATA):
        rgba[status == st] = STATUS_COLOURS[st]
    return rgba


@dataclass
class ComponentBinding:
    """Which sensors colour which components: one row per (sensor, leaf component) pair.

    A sensor bound to a group colours every component below it, so pairs are expanded to the
    components that own triangles (or any component; the colour of a group is not drawn).
    """

    n_components: int
    pair_sensor: NDArray[np.int32]
    pair_component: NDArray[np.int32]

    def sensors_of(self, component: int) -> NDArray[np.int32]:
        return self.pair_sensor[self.pair_component == component]


def component_colours(
    binding: ComponentBinding,
    sensor_rgba: NDArray[np.uint8],
    sensor_rank: NDArray[np.float64],
    base: NDArray[np.uint8],
    eligible: NDArray[np.bool_] | None = None,
    out: NDArray[np.uint8] | None = None,
) -> tuple[NDArray[np.uint8], NDArray[np.int32]]:
    """Colour each component by its highest-ranked sensor.

    ``sensor_rank`` orders the sensors of one component (worst status first, then the highest
    normalised value); sensors where ``eligible`` is False (another quantity) are ignored.
    Components without an eligible sensor keep their ``base`` colour. Returns the (C, 4) colours
    and, per component, the index of the sensor shown (-1 for none).
    """
    colours = out if out is not None else np.empty_like(base)
    colours[:] = base
    shown = np.full(binding.n_components, -1, np.int32)
    ps, pc = binding.pair_sensor, binding.pair_component
    if len(ps) == 0:
        return colours, shown
    rank = sensor_rank[ps]
    if eligible is not None:
        rank = np.where(eligible[ps], rank, -np.inf)
    best = np.full(binding.n_components, -np.inf)
    np.maximum.at(best, pc, rank)
    win = (rank == best[pc]) & np.isfinite(rank)
    shown[pc[win]] = ps[win]
    has = shown >= 0
    colours[has] = sensor_rgba[shown[has]]
    return colours, shown


def sensor_rank(status: NDArray[np.int8], frac: NDArray[np.float64]) -> NDArray[np.float64]:
    """Status first (alarm > warning > stale > normal > no data), then how high in its range."""
    return status.astype(np.float64) * 2.0 + np.nan_to_num(frac, nan=0.0)


def component_status(
    binding: ComponentBinding, status: NDArray[np.int8], eligible: NDArray[np.bool_] | None = None
) -> NDArray[np.int8]:
    """Worst status of each component's (eligible) sensors; UNBOUND where it has none."""
    out = np.zeros(binding.n_components, np.int8)
    ps, pc = binding.pair_sensor, binding.pair_component
    if len(ps):
        st = status[ps] if eligible is None else np.where(eligible[ps], status[ps], 0)
        np.maximum.at(out, pc, st.astype(np.int8))
    return out
