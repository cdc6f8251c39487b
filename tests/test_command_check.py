"""The pure checks before a command is sent, the MQTT payload template, the Sparkplug message."""

from __future__ import annotations

import json

import pytest

from twinviewer.core.command_check import check_value, coerce, fill_payload, link_problem
from twinviewer.core.project import MqttSource, OpcUaSource
from twinviewer.core.project_commands import Command, MqttTarget
from twinviewer.sources import sparkplug as spb
from twinviewer.sources.command_delivery import sparkplug_message

MQTT = {"type": "mqtt", "source": "m", "topic": "cmd/x"}


def cmd(**kw: object) -> Command:
    return Command.model_validate({"id": "c", "target": MQTT, "unit": "bar", **kw})


def test_types_and_limits() -> None:
    assert check_value(cmd(type="integer"), "7") is None and coerce(cmd(type="integer"), "7") == 7
    assert "not a whole number" in (check_value(cmd(type="integer"), 7.5) or "")
    assert coerce(cmd(type="boolean"), "on") is True
    assert "not a boolean" in (check_value(cmd(type="boolean"), "maybe") or "")
    choice = cmd(type="choice", allowed=["auto", "manual"])
    assert check_value(choice, "auto") is None
    assert "not one of the choices: auto, manual" in (check_value(choice, "off") or "")
    assert "not one of the allowed values (1.0, 2.0 bar)" in (
        check_value(cmd(allowed=[1, 2]), 3) or ""
    )
    assert "not a finite number" in (check_value(cmd(), "nan") or "")
    assert "above the maximum 5 bar" in (check_value(cmd(max=5), 6) or "")
    assert "cannot be checked" in (check_value(cmd(max_step=1), 2, None) or "")
    assert check_value(cmd(max_step=1), 2, 1.5) is None


def test_payload_template_is_filled_literally() -> None:
    default = MqttTarget.model_validate(MQTT).payload
    assert default == '{"value": {value}, "correlation": "{correlation}"}'
    out = fill_payload(default, {"value": 70.5, "correlation": "abc"})
    assert json.loads(out) == {"value": 70.5, "correlation": "abc"}
    tpl = '{"set": {"v": {value}}, "by": "{user}", "at": "{time}", "cmd": "{command}"}'
    values = {"value": 'a"b', "user": 'o"lga', "time": "T", "command": "c"}
    filled = json.loads(fill_payload(tpl, values))
    assert filled == {"set": {"v": 'a"b'}, "by": 'o"lga', "at": "T", "cmd": "c"}
    with pytest.raises(ValueError, match="does not give valid JSON"):
        fill_payload('{"value": {value}', {"value": 1})


def test_link_problems() -> None:
    plain = MqttSource(type="mqtt", url="mqtt://h", topic="t/{sensor}")
    assert "no TLS" in (link_problem(plain) or "") and "no authentication" in (
        link_problem(plain) or ""
    )
    assert link_problem(MqttSource(type="mqtt", url="mqtts://u@h", topic="t/{sensor}")) is None
    ua = OpcUaSource(type="opcua", endpoint="opc.tcp://h:4840")
    assert "no security" in (link_problem(ua) or "")
    assert "no authentication" not in (link_problem(ua, user_identity=True) or "")


def test_sparkplug_ncmd_and_dcmd() -> None:
    t = {"type": "sparkplug", "source": "m", "group": "G", "node": "N", "metric": "Fan/Speed"}
    topic, data = sparkplug_message(cmd(target=t).target, cmd(target=t), 70.0)  # type: ignore[arg-type]
    assert topic == "spBv1.0/G/NCMD/N"
    m = spb.decode_payload(data).metrics[0]
    assert m.name == "Fan/Speed" and m.value == 70.0
    dev = cmd(type="boolean", target={**t, "device": "D"})
    topic, data = sparkplug_message(dev.target, dev, True)  # type: ignore[arg-type]
    assert topic == "spBv1.0/G/DCMD/N/D" and spb.decode_payload(data).metrics[0].value is True


def test_a_command_topic_the_twin_subscribes_to_is_refused() -> None:
    """The twin would read its own command as the read-back value and 'confirm' it."""
    from twinviewer.core.project import Project
    from twinviewer.core.project_commands import filter_matches, topic_filter

    assert topic_filter("site/{component}/{sensor}") == "site/+/+"
    assert filter_matches("site/+/+", "site/cmd/fan") and not filter_matches("site/+", "site/a/b")
    assert filter_matches("site/#", "site/a/b") and not filter_matches("site/+/+", "other/a/b")
    base = {
        "models": ["m.glb"],
        "sensors": [{"id": "fan", "quantity": "speed", "unit": "%", "range": [0, 100]}],
        "sources": [{"type": "mqtt", "url": "mqtt://h", "topic": "site/{component}/{sensor}"}],
    }

    def command(topic: str) -> dict:
        target = {"type": "mqtt", "source": "mqtt", "topic": topic}
        return {**base, "commands": [{"id": "fan", "target": target, "readback": "fan"}]}

    with pytest.raises(ValueError, match="the twin would read its own command"):
        Project.model_validate(command("site/cmd/fan"))
    assert Project.model_validate(command("site-cmd/fan")).commands[0].id == "fan"
