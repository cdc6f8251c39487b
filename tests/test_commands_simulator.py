"""Commands to the in-process simulator (``twinviewer demo mine``): the mine's l3_fan_speed is
delivered to the running simulator, audited with target "simulator", and confirmed when its
read-back sensor ramps to the value; the inspector finds it on the fan's component."""

from __future__ import annotations

import time
from pathlib import Path

from twinviewer.core.users import UserBook
from twinviewer.session import TwinSession
from twinviewer.session.commands import CommandState

MINE = Path(__file__).resolve().parents[1] / "assets" / "mine" / "mine.twin.yaml"


def test_mine_fan_speed_to_the_simulator(tmp_path: Path) -> None:
    session = TwinSession.open(MINE)
    settings = session.project.command_settings  # keep the demo's folder untouched
    settings.users = str(tmp_path / "users.json")
    settings.audit = str(tmp_path / "audit.jsonl")
    UserBook(tmp_path / "users.json").add("olga", "operator", "operator-pw-1")
    session.sources = [s for s in session.create_sources(speed=20.0) if s.id == "simulator"]
    session.start_sources()
    try:
        svc = session.open_commands()
        assert session.commands is svc and session.open_commands() is svc
        fan = session.binding.component_nodes["l3_booster_fan"][0]
        cmd = svc.commands_of(fan)[0]
        assert cmd.id == "l3_fan_speed" and svc.commands_of(0) == []
        svc.sign_in("olga", "operator-pw-1")
        deadline = time.monotonic() + 5
        while svc.availability(cmd) is not None and time.monotonic() < deadline:
            session.drain()
            time.sleep(0.05)
        assert svc.availability(cmd) is None, svc.availability(cmd)
        assert svc.target_text(cmd) == "simulator"
        assert svc.current(cmd) == 100.0
        a = svc.send(cmd, 80, "bearing temperature rising")
        deadline = time.monotonic() + cmd.timeout
        while a.state is CommandState.PENDING and time.monotonic() < deadline:
            session.drain()
            svc.poll()
            time.sleep(0.05)
        assert a.state is CommandState.CONFIRMED, a.message
        recs = svc.audit.records()
        assert [(r["result"], r["target"]) for r in recs] == [
            ("sent", "simulator"),
            ("confirmed", "simulator"),
        ]
    finally:
        session.close()
