"""Commands over MQTT against a real mosquitto (no mocks): the test plays the asset, a client
that takes the command and republishes the value on the read-back sensor's topic.

Covered: confirmed with read-back over TLS and a password; limits, roles, a missing reason,
the timeline not live, an insecure link, the rate limit and the confirmations refused with
nothing published; a read-back timeout failed; every case audited; ``twinviewer command``,
``users`` and ``audit`` exit codes.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from tests.mqtt_broker import Mosquitto, Pki, find_mosquitto, make_pki
from twinviewer.cli import main
from twinviewer.core.audit import AuditTrail
from twinviewer.core.gaps import GapLog
from twinviewer.core.samples import BatchQueue, LatestState
from twinviewer.core.users import UserBook
from twinviewer.session import create_sources, load_twin_project
from twinviewer.session.commands import CommandService, CommandState
from twinviewer.sources.base import Source, SourceState

pytestmark = pytest.mark.skipif(
    find_mosquitto() is None, reason="mosquitto is not installed: the command tests need it"
)

BROKER_USER, BROKER_PW = "twin", "broker-pw-1"
PASSWORDS = {"olga": "operator-pw-1", "ed": "engineer-pw-1", "vic": "viewer-pw-1"}


def project_yaml(url: str, secure: bool, allow_insecure: bool = False, **cmd: Any) -> dict:
    source: dict[str, Any] = {"type": "mqtt", "id": "plant", "url": url, "topic": "rb/{sensor}"}
    if secure:
        source.update(
            tls={"ca_file": "pki/ca.pem"}, username=BROKER_USER, password_env="TEST_BROKER_PW"
        )
    fan = {
        "id": "fan_speed",
        "label": "Fan speed",
        "component": "fan",
        "unit": "%",
        "min": 40,
        "max": 100,
        "max_step": 25,
        "target": {"type": "mqtt", "source": "plant", "topic": "cmd/fan_speed"},
        "readback": "fan_speed",
        "tolerance": 0.5,
        "timeout": 3,
        "min_interval": 0,
        **cmd,
    }
    return {
        "name": "Command test",
        "models": [{"path": "fan.stl"}],
        "sensors": [
            {
                "id": "fan_speed",
                "quantity": "speed",
                "unit": "%",
                "range": [0, 100],
                "component": "fan",
            },
        ],  # fmt: skip
        "sources": [source],
        "commands": [
            fan,
            {
                **fan,
                "id": "fan_stuck",
                "target": {"type": "mqtt", "source": "plant", "topic": "cmd/ignored"},
            },
            {**fan, "id": "fan_eng", "role": "engineer", "confirm": "two_person"},
            {**fan, "id": "fan_pw", "confirm": "password"},
        ],  # fmt: skip
        "command_settings": {"allow_insecure_commands": allow_insecure},
    }


class Asset:
    """Subscribes to cmd/# and answers cmd/fan_speed by publishing the value on rb/fan_speed;
    keeps every command payload it saw. Also publishes the current speed every 0.2 s."""

    def __init__(self, port: int, username: str | None = None, password: str | None = None):
        self.seen: list[tuple[str, dict]] = []
        self.speed = 80.0
        self.c = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"asset-{uuid.uuid4().hex[:6]}")
        if username:
            self.c.username_pw_set(username, password)
        ready = threading.Event()
        self.c.on_connect = lambda c, *a: (c.subscribe("cmd/#", 1), ready.set())
        self.c.on_message = self._on_message
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()
        assert ready.wait(5)
        self._stop = threading.Event()
        self._beat = threading.Thread(target=self._heartbeat, daemon=True)
        self._beat.start()
        time.sleep(0.2)  # the subscription is in place

    def _on_message(self, c: paho.Client, u: Any, msg: paho.MQTTMessage) -> None:
        payload = json.loads(msg.payload)
        self.seen.append((msg.topic, payload))
        if msg.topic == "cmd/fan_speed":
            self.speed = float(payload["value"])
            c.publish("rb/fan_speed", json.dumps({"value": self.speed}), 1)

    def _heartbeat(self) -> None:
        while not self._stop.wait(0.2):
            self.c.publish("rb/fan_speed", json.dumps({"value": self.speed}), 1)

    def close(self) -> None:
        self._stop.set()
        self._beat.join()
        self.c.disconnect()
        self.c.loop_stop()


class Twin:
    """A project on disk, its sources running, and a CommandService over them."""

    def __init__(self, folder: Path, data: dict, pki: Pki | None = None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if pki is not None:
            (folder / "pki").symlink_to(pki.folder)
        self.path = folder / "plant.twin.yaml"
        self.path.write_text(yaml.safe_dump(data))
        book = UserBook(folder / "users.json")
        for name, role in (("olga", "operator"), ("ed", "engineer"), ("vic", "viewer")):
            book.add(name, role, PASSWORDS[name])
        self.project, folder = load_twin_project(self.path)
        self.queue, self.gaps = BatchQueue(), GapLog()
        self.state = LatestState(len(self.project.sensors))
        self.sources: list[Source] = create_sources(self.project, folder)
        for s in self.sources:
            s.start(self.queue.put, self.gaps.add)
        self.service = CommandService(
            self.project, folder, self.path, self.state, self.sources, drain=self.drain
        )

    def drain(self) -> None:
        batch = self.queue.drain()
        if batch is not None:
            self.state.apply(batch)

    def ready(self, timeout: float = 5.0) -> None:
        """The source live and the read-back known."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.drain()
            if self.sources[0].status.state is SourceState.LIVE and self.service.current(
                self.project.commands[0]
            ):
                return
            time.sleep(0.05)
        raise AssertionError(f"not ready: {self.sources[0].status}")

    def close(self) -> None:
        self.service.close()
        for s in self.sources:
            s.stop()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    pytest.importorskip("cryptography")
    return make_pki(tmp_path_factory.mktemp("cmdproject") / "pki")


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[Mosquitto]:
    b = Mosquitto(tmp_path_factory.mktemp("securecmd"), users={BROKER_USER: BROKER_PW}, pki=pki)
    b.start()
    yield b
    b.stop()


@pytest.fixture(scope="module")
def plain_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    b = Mosquitto(tmp_path_factory.mktemp("plaincmd")).start()
    yield b
    b.stop()


@pytest.fixture
def secure_twin(
    secure_broker: Mosquitto, pki: Pki, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[tuple[Twin, Asset]]:
    monkeypatch.setenv("TEST_BROKER_PW", BROKER_PW)
    asset = Asset(secure_broker.port, BROKER_USER, BROKER_PW)
    twin = Twin(tmp_path, project_yaml(secure_broker.tls_url(), True), pki)
    twin.ready()
    yield twin, asset
    twin.close()
    asset.close()


def results(twin: Twin) -> list[tuple[str, str]]:
    return [(r["command"], r["result"]) for r in twin.service.audit.records()]


def test_confirmed_by_read_back_over_tls(secure_twin: tuple[Twin, Asset]) -> None:
    twin, asset = secure_twin
    svc = twin.service
    cmd = svc.command("fan_speed")
    assert svc.availability(cmd) == "not signed in"
    svc.sign_in("olga", PASSWORDS["olga"])
    assert svc.availability(cmd) is None
    a = svc.send(cmd, "70", "bearing running hot")
    assert a.state is CommandState.PENDING and a.old == pytest.approx(80.0)
    svc.wait(a)
    assert a.state is CommandState.CONFIRMED, a.message
    assert a.readback == pytest.approx(70.0) and "read back 70 %" in a.message
    topic, payload = asset.seen[-1]
    assert topic == "cmd/fan_speed"
    assert payload == {"value": 70.0, "correlation": a.correlation}
    recs = svc.audit.records()
    assert [r["result"] for r in recs] == ["sent", "confirmed"]
    assert recs[1]["user"] == "olga" and recs[1]["role"] == "operator"
    assert recs[1]["old"] == pytest.approx(80.0) and recs[1]["new"] == 70.0
    assert recs[1]["readback"] == pytest.approx(70.0) and recs[1]["unit"] == "%"
    assert recs[1]["reason"] == "bearing running hot" and recs[1]["correlation"] == a.correlation
    assert "cmd/fan_speed" in recs[0]["target"] and "PUBACK" not in recs[0]["target"]
    assert svc.audit.verify().ok


def test_refusals_publish_nothing(secure_twin: tuple[Twin, Asset]) -> None:
    twin, asset = secure_twin
    svc = twin.service
    cmd = svc.command("fan_speed")
    svc.sign_in("olga", PASSWORDS["olga"])
    cases = {
        "120": "above the maximum 100 %",
        "30": "below the minimum 40 %",
        "abc": "is not a number",
    }
    for value, why in cases.items():
        a = svc.send(cmd, value, "test")
        assert a.state is CommandState.REFUSED and why in a.message, a.message
    assert "a reason is required" in svc.send(cmd, 60, "  ").message
    assert "timeline is not live" in svc.send(cmd, 60, "x", live=False).message
    # max_step from the current read-back (80 %): 50 % is a step of 30 %
    twin.drain()
    assert "a change of 30 % from the current 80 % is more than the largest step 25 %" in (
        svc.send(cmd, 50, "x").message
    )
    eng = svc.command("fan_eng")
    assert "needs the role engineer" in svc.send(eng, 60, "x").message
    pw = svc.command("fan_pw")
    assert "password is wrong" in svc.send(pw, 60, "x", password="nope").message
    svc.sign_out()
    svc.sign_in("vic", PASSWORDS["vic"])
    a = svc.send(cmd, 60, "viewer tries")
    assert a.state is CommandState.REFUSED and "needs the role operator" in a.message
    time.sleep(1.0)  # a subscriber sees nothing within a second
    assert asset.seen == []
    recs = svc.audit.records()
    assert len(recs) == 9 and {r["result"] for r in recs} == {"refused"}
    assert recs[-1]["user"] == "vic" and recs[-1]["role"] == "viewer"


def test_an_audit_that_cannot_be_written_is_said(
    secure_twin: tuple[Twin, Asset], tmp_path: Path
) -> None:
    """The trail's file cannot be written (its folder is a file): the command is handled as
    ever, and the service says what was not recorded, until a record is written again."""
    twin, _ = secure_twin
    svc = twin.service
    cmd = svc.command("fan_speed")
    svc.sign_in("olga", PASSWORDS["olga"])
    kept = svc.audit
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    svc.audit = AuditTrail(blocker / "audit.jsonl")
    try:
        a = svc.send(cmd, "120", "test")
        assert a.state is CommandState.REFUSED
        assert svc.audit_error is not None
        assert "fan_speed: refused, but the audit trail could not record it" in svc.audit_error
    finally:
        svc.audit = kept
    svc.send(cmd, "130", "test")
    assert svc.audit_error is None
    assert svc.audit.records()[-1]["result"] == "refused"


def test_two_person_and_rate_limit(secure_twin: tuple[Twin, Asset]) -> None:
    twin, asset = secure_twin
    svc = twin.service
    svc.sign_in("ed", PASSWORDS["ed"])
    eng = svc.command("fan_eng")
    assert "second person" in svc.send(eng, 60, "x").message
    assert "another user" in svc.send(eng, 60, "x", approver=("ed", PASSWORDS["ed"])).message
    assert (
        "approver olga is operator"
        in svc.send(eng, 60, "x", approver=("olga", PASSWORDS["olga"])).message
    )
    assert asset.seen == []
    twin.project.commands[2].min_interval = 30.0
    ok = svc.send(eng, 60, "slow down", approver=("ed2", "x")).message
    assert "user or password wrong" in ok
    UserBook(twin.path.parent / "users.json").add("ed2", "engineer", "engineer-pw-2")
    a = svc.send(eng, 60, "slow down", approver=("ed2", "engineer-pw-2"))
    assert a.state is CommandState.PENDING
    assert svc.wait(a).state is CommandState.CONFIRMED
    assert "approved by ed2" in svc.audit.records()[-1]["reason"]
    again = svc.send(eng, 61, "again", approver=("ed2", "engineer-pw-2"))
    assert again.state is CommandState.REFUSED and "rate limit" in again.message


def test_read_back_timeout_fails(secure_twin: tuple[Twin, Asset]) -> None:
    twin, asset = secure_twin
    svc = twin.service
    svc.sign_in("olga", PASSWORDS["olga"])
    a = svc.send(svc.command("fan_stuck"), 60, "nobody listens on this topic")
    assert a.state is CommandState.PENDING
    t0 = time.monotonic()
    svc.wait(a)
    assert a.state is CommandState.FAILED
    assert 2.5 < time.monotonic() - t0 < 5
    assert "no read-back of 60 % within 3 s (read back 80 %)" in a.message
    assert results(twin) == [("fan_stuck", "sent"), ("fan_stuck", "failed")]


def test_insecure_link_refused_unless_allowed(plain_broker: Mosquitto, tmp_path: Path) -> None:
    asset = Asset(plain_broker.port)
    twin = Twin(tmp_path / "strict", project_yaml(plain_broker.url, False))
    try:
        twin.ready()
        svc = twin.service
        svc.sign_in("olga", PASSWORDS["olga"])
        a = svc.send(svc.command("fan_speed"), 60, "x")
        assert a.state is CommandState.REFUSED
        assert "no TLS" in a.message and "no authentication" in a.message
        assert "allow_insecure_commands" in a.message
        time.sleep(0.5)
        assert asset.seen == []
    finally:
        twin.close()
    lax = Twin(tmp_path / "lax", project_yaml(plain_broker.url, False, allow_insecure=True))
    try:
        lax.ready()
        svc = lax.service
        svc.sign_in("olga", PASSWORDS["olga"])
        cmd = svc.command("fan_speed")
        assert "insecure link" in (svc.insecure_warning(cmd) or "")
        a = svc.wait(svc.send(cmd, 60, "allowed on the test bench"))
        assert a.state is CommandState.CONFIRMED, a.message
    finally:
        lax.close()
        asset.close()


def test_source_down_refuses(secure_broker: Mosquitto, pki: Pki, tmp_path: Path) -> None:
    data = project_yaml("mqtts://127.0.0.1:1", True)  # nothing listens there
    os.environ.setdefault("TEST_BROKER_PW", BROKER_PW)
    twin = Twin(tmp_path, data, pki)
    try:
        twin.service.sign_in("olga", PASSWORDS["olga"])
        time.sleep(0.3)
        why = twin.service.availability(twin.service.command("fan_speed"))
        assert why is not None and why.startswith("its source plant is")
    finally:
        twin.close()


# -- the command line -------------------------------------------------------------------------


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def cli(*args: str, env: dict[str, str] | None = None) -> Run:
    """``twinviewer ARGS`` in this process (a subprocess costs a second of imports each)."""
    out, err = io.StringIO(), io.StringIO()
    saved = dict(os.environ)
    os.environ.update(env or {})
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return Run(code, out.getvalue(), err.getvalue())


def test_cli_command_users_audit(secure_broker: Mosquitto, pki: Pki, tmp_path: Path) -> None:
    folder = tmp_path
    (folder / "pki").symlink_to(pki.folder)
    path = folder / "plant.twin.yaml"
    path.write_text(yaml.safe_dump(project_yaml(secure_broker.tls_url(), True)))
    env = {"TEST_BROKER_PW": BROKER_PW, "OP_PW": PASSWORDS["olga"]}
    p = str(path)
    r = cli("users", p, "add", "olga", "--role", "operator", "--password-env", "OP_PW", env=env)
    assert r.returncode == 0, r.stderr
    assert PASSWORDS["olga"] not in (folder / "users.json").read_text()
    assert cli("users", p, "list").stdout == "olga\toperator\n"
    assert cli("users", p, "add", "x", "--role", "operator").returncode == 2  # no terminal
    asset = Asset(secure_broker.port, BROKER_USER, BROKER_PW)
    try:
        base = ["command", p, "fan_speed"]
        who = ["--user", "olga", "--password-env", "OP_PW", "--reason", "cli test"]
        r = cli(*base, "75", *who, "--yes", "--json", env=env)
        assert r.returncode == 0, r.stderr + r.stdout
        out = json.loads(r.stdout)
        assert out["state"] == "confirmed" and out["readback"] == pytest.approx(75.0)
        r = cli(*base, "75", *who, env=env)  # no --yes and no terminal to ask
        assert r.returncode == 2 and "--yes" in r.stderr
        r = cli(*base, "150", *who, "--yes", env=env)
        assert r.returncode == 1 and "above the maximum" in r.stdout
        r = cli(*base, "75", "--user", "olga", "--reason", "x", "--password-env", "NOPE", env=env)
        assert r.returncode == 2 and "NOPE is not set" in r.stderr
        r = cli("command", p, "nope", "1", *who, "--yes", env=env)
        assert r.returncode == 2 and "no command 'nope'" in r.stderr
        bad = {**env, "OP_PW": "wrong-password"}
        r = cli(*base, "75", *who, "--yes", env=bad)
        assert r.returncode == 1 and "user or password wrong" in r.stderr
    finally:
        asset.close()
    r = cli("audit", p, "--json")
    recs = [json.loads(line) for line in r.stdout.splitlines()]
    assert [x["result"] for x in recs] == ["sent", "confirmed", "refused"]
    text = cli("audit", p).stdout
    assert "olga (operator)" in text and "CONFIRMED" in text and "cli test" in text
    assert cli("audit", p, "--verify").returncode == 0
    audit = folder / "plant.history" / "audit.jsonl"
    lines = audit.read_text().splitlines()
    edited = json.loads(lines[1])
    edited["new"] = 99.0
    audit.write_text("\n".join([lines[0], json.dumps(edited), lines[2]]) + "\n")
    r = cli("audit", p, "--verify")
    assert r.returncode == 1 and "line 2" in r.stderr and "edited" in r.stderr
    audit.write_text("\n".join([lines[0], lines[2]]) + "\n")
    r = cli("audit", p, "--verify")
    assert r.returncode == 1 and "removed" in r.stderr
    assert AuditTrail(audit).verify().line == 2
