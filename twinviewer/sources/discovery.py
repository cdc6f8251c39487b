"""Before an MQTT source is written into a project: can the broker be reached, and what is on it?

* :func:`test_connection` connects once with the source's settings (TLS, credentials, client id:
  the same client :class:`~twinviewer.sources.mqtt.MqttFeed` makes) and says plainly why not:
  nothing listening, an unknown host name, a certificate that does not verify, bad credentials.
* :func:`discover` subscribes to a filter for a few seconds and lists the topics seen: messages,
  rate, the last payload (as text, truncated) and its format, detected by the decoders the feed
  uses (:class:`~twinviewer.sources.payloads.PayloadDecoder`): JSON value, JSON batch,
  Sparkplug B, or unknown.
* :func:`suggest_template` finds the topic template (``{sensor}``, ``{component}``) that maps the
  most of those topics to the project's sensor ids.

Discovery connects with a random client id and a clean session, so a viewer's persistent session
(a fixed ``client_id``) is never touched by it.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import MQTTErrorCode

from twinviewer.core.project import MqttSource, Sensor
from twinviewer.sources import sparkplug as spb
from twinviewer.sources.mqtt import (
    CONNECT_TIMEOUT,
    ConfigError,
    MqttFeed,
    MqttTarget,
    close_leaked_sockets,
    target_of,
    tls_context,
)
from twinviewer.sources.payloads import MALFORMED, NOT_NUMERIC, OVERSIZED, PayloadDecoder
from twinviewer.sources.topics import TopicTemplate

log = logging.getLogger(__name__)

__all__ = [
    "FORMATS",
    "DiscoveryError",
    "TopicSeen",
    "detect_format",
    "discover",
    "source_format",
    "suggest_template",
    "test_connection",
]

#: detected payload formats, and the ``format`` of an MQTT source that reads each
FORMATS = {"json-value": "json", "json-batch": "json_batch", "sparkplug-b": "sparkplug_b"}
UNKNOWN = "unknown"
PREVIEW_CHARS = 120

_BAD_CREDENTIALS = {134, 135}  # CONNACK: bad user name or password; not authorised
_BAD_CLIENT_ID = {133}
_WRONG_FORMAT = {MALFORMED, NOT_NUMERIC, OVERSIZED}


class DiscoveryError(ConnectionError):
    """Discovery could not connect or subscribe; the message says why, plainly."""


@dataclass
class TopicSeen:
    """One topic seen during :func:`discover`."""

    topic: str
    messages: int
    rate: float  # messages per second over the discovery window
    preview: str  # the last payload as text (Sparkplug: its metrics), truncated
    format: str  # json-value, json-batch, sparkplug-b or unknown
    size: int  # bytes of the last payload
    retained: bool = False  # the last message was a retained one


def _config(config: MqttSource | str) -> MqttSource:
    if isinstance(config, MqttSource):
        return config
    return MqttSource(type="mqtt", url=config, topic="#")


# -- connecting ----------------------------------------------------------------------------------


class _Link:
    """One paho client made as the feed makes it, connected on the caller's thread."""

    def __init__(self, config: MqttSource, folder: Path) -> None:
        self.config = config
        self.target: MqttTarget = target_of(config)  # ConfigError
        ctx = tls_context(config, folder) if self.target.tls else None
        # the feed's own client set-up: client id, session, credentials, TLS, timeouts
        self.client = MqttFeed(config, [], folder).make_client(self.target, ctx)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = None
        self.connack: tuple[bool, int, str] | None = None  # (ok, reason code, reason name)
        self.subscribed: list[bool] | None = None

    def _on_connect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        failed = bool(reason.is_failure)
        self.connack = (
            not failed,
            int(getattr(reason, "value", 128 if failed else 0)),
            str(reason),
        )

    def _on_subscribe(
        self, client: paho.Client, userdata: Any, mid: int, reasons: Any, properties: Any
    ) -> None:
        self.subscribed = [not r.is_failure for r in reasons]

    def connect(self, timeout: float) -> str | None:
        """Connect and wait for the CONNACK; None when accepted, else the plain reason."""
        t = self.target
        self.client.connect_timeout = min(timeout, CONNECT_TIMEOUT) if timeout > 0 else 1.0
        try:
            try:
                self.client.connect(t.host, t.port, self.config.keepalive)
            except OSError as exc:
                close_leaked_sockets(exc)
                raise
        except ssl.SSLCertVerificationError as exc:
            detail = exc.verify_message or exc.reason or str(exc)
            return f"TLS: the broker's certificate is not trusted: {detail}"
        except ssl.SSLError as exc:
            return f"TLS handshake with {t.address} failed: {exc.reason or exc}"
        except socket.gaierror:
            return f"cannot resolve the host name {t.host!r} (a typo, or no DNS?)"
        except ConnectionRefusedError:
            return (
                f"connection refused by {t.address}: nothing listens there "
                "(is the broker running, is the port right?)"
            )
        except TimeoutError:
            return f"no answer from {t.address} within {timeout:g} s (firewall, wrong host?)"
        except (OSError, ValueError) as exc:
            why = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            return f"cannot reach {t.address}: {why}"
        deadline = time.monotonic() + timeout
        while self.connack is None and time.monotonic() < deadline:
            rc = self.client.loop(0.05)
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS and self.connack is None:
                why = "the broker closed the connection before accepting it"
                tls = self.config.tls
                if t.tls and (tls is None or not tls.cert_file):
                    why += " (does it require a TLS client certificate?)"
                return f"{why} ({t.address})"
        if self.connack is None:
            return f"{t.address} did not answer the MQTT CONNECT within {timeout:g} s"
        ok, code, name = self.connack
        if ok:
            return None
        if code in _BAD_CREDENTIALS:
            return f"not authorised: the broker refused the username or password ({name})"
        if code in _BAD_CLIENT_ID:
            return f"the broker rejected the client id {self.config.client_id!r} ({name})"
        return f"the broker refused the connection: {name}"

    def close(self) -> None:
        try:
            self.client.disconnect()
            self.client.loop(0.05)
        except Exception:  # closing must never fail
            log.debug("error while disconnecting", exc_info=True)
        sock = self.client.socket()
        if isinstance(sock, socket.socket):
            sock.close()


def test_connection(
    config: MqttSource | str, timeout: float = 5.0, folder: Path | None = None
) -> tuple[bool, str]:
    """Connect once with the source's settings: (True, "connected to ...") or (False, why).

    ``folder``: where relative TLS file paths are found (the project folder)."""
    try:
        link = _Link(_config(config), Path(folder or Path.cwd()))
    except (ConfigError, ValueError) as exc:
        return False, str(exc)
    try:
        problem = link.connect(timeout)
    finally:
        link.close()
    if problem is not None:
        return False, problem
    t = link.target
    how = "TLS" if t.tls else "no TLS"
    who = f" as {t.username!r}" if t.username else ""
    return True, f"connected to {t.address} ({how}){who}"


test_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


# -- discovering ---------------------------------------------------------------------------------


@dataclass
class _Seen:
    messages: int = 0
    payload: bytes = b""
    retained: bool = False


def discover(
    config: MqttSource | str,
    topic_filter: str = "#",
    seconds: float = 3.0,
    on_progress: Callable[[float, int], None] | None = None,
    *,
    folder: Path | None = None,
    stop: threading.Event | None = None,
    max_topics: int = 10_000,
) -> list[TopicSeen]:
    """Subscribe to ``topic_filter`` for ``seconds`` and list the topics seen, by name.

    ``on_progress(fraction, topics so far)`` is called about ten times a second; ``stop`` ends
    the listening early. Raises :class:`DiscoveryError` (with a plain reason) if the broker
    cannot be used or refuses the subscription. At most ``max_topics`` topics are kept."""
    cfg = _config(config)
    cfg = cfg.model_copy(update={"client_id": None, "clean_start": True})
    try:
        TopicTemplate(topic_filter)
        link = _Link(cfg, Path(folder or Path.cwd()))
    except (ConfigError, ValueError) as exc:
        raise DiscoveryError(str(exc)) from None
    seen: dict[str, _Seen] = {}

    def on_message(client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        s = seen.get(msg.topic)
        if s is None:
            if len(seen) >= max_topics:
                return
            s = seen[msg.topic] = _Seen()
        s.messages += 1
        s.payload = bytes(msg.payload)
        s.retained = bool(msg.retain)

    try:
        problem = link.connect(CONNECT_TIMEOUT)
        if problem is not None:
            raise DiscoveryError(problem)
        link.client.on_message = on_message
        rc, _mid = link.client.subscribe(topic_filter, 0)
        if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            raise DiscoveryError(f"cannot subscribe to {topic_filter!r}: {paho.error_string(rc)}")
        start = time.monotonic()
        end = start + max(seconds, 0.0)
        last_progress = 0.0
        while True:
            now = time.monotonic()
            if now >= end or (stop is not None and stop.is_set()):
                break
            rc = link.client.loop(min(0.05, end - now))
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                raise DiscoveryError(
                    f"the connection to {link.target.address} was lost while listening"
                )
            if link.subscribed is not None and not all(link.subscribed):
                raise DiscoveryError(
                    f"the broker refused the subscription to {topic_filter!r} "
                    "(not authorised for it?)"
                )
            if on_progress is not None and now - last_progress >= 0.1:
                last_progress = now
                on_progress(min(1.0, (now - start) / seconds) if seconds > 0 else 1.0, len(seen))
        elapsed = max(time.monotonic() - start, 1e-6)
    finally:
        link.close()
    if on_progress is not None:
        on_progress(1.0, len(seen))
    out = []
    for topic in sorted(seen):
        s = seen[topic]
        fmt = detect_format(topic, s.payload)
        out.append(
            TopicSeen(
                topic=topic,
                messages=s.messages,
                rate=s.messages / elapsed,
                preview=_preview(s.payload, fmt),
                format=fmt,
                size=len(s.payload),
                retained=s.retained,
            )
        )
    log.info("discovered %d topics on %s in %.1f s", len(out), link.target.address, elapsed)
    return out


def _preview(payload: bytes, fmt: str) -> str:
    if fmt == "sparkplug-b":
        try:
            p = spb.decode_payload(payload)
            text = ", ".join(f"{m.name or m.alias}={m.value!r}" for m in p.metrics)
            text = f"seq {p.seq}: {text}" if p.seq is not None else text
        except spb.SparkplugError:
            text = payload.hex()
    else:
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            text = payload[: PREVIEW_CHARS // 2].hex()
    text = " ".join(text.split())
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def _fits(fmt: str, topic: str, payload: bytes) -> bool:
    """Whether the feed's decoder, set to ``fmt``, reads the payload without calling it
    malformed (unknown sensors aside: the project may not know them yet)."""
    levels = topic.split("/")
    last = levels[-1]
    try:
        template = "/".join([*levels[:-1], "{sensor}"]) if last else "#"
        cfg = MqttSource(type="mqtt", url="mqtt://localhost", topic=template, format=fmt)
        sensors = [Sensor(id=last, quantity="q", unit="", range=(0, 1))] if last else []
        decoder = PayloadDecoder(cfg, sensors)
    except ValueError:  # a topic level the template syntax cannot hold ({, +)
        cfg = MqttSource(type="mqtt", url="mqtt://localhost", topic="#", format=fmt)
        decoder = PayloadDecoder(cfg, [])
    decoder.add(topic, payload)
    decoded = decoder.take()
    return not (_WRONG_FORMAT & set(decoded.rejected))


def detect_format(topic: str, payload: bytes) -> str:
    """json-value, json-batch, sparkplug-b or unknown: the first whose decoder reads it."""
    if topic.split("/", 1)[0] == spb.NAMESPACE:
        return "sparkplug-b" if _fits("sparkplug_b", topic, payload) else UNKNOWN
    if not payload:
        return UNKNOWN
    for name, fmt in (("json-value", "json"), ("json-batch", "json_batch")):
        if _fits(fmt, topic, payload):
            return name
    return UNKNOWN


def source_format(detected: Collection[str]) -> str:
    """The source ``format`` for the formats detected on the chosen topics (the most common)."""
    counts: dict[str, int] = {}
    for d in detected:
        if d in FORMATS:
            counts[FORMATS[d]] = counts.get(FORMATS[d], 0) + 1
    return max(counts, key=lambda k: counts[k]) if counts else "json"


# -- templates -----------------------------------------------------------------------------------


def suggest_template(
    topics: Sequence[str | TopicSeen],
    sensor_ids: Collection[str],
    components: Collection[str] = (),
) -> str | None:
    """The topic template that maps the most ``topics`` to ``sensor_ids``, or None.

    A topic level that holds a sensor id becomes ``{sensor}``; the other levels stay literal
    where every mapped topic agrees, else become ``{component}`` (when all their values are
    ``components``) or ``+``. Sparkplug B topics (sensors are metric names) give
    ``spBv1.0/<group>/#``."""
    names = [t.topic if isinstance(t, TopicSeen) else t for t in topics]
    sensors = set(sensor_ids)
    comps = set(components)
    # candidates: (number of levels, the level that holds the sensor) -> topics
    groups: dict[tuple[int, int], list[list[str]]] = {}
    for name in names:
        levels = name.split("/")
        for i, level in enumerate(levels):
            if level in sensors:
                groups.setdefault((len(levels), i), []).append(levels)
    best: tuple[int, int, str] | None = None  # (topics mapped, -wildcards, template)
    for (n, i), members in groups.items():
        template = []
        wild = 0
        for j in range(n):
            if j == i:
                template.append("{sensor}")
                continue
            values = {m[j] for m in members}
            if len(values) == 1:
                template.append(next(iter(values)))
            elif comps and values <= comps and "{component}" not in template:
                template.append("{component}")
                wild += 1
            else:
                template.append("+")
                wild += 1
        text = "/".join(template)
        try:
            tt = TopicTemplate(text)
        except ValueError:
            continue
        mapped = sum(
            1 for name in names if (m := tt.match(name))[0] and m[1] is not None and m[1] in sensors
        )
        key = (mapped, -wild, text)
        if best is None or key[:2] > best[:2]:
            best = key
    if best is not None:
        return best[2]
    spb_groups = {
        parts[1]
        for parts in (name.split("/") for name in names)
        if len(parts) >= 4 and parts[0] == spb.NAMESPACE
    }
    if spb_groups:
        group = next(iter(spb_groups)) if len(spb_groups) == 1 else "+"
        return f"{spb.NAMESPACE}/{group}/#"
    return None
