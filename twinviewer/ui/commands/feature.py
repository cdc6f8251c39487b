"""Commands from the twin to the asset, in the window.

- *File > Sign in…* / *Sign out*: the project's user file decides who may send what; the
  status bar names the signed-in user and role ("not signed in" otherwise). Closing the twin
  signs out.
- The selected component's commands, as a section of the Inspector (through its
  ``add_section`` hook: the commands belong to the component the inspector shows, so they sit
  beside its values rather than in a dock of their own that would have to follow the
  selection too). Each button is disabled, with the reason beside it and as its tooltip,
  whenever the engine's ``availability`` says so, or a scenario is compared.
- The command dialog (:mod:`.dialog`), followed by :meth:`CommandService.poll` each frame
  and every 100 ms while an attempt is pending: the GUI thread never waits for the asset.
- The audit trail as flags on the timeline (the bar's ``set_flags`` layer ``"commands"``,
  the review flags' mechanism) and as rows of the alarm and event list (its
  ``set_commands``), read again whenever the audit file changes (a command finished, or
  ``twinviewer command`` appended from another process).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer

from twinviewer.core.binding import match_reference
from twinviewer.core.users import AuthError
from twinviewer.session import TwinSession
from twinviewer.session.commands import CommandAttempt, CommandService, CommandState
from twinviewer.ui.alarms.rows import command_rows
from twinviewer.ui.commands.audit_marks import RESULT_RGB, AuditEntry, entries
from twinviewer.ui.commands.dialog import QtCommandDialog, with_unit
from twinviewer.ui.commands.section import CommandButton, QtCommandsSection
from twinviewer.ui.commands.sign_in import QtSignInDialog
from twinviewer.ui.feature import ActionSpec, Feature
from twinviewer.ui.inspector.feature import InspectorFeature
from twinviewer.ui.timeline.bar import format_time
from twinviewer.ui.widgets.elided_label import QtElidedLabel

if TYPE_CHECKING:
    from twinviewer.core.project_commands import Command
    from twinviewer.ui.main_window import QtMainWindow

log = logging.getLogger(__name__)

FLAG_LAYER = "commands"
NOT_SIGNED_IN = "not signed in"
SCENARIO = "a scenario is compared (commands go only from the live twin)"
POLL_MS = 100


class CommandsFeature(Feature):
    name = "commands"

    def __init__(self, host: QtMainWindow) -> None:
        super().__init__(host)
        self.service: CommandService | None = None
        self._audit_error_told: str | None = None
        self.section = QtCommandsSection()
        self.section.sendRequested.connect(self.open_dialog)
        host.feature(InspectorFeature).inspector.add_section(self.section)
        self.user_label = QtElidedLabel(NOT_SIGNED_IN, minimum=80)
        self.user_label.setObjectName("signed-in-user")
        self.user_label.setToolTip("Who sends commands from this window (File > Sign in…)")
        host.status.add(self.user_label)
        self.dialog: QtCommandDialog | None = None
        self.sign_in_dialog: QtSignInDialog | None = None
        self.audit: list[AuditEntry] = []
        self._audit_stamp: tuple[int, int] | None = None
        self._component_of: dict[str, int] = {}  # command id -> model node (-1: none)
        self.poll_timer = QTimer(host)
        self.poll_timer.setInterval(POLL_MS)
        self.poll_timer.timeout.connect(self.poll)
        self.workbench.events.selection.connect(lambda _sel: self.refresh())

    def actions(self) -> list[ActionSpec]:
        return [
            ActionSpec(
                "commands.sign_in",
                "Sign &in…",
                lambda _=False: self.open_sign_in(),
                "File",
                "user",
                tip="Sign in with the project's user file to send commands to the asset",
            ),
            ActionSpec(
                "commands.sign_out",
                "Sign &out",
                lambda _=False: self.sign_out(),
                "File",
                "user",
                tip="Forget who is signed in: no command can be sent until someone signs in",
            ),
        ]

    def hosted(self) -> None:
        bar = self._bar()
        if bar is not None:
            bar.flagClicked.connect(self._on_flag)

    # -- the twin --------------------------------------------------------------------------------
    def opened(self, session: TwinSession) -> None:
        self.service = session.open_commands()
        has = bool(session.project.commands)
        action = self.host.action("commands.sign_in")
        action.setEnabled(has)
        action.setToolTip(
            "Sign in with the project's user file to send commands to the asset"
            if has
            else "This project has no commands"
        )
        self._audit_stamp = None
        self._show_user()
        self.refresh()

    def closed(self) -> None:
        self.poll_timer.stop()
        for d in (self.dialog, self.sign_in_dialog):
            if d is not None:
                d.reject()
        self.dialog = self.sign_in_dialog = None
        if self.service is not None:
            self.service.sign_out()
        self.service = None
        self.section.clear()
        self.audit = []
        self._audit_stamp = None
        self._show_marks()
        self._show_user()

    # -- who is signed in ------------------------------------------------------------------------
    def open_sign_in(self) -> QtSignInDialog | None:
        """The sign-in dialog (modeless); None without a twin that has commands."""
        s = self.service
        if s is None or self.session is None:
            return None
        if self.sign_in_dialog is not None:
            self.sign_in_dialog.reject()
        dialog = QtSignInDialog(self.sign_in, self.session.project.name, self.host)
        self.sign_in_dialog = dialog
        dialog.finished.connect(lambda _r, d=dialog: self._forget_sign_in(d))
        dialog.open()
        return dialog

    def _forget_sign_in(self, dialog: QtSignInDialog) -> None:
        if self.sign_in_dialog is dialog:
            self.sign_in_dialog = None
        dialog.deleteLater()

    def sign_in(self, name: str, password: str) -> str | None:
        """Sign in; None when signed in, else the message ("user or password wrong")."""
        if self.service is None:
            return "no twin is open"
        try:
            who = self.service.sign_in(name, password)
        except AuthError as exc:
            return str(exc)
        self.host.statusBar().showMessage(f"Signed in as {who.name} ({who.role})", 5000)
        self._show_user()
        self.refresh()
        return None

    def sign_out(self) -> None:
        if self.service is not None and self.service.signed_in is not None:
            name = self.service.signed_in.name
            self.service.sign_out()
            self.host.statusBar().showMessage(f"{name} signed out", 5000)
        self._show_user()
        self.refresh()

    def _show_user(self) -> None:
        who = self.service.signed_in if self.service is not None else None
        self.user_label.setText(f"signed in: {who.name} ({who.role})" if who else NOT_SIGNED_IN)
        self.host.action("commands.sign_out").setEnabled(who is not None)

    # -- what may be sent now --------------------------------------------------------------------
    def reason(self, command: Command) -> str | None:
        """Why ``command`` cannot be sent now (None: it can)."""
        if self.service is None:
            return "no twin is open"
        why = self.service.availability(command, self.workbench.timeline.live)
        if why is None and self.workbench.comparison is not None:
            return SCENARIO
        return why

    def refresh(self) -> None:
        """The selected component's commands; the open dialog's current value and state; the
        audit marks when the file changed."""
        s, service = self.session, self.service
        if s is None or service is None:
            self.section.clear()
            return
        sel = self.workbench.selection
        rows = []
        for c in service.commands_of(sel[0]) if sel else []:
            value = with_unit(service.current(c), c.unit)
            rows.append(CommandButton(c.id, c.label or c.id, value, self.reason(c)))
        self.section.set_commands(rows)
        d = self.dialog
        if d is not None:
            d.set_current(service.current(d.command))
            d.set_blocked(self.reason(d.command) if d.attempt is None else None)
        self._read_audit()
        self._tell_audit_error(service.audit_error)

    def _tell_audit_error(self, error: str | None) -> None:
        """A command the audit trail could not record is said once, in a dialog (a trail with
        holes is a finding for whoever reviews it; the operator must know at once)."""
        if error is not None and error != self._audit_error_told:
            self.host.error("A command was not audited", error)
        self._audit_error_told = error

    # -- the dialog ------------------------------------------------------------------------------
    def open_dialog(self, command_id: str) -> QtCommandDialog | None:
        """The command dialog of ``command_id`` (modeless), when it may be sent now."""
        service = self.service
        if service is None:
            return None
        try:
            command = service.command(command_id)
        except KeyError as exc:
            self.host.error("No such command", str(exc.args[0]))
            return None
        why = self.reason(command)
        if why is not None:
            self.host.statusBar().showMessage(f"{command.label or command.id}: {why}", 8000)
            return None
        if self.dialog is not None:
            self.dialog.reject()
        insecure = None
        if service.project.command_settings.allow_insecure_commands:
            link = service.insecure_warning(command)
            insecure = (
                "Insecure link allowed by the project (allow_insecure_commands: true)"
                + (f": {link.removeprefix('insecure link: ')}" if link else "")
                + ". Never in production: anyone on that network may read or forge commands."
            )

        def send(value: Any, reason: str, password: str | None, approver: Any) -> CommandAttempt:
            live = self.workbench.timeline.live and self.workbench.comparison is None
            attempt = service.send(
                command, value, reason, password=password, approver=approver, live=live
            )
            self._after_send(attempt)
            return attempt

        dialog = QtCommandDialog(
            command,
            service.target_text(command),
            service.current(command),
            lambda value: service.check(command, value),
            send,
            insecure,
            self.host,
        )
        self.dialog = dialog
        dialog.finished.connect(lambda _r, d=dialog: self._forget(d))
        dialog.open()
        return dialog

    def _forget(self, dialog: QtCommandDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()

    def _label(self, command_id: str) -> str:
        """The command's label, by its id (the id itself without a twin or such a command)."""
        commands = self.service.project.commands if self.service is not None else []
        c = next((c for c in commands if c.id == command_id), None)
        return (c.label or c.id) if c is not None else command_id

    def _after_send(self, attempt: CommandAttempt) -> None:
        label = self._label(attempt.command)
        if attempt.state is CommandState.REFUSED:
            self.host.statusBar().showMessage(f"{label} refused: {attempt.message}", 10000)
        else:
            sent = with_unit(attempt.value, attempt.unit)
            self.host.statusBar().showMessage(f"{label}: {sent} sent", 5000)
            self.poll_timer.start()
        self._read_audit()

    # -- following the attempts ------------------------------------------------------------------
    def frame(self, t: float, live: bool) -> None:
        self.poll()

    def poll(self) -> list[CommandAttempt]:
        """Finish what can be finished (GUI thread); show it in the dialog and the marks."""
        service = self.service
        if service is None:
            self.poll_timer.stop()
            return []
        try:
            done = service.poll()
        except Exception:  # the engine's bug must not stop the frame
            log.exception("polling the commands")
            done = []
        if not any(a.state is CommandState.PENDING for a in service.attempts):
            self.poll_timer.stop()
        for a in done:
            text = f"{self._label(a.command)} {a.state.value}: {a.message}"
            self.host.statusBar().showMessage(text, 10000)
            if self.dialog is not None and self.dialog.attempt is a:
                self.dialog.show_attempt()
        if done:
            self._read_audit()
            self.refresh()
        return done

    # -- the audit trail on the timeline and in the event list -----------------------------------
    def reread_audit(self) -> None:
        """Another viewer added audit records (the control room's poll): show them."""
        self._read_audit()

    def _read_audit(self, force: bool = False) -> None:
        service = self.service
        if service is None:
            return
        try:
            stamp = service.audit.stamp()  # a file's time and size; a table's count
        except OSError:
            stamp = (0, 0)
        if stamp == self._audit_stamp and not force:
            return
        self._audit_stamp = stamp
        project = service.project
        labels = {c.id: c.label or c.id for c in project.commands}
        self._component_of = {c.id: self._component_index(c) for c in project.commands}
        names = {}
        comps = service.model.components if service.model is not None else []
        for cid, i in self._component_of.items():
            names[cid] = (comps[i].name or comps[i].id) if 0 <= i < len(comps) else ""
        try:
            self.audit = entries(service.audit.records(), labels, names)
        except OSError as exc:
            log.warning("audit trail %s: %s", service.audit.where, exc)
            self.audit = []
        self._show_marks()

    def _component_index(self, command: Command) -> int:
        s = self.session
        if s is None or not command.component:
            return -1
        nodes = match_reference(s.project, s.model, command.component).nodes
        return int(nodes[0]) if len(nodes) else -1

    def _show_marks(self) -> None:
        tz = self.host.time_zone
        bar = self._bar()
        audit = self.audit
        if bar is not None:
            bar.set_flags(
                FLAG_LAYER,
                [e.start for e in audit],
                [RESULT_RGB.get(e.result, RESULT_RGB["refused"]) for e in audit],
                [e.tip(format_time(e.start, tz)) for e in audit],
            )
        alarms = self.host.features.get("alarms")
        alarm_list = getattr(alarms, "alarm_list", None)
        if alarm_list is not None:
            comp = self._component_of
            events = [e.event(format_time(e.start, tz), comp.get(e.command, -1)) for e in audit]
            rows = command_rows([e.start for e in audit], [e.end for e in audit])
            alarm_list.set_commands(rows, events)

    def _on_flag(self, layer: str, index: int) -> None:
        """A command flag was clicked: its component selected, its words in the status bar."""
        if layer != FLAG_LAYER or not 0 <= index < len(self.audit):
            return
        e = self.audit[index]
        i = self._component_of.get(e.command, -1)
        if i >= 0:
            self.workbench.selection = (i,)
        self.host.statusBar().showMessage(e.tip().replace("\n", " · "), 10000)

    def _bar(self) -> Any:
        return getattr(self.host.features.get("timeline"), "bar", None)

    def shutdown(self) -> None:
        self.poll_timer.stop()
