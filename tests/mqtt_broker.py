"""A real mosquitto broker for tests: a config in a temporary folder, a free loopback port,
optional password file and TLS listeners with a test CA, persistence, stop/kill/restart.

Used by ``tests/test_mqtt.py`` (and ``twinviewer bench mqtt`` starts its own the same way)::

    with Mosquitto(tmp_path) as broker:
        url = broker.url  # mqtt://127.0.0.1:<port>

Nothing here mocks MQTT: the tests talk to the mosquitto binary.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

MOSQUITTO_CANDIDATES = ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto")


def find_mosquitto() -> str | None:
    found = shutil.which("mosquitto")
    if found:
        return found
    return next((p for p in MOSQUITTO_CANDIDATES if os.access(p, os.X_OK)), None)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_password_file(path: Path, users: dict[str, str]) -> None:
    """A mosquitto password file: ``mosquitto_passwd -b`` if installed, else the same
    ``$7$`` PBKDF2-SHA512 format (101 iterations, 12-byte salt) written here."""
    tool = shutil.which("mosquitto_passwd")
    path.write_text("")
    if tool:
        for user, password in users.items():
            subprocess.run([tool, "-b", str(path), user, password], check=True, capture_output=True)
        return
    lines = []
    for user, password in users.items():
        salt = os.urandom(12)
        digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, 101)
        lines.append(
            f"{user}:$7$101${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
        )
    path.write_text("\n".join(lines) + "\n")


@dataclass
class Pki:
    """A test CA, a server certificate for 127.0.0.1/localhost, one for another name only, a
    client certificate, and an unrelated CA (all PEM files in ``folder``)."""

    folder: Path
    ca: Path
    server_cert: Path
    server_key: Path
    other_name_cert: Path  # valid, but only for "broker.invalid"
    other_name_key: Path
    client_cert: Path
    client_key: Path
    wrong_ca: Path


def make_pki(folder: Path) -> Pki:
    """Generate the certificates with the ``cryptography`` package (EC P-256: fast)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.timezone.utc)

    def key() -> ec.EllipticCurvePrivateKey:
        return ec.generate_private_key(ec.SECP256R1())

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def write_key(k: ec.EllipticCurvePrivateKey, path: Path) -> Path:
        path.write_bytes(
            k.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return path

    def write_cert(c: x509.Certificate, path: Path) -> Path:
        path.write_bytes(c.public_bytes(serialization.Encoding.PEM))
        return path

    def ca(cn: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        k = key()
        cert = (
            x509.CertificateBuilder()
            .subject_name(name(cn))
            .issuer_name(name(cn))
            .public_key(k.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(k.public_key()), critical=False
            )
            .sign(k, hashes.SHA256())
        )
        return cert, k

    def leaf(
        cn: str,
        issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey],
        sans: list[x509.GeneralName],
        usage: x509.ObjectIdentifier,
    ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        k = key()
        ca_cert, ca_key = issuer
        b = (
            x509.CertificateBuilder()
            .subject_name(name(cn))
            .issuer_name(ca_cert.subject)
            .public_key(k.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
        )
        if sans:
            b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        return b.sign(ca_key, hashes.SHA256()), k

    root = ca("TwinViewer test CA")
    other = ca("Some other CA")
    server = leaf(
        "localhost",
        root,
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
        ExtendedKeyUsageOID.SERVER_AUTH,
    )
    misnamed = leaf(
        "broker.invalid", root, [x509.DNSName("broker.invalid")], ExtendedKeyUsageOID.SERVER_AUTH
    )
    client = leaf("twinviewer-client", root, [], ExtendedKeyUsageOID.CLIENT_AUTH)
    return Pki(
        folder=folder,
        ca=write_cert(root[0], folder / "ca.pem"),
        server_cert=write_cert(server[0], folder / "server.pem"),
        server_key=write_key(server[1], folder / "server.key"),
        other_name_cert=write_cert(misnamed[0], folder / "misnamed.pem"),
        other_name_key=write_key(misnamed[1], folder / "misnamed.key"),
        client_cert=write_cert(client[0], folder / "client.pem"),
        client_key=write_key(client[1], folder / "client.key"),
        wrong_ca=write_cert(other[0], folder / "wrong-ca.pem"),
    )


class Mosquitto:
    """One mosquitto process on loopback. Ports stay the same across :meth:`restart`.

    ``users`` turns on a password file (anonymous clients are then refused); ``pki`` adds
    three TLS listeners: :attr:`tls_port` (server certificate for 127.0.0.1/localhost),
    :attr:`misnamed_port` (a certificate for another host name) and :attr:`mtls_port` (client
    certificate required). Persistence is on and the database is saved on every change, so a
    graceful :meth:`stop` (SIGTERM) keeps persistent sessions and their queued QoS 1 messages.
    """

    def __init__(
        self,
        folder: Path,
        *,
        users: dict[str, str] | None = None,
        pki: Pki | None = None,
        port: int | None = None,
        extra: str = "",
    ) -> None:
        binary = find_mosquitto()
        if binary is None:
            raise FileNotFoundError("mosquitto is not installed (apt install mosquitto)")
        self.binary = binary
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.pki = pki
        self.tls_port = free_port() if pki else None
        self.misnamed_port = free_port() if pki else None
        self.mtls_port = free_port() if pki else None
        self.log_path = self.folder / "mosquitto.log"
        self.conf_path = self.folder / "mosquitto.conf"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        lines = [
            "per_listener_settings false",
            f"allow_anonymous {'false' if users else 'true'}",
            "persistence true",
            f"persistence_location {self.folder}/",
            "persistence_file mosquitto.db",
            # save after every change (autosave_on_changes counts changes up to the interval)
            "autosave_on_changes true",
            "autosave_interval 1",
            "max_queued_messages 100000",
            "max_inflight_messages 100",
            f"log_dest file {self.log_path}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "connection_messages true",
            "log_timestamp true",
        ]
        if os.geteuid() == 0:  # mosquitto drops root privileges to 'mosquitto' unless told
            lines.append("user root")
        if users:
            pw = self.folder / "passwords"
            write_password_file(pw, users)
            lines.append(f"password_file {pw}")
        lines.append(f"listener {self.port} 127.0.0.1")
        if pki:
            for port, cert, key, require in (
                (self.tls_port, pki.server_cert, pki.server_key, False),
                (self.misnamed_port, pki.other_name_cert, pki.other_name_key, False),
                (self.mtls_port, pki.server_cert, pki.server_key, True),
            ):
                lines += [
                    f"listener {port} 127.0.0.1",
                    f"cafile {pki.ca}",
                    f"certfile {cert}",
                    f"keyfile {key}",
                    f"require_certificate {'true' if require else 'false'}",
                ]
        if extra:
            lines.append(extra)
        self.conf_path.write_text("\n".join(lines) + "\n")

    # -- urls ------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def tls_url(self, host: str = "127.0.0.1", port: int | None = None) -> str:
        return f"mqtts://{host}:{port or self.tls_port}"

    # -- process ---------------------------------------------------------------------------------
    def start(self, timeout: float = 5.0) -> Mosquitto:
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError("mosquitto is already running")
        with open(self.folder / "stderr.txt", "ab") as err:
            self.proc = subprocess.Popen(
                [self.binary, "-c", str(self.conf_path)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        self.starts += 1
        ports = [p for p in (self.port, self.tls_port, self.misnamed_port, self.mtls_port) if p]
        deadline = time.monotonic() + timeout
        pending = list(ports)
        while pending:
            if self.proc.poll() is not None:
                self.proc = None
                text = (self.folder / "stderr.txt").read_text(errors="replace")
                raise RuntimeError(f"mosquitto exited at start: {text}\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", pending[0]), timeout=0.2):
                    pending.pop(0)
            except OSError:
                if time.monotonic() > deadline:
                    self.kill()
                    raise TimeoutError(f"mosquitto did not listen on {pending[0]}") from None
                time.sleep(0.02)
        return self

    def _end(self, sig: int, timeout: float = 5.0) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def stop(self) -> None:
        """Graceful: SIGTERM; mosquitto writes its persistence database on the way out."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL: whatever was not yet saved is gone."""
        self._end(signal.SIGKILL)

    def restart(self, kill: bool = False, down: float = 0.0) -> None:
        """Stop (or kill), stay down ``down`` seconds, start again on the same ports."""
        if kill:
            self.kill()
        else:
            self.stop()
        if down:
            time.sleep(down)
        self.start()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def count_in_log(self, text: str) -> int:
        return self.log().count(text)

    def __enter__(self) -> Mosquitto:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def simulating(
    project: Path, url: str, topics: str, rate: float = 5.0, duration: float = 120.0
) -> Iterator[subprocess.Popen[bytes]]:
    """``twinviewer simulate PROJECT --mqtt URL`` running until the block ends; entered once
    the broker carries something on ``topics`` (a filter), else the test fails with the
    simulator's log."""
    from twinviewer.sources import discovery

    log = project.parent / "simulate.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "twinviewer", "simulate", str(project), "--mqtt", url]
            + ["--rate", str(rate), "--duration", str(duration)],
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        try:
            deadline = time.monotonic() + 30
            while not discovery.discover(url, topics, 0.3):
                assert proc.poll() is None, log.read_text(errors="replace")
                assert time.monotonic() < deadline, "the simulator published nothing in 30 s"
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
