"""The checks a command's value passes before anything is sent (pure: no I/O, no clock).

Every check returns ``None`` when the value may go, else the reason in words, with the unit:
the type (number, integer, boolean, choice), ``min``/``max``, the ``allowed`` set, ``max_step``
from the current read-back value, and the rate limit (``min_interval`` since the last send of
the command). :func:`fill_payload` fills an MQTT JSON template; :func:`link_problem` says why
a source's link is not secure enough for commands.
"""

from __future__ import annotations

import json
import math
from typing import Any

from twinviewer.core.project import MqttSource, OpcUaSource, SimulatorSource
from twinviewer.core.project_commands import Command

Value = float | int | bool | str

_TRUE = {"true", "on", "yes", "1"}
_FALSE = {"false", "off", "no", "0"}
PLACEHOLDERS = ("value", "command", "correlation", "user", "time")


class ValueRefused(ValueError):
    """The value breaks a limit of its command; the message says which and why."""


def _with_unit(v: float, unit: str) -> str:
    return f"{v:g} {unit}".strip()


def coerce(command: Command, value: Any) -> Value:
    """The value as its command's type wants it (``"70"`` -> 70.0 for a number, ``"on"`` ->
    True for a boolean...). Raises :class:`ValueRefused` saying what was expected."""
    kind = command.type
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise ValueRefused(f"{value!r} is not a boolean: expected true or false")
    if kind == "choice":
        allowed = command.allowed or []
        for a in allowed:
            if value == a or str(value).strip() == str(a):
                return a
            try:
                if isinstance(a, float) and float(value) == a:
                    return a
            except (TypeError, ValueError):
                pass
        raise ValueRefused(
            f"{value!r} is not one of the choices: {', '.join(str(a) for a in allowed)}"
        )
    if isinstance(value, bool):
        raise ValueRefused(f"{value!r} is not a number")
    try:
        number = float(value.strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise ValueRefused(f"{value!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueRefused(f"{value!r} is not a finite number")
    if kind == "integer":
        if number != int(number):
            raise ValueRefused(f"{value!r} is not a whole number (the command takes integers)")
        return int(number)
    return number


def numeric(command: Command, value: Value) -> float:
    """The number a read-back sensor shows for this value: itself, 1/0 for a boolean, and
    for a text choice its position in ``allowed``."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return float((command.allowed or []).index(value))
    return float(value)


def check_value(command: Command, value: Any, current: float | None = None) -> str | None:
    """Why ``value`` may not be sent for ``command`` (``current``: the read-back's live value,
    for ``max_step``), or None when it is within every limit."""
    try:
        v = coerce(command, value)
    except ValueRefused as exc:
        return str(exc)
    unit = command.unit
    if command.type in ("number", "integer"):
        x = float(v)
        if command.min is not None and x < command.min:
            return f"{_with_unit(x, unit)} is below the minimum {_with_unit(command.min, unit)}"
        if command.max is not None and x > command.max:
            return f"{_with_unit(x, unit)} is above the maximum {_with_unit(command.max, unit)}"
        if command.allowed is not None and not any(
            not isinstance(a, str) and float(a) == x for a in command.allowed
        ):
            shown = ", ".join(str(a) for a in command.allowed)
            return f"{_with_unit(x, unit)} is not one of the allowed values ({shown} {unit})"
        if command.max_step is not None:
            if current is None or not math.isfinite(current):
                return (
                    "the current value is unknown (no read-back yet), so the step limit of "
                    f"{_with_unit(command.max_step, unit)} cannot be checked"
                )
            step = abs(x - current)
            if step > command.max_step + 1e-12:
                return (
                    f"a change of {_with_unit(step, unit)} from the current "
                    f"{_with_unit(current, unit)} is more than the largest step "
                    f"{_with_unit(command.max_step, unit)}"
                )
    elif command.type == "boolean" and command.allowed is not None:
        if not any(numeric(command, v) == float(a) for a in command.allowed if a != ""):
            return f"{v} is not allowed for this command"
    return None


def rate_limited(command: Command, last_sent: float | None, now: float) -> str | None:
    """Why the command may not be sent again yet (``min_interval`` seconds since
    ``last_sent``), or None."""
    if last_sent is None or command.min_interval <= 0:
        return None
    wait = command.min_interval - (now - last_sent)
    if wait > 0:
        return (
            f"rate limit: at most one send every {command.min_interval:g} s; wait {wait:.1f} s more"
        )
    return None


def fill_payload(template: str, values: dict[str, Any]) -> bytes:
    """An MQTT payload from its JSON template: ``{value}`` becomes the value JSON-encoded, the
    other placeholders (``{command}``, ``{correlation}``, ``{user}``, ``{time}``) their text
    JSON-escaped (the template puts the quotes). Raises ValueError when the result is not JSON,
    with the reason."""
    out = template
    for key in PLACEHOLDERS:
        if key not in values:
            continue
        v = values[key]
        text = json.dumps(v) if key == "value" else json.dumps(str(v))[1:-1]
        out = out.replace("{" + key + "}", text)
    try:
        json.loads(out)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"the payload template does not give valid JSON ({exc.msg} at character "
            f"{exc.pos}): {out[:200]}"
        ) from None
    return out.encode("utf-8")


def link_problem(
    source: MqttSource | OpcUaSource | SimulatorSource, user_identity: bool = False
) -> str | None:
    """Why a source's link is not secure enough for commands (no TLS / security, or no
    authentication), or None. ``user_identity``: the signed-in user's name and password go as
    the OPC UA identity (that is authentication). The simulator runs in-process: nothing
    travels."""
    if isinstance(source, MqttSource):
        from urllib.parse import urlsplit

        scheme = urlsplit(source.url).scheme.lower()
        problems = []
        if scheme not in ("mqtts", "ssl", "tls"):
            problems.append("no TLS (mqtt://, not mqtts://)")
        if not (source.username or urlsplit(source.url).username):
            problems.append("no authentication (no user name)")
        return f"the link to {source.id} has " + " and ".join(problems) if problems else None
    if isinstance(source, OpcUaSource):
        problems = []
        if source.security_policy == "None" or source.security_mode == "None":
            problems.append("no security (security policy None)")
        if not source.username and not user_identity:
            problems.append("no authentication (anonymous)")
        return f"the link to {source.id} has " + " and ".join(problems) if problems else None
    return None
