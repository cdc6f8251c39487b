"""What ``twinviewer simulate --mqtt`` obeys: the project's commands that reach its broker.

:class:`CommandListener` knows the topics of the project's ``commands:`` whose target is the
publisher's ``mqtt`` source (an ``mqtt`` target's topic; a ``sparkplug`` target's NCMD/DCMD
topic), reads each message the way the command engine writes it, and hands the value to the
simulator's ``apply_command`` (by the command's id: its setpoint, or else its read-back sensor
held). The simulator then publishes the read-back sensor's new value like any other.

* an ``mqtt`` payload is the command's JSON template filled in: the value is found where the
  template puts ``{value}`` (``{"value": 70, "correlation": ".."}`` by default); a bare JSON
  number, or an object with a ``value`` key, is read as well;
* a ``sparkplug`` payload's metric named as the target's ``metric`` gives the value.

A message that cannot be read (not JSON, no value where the template puts it, a value that is
not a number, a broken protobuf) is counted in ``malformed``; a value the simulator refuses in
``refused``; both are logged, never raised: the publisher keeps running.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Callable
from typing import Any

from twinviewer.core.command_check import PLACEHOLDERS
from twinviewer.core.project import MqttSource, Project
from twinviewer.core.project_commands import Command, MqttTarget, SparkplugTarget
from twinviewer.sources import sparkplug as spb

log = logging.getLogger(__name__)

__all__ = ["CommandListener", "value_path"]

_PROBE = 7.25e77  # stands for {value} while the template is read as JSON
KeyPath = list[str | int]


def value_path(template: str) -> KeyPath | None:
    """Where a payload template puts ``{value}``: the keys and indices down to it (``[]``: the
    whole payload), or None if the template cannot be read that way."""
    probe = template
    for key in PLACEHOLDERS:
        probe = probe.replace("{" + key + "}", repr(_PROBE) if key == "value" else "x")
    try:
        doc = json.loads(probe)
    except json.JSONDecodeError:
        return None

    def find(node: Any, path: KeyPath) -> KeyPath | None:
        if node == _PROBE or node == repr(_PROBE):
            return path
        items: list[tuple[str | int, Any]] = []
        if isinstance(node, dict):
            items = list(node.items())
        elif isinstance(node, list):
            items = list(enumerate(node))
        for k, v in items:
            got = find(v, [*path, k])
            if got is not None:
                return got
        return None

    return find(doc, [])


def _number(v: Any) -> float | None:
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return None
    return None


def read_value(payload: bytes, path: KeyPath | None) -> float:
    """The commanded value in a JSON payload; ValueError saying what is wrong."""
    try:
        doc = json.loads(payload)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"not JSON ({exc})") from None
    candidates: list[Any] = []
    if path is not None:
        node: Any = doc
        for k in path:
            if isinstance(node, dict) and isinstance(k, str) and k in node:
                node = node[k]
            elif isinstance(node, list) and isinstance(k, int) and k < len(node):
                node = node[k]
            else:
                break
        else:
            candidates.append(node)
    candidates.append(doc)
    if isinstance(doc, dict) and "value" in doc:
        candidates.append(doc["value"])
    for c in candidates:
        x = _number(c)
        if x is not None:
            if not math.isfinite(x):
                raise ValueError(f"the value {c!r} is not a finite number")
            return x
    where = "/".join(map(str, path)) if path else "value"
    raise ValueError(f"no number at {where!r} in {payload[:120]!r}")


class CommandListener:
    """The project's commands that arrive over one ``mqtt`` source's broker, applied by
    ``apply`` (a simulator's ``apply_command``)."""

    def __init__(
        self, project: Project, cfg: MqttSource, apply: Callable[[str, float], str]
    ) -> None:
        self.apply = apply
        self.malformed = 0
        self.refused = 0
        self.applied = 0
        self._lock = threading.Lock()
        self._json: dict[str, list[tuple[Command, KeyPath | None]]] = {}
        self._spb: dict[str, list[tuple[Command, str]]] = {}
        for c in project.commands:
            t = c.target
            if t.source != cfg.id:
                continue
            if isinstance(t, MqttTarget):
                path = value_path(t.payload)
                if path is None:
                    log.warning("command %s: its payload template is not JSON", c.id)
                self._json.setdefault(t.topic, []).append((c, path))
            elif isinstance(t, SparkplugTarget):
                kind = "DCMD" if t.device else "NCMD"
                topic = f"{spb.NAMESPACE}/{t.group}/{kind}/{t.node}"
                topic += f"/{t.device}" if t.device else ""
                self._spb.setdefault(topic, []).append((c, t.metric))

    def topics(self) -> list[str]:
        """The topics to subscribe to (QoS 1)."""
        return [*self._json, *self._spb]

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"applied": self.applied, "malformed": self.malformed, "refused": self.refused}

    def handle(self, topic: str, payload: bytes) -> bool:
        """Obey one message; False if ``topic`` carries none of the project's commands."""
        if topic in self._json:
            for command, path in self._json[topic]:
                try:
                    value = read_value(payload, path)
                except ValueError as exc:
                    self._count_malformed(topic, str(exc))
                    continue
                self._apply(command, value)
            return True
        if topic in self._spb:
            try:
                metrics = spb.decode_payload(payload).metrics
            except spb.SparkplugError as exc:
                self._count_malformed(topic, f"not a Sparkplug B payload ({exc})")
                return True
            for command, metric in self._spb[topic]:
                for m in metrics:
                    if m.name != metric:
                        continue
                    x = _number(m.value)
                    if x is None or not math.isfinite(x):
                        self._count_malformed(topic, f"metric {metric!r} = {m.value!r}")
                    else:
                        self._apply(command, x)
            return True
        return False

    def _count_malformed(self, topic: str, why: str) -> None:
        with self._lock:
            self.malformed += 1
        log.warning("command on %s ignored: %s", topic, why)

    def _apply(self, command: Command, value: float) -> None:
        try:
            try:
                sensor = self.apply(command.id, value)
            except ValueError:
                if not command.readback:
                    raise
                sensor = self.apply(command.readback, value)
        except ValueError as exc:
            with self._lock:
                self.refused += 1
            log.warning("command %s = %g refused by the simulator: %s", command.id, value, exc)
            return
        with self._lock:
            self.applied += 1
        log.info("command %s = %g applied (read back by %s)", command.id, value, sensor)
