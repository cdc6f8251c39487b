"""OPC UA: the feed and browse() against real asyncua servers (serve_opcua) on loopback ports,
and writing bindings into a project file. No mocks: every server is a real one, in-process."""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("asyncua")

from twinviewer.core.project import OpcUaSource, Project, ProjectError, load_project  # noqa: E402
from twinviewer.core.project_edit import ProjectEditError, set_opcua_bindings  # noqa: E402
from twinviewer.core.samples import SampleBatch  # noqa: E402
from twinviewer.sources.base import SourceState  # noqa: E402
from twinviewer.sources.opcua import OpcUaError, OpcUaFeed, browse  # noqa: E402
from twinviewer.sources.opcua_server import (  # noqa: E402
    SERVER_CERT,
    ServeStats,
    make_certificate,
    serve_opcua,
)
from twinviewer.sources.simulator import simulate  # noqa: E402

RATE = 20.0
USER, PASSWORD = "operator", "pump-house-7"

PROJECT = """\
# A small plant for the OPC UA tests.
name: Test plant
models: [plant.glb]
sensors:
  - {id: P1_T, quantity: temperature, unit: degC, component: pump_1, range: [0, 100],
     warning: {high: 70}}
  - {id: P1_I, quantity: current, unit: A, component: pump_1, range: [0, 50]}
  - {id: F_V, quantity: vibration, unit: mm/s, component: fan, range: [0, 20]}
  - {id: AMB, quantity: humidity, unit: '%', range: [0, 100]}
sources:
  - type: simulator
    rate: 5
    seed: 3
  - type: opcua      # the plant's OPC UA server
    id: plc
    endpoint: opc.tcp://127.0.0.1:4840
    nodes:
      # pump 1
      P1_T: ns=2;s=P1_T   # winding
      P1_I: ns=2;s=P1_I
    sampling_interval: 50
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """serve_opcua on a thread; stops and joins on exit."""

    def __init__(self, project: Project, port: int | None = None, **kw: Any) -> None:
        self.endpoint = f"opc.tcp://127.0.0.1:{port or free_port()}/twin"
        self.stats = ServeStats()
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.error: BaseException | None = None

        def body() -> None:
            try:
                serve_opcua(
                    project, self.endpoint, stop=self.stop, ready=self.ready, stats=self.stats, **kw
                )
            except BaseException as exc:  # reported by start()
                self.error = exc
                self.ready.set()

        self.thread = threading.Thread(target=body, name="opcua-server", daemon=True)

    def start(self) -> Served:
        self.thread.start()
        assert self.ready.wait(20), "server did not start"
        if self.error:
            raise self.error
        return self

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)
        assert not self.thread.is_alive()

    def __enter__(self) -> Served:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


@pytest.fixture(scope="module")
def project_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("plant") / "plant.twin.yaml"
    path.write_text(PROJECT)
    return path


@pytest.fixture(scope="module")
def project(project_file: Path) -> Project:
    return load_project(project_file)[0]


@pytest.fixture(scope="module")
def plain(project: Project) -> Iterator[Served]:
    with Served(project, rate=RATE) as s:
        yield s


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A client certificate and an unrelated one (not the server's)."""
    d = tmp_path_factory.mktemp("pki")
    make_certificate(d / "client.der", d / "client_key.pem", "urn:test:twinviewer:client")
    make_certificate(d / "other.pem", d / "other_key.pem", "urn:test:impostor")
    return d


@pytest.fixture(scope="module")
def secure(project: Project, pki: Path) -> Iterator[Served]:
    with Served(
        project, rate=RATE, security=True, cert_dir=pki / "server", users={USER: PASSWORD}
    ) as s:
        yield s


class Collector:
    def __init__(self) -> None:
        self.batches: list[SampleBatch] = []
        self.lock = threading.Lock()

    def __call__(self, batch: SampleBatch) -> None:
        with self.lock:
            self.batches.append(batch)

    def all(self) -> SampleBatch:
        with self.lock:
            if not self.batches:
                return SampleBatch.of([], [], [])
            return SampleBatch.concat(list(self.batches))


def wait_for(cond: Callable[[], bool], timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def feed_for(
    project: Project, folder: Path, endpoint: str, nodes: dict[str, str], **kw: object
) -> OpcUaFeed:
    cfg = OpcUaSource(
        type="opcua",
        endpoint=endpoint,
        nodes=nodes,
        sampling_interval=50,
        publishing_interval=50,
        **kw,
    )
    return OpcUaFeed(cfg, project.sensors, folder)


def stop_promptly(feed: OpcUaFeed) -> None:
    t = time.monotonic()
    feed.stop()
    assert time.monotonic() - t < 2.0
    assert feed.status.state is SourceState.STOPPED


def expected_values(project: Project, stats: ServeStats, until: float) -> np.ndarray:
    """What the server's signal model gave at every step up to ``until`` (simulated seconds)."""
    sim = project.sources[0].model_copy(update={"rate": RATE})
    got = simulate(project, sim, until)  # type: ignore[arg-type]
    n = len(project.sensors)
    return got.value.reshape(-1, n)


def check_samples(project: Project, server: Served, batch: SampleBatch) -> None:
    """Every sample is the server's model value of its sensor at its stamped step."""
    assert server.stats.started is not None and server.stats.speed == 1
    steps = (batch.time - server.stats.started) * RATE
    k = np.rint(steps).astype(int)
    assert np.all(np.abs(steps - k) < 1e-3), "source timestamps are not the model's steps"
    values = expected_values(project, server.stats, k.max() / RATE + 1.0)
    np.testing.assert_array_equal(batch.value, values[k, batch.sensor])


# -- the feed ------------------------------------------------------------------------------


def test_values_arrive_for_bound_sensors(
    project: Project, project_file: Path, plain: Served
) -> None:
    names = [s.id for s in project.sensors]
    # A node id with the namespace index, and one with the namespace URI (stable across
    # server restarts, resolved through the server's namespace array).
    nodes = {"P1_T": "ns=2;s=P1_T", "F_V": "nsu=urn:twinviewer:test-plant;s=F_V"}
    feed = feed_for(project, project_file.parent, plain.endpoint, nodes)
    got = Collector()
    feed.start(got)
    try:
        wait_for(lambda: feed.status.accepted >= 40, 10, "40 samples")
        assert feed.status.state is SourceState.LIVE
        assert feed.status.message == "2 of 2 nodes subscribed"
    finally:
        stop_promptly(feed)
    batch = got.all()
    assert set(batch.sensor.tolist()) == {names.index("P1_T"), names.index("F_V")}
    assert len(got.batches) >= 5  # columnar batches every ~50 ms, not one per sample
    check_samples(project, plain, batch)
    for i in set(batch.sensor.tolist()):  # no loss: consecutive steps, in order
        steps = np.rint((batch.time[batch.sensor == i] - plain.stats.started) * RATE)
        # The first value is the one the server sends when the monitored item is created; its
        # sampling may start a few steps later while the subscription is still being set up
        # (seen once in a CI run: steps 1, 7, 8, ...). From then on nothing may be missing.
        assert np.all(np.diff(steps[1:]) == 1)
        assert steps[1] > steps[0]
    assert feed.status.accepted == len(batch) and feed.status.messages == len(batch)
    assert not feed.status.rejected


def test_unknown_nodes_and_sensors_are_reported_and_the_rest_works(
    project: Project, project_file: Path, plain: Served
) -> None:
    feed = feed_for(
        project,
        project_file.parent,
        plain.endpoint,
        {
            "P1_I": "ns=2;s=P1_I",
            "AMB": "ns=2;s=No.Such.Node",
            "F_V": "not a node id",
            "P1_T": "nsu=urn:no:such:namespace;s=P1_T",
            "GHOST": "ns=2;s=P1_T",  # not a sensor of the project
        },
    )
    got = Collector()
    feed.start(got)
    try:
        wait_for(lambda: feed.status.accepted >= 10, 10, "samples of the good node")
        message = feed.status.message
    finally:
        stop_promptly(feed)
    assert feed.status.rejected == {"unknown_sensor": 1}
    assert "1 of 4 nodes subscribed" in message
    assert "ns=2;s=No.Such.Node" in message and "not a node id" in message
    assert feed.missing == {
        "ns=2;s=No.Such.Node": "BadNodeIdUnknown",
        "not a node id": "not a node id",
        "nsu=urn:no:such:namespace;s=P1_T": "namespace urn:no:such:namespace unknown",
    }
    assert feed.subscribed == {"P1_I": "ns=2;s=P1_I"}
    batch = got.all()
    assert set(batch.sensor.tolist()) == {1}
    check_samples(project, plain, batch)


@pytest.mark.parametrize("mode", ["Sign", "SignAndEncrypt"])
def test_basic256sha256_with_certificates_and_user(
    project: Project, pki: Path, secure: Served, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TV_TEST_OPCUA_PASSWORD", PASSWORD)
    feed = feed_for(
        project,
        pki,
        secure.endpoint,
        {"P1_T": "ns=2;s=P1_T"},
        security_policy="Basic256Sha256",
        security_mode=mode,
        certificate="client.der",
        private_key="client_key.pem",
        server_certificate=f"server/{SERVER_CERT}",  # relative to the folder (pki)
        username=USER,
        password_env="TV_TEST_OPCUA_PASSWORD",
    )
    got = Collector()
    feed.start(got)
    try:
        wait_for(lambda: feed.status.accepted >= 10, 15, f"samples over {mode}")
        assert feed.status.state is SourceState.LIVE
    finally:
        stop_promptly(feed)
    check_samples(project, secure, got.all())
    assert feed.attempts == 1


def test_secure_server_refuses_an_unsecured_session(
    project: Project, pki: Path, secure: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = feed_for(
        project, pki, secure.endpoint, {"P1_T": "ns=2;s=P1_T"}, username=USER, password=PASSWORD
    )
    feed.start(Collector())
    try:
        wait_for(lambda: feed.status.state is SourceState.ERROR, 10, "ERROR")
    finally:
        stop_promptly(feed)
    assert "no endpoint with security None/None" in feed.status.message
    assert "Basic256Sha256/SignAndEncrypt" in feed.status.message

    # A client that ignores the endpoints and activates a session on an unsecured channel
    # anyway is refused by the server itself.
    import asyncio

    from asyncua import Client, ua

    def any_endpoint(endpoints: Any, mode: Any, uri: str) -> Any:
        # the SignAndEncrypt endpoint: its user token policy takes the password as it is
        return next(e for e in endpoints if e.SecurityMode == ua.MessageSecurityMode.SignAndEncrypt)

    monkeypatch.setattr(Client, "find_endpoint", staticmethod(any_endpoint))

    async def careless() -> None:
        client = Client(secure.endpoint)
        client.set_user(USER)
        client.set_password(PASSWORD)
        await client.connect()
        await client.disconnect()

    with pytest.raises(ua.uaerrors.BadUserAccessDenied):
        asyncio.run(careless())


@pytest.mark.parametrize(
    ("change", "expect"),
    [
        ({"password": "wrong"}, "authentication failed"),
        ({"server_certificate": "other.pem"}, "refusing to connect"),
        ({"username": None, "password": None}, "requires a user name and password"),
    ],
    ids=["wrong-password", "untrusted-server-certificate", "anonymous"],
)
def test_auth_and_trust_failures_are_errors_without_retries(
    project: Project, pki: Path, secure: Served, change: dict[str, object], expect: str
) -> None:
    options: dict[str, object] = {
        "security_policy": "Basic256Sha256",
        "security_mode": "SignAndEncrypt",
        "certificate": "client.der",
        "private_key": "client_key.pem",
        "username": USER,
        "password": PASSWORD,
    }
    options.update(change)
    feed = feed_for(project, pki, secure.endpoint, {"P1_T": "ns=2;s=P1_T"}, **options)
    feed.first_backoff = 0.1
    got = Collector()
    feed.start(got)
    try:
        wait_for(lambda: feed.status.state is SourceState.ERROR, 10, "ERROR")
        time.sleep(0.5)  # several back-offs long: a retry would have happened
        assert feed.status.state is SourceState.ERROR
    finally:
        stop_promptly(feed)
    assert expect in feed.status.message
    assert feed.attempts == 1 and feed.connections == 0 and not got.batches


def test_reconnects_and_resubscribes_after_a_server_restart(
    project: Project, project_file: Path
) -> None:
    port = free_port()
    first = Served(project, port, rate=RATE).start()
    feed = feed_for(project, project_file.parent, first.endpoint, {"P1_I": "ns=2;s=P1_I"})
    got = Collector()
    feed.start(got)
    try:
        wait_for(lambda: feed.status.accepted >= 5, 10, "samples from the first server")
        first.close()
        wait_for(lambda: feed.status.state is SourceState.RECONNECTING, 5, "RECONNECTING")
        assert feed.status.message.startswith("connection lost: the server closed the connection")
        assert "retrying in 1 s" in feed.status.message
        before = feed.status.accepted
        with Served(project, port, rate=RATE) as second:
            wait_for(lambda: feed.status.state is SourceState.LIVE, 10, "LIVE again")
            assert feed.connections == 2
            wait_for(lambda: feed.status.accepted >= before + 10, 5, "samples after restart")
    finally:
        stop_promptly(feed)
        first.close()  # (already closed unless something above failed)
    batch = got.all()
    late = batch.time >= second.stats.started  # type: ignore[operator]
    assert late.sum() >= 10
    after = SampleBatch(batch.sensor[late], batch.time[late], batch.value[late])
    check_samples(project, second, after)


def test_faults_reach_the_feed_and_are_counted(project: Project, project_file: Path) -> None:
    nodes = {s.id: f"ns=2;s={s.id}" for s in project.sensors}
    # A fault every 0.5 simulated seconds: 13 in 6.6 s, served in 3.3 s of wall-clock time.
    server = Served(project, rate=RATE, speed=2.0, faults=True, duration=3.3).start()
    feed = feed_for(project, project_file.parent, server.endpoint, nodes)
    got = Collector()
    feed.start(got)
    try:
        server.thread.join(10)  # it stops by itself after ``duration``
        assert not server.thread.is_alive()
    finally:
        stop_promptly(feed)
        server.close()
    stats = server.stats
    # 6.6 simulated s at 20 Hz is 132 steps; a step may fall just past the end when the
    # machine is busy, which changes nothing below
    assert 3.3 <= stats.elapsed < 4.0 and stats.steps >= 128
    assert stats.nan >= 2 and stats.duplicates >= 2 and stats.out_of_order >= 2
    assert stats.dropouts >= 2 and stats.dropped > 0
    rejected = feed.status.rejected
    assert 1 <= rejected.get("not_finite", 0) <= stats.nan
    assert 1 <= rejected.get("duplicate", 0) <= stats.duplicates
    batch = got.all()
    assert np.isfinite(batch.value).all()
    backwards = gaps = 0
    for i in range(len(project.sensors)):
        t = batch.time[batch.sensor == i]
        backwards += int((np.diff(t) < 0).sum())
        gaps += int((np.diff(np.sort(t)) > 1.0).sum())  # 3 s / speed 2
    assert backwards >= 1  # out-of-order samples are passed on (newest wins downstream)
    assert gaps >= 1  # a drop-out: seconds without a sample


def test_unreachable_server_retries_with_back_off_and_stops_promptly(
    project: Project, project_file: Path
) -> None:
    feed = feed_for(
        project, project_file.parent, f"opc.tcp://127.0.0.1:{free_port()}", {"P1_T": "ns=2;s=P1_T"}
    )
    feed.start(Collector())
    try:
        wait_for(lambda: feed.attempts >= 2, 5, "a second attempt")
        assert feed.status.state is SourceState.RECONNECTING
        assert "connection refused; retrying in 2 s" in feed.status.message
        time.sleep(0.5)
        assert feed.attempts == 2  # waiting 2 s now, not hammering
    finally:
        stop_promptly(feed)


def test_missing_asyncua_is_a_clear_error(
    project: Project, project_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "asyncua", None)  # import asyncua -> ImportError
    feed = feed_for(project, project_file.parent, "opc.tcp://127.0.0.1:4840", {})
    feed.start(Collector())
    try:
        wait_for(lambda: feed.status.state is SourceState.ERROR, 5, "ERROR")
    finally:
        stop_promptly(feed)
    assert "pip install 'twinviewer[opcua]'" in feed.status.message


# -- browsing -----------------------------------------------------------------------------


def test_browse_finds_the_twins_variables(project: Project, plain: Served) -> None:
    tree = browse(plain.endpoint)
    assert [n.display_name for n in tree] == ["Test plant"]
    twin = tree[0]
    assert twin.node_class == "Object"
    by_name = {c.display_name: c for c in twin.children}
    assert set(by_name) == {"pump_1", "fan", "AMB"}
    assert [v.node_id for v in by_name["pump_1"].children] == ["ns=2;s=P1_T", "ns=2;s=P1_I"]
    variables = [n for n in twin.walk() if n.is_variable]
    assert {v.node_id for v in variables} == {f"ns=2;s={s.id}" for s in project.sensors}
    assert {v.data_type for v in variables} == {"Double"}
    assert by_name["AMB"].description == "humidity [%]"
    assert by_name["AMB"].browse_name == "2:AMB"


def test_browse_with_security_and_its_errors(pki: Path, secure: Served) -> None:
    tree = browse(
        secure.endpoint,
        security_policy="Basic256Sha256",
        security_mode="Sign",
        certificate="client.der",
        private_key="client_key.pem",
        username=USER,
        password=PASSWORD,
        folder=pki,
    )
    assert len([n for n in tree[0].walk() if n.is_variable]) == 4
    with pytest.raises(OpcUaError, match="authentication failed"):
        browse(
            secure.endpoint,
            security_policy="Basic256Sha256",
            security_mode="Sign",
            certificate="client.der",
            private_key="client_key.pem",
            username=USER,
            password="nope",
            folder=pki,
        )
    t = time.monotonic()
    with pytest.raises(OpcUaError, match="connection refused"):
        browse(f"opc.tcp://127.0.0.1:{free_port()}")
    assert time.monotonic() - t < 2
    with pytest.raises(OpcUaError, match="needs certificate and private_key"):
        browse(secure.endpoint, security_policy="Basic256Sha256", security_mode="Sign")


# -- writing bindings into the project file ------------------------------------------------


def test_set_opcua_bindings_keeps_comments_and_validates(tmp_path: Path) -> None:
    path = tmp_path / "plant.twin.yaml"
    path.write_text(PROJECT)
    set_opcua_bindings(
        path, "plc", {"P1_T": "ns=2;s=P1_T", "P1_I": "ns=3;s=Pump 1/I", "AMB": "ns=2;s=Ambient"}
    )
    text = path.read_text()
    project, _ = load_project(path)
    assert project.sources[1].nodes == {  # type: ignore[union-attr]
        "P1_T": "ns=2;s=P1_T",
        "P1_I": "ns=3;s=Pump 1/I",
        "AMB": "ns=2;s=Ambient",
    }
    for kept in (
        "# A small plant for the OPC UA tests.",
        "# the plant's OPC UA server",
        "# pump 1",
        "P1_T: ns=2;s=P1_T   # winding",
        "sampling_interval: 50",
    ):
        assert kept in text
    assert '      P1_I: "ns=3;s=Pump 1/I"\n      AMB: ns=2;s=Ambient\n    sampling_interval' in text
    untouched = PROJECT.split("sources:")[0]
    assert text.startswith(untouched)

    set_opcua_bindings(path, "plc", {"AMB": "ns=2;s=Ambient"})
    assert load_project(path)[0].sources[1].nodes == {"AMB": "ns=2;s=Ambient"}  # type: ignore[union-attr]
    tail = path.read_text().split("sources:")[1]
    assert "P1_T" not in tail and "# the plant's OPC UA server" in tail

    before = path.read_text()
    with pytest.raises(ProjectEditError, match="no opcua source with id 'nope'"):
        set_opcua_bindings(path, "nope", {"AMB": "x"})
    with pytest.raises(ProjectEditError, match="needs a sensor id and a node id"):
        set_opcua_bindings(path, "plc", {"AMB": ""})
    assert path.read_text() == before  # refused: nothing written

    path.write_text(PROJECT.replace("models: [plant.glb]\n", ""))  # invalid to begin with
    with pytest.raises(ProjectError):
        set_opcua_bindings(path, "plc", {})


def test_set_opcua_bindings_in_flow_style_and_without_nodes(tmp_path: Path) -> None:
    path = tmp_path / "flow.twin.yaml"
    head = PROJECT.split("sources:")[0]
    path.write_text(
        head + "sources:\n"
        "  - {type: opcua, id: a, endpoint: 'opc.tcp://h:4840'}  # one line\n"
        "  - type: opcua\n    id: b\n    endpoint: opc.tcp://h:4841\n"
        "views: []  # end\n"
    )
    set_opcua_bindings(path, "a", {"P1_T": "ns=2;s=x:y", "yes": "i=2258"})
    set_opcua_bindings(path, "b", {"F_V": "ns=2;s=F_V"})
    text = path.read_text()
    assert (
        "  - {type: opcua, id: a, endpoint: 'opc.tcp://h:4840', nodes: {P1_T: \"ns=2;s=x:y\", "
        '"yes": i=2258}}  # one line\n' in text
    )
    assert (
        "    endpoint: opc.tcp://h:4841\n    nodes:\n      F_V: ns=2;s=F_V\nviews: []  # end\n"
        in text
    )
    project, _ = load_project(path)
    assert project.sources[0].nodes == {"P1_T": "ns=2;s=x:y", "yes": "i=2258"}  # type: ignore[union-attr]
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))  # Windows line ends stay
    set_opcua_bindings(path, "b", {})
    assert b"\r\n" in path.read_bytes() and b"\n" not in path.read_bytes().replace(b"\r\n", b"")
    assert load_project(path)[0].sources[1].nodes == {}  # type: ignore[union-attr]


def test_certificates_for_opc_ua_and_server_arguments(tmp_path: Path, project: Project) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        PublicFormat,
        load_pem_private_key,
    )
    from cryptography.x509.oid import ExtendedKeyUsageOID

    cert_path, key_path = make_certificate(
        tmp_path / "app.der",
        tmp_path / "app_key.pem",
        "urn:plant:scada",
        hostnames=["plc.local", "10.0.0.5"],
    )
    cert = x509.load_der_x509_certificate(cert_path.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == ["urn:plant:scada"]
    assert {"localhost", "plc.local", socket.gethostname()} <= set(
        san.get_values_for_type(x509.DNSName)
    )
    assert {"10.0.0.5", "127.0.0.1"} <= {str(a) for a in san.get_values_for_type(x509.IPAddress)}
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.key_encipherment and usage.data_encipherment
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH} <= set(eku)
    assert cert.issuer == cert.subject and cert.signature_hash_algorithm.name == "sha256"  # type: ignore[union-attr]
    key = load_pem_private_key(key_path.read_bytes(), None)
    assert key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo) == (
        cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    )
    assert key_path.stat().st_mode & 0o077 == 0  # the key is the owner's only

    with pytest.raises(ValueError, match="endpoint must look like opc.tcp"):
        serve_opcua(project, "http://127.0.0.1:4840")
    with pytest.raises(ValueError, match="has no sensors"):
        serve_opcua(project.model_copy(update={"sensors": []}), "opc.tcp://127.0.0.1:4840")
