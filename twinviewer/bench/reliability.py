"""``twinviewer bench reliability``: the mine demo at 5 Hz through a real mosquitto, across faults.

For each fault — none, a graceful broker restart (SIGTERM, persistence on), a ``kill -9`` and
restart, and a network cut (a proxy between the clients and the broker drops every connection
and holds new ones unanswered for 5 s) — the demo publisher (``twinviewer simulate``'s
:func:`publish_mqtt`) and an :class:`MqttFeed` with a persistent session run through the proxy.
Each figure is the samples missing at the receiver, beside the samples the reported gaps say
are missing (the baseline): they are equal when every loss was accounted for.
"""

from __future__ import annotations

import logging
import os
import select
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

from twinviewer.bench.figures import Figure
from twinviewer.bench.mqtt import _free_port, _mosquitto
from twinviewer.core.gaps import Gap, GapLog
from twinviewer.core.project import MqttSource, load_project
from twinviewer.core.samples import SampleBatch
from twinviewer.session.demos import demo_project
from twinviewer.sources.base import SourceState
from twinviewer.sources.mqtt import MqttFeed
from twinviewer.sources.mqtt_publish import publish_mqtt

log = logging.getLogger(__name__)

MAX_QUEUED = 100_000  # messages the broker queues for an offline persistent session
FAULTS = ("none", "graceful restart", "kill -9", "network cut 5 s")


class _Broker:
    """mosquitto with persistence, to stop, kill and start again on the same port."""

    def __init__(self, folder: Path) -> None:
        binary = _mosquitto()
        if binary is None:
            raise FileNotFoundError("mosquitto is not installed")
        self.binary = binary
        self.port = _free_port()
        self.conf = folder / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
            f"persistence_location {folder}/\nlog_type error\n"
            # a recorder's offline session must be able to hold an outage's messages: with
            # mosquitto's default (1,000) a 5 s cut of the mine at 5 Hz lost ~940 samples
            f"max_queued_messages {MAX_QUEUED}\n"
            + ("user root\n" if os.name == "posix" and os.geteuid() == 0 else "")
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 5
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("mosquitto did not start") from None
                time.sleep(0.02)

    def end(self, sig: int) -> None:
        if self.proc is not None:
            self.proc.send_signal(sig)
            self.proc.wait(10)
            self.proc = None


class _Proxy:
    """A TCP relay from ``port`` to the broker that can cut the network for a while."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.server.getsockname()[1])
        self.cut_until = 0.0
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.held: list[socket.socket] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        self.server.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if time.monotonic() < self.cut_until:
                with self.lock:
                    self.held.append(conn)  # no answer: as if the packets were dropped
                continue
            try:
                up = socket.create_connection(("127.0.0.1", self.target), 2)
            except OSError:
                conn.close()  # the broker is down: refused, as it would be
                continue
            with self.lock:
                self.pairs.append((conn, up))
            threading.Thread(target=self._relay, args=(conn, up), daemon=True).start()

    def _relay(self, a: socket.socket, b: socket.socket) -> None:
        try:
            while not self.stop.is_set():
                r, _, _ = select.select([a, b], [], [], 0.2)
                for s in r:
                    data = s.recv(65536)
                    if not data:
                        return
                    (b if s is a else a).sendall(data)
        except OSError:
            return
        finally:
            a.close()
            b.close()

    def cut(self, seconds: float) -> None:
        self.cut_until = time.monotonic() + seconds
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for a, b in pairs:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        time.sleep(seconds)
        with self.lock:
            held, self.held = self.held, []
        for s in held:
            s.close()

    def close(self) -> None:
        self.stop.set()
        self.server.close()


class _Count:
    def __init__(self) -> None:
        self.keys: set[tuple[int, float]] = set()
        self.lock = threading.Lock()

    def __call__(self, b: SampleBatch) -> None:
        with self.lock:
            self.keys.update(zip(b.sensor.tolist(), b.time.tolist(), strict=True))

    def __len__(self) -> int:
        with self.lock:
            return len(self.keys)


def _run(fault: str, duration: float, folder: Path) -> Figure:
    project, _ = load_project(demo_project("mine"))
    broker = _Broker(folder)
    broker.start()
    proxy = _Proxy(broker.port)
    url = f"mqtt://127.0.0.1:{proxy.port}"
    cfg = MqttSource(
        type="mqtt",
        url=url,
        topic="bench/{component}/{sensor}",
        qos=1,
        client_id=f"bench-{uuid.uuid4().hex[:6]}",
    )
    feed = MqttFeed(cfg, project.sensors, folder)
    count, gaps = _Count(), GapLog()
    feed.start(count, gaps.add)

    def inject() -> None:
        if fault == "graceful restart":
            broker.end(signal.SIGTERM)
            broker.start()
        elif fault == "kill -9":
            broker.end(signal.SIGKILL)
            broker.start()
        elif fault == "network cut 5 s":
            proxy.cut(5.0)

    try:
        deadline = time.monotonic() + 10
        while feed.status.state != SourceState.LIVE and time.monotonic() < deadline:
            time.sleep(0.05)
        timer = threading.Timer(duration / 3, inject)
        timer.start()
        stats = publish_mqtt(project, url, config=cfg, rate=5, duration=duration, drain=30)
        timer.join()
        last = -1
        while len(count) != last:  # until what is in flight has arrived
            last = len(count)
            time.sleep(2.0)
    finally:
        feed.stop()
        proxy.close()
        broker.end(signal.SIGTERM)
    reported: list[Gap] = gaps.drain()
    missing = stats.samples - len(count)
    gap_samples = sum(g.missing for g in reported)
    accounted = "yes" if gap_samples == missing else "no"
    causes = ", ".join(sorted({g.cause for g in reported})) or "-"
    return Figure(
        name=f"reliability, {fault}: samples missing",
        value=float(missing),
        unit="samples",
        target="0 (graceful restart: none lost); else = gaps reported",
        baseline=float(gap_samples),
        baseline_name="samples the reported gaps say are missing",
        note=(
            f"published {stats.samples:,}, acknowledged {stats.samples_acknowledged:,}, "
            f"pending {stats.pending}, recorded {len(count):,}; {len(reported)} gaps ({causes}); "
            f"every loss accounted for: {accounted}"
        ),
    )


def bench_reliability(quick: bool) -> list[Figure]:
    duration = 20.0 if quick else 120.0
    out = []
    for fault in FAULTS:
        with tempfile.TemporaryDirectory(prefix="twinviewer-reliability-") as tmp:
            out.append(_run(fault, duration, Path(tmp)))
    return out
