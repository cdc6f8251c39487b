"""Topic discovery and the connection test against a real mosquitto fed by `twinviewer simulate`.

No mocks: the broker is the mosquitto binary (tests/mqtt_broker.py), the publisher the CLI.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.mqtt_broker import Mosquitto, find_mosquitto, free_port, simulating
from twinviewer.core.project import MqttSource, Project, load_project
from twinviewer.session.demos import demo_copy
from twinviewer.sources import discovery
from twinviewer.sources import sparkplug as spb
from twinviewer.sources.topics import TopicTemplate

pytestmark = pytest.mark.skipif(
    find_mosquitto() is None,
    reason="mosquitto is not installed (apt install mosquitto): discovery needs a real broker",
)

USER, PASSWORD = "alice", "s3cret-pw"


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    b = Mosquitto(tmp_path_factory.mktemp("mosquitto")).start()
    yield b
    b.stop()


@pytest.fixture(scope="module")
def mine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Project]:
    path, _t0 = demo_copy("mine", tmp_path_factory.mktemp("mine"), 0, False)
    project, _ = load_project(path)
    return path, project


@pytest.fixture(scope="module")
def simulated(broker: Mosquitto, mine: tuple[Path, Project]) -> Iterator[subprocess.Popen[bytes]]:
    """`twinviewer simulate mine --mqtt <broker>` running for the module's tests."""
    with simulating(mine[0], broker.url, "twinviewer/#") as proc:
        yield proc


def test_discover_the_simulators_topics(
    broker: Mosquitto, mine: tuple[Path, Project], simulated: subprocess.Popen[bytes]
) -> None:
    _, project = mine
    source = next(s for s in project.sources if isinstance(s, MqttSource))
    template = TopicTemplate(source.topic)
    expected = {template.fill(s.id, s.component or s.id) for s in project.sensors}
    progress: list[tuple[float, int]] = []
    seen = discovery.discover(broker.url, "twinviewer/#", 2.0, lambda f, n: progress.append((f, n)))
    assert {t.topic for t in seen} == expected
    assert all(t.rate > 0 and t.messages >= 1 for t in seen)
    assert all(t.format == "json-value" for t in seen)
    assert all(t.preview.startswith("{") and '"value"' in t.preview for t in seen)
    # at 5 samples/s per sensor over ~2 s
    assert 2.0 < sum(t.rate for t in seen) / len(seen) < 8.0
    assert progress and progress[-1] == (1.0, len(expected))
    assert [f for f, _ in progress] == sorted(f for f, _ in progress)
    # the template that maps them back to the project's sensors, components included
    suggested = discovery.suggest_template(
        seen, [s.id for s in project.sensors], [s.component for s in project.sensors if s.component]
    )
    assert suggested == source.topic
    assert (
        discovery.suggest_template(seen, [s.id for s in project.sensors])
        == "twinviewer/mine/+/{sensor}"
    )
    assert discovery.source_format([t.format for t in seen]) == "json"


def test_discover_with_a_narrow_filter(
    broker: Mosquitto, mine: tuple[Path, Project], simulated: subprocess.Popen[bytes]
) -> None:
    _, project = mine
    comp = project.sensors[0].component
    seen = discovery.discover(
        MqttSource(type="mqtt", url=broker.url, topic="#"), f"twinviewer/mine/{comp}/+", 1.0
    )
    want = {f"twinviewer/mine/{comp}/{s.id}" for s in project.sensors if s.component == comp}
    assert {t.topic for t in seen} == want


def test_detected_formats() -> None:
    detect = discovery.detect_format
    assert detect("a/b/t1", b"21.5") == "json-value"
    assert detect("a/b/t1", orjson.dumps({"value": 1.5, "ts": time.time()})) == "json-value"
    assert detect("a/batch", orjson.dumps([{"sensor": "x", "value": 1.0}])) == "json-batch"
    assert detect("a/batch", orjson.dumps({"sensor": ["x", "y"], "value": [1.0, 2.0]})) == (
        "json-batch"
    )
    assert detect("a/b", b"\x00\xffnot json") == "unknown"
    assert detect("a/b", b"") == "unknown"
    payload = spb.encode_payload(
        spb.Payload(
            timestamp=int(time.time() * 1000),
            seq=0,
            metrics=[spb.Metric(name="t1", datatype=spb.DataType.DOUBLE, value=2.5)],
        )
    )
    assert detect("spBv1.0/plant/NDATA/edge1", payload) == "sparkplug-b"
    assert detect("spBv1.0/plant/NDATA/edge1", b"{garbage") == "unknown"
    assert discovery.suggest_template(["spBv1.0/plant/NDATA/edge1"], ["t1"]) == "spBv1.0/plant/#"
    assert discovery.suggest_template(["x/y"], ["t1"]) is None


def test_retained_sparkplug_and_batch_topics(broker: Mosquitto) -> None:
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    c = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311)
    c.connect("127.0.0.1", broker.port)
    c.loop_start()
    try:
        node = spb.encode_payload(
            spb.Payload(
                seq=1, metrics=[spb.Metric(name="t1", datatype=spb.DataType.DOUBLE, value=3.0)]
            )
        )
        infos = [
            c.publish(
                "disc/spBv1.0-like/batch", orjson.dumps([{"sensor": "t1", "value": 1}]), 1, True
            ),
            c.publish("spBv1.0/disc/NDATA/edge", node, 1, True),
        ]
        for info in infos:
            info.wait_for_publish(5)
    finally:
        c.disconnect()
        c.loop_stop()
    seen = {t.topic: t for t in discovery.discover(broker.url, "#", 0.5)}
    assert seen["disc/spBv1.0-like/batch"].format == "json-batch"
    assert seen["disc/spBv1.0-like/batch"].retained
    spb_topic = seen["spBv1.0/disc/NDATA/edge"]
    assert spb_topic.format == "sparkplug-b"
    assert "t1=3.0" in spb_topic.preview


# -- the connection test -------------------------------------------------------------------------


def test_connection_ok(broker: Mosquitto) -> None:
    ok, message = discovery.test_connection(broker.url, 5)
    assert ok, message
    assert message == f"connected to 127.0.0.1:{broker.port} (no TLS)"


def test_connection_refused() -> None:
    port = free_port()
    ok, message = discovery.test_connection(f"mqtt://127.0.0.1:{port}", 3)
    assert not ok
    assert message.startswith(f"connection refused by 127.0.0.1:{port}: nothing listens there")
    with pytest.raises(discovery.DiscoveryError, match="connection refused"):
        discovery.discover(f"mqtt://127.0.0.1:{port}", "#", 0.2)


def test_connection_unknown_host() -> None:
    ok, message = discovery.test_connection("mqtt://no-such-host.invalid:1883", 3)
    assert not ok
    assert message.startswith("cannot resolve the host name 'no-such-host.invalid'")


def test_connection_bad_url() -> None:
    ok, message = discovery.test_connection("http://127.0.0.1", 3)
    assert not ok and "expected mqtt://host" in message


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    pytest.importorskip("cryptography", reason="the TLS tests make their certificates with it")
    from tests.mqtt_broker import make_pki

    folder = tmp_path_factory.mktemp("secure")
    b = Mosquitto(folder, users={USER: PASSWORD}, pki=make_pki(folder / "pki")).start()
    yield b
    b.stop()


def test_connection_credentials(secure_broker: Mosquitto) -> None:
    b = secure_broker
    ok, message = discovery.test_connection(f"mqtt://{USER}:wrong@127.0.0.1:{b.port}", 5)
    assert not ok
    assert message.startswith("not authorised: the broker refused the username or password")
    ok, message = discovery.test_connection(b.url, 5)  # anonymous
    assert not ok and message.startswith("not authorised")
    cfg = MqttSource(type="mqtt", url=b.url, topic="#", username=USER, password=PASSWORD)
    ok, message = discovery.test_connection(cfg, 5)
    assert ok, message
    assert message.endswith(f"as {USER!r}")
    with pytest.raises(discovery.DiscoveryError, match="not authorised"):
        discovery.discover(f"mqtt://{USER}:nope@127.0.0.1:{b.port}", "#", 0.2)


def test_connection_tls(secure_broker: Mosquitto) -> None:
    b = secure_broker
    assert b.pki is not None
    base = {"type": "mqtt", "topic": "#", "username": USER, "password": PASSWORD}
    # the system's CAs do not know the test CA
    ok, message = discovery.test_connection(MqttSource(**base, url=b.tls_url()), 5)
    assert not ok
    assert message.startswith("TLS: the broker's certificate is not trusted")
    tls = {"ca_file": str(b.pki.ca)}
    ok, message = discovery.test_connection(MqttSource(**base, url=b.tls_url(), tls=tls), 5)
    assert ok, message
    assert "(TLS)" in message
    # a certificate for another host name
    url = b.tls_url(port=b.misnamed_port)
    ok, message = discovery.test_connection(MqttSource(**base, url=url, tls=tls), 5)
    assert not ok and message.startswith("TLS: the broker's certificate is not trusted")
    assert "hostname" in message.lower() or "ip address" in message.lower()
    # mutual TLS without a client certificate
    url = b.tls_url(port=b.mtls_port)
    ok, message = discovery.test_connection(MqttSource(**base, url=url, tls=tls), 5)
    assert not ok
    assert "TLS" in message or "client certificate" in message


# -- writing the source into the project ---------------------------------------------------------


def test_add_source_keeps_the_file(tmp_path: Path) -> None:
    from twinviewer.core.project_edit import ProjectEditError, add_source

    path, _ = demo_copy("mine", tmp_path, 0, False)
    before = path.read_text()
    source = MqttSource(
        type="mqtt",
        id="site_broker",
        url="mqtts://broker.example:8883",
        topic="twinviewer/mine/{component}/{sensor}",
        username=USER,
        password_env="SITE_PW",
        client_id="viewer-1",
        tls={"ca_file": "pki/ca.pem"},
    )
    add_source(path, source)
    after = path.read_text()
    project, _ = load_project(path)
    assert project.sources[-1] == source
    # every line that was there is still there, in order (comments included)
    old = before.rstrip("\n").split("\n")
    new = after.split("\n")
    it = iter(new)
    assert all(any(line == n for n in it) for line in old)
    assert "    id: site_broker\n" in after and "    tls: {ca_file: pki/ca.pem}\n" in after
    with pytest.raises(ProjectEditError, match="is there already"):
        add_source(path, source)
    assert path.read_text() == after


@pytest.mark.parametrize("tail", ["", "sources: []\n"])
def test_add_source_to_a_project_without_sources(tmp_path: Path, tail: str) -> None:
    from twinviewer.core.project_edit import add_source

    path, _ = demo_copy("mine", tmp_path, 0, False)
    text = path.read_text()
    cut = text.index("\nsources:")
    rest = text[cut + 1 :]
    # drop the sources block (up to the next top-level key)
    nxt = next((i for i, line in enumerate(rest.split("\n")[1:], 1) if line[:1].isalpha()), None)
    lines = rest.split("\n")
    remainder = "\n".join(lines[nxt:]) if nxt is not None else ""
    text = text[: cut + 1] + "# our broker comes next\n" + tail + remainder
    # and the commands, which name the sources (up to the next top-level key)
    start = text.index("\ncommands:") + 1
    end = next(i for i in range(start + 1, len(text)) if text[i - 1] == "\n" and text[i].isalpha())
    path.write_text(text[:start] + text[end:])
    assert not load_project(path)[0].sources
    source = MqttSource(type="mqtt", url="mqtt://127.0.0.1:1883", topic="site/{sensor}")
    add_source(path, source)
    project, _ = load_project(path)
    assert project.sources == [source]
    assert "# our broker comes next" in path.read_text()
