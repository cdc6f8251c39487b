"""OPC UA connections: credentials, server certificate trust, opening and closing a session.

Shared by the feed (:mod:`twinviewer.sources.opcua`) and browsing
(:mod:`twinviewer.sources.opcua_browse`). See the feed's module docstring for the trust rules.

asyncua is optional (``pip install 'twinviewer[opcua]'``) and imported when used.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twinviewer.core.project import OpcUaSource

if TYPE_CHECKING:
    from asyncua import Client

log = logging.getLogger(__name__)

__all__ = ["INSTALL_HINT", "OpcUaError", "thumbprint"]

INSTALL_HINT = "pip install 'twinviewer[opcua]'"

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
