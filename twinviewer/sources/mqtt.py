"""MQTT as a live source: paho-mqtt 2.x, one connection per source, decoded by
:class:`~twinviewer.sources.payloads.PayloadDecoder`.

The source thread owns the paho client and runs its network loop itself (``client.loop``), so
that connecting, back-off and the reasons shown in the status are all decided in one place:

* ``mqtt://host[:1883]`` or ``mqtts://host[:8883]`` (TLS with the system's CAs, or ``tls.ca_file``;
  a client certificate for mutual TLS; the server's hostname is verified unless
  ``tls.verify_hostname`` is false). Paths are relative to the project folder.
* MQTT 3.1.1. With a fixed ``client_id`` and ``clean_start: false`` the broker keeps the session
  while the viewer is away and delivers what it queued (QoS 1) when the viewer comes back; without
  a client id the session is always clean (a random id would leave orphan sessions behind).
* Reconnects after 1 s, doubling to 30 s; the delay returns to 1 s once a connection has held for
  10 s, so that a broker that accepts and drops at once (another client with the same id) is not
  hammered. A broker that refuses the credentials, the client id, or a TLS certificate gets one
  attempt every 30 s and the state ERROR with the reason.
* Messages are decoded as they arrive; the decoded columns are emitted as one batch at most every
  :attr:`MqttFeed.flush_interval` seconds (immediately when the feed was idle), so a high message
  rate does not turn into thousands of tiny batches for the drawing side.
"""

from __future__ import annotations

import logging
import os
import select
import socket
import ssl
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from twinviewer.core.fleet import FleetIndex
from twinviewer.core.gaps import BROKER_RESTART, DISCONNECTION, Gap
from twinviewer.core.project import MqttSource, Sensor
from twinviewer.core.samples import SampleBatch
from twinviewer.sources import sparkplug as spb
from twinviewer.sources.base import Source, SourceState
from twinviewer.sources.payloads import Decoded, PayloadDecoder

log = logging.getLogger(__name__)

__all__ = ["MqttFeed", "MqttTarget", "close_leaked_sockets", "parse_url", "tls_context"]

FIRST_DELAY = 1.0
MAX_DELAY = 30.0
STABLE_AFTER = 10.0  # seconds a connection must hold before the back-off starts from 1 s again
CONNECT_TIMEOUT = 5.0
IDLE_WAIT = 1.0  # seconds the network loop may sleep when nothing is pending
SCHEMES = {"mqtt": False, "tcp": False, "mqtts": True, "ssl": True, "tls": True}

# CONNACK reason codes (paho maps MQTT 3.1.1 return codes onto the MQTT 5 ones)
_BAD_CREDENTIALS = {134, 135}  # bad user name or password; not authorized
_BAD_CLIENT_ID = {133}


class ConfigError(ValueError):
    """The source's settings cannot work (bad URL, missing file or environment variable)."""


@dataclass(frozen=True)
class MqttTarget:
    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


def parse_url(url: str) -> tuple[str, int, bool, str | None, str | None]:
    """(host, port, tls, username, password) from ``mqtt[s]://[user[:pw]@]host[:port]``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"bad broker URL {url!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ConfigError(
            f"bad broker URL {url!r}: expected mqtt://host[:1883] or mqtts://host[:8883]"
        )
    if not parts.hostname:
        raise ConfigError(f"bad broker URL {url!r}: no host")
    tls = SCHEMES[scheme]
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return parts.hostname, port or (8883 if tls else 1883), tls, user, password


def target_of(config: MqttSource) -> MqttTarget:
    host, port, tls, url_user, url_password = parse_url(config.url)
    if config.tls is not None and not tls:
        raise ConfigError(f"'tls' settings are given but the URL {config.url!r} is not mqtts://")
    password = config.password or url_password
    if config.password_env:
        password = os.environ.get(config.password_env)
        if password is None:
            raise ConfigError(f"environment variable {config.password_env} is not set")
    return MqttTarget(host, port, tls, config.username or url_user, password)


def paho_client(
    target: MqttTarget,
    ctx: ssl.SSLContext | None,
    client_id: str,
    clean: bool = True,
    reconnect: bool = False,
    timeout: float | None = None,
) -> paho.Client:
    """A paho client (MQTT 3.1.1) with ``target``'s credentials and the TLS context ``ctx``:
    what the feed, topic discovery, the connection test, the publisher and command delivery
    all connect with. ``reconnect``: paho reconnects by itself; ``timeout``: connect timeout."""
    client = paho.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=clean,
        protocol=paho.MQTTv311,
        reconnect_on_failure=reconnect,
    )
    if timeout is not None:
        client.connect_timeout = timeout
    if target.username is not None:
        client.username_pw_set(target.username, target.password)
    if ctx is not None:
        client.tls_set_context(ctx)
        client.tls_insecure_set(not ctx.check_hostname)
    return client


def tls_context(config: MqttSource, folder: Path) -> ssl.SSLContext:
    """The TLS context of a source: its CA (else the system's), client certificate, hostname
    check."""

    def path(p: str) -> str:
        full = Path(p) if Path(p).is_absolute() else folder / p
        if not full.is_file():
            raise ConfigError(f"TLS: file not found: {full}")
        return str(full)

    tls = config.tls
    try:
        if tls is not None and tls.ca_file:
            ctx = ssl.create_default_context(cafile=path(tls.ca_file))
        else:
            ctx = ssl.create_default_context()
        if tls is not None and tls.cert_file:
            ctx.load_cert_chain(path(tls.cert_file), path(tls.key_file) if tls.key_file else None)
        elif tls is not None and tls.key_file:
            raise ConfigError("TLS: key_file is given without cert_file")
    except ssl.SSLError as exc:
        raise ConfigError(f"TLS: cannot load certificates: {exc.reason or exc}") from None
    ctx.check_hostname = tls.verify_hostname if tls is not None else True
    return ctx


def close_leaked_sockets(exc: BaseException) -> None:
    """Close sockets left open in the frames of a failed connect.

    paho does not close the socket when the TLS handshake fails; the traceback keeps it alive
    and it would be collected unclosed (a ResourceWarning, and a file descriptor held until
    then)."""
    tb = exc.__traceback__
    while tb is not None:
        for value in list(tb.tb_frame.f_locals.values()):
            if isinstance(value, socket.socket):
                value.close()
        tb = tb.tb_next


class MqttFeed(Source):
    """Subscribes to a broker and emits the decoded samples."""

    #: at most one emitted batch per this many seconds while messages keep coming
    flush_interval = 0.02
    #: emit at once when this many samples are pending
    flush_samples = 100_000
    #: packets read after one select while they keep producing messages
    reads_per_select = 1000
    #: seconds between two rebirth requests to the same Sparkplug edge node
    rebirth_interval = 5.0

    def __init__(self, config: MqttSource, sensors: Sequence[Sensor], folder: Path) -> None:
        super().__init__(config.id)
        self.config = config
        self.sensors = list(sensors)
        self.folder = Path(folder)
        self.flags = self.status.flags  # out_of_order, duplicate (accepted, not rejections)
        self.connects = 0  # connection attempts (TCP/TLS + CONNECT)
        self.sessions_resumed = 0  # CONNACKs that said the broker kept our session
        self.rebirths_requested = 0  # Sparkplug NCMD Node Control/Rebirth sent
        #: called with every :class:`Decoded` (arrival times too), e.g. by a recorder
        self.on_decoded: Callable[[Decoded], None] | None = None
        #: a fleet's sensor index (set before start): ``{unit}`` topics and Sparkplug devices
        #: are units (:mod:`twinviewer.sources.fleet_decode`)
        self.index: FleetIndex | None = None
        self._decoder: PayloadDecoder | None = None
        self._client: paho.Client | None = None
        self._last_flush = 0.0
        self._dirty = False
        self._add: Any = None  # the decoder's add (bound once)
        # per connection
        self._refused: tuple[SourceState, str, float | None] | None = None
        self._pending_subs: dict[int, str] = {}
        self._connected_at: float | None = None
        # delivery accounting across reconnects
        self._had_link = False  # a connection has been up before (so a new one is a return)
        self._refused_while_down = False  # a reconnect attempt found no broker listening
        self._last_source_time: float | None = None  # newest sample time received
        self._link_samples = 0  # samples received on the current connection
        self._estimate: tuple[float, float, str] | None = None  # (since, samples/s, cause)
        self._rebirth_sent: dict[tuple[str, str], float] = {}
        # a socket pair that stop() writes to, so that the network loop wakes at once
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None

    # -- the thread ----------------------------------------------------------------------------

    def stop(self, timeout: float = 5.0) -> None:
        """Disconnect cleanly and end the thread (the network loop is woken at once)."""
        self._stop.set()
        w = self._wake_w
        if w is not None:
            try:
                w.send(b"\0")
            except OSError:
                pass
        super().stop(timeout)

    def _drain_wake(self, r: socket.socket) -> None:
        try:
            while r.recv(64):
                pass
        except OSError:  # BlockingIOError: drained
            pass

    def run(self) -> None:
        r, w = socket.socketpair()
        r.setblocking(False)
        self._wake_r, self._wake_w = r, w
        try:
            self._run_feed()
        finally:
            self._wake_r = self._wake_w = None
            w.close()
            r.close()

    def _run_feed(self) -> None:
        cfg = self.config
        try:
            target = target_of(cfg)
            ctx = tls_context(cfg, self.folder) if target.tls else None
            if self.index is None:
                self._decoder = PayloadDecoder(cfg, self.sensors)
            else:
                from twinviewer.sources.fleet_decode import FleetDecoder

                self._decoder = FleetDecoder(cfg, self.sensors, self.index)
            self._add = self._decoder.add
        except ValueError as exc:  # ConfigError, or a bad topic template
            self._set(SourceState.ERROR, str(exc))
            return
        client = self._client = self.make_client(target, ctx)
        delay = FIRST_DELAY
        first = True
        try:
            while not self.stopping:
                if first:
                    self._set(SourceState.CONNECTING, f"connecting to {target.address}")
                elif self.status.state != SourceState.ERROR:  # an error stays shown while retrying
                    self._set(SourceState.RECONNECTING, self.status.message)
                first = False
                problem = self._connect(client, target)
                if problem is None:
                    problem = self._serve(client, target)
                    self._link_down()
                if self.stopping:
                    break
                state, reason, wait = problem
                if wait is None:  # a transient failure: exponential back-off
                    if (
                        self._connected_at is not None
                        and time.monotonic() - self._connected_at >= STABLE_AFTER
                    ):
                        delay = FIRST_DELAY
                    wait = delay
                    delay = min(delay * 2, MAX_DELAY)
                else:
                    delay = MAX_DELAY
                self._connected_at = None
                self._set(state, f"{reason}; retrying in {wait:.0f} s")
                self._stop.wait(wait)
        finally:
            self._close(client)

    def make_client(self, target: MqttTarget, ctx: ssl.SSLContext | None) -> paho.Client:
        """A paho client set up as this source connects (client id and session, TLS,
        credentials); topic discovery and the connection test use it too."""
        cfg = self.config
        clean = cfg.clean_start or not cfg.client_id
        if not cfg.clean_start and not cfg.client_id:
            log.info("source %s: no client_id, so no persistent session (clean start)", self.id)
        client_id = cfg.client_id or f"twinviewer-{uuid.uuid4().hex[:12]}"
        client = paho_client(target, ctx, client_id, clean, timeout=CONNECT_TIMEOUT)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def _connect(
        self, client: paho.Client, target: MqttTarget
    ) -> tuple[SourceState, str, float | None] | None:
        """Open the connection and send CONNECT; None on success, else (state, reason, wait)."""
        self.connects += 1
        self._refused = None
        try:
            try:
                client.connect(target.host, target.port, self.config.keepalive)
            except OSError as exc:
                close_leaked_sockets(exc)
                raise
        except ssl.SSLCertVerificationError as exc:
            detail = exc.verify_message or exc.reason or str(exc)
            return SourceState.ERROR, f"TLS: certificate verify failed: {detail}", MAX_DELAY
        except ssl.SSLError as exc:
            return SourceState.ERROR, f"TLS: {exc.reason or exc}", MAX_DELAY
        except (OSError, ValueError) as exc:
            if isinstance(exc, ConnectionRefusedError):
                self._refused_while_down = True  # the host is up, the broker is not
            why = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            return SourceState.RECONNECTING, f"cannot reach {target.address}: {why}", None
        return None

    def _serve(
        self, client: paho.Client, target: MqttTarget
    ) -> tuple[SourceState, str, float | None]:
        """Run paho's network loop (its external-loop interface) until the connection ends or
        the source stops.

        When the socket is readable, packets are read one after another for as long as they
        keep producing messages, rather than one ``select`` per message as ``loop()`` does:
        at tens of thousands of messages per second that is a fifth of the cost per message.
        """
        status = self.status
        wake = self._wake_r
        assert wake is not None
        rc = MQTTErrorCode.MQTT_ERR_SUCCESS
        while not self.stopping:
            sock = client.socket()
            if sock is None:
                rc = MQTTErrorCode.MQTT_ERR_CONN_LOST
                break
            pending = sock.pending() if isinstance(sock, ssl.SSLSocket) else 0
            if pending:
                readable = True
            else:
                wlist = [sock] if client.want_write() else []
                # short waits while samples are pending, longer ones when idle (stop() wakes
                # the loop through the wake-up socket)
                timeout = self.flush_interval if self._dirty or wlist else IDLE_WAIT
                try:
                    r, _w, _x = select.select([sock, wake], wlist, [], timeout)
                except (OSError, ValueError):
                    rc = MQTTErrorCode.MQTT_ERR_CONN_LOST
                    break
                if wake in r:
                    self._drain_wake(wake)
                readable = sock in r
            if readable:
                for _ in range(self.reads_per_select):
                    before = status.messages
                    rc = client.loop_read()
                    if rc != MQTTErrorCode.MQTT_ERR_SUCCESS or status.messages == before:
                        break
                if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                    break
            if client.want_write():
                rc = client.loop_write()
                if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                    break
            rc = client.loop_misc()  # keepalive pings, ping timeout
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                break
            if self._dirty and time.monotonic() - self._last_flush >= self.flush_interval:
                self._flush()
            elif self._decoder is not None and self._decoder.tracker.pending:
                for gap in self._decoder.take_gaps():  # confirmed while no message came
                    self.report_gap(gap)
        else:
            return SourceState.STOPPED, "stopped", None
        self._flush()
        if self._refused is not None:
            state, reason, wait = self._refused
            return state, reason, wait
        if self._connected_at is None:
            why = "the broker closed the connection before accepting it"
            tls = self.config.tls
            if target.tls and (tls is None or not tls.cert_file):
                why += " (does it require a TLS client certificate?)"
        elif rc == MQTTErrorCode.MQTT_ERR_KEEPALIVE:
            why = "connection lost: no answer from the broker within the keepalive"
        elif rc in (MQTTErrorCode.MQTT_ERR_CONN_LOST, MQTTErrorCode.MQTT_ERR_NO_CONN):
            why = "connection lost"
        else:
            why = f"connection lost: {paho.error_string(rc).rstrip('.').lower()}"
        return SourceState.RECONNECTING, f"{why} ({target.address})", None

    def _close(self, client: paho.Client) -> None:
        """Disconnect cleanly (paho writes DISCONNECT at once and closes the socket)."""
        try:
            client.disconnect()
        except Exception:  # closing must never fail the stop
            log.debug("source %s: error while disconnecting", self.id, exc_info=True)
        self._flush()
        if self._decoder is not None:
            for gap in self._decoder.take_gaps(final=True):
                self.report_gap(gap)

    # -- paho callbacks (on this thread) -------------------------------------------------------

    def _on_connect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        if reason.is_failure:
            value = int(getattr(reason, "value", 128))
            name = str(reason).lower()
            if value in _BAD_CREDENTIALS:
                self._refused = (
                    SourceState.ERROR,
                    f"not authorised: check username/password (broker: {name})",
                    MAX_DELAY,
                )
            elif value in _BAD_CLIENT_ID:
                self._refused = (
                    SourceState.ERROR,
                    f"the broker rejected client id {self.config.client_id!r} ({name})",
                    MAX_DELAY,
                )
            else:
                self._refused = (SourceState.RECONNECTING, f"connection refused: {name}", None)
            return
        self._connected_at = time.monotonic()
        resumed = bool(getattr(flags, "session_present", False))
        self.sessions_resumed += int(resumed)
        self._link_up(resumed)
        assert self._decoder is not None
        self._pending_subs = {}
        for topic in self._decoder.subscriptions:
            rc, mid = client.subscribe(topic, self.config.qos)
            if rc == MQTTErrorCode.MQTT_ERR_SUCCESS and mid is not None:
                self._pending_subs[mid] = topic
        self._set(
            self.status.state,
            f"connected to {client.host}:{client.port}"
            + (", session resumed" if resumed else "")
            + "; subscribing",
        )

    def _on_subscribe(
        self, client: paho.Client, userdata: Any, mid: int, reasons: list[Any], properties: Any
    ) -> None:
        topic = self._pending_subs.pop(mid, "?")
        refused = [r for r in reasons if r.is_failure]
        if refused:
            self._set(
                SourceState.ERROR,
                f"the broker refused the subscription to {topic!r} (not authorised for it?)",
            )
            return
        if not self._pending_subs:
            subs = ", ".join(self._decoder.subscriptions) if self._decoder else topic
            self._set(
                SourceState.LIVE,
                f"{client.host}:{client.port}, {subs} (QoS {self.config.qos})",
            )

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        now = time.time()
        status = self.status
        status.messages += 1
        status.last_time = now
        self._dirty = True
        try:
            self._add(message.topic, message.payload, now)
        except Exception as exc:  # a decoder bug must not end the feed
            log.exception("source %s: cannot decode a message on %s", self.id, message.topic)
            self.reject("malformed", 1, f"decoder error: {exc}")
        if status.messages % 256 == 0 and self._decoder.pending >= self.flush_samples:  # type: ignore[union-attr]
            self._flush()

    # -- output --------------------------------------------------------------------------------

    def _flush(self) -> None:
        self._last_flush = time.monotonic()
        self._dirty = False
        decoder = self._decoder
        if decoder is None:
            return
        d = decoder.take()
        for reason, count in d.rejected.items():
            self.reject(reason, count, d.details.get(reason, ""))
        for flag, count in d.flags.items():
            self.flags[flag] = self.flags.get(flag, 0) + count
        if len(d):
            if self._estimate is not None:
                self._estimated_gap(float(d.time.min()))
            self._link_samples += len(d)
            newest = float(d.time.max())
            if self._last_source_time is None or newest > self._last_source_time:
                self._last_source_time = newest
            self.emit(SampleBatch(d.sensor, d.time, d.value))
            if self.on_decoded is not None:
                self.on_decoded(d)
        for gap in decoder.take_gaps():
            self.report_gap(gap)
        if decoder.rebirths:
            self._request_rebirths(decoder.rebirths)
            decoder.rebirths.clear()

    # -- delivery accounting -------------------------------------------------------------------

    def _link_down(self) -> None:
        """The connection ended: the next message of every numbered stream is the first after
        an outage; for unnumbered payloads, remember where the data stopped and how fast it
        came, to estimate what a lost session costs."""
        if self._decoder is not None:
            self._decoder.tracker.link_down()
        if self._connected_at is not None and self._last_source_time is not None:
            held = max(time.monotonic() - self._connected_at, 1e-3)
            self._estimate = (self._last_source_time, self._link_samples / held, "")
        self._link_samples = 0

    def _link_up(self, resumed: bool) -> None:
        """A connection is up again. Gaps found now are a broker restart if no broker answered
        meanwhile or it forgot the session we asked it to keep, else a disconnection."""
        persistent = not (self.config.clean_start or not self.config.client_id)
        lost_session = persistent and not resumed
        cause = (
            BROKER_RESTART
            if self._had_link and (self._refused_while_down or lost_session)
            else DISCONNECTION
        )
        self._refused_while_down = False
        self._had_link = True
        decoder = self._decoder
        assert decoder is not None
        decoder.tracker.link_up(cause)
        kept = resumed and self.config.qos > 0  # the broker queued for us meanwhile
        if self._estimate is not None and (decoder.tracker.streams or kept):
            self._estimate = None  # numbered streams count exactly; a kept session lost nothing
        elif self._estimate is not None:
            since, rate, _ = self._estimate
            self._estimate = (since, rate, cause)

    def _estimated_gap(self, first: float) -> None:
        """The first samples after a reconnect that lost what was sent meanwhile (no session
        kept, no sequence numbers): a gap estimated from the rate before the outage."""
        assert self._estimate is not None
        since, rate, cause = self._estimate
        self._estimate = None
        if not cause or first <= since or rate <= 0:
            return
        missing = int(round(rate * (first - since)))
        if missing <= 0:
            return
        ids = sorted({self.sensors[i].id for i in range(len(self.sensors))})
        self.report_gap(
            Gap(
                source=self.id,
                sensors=tuple(ids),
                start=since,
                end=first,
                missing=missing,
                cause=cause,
                exact=False,
                detail=f"no session kept and no sequence numbers: {rate:,.1f} samples/s before",
            )
        )

    def _request_rebirths(self, nodes: set[tuple[str, str]]) -> None:
        """Ask Sparkplug edge nodes to send their birth certificate again (at most one request
        per node every :attr:`rebirth_interval` seconds)."""
        client = self._client
        if client is None:
            return
        now = time.monotonic()
        for group, edge in sorted(nodes):
            if now - self._rebirth_sent.get((group, edge), -1e9) < self.rebirth_interval:
                continue
            self._rebirth_sent[(group, edge)] = now
            payload = spb.encode_payload(
                spb.Payload(
                    timestamp=int(time.time() * 1000),
                    metrics=[
                        spb.Metric(
                            name="Node Control/Rebirth",
                            datatype=spb.DataType.BOOLEAN,
                            value=True,
                        )
                    ],
                )
            )
            client.publish(f"{spb.NAMESPACE}/{group}/NCMD/{edge}", payload, qos=0)
            self.rebirths_requested += 1
            log.info("source %s: asked Sparkplug node %s/%s for a rebirth", self.id, group, edge)

    def _set(self, state: SourceState, message: str) -> None:
        if state != self.status.state or message != self.status.message:
            level = logging.WARNING if state == SourceState.ERROR else logging.INFO
            log.log(level, "source %s: %s: %s", self.id, state.value, message)
        self.status.state = state
        self.status.message = message
