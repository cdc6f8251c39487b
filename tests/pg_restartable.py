"""A PostgreSQL server of its own that a test can stop and start again (same port, same data).

Built on :class:`twinviewer.history.pg_local.LocalPostgres` (which makes the folder and starts
the server once): :meth:`RestartablePostgres.stop_server` stops the server process (fast
shutdown, or ``kill=True`` for SIGKILL) and keeps its folder; :meth:`start_server` runs the
same command line again. The session-wide ``pg_server`` is never stopped by tests.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

from twinviewer.history.pg_local import LocalPostgres


class RestartablePostgres:
    def __init__(self) -> None:
        self.server = LocalPostgres()
        self.args: list[str] = []
        self.starts = 0

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> RestartablePostgres:
        self.server.start()
        assert self.server.proc is not None
        self.args = [str(a) for a in self.server.proc.args]  # type: ignore[union-attr]
        self.starts = 1
        return self

    def stop_server(self, kill: bool = False) -> None:
        proc = self.server.proc
        assert proc is not None
        proc.send_signal(signal.SIGKILL if kill else signal.SIGINT)
        proc.wait(timeout=30)

    def start_server(self, timeout: float = 30.0) -> None:
        import psycopg

        root = self.server.root
        assert root is not None
        st = os.stat(root)
        as_user: dict[str, object] = {}
        if os.geteuid() == 0:
            as_user = {"user": st.st_uid, "group": st.st_gid, "extra_groups": []}
        pid = root / "data" / "postmaster.pid"
        if pid.exists():  # after SIGKILL: the server would refuse to start
            pid.unlink()
        with open(root / "server.log", "ab") as out:
            self.server.proc = subprocess.Popen(
                self.args,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                **as_user,  # type: ignore[call-overload]
            )
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.url, connect_timeout=2):
                    break
            except psycopg.Error:
                if time.monotonic() > deadline or self.server.proc.poll() is not None:
                    raise RuntimeError("the restarted PostgreSQL does not answer") from None
                time.sleep(0.05)
        self.starts += 1

    def close(self) -> None:
        self.server.stop()
