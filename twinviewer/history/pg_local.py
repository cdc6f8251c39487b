"""A throw-away PostgreSQL server in a temporary folder, for the tests and the benchmarks.

``initdb`` into a new folder, then ``postgres -D folder -p PORT`` on 127.0.0.1 (trust
authentication, a user ``twinviewer``, fsync off: nothing here is meant to survive). PostgreSQL
refuses to run as root, so as root the server runs as the ``postgres`` user (created by the
Debian package), or ``nobody`` if there is none. The binaries come from ``pg_config --bindir``,
else the newest ``/usr/lib/postgresql/*/bin``; :func:`find_bindir` returns None when there are
none, so callers can skip with a reason.

Streaming replication (the control-room tests): ``LocalPostgres(replication=True)`` is a primary
that accepts replication connections from the trust user (``wal_level=replica``,
``max_wal_senders``, a ``replication`` line in ``pg_hba.conf``); :meth:`LocalPostgres.standby_of`
makes a second server from it with ``pg_basebackup -R`` (a base backup whose configuration makes
it follow the primary) and starts it on another port as a *hot standby*: read-only queries
while it replays the primary's WAL. :meth:`LocalPostgres.wait_replayed` waits until a standby
has replayed everything the primary has written so far.
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
REPLICATION_SETTINGS = {"wal_level": "replica", "max_wal_senders": "5", "wal_keep_size": "256MB"}
# a standby: read-only queries while replaying; tell the primary what they read, so that its
# vacuum does not cancel them (a viewer's query must not fail on a busy control room)
STANDBY_SETTINGS = {"hot_standby": "on", "hot_standby_feedback": "on"}


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

    def __init__(
        self,
        bindir: Path | None = None,
        settings: dict[str, str] | None = None,
        *,
        replication: bool = False,
    ) -> None:
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
            **(REPLICATION_SETTINGS if replication else {}),
            **(settings or {}),
        }
        self.replication = replication
        self.primary: LocalPostgres | None = None  # the server a standby follows
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

    def _make_root(self) -> Path:
        self.root = Path(tempfile.mkdtemp(prefix="twinviewer-pg-"))
        if os.geteuid() == 0:  # postgres will not run as root
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                pw = pwd.getpwnam("nobody")
            self._uid, self._gid = pw.pw_uid, pw.pw_gid
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        return self.root

    def _run(self, args: list[str], what: str) -> None:
        done = subprocess.run(
            args,
            capture_output=True,
            text=True,
            timeout=120,
            **self._as_user(),  # type: ignore[call-overload]
        )
        if done.returncode != 0:
            self.stop()
            raise RuntimeError(f"{what} failed: {done.stderr.strip() or done.stdout.strip()}")

    def start(self, timeout: float = 30.0) -> LocalPostgres:
        root = self._make_root()
        data = root / "data"
        self._run(
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
            "initdb",
        )
        if self.replication:  # initdb's default file has such lines; say it whatever it has
            with open(data / "pg_hba.conf", "a", encoding="utf-8") as hba:
                hba.write(f"\nhost replication {USER} 127.0.0.1/32 trust\n")
        return self._launch(data, timeout)

    @classmethod
    def standby_of(cls, primary: LocalPostgres, timeout: float = 60.0) -> LocalPostgres:
        """A hot standby of ``primary`` (started with ``replication=True``): a base backup
        taken with ``pg_basebackup -R`` into a new folder, started on a port of its own."""
        if primary.proc is None or not primary.port:
            raise RuntimeError("the primary server is not running")
        server = cls(primary.bindir, {**primary.settings, **STANDBY_SETTINGS})
        server.primary = primary
        root = server._make_root()
        data = root / "data"
        server._run(
            [
                str(server.bindir / "pg_basebackup"),
                "-h",
                "127.0.0.1",
                "-p",
                str(primary.port),
                "-U",
                USER,
                "-D",
                str(data),
                "-R",  # standby.signal + primary_conninfo: follow the primary after start
                "-X",
                "stream",
                "--no-sync",
                "-c",
                "fast",
            ],
            "pg_basebackup",
        )
        return server._launch(data, timeout)

    def _launch(self, data: Path, timeout: float) -> LocalPostgres:
        assert self.root is not None
        log_file = self.root / "server.log"
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

    def wait_replayed(self, timeout: float = 30.0) -> None:
        """A standby: wait until it has replayed all the WAL its primary has written now (the
        insert position: with ``synchronous_commit=off`` a commit may not be flushed yet)."""
        import psycopg

        if self.primary is None:
            raise RuntimeError("not a standby")
        with psycopg.connect(self.primary.url, autocommit=True) as conn:
            row = conn.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()
        target = str(row[0]) if row else "0/0"
        deadline = time.monotonic() + timeout
        with psycopg.connect(self.url, autocommit=True) as conn:
            while True:
                row = conn.execute(
                    "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,)
                ).fetchone()
                if row and row[0]:
                    return
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the standby did not replay up to {target} in {timeout} s")
                time.sleep(0.02)

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
