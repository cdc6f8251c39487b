"""The ``tours:`` block of the project file: guided tours of the twin for training.

A tour is a list of steps, played one after the other. A step says where to look (``camera:``
or a saved ``view:``), how to get there (``transition:`` fly with easing over a duration, or
cut), what to show (``highlight``, ``isolate``, ``hide``, ``transparent``, ``section``,
``colour``, ``overlay``), which moment of the twin (``time:``), which live values to pin to
their components (``callouts``), what to say (``title``, ``caption``), how long to stay
(``dwell``: seconds, or ``wait`` for the trainee) and, for self-study, a ``question``::

    tours:
      - name: Your first day underground
        steps:
          - title: The shaft
            caption: "The **main shaft** is 1 km deep; the cage takes 3 minutes."
            view: Shaft
            transition: {type: fly, duration: 3}
            highlight: [shaft]
            dwell: 8
          - title: The booster fan incident
            camera: {position: [120, -80, -300], focal_point: [40, 10, -330]}
            time: {from: start+60s, to: start+180s, speed: 10}
            callouts: [l3_fan_vibration, l3_fan_bearing_temperature]
            question:
              text: What warned first?
              answers: [the temperature, the vibration]
              correct: 2

Times of a step are ``live``, ISO 8601, or relative to the recorded history: ``start+170s``,
``end-2m`` (``s``, ``m``, ``h``, ``d``), so a tour keeps working on any copy of the history (the
demos are re-recorded on every machine). Components are named as everywhere in the project:
a component id of the ``components:`` block or a model node id.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from twinviewer.core.project_predict import as_time_text

Vec3 = tuple[float, float, float]
Easing = Literal["linear", "in_out", "in", "out"]

#: A dwell of ``wait`` in a video (no trainee to wait for): this many seconds.
WAIT_IN_VIDEO = 6.0
#: A step's dwell when it gives none (and has no replay to last for).
DEFAULT_DWELL = 6.0

_RELATIVE = re.compile(r"(start|end)\s*([+-])\s*(\d+(?:\.\d+)?)\s*([smhd]?)", re.IGNORECASE)
_UNIT = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, populate_by_name=True)


def check_tour_instant(text: str) -> str:
    """``text`` if it is ``live``, ISO 8601, or ``start±N[smhd]`` / ``end±N[smhd]``."""
    t = text.strip()
    if t.lower() in ("live", "start", "end") or _RELATIVE.fullmatch(t):
        return t
    try:
        datetime.fromisoformat(t.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{text!r}: expected 'live', an ISO 8601 time such as 2026-11-24T03:12:00Z, or a "
            "time relative to the recorded history such as start+170s or end-2m"
        ) from None
    return t


def resolve_tour_instant(text: str, held: tuple[float, float] | None) -> float | None:
    """Epoch seconds of a checked instant given the history's ``(first, last)`` sample times
    (None: live). A relative time without a history raises ValueError."""
    t = text.strip()
    low = t.lower()
    if low == "live":
        return None
    m = _RELATIVE.fullmatch(t)
    if m or low in ("start", "end"):
        if held is None:
            raise ValueError(f"{text!r} is relative to the recorded history, and there is none")
        if not m:
            return held[0] if low == "start" else held[1]
        base = held[0] if m.group(1).lower() == "start" else held[1]
        offset = float(m.group(3)) * _UNIT[m.group(4).lower()]
        return base + offset if m.group(2) == "+" else base - offset
    when = datetime.fromisoformat(t.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


class TourCamera(_Strict):
    """Where the camera is: as VTK holds it (``view_angle``: vertical field of view, degrees)."""

    position: Vec3
    focal_point: Vec3
    up: Vec3 = (0.0, 0.0, 1.0)
    view_angle: float = Field(30.0, gt=0, lt=180)

    @model_validator(mode="after")
    def _sane(self) -> TourCamera:
        if self.position == self.focal_point:
            raise ValueError("position and focal_point must differ (no view direction)")
        if not any(self.up):
            raise ValueError("up must not be the zero vector")
        return self


class Transition(_Strict):
    """How the camera gets to the step: ``fly`` over ``duration`` seconds with an easing, or
    ``cut`` (at once)."""

    type: Literal["fly", "cut"] = "fly"
    duration: float = Field(2.0, ge=0, le=120, description="Seconds of flight (fly only)")
    easing: Easing = Field("in_out", description="linear, in_out (slow-fast-slow), in, out")

    @property
    def seconds(self) -> float:
        return self.duration if self.type == "fly" else 0.0


class Section(_Strict):
    """A clip plane: what lies on the side ``normal`` points to is cut away."""

    origin: Vec3
    normal: Vec3

    @model_validator(mode="after")
    def _nonzero(self) -> Section:
        if not any(self.normal):
            raise ValueError("normal must not be the zero vector")
        return self


class Replay(_Strict):
    """A window of the history replayed at ``speed`` while the step dwells."""

    start: str = Field(alias="from", description="ISO 8601, or start+N / end-N of the history")
    end: str = Field(alias="to", description="ISO 8601, or start+N / end-N of the history")
    speed: float = Field(1.0, gt=0, le=100000, description="Twin seconds per second")

    @field_validator("start", "end", mode="before")
    @classmethod
    def _text(cls, v: Any) -> Any:
        return as_time_text(v)

    _checked = field_validator("start", "end")(lambda v: check_tour_instant(v))


class Callout(_Strict):
    """A sensor's value pinned to its component (``label`` overrides the sensor's name)."""

    sensor: str = Field(min_length=1)
    label: str | None = None


class Question(_Strict):
    """A self-study question: the trainee picks one of ``answers``; ``correct`` counts from 1."""

    text: str = Field(min_length=1)
    answers: list[str] = Field(min_length=2)
    correct: int = Field(ge=1, description="The right answer's number, counting from 1")
    explanation: str = ""

    @model_validator(mode="after")
    def _in_range(self) -> Question:
        if self.correct > len(self.answers):
            raise ValueError(
                f"correct is {self.correct}, but there are only {len(self.answers)} answers"
            )
        return self


def _time_kind(v: Any) -> str:
    return "replay" if isinstance(v, (dict, Replay)) else "moment"


#: The tags of a step's ``time`` union; error paths leave them out (they are not keys).
TIME_TAGS = ("moment", "replay")

StepTime = Annotated[
    Annotated[str, Tag("moment")] | Annotated[Replay, Tag("replay")],
    Discriminator(_time_kind),
]


class TourStep(_Strict):
    """One stop of a tour (see the module doc for each key)."""

    title: str = Field(min_length=1)
    caption: str = Field("", description="A few lines; **bold** and *italic* are kept")
    camera: TourCamera | None = None
    view: str | None = Field(None, description="A saved view's name (instead of camera)")
    transition: Transition = Field(default_factory=Transition)
    highlight: list[str] = Field(default_factory=list, description="Components outlined")
    isolate: list[str] = Field(default_factory=list, description="Only these are shown")
    hide: list[str] = Field(default_factory=list, description="Components hidden")
    transparent: list[str] = Field(default_factory=list, description="Components see-through")
    section: Section | None = None
    colour: str | None = Field(
        None, description="'status' (each component's worst sensor), 'health', or a quantity"
    )
    overlay: str | None = Field(None, description="A simulation overlay shown on the step")
    time: StepTime | None = Field(
        None,
        description="A fixed moment (ISO 8601, start+N, end-N, live) or {from, to, speed}; "
        "none keeps the tour's time",
    )
    callouts: list[Callout] = Field(default_factory=list)
    dwell: float | Literal["wait"] | None = Field(
        None,
        description="Seconds to stay after arriving, or 'wait' for the trainee (default: 6 s, "
        "or as long as the step's replay lasts)",
    )
    question: Question | None = None

    @field_validator("time", mode="before")
    @classmethod
    def _time_text(cls, v: Any) -> Any:
        return as_time_text(v)

    @field_validator("time")
    @classmethod
    def _time_checked(cls, v: str | Replay | None) -> str | Replay | None:
        return check_tour_instant(v) if isinstance(v, str) else v

    @field_validator("callouts", mode="before")
    @classmethod
    def _callout_ids(cls, v: Any) -> Any:
        if isinstance(v, list):
            return [{"sensor": c} if isinstance(c, str) else c for c in v]
        return v

    @field_validator("dwell", mode="before")
    @classmethod
    def _dwell(cls, v: Any) -> Any:
        # one message for the union (not one per member: 'float' and "literal['wait']")
        number = isinstance(v, (int, float)) and not isinstance(v, bool)
        if v is None or v == "wait" or (number and 0 <= v <= 3600):
            return v
        raise ValueError(f"dwell must be between 0 and 3600 seconds, or 'wait'; got {v!r}")

    @model_validator(mode="after")
    def _one_camera(self) -> TourStep:
        if self.camera is not None and self.view is not None:
            raise ValueError("give camera or view, not both")
        return self

    def components(self) -> list[tuple[str, str]]:
        """Every ``(key, component)`` the step names, to check against the twin."""
        keys = ("highlight", "isolate", "hide", "transparent")
        return [(k, c) for k in keys for c in getattr(self, k)]


class Tour(_Strict):
    """A guided tour: its name (unique in the project), a description and its steps."""

    name: str = Field(min_length=1)
    description: str = ""
    steps: list[TourStep] = Field(min_length=1)


class TourError(ValueError):
    """A tour's reference to the rest of the project is wrong; ``loc`` is the key's path in
    the file (``("tours", 0, "steps", 2, "callouts", 0)``), for its line."""

    def __init__(self, message: str, loc: tuple[str | int, ...]) -> None:
        super().__init__(message)
        self.loc = loc


def check_tours(
    tours: list[Tour],
    sensors: set[str],
    views: set[str],
    overlays: set[str],
    quantities: set[str],
) -> None:
    """Cross-references of the tours to the rest of the project; :class:`TourError` names the
    tour, the step (counting from 1, with its title) and the key."""
    names = [t.name for t in tours]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise TourError(f"tour name {name!r} is used twice", ("tours", i, "name"))
    for i, tour in enumerate(tours):
        for k, step in enumerate(tour.steps, 1):
            where = f"tour {tour.name!r}, step {k} ({step.title!r})"
            loc: tuple[str | int, ...] = ("tours", i, "steps", k - 1)
            if step.view is not None and step.view not in views and step.view not in STANDARD:
                known = ", ".join(sorted(views) + list(STANDARD))
                raise TourError(
                    f"{where}: view: no view {step.view!r}; expected one of {known}",
                    (*loc, "view"),
                )
            for j, c in enumerate(step.callouts):
                if c.sensor not in sensors:
                    raise TourError(
                        f"{where}: callouts: unknown sensor {c.sensor!r}", (*loc, "callouts", j)
                    )
            if step.overlay is not None and step.overlay not in overlays:
                known = ", ".join(sorted(overlays)) or "none in this project"
                raise TourError(
                    f"{where}: overlay: no overlay {step.overlay!r}; expected one of {known}",
                    (*loc, "overlay"),
                )
            if step.colour is not None and step.colour not in ("status", "health", *quantities):
                known = ", ".join(["status", "health", *sorted(quantities)])
                raise TourError(
                    f"{where}: colour: {step.colour!r} is not a colour mode or a quantity of "
                    f"this twin; expected one of {known}",
                    (*loc, "colour"),
                )


#: The standard views a step may name besides the project's saved views.
STANDARD = ("iso", "top", "bottom", "front", "back", "left", "right")
