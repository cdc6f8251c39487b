"""The ``commands:`` block of a project: setpoints and operations sent from the twin to the
asset, and who may send them.

A command writes one value to the asset through one target:

- ``opcua``: a node write (``node``, with the variant type ``variant``) or a method call
  (``method`` on ``object``, the value its one input argument) on an ``opcua`` source;
- ``mqtt``: a publish on an ``mqtt`` source's broker (``topic``, ``payload`` a JSON template in
  which ``{value}``, ``{command}``, ``{correlation}``, ``{user}`` and ``{time}`` are filled;
  QoS 1);
- ``sparkplug``: a Sparkplug B NCMD (``device`` empty) or DCMD of ``metric`` to ``node`` in
  ``group``.

It is *confirmed* when the ``readback`` sensor shows the value within ``tolerance`` before
``timeout`` seconds, else *failed*. Limits (``min``/``max``, an ``allowed`` set, ``max_step``
from the current read-back value) are checked before anything is sent; a value that breaks
one is never sent. ``role`` is the least role that may send it (viewer < operator <
engineer); ``confirm`` how it is confirmed: ``confirm`` (a dialog), ``password`` (the sender
types their password again), ``two_person`` (a second user with the role approves).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ROLES = ("viewer", "operator", "engineer")
Role = Literal["viewer", "operator", "engineer"]
#: OPC UA variant types a node write may use (asyncua ``ua.VariantType`` names).
VARIANTS = ("Boolean", "SByte", "Byte", "Int16", "UInt16", "Int32", "UInt32", "Int64", "UInt64",
            "Float", "Double", "String")  # fmt: skip


def role_rank(role: str) -> int:
    """0 viewer, 1 operator, 2 engineer (-1: not a role)."""
    return ROLES.index(role) if role in ROLES else -1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class OpcUaTarget(_Strict):
    """A node write or a method call on an ``opcua`` source."""

    type: Literal["opcua"]
    source: str = Field(description="Id of the opcua source whose server receives it")
    node: str | None = Field(None, description="Node id written, e.g. ns=2;s=Fan3.SpeedSetpoint")
    variant: str = Field("Double", description="Variant type of the written value")
    object: str | None = Field(None, description="Method call: the object node id")
    method: str | None = Field(None, description="Method call: the method node id")
    identity: Literal["source", "user"] = Field(
        "source",
        description="Who the server sees: the source's own identity, or the signed-in user's "
        "name and password (the server then enforces its own roles on the write)",
    )

    @model_validator(mode="after")
    def _one(self) -> OpcUaTarget:
        if (self.node is None) == (self.method is None):
            raise ValueError("give either 'node' (a write) or 'method' with 'object' (a call)")
        if self.method is not None and self.object is None:
            raise ValueError("a method call needs the 'object' node that has the method")
        if self.variant not in VARIANTS:
            raise ValueError(f"variant {self.variant!r}: expected one of {', '.join(VARIANTS)}")
        return self


class MqttTarget(_Strict):
    """A JSON publish (QoS 1) on an ``mqtt`` source's broker."""

    type: Literal["mqtt"]
    source: str = Field(description="Id of the mqtt source whose broker receives it")
    topic: str = Field(description="Topic published to, e.g. site/cmd/l3_fan_speed")
    payload: str = Field(
        '{"value": {value}, "correlation": "{correlation}"}',
        description="JSON template: the placeholders {value} (JSON-encoded), {command}, "
        "{correlation}, {user} and {time} (UTC ISO 8601) are replaced literally (no other "
        "braces are special); the result must be valid JSON",
    )


class SparkplugTarget(_Strict):
    """A Sparkplug B NCMD (no device) or DCMD metric."""

    type: Literal["sparkplug"]
    source: str = Field(description="Id of the mqtt (sparkplug_b) source whose broker receives it")
    group: str
    node: str
    device: str | None = None
    metric: str


CommandTarget = Annotated[OpcUaTarget | MqttTarget | SparkplugTarget, Field(discriminator="type")]


class Command(_Strict):
    """One setpoint or operation the twin may send to the asset."""

    id: str = Field(min_length=1)
    label: str | None = Field(None, description="What the operator reads, e.g. 'Fan 3 speed'")
    component: str | None = Field(None, description="The component it belongs to (inspector)")
    type: Literal["number", "integer", "boolean", "choice"] = "number"
    unit: str = ""
    min: float | None = None
    max: float | None = None
    allowed: list[float | str] | None = Field(None, description="The only values allowed")
    max_step: float | None = Field(
        None, gt=0, description="Largest change from the current read-back value in one command"
    )
    target: CommandTarget
    readback: str | None = Field(None, description="Sensor id that reads the value back")
    tolerance: float = Field(0.0, ge=0, description="Read-back within this of the value: confirmed")
    timeout: float = Field(10.0, gt=0, description="Seconds to wait for the read-back")
    role: Role = "operator"
    confirm: Literal["confirm", "password", "two_person"] = "confirm"
    min_interval: float = Field(
        2.0, ge=0, description="Seconds between two sends of this command (rate limit)"
    )

    @model_validator(mode="after")
    def _limits(self) -> Command:
        if self.role == "viewer":
            raise ValueError("a viewer may not send commands: role must be operator or engineer")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min must not be above max")
        if self.type == "choice" and not self.allowed:
            raise ValueError("a 'choice' command needs its 'allowed' values")
        return self


class CommandSettings(_Strict):
    """Project-wide rules of the two-way link."""

    allow_insecure_commands: bool = Field(
        False,
        description="Send over links without TLS/security and authentication (a warning shows "
        "on every command dialog); never in production",
    )
    users: str = Field(
        "users.json", description="The local user file (argon2 hashes), relative to the project"
    )
    audit: str | None = Field(
        None, description="The audit trail file (default: audit.jsonl in the history folder)"
    )


def topic_filter(template: str) -> str:
    """The MQTT subscription filter of a source's topic template (each ``{placeholder}`` one
    level, ``+``)."""
    return "/".join("+" if lv.startswith("{") and lv.endswith("}") else lv
                    for lv in template.split("/"))  # fmt: skip


def filter_matches(flt: str, topic: str) -> bool:
    """Whether MQTT ``topic`` matches the subscription filter ``flt`` (``+``, ``#``)."""
    f, t = flt.split("/"), topic.split("/")
    for i, level in enumerate(f):
        if level == "#":
            return True
        if i >= len(t) or (level != "+" and level != t[i]):
            return False
    return len(f) == len(t)
