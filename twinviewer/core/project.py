"""The twin project file (``*.twin.yaml``): schema, loading and precise error messages.

The file is YAML read with ``yaml.safe_load`` (nothing in it is ever executed) and validated by
pydantic models that forbid unknown keys, so a misspelled key is an error that names the key, its
line, and the keys that were expected.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from twinviewer.core.colour import COLORMAPS
from twinviewer.core.project_commands import (
    Command,
    CommandSettings,
    MqttTarget,
    filter_matches,
    topic_filter,
)
from twinviewer.core.project_fleet import Fleet
from twinviewer.core.project_motion import Motion, Trip
from twinviewer.core.project_predict import Degradation, Prediction, PredictionGroup
from twinviewer.core.project_setpoints import Setpoint
from twinviewer.core.project_tours import (
    TIME_TAGS,
    Callout,
    Question,
    Replay,
    Section,
    Tour,
    TourCamera,
    TourError,
    TourStep,
    Transition,
    check_tours,
)

PROJECT_SUFFIXES = (".twin.yaml", ".twin.yml", ".yaml", ".yml")


def project_stem(path: str | Path) -> str:
    """``plant.twin.yaml`` -> ``plant``: the stem of the folders kept beside a project (its
    history, models, scenarios and review)."""
    name = Path(path).name
    for suffix in PROJECT_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class ModelRef(_Strict):
    """A model file, relative to the project file."""

    path: str = Field(description="Model file (glTF/GLB, OBJ, STL, PLY, 3MF, STEP, VTK), relative")


class ComponentSelector(_Strict):
    """Selects model nodes for a twin component, by exactly one of name, glob or regex.

    Patterns are tried against each node's id (its name, made unique) and its ``/``-joined path,
    so a binding survives a CAD re-export that renumbers or regroups parts.
    """

    name: str | None = Field(None, description="Exact node name")
    glob: str | None = Field(None, description="Shell-style pattern, e.g. 'pump_*'")
    regex: str | None = Field(None, description="Regular expression (full match)")
    label: str | None = Field(None, description="Display name in the tree and inspector")

    @model_validator(mode="after")
    def _exactly_one(self) -> ComponentSelector:
        given = [k for k in ("name", "glob", "regex") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of 'name', 'glob' or 'regex'"
                + (f" (got {', '.join(given)})" if given else "")
            )
        if self.regex is not None:
            import re

            try:
                re.compile(self.regex)
            except re.error as exc:
                raise ValueError(f"regex {self.regex!r} does not compile: {exc}") from None
        return self


class Limits(_Strict):
    """A band: values below ``low`` or above ``high`` cross it. Either may be omitted."""

    low: float | None = None
    high: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Limits:
        if self.low is not None and self.high is not None and self.low >= self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        return self


class Sensor(_Strict):
    id: str = Field(min_length=1, description="Unique sensor id, used by data sources")
    name: str | None = Field(None, description="Human-readable name")
    quantity: str = Field(min_length=1, description="What is measured, e.g. temperature")
    unit: str = Field(description="Unit of the value, e.g. degC, A, m3/s, %LEL")
    component: str | None = Field(
        None,
        description="A component id from 'components', a model node name, or a pattern of "
        "node names: a shell glob (pump_*) or re:<regular expression>",
    )
    position: tuple[float, float, float] | None = Field(None, description="3D position [x, y, z]")
    range: tuple[float, float] = Field(
        description="Normal display range [min, max] of the colour map"
    )
    warning: Limits | None = None
    alarm: Limits | None = None
    colormap: str = Field("viridis", description="Colour map over the range")
    stale_after: float = Field(15.0, gt=0, description="Seconds without data before 'stale'")
    deadband: float | None = Field(
        None,
        ge=0,
        description="Alarm deadband in the sensor's unit: a warning or alarm interval ends only "
        "once the value is back inside its limit by this much (default: 2% of the range)",
    )

    @field_validator("colormap")
    @classmethod
    def _known_colormap(cls, v: str) -> str:
        if v not in COLORMAPS:
            raise ValueError(f"unknown colour map {v!r}; expected one of {', '.join(COLORMAPS)}")
        return v

    @field_validator("range")
    @classmethod
    def _range_ordered(cls, v: tuple[float, float]) -> tuple[float, float]:
        if not (math.isfinite(v[0]) and math.isfinite(v[1]) and v[0] < v[1]):
            raise ValueError(f"range must be [min, max] with min < max, got {list(v)}")
        return v

    @model_validator(mode="after")
    def _alarm_outside_warning(self) -> Sensor:
        w, a = self.warning, self.alarm
        if w and a:
            if w.high is not None and a.high is not None and a.high < w.high:
                raise ValueError(f"alarm.high ({a.high}) must not be below warning.high ({w.high})")
            if w.low is not None and a.low is not None and a.low > w.low:
                raise ValueError(f"alarm.low ({a.low}) must not be above warning.low ({w.low})")
        return self


class Fault(_Strict):
    """A slowly developing fault the simulator injects into one sensor, or a sensor (or a
    fleet unit) that falls silent."""

    sensor: str = Field(description="Sensor id (silence: a fleet's unit id silences the unit)")
    kind: Literal["drift", "silence"] = Field(
        "drift",
        description="drift: the value drifts through warning to alarm; silence: nothing is "
        "sent from start for duration seconds (the sensor goes stale)",
    )
    start: float = Field(0.0, ge=0, description="Seconds after the feed starts")
    duration: float = Field(
        180.0,
        gt=0,
        description="Seconds until the value passes the alarm limit (silence: "
        "how long nothing is sent)",
    )


class SimulatorSource(_Strict):
    """The built-in simulator: plausible signals for every sensor of the project."""

    type: Literal["simulator"]
    id: str = "simulator"
    enabled: bool = Field(True, description="Start with the project (else only on request)")
    rate: float = Field(5.0, gt=0, le=1000, description="Samples per second per sensor")
    speed: float = Field(1.0, gt=0, description="Simulated seconds per wall-clock second")
    seed: int = 0
    cycle: float = Field(120.0, gt=0, description="Seconds of one load cycle")
    faults: list[Fault] = Field(default_factory=list)
    trips: list[Trip] = Field(
        default_factory=list, description="Moving parts' sensors driven along paths (motion)"
    )
    setpoints: list[Setpoint] = Field(
        default_factory=list,
        description="Sensors that read back what commands set, and the sensors that follow them",
    )


class Tls(_Strict):
    """TLS for a broker connection. The server's hostname is verified unless told otherwise."""

    ca_file: str | None = Field(None, description="CA certificate(s) to trust (PEM), relative")
    cert_file: str | None = Field(None, description="Client certificate (PEM) for mutual TLS")
    key_file: str | None = Field(None, description="Client private key (PEM)")
    verify_hostname: bool = Field(True, description="Check the server certificate's hostname")


TIME_UNITS = ("auto", "s", "ms", "us", "ns", "iso")


def check_time_unit(unit: str) -> str:
    """``unit`` if it is one of :data:`TIME_UNITS` or a usable strftime pattern, else
    ValueError saying what is expected."""
    if unit in TIME_UNITS:
        return unit
    if "%" in unit:
        try:
            datetime(2026, 12, 2, 16, 0, 0, tzinfo=timezone.utc).strftime(unit)
        except ValueError as exc:
            raise ValueError(f"{unit!r} is not a usable strftime pattern: {exc}") from None
        return unit
    raise ValueError(
        f"{unit!r}: expected one of {', '.join(TIME_UNITS)} or a strftime pattern such as "
        "'%d/%m/%Y %H:%M:%S'"
    )


class MqttSource(_Strict):
    """An MQTT broker. Every message is decoded by ``format`` into columnar samples.

    ``topic`` is a subscription template: ``{sensor}`` (and ``{component}``, ``{any}``) stand for
    one topic level each, e.g. ``mine/{component}/{sensor}``. Without ``{sensor}`` in the topic,
    the sensor id is read from the payload's ``sensor_field``.
    """

    type: Literal["mqtt"]
    id: str = "mqtt"
    enabled: bool = Field(True, description="Start with the project (else only on request)")
    url: str = Field(description="mqtt://host[:1883] or mqtts://host[:8883]")
    topic: str = Field(description="Topic template, e.g. 'site/{component}/{sensor}'")
    format: Literal["json", "json_batch", "sparkplug_b"] = "json"
    value_field: str = Field("value", description="JSON key of the value")
    time_field: str | None = Field(
        "auto",
        description="JSON key of the source timestamp; 'auto' takes ts, timestamp, time or t; "
        "null: the arrival time",
    )
    sensor_field: str = Field("sensor", description="JSON key of the sensor id, if not in topic")
    time_unit: str = Field(
        "auto",
        description="Timestamp format: auto (seconds, ms, us, ns by magnitude; ISO 8601 "
        "strings), s, ms, us, ns, iso, or a strftime pattern such as '%d/%m/%Y %H:%M:%S' (UTC "
        "unless it has %z)",
    )
    seq_field: str | None = Field(
        "seq", description="JSON key of the message sequence number (gaps are counted); null: none"
    )
    seq_scope: Literal["topic", "publisher"] = Field(
        "topic", description="What one sequence counter numbers: each topic, or each publisher"
    )
    publisher_field: str = Field(
        "publisher", description="JSON key naming the publisher (with seq_scope: publisher)"
    )
    seq_grace: float = Field(
        2.0, gt=0, description="Seconds a missing number may still arrive late before it is a gap"
    )
    request_rebirth: bool = Field(
        True,
        description="Sparkplug: ask an edge node for a new birth when its sequence breaks",
    )
    qos: Literal[0, 1] = 1
    client_id: str | None = Field(None, description="Fixed client id (needed for a session)")
    clean_start: bool = Field(False, description="False keeps the broker-side session")
    keepalive: int = Field(30, ge=5, le=3600)
    username: str | None = None
    password: str | None = None
    password_env: str | None = Field(None, description="Environment variable with the password")
    tls: Tls | None = None
    max_payload: int = Field(1_048_576, gt=0, description="Larger messages are rejected (bytes)")
    max_future: float = Field(300.0, gt=0, description="Seconds a timestamp may lie ahead")

    @field_validator("time_unit")
    @classmethod
    def _time_unit_known(cls, v: str) -> str:
        return check_time_unit(v)


class OpcUaSource(_Strict):
    """An OPC UA server: one monitored item per bound node."""

    type: Literal["opcua"]
    id: str = "opcua"
    enabled: bool = Field(True, description="Start with the project (else only on request)")
    endpoint: str = Field(description="opc.tcp://host:4840/path")
    nodes: dict[str, str] = Field(
        default_factory=dict, description="Sensor id -> node id, e.g. 'ns=2;s=Fan1.Vibration'"
    )
    sampling_interval: float = Field(100.0, ge=0, description="Milliseconds")
    publishing_interval: float = Field(100.0, gt=0, description="Milliseconds")
    security_policy: Literal["None", "Basic256Sha256"] = "None"
    security_mode: Literal["None", "Sign", "SignAndEncrypt"] = "None"
    certificate: str | None = Field(None, description="Client certificate (DER or PEM)")
    private_key: str | None = Field(None, description="Client private key (PEM)")
    server_certificate: str | None = Field(None, description="Trusted server certificate")
    username: str | None = None
    password: str | None = None
    password_env: str | None = Field(None, description="Environment variable with the password")

    @model_validator(mode="after")
    def _security_consistent(self) -> OpcUaSource:
        if (self.security_policy == "None") != (self.security_mode == "None"):
            raise ValueError(
                "security_policy and security_mode go together: both 'None', or a policy with "
                "'Sign' or 'SignAndEncrypt'"
            )
        if self.security_policy != "None" and not (self.certificate and self.private_key):
            raise ValueError(
                f"security policy {self.security_policy} needs certificate and private_key"
            )
        return self


SOURCE_TYPES: dict[str, type[BaseModel]] = {
    "simulator": SimulatorSource,
    "mqtt": MqttSource,
    "opcua": OpcUaSource,
}
SourceConfig = Annotated[SimulatorSource | MqttSource | OpcUaSource, Field(discriminator="type")]


class View(_Strict):
    name: str = Field(min_length=1)
    position: tuple[float, float, float]
    focal_point: tuple[float, float, float]
    up: tuple[float, float, float] = (0.0, 0.0, 1.0)


_WIDTH_UNITS = {"s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


def parse_width(v: float | str) -> float:
    """Seconds of a roll-up width: a number (seconds) or a string with a unit (s, min, h, d),
    e.g. ``1s``, ``1min``, ``15 min``, ``1h``; a ValueError saying what is expected."""
    if isinstance(v, str):
        text = v.strip().lower()
        unit = next((u for u in ("min", "s", "h", "d") if text.endswith(u)), "")
        try:
            seconds = float(text[: len(text) - len(unit)].strip()) * _WIDTH_UNITS.get(unit, 1.0)
        except ValueError:
            raise ValueError(
                f"width {v!r}: expected seconds, or a number with a unit s, min, h or d "
                "(e.g. 1s, 1min)"
            ) from None
    else:
        seconds = float(v)
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"width {v!r}: expected a positive time (e.g. 1s, 1min)")
    return seconds


class Rollup(_Strict):
    """A roll-up of the recorded samples: min, max, mean and last value per sensor over
    buckets of ``width``, kept longer than the raw data (PostgreSQL histories only)."""

    width: float | str = Field(
        description="Bucket width: seconds, or a number with a unit s, min, h or d (1s, 1min)"
    )
    retention_days: float | None = Field(
        None,
        gt=0,
        description="Delete buckets older than this many days (default: keep all); at least "
        "history.retention_days",
    )

    @field_validator("width")
    @classmethod
    def _width(cls, v: float | str) -> float:
        return parse_width(v)

    @property
    def seconds(self) -> float:
        return float(self.width)


class History(_Strict):
    """Where every accepted sample is recorded (embedded store beside the project)."""

    enabled: bool = Field(True, description="Record every accepted sample")
    path: str | None = Field(
        None, description="Store folder, relative to the project (default: <project>.history)"
    )
    retention_days: float | None = Field(
        None, gt=0, description="Delete samples older than this many days (default: keep all)"
    )
    url: str | None = Field(
        None,
        description="Record into PostgreSQL instead (TimescaleDB where installed), e.g. "
        "postgresql://user:password@host:5432/db or ...?schema=plant1; `path` is then unused. "
        "The command line's --history URL overrides it",
    )

    rollups: list[Rollup] | None = Field(
        None,
        description="Roll-ups kept longer than the raw data and used by charts over ranges the "
        "raw data no longer holds, e.g. [{width: 1s, retention_days: 365}, {width: 1min}] "
        "(PostgreSQL histories; the embedded store ignores them with a warning). A recorder "
        "makes the list the database's: roll-ups it does not name are deleted; without the key "
        "the database keeps its own",
    )

    @model_validator(mode="after")
    def _rollups_outlive_raw(self) -> History:
        seen: set[float] = set()
        raw = self.retention_days
        for i, r in enumerate(self.rollups or ()):
            if r.seconds in seen:
                raise ValueError(f"rollups[{i}]: width {r.seconds:g} s is given twice")
            seen.add(r.seconds)
            keep = r.retention_days
            if keep is not None and (raw is None or keep < raw):
                held = "not set: raw data kept forever" if raw is None else f"{raw:g}"
                raise ValueError(
                    f"rollups[{i}].retention_days ({keep:g}) is shorter than the raw data's "
                    f"retention_days ({held}); a roll-up must be kept at least as long (leave "
                    "its retention_days out to keep it forever)"
                )
        return self

    def rollup_spec(self) -> list[tuple[float, float | None]] | None:
        """The roll-ups as the PostgreSQL store takes them: (width, retention) in seconds; None
        when the project does not say (the database keeps its own)."""
        if self.rollups is None:
            return None
        return [
            (r.seconds, r.retention_days * 86400.0 if r.retention_days else None)
            for r in self.rollups
        ]

    @field_validator("url")
    @classmethod
    def _postgres_url(cls, v: str | None) -> str | None:
        if v is not None and not v.lower().startswith(("postgresql://", "postgres://")):
            scheme = v.split("://", 1)[0] if "://" in v else v[:20]
            raise ValueError(
                f"history.url must be a postgresql:// or postgres:// URL, got scheme {scheme!r}"
            )
        return v


class Display(_Strict):
    active_quantity: str | None = Field(
        None, description="Quantity that colours the model; none means each component's worst"
    )
    colormap: str = Field(
        "viridis", description="Colour map when no quantity is active (values as % of range)"
    )
    background: str = "#1e2126"
    timezone: str | None = Field(
        None,
        description="IANA time zone of the timeline and charts, e.g. Europe/Berlin "
        "(default: the computer's own; UTC is always shown on hover)",
    )

    @field_validator("colormap")
    @classmethod
    def _known_colormap(cls, v: str) -> str:
        return Sensor._known_colormap(v)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, v: str | None) -> str | None:
        if v is None:
            return v
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {v!r}; expected an IANA name such as 'UTC' or 'Europe/Berlin'"
            ) from exc
        return v


class Placement(_Strict):
    """Where a simulation result sits in the twin: scaled, rotated about x, then y, then z (in
    degrees, about the result's origin), then translated."""

    translate: tuple[float, float, float] = (0.0, 0.0, 0.0)
    rotate: tuple[float, float, float] = Field(
        (0.0, 0.0, 0.0), description="Degrees about x, y and z, applied in that order"
    )
    scale: float = Field(1.0, gt=0, description="Result units to model units, e.g. 1000 for m->mm")


class OverlayTime(_Strict):
    """Simulation time to twin time: ``twin = origin + offset + scale * sim``.

    ``origin`` is an ISO 8601 instant, or ``session``: when the twin was opened (its sources
    started). ``scale`` may be ``simulator``: one over the project's simulator speed, so a
    result computed in simulated seconds follows the simulated feed. ``mode: step_index`` uses
    each step's index as its simulation time instead of the time in the file.
    """

    mode: Literal["clock", "step_index"] = "clock"
    origin: str = Field("session", description="ISO 8601 instant, or 'session'")
    offset: float = Field(0.0, description="Seconds added to the origin")
    scale: float | Literal["simulator"] = Field(
        1.0, description="Twin seconds per simulation second, or 'simulator' (1 / its speed)"
    )
    interpolate: bool = Field(True, description="Blend the two steps around t (else nearest)")
    repeat: tuple[float, float] | None = Field(
        None,
        description="[start, end] in simulation seconds: past the end, time wraps back to the "
        "start (a result that covers whole periods of a duty cycle)",
    )

    @field_validator("repeat")
    @classmethod
    def _repeat_ordered(cls, v: tuple[float, float] | None) -> tuple[float, float] | None:
        if v is not None and not v[0] < v[1]:
            raise ValueError(f"repeat must be [start, end] with start < end, got {list(v)}")
        return v

    @field_validator("origin")
    @classmethod
    def _instant(cls, v: str) -> str:
        if v == "session":
            return v
        from datetime import datetime

        try:
            datetime.fromisoformat(v.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"origin must be an ISO 8601 instant (2026-01-31T08:00:00Z) or 'session', got {v!r}"
            ) from None
        return v

    @field_validator("scale")
    @classmethod
    def _positive(cls, v: float | str) -> float | str:
        if isinstance(v, float | int) and not v > 0:
            raise ValueError(f"scale must be positive, got {v}")
        return v


class Warp(_Strict):
    """Deform by a vector field (e.g. displacement) times ``scale``."""

    field: str
    scale: float = 1.0


class Overlay(_Strict):
    """A simulation result on the twin, on the twin's clock."""

    name: str = Field(min_length=1)
    result: str = Field(
        description="Result file relative to the project (.vtu, .vtp, .vtk, .pvd, *.series, "
        ".xdmf, Exodus II, ...)"
    )
    field: str | None = Field(None, description="Field shown (default: the first point field)")
    quantity: str | None = Field(
        None,
        description="The sensor quantity this field is compared with (default: sensors whose "
        "quantity is the field's name)",
    )
    unit: str | None = Field(
        None, description="Unit of the field where the result file does not say, e.g. degC"
    )
    show: Literal["surface", "mesh", "both"] = Field(
        "surface",
        description="surface: mapped onto the twin's components; mesh: the result mesh itself",
    )
    components: list[str] = Field(
        default_factory=list,
        description="Twin components (ids or model node names) that carry the field (default: all)",
    )
    placement: Placement = Field(default_factory=Placement)
    time: OverlayTime = Field(default_factory=OverlayTime)
    colormap: str = "inferno"
    range: tuple[float, float] | None = Field(None, description="Colour range (default: data)")
    opacity: float = Field(1.0, ge=0, le=1)
    visible: bool = Field(False, description="Shown as soon as the project opens")
    warp: Warp | None = None
    glyphs: str | None = Field(None, description="A vector field drawn as arrows")

    @field_validator("colormap")
    @classmethod
    def _known_colormap(cls, v: str) -> str:
        return Sensor._known_colormap(v)


class Fidelity(_Strict):
    """When a simulation agrees with what was measured."""

    tolerance: float = Field(
        0.05, gt=0, description="Largest relative error that passes (0.05 = 5%)"
    )
    relative_to: Literal["value", "range"] = Field(
        "value",
        description="value: |sim - measured| / |measured|; range: ... / the sensor's range span",
    )


class Project(_Strict):
    """A twin: its model, components, sensors, data sources and views."""

    twinviewer: int = Field(1, description="Project file format version")
    name: str = "Untitled twin"
    description: str = ""
    models: list[ModelRef] = Field(min_length=1)
    components: dict[str, ComponentSelector] = Field(default_factory=dict)
    sensors: list[Sensor] = Field(default_factory=list)
    sources: list[SourceConfig] = Field(default_factory=list)
    views: list[View] = Field(default_factory=list)
    display: Display = Field(default_factory=Display)
    history: History = Field(default_factory=History)
    overlays: list[Overlay] = Field(default_factory=list)
    fidelity: Fidelity = Field(default_factory=Fidelity)
    prediction: Prediction = Field(default_factory=Prediction)
    degradation: list[Degradation] = Field(default_factory=list)
    tours: list[Tour] = Field(default_factory=list, description="Guided tours for training")
    motion: list[Motion] = Field(
        default_factory=list, description="Components moved by sensor values, in order"
    )
    fleet: Fleet | None = Field(None, description="Units of this asset type (a fleet)")
    commands: list[Command] = Field(
        default_factory=list, description="Setpoints and operations sent to the asset"
    )
    command_settings: CommandSettings = Field(default_factory=CommandSettings)

    @field_validator("models", mode="before")
    @classmethod
    def _paths_as_strings(cls, v: Any) -> Any:
        if isinstance(v, list):
            return [{"path": m} if isinstance(m, str) else m for m in v]
        return v

    @model_validator(mode="after")
    def _unique_ids(self) -> Project:
        source_ids = [s.id for s in self.sources]
        dup_sources = {i for i in source_ids if source_ids.count(i) > 1}
        if dup_sources:
            raise ValueError(
                f"source id {sorted(dup_sources)[0]!r} is used twice; give each source an 'id'"
            )
        seen: set[str] = set()
        for s in self.sensors:
            if s.id in seen:
                raise ValueError(f"sensor id {s.id!r} is used twice")
            seen.add(s.id)
        names = [v.name for v in self.views]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"view name {sorted(dup)[0]!r} is used twice")
        names = [o.name for o in self.overlays]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"overlay name {sorted(dup)[0]!r} is used twice")
        for g in self.prediction.groups:
            unknown = [s for s in g.sensors if s not in seen]
            if unknown:
                raise ValueError(f"prediction group {g.id!r} names unknown sensor {unknown[0]!r}")
        for d in self.degradation:
            unknown = [s for s in d.sensors if s not in seen]
            if unknown:
                raise ValueError(f"degradation of {d.group!r} names unknown sensor {unknown[0]!r}")
        ids = [c.id for c in self.commands]
        dup_cmd = {i for i in ids if ids.count(i) > 1}
        if dup_cmd:
            raise ValueError(f"command id {sorted(dup_cmd)[0]!r} is used twice")
        for c in self.commands:
            if c.readback is not None and c.readback not in seen:
                raise ValueError(f"command {c.id!r}: read-back sensor {c.readback!r} is unknown")
            if c.target.source not in source_ids:
                raise ValueError(f"command {c.id!r}: no source with id {c.target.source!r}")
            if isinstance(c.target, MqttTarget):
                for src in self.sources:
                    if isinstance(src, MqttSource) and filter_matches(
                        topic_filter(src.topic), c.target.topic
                    ):
                        raise ValueError(
                            f"command {c.id!r}: its topic {c.target.topic!r} is one the source "
                            f"{src.id!r} subscribes to ({src.topic!r}): the twin would read its "
                            "own command as a value; publish commands outside the data topics"
                        )
        for m in self.motion:
            unknown = [x for x in m.sensors() if x not in seen]
            if unknown:
                where = m.component or m.joint
                raise ValueError(f"motion of {where!r} names unknown sensor {unknown[0]!r}")
        check_tours(
            self.tours,
            sensors=seen,
            views={v.name for v in self.views},
            overlays={o.name for o in self.overlays},
            quantities={s.quantity for s in self.sensors},
        )
        return self


class Problem(BaseModel):
    """One finding about a project: where it is and what was expected."""

    severity: Literal["error", "warning", "info"]
    file: str
    key: str = ""
    line: int | None = None
    message: str

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        key = f" {self.key}:" if self.key else ""
        return f"{where}: {self.severity}:{key} {self.message}"


class ProjectError(Exception):
    """The project file is unreadable or invalid; ``problems`` lists every finding."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def load_project(path: str | Path) -> tuple[Project, Path]:
    """Read and validate a project file; returns the project and its folder.

    Raises :class:`ProjectError` with one :class:`Problem` per mistake.
    """
    path = Path(path)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProjectError(
            [Problem(severity="error", file=file, message=f"cannot read: {exc}")]
        ) from None
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ProjectError(
            [
                Problem(
                    severity="error",
                    file=file,
                    line=mark.line + 1 if mark else None,
                    message=f"not valid YAML: {getattr(exc, 'problem', None) or exc}",
                )
            ]
        ) from None
    if not isinstance(data, dict):
        raise ProjectError(
            [Problem(severity="error", file=file, message="expected a mapping of keys at the top")]
        )
    try:
        return Project.model_validate(data), path.parent
    except ValidationError as exc:
        raise ProjectError(_problems_from(exc, file, root)) from None


def _problems_from(exc: ValidationError, file: str, root: yaml.Node | None) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        # pydantic puts the tag of a discriminated union in the path; drop it from the key.
        loc = [
            p
            for p in err["loc"]
            if not (
                isinstance(p, str)
                and (p in SOURCE_TYPES or (p in TIME_TAGS and "tours" in err["loc"]))
            )
        ]
        tag = next((p for p in err["loc"] if isinstance(p, str) and p in SOURCE_TYPES), None)
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, TourError) and not loc:  # a tour's cross-reference: its key
            loc = list(cause.loc)
        key = _format_loc(loc)
        line = _line_of(root, loc)
        kind = err["type"]
        if kind == "extra_forbidden":
            parent = _model_at(loc[:-1], tag)
            keys = parent.model_fields.items() if parent else ()
            expected = ", ".join(f.alias or name for name, f in keys)
            msg = f"unknown key {loc[-1]!r}" + (
                f"; expected one of: {expected}" if expected else ""
            )
        elif kind == "missing":
            msg = "required key is missing"
        elif kind == "union_tag_invalid":
            msg = f"unknown source type; expected one of: {err['ctx']['expected_tags']}"
        else:
            msg = err["msg"].removeprefix("Value error, ")
            if (
                "input" in err
                and kind not in ("value_error",)
                and not isinstance(err["input"], (dict, list))
            ):
                msg += f" (got {err['input']!r})"
        problems.append(Problem(severity="error", file=file, key=key, line=line, message=msg))
    return problems


def _format_loc(loc: list[Any]) -> str:
    out = ""
    for p in loc:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out


def _line_of(root: yaml.Node | None, loc: list[Any]) -> int | None:
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for p in loc:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == p:
                    line = k.start_mark.line + 1
                    node = v
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(p, int) and p < len(node.value):
            node = node.value[p]
            line = node.start_mark.line + 1
        else:
            return line
    return line


_NESTED: dict[str, type[BaseModel]] = {
    "models": ModelRef,
    "components": ComponentSelector,
    "sensors": Sensor,
    "sources": SimulatorSource,
    "tls": Tls,
    "views": View,
    "display": Display,
    "history": History,
    "overlays": Overlay,
    "placement": Placement,
    "time": OverlayTime,
    "warp": Warp,
    "fidelity": Fidelity,
    "warning": Limits,
    "alarm": Limits,
    "faults": Fault,
    "prediction": Prediction,
    "groups": PredictionGroup,
    "degradation": Degradation,
}

# Inside ``tours:`` the same key names mean other things (a step's ``time`` is not an overlay's).
_TOUR_NESTED: dict[str, type[BaseModel]] = {
    "tours": Tour,
    "steps": TourStep,
    "camera": TourCamera,
    "transition": Transition,
    "section": Section,
    "time": Replay,
    "callouts": Callout,
    "question": Question,
}


def _model_at(loc: list[Any], source_type: str | None = None) -> type[BaseModel] | None:
    """The pydantic model that validates the mapping at ``loc`` (for 'expected one of')."""
    model: type[BaseModel] | None = Project
    nested = _TOUR_NESTED if loc and loc[0] == "tours" else _NESTED
    for p in loc:
        if isinstance(p, str) and p in nested:
            model = nested[p]
            if p == "sources" and source_type is not None:
                model = SOURCE_TYPES[source_type]
    return model


def project_json_schema() -> str:
    """JSON Schema of the project file, for editors (yaml-language-server)."""
    schema = Project.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "TwinViewer project (*.twin.yaml)"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
