"""The ``prediction:`` and ``degradation:`` blocks of the project file.

Prediction is trained from the twin's own history: for each *group* of sensors (by default the
sensors of one component, as named by their ``component:`` key) a multivariate model of normal
behaviour, and for each sensor a trend forecast towards its limits. A ``degradation:`` block names
run-to-failure events in the history, from which a remaining-useful-life regressor is trained.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


def as_time_text(v: Any) -> Any:
    """YAML reads an unquoted ``2026-11-24T03:12:00Z`` as a datetime and ``120`` as a number:
    both are kept as text (a naive datetime is UTC)."""
    if isinstance(v, datetime):
        return (v if v.tzinfo else v.replace(tzinfo=timezone.utc)).isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v)
    return v


Method = Literal["t2q", "mset"]


class PredictionGroup(_Strict):
    """Sensors modelled together (default: one group per component)."""

    id: str = Field(min_length=1, description="Group id, shown as the model's name")
    components: list[str] = Field(
        default_factory=list, description="Components whose sensors belong to the group"
    )
    sensors: list[str] = Field(default_factory=list, description="Sensor ids in the group")
    method: Method | None = Field(None, description="Overrides prediction.method for this group")

    @model_validator(mode="after")
    def _not_empty(self) -> PredictionGroup:
        if not self.components and not self.sensors:
            raise ValueError(f"group {self.id!r} names no components and no sensors")
        return self


class Prediction(_Strict):
    """Models of normal behaviour, forecasts towards limits, and when to score them."""

    enabled: bool = Field(True, description="Score the trained models live and on history")
    method: Method = Field(
        "t2q",
        description="t2q: Hotelling T2 and Q (SPE) on PCA; mset: nonlinear state estimation",
    )
    train_from: str | None = Field(
        None,
        description="Start of the healthy training window: ISO 8601, or seconds after the "
        "history's first sample (default: its start)",
    )
    train_to: str | None = Field(
        None,
        description="End of the healthy training window: ISO 8601, or seconds after the "
        "history's first sample (default: its end)",
    )
    groups: list[PredictionGroup] = Field(
        default_factory=list,
        description="Sensors modelled together; sensors not in a group are grouped by component",
    )
    models: str | None = Field(
        None, description="Folder of the trained models, relative (default: <project>.models)"
    )
    step: float = Field(1.0, gt=0, description="Seconds of data time between two scorings")
    trend_window: float = Field(
        60.0, gt=0, description="Seconds of recent data a sensor's trend forecast weighs"
    )
    horizon: float = Field(
        3600.0, gt=0, description="Predicted limit crossings further ahead are not reported"
    )
    anomaly_hold: float = Field(
        3.0, ge=0, description="Seconds a score stays above its limit before it is an event"
    )

    @field_validator("train_from", "train_to", mode="before")
    @classmethod
    def _time_text(cls, v: Any) -> Any:
        return as_time_text(v)

    @model_validator(mode="after")
    def _unique_groups(self) -> Prediction:
        ids = [g.id for g in self.groups]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ValueError(f"prediction group id {sorted(dup)[0]!r} is used twice")
        return self


class Degradation(_Strict):
    """Run-to-failure history: the failure events a remaining-useful-life model learns from."""

    group: str = Field(min_length=1, description="The component or prediction group that fails")
    sensors: list[str] = Field(
        default_factory=list, description="Sensors the model reads (default: the group's)"
    )
    failures: list[str] = Field(
        min_length=1, description="Times of the failure events in the history (ISO 8601)"
    )
    cap: float = Field(
        3600.0, gt=0, description="Seconds: a longer remaining life is reported as 'over cap'"
    )

    @field_validator("failures", mode="before")
    @classmethod
    def _times_text(cls, v: Any) -> Any:
        return [as_time_text(x) for x in v] if isinstance(v, list) else v
