"""OPC UA client source: one subscription, a monitored item per bound node, columnar batches.

:class:`OpcUaFeed` runs an asyncio loop on its source thread with asyncua's ``Client``. It takes
the notifications of each publish response in one callback (no task per value), keeps the
numeric ones in three lists and hands them to the sink as one :class:`SampleBatch` every
``flush_interval`` seconds. The client handle of every monitored item is its sensor's index.

Monitored items use the ``StatusValueTimestamp`` trigger: a sensor that reports the same value
with a new timestamp is alive and must not turn stale in the viewer.

Connection handling:

* a drop (server restarted, network gone) is seen at once when the socket closes, or within a
  second by asyncua's watchdog read; the feed goes RECONNECTING with the reason and retries after
  1 s, doubling up to 15 s, with a new session and a new subscription each time;
* what retrying cannot fix is an ERROR and is not retried: a rejected user name or password,
  a rejected client certificate, a server presenting another certificate than the trusted one,
  no endpoint with the configured security, unreadable certificate files;
* bound node ids the server does not know are named in the status message; the rest still work.

Server certificate trust (``server_certificate``): before any session the endpoints are fetched
and the certificate of the endpoint to use must be byte-for-byte the trusted one, else ERROR. With
security on, the channel is then opened with the trusted certificate itself (asyncua encrypts to
it and checks the server's signature with it) and a ``certificate_validator`` compares the
certificate in the CreateSession response again before credentials are sent. Without
``server_certificate``, the certificate the server offers is accepted (trust on first use, logged).

:func:`browse` walks a server's address space for the binding dialog.

asyncua is optional (``pip install 'twinviewer[opcua]'``) and imported when used.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import math
import numbers
import os
import socket
import time
from collections import deque
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from twinviewer.core.project import OpcUaSource, Sensor
from twinviewer.core.samples import SampleBatch
from twinviewer.sources.base import Source, SourceState

if TYPE_CHECKING:
    from asyncua import Client, ua

log = logging.getLogger(__name__)

__all__ = [
    "INSTALL_HINT",
    "BrowseNode",
    "OpcUaError",
    "OpcUaFeed",
    "browse",
    "browse_source",
    "thumbprint",
]

INSTALL_HINT = "pip install 'twinviewer[opcua]'"
T = TypeVar("T")

# Status codes that retrying cannot fix: the user, or the server's administrator, must act.
_AUTH_CODES = {
    "BadUserAccessDenied": "the server rejected the user name or password",
    "BadIdentityTokenInvalid": "the server rejected the user identity (user name or password)",
    "BadIdentityTokenRejected": "the server does not accept this kind of user identity",
    "BadUserSignatureInvalid": "the server rejected the user signature",
}
_TRUST_CODES = {
    "BadCertificateUntrusted": "the server does not trust the client certificate",
    "BadCertificateInvalid": "the server rejected the client certificate as invalid",
    "BadCertificateUriInvalid": "the client certificate's application URI was rejected",
    "BadCertificateTimeInvalid": "the client certificate has expired or is not yet valid",
    "BadSecurityChecksFailed": "the server's security checks failed (is the client certificate "
    "trusted on the server?)",
    "BadSecurityPolicyRejected": "the server rejected the security policy",
    "BadSecurityModeRejected": "the server rejected the security mode",
}
_FILTER_CODES = {
    "BadFilterNotAllowed",
    "BadMonitoredItemFilterUnsupported",
    "BadMonitoredItemFilterInvalid",
}


class OpcUaError(Exception):
    """A problem that retrying will not fix: configuration, credentials or trust."""


class _Lost(Exception):
    """The connection dropped; the message says why."""


class _Stopped(Exception):
    """The source was asked to stop."""


def _asyncua() -> Any:
    try:
        import asyncua
    except ImportError:
        raise OpcUaError(f"OPC UA needs the asyncua package: {INSTALL_HINT}") from None
    return asyncua


# -- credentials and connecting -------------------------------------------------------------


@dataclass
class _Credentials:
    """Everything read from files and the environment, once, before connecting."""

    cert: bytes | None = None  # client certificate, DER
    key: bytes | None = None  # client private key, as in the file
    key_format: str = "pem"
    trusted: bytes | None = None  # the trusted server certificate, DER
    password: str | None = None
    application_uri: str = ""


def _read_cert(path: Path) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    data = path.read_bytes()
    if data.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_certificate(data).public_bytes(Encoding.DER)
    x509.load_der_x509_certificate(data)  # validate
    return data


def _cert_uri(der: bytes) -> str | None:
    from cryptography import x509

    try:
        cert = x509.load_der_x509_certificate(der)
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return None
    uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    return uris[0] if uris else None


def thumbprint(der: bytes) -> str:
    """SHA-1 thumbprint of a DER certificate, as OPC UA tools show it."""
    return hashlib.sha1(der).hexdigest().upper()  # noqa: S324 (an identifier, not security)


def _load_credentials(cfg: OpcUaSource, folder: Path) -> _Credentials:
    def resolve(p: str) -> Path:
        path = Path(p).expanduser()
        return path if path.is_absolute() else folder / path

    creds = _Credentials(application_uri=f"urn:{socket.gethostname()}:twinviewer:client")
    try:
        if cfg.certificate:
            creds.cert = _read_cert(resolve(cfg.certificate))
            creds.application_uri = _cert_uri(creds.cert) or creds.application_uri
        if cfg.private_key:
            path = resolve(cfg.private_key)
            creds.key = path.read_bytes()
            creds.key_format = "pem" if creds.key.lstrip().startswith(b"-----") else "der"
        if cfg.server_certificate:
            creds.trusted = _read_cert(resolve(cfg.server_certificate))
    except OSError as exc:
        raise OpcUaError(f"cannot read {exc.filename}: {exc.strerror}") from None
    except ValueError as exc:
        raise OpcUaError(f"not a certificate (DER or PEM): {exc}") from None
    creds.password = cfg.password
    if cfg.password_env:
        creds.password = os.environ.get(cfg.password_env)
        if creds.password is None:
            raise OpcUaError(f"environment variable {cfg.password_env} (password_env) is not set")
    return creds


def _describe(exc: BaseException) -> str:
    """A short, human reason for a failed or lost connection."""
    ua = _asyncua().ua
    if isinstance(exc, (_Lost, OpcUaError)):
        return str(exc)
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return "no answer (timed out)"
    if isinstance(exc, ua.UaStatusCodeError):
        return ua.StatusCode(exc.code).name
    if isinstance(exc, OSError):
        return exc.strerror or str(exc) or type(exc).__name__
    return str(exc) or type(exc).__name__


def _status_name(exc: BaseException) -> str | None:
    code = getattr(exc, "code", None)
    if isinstance(code, int):
        return str(_asyncua().ua.StatusCode(code).name)
    return None


def _first_cert(der: bytes | None) -> bytes | None:
    """The leading certificate of a DER blob that may hold a whole chain."""
    if not der:
        return None
    if len(der) > 4 and der[1] == 0x82:
        return der[: int.from_bytes(der[2:4], "big") + 4]
    return der


async def _open_client(cfg: OpcUaSource, creds: _Credentials, timeout: float) -> Client:
    """A connected, activated client, or an exception (:class:`OpcUaError`: do not retry)."""
    asyncua = _asyncua()
    # The watchdog reads the server state every 2 s (and gives it 2 s to answer): a connection
    # that dies without closing is noticed within seconds; a closed socket at once.
    client = asyncua.Client(cfg.endpoint, timeout=timeout, watchdog_intervall=2.0)
    try:
        await _connect(client, cfg, creds)
    except BaseException:  # failed or cancelled (stopping) half-way: drop the socket
        client.disconnect_socket()
        raise
    return client


async def _connect(client: Client, cfg: OpcUaSource, creds: _Credentials) -> None:
    ua = _asyncua().ua
    from asyncua.common.utils import ServiceError
    from asyncua.crypto import security_policies
    from asyncua.crypto.uacrypto import CertProperties

    client.name = "TwinViewer"
    client.description = f"TwinViewer ({cfg.id})"
    client.application_uri = creds.application_uri
    client.product_uri = "urn:twinviewer"
    client.session_timeout = 60_000  # ms: a session orphaned by a drop is freed within a minute
    if cfg.username:
        client.set_user(cfg.username)
        if creds.password is not None:
            client.set_password(creds.password)

    # The endpoints tell what the server offers and which certificate it presents.
    mode = getattr(
        ua.MessageSecurityMode, "None_" if cfg.security_mode == "None" else cfg.security_mode
    )
    policy_uri = getattr(security_policies, f"SecurityPolicy{cfg.security_policy}").URI
    endpoints = await client.connect_and_get_server_endpoints()
    chosen = next(
        (e for e in endpoints if e.SecurityMode == mode and e.SecurityPolicyUri == policy_uri), None
    )
    if chosen is None:
        offered = sorted(
            {
                f"{e.SecurityPolicyUri.rsplit('#', 1)[-1]}/{e.SecurityMode.name.rstrip('_')}"
                for e in endpoints
            }
        )
        raise OpcUaError(
            f"the server offers no endpoint with security {cfg.security_policy}/"
            f"{cfg.security_mode} (it offers: {', '.join(offered) or 'nothing'})"
        )
    presented = _first_cert(chosen.ServerCertificate)
    if creds.trusted is not None:
        if presented != creds.trusted:
            got = thumbprint(presented) if presented else "no certificate"
            raise OpcUaError(
                f"the server presents certificate {got}, not the trusted {cfg.server_certificate} "
                f"({thumbprint(creds.trusted)}): refusing to connect"
            )

        async def pinned(cert: Any, _app: Any) -> None:
            from cryptography.hazmat.primitives.serialization import Encoding

            if cert.public_bytes(Encoding.DER) != creds.trusted:
                raise ServiceError(ua.StatusCodes.BadCertificateUntrusted)

        client.certificate_validator = pinned
    elif cfg.security_policy != "None" and presented:
        log.info(
            "OPC UA %s: accepting server certificate %s (set server_certificate to pin it)",
            cfg.id,
            thumbprint(presented),
        )
    kinds = {t.TokenType for t in chosen.UserIdentityTokens}
    if cfg.username and ua.UserTokenType.UserName not in kinds:
        raise OpcUaError("the server does not accept a user name and password on this endpoint")
    if not cfg.username and ua.UserTokenType.Anonymous not in kinds:
        raise OpcUaError("the server requires a user name and password (username, password)")

    if cfg.security_policy != "None":
        assert creds.cert is not None and creds.key is not None  # the config validator insists
        await client.set_security(
            getattr(security_policies, f"SecurityPolicy{cfg.security_policy}"),
            CertProperties(creds.cert, extension="der"),
            CertProperties(creds.key, extension=creds.key_format),
            server_certificate=CertProperties(presented, extension="der") if presented else None,
            mode=mode,
        )
    try:
        await client.connect()
    except BaseException as exc:
        name = _status_name(exc)
        if name in _AUTH_CODES:
            who = f" for user {cfg.username!r}" if cfg.username else ""
            raise OpcUaError(f"authentication failed: {_AUTH_CODES[name]}{who} ({name})") from None
        if name in _TRUST_CODES:
            raise OpcUaError(f"{_TRUST_CODES[name]} ({name})") from None
        if isinstance(exc, ua.UaError) and "certificate mismatch" in str(exc).lower():
            raise OpcUaError("the server's certificate changed during the handshake") from None
        raise


async def _close_client(client: Client) -> None:
    """Close a session and its socket, quickly, whatever state they are in."""
    from asyncua.client.ua_client import UaClientState

    try:
        if client.uaclient.state is UaClientState.CONNECTED:
            await asyncio.wait_for(client.disconnect(), 1.0)
            return
    except Exception as exc:  # a dying connection: only the socket is left to drop
        log.debug("OPC UA disconnect: %s", _describe(exc))
    client.uaclient.request_disconnect()
    tasks = [
        getattr(client, a, None)
        for a in ("_supervisor_task", "_stale_watchdog_task", "_renew_channel_task")
    ]
    tasks.append(getattr(client.uaclient.session, "_publish_task", None))
    for task in tasks:
        if isinstance(task, asyncio.Task) and not task.done():
            task.cancel()
    client.disconnect_socket()


# -- the feed --------------------------------------------------------------------------------


class OpcUaFeed(Source):
    """Live samples from an OPC UA server: see the module docstring."""

    flush_interval = 0.05  # seconds between batches
    first_backoff = 1.0
    max_backoff = 15.0
    request_timeout = 5.0  # seconds for one request (connect steps included)
    recent = 8  # samples per sensor remembered to recognise duplicates

    def __init__(self, config: OpcUaSource, sensors: Sequence[Sensor], folder: Path) -> None:
        super().__init__(config.id)
        self.config = config
        self.sensors = list(sensors)
        self.folder = Path(folder)
        self.attempts = 0  # connection attempts so far
        self.connections = 0  # sessions that went live
        self.subscribed: dict[str, str] = {}  # sensor id -> node id with a monitored item
        self.missing: dict[str, str] = {}  # node id -> why the server refused it
        self._names: list[str] = [s.id for s in self.sensors]
        self._sensor: list[int] = []
        self._time: list[float] = []
        self._value: list[float] = []
        self._recent: dict[int, deque[tuple[float, float]]] = {}
        self._lost: asyncio.Event | None = None
        self._lost_reason = ""

    # -- thread body ----------------------------------------------------------------------------
    def run(self) -> None:
        try:
            _asyncua()
            creds = _load_credentials(self.config, self.folder)
        except OpcUaError as exc:
            self._fail(str(exc))
            return
        bound = self._bindings()
        asyncio.run(self._main(creds, bound))

    def _bindings(self) -> dict[int, str]:
        """Sensor index -> node id of the bindings whose sensor is in the project."""
        index = {s.id: i for i, s in enumerate(self.sensors)}
        bound: dict[int, str] = {}
        for sensor_id, node_id in self.config.nodes.items():
            if sensor_id in index:
                bound[index[sensor_id]] = node_id
            else:
                log.warning(
                    "OPC UA %s: node %s is bound to %r, which is not a sensor of the project",
                    self.id,
                    node_id,
                    sensor_id,
                )
                self.reject("unknown_sensor", 1, f"{sensor_id} (node {node_id})")
        return bound

    def _fail(self, reason: str) -> None:
        log.error("OPC UA %s (%s): %s", self.id, self.config.endpoint, reason)
        self.status.state = SourceState.ERROR
        self.status.message = reason

    async def _main(self, creds: _Credentials, bound: dict[int, str]) -> None:
        delay = self.first_backoff
        while not self.stopping:
            self.attempts += 1
            client: Client | None = None
            try:
                client = await self._until_stopped(
                    _open_client(self.config, creds, self.request_timeout)
                )
                await self._stream(client, bound)
                delay = self.first_backoff
                reason = ""
            except _Stopped:
                break
            except OpcUaError as exc:
                self._fail(str(exc))
                break
            except _Lost as exc:
                reason = f"connection lost: {exc}"
                delay = self.first_backoff
            except Exception as exc:
                reason = f"cannot connect to {self.config.endpoint}: {_describe(exc)}"
                expected = (OSError, asyncio.TimeoutError, _asyncua().ua.UaError)
                if isinstance(exc, expected):
                    log.debug("OPC UA %s connect failed", self.id, exc_info=True)
                else:  # not a network problem: a bug worth a traceback (and still a retry)
                    log.exception("OPC UA %s: unexpected error", self.id)
            finally:
                if client is not None:
                    await _close_client(client)
                self._flush()  # after closing: no notification can come in behind it
            if self.stopping:
                break
            self.status.state = SourceState.RECONNECTING
            self.status.message = f"{reason}; retrying in {delay:g} s"
            log.warning("OPC UA %s: %s", self.id, self.status.message)
            await self._sleep(delay)
            delay = min(2 * delay, self.max_backoff)

    async def _until_stopped(self, coro: Awaitable[T]) -> T:
        """Await ``coro``, abandoning it promptly when the source is stopped."""
        task = asyncio.ensure_future(coro)
        while not task.done():
            await asyncio.wait({task}, timeout=self.flush_interval)
            if self.stopping and not task.done():
                task.cancel()
                try:
                    await task
                except BaseException:
                    pass
                raise _Stopped
        return task.result()

    async def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < end:
            await asyncio.sleep(min(self.flush_interval, max(0.0, end - time.monotonic())))

    # -- one session ----------------------------------------------------------------------------
    async def _stream(self, client: Client, bound: dict[int, str]) -> None:
        """Subscribe and pump batches until stopped (returns) or the connection drops (raises)."""
        from asyncua.client.ua_client import UaClientState

        self._lost = lost = asyncio.Event()
        self._lost_reason = ""

        async def on_lost(exc: Exception) -> None:  # asyncua's watchdog saw it
            self._lost_reason = self._lost_reason or _describe(exc)
            lost.set()

        def on_state(state: UaClientState) -> None:  # the socket closed: we know at once
            if state is UaClientState.DISCONNECTED and not lost.is_set():
                self._lost_reason = self._lost_reason or "the server closed the connection"
                lost.set()
                # Its pending publish request failed; stop the publish loop before it logs that
                # as a crash. The session is gone anyway and is rebuilt on reconnecting.
                task = getattr(client.uaclient.session, "_publish_task", None)
                if isinstance(task, asyncio.Task) and not task.done():
                    task.cancel()

        client.connection_lost_callback = on_lost
        listen = getattr(client.uaclient, "_add_state_listener", None)  # asyncua 2.x
        if listen is not None:
            listen(on_state)
        await self._until_stopped(self._subscribe(client, bound))
        self.connections += 1
        total = len(bound)
        parts = [
            f"{len(self.subscribed)} of {total} nodes subscribed"
            if total
            else "connected; no nodes bound"
        ]
        if self.missing:
            parts.append(f"not on the server: {', '.join(sorted(self.missing))}")
            log.warning(
                "OPC UA %s: bound nodes the server refused: %s",
                self.id,
                ", ".join(f"{n} ({why})" for n, why in sorted(self.missing.items())),
            )
        self.status.state = SourceState.LIVE
        self.status.message = "; ".join(parts)
        log.info("OPC UA %s live on %s: %s", self.id, self.config.endpoint, self.status.message)
        while not self.stopping:
            await asyncio.sleep(self.flush_interval)
            self._flush()
            if lost.is_set() or client.uaclient.state is not UaClientState.CONNECTED:
                raise _Lost(self._lost_reason or "the server closed the connection")

    async def _subscribe(self, client: Client, bound: dict[int, str]) -> None:
        ua = _asyncua().ua
        cfg = self.config
        self.subscribed, self.missing = {}, {}
        if not bound:
            return
        # Node ids: "ns=2;s=X", or "nsu=<namespace uri>;s=X" resolved through the namespace array.
        parsed: dict[int, Any] = {}
        namespaces: list[str] | None = None
        for i, text in bound.items():
            try:
                node = ua.NodeId.from_string(text)
            except (ua.UaError, ValueError):
                self.missing[text] = "not a node id"
                continue
            uri = getattr(node, "NamespaceUri", None)
            if uri:
                if namespaces is None:
                    namespaces = list(await client.get_namespace_array())
                if uri not in namespaces:
                    self.missing[text] = f"namespace {uri} unknown"
                    continue
                node = ua.NodeId(node.Identifier, namespaces.index(uri), node.NodeIdType)
            parsed[i] = ua.NodeId(node.Identifier, node.NamespaceIndex, node.NodeIdType)

        pub = float(cfg.publishing_interval)
        keepalive = max(3, math.ceil(2000.0 / pub))  # an empty publish about every 2 s
        params = ua.CreateSubscriptionParameters(
            RequestedPublishingInterval=pub,
            RequestedLifetimeCount=keepalive * 30,
            RequestedMaxKeepAliveCount=keepalive,
            MaxNotificationsPerPublish=0,
            PublishingEnabled=True,
            Priority=0,
        )
        result = await client.uaclient.create_subscription(params, self._on_publish)
        sampling = float(cfg.sampling_interval)
        # Room on the server for the samples of a few publishing intervals, so that a late
        # publish request (a busy client or network) loses nothing.
        queue = 100 if sampling <= 0 else max(10, min(1000, math.ceil(4 * pub / sampling)))

        def request(i: int, node: Any, with_filter: bool) -> Any:
            mp = ua.MonitoringParameters(
                ClientHandle=i, SamplingInterval=sampling, QueueSize=queue, DiscardOldest=True
            )
            if with_filter:
                mp.Filter = ua.DataChangeFilter(Trigger=ua.DataChangeTrigger.StatusValueTimestamp)
            return ua.MonitoredItemCreateRequest(
                ItemToMonitor=ua.ReadValueId(NodeId=node, AttributeId=ua.AttributeIds.Value),
                MonitoringMode=ua.MonitoringMode.Reporting,
                RequestedParameters=mp,
            )

        async def create(items: list[tuple[int, Any]], with_filter: bool) -> list[tuple[int, Any]]:
            out: list[tuple[int, Any]] = []
            for start in range(0, len(items), 500):
                chunk = items[start : start + 500]
                req = ua.CreateMonitoredItemsParameters(
                    SubscriptionId=result.SubscriptionId,
                    TimestampsToReturn=ua.TimestampsToReturn.Both,
                    ItemsToCreate=[request(i, node, with_filter) for i, node in chunk],
                )
                res = await client.uaclient.create_monitored_items(req)
                out += [(i, r.StatusCode) for (i, _), r in zip(chunk, res, strict=True)]
            return out

        items = list(parsed.items())
        results = await create(items, True)
        retry = [(i, parsed[i]) for i, code in results if code.name in _FILTER_CODES]
        if retry:  # a server that takes no data-change filter: monitor with its default trigger
            again = dict(await create(retry, False))
            results = [(i, again.get(i, code)) for i, code in results]
        for i, code in results:
            if code.is_good():
                self.subscribed[self._names[i]] = bound[i]
            else:
                self.missing[bound[i]] = code.name

    # -- notifications --------------------------------------------------------------------------
    def _on_publish(self, result: ua.PublishResult) -> None:
        """One publish response: called by asyncua's publish loop, on the loop thread."""
        ua = _asyncua().ua
        for note in result.NotificationMessage.NotificationData or ():
            if isinstance(note, ua.DataChangeNotification):
                for item in note.MonitoredItems:
                    self._take(item.ClientHandle, item.Value)
            elif isinstance(note, ua.StatusChangeNotification):
                if note.Status is not None and not note.Status.is_good():
                    self._lost_reason = (
                        self._lost_reason or f"subscription ended ({note.Status.name})"
                    )
                    if self._lost is not None:
                        self._lost.set()

    def _take(self, i: int, dv: Any) -> None:
        self.status.messages += 1
        self.status.last_time = time.time()
        if not 0 <= i < len(self._names):
            self.reject("unknown_handle", 1, f"client handle {i}")
            return
        code = dv.StatusCode
        if code is not None and code.is_bad():
            self.reject("bad_status", 1, f"{self._names[i]}: {code.name}")
            return
        v = dv.Value.Value if dv.Value is not None else None
        if isinstance(v, bool):
            x = 1.0 if v else 0.0
        elif isinstance(v, numbers.Real):
            x = float(v)
        else:
            self.reject("not_numeric", 1, f"{self._names[i]}: {type(v).__name__} {v!r:.40}")
            return
        if not math.isfinite(x):
            self.reject("not_finite", 1, f"{self._names[i]}: {x}")
            return
        t = _epoch(dv.SourceTimestamp) or _epoch(dv.ServerTimestamp) or time.time()
        seen = self._recent.get(i)
        if seen is None:
            seen = self._recent[i] = deque(maxlen=self.recent)
        elif (t, x) in seen:
            self.reject("duplicate", 1, f"{self._names[i]} at {t:.3f}")
            return
        seen.append((t, x))
        self._sensor.append(i)
        self._time.append(t)
        self._value.append(x)

    def _flush(self) -> None:
        if not self._sensor:
            return
        batch = SampleBatch.of(self._sensor, self._time, self._value)
        self._sensor, self._time, self._value = [], [], []
        self.emit(batch)


_EPOCH_MIN = dt.datetime(1970, 1, 2, tzinfo=dt.timezone.utc)


def _epoch(when: dt.datetime | None) -> float | None:
    """Seconds since the Unix epoch, or None for a missing (or zero, 1601) timestamp."""
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)  # OPC UA times are UTC
    if when < _EPOCH_MIN:
        return None
    return when.timestamp()


# -- browsing --------------------------------------------------------------------------------


@dataclass
class BrowseNode:
    """One node of a server's address space, as the binding dialog shows it."""

    node_id: str  # e.g. "ns=2;s=tm1_current"
    browse_name: str  # e.g. "2:tm1_current"
    display_name: str
    node_class: str  # "Object", "Variable", "Method", ...
    data_type: str | None = None  # variables: e.g. "Double"
    description: str = ""
    children: list[BrowseNode] = field(default_factory=list)

    @property
    def is_variable(self) -> bool:
        return self.node_class == "Variable"

    def walk(self) -> list[BrowseNode]:
        """This node and all below it, depth first."""
        out = [self]
        for c in self.children:
            out += c.walk()
        return out


def browse(
    endpoint: str,
    *,
    security_policy: Literal["None", "Basic256Sha256"] = "None",
    security_mode: Literal["None", "Sign", "SignAndEncrypt"] = "None",
    certificate: str | None = None,
    private_key: str | None = None,
    server_certificate: str | None = None,
    username: str | None = None,
    password: str | None = None,
    password_env: str | None = None,
    folder: Path | None = None,
    root: str = "i=85",
    max_depth: int = 8,
    max_nodes: int = 5000,
    include_standard: bool = False,
    timeout: float = 10.0,
) -> list[BrowseNode]:
    """The address space below ``root`` (default: the Objects folder) as a tree, ``max_depth``
    levels deep and at most ``max_nodes`` nodes. Connection options are those of an ``opcua``
    source (files relative to ``folder``). Namespace 0 (the server's own objects) is left out
    unless ``include_standard``; properties (HasProperty) are left out. Runs its own short-lived
    asyncio loop: call it from a worker thread. Raises :class:`OpcUaError` with a clear message.
    """
    from pydantic import ValidationError

    try:
        cfg = OpcUaSource(
            type="opcua",
            endpoint=endpoint,
            security_policy=security_policy,
            security_mode=security_mode,
            certificate=certificate,
            private_key=private_key,
            server_certificate=server_certificate,
            username=username,
            password=password,
            password_env=password_env,
        )
    except ValidationError as exc:
        raise OpcUaError(
            "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
        ) from None
    return browse_source(
        cfg,
        folder or Path.cwd(),
        root=root,
        max_depth=max_depth,
        max_nodes=max_nodes,
        include_standard=include_standard,
        timeout=timeout,
    )


def browse_source(
    config: OpcUaSource,
    folder: Path,
    *,
    root: str = "i=85",
    max_depth: int = 8,
    max_nodes: int = 5000,
    include_standard: bool = False,
    timeout: float = 10.0,
) -> list[BrowseNode]:
    """:func:`browse` with the connection settings of a project's ``opcua`` source."""
    _asyncua()
    creds = _load_credentials(config, Path(folder))

    async def run() -> list[BrowseNode]:
        client = await _open_client(config, creds, min(timeout, 5.0))
        try:
            return await _walk(client, root, max_depth, max_nodes, include_standard)
        finally:
            await _close_client(client)

    try:
        return asyncio.run(asyncio.wait_for(run(), timeout))
    except OpcUaError:
        raise
    except (asyncio.TimeoutError, TimeoutError):
        raise OpcUaError(f"browsing {config.endpoint} took longer than {timeout:g} s") from None
    except Exception as exc:
        raise OpcUaError(f"cannot browse {config.endpoint}: {_describe(exc)}") from None


async def _walk(
    client: Client, root: str, max_depth: int, max_nodes: int, include_standard: bool
) -> list[BrowseNode]:
    """Breadth first, one Browse request per level (in chunks), then the variables' types."""
    ua = _asyncua().ua
    root_id = ua.NodeId.from_string(root)
    has_property = ua.NodeId(ua.ObjectIds.HasProperty)
    seen = {root_id}
    level: list[tuple[Any, BrowseNode | None]] = [(root_id, None)]
    top: list[BrowseNode] = []
    variables: list[tuple[Any, BrowseNode]] = []
    count = 0
    for _depth in range(max_depth):
        if not level or count >= max_nodes:
            break
        found: list[tuple[Any, BrowseNode | None]] = []
        for start in range(0, len(level), 200):
            chunk = level[start : start + 200]
            refs = await _browse_refs(client, [n for n, _ in chunk])
            for (_, parent), children in zip(chunk, refs, strict=True):
                for ref in children:
                    if ref.ReferenceTypeId == has_property or getattr(ref.NodeId, "ServerIndex", 0):
                        continue
                    nid = ua.NodeId(
                        ref.NodeId.Identifier, ref.NodeId.NamespaceIndex, ref.NodeId.NodeIdType
                    )
                    if nid in seen or (nid.NamespaceIndex == 0 and not include_standard):
                        continue
                    seen.add(nid)
                    node = BrowseNode(
                        node_id=nid.to_string(),
                        browse_name=ref.BrowseName.to_string(),
                        display_name=ref.DisplayName.Text or ref.BrowseName.Name or "",
                        node_class=ref.NodeClass.name,
                    )
                    (parent.children if parent is not None else top).append(node)
                    if ref.NodeClass == ua.NodeClass.Variable:
                        variables.append((nid, node))
                    found.append((nid, node))
                    count += 1
                    if count >= max_nodes:
                        break
        level = found
    if variables:
        await _fill_types(client, variables)
    return top


async def _browse_refs(client: Client, nodes: list[Any]) -> list[list[Any]]:
    ua = _asyncua().ua
    params = ua.BrowseParameters(
        View=ua.ViewDescription(),
        RequestedMaxReferencesPerNode=0,
        NodesToBrowse=[
            ua.BrowseDescription(
                NodeId=n,
                BrowseDirection=ua.BrowseDirection.Forward,
                ReferenceTypeId=ua.NodeId(ua.ObjectIds.HierarchicalReferences),
                IncludeSubtypes=True,
                NodeClassMask=0,
                ResultMask=ua.BrowseResultMask.All,
            )
            for n in nodes
        ],
    )
    results = await client.uaclient.browse(params)
    out = []
    for res in results:
        refs = list(res.References or [])
        cp = res.ContinuationPoint
        while cp:
            more = await client.uaclient.browse_next(
                ua.BrowseNextParameters(ReleaseContinuationPoints=False, ContinuationPoints=[cp])
            )
            refs += list(more[0].References or [])
            cp = more[0].ContinuationPoint
        out.append(refs)
    return out


async def _fill_types(client: Client, variables: list[tuple[Any, BrowseNode]]) -> None:
    """Data type names and descriptions of the variables, read in a few batched requests."""
    ua = _asyncua().ua
    ids = [nid for nid, _ in variables]
    types = await _read(client, ids, ua.AttributeIds.DataType)
    descriptions = await _read(client, ids, ua.AttributeIds.Description)
    names: dict[Any, str] = {}
    unknown = []
    for dv in types:
        t = dv.Value.Value if dv.Value is not None else None
        if isinstance(t, ua.NodeId) and t not in names:
            if t.NamespaceIndex == 0 and isinstance(t.Identifier, int):
                names[t] = ua.ObjectIdNames.get(t.Identifier, t.to_string())
            else:
                names[t] = t.to_string()
                unknown.append(t)
    if unknown:
        for t, dv in zip(
            unknown, await _read(client, unknown, ua.AttributeIds.DisplayName), strict=True
        ):
            text = dv.Value.Value.Text if dv.Value is not None and dv.Value.Value else None
            names[t] = text or names[t]
    for (_, node), tv, dv in zip(variables, types, descriptions, strict=True):
        t = tv.Value.Value if tv.Value is not None else None
        node.data_type = names.get(t) if t is not None else None
        d = dv.Value.Value if dv.Value is not None else None
        node.description = (d.Text or "") if d is not None and hasattr(d, "Text") else ""


async def _read(client: Client, ids: list[Any], attr: Any) -> list[Any]:
    out: list[Any] = []
    for start in range(0, len(ids), 500):
        out += await client.uaclient.read_attributes(ids[start : start + 500], attr)
    return out
