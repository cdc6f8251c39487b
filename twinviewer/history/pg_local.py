"""A throw-away PostgreSQL server in a temporary folder, for the tests and the benchmarks.

``initdb`` into a new folder, then ``postgres -D folder -p PORT`` on 127.0.0.1 (trust
authentication, a user ``twinviewer``, fsync off: nothing here is meant to survive). PostgreSQL
refuses to run as root, so as root the server runs as the ``postgres`` user (created by the
Debian package), or ``nobody`` if there is none. The binaries come from ``pg_config --bindir``,
else the newest ``/usr/lib/postgresql/*/bin``; :func:`find_bindir` returns None when there are
none, so callers can skip with a reason.
"""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)

USER = "twinviewer"


def find_bindir() -> Path | None:
    """The folder holding ``initdb`` and ``postgres``, or None."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
            candidates.append(Path(out))
        except (OSError, subprocess.SubprocessError):
            pass

    def version(p: Path) -> float:
        try:
            return float(p.parent.name)
        except ValueError:
            return 0.0

    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).parent)
    for c in candidates:
        if (c / "initdb").exists() and (c / "postgres").exists():
            return c
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalPostgres:
    """Start with :meth:`start` (or ``with``); :attr:`url` connects as superuser ``twinviewer``."""

    def __init__(self, bindir: Path | None = None, settings: dict[str, str] | None = None) -> None:
        found = bindir or find_bindir()
        if found is None:
            raise FileNotFoundError(
                "no PostgreSQL server binaries (initdb, postgres) found: install the Debian "
                "package 'postgresql' or put pg_config on the PATH"
            )
        self.bindir = found
        self.settings = {
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "50",
            **(settings or {}),
        }
        self.root: Path | None = None
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._uid: int | None = None
        self._gid: int | None = None

    @property
    def url(self) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/postgres"

    def _as_user(self) -> dict[str, object]:
        if self._uid is None:
            return {}
        return {"user": self._uid, "group": self._gid, "extra_groups": []}

    def start(self, timeout: float = 30.0) -> LocalPostgres:
        self.root = Path(tempfile.mkdtemp(prefix="twinviewer-pg-"))
        data = self.root / "data"
        if os.geteuid() == 0:  # postgres will not run as root
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                pw = pwd.getpwnam("nobody")
            self._uid, self._gid = pw.pw_uid, pw.pw_gid
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        log_file = self.root / "server.log"
        initdb = subprocess.run(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                USER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--locale=C",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            **self._as_user(),  # type: ignore[call-overload]
        )
        if initdb.returncode != 0:
            self.stop()
            raise RuntimeError(f"initdb failed: {initdb.stderr.strip() or initdb.stdout.strip()}")
        self.port = _free_port()
        args = [
            str(self.bindir / "postgres"),
            "-D",
            str(data),
            "-p",
            str(self.port),
            "-k",
            str(self.root),
            "-c",
            "listen_addresses=127.0.0.1",
        ]
        for k, v in self.settings.items():
            args += ["-c", f"{k}={v}"]
        with open(log_file, "wb") as out:
            if self._uid is not None:
                os.chown(log_file, self._uid, self._gid or 0)
            self.proc = subprocess.Popen(
                args,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                **self._as_user(),  # type: ignore[call-overload]
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                text = log_file.read_text(errors="replace")
                self.stop()
                raise RuntimeError(f"postgres exited at start:\n{text[-2000:]}")
            if self._ready():
                log.info("local PostgreSQL on port %d in %s", self.port, self.root)
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"postgres did not accept connections within {timeout:.0f} s")

    def _ready(self) -> bool:
        if (self.root is None) or not (self.root / f".s.PGSQL.{self.port}").exists():
            return False
        isready = self.bindir / "pg_isready"
        if isready.exists():  # accepting connections, not merely listening
            args = [str(isready), "-q", "-h", "127.0.0.1", "-p", str(self.port), "-U", USER]
            return subprocess.run(args, timeout=10).returncode == 0
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        """Fast shutdown (SIGINT), then delete the folder."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(2)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
