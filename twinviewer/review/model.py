"""The design review's data: issues with their viewpoints and comments, and measurements.

Everything here is plain pydantic (v2) with unknown keys forbidden, as the project file is, so a
review file written by hand or by a newer version fails with the key that is wrong. Times of the
twin (an issue's ``time``, a viewpoint's ``time``) are epoch seconds like everywhere else in
TwinViewer; dates of the review itself (created, modified, a comment's date) are ISO 8601 UTC
strings (``2026-11-24T03:12:00Z``), as BCF writes them.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable
from datetime import date, datetime, timezone
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Vec3 = tuple[float, float, float]
Status = Literal["open", "in_progress", "resolved", "closed"]
Priority = Literal["low", "normal", "high", "critical"]
MeasurementKind = Literal["distance", "angle", "area", "point", "clearance"]

STATUSES: tuple[str, ...] = ("open", "in_progress", "resolved", "closed")
PRIORITIES: tuple[str, ...] = ("low", "normal", "high", "critical")
REVIEW_FORMAT: Literal["twinviewer-review"] = "twinviewer-review"
REVIEW_VERSION: Literal[1] = 1

# how many points each kind of measurement is made of: (least, most); None = no upper bound
_POINTS: dict[str, tuple[int, int | None]] = {
    "point": (1, 1),
    "distance": (2, 2),
    "clearance": (2, 2),
    "angle": (3, 3),
    "area": (3, None),
}


def new_id() -> str:
    """A fresh identifier: a lower-case UUID4, the form BCF requires of a GUID."""
    return str(uuid.uuid4())


def utc_now() -> str:
    """Now as an ISO 8601 UTC string to the second (``2026-11-24T03:12:00Z``)."""
    return iso_utc(datetime.now(timezone.utc).replace(microsecond=0))


def iso_utc(when: datetime) -> str:
    """A datetime as ISO 8601 in UTC with a ``Z`` (naive datetimes are taken as UTC)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    when = when.astimezone(timezone.utc)
    spec = "microseconds" if when.microsecond else "seconds"
    return when.isoformat(timespec=spec).replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    """An ISO 8601 date-time (``Z`` or an offset; none means UTC) as an aware datetime."""
    when = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def _normal_uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value.strip()))
    except (ValueError, AttributeError):
        raise ValueError(f"expected a UUID such as {new_id()!r}, got {value!r}") from None


def _normal_date(value: str) -> str:
    try:
        return iso_utc(parse_iso(value))
    except (ValueError, AttributeError):
        raise ValueError(
            f"expected an ISO 8601 date-time such as '2026-11-24T03:12:00Z', got {value!r}"
        ) from None


def _file_name(value: str | None) -> str | None:
    if value is not None and (
        not value.strip() or "/" in value or "\\" in value or value in (".", "..")
    ):
        raise ValueError(f"expected a plain file name in snapshots/ (no folders), got {value!r}")
    return value


def _finite(values: Iterable[float], what: str) -> None:
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"{what} must be finite numbers")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Camera(_Strict):
    """A camera as VTK holds one: ``view_angle`` is the vertical field of view in degrees;
    ``parallel`` cameras show ``2 * parallel_scale`` of the world vertically."""

    position: Vec3
    focal_point: Vec3
    up: Vec3
    view_angle: float = Field(30.0, gt=0, lt=180)
    parallel: bool = False
    parallel_scale: float = Field(1.0, gt=0)

    @model_validator(mode="after")
    def _sane(self) -> Camera:
        _finite((*self.position, *self.focal_point, *self.up), "camera coordinates")
        if self.position == self.focal_point:
            raise ValueError("position and focal_point must differ (no view direction)")
        if not any(self.up):
            raise ValueError("up must not be the zero vector")
        return self


class ClipPlane(_Strict):
    """A section plane: what lies on the side ``normal`` points to is cut away (the convention
    of ``TwinScene.set_clip_plane`` and of BCF's clipping planes)."""

    origin: Vec3
    normal: Vec3

    @model_validator(mode="after")
    def _nonzero(self) -> ClipPlane:
        _finite((*self.origin, *self.normal), "clip plane coordinates")
        if not any(self.normal):
            raise ValueError("normal must not be the zero vector")
        return self


class Viewpoint(_Strict):
    """What the screen showed: camera, selected and hidden components, the section, the
    overlay and colour mode, and the twin's time (None: live)."""

    id: str = Field(default_factory=new_id)
    camera: Camera
    selection: list[str] = Field(default_factory=list, description="component ids")
    hidden: list[str] = Field(default_factory=list, description="component ids")
    shown_only: list[str] | None = Field(
        None, description="only these components visible (a BCF viewpoint may say so)"
    )
    section: ClipPlane | None = None
    overlay: str | None = None
    colour_mode: str | None = None
    time: float | None = Field(None, description="epoch seconds; None = live")
    snapshot: str | None = Field(
        None, description="its own snapshot (the issue's first viewpoint uses Issue.snapshot)"
    )

    _id = field_validator("id")(_normal_uuid)
    _snapshot = field_validator("snapshot")(_file_name)


class Comment(_Strict):
    """One remark on an issue, optionally about one of its viewpoints."""

    id: str = Field(default_factory=new_id)
    author: str = Field(min_length=1)
    date: str = Field(default_factory=utc_now)
    text: str
    viewpoint_id: str | None = None

    _id = field_validator("id")(_normal_uuid)
    _date = field_validator("date")(_normal_date)

    @field_validator("viewpoint_id")
    @classmethod
    def _vp(cls, value: str | None) -> str | None:
        return None if value is None else _normal_uuid(value)


class Issue(_Strict):
    """One finding of the review, tied to the twin where it was seen: a component, a point on
    it, the twin's time, the sensor values then, and the view (viewpoint, snapshot)."""

    id: str = Field(default_factory=new_id)
    title: str = Field(min_length=1)
    text: str = ""
    author: str = Field(min_length=1)
    created: str = Field(default_factory=utc_now)
    modified: str = Field(default_factory=utc_now)
    modified_author: str | None = None
    assigned_to: str | None = None
    topic_type: str = Field("Issue", min_length=1, description="BCF TopicType")
    status: Status = "open"
    priority: Priority = "normal"
    labels: list[str] = Field(default_factory=list)
    due: date | None = None
    component: str | None = None
    point: Vec3 | None = None
    time: float | None = Field(None, description="epoch seconds of the twin's time")
    viewpoint: Viewpoint | None = None
    other_viewpoints: list[Viewpoint] = Field(default_factory=list)
    snapshot: str | None = Field(None, description="a file name in the review's snapshots/")
    values: dict[str, float] = Field(default_factory=dict, description="sensor id -> value")
    comments: list[Comment] = Field(default_factory=list)

    _id = field_validator("id")(_normal_uuid)
    _dates = field_validator("created", "modified")(_normal_date)
    _snapshot = field_validator("snapshot")(_file_name)

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("title must not be blank")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Issue:
        if self.time is not None:
            _finite([self.time], "time")
        if self.point is not None:
            _finite(self.point, "point")
        ids = {v.id for v in self.viewpoints()}
        for i, c in enumerate(self.comments):
            if c.viewpoint_id is not None and c.viewpoint_id not in ids:
                raise ValueError(
                    f"comments[{i}] refers to viewpoint {c.viewpoint_id}, which the issue has not"
                )
        return self

    def viewpoints(self) -> list[Viewpoint]:
        """The main viewpoint (if any) and the others, in order."""
        return ([self.viewpoint] if self.viewpoint else []) + list(self.other_viewpoints)

    def touch(self, author: str | None = None) -> None:
        """Mark the issue modified now (by ``author``)."""
        self.modified = utc_now()
        if author:
            self.modified_author = author


class Measurement(_Strict):
    """A measurement taken on the twin: its points (model coordinates), the components they lie
    on, and the result in ``unit`` (degrees for angles)."""

    id: str = Field(default_factory=new_id)
    name: str = Field(min_length=1)
    kind: MeasurementKind
    points: list[Vec3]
    components: list[str] = Field(default_factory=list)
    value: float
    unit: str

    _id = field_validator("id")(_normal_uuid)

    @model_validator(mode="after")
    def _points(self) -> Measurement:
        least, most = _POINTS[self.kind]
        n = len(self.points)
        if n < least or (most is not None and n > most):
            want = f"{least}" if least == most else f"at least {least}"
            raise ValueError(f"a {self.kind} measurement has {want} points, got {n}")
        _finite([self.value, *(x for p in self.points for x in p)], "points and value")
        return self


class Review(_Strict):
    """A project's review: its issues and measurements (``<project>.review/review.json``)."""

    format: Literal["twinviewer-review"] = REVIEW_FORMAT
    version: Literal[1] = REVIEW_VERSION
    issues: list[Issue] = Field(default_factory=list)
    measurements: list[Measurement] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> Review:
        for what, items in (("issue", self.issues), ("measurement", self.measurements)):
            seen: set[str] = set()
            for item in items:
                if item.id in seen:
                    raise ValueError(f"{what} id {item.id} appears twice")
                seen.add(item.id)
        return self

    def issue(self, issue_id: str) -> Issue:
        """The issue with this id (a unique prefix of it is enough); KeyError if none."""
        key = issue_id.strip().lower()
        found = [i for i in self.issues if i.id == key] or [
            i for i in self.issues if i.id.startswith(key)
        ]
        if len(found) != 1:
            raise KeyError(
                f"no issue {issue_id!r}" if not found else f"{issue_id!r} names several issues"
            )
        return found[0]

    def by_status(self, *statuses: str) -> list[Issue]:
        """Issues in any of these states."""
        unknown = set(statuses) - set(STATUSES)
        if unknown:
            raise ValueError(f"unknown status {sorted(unknown)[0]!r}; one of {', '.join(STATUSES)}")
        return [i for i in self.issues if i.status in statuses]

    def by_component(self, component: str) -> list[Issue]:
        """Issues about this component: its own, or one whose viewpoints select it."""
        return [
            i
            for i in self.issues
            if i.component == component or any(component in v.selection for v in i.viewpoints())
        ]

    def by_author(self, author: str) -> list[Issue]:
        """Issues this author opened or commented on."""
        return [
            i
            for i in self.issues
            if i.author == author or any(c.author == author for c in i.comments)
        ]

    def in_window(self, t0: float | None, t1: float | None) -> list[Issue]:
        """Issues whose twin time lies in ``[t0, t1]`` (None: open-ended); timeless ones are
        left out."""
        return [
            i
            for i in self.issues
            if i.time is not None and (t0 is None or i.time >= t0) and (t1 is None or i.time <= t1)
        ]

    def merge(self, issues: Iterable[Issue]) -> tuple[int, int]:
        """Put these issues in: one with a known id replaces it, others are added. Returns
        (added, replaced)."""
        index = {i.id: k for k, i in enumerate(self.issues)}
        added = replaced = 0
        for issue in issues:
            k = index.get(issue.id)
            if k is None:
                index[issue.id] = len(self.issues)
                self.issues.append(issue)
                added += 1
            else:
                self.issues[k] = issue
                replaced += 1
        return added, replaced


def new_issue(
    title: str,
    author: str,
    *,
    text: str = "",
    component: str | None = None,
    time: float | None = None,
    point: Vec3 | None = None,
    priority: str = "normal",
    labels: Iterable[str] = (),
    values: dict[str, float] | None = None,
    viewpoint: Viewpoint | None = None,
) -> Issue:
    """A new open issue with a fresh id, created and modified now."""
    now = utc_now()
    return Issue.model_validate(
        {
            "title": title,
            "author": author,
            "text": text,
            "created": now,
            "modified": now,
            "component": component,
            "time": time,
            "point": point,
            "priority": priority,
            "labels": list(labels),
            "values": dict(values or {}),
            "viewpoint": viewpoint,
        }
    )
