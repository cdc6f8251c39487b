"""Commands over OPC UA against a real asyncua server (in-process, on a loopback port).

The server knows two users: ``ed`` (its administrator: may write anything) and ``olga`` (a
plain user: only nodes whose access level allows writing). The command sends the signed-in
user's name and password as the OPC UA identity (``identity: user``), so the server enforces
its own roles: a node olga may not write comes back ``BadUserAccessDenied``, reported in words.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

pytest.importorskip("asyncua")

from twinviewer.core.gaps import GapLog  # noqa: E402
from twinviewer.core.samples import BatchQueue, LatestState  # noqa: E402
from twinviewer.core.users import UserBook  # noqa: E402
from twinviewer.session import create_sources, load_twin_project  # noqa: E402
from twinviewer.session.commands import CommandService, CommandState  # noqa: E402
from twinviewer.sources.base import SourceState  # noqa: E402
from twinviewer.sources.command_delivery import opcua_status_words  # noqa: E402

PASSWORDS = {"olga": "operator-pw-1", "ed": "engineer-pw-1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """An asyncua server on its own thread: Fan.Speed (writable by users) and Fan.Limit
    (written only by the administrator)."""

    def __init__(self) -> None:
        self.endpoint = f"opc.tcp://127.0.0.1:{free_port()}/cmd"
        self.ready = threading.Event()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)
        self.thread.start()
        assert self.ready.wait(20), "the OPC UA server did not start"

    async def _main(self) -> None:
        from asyncua import Server as UaServer
        from asyncua import ua
        from asyncua.crypto.permission_rules import User, UserRole

        class Users:
            def get_user(self, iserver: Any, username: Any = None, password: Any = None,
                         certificate: Any = None) -> Any:  # fmt: skip
                if PASSWORDS.get(username or "") != password:
                    return None
                role = UserRole.Admin if username == "ed" else UserRole.User
                return User(role=role, name=username)

        server = UaServer(user_manager=Users())
        await server.init()
        server.set_endpoint(self.endpoint)
        server.set_security_IDs(["Username"])
        idx = await server.register_namespace("urn:test:commands")
        fan = await server.nodes.objects.add_object(ua.NodeId("Fan", idx), "Fan")
        speed = await fan.add_variable(ua.NodeId("Fan.Speed", idx), "Speed", 80.0)
        await speed.set_writable()
        await fan.add_variable(ua.NodeId("Fan.Limit", idx), "Limit", 100.0)  # read-only
        self.ns = idx
        async with server:
            self.ready.set()
            while not self.stop.is_set():
                await asyncio.sleep(0.05)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()


def make_twin(folder: Path, server: Server, allow_insecure: bool = True) -> CommandService:
    ns = server.ns
    command = {
        "id": "fan_speed",
        "unit": "%",
        "min": 0,
        "max": 100,
        "target": {"type": "opcua", "source": "plc", "node": f"ns={ns};s=Fan.Speed",
                   "variant": "Double", "identity": "user"},
        "readback": "fan_speed",
        "tolerance": 0.1,
        "timeout": 3,
        "min_interval": 0,
    }  # fmt: skip
    limit = {**command, "id": "fan_limit", "readback": "fan_limit"}
    limit["target"] = {**command["target"], "node": f"ns={ns};s=Fan.Limit"}
    data = {
        "name": "OPC UA commands",
        "models": [{"path": "fan.stl"}],
        "sensors": [
            {"id": "fan_speed", "quantity": "speed", "unit": "%", "range": [0, 100]},
            {"id": "fan_limit", "quantity": "speed", "unit": "%", "range": [0, 100]},
        ],
        "sources": [
            {
                "type": "opcua",
                "id": "plc",
                "endpoint": server.endpoint,
                "username": "olga",
                "password": PASSWORDS["olga"],
                "sampling_interval": 50,
                "nodes": {"fan_speed": f"ns={ns};s=Fan.Speed", "fan_limit": f"ns={ns};s=Fan.Limit"},
            },
        ],  # fmt: skip
        "commands": [command, limit],
        "command_settings": {"allow_insecure_commands": allow_insecure},
    }
    path = folder / "plc.twin.yaml"
    path.write_text(yaml.safe_dump(data))
    book = UserBook(folder / "users.json")
    book.add("olga", "operator", PASSWORDS["olga"])
    book.add("ed", "engineer", PASSWORDS["ed"])
    project, folder = load_twin_project(path)
    queue, gaps = BatchQueue(), GapLog()
    state = LatestState(len(project.sensors))
    sources = create_sources(project, folder)
    for s in sources:
        s.start(queue.put, gaps.add)

    def drain() -> None:
        batch = queue.drain()
        if batch is not None:
            state.apply(batch)

    svc = CommandService(project, folder, path, state, sources, drain=drain)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        drain()
        if sources[0].status.state is SourceState.LIVE and svc.current(project.commands[1]):
            break
        time.sleep(0.05)
    assert sources[0].status.state is SourceState.LIVE, sources[0].status
    return svc


def stop(svc: CommandService) -> None:
    svc.close()
    for s in svc.sources():
        s.stop()


def test_node_write_confirmed_by_read_back(server: Server, tmp_path: Path) -> None:
    svc = make_twin(tmp_path, server)
    try:
        svc.sign_in("olga", PASSWORDS["olga"])
        cmd = svc.command("fan_speed")
        assert "insecure link" in (svc.insecure_warning(cmd) or "")
        a = svc.wait(svc.send(cmd, 65, "reduce the bearing load"))
        assert a.state is CommandState.CONFIRMED, a.message
        assert a.readback == pytest.approx(65.0) and a.old == pytest.approx(80.0)
        recs = svc.audit.records()
        assert [r["result"] for r in recs] == ["sent", "confirmed"]
        assert "write ns=" in recs[0]["target"] and "Good" in recs[0]["message"]
    finally:
        stop(svc)


def test_server_access_denial_is_failed_in_words(server: Server, tmp_path: Path) -> None:
    svc = make_twin(tmp_path, server)
    try:
        svc.sign_in("olga", PASSWORDS["olga"])
        a = svc.wait(svc.send(svc.command("fan_limit"), 90, "lower the limit"))
        assert a.state is CommandState.FAILED
        assert a.message == "the server refused: access denied for this user (BadUserAccessDenied)"
        recs = svc.audit.records()
        assert [r["result"] for r in recs] == ["failed"]
        assert recs[0]["message"] == a.message and recs[0]["user"] == "olga"
        # the server's administrator may: the server decides, not the client
        svc.sign_out()
        svc.sign_in("ed", PASSWORDS["ed"])
        b = svc.wait(svc.send(svc.command("fan_limit"), 90, "engineer lowers the limit"))
        assert b.state is CommandState.CONFIRMED, b.message
        assert svc.audit.verify().ok
    finally:
        stop(svc)


def test_insecure_opcua_link_refused(server: Server, tmp_path: Path) -> None:
    svc = make_twin(tmp_path, server, allow_insecure=False)
    try:
        svc.sign_in("olga", PASSWORDS["olga"])
        a = svc.send(svc.command("fan_speed"), 70, "x")
        assert a.state is CommandState.REFUSED and "no security" in a.message
        assert "no authentication" not in a.message  # the user's identity is authentication
    finally:
        stop(svc)


def test_status_words() -> None:
    assert opcua_status_words("BadNotWritable") == (
        "the server refused: the node is not writable (BadNotWritable)"
    )
    assert opcua_status_words("BadNoCommunication").startswith("the server refused: ")
