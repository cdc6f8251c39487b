"""Commands in the window: signing in (the status bar names user and role), the inspector's
command button disabled with the reason (not signed in, the role, not live), the command
dialog (limits and reason checked as typed, the confirmation step, pending → confirmed by
the read-back of the in-process simulator), and the audit trail as a flag on the timeline
and a row of the alarm and event list."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pytestqt")
pytest.importorskip("argon2")

from twinviewer.core.users import UserBook  # noqa: E402
from twinviewer.session.commands import CommandState  # noqa: E402

pytestmark = pytest.mark.gui

PASSWORD = "correct horse"

PROJECT = """\
name: Building with a fan
models: [{model}]
sensors:
  - {{id: F0_T, quantity: temperature, unit: degC, component: floor_0, range: [0, 100]}}
  - {{id: FAN, name: Fan speed, quantity: speed, unit: "%", component: floor_0,
      range: [0, 100], stale_after: 30}}
sources:
  - type: simulator
    id: sim
    rate: 20
    setpoints:
      - {{sensor: FAN, initial: 80, ramp: 200}}
  - {{type: mqtt, id: plant, enabled: false, url: "mqtt://127.0.0.1:1883",
      topic: "building/{{sensor}}", format: json}}
commands:
  - id: fan_speed
    label: Fan speed
    component: floor_0
    unit: "%"
    min: 40
    max: 100
    max_step: 30
    target: {{type: mqtt, source: plant, topic: building/cmd/fan_speed}}
    readback: FAN
    tolerance: 1
    timeout: 10
    role: operator
    confirm: confirm
    min_interval: 0
command_settings: {{allow_insecure_commands: true}}
"""


@pytest.fixture
def fan_project(corpus: Path, tmp_path: Path) -> Path:
    model = corpus / "meshes" / "gltf" / "no_indices_3storybuilding.glb"
    path = tmp_path / "building.twin.yaml"
    path.write_text(PROJECT.format(model=model))
    users = UserBook(tmp_path / "users.json")
    users.add("vera", "viewer", PASSWORD)
    users.add("otto", "operator", PASSWORD)
    return path


def open_twin(qtbot, window, path: Path) -> None:
    with qtbot.waitSignal(window.sessionOpened, timeout=30000):
        window.open_project(path)


def sign_in(qtbot, feature, user: str, password: str = PASSWORD) -> str:
    """Through the dialog, as a user does; the error shown ("" when signed in)."""
    dialog = feature.open_sign_in()
    assert dialog is not None
    qtbot.keyClicks(dialog.user, user)
    qtbot.keyClicks(dialog.password, password)
    dialog.ok_button.click()
    return dialog.error.text() if dialog.isVisible() else ""


def test_sign_in_send_confirm_and_audit(qtbot, window, fan_project) -> None:
    open_twin(qtbot, window, fan_project)
    feature = window.features["commands"]
    s = window.session
    window.workbench.selection = (s.model.index_of("floor_0"),)
    window.refresh_panels()
    button = feature.section.buttons["fan_speed"]
    reason = feature.section.reasons["fan_speed"]
    assert feature.user_label.text() == "not signed in"
    assert feature.section.isVisible()
    assert not button.isEnabled()
    assert reason.text() == "not signed in"
    assert "not signed in" in button.toolTip()

    # a wrong password says no more than that
    assert sign_in(qtbot, feature, "otto", "wrong password") == "user or password wrong"
    assert sign_in(qtbot, feature, "nobody") == "user or password wrong"
    feature.sign_in_dialog.reject()
    assert feature.user_label.text() == "not signed in"

    # a viewer may not send
    assert sign_in(qtbot, feature, "vera") == ""
    assert "vera (viewer)" in feature.user_label.text()
    window.refresh_panels()
    assert not button.isEnabled()
    assert "role operator" in reason.text()
    window.action("commands.sign_out").trigger()
    assert feature.user_label.text() == "not signed in"

    # an operator may, once the fan's speed is read back
    assert sign_in(qtbot, feature, "otto") == ""
    assert "otto (operator)" in feature.user_label.text()

    def enabled() -> None:
        window.refresh_panels()
        assert button.isEnabled(), reason.text()

    qtbot.waitUntil(enabled, timeout=15000)
    assert "80 %" in button.text()
    button.click()
    dialog = feature.dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.warning.isVisible()  # allow_insecure_commands
    assert "allow_insecure_commands" in dialog.warning.text()
    assert dialog.current_label.text() == "80 %"
    assert dialog.limits_label.text().startswith("40–100 %")
    assert dialog.value_edit.suffix() == " %"

    # out of limits: OK disabled, the reason in red
    dialog.set_value(120)
    dialog.reason_edit.setText("bearing hot")
    assert not dialog.ok_button.isEnabled()
    assert "above the maximum 100 %" in dialog.problem.text()
    dialog.set_value(45)  # a step of 35 %
    assert not dialog.ok_button.isEnabled()
    assert "largest step 30 %" in dialog.problem.text()
    # no reason
    dialog.set_value(60)
    dialog.reason_edit.clear()
    assert not dialog.ok_button.isEnabled()
    assert "reason" in dialog.problem.text()
    qtbot.keyClicks(dialog.reason_edit, "bearing hot")
    assert dialog.ok_button.isEnabled()
    assert not dialog.problem.isVisible()

    # the confirmation step shows old → new; Send → pending → confirmed
    dialog.ok_button.click()
    assert dialog.pages.currentIndex() == 1
    assert "80 % → 60 %" in dialog.change_label.text()
    assert dialog.send_button.isVisible() and dialog.send_button.isEnabled()
    dialog.send_button.click()
    assert dialog.pages.currentIndex() == 2
    assert dialog.state in (CommandState.PENDING, CommandState.CONFIRMED)
    assert dialog.state_label.text().startswith(("Pending", "Confirmed"))
    qtbot.waitUntil(lambda: dialog.state is CommandState.CONFIRMED, timeout=15000)
    assert dialog.state_label.text().startswith("Confirmed: Fan speed is 60")
    assert dialog.close_button.isVisible()

    # the audit: a flag on the timeline, a row in the alarm and event list
    bar = window.features["timeline"].bar
    times, colours, tips = bar.flags("commands")
    assert len(times) == 1
    assert "Fan speed (fan_speed) confirmed" in tips[0]
    assert "otto (operator)" in tips[0] and "80 % → 60 %" in tips[0]
    assert "bearing hot" in tips[0]
    assert colours[0].getRgb()[:3] == (0, 158, 115)
    assert any(m.shape == "banner" for m in bar.slider.review_marks())
    alarm_list = window.features["alarms"].alarm_list
    from twinviewer.ui.alarms.alarm_list import COMMANDS_FILTER

    alarm_list.filter_combo.setCurrentIndex(COMMANDS_FILTER)
    assert alarm_list.model.rowCount() == 1
    shown = [alarm_list.model.index(0, c).data() for c in range(7)]
    assert shown[0] == "Command confirmed"
    assert shown[1] == "Fan speed"
    assert shown[6] == "80 % → 60 %"
    assert "read back 60" in shown[4]
    dialog.close_button.click()

    # the timeline scrubbed into the past: not live, the button says so
    window.features["timeline"].controller.jump_to(window.workbench.timeline.start)
    window.refresh_panels()
    assert not button.isEnabled()
    assert "not live" in reason.text()
    window.workbench.timeline.go_live()
    window.refresh_panels()
    assert button.isEnabled()

    # closing the twin drops the identity
    window.close_session()
    assert feature.user_label.text() == "not signed in"
    assert not feature.section.isVisible()


def test_refused_command_is_listed_and_flagged(qtbot, window, fan_project) -> None:
    """A refused attempt (nothing sent) is audited, flagged grey and listed as refused."""
    open_twin(qtbot, window, fan_project)
    feature = window.features["commands"]
    service = window.session.commands
    assert sign_in(qtbot, feature, "otto") == ""
    command = service.command("fan_speed")

    def read_back() -> None:
        window.tick()
        assert service.current(command) is not None

    qtbot.waitUntil(read_back, timeout=15000)
    attempt = service.send(command, 10, "a test", live=True)
    assert attempt.state is CommandState.REFUSED
    feature.refresh()
    _, colours, tips = window.features["timeline"].bar.flags("commands")
    assert "refused" in tips[0] and "below the minimum 40 %" in tips[0]
    assert colours[0].getRgb()[:3] == (150, 150, 150)
    alarm_list = window.features["alarms"].alarm_list
    rows = [alarm_list.model.index(r, 0).data() for r in range(alarm_list.model.rowCount())]
    assert "Command refused" in rows


def test_two_person_confirmation(qtbot, window, fan_project) -> None:
    """``confirm: two_person``: the confirmation step asks for a second user; the sender may
    not approve their own command (refused, nothing sent); another operator may."""
    text = fan_project.read_text().replace("confirm: confirm", "confirm: two_person")
    fan_project.write_text(text)
    UserBook(fan_project.parent / "users.json").add("anna", "operator", PASSWORD)
    open_twin(qtbot, window, fan_project)
    feature = window.features["commands"]
    s = window.session
    window.workbench.selection = (s.model.index_of("floor_0"),)
    assert sign_in(qtbot, feature, "otto") == ""
    button = feature.section.buttons["fan_speed"]

    def enabled() -> None:
        window.refresh_panels()
        assert button.isEnabled(), feature.section.reasons["fan_speed"].text()

    qtbot.waitUntil(enabled, timeout=15000)

    def dialog_at_confirm():
        button.click()
        d = feature.dialog
        d.set_value(70)
        qtbot.keyClicks(d.reason_edit, "bearing hot")
        d.ok_button.click()
        assert d.pages.currentIndex() == 1
        assert d.approver_edit.isVisible() and d.approver_password.isVisible()
        assert not d.password_edit.isVisible()
        assert not d.send_button.isEnabled()  # no approver yet
        return d

    d = dialog_at_confirm()
    qtbot.keyClicks(d.approver_edit, "otto")
    qtbot.keyClicks(d.approver_password, PASSWORD)
    assert d.send_button.isEnabled()
    d.send_button.click()
    assert d.state is CommandState.REFUSED
    assert d.state_label.text() == "Refused: nothing was sent"
    assert "another user" in d.detail_label.text()
    d.close_button.click()

    d = dialog_at_confirm()
    qtbot.keyClicks(d.approver_edit, "anna")
    qtbot.keyClicks(d.approver_password, PASSWORD)
    d.send_button.click()
    qtbot.waitUntil(lambda: d.state is CommandState.CONFIRMED, timeout=15000)
    _, _, tips = window.features["timeline"].bar.flags("commands")
    assert "refused" in tips[0] and "confirmed" in tips[1]
    assert "approved by anna" in tips[1]
