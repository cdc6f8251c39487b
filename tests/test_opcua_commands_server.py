"""The OPC UA server obeys commands and enforces their roles itself (real asyncua server on a
loopback port, real asyncua clients, users from a real user file with argon2 hashes).

An operator's write to a command node is accepted and the read-back sensor's node follows; a
viewer's (or an anonymous) write gets ``BadUserAccessDenied`` from the server, as does a call of
a command method; values outside the command's limits get ``BadOutOfRange``.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.test_opcua import Served
from twinviewer.core.project import Project, load_project
from twinviewer.core.users import AuthError, UserBook

asyncua = pytest.importorskip("asyncua")
ua: Any = asyncua.ua

ASSETS = Path(__file__).resolve().parents[1] / "assets"
PASSWORDS = {"olga": "operator-pw-1", "vic": "viewer-pw-1", "erin": "engineer-pw-1"}
PROJECT: dict[str, Any] = {
    "twinviewer": 1,
    "name": "Fan plant",
    "models": ["none.glb"],
    "sensors": [
        {
            "id": "fan_speed",
            "quantity": "speed",
            "unit": "%",
            "component": "Fan",
            "range": [0, 100],
        },
        {
            "id": "fan_vibration",
            "quantity": "vibration",
            "unit": "mm/s",
            "component": "Fan",
            "range": [0, 12],
        },
    ],
    "sources": [
        {
            "type": "simulator",
            "rate": 10,
            "setpoints": [
                {
                    "sensor": "fan_speed",
                    "initial": 100,
                    "ramp": 40,
                    "drives": [{"sensor": "fan_vibration", "power": 2, "lag": 0.5}],
                }
            ],
        },
        {"type": "opcua", "id": "opcua", "endpoint": "opc.tcp://127.0.0.1:4840/twin"},
    ],
    "commands": [
        {
            "id": "fan_speed",
            "unit": "%",
            "min": 40,
            "max": 100,
            "target": {"type": "opcua", "source": "opcua", "node": "ns=2;s=Fan.SpeedSetpoint"},
            "readback": "fan_speed",
            "tolerance": 1,
            "role": "operator",
        },
        {
            "id": "fan_set_speed",
            "unit": "%",
            "min": 40,
            "max": 100,
            "target": {
                "type": "opcua",
                "source": "opcua",
                "object": "ns=2;s=Fan.Drive",
                "method": "ns=2;s=Fan.Drive.SetSpeed",
            },
            "readback": "fan_speed",
            "role": "operator",
        },
        {
            "id": "fan_limit",
            "unit": "%",
            "target": {"type": "opcua", "source": "opcua", "node": "ns=2;s=Fan.Limit"},
            "readback": "fan_speed",
            "role": "engineer",
        },
    ],
}


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> UserBook:
    b = UserBook(tmp_path_factory.mktemp("users") / "users.json")
    b.add("olga", "operator", PASSWORDS["olga"])
    b.add("vic", "viewer", PASSWORDS["vic"])
    b.add("erin", "engineer", PASSWORDS["erin"])
    return b


def authenticator(book: UserBook) -> Any:
    def check(name: str, password: str) -> str | None:
        try:
            return book.verify(name, password)
        except AuthError:
            return None

    return check


@pytest.fixture(scope="module")
def plant(book: UserBook) -> Iterator[Served]:
    project = Project.model_validate(PROJECT)
    with Served(project, rate=10, authenticate=authenticator(book)) as s:
        yield s


async def connect(endpoint: str, user: str | None) -> Any:
    client = asyncua.Client(endpoint, timeout=5)
    if user is not None:
        client.set_user(user)
        client.set_password(PASSWORDS[user])
    await client.connect()
    return client


async def write(client: Any, node: str, value: float) -> None:
    dv = ua.DataValue(ua.Variant(value, ua.VariantType.Double))
    await client.get_node(node).write_attribute(ua.AttributeIds.Value, dv)


async def until(client: Any, node: str, ok: Any, timeout: float = 5.0) -> float:
    deadline = time.monotonic() + timeout
    value = math.nan
    while time.monotonic() < deadline:
        value = await client.get_node(node).read_value()
        if ok(value):
            return float(value)
        await asyncio.sleep(0.05)
    raise AssertionError(f"{node} is {value} after {timeout} s")


def test_operator_write_is_obeyed_and_read_back(plant: Served) -> None:
    async def go() -> None:
        client = await connect(plant.endpoint, "olga")
        try:
            node = client.get_node("ns=2;s=Fan.SpeedSetpoint")
            rw = ua.AccessLevel.CurrentRead.mask | ua.AccessLevel.CurrentWrite.mask
            assert await node.read_attribute(ua.AttributeIds.AccessLevel) is not None
            access = (await node.read_attribute(ua.AttributeIds.AccessLevel)).Value.Value
            user_access = (await node.read_attribute(ua.AttributeIds.UserAccessLevel)).Value.Value
            assert access == rw and user_access == rw
            assert await until(client, "ns=2;s=fan_speed", lambda v: v == 100.0) == 100.0
            before = await client.get_node("ns=2;s=fan_vibration").read_value()
            await write(client, "ns=2;s=Fan.SpeedSetpoint", 60.0)
            assert await node.read_value() == 60.0
            # the read-back sensor follows (40 %/s of simulated time), the vibration drops
            assert await until(client, "ns=2;s=fan_speed", lambda v: v == 60.0) == 60.0
            await asyncio.sleep(2.0)  # four lags of the vibration
            after = await client.get_node("ns=2;s=fan_vibration").read_value()
            assert after < before and after <= 0.36 * 12 + 1e-9
            # outside the command's limits: refused by the server, nothing applied
            with pytest.raises(ua.uaerrors.BadOutOfRange):
                await write(client, "ns=2;s=Fan.SpeedSetpoint", 10.0)
            assert await node.read_value() == 60.0
            # the sensors' own nodes stay read-only for everyone
            with pytest.raises(ua.uaerrors.BadUserAccessDenied):
                await write(client, "ns=2;s=fan_speed", 50.0)
            # an engineer's command is not the operator's
            with pytest.raises(ua.uaerrors.BadUserAccessDenied):
                await write(client, "ns=2;s=Fan.Limit", 80.0)
            await write(client, "ns=2;s=Fan.SpeedSetpoint", 100.0)
            await until(client, "ns=2;s=fan_speed", lambda v: v == 100.0)
        finally:
            await client.disconnect()

    asyncio.run(go())
    assert plant.stats.command_nodes == 3
    assert plant.stats.commands >= 2 and plant.stats.commands_rejected >= 1


@pytest.mark.parametrize("user", ["vic", None], ids=["viewer", "anonymous"])
def test_viewer_and_anonymous_writes_are_denied_by_the_server(
    plant: Served, user: str | None
) -> None:
    async def go() -> None:
        client = await connect(plant.endpoint, user)
        try:
            await until(client, "ns=2;s=fan_speed", lambda v: v == 100.0)
            with pytest.raises(ua.uaerrors.BadUserAccessDenied):
                await write(client, "ns=2;s=Fan.SpeedSetpoint", 70.0)
            with pytest.raises(ua.uaerrors.BadUserAccessDenied):
                await client.get_node("ns=2;s=Fan.Drive").call_method(
                    ua.NodeId.from_string("ns=2;s=Fan.Drive.SetSpeed"),
                    ua.Variant(70.0, ua.VariantType.Double),
                )
            await asyncio.sleep(0.5)
            assert await client.get_node("ns=2;s=fan_speed").read_value() == 100.0
        finally:
            await client.disconnect()

    denied = plant.stats.commands_denied
    asyncio.run(go())
    assert plant.stats.commands_denied == denied + 2


def test_method_applies_the_command_for_an_operator(plant: Served) -> None:
    async def go() -> None:
        client = await connect(plant.endpoint, "olga")
        try:
            drive = client.get_node("ns=2;s=Fan.Drive")
            method = ua.NodeId.from_string("ns=2;s=Fan.Drive.SetSpeed")
            await drive.call_method(method, ua.Variant(55.0, ua.VariantType.Double))
            assert await until(client, "ns=2;s=fan_speed", lambda v: v == 55.0) == 55.0
            with pytest.raises(ua.uaerrors.BadOutOfRange):
                await drive.call_method(method, ua.Variant(101.0, ua.VariantType.Double))
            await drive.call_method(method, ua.Variant(100.0, ua.VariantType.Double))
            await until(client, "ns=2;s=fan_speed", lambda v: v == 100.0)
        finally:
            await client.disconnect()

    asyncio.run(go())


def test_wrong_password_is_refused(plant: Served) -> None:
    async def go() -> None:
        client = asyncua.Client(plant.endpoint, timeout=5)
        client.set_user("olga")
        client.set_password("not-her-password")
        with pytest.raises(ua.UaError):
            await client.connect()
        await client.disconnect()

    asyncio.run(go())


def test_locomotive_power_limit_is_for_engineers(book: UserBook) -> None:
    project, _ = load_project(ASSETS / "locomotive" / "locomotive.twin.yaml")
    (command,) = project.commands
    node = command.target.node  # type: ignore[union-attr]

    async def go(endpoint: str) -> None:
        operator = await connect(endpoint, "olga")
        try:
            with pytest.raises(ua.uaerrors.BadUserAccessDenied):
                await write(operator, node, 50.0)
        finally:
            await operator.disconnect()
        engineer = await connect(endpoint, "erin")
        try:
            await write(engineer, node, 50.0)
            assert await until(engineer, "ns=2;s=traction_power_limit", lambda v: v == 50.0)
        finally:
            await engineer.disconnect()

    with Served(project, rate=5, speed=4, authenticate=authenticator(book)) as s:
        asyncio.run(go(s.endpoint))


def test_simulate_opcua_server_signs_users_in_from_the_project_user_file(tmp_path: Path) -> None:
    """`twinviewer simulate --opcua-server` on a copy of the locomotive with its user file."""
    import shutil
    import signal
    import subprocess
    import sys

    from tests.test_opcua import free_port

    loco = tmp_path / "locomotive.twin.yaml"
    shutil.copy(ASSETS / "locomotive" / "locomotive.twin.yaml", loco)
    project, _ = load_project(loco)
    book = UserBook(tmp_path / project.command_settings.users)
    book.add("olga", "operator", PASSWORDS["olga"])
    book.add("erin", "engineer", PASSWORDS["erin"])
    endpoint = f"opc.tcp://127.0.0.1:{free_port()}/twinviewer"
    proc = subprocess.Popen(
        [sys.executable, "-m", "twinviewer", "simulate", str(loco), "--opcua-server", endpoint]
        + ["--speed", "4", "--duration", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    node = "ns=2;s=traction_power_limit.Setpoint"

    async def go() -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                client = await connect(endpoint, "erin")
                break
            except (OSError, asyncio.TimeoutError, ua.UaError):
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "the server did not start in 30 s"
                await asyncio.sleep(0.3)
        try:
            await write(client, node, 60.0)
            assert await until(client, "ns=2;s=traction_power_limit", lambda v: v == 60.0) == 60
        finally:
            await client.disconnect()
        operator = await connect(endpoint, "olga")
        try:
            with pytest.raises(ua.uaerrors.BadUserAccessDenied):
                await write(operator, node, 30.0)
        finally:
            await operator.disconnect()

    try:
        asyncio.run(go())
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    stats = json.loads(out)
    assert stats["command_nodes"] == 1
    assert stats["commands"] == 1 and stats["commands_denied"] == 1
