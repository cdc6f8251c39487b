"""A real OPC UA server that serves a twin's sensors from the built-in signal model.

``twinviewer serve-opcua`` (and the OPC UA tests) run :func:`serve_opcua`: an asyncua ``Server``
whose address space holds one ``Double`` variable per sensor, in a folder per component::

    Objects/<twin name>/<component>/<sensor id>      node id ns=<i>;s=<sensor id>

The values are those of :class:`~twinviewer.sources.simulator.SignalModel`, stepped at ``rate``
samples per second of simulated time, written in (scaled) real time with the simulated instant as
the source timestamp. With ``faults`` the server misbehaves the way field devices and gateways do,
about every half second somewhere in the plant: a sensor stops updating for a few seconds, a NaN
is sent, two samples are sent in the wrong order, an older sample is sent again. Everything it did
is counted in the returned :class:`ServeStats`.

It obeys the project's ``commands:`` with ``opcua`` targets (:mod:`twinviewer.sources.
opcua_commands`): writable setpoint nodes (``CurrentRead | CurrentWrite``) and methods whose
values the simulator applies (its read-back sensor's node then follows), and it enforces the
commands' roles itself: with ``authenticate`` users sign in with a name and password that give
their role (``twinviewer simulate`` checks them against the project's user file), anonymous
sessions are viewers, and a write or call by a user whose role is too low gets
``BadUserAccessDenied`` from the server.

:func:`make_certificate` writes a self-signed application instance certificate and key for an
OPC UA client or server (the application URI as subjectAltName, host names, key usages).

asyncua is an optional dependency (``pip install 'twinviewer[opcua]'``), imported when used.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import logging
import math
import re
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import numpy as np

from twinviewer.core.project import Project, SimulatorSource
from twinviewer.sources.opcua_commands import ServedCommands, add_command_nodes, command_rules
from twinviewer.sources.simulator import SignalModel

if TYPE_CHECKING:
    from asyncua import Server

log = logging.getLogger(__name__)

__all__ = [
    "SERVER_CERT",
    "SERVER_KEY",
    "ServeStats",
    "make_certificate",
    "namespace_uri",
    "require_asyncua",
    "serve_opcua",
]

INSTALL_HINT = "pip install 'twinviewer[opcua]'"
SERVER_CERT = "server_cert.der"  # file names in ``cert_dir``
SERVER_KEY = "server_key.pem"
FAULT_EVERY = 0.5  # simulated seconds between two injected faults (somewhere in the plant)
DROPOUT = 3.0  # simulated seconds a dropped-out sensor stays silent
_FAULT_KINDS = ("dropout", "nan", "out_of_order", "duplicate")


def require_asyncua() -> None:
    """Raise a clear error when the optional OPC UA package is missing."""
    try:
        import asyncua  # noqa: F401
    except ImportError:
        raise ImportError(f"OPC UA needs the asyncua package: {INSTALL_HINT}") from None


def namespace_uri(project: Project) -> str:
    """The namespace of a twin's variables: ``urn:twinviewer:<project name>``."""
    slug = re.sub(r"[^A-Za-z0-9._~-]+", "-", project.name).strip("-").lower() or "twin"
    return f"urn:twinviewer:{slug}"


def server_application_uri() -> str:
    return f"urn:{socket.gethostname()}:twinviewer:server"


# -- certificates ------------------------------------------------------------------------------


def make_certificate(
    cert_path: str | Path,
    key_path: str | Path,
    application_uri: str,
    *,
    common_name: str = "TwinViewer",
    organization: str = "TwinViewer",
    hostnames: Sequence[str] = (),
    days: int = 365,
    key_size: int = 2048,
) -> tuple[Path, Path]:
    """Write a self-signed OPC UA application instance certificate and its private key.

    The certificate carries what OPC UA peers check (OPC 10000-6 6.2.2): the application URI as a
    subjectAltName URI (a client's must equal the ``ApplicationUri`` it announces), this host's
    name, ``localhost`` and the loopback addresses (plus ``hostnames``) as DNS/IP names, key usages
    for signing and key encipherment, both client and server authentication, and the key
    identifiers. RSA ``key_size`` bits with SHA-256 signatures, as Basic256Sha256 requires.

    The certificate is written as DER when ``cert_path`` ends in ``.der`` (what most OPC UA tools
    expect), else as PEM; the key as unencrypted PKCS#8 PEM, readable by the owner only.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    cert_path, key_path = Path(cert_path), Path(key_path)
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        ]
    )
    dns = list(dict.fromkeys([socket.gethostname(), "localhost", *hostnames]))
    alt: list[x509.GeneralName] = [x509.UniformResourceIdentifier(application_uri)]
    for host in dns:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            alt.append(x509.DNSName(host))
    alt += [x509.IPAddress(ipaddress.ip_address(a)) for a in ("127.0.0.1", "::1") if a not in dns]
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=True,
                data_encipherment=True,
                key_agreement=False,
                key_cert_sign=True,  # self-signed: it signs itself (OPC 10000-6 6.2.2)
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    cert_path.parent.mkdir(parents=True, exist_ok=True)
    key_path.parent.mkdir(parents=True, exist_ok=True)
    encoding = (
        serialization.Encoding.DER
        if cert_path.suffix.lower() == ".der"
        else serialization.Encoding.PEM
    )
    cert_path.write_bytes(cert.public_bytes(encoding))
    key_path.touch(mode=0o600, exist_ok=True)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _usable_certificate(cert_path: Path, key_path: Path, application_uri: str) -> bool:
    """Is there a certificate for ``application_uri``, valid for another day, with its key?"""
    from cryptography import x509

    if not (cert_path.is_file() and key_path.is_file()):
        return False
    try:
        data = cert_path.read_bytes()
        cert = (
            x509.load_pem_x509_certificate(data)
            if data.lstrip().startswith(b"-----")
            else x509.load_der_x509_certificate(data)
        )
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return False
    soon = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
    return (
        application_uri in san.get_values_for_type(x509.UniformResourceIdentifier)
        and cert.not_valid_after_utc > soon
    )


# -- the server --------------------------------------------------------------------------------


@dataclass
class ServeStats:
    """What a :func:`serve_opcua` run did. Filled in while it runs."""

    endpoint: str = ""
    sensors: int = 0
    rate: float = 0.0  # samples per simulated second per sensor
    speed: float = 1.0
    started: float | None = None  # wall-clock epoch of simulated time 0
    elapsed: float = 0.0  # wall-clock seconds served
    steps: int = 0  # simulation steps computed
    updates: int = 0  # values written to the address space (faults included)
    dropouts: int = 0  # times a sensor went silent for a while
    dropped: int = 0  # samples not sent because of a drop-out
    nan: int = 0  # NaN values sent
    out_of_order: int = 0  # samples sent after a newer one of the same sensor
    duplicates: int = 0  # samples sent a second time
    server_certificate: str | None = None  # path of the server's certificate (with security)
    command_nodes: int = 0  # command variables and methods served
    commands: int = 0  # command writes and calls accepted (and applied to the simulator)
    commands_denied: int = 0  # refused for the user's role (BadUserAccessDenied)
    commands_rejected: int = 0  # refused for the value (BadTypeMismatch, BadOutOfRange)


def serve_opcua(
    project: Project,
    endpoint: str,
    *,
    rate: float | None = None,
    speed: float = 1.0,
    duration: float | None = None,
    faults: bool = False,
    stop: threading.Event | None = None,
    security: bool = False,
    cert_dir: Path | None = None,
    users: dict[str, str] | None = None,
    ready: threading.Event | None = None,
    stats: ServeStats | None = None,
    authenticate: Callable[[str, str], str | None] | None = None,
) -> ServeStats:
    """Serve the twin's sensors on ``endpoint`` (``opc.tcp://host:port[/path]``) until ``stop``
    is set, ``duration`` wall-clock seconds have passed, or the process is interrupted.

    ``rate`` is samples per simulated second per sensor (default: the project's simulator rate),
    ``speed`` simulated seconds per wall-clock second. With ``security`` the server offers only
    Basic256Sha256 with Sign and with SignAndEncrypt, with a certificate from ``cert_dir``
    (``server_cert.der``/``server_key.pem``, made there when missing or not for this host; a
    temporary folder when ``cert_dir`` is None). With ``users`` ({name: password}) a user name and
    password are required (those users are viewers), otherwise anonymous access is allowed (as a
    viewer). With ``authenticate`` (name, password -> their role, None if wrong) users may also
    sign in with their name and password, and command nodes take writes and calls from those
    whose role allows (see :mod:`twinviewer.sources.opcua_commands`). Client certificates are not
    checked (this is a test and demo server). ``ready`` is set once the server listens; ``stats``
    (optional) is filled in while the server runs, for a caller on another thread. Blocks; returns
    the statistics.
    """
    require_asyncua()
    url = urlparse(endpoint)
    if url.scheme != "opc.tcp" or not url.hostname:
        raise ValueError(f"endpoint must look like opc.tcp://host:4840/path, got {endpoint!r}")
    if not project.sensors:
        raise ValueError(f"project {project.name!r} has no sensors to serve")
    if speed <= 0:
        raise ValueError(f"speed must be positive, got {speed}")
    sim = next((s for s in project.sources if isinstance(s, SimulatorSource)), None)
    cfg = sim or SimulatorSource(type="simulator")
    rate = float(cfg.rate if rate is None else rate)
    cfg = cfg.model_copy(update={"rate": rate, "speed": float(speed)})
    if not (0 < cfg.rate <= 1000):
        raise ValueError(f"rate must be in (0, 1000] samples per second, got {cfg.rate}")
    stats = stats if stats is not None else ServeStats()
    stats.endpoint, stats.sensors = endpoint, len(project.sensors)
    stats.rate, stats.speed = cfg.rate, speed
    stop = stop or threading.Event()
    try:
        args = (duration, faults, stop, security, cert_dir, users, ready, stats, authenticate)
        asyncio.run(_serve(project, cfg, endpoint, *args))
    except KeyboardInterrupt:
        log.info("OPC UA server interrupted")
    return stats


class _Users:
    """asyncua user manager: who may activate a session.

    With ``users``, only those names with their passwords (as viewers). With ``authenticate``,
    also (or else) the names and passwords it accepts, with the role it gives; anonymous users
    are viewers. With ``secure_only``, nobody on a channel without security: asyncua opens every
    channel unsecured first (for GetEndpoints) and would otherwise let a session be activated on
    it even when no such endpoint is offered. Each user carries its twin role as ``twin_role``.
    """

    def __init__(
        self,
        users: dict[str, str] | None,
        secure_only: bool,
        authenticate: Callable[[str, str], str | None] | None = None,
    ) -> None:
        self.users = dict(users) if users else None
        self.secure_only = secure_only
        self.authenticate = authenticate

    def get_user(
        self,
        iserver: Any,
        username: str | None = None,
        password: str | None = None,
        certificate: Any = None,
    ) -> Any:
        import hmac

        from asyncua.crypto.permission_rules import User, UserRole

        if self.secure_only and not certificate:  # the channel's client certificate (b"" if none)
            log.warning("refused a session on a channel without security")
            return None

        def user(name: str | None, role: str) -> Any:
            u = User(role=UserRole.User, name=name)
            u.twin_role = role  # type: ignore[attr-defined]
            return u

        if username is None and password is None and self.users is None:
            return user(None, "viewer")  # anonymous (refused if not offered)
        expected = (self.users or {}).get(username or "")
        if expected is not None and password is not None:
            if hmac.compare_digest(expected.encode("utf-8"), password.encode("utf-8")):
                return user(username, "viewer")
        if self.authenticate is not None and username and password is not None:
            role = self.authenticate(username, password)
            if role is not None:
                log.info("user %r signed in as %s", username, role)
                return user(username, role)
        if self.users is None and self.authenticate is None:
            return user(username, "viewer")  # no accounts at all: anyone reads
        log.warning("refused a session: user %r with a wrong password or unknown", username)
        return None


async def _build_server(
    project: Project,
    endpoint: str,
    security: bool,
    cert_dir: Path | None,
    users: dict[str, str] | None,
    stats: ServeStats,
    apply: Callable[[str, float], str],
    authenticate: Callable[[str, str], str | None] | None = None,
) -> tuple[Server, list[Any], ServedCommands]:
    import asyncua

    ua: Any = asyncua.ua
    Server = asyncua.Server

    manager = _Users(users, secure_only=security, authenticate=authenticate)
    server = Server(user_manager=manager)  # type: ignore[arg-type]
    await server.init()
    server.disable_clock()  # the serving loop keeps CurrentTime; stopping then takes no second
    server.set_endpoint(endpoint)
    server.set_server_name(f"TwinViewer OPC UA server: {project.name}")
    app_uri = server_application_uri()
    await server.set_application_uri(app_uri)
    server.product_uri = "urn:twinviewer"
    server.manufacturer_name = "TwinViewer"
    policies = [ua.SecurityPolicyType.NoSecurity]
    if security:
        folder = Path(cert_dir) if cert_dir else Path(tempfile.mkdtemp(prefix="twinviewer-opcua-"))
        cert, key = folder / SERVER_CERT, folder / SERVER_KEY
        if not _usable_certificate(cert, key, app_uri):
            host = urlparse(endpoint).hostname or ""
            make_certificate(
                cert,
                key,
                app_uri,
                common_name="TwinViewer OPC UA server",
                hostnames=[host] if host not in ("0.0.0.0", "::") else [],
            )
            log.info("made a server certificate %s", cert)
        await server.load_certificate(str(cert))
        await server.load_private_key(str(key))
        policies = [
            ua.SecurityPolicyType.Basic256Sha256_Sign,
            ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt,
        ]
        stats.server_certificate = str(cert)
    server.set_security_policy(policies)
    if users:
        server.set_identity_tokens([ua.UserNameIdentityToken])
    elif authenticate is not None:
        server.set_identity_tokens([ua.AnonymousIdentityToken, ua.UserNameIdentityToken])
    else:
        server.set_identity_tokens([ua.AnonymousIdentityToken])

    ns = await server.register_namespace(namespace_uri(project))
    twin = await server.nodes.objects.add_folder(
        ua.NodeId(1, ns), ua.QualifiedName(project.name, ns)
    )
    folders: dict[str, Any] = {}
    variables = []
    for sensor in project.sensors:
        parent: Any = twin
        if sensor.component:
            parent = folders.get(sensor.component)
            if parent is None:
                parent = await twin.add_folder(
                    ua.NodeId(len(folders) + 2, ns), ua.QualifiedName(sensor.component, ns)
                )
                folders[sensor.component] = parent
        var = await parent.add_variable(
            ua.NodeId(sensor.id, ns),
            ua.QualifiedName(sensor.id, ns),
            ua.Variant(math.nan, ua.VariantType.Double),
            varianttype=ua.VariantType.Double,
        )
        await var.write_attribute(
            ua.AttributeIds.DisplayName, ua.DataValue(ua.LocalizedText(sensor.name or sensor.id))
        )
        await var.write_attribute(
            ua.AttributeIds.Description,
            ua.DataValue(ua.LocalizedText(f"{sensor.quantity} [{sensor.unit}]")),
        )
        await var.add_property(
            ua.NodeId(f"{sensor.id}.EngineeringUnits", ns),
            "EngineeringUnits",
            ua.EUInformation(
                NamespaceUri="http://www.opcfoundation.org/UA/units/un/cefact",
                UnitId=-1,
                DisplayName=ua.LocalizedText(sensor.unit),
                Description=ua.LocalizedText(sensor.unit),
            ),
        )
        await var.add_property(
            ua.NodeId(f"{sensor.id}.EURange", ns),
            "EURange",
            ua.Range(Low=float(sensor.range[0]), High=float(sensor.range[1])),
        )
        variables.append(var.nodeid)
    served = await add_command_nodes(server, project, ns, twin, apply)
    stats.command_nodes = len(served.writes) + len(served.methods)
    if stats.command_nodes:  # every request passes the role check of command methods
        server.set_security_policy(policies, permission_ruleset=command_rules(served))
    return server, variables, served


async def _serve(
    project: Project,
    cfg: SimulatorSource,
    endpoint: str,
    duration: float | None,
    faults: bool,
    stop: threading.Event,
    security: bool,
    cert_dir: Path | None,
    users: dict[str, str] | None,
    ready: threading.Event | None,
    stats: ServeStats,
    authenticate: Callable[[str, str], str | None] | None = None,
) -> None:
    import asyncua

    ua: Any = asyncua.ua

    model = SignalModel(project.sensors, cfg)
    server, nodes, served = await _build_server(
        project, endpoint, security, cert_dir, users, stats, model.apply_command, authenticate
    )
    n = model.n
    rate, speed = cfg.rate, cfg.speed
    tick = max(0.005, min(0.05, 1.0 / (rate * speed)))
    rng = np.random.default_rng(cfg.seed + 7919)
    every = max(1, round(FAULT_EVERY * rate))
    silent_until = np.full(n, -1, np.int64)  # step index until which a sensor drops out
    held: dict[int, tuple[float, float]] = {}  # sensor -> (stamp, value) held back one step
    replay: set[int] = set()  # sensors whose previous sample is sent again after this one
    last: dict[int, tuple[float, float]] = {}  # sensor -> its previous sample sent
    status_node = server.get_node(ua.NodeId(ua.ObjectIds.Server_ServerStatus))
    time_node = server.get_node(ua.NodeId(ua.ObjectIds.Server_ServerStatus_CurrentTime))
    utc = dt.timezone.utc

    async def write(i: int, stamp: float, value: float) -> None:
        dv = ua.DataValue(
            ua.Variant(value, ua.VariantType.Double),
            SourceTimestamp=dt.datetime.fromtimestamp(stamp, utc),
            ServerTimestamp=dt.datetime.now(utc),
        )
        await server.write_attribute_value(nodes[i], dv)
        stats.updates += 1

    async def step(k: int) -> None:
        t_sim = k / rate
        values = model.step(t_sim)
        stamp = start + t_sim / speed
        stats.steps += 1
        if faults and k > 0 and k % every == 0:
            kind = _FAULT_KINDS[(k // every - 1) % len(_FAULT_KINDS)]
            live = np.flatnonzero(silent_until < k)  # a fault on a silent sensor shows nothing
            i = int(rng.choice(live)) if len(live) else int(rng.integers(n))
            if kind == "dropout" and silent_until[i] < k:
                silent_until[i] = k + max(1, round(DROPOUT * rate))
                stats.dropouts += 1
            elif kind == "nan":
                values = values.copy()
                values[i] = math.nan
            elif kind == "out_of_order" and silent_until[i] < k:
                held[i] = (stamp, float(values[i]))
            elif kind == "duplicate" and i in last:
                replay.add(i)
        for i in range(n):
            if silent_until[i] >= k:
                stats.dropped += 1 + (held.pop(i, None) is not None)
                continue
            if i in held and held[i][0] == stamp:
                continue  # held back: sent after the next one
            v = float(values[i])
            stats.nan += math.isnan(v)
            await write(i, stamp, v)
            if i in held:
                await write(i, *held.pop(i))
                stats.out_of_order += 1
            if i in replay:
                replay.discard(i)
                await write(i, *last[i])
                stats.duplicates += 1
            last[i] = (stamp, v)

    start_mono = time.monotonic()
    start = stats.started = time.time()
    await step(0)  # every variable has a value before the first client can connect
    sent = 1
    next_clock = 0.0
    await server.start()
    try:
        log.info(
            "serving %d sensors of %r on %s at %g/s%s%s",
            n,
            project.name,
            endpoint,
            rate,
            f", x{speed:g}" if speed != 1 else "",
            ", with faults" if faults else "",
        )
        if ready is not None:
            ready.set()
        while not stop.is_set():
            now = time.monotonic() - start_mono
            stats.elapsed = now
            if duration is not None and now >= duration:
                break
            due = int(math.floor(now * speed * rate + 1e-9)) + 1
            if due - sent > 2000:  # far behind (suspended): skip ahead rather than flood
                sent = due - 2000
            for k in range(sent, due):
                await step(k)
            sent = max(sent, due)
            stats.commands = served.counts["accepted"]
            stats.commands_denied = served.counts["denied"]
            stats.commands_rejected = served.counts["rejected"]
            if now >= next_clock:  # what asyncua's own clock does, without its 1 s stop delay
                next_clock = now + 1.0
                status = await status_node.read_value()
                status.CurrentTime = dt.datetime.now(utc)
                await status_node.write_value(status)
                await time_node.write_value(status.CurrentTime)
            await asyncio.sleep(tick)
        stats.elapsed = time.monotonic() - start_mono
    finally:
        await server.stop()
        stats.commands = served.counts["accepted"]
        stats.commands_denied = served.counts["denied"]
        stats.commands_rejected = served.counts["rejected"]
        log.info(
            "OPC UA server stopped after %.1f s: %d values written", stats.elapsed, stats.updates
        )
