"""Delivering one command to the asset: an MQTT publish (QoS 1, until the broker's PUBACK), a
Sparkplug B NCMD/DCMD, an OPC UA write or method call, or the in-process simulator.

Each function blocks until the broker or server acknowledged (or refused) and returns what
happened in words, or raises :class:`DeliveryError` with the reason in words. They are called
from a worker thread of :class:`twinviewer.session.commands.CommandService`, never from the GUI
thread. Connections are short-lived: one per command, with the source's own URL, TLS and
credentials (or, for an OPC UA target with ``identity: user``, the signed-in user's).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho

from twinviewer.core.command_check import Value, fill_payload, numeric
from twinviewer.core.project import MqttSource, OpcUaSource, SimulatorSource
from twinviewer.core.project_commands import Command, MqttTarget, OpcUaTarget, SparkplugTarget
from twinviewer.sources import sparkplug as spb
from twinviewer.sources.base import Source
from twinviewer.sources.mqtt import (
    ConfigError,
    close_leaked_sockets,
    paho_client,
    target_of,
    tls_context,
)

log = logging.getLogger(__name__)

__all__ = ["DeliveryError", "deliver", "opcua_status_words", "to_simulator"]

#: OPC UA status codes a write or call may get, in words
STATUS_WORDS = {
    "BadUserAccessDenied": "access denied for this user",
    "BadNotWritable": "the node is not writable",
    "BadWriteNotSupported": "the node does not support this write",
    "BadTypeMismatch": "the value's type does not match the node's data type",
    "BadOutOfRange": "the value is outside the node's range",
    "BadNodeIdUnknown": "the node does not exist on the server",
    "BadNodeIdInvalid": "the node id is not valid",
    "BadAttributeIdInvalid": "the node has no value to write",
    "BadMethodInvalid": "the method does not exist on that object",
    "BadArgumentsMissing": "the method needs more arguments",
    "BadTooManyArguments": "the method takes fewer arguments",
    "BadInvalidArgument": "the method rejected the argument",
    "BadNotExecutable": "the method cannot be executed now",
    "BadNotImplemented": "the server does not implement this",
    "BadSecurityModeInsufficient": "the connection's security is not enough for this",
    "BadIdentityTokenInvalid": "the server rejected the user name or password",
    "BadIdentityTokenRejected": "the server rejected the user name or password",
    "BadTimeout": "the server did not answer in time",
}


class DeliveryError(Exception):
    """The command did not reach the asset, or the asset's server refused it."""


# -- the simulator ----------------------------------------------------------------------------


def to_simulator(sim: Source, command: Command, value: Value) -> str:
    """Hand the command to the in-process simulator (its ``apply_command`` hook: the command's
    id, else the read-back sensor it should hold)."""
    apply = getattr(sim, "apply_command", None)
    if apply is None:
        raise DeliveryError("the simulator does not take commands (no apply_command)")
    x = numeric(command, value)
    try:
        apply(command.id, x)
    except ValueError as exc:
        if not command.readback:
            raise DeliveryError(str(exc)) from None
        try:
            apply(command.readback, x)
        except ValueError as exc2:
            raise DeliveryError(str(exc2)) from None
    return f"applied by the simulator {sim.id}"


# -- MQTT and Sparkplug -----------------------------------------------------------------------


def _publish(cfg: MqttSource, folder: Path, topic: str, payload: bytes, timeout: float) -> str:
    """Connect, publish QoS 1, wait for the PUBACK, disconnect."""
    try:
        target = target_of(cfg)
        ctx = tls_context(cfg, folder) if target.tls else None
    except ConfigError as exc:
        raise DeliveryError(str(exc)) from None
    client = paho_client(target, ctx, f"twinviewer-cmd-{uuid.uuid4().hex[:12]}", timeout=timeout)
    answered = threading.Event()
    refused: list[str] = []

    def on_connect(c: paho.Client, u: Any, flags: Any, rc: Any, props: Any = None) -> None:
        if rc.is_failure:
            refused.append(str(rc))
        answered.set()

    client.on_connect = on_connect
    try:
        client.connect(target.host, target.port, keepalive=30)
    except Exception as exc:  # noqa: BLE001 (OSError, ssl errors, paho's): all are reasons
        close_leaked_sockets(exc)
        raise DeliveryError(f"cannot connect to the broker {target.address}: {exc}") from None
    client.loop_start()
    try:
        if not answered.wait(timeout):
            raise DeliveryError(f"the broker {target.address} did not answer in {timeout:g} s")
        if refused:
            raise DeliveryError(f"the broker {target.address} refused the connection: {refused[0]}")
        info = client.publish(topic, payload, qos=1)
        deadline = time.monotonic() + timeout
        while not info.is_published() and time.monotonic() < deadline:
            info.wait_for_publish(0.1)
        if not info.is_published():
            raise DeliveryError(f"no PUBACK from the broker {target.address} in {timeout:g} s")
    finally:
        client.disconnect()
        client.loop_stop()
    return f"published to {topic} (QoS 1, acknowledged by {target.address})"


def sparkplug_message(t: SparkplugTarget, command: Command, value: Value) -> tuple[str, bytes]:
    """The NCMD/DCMD topic and payload for one metric write."""
    if t.device:
        topic = f"spBv1.0/{t.group}/DCMD/{t.node}/{t.device}"
    else:
        topic = f"spBv1.0/{t.group}/NCMD/{t.node}"
    now_ms = int(time.time() * 1000)
    if isinstance(value, bool):
        metric = spb.Metric(
            name=t.metric, timestamp=now_ms, datatype=spb.DataType.BOOLEAN, value=value
        )
    elif isinstance(value, str):
        metric = spb.Metric(
            name=t.metric, timestamp=now_ms, datatype=spb.DataType.STRING, value=value
        )
    elif command.type == "integer":
        metric = spb.Metric(
            name=t.metric, timestamp=now_ms, datatype=spb.DataType.INT64, value=int(value)
        )
    else:
        metric = spb.double_metric(t.metric, float(value), now_ms)
    return topic, spb.encode_payload(spb.Payload(timestamp=now_ms, metrics=[metric]))


# -- OPC UA -----------------------------------------------------------------------------------


def opcua_status_words(name: str) -> str:
    """A status code's name in words: ``BadUserAccessDenied`` -> "the server refused: access
    denied for this user (BadUserAccessDenied)"."""
    words = STATUS_WORDS.get(name)
    if words is None:
        try:
            from asyncua.ua import status_codes

            code = getattr(status_codes.StatusCodes, name, None)
            doc = status_codes.code_to_name_doc.get(code, (name, ""))[1] if code else ""
        except ImportError:
            doc = ""
        words = doc.rstrip(".").lower() or name
    return f"the server refused: {words} ({name})"


def _variant(target: OpcUaTarget, value: Value) -> Any:
    from asyncua import ua

    vt = getattr(ua.VariantType, target.variant)
    if target.variant == "Boolean":
        v: Any = bool(value)
    elif target.variant in ("Float", "Double"):
        v = float(value)
    elif target.variant == "String":
        v = str(value)
    else:
        v = int(value)
    return ua.Variant(v, vt)


async def _opcua(
    cfg: OpcUaSource, folder: Path, target: OpcUaTarget, value: Value, timeout: float
) -> str:
    from asyncua import ua

    from twinviewer.sources.opcua_connect import (
        _close_client,
        _load_credentials,
        _open_client,
        _status_name,
    )

    creds = _load_credentials(cfg, folder)
    client = await _open_client(cfg, creds, timeout)
    try:
        variant = _variant(target, value)
        if target.method is not None:
            obj = client.get_node(str(target.object))
            out = await obj.call_method(ua.NodeId.from_string(target.method), variant)
            return f"called {target.method} on {target.object}" + (
                f" (returned {out})" if out is not None else ""
            )
        node = client.get_node(str(target.node))
        await node.write_attribute(ua.AttributeIds.Value, ua.DataValue(variant))
        return f"wrote {target.node} = {variant.Value} ({target.variant}); the server said Good"
    except ua.UaStatusCodeError as exc:
        name = _status_name(exc) or type(exc).__name__
        raise DeliveryError(opcua_status_words(name)) from None
    finally:
        await _close_client(client)


def _write_opcua(
    cfg: OpcUaSource,
    folder: Path,
    target: OpcUaTarget,
    value: Value,
    timeout: float,
    identity: tuple[str, str] | None,
) -> str:
    from twinviewer.sources.opcua_connect import OpcUaError, _describe

    if identity is not None:  # the signed-in user is who the server sees
        cfg = cfg.model_copy(
            update={"username": identity[0], "password": identity[1], "password_env": None}
        )
    try:
        return asyncio.run(asyncio.wait_for(_opcua(cfg, folder, target, value, timeout), timeout))
    except DeliveryError:
        raise
    except OpcUaError as exc:
        raise DeliveryError(f"OPC UA {cfg.endpoint}: {exc}") from None
    except ImportError:
        raise DeliveryError(
            "OPC UA needs the asyncua package: pip install 'twinviewer[opcua]'"
        ) from None
    except Exception as exc:  # noqa: BLE001 (connection errors of every kind)
        raise DeliveryError(f"OPC UA {cfg.endpoint}: {_describe(exc)}") from None


# -- the one entry point ----------------------------------------------------------------------


def deliver(
    cfg: MqttSource | OpcUaSource | SimulatorSource,
    folder: Path,
    command: Command,
    value: Value,
    fields: dict[str, Any],
    *,
    timeout: float = 10.0,
    identity: tuple[str, str] | None = None,
) -> str:
    """Send ``value`` to ``command``'s target over the source ``cfg``; ``fields`` fill an MQTT
    template (command, correlation, user, time as epoch seconds)."""
    t = command.target
    if isinstance(t, MqttTarget):
        if not isinstance(cfg, MqttSource):
            raise DeliveryError(f"source {cfg.id} is not an mqtt source")
        from twinviewer.core.audit import utc_text

        filled = {**fields, "value": value, "time": utc_text(float(fields.get("time", 0)))}
        try:
            payload = fill_payload(t.payload, filled)
        except ValueError as exc:
            raise DeliveryError(str(exc)) from None
        return _publish(cfg, folder, t.topic, payload, timeout)
    if isinstance(t, SparkplugTarget):
        if not isinstance(cfg, MqttSource):
            raise DeliveryError(f"source {cfg.id} is not an mqtt source")
        topic, data = sparkplug_message(t, command, value)
        return _publish(cfg, folder, topic, data, timeout)
    if not isinstance(cfg, OpcUaSource):
        raise DeliveryError(f"source {cfg.id} is not an opcua source")
    return _write_opcua(cfg, folder, t, value, timeout, identity)
