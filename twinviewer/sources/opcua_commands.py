"""The OPC UA server's side of the two-way link: command nodes that obey, for the right roles only.

:func:`serve_opcua` (``twinviewer simulate --opcua-server``) adds, for each of the project's
``commands:`` with an ``opcua`` target:

* a node write (``node``): a variable at that node id, of the target's variant type, with
  access level *and* user access level ``CurrentRead | CurrentWrite``, holding the last value
  commanded (its read-back is the command's ``readback`` sensor node, moved by the simulator);
* a method call (``method`` on ``object``): the object (made when it is not a node already) and
  the method, with one input argument ``Value`` in the command's unit.

The server itself decides who may do that, so a bug in a client cannot get past it:

* who: the user manager signs users in (``authenticate(name, password)`` gives their role, e.g.
  from the project's user file; anonymous sessions are viewers);
* writes: :class:`CommandWrites` (the server's attribute service) answers a write to a command
  node from a user whose role is below the command's with ``BadUserAccessDenied``, a value that
  is not a number ``BadTypeMismatch`` and one outside ``min``/``max``/``allowed``
  ``BadOutOfRange`` (nothing is applied then); other nodes keep asyncua's checks (the sensors'
  nodes are read-only: ``BadUserAccessDenied`` for everyone);
* calls: :class:`CommandRules` (the permission ruleset every request passes) refuses a Call
  request with a command method the user's role does not allow as a whole, with
  ``BadUserAccessDenied``; the method refuses a bad value as the write does.

An accepted value is applied to the simulator (``apply``: its ``apply_command``) before it is
acknowledged. ``max_step`` (a limit on the change from the read-back) stays with the client's
checks.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from twinviewer.core.project import Project
from twinviewer.core.project_commands import Command, OpcUaTarget, role_rank

if TYPE_CHECKING:
    from asyncua import Server

log = logging.getLogger(__name__)

__all__ = ["ServedCommands", "add_command_nodes", "check_value", "role_of"]

Apply = Callable[[str, float], str]


def role_of(user: Any) -> str:
    """The twin role of an asyncua session user (``viewer`` when it has none)."""
    return str(getattr(user, "twin_role", None) or "viewer")


def check_value(command: Command, raw: Any) -> tuple[float | None, str | None]:
    """(the value, None) if ``raw`` is a value ``command`` accepts, else (None, the status code
    name: ``BadTypeMismatch`` or ``BadOutOfRange``)."""
    if isinstance(raw, bool):
        x = float(raw)
    elif isinstance(raw, (int, float)):
        x = float(raw)
    else:
        return None, "BadTypeMismatch"
    if not math.isfinite(x):
        return None, "BadOutOfRange"
    if command.min is not None and x < command.min:
        return None, "BadOutOfRange"
    if command.max is not None and x > command.max:
        return None, "BadOutOfRange"
    numbers = [a for a in command.allowed or [] if not isinstance(a, str)]
    if command.allowed is not None and x not in numbers:
        return None, "BadOutOfRange"
    return x, None


@dataclass
class ServedCommands:
    """The command nodes a server added: node id -> command, for writes and for calls."""

    writes: dict[Any, Command]
    methods: dict[Any, Command]
    counts: dict[str, int]

    def allowed(self, user: Any, command: Command) -> bool:
        return role_rank(role_of(user)) >= role_rank(command.role)


def _apply(apply: Apply, command: Command, value: float) -> str | None:
    """Apply to the simulator; None if done, else the status code name."""
    try:
        try:
            apply(command.id, value)
        except ValueError:
            if not command.readback:
                raise
            apply(command.readback, value)
    except ValueError as exc:
        log.warning("command %s = %g not applied: %s", command.id, value, exc)
        return "BadNotSupported"
    return None


def _node_id(text: str, ns: int) -> Any:
    """A target's node id, in the twin's namespace (the index the server gave it)."""
    import asyncua

    ua: Any = asyncua.ua

    node = ua.NodeId.from_string(text)
    if node.NamespaceIndex != ns:
        log.warning("command node %s: served in namespace %d (the twin's)", text, ns)
        node = ua.NodeId(node.Identifier, ns, node.NodeIdType)
    return node


async def add_command_nodes(
    server: Server, project: Project, ns: int, parent: Any, apply: Apply
) -> ServedCommands:
    """Add the project's OPC UA command nodes under ``parent`` (the twin's folder) and install
    the server-side checks (:class:`CommandWrites`, :class:`CommandRules`)."""
    import asyncua

    ua: Any = asyncua.ua

    served = ServedCommands({}, {}, {"accepted": 0, "denied": 0, "rejected": 0})
    for command in project.commands:
        t = command.target
        if not isinstance(t, OpcUaTarget):
            continue
        label = command.label or command.id
        unit = f" [{command.unit}]" if command.unit else ""
        if t.node is not None:
            node_id = _node_id(t.node, ns)
            vt = getattr(ua.VariantType, t.variant)
            initial: Any = {"Boolean": False, "String": ""}.get(t.variant, 0)
            if t.variant in ("Float", "Double"):
                initial = math.nan
            var = await parent.add_variable(
                node_id, ua.QualifiedName(command.id, ns), ua.Variant(initial, vt), varianttype=vt
            )
            await var.set_writable(True)  # CurrentRead | CurrentWrite; roles: CommandWrites
            await var.write_attribute(
                ua.AttributeIds.Description,
                ua.DataValue(
                    ua.LocalizedText(
                        f"{label}{unit}: write to command (role {command.role} or above)"
                    )
                ),  # fmt: skip
            )
            served.writes[node_id] = command
            continue
        obj_id = _node_id(str(t.object), ns)
        obj = server.get_node(obj_id)
        try:
            await obj.read_browse_name()
        except ua.UaError:
            obj = await parent.add_object(obj_id, ua.QualifiedName(str(obj_id.Identifier), ns))
        arg = ua.Argument()
        arg.Name = "Value"
        arg.DataType = ua.NodeId(ua.ObjectIds.Double)
        arg.ValueRank = -1
        arg.Description = ua.LocalizedText(f"{label}{unit}")
        method_id = _node_id(str(t.method), ns)
        await obj.add_method(
            method_id,
            ua.QualifiedName(str(method_id.Identifier), ns),
            _method(command, apply, served),
            [arg],
            [],
        )
        served.methods[method_id] = command
    if served.writes or served.methods:
        iserver = server.iserver
        iserver.attribute_service = _writes_class()(iserver.aspace, served, apply)
        log.info(
            "serving %d command node(s) and %d command method(s)",
            len(served.writes),
            len(served.methods),
        )
    return served


def _method(command: Command, apply: Apply, served: ServedCommands) -> Callable[..., Any]:
    async def call(parent: Any, *args: Any) -> Any:
        import asyncua

        ua: Any = asyncua.ua

        raw = args[0].Value if args else None
        value, bad = check_value(command, raw)
        if bad is None:
            assert value is not None
            bad = _apply(apply, command, value)
        if bad is not None:
            served.counts["rejected"] += 1
            return ua.StatusCode(getattr(ua.StatusCodes, bad))
        served.counts["accepted"] += 1
        log.info("method %s: command %s = %g applied", command.target, command.id, value)
        return []

    return call


def _writes_class() -> type:
    """:class:`CommandWrites` (made when asyncua is imported)."""
    import asyncua

    ua: Any = asyncua.ua
    from asyncua.server.address_space import AttributeService

    class CommandWrites(AttributeService):
        """The attribute service with the command nodes' checks: role, type, limits; then the
        simulator obeys and the node takes the value."""

        def __init__(self, aspace: Any, served: ServedCommands, apply: Apply) -> None:
            super().__init__(aspace)
            self.served = served
            self.apply = apply

        async def write(self, params: Any, user: Any = None) -> list[Any]:
            if user is None:
                from asyncua.crypto.permission_rules import User, UserRole

                user = User(role=UserRole.Admin)
            results = []
            for wv in params.NodesToWrite:
                command = self.served.writes.get(wv.NodeId)
                if command is None or wv.AttributeId != ua.AttributeIds.Value:
                    results += await super().write(ua.WriteParameters(NodesToWrite=[wv]), user)
                    continue
                if not self.served.allowed(user, command):
                    self.served.counts["denied"] += 1
                    log.warning(
                        "write to %s refused: user %r (%s) is below %s",
                        command.id,
                        getattr(user, "name", None),
                        role_of(user),
                        command.role,
                    )
                    results.append(ua.StatusCode(ua.StatusCodes.BadUserAccessDenied))
                    continue
                raw = wv.Value.Value.Value if wv.Value and wv.Value.Value else None
                value, bad = check_value(command, raw)
                if bad is None:
                    assert value is not None
                    bad = _apply(self.apply, command, value)
                if bad is not None:
                    self.served.counts["rejected"] += 1
                    results.append(ua.StatusCode(getattr(ua.StatusCodes, bad)))
                    continue
                status = await super().write(ua.WriteParameters(NodesToWrite=[wv]), user)
                self.served.counts["accepted"] += 1
                log.info(
                    "command %s = %g written by %r (%s)",
                    command.id,
                    value,
                    getattr(user, "name", None),
                    role_of(user),
                )
                results += status
            return results

    return CommandWrites


def command_rules(served: ServedCommands) -> Any:
    """The permission ruleset: asyncua's simple roles, and a Call of a command method only for
    users whose role allows it (else the whole request is ``BadUserAccessDenied``)."""
    import asyncua

    ua: Any = asyncua.ua
    from asyncua.crypto.permission_rules import SimpleRoleRuleset
    from asyncua.ua.ua_binary import struct_from_binary

    call_type = ua.NodeId(ua.ObjectIds.CallRequest_Encoding_DefaultBinary)

    class CommandRules(SimpleRoleRuleset):
        def check_validity(self, user: Any, action_type_id: Any, body: Any) -> bool:
            if not super().check_validity(user, action_type_id, body):
                return False
            if action_type_id != call_type or not served.methods:
                return True
            try:
                params = struct_from_binary(ua.CallParameters, body.copy())
            except Exception:  # noqa: BLE001 (a broken request: the service answers it)
                return True
            for call in params.MethodsToCall:
                command = served.methods.get(call.MethodId)
                if command is not None and not served.allowed(user, command):
                    served.counts["denied"] += 1
                    log.warning(
                        "call of %s refused: user %r (%s) is below %s",
                        command.id,
                        getattr(user, "name", None),
                        role_of(user),
                        command.role,
                    )
                    return False
            return True

    return CommandRules()
