"""Commands to the asset: sign in, check, send, confirm by read-back, audit.

One :class:`CommandService` per open twin (:meth:`TwinSession.open_commands`). The GUI calls
:meth:`CommandService.send` (never blocks) and :meth:`CommandService.poll` every frame; the
command line calls :meth:`CommandService.wait`. Every attempt leaves audit records
(:mod:`twinviewer.core.audit`): ``refused`` (nothing sent), ``sent`` (the broker or server
acknowledged it), then ``confirmed`` (the read-back sensor showed the value within tolerance
before the timeout) or ``failed`` (timeout, refused by the server, read-back off).

What the client checks before sending: a signed-in user (argon2 user file) holding the
command's role, the confirmation (password again; a second person), a reason, the limits
(:mod:`twinviewer.core.command_check`), the rate limit, a live timeline, a running and live
source, and a secure link (TLS/security and authentication) unless the project allows
insecure ones. The broker's ACLs and the OPC UA server's access levels enforce the rest.

When the read-back sensor is fed by the in-process simulator and the command's own source is
not running (``twinviewer demo mine``), the command is delivered to the simulator
(``Simulator.apply_command``) and audited with target ``simulator``.

Network sends run on a small worker pool; :meth:`poll` runs on the caller's (GUI) thread.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twinviewer.core.audit import AuditTrail
from twinviewer.core.command_check import (
    ValueRefused,
    check_value,
    coerce,
    link_problem,
    numeric,
    rate_limited,
)
from twinviewer.core.project import Project
from twinviewer.core.project_commands import Command, OpcUaTarget, role_rank
from twinviewer.core.samples import LatestState
from twinviewer.core.users import AuthError, UserBook, UserFileError
from twinviewer.sources.base import Source, SourceState

if TYPE_CHECKING:
    from twinviewer.core.model import ModelData
    from twinviewer.session.twin import TwinSession

log = logging.getLogger(__name__)

__all__ = [
    "AuthError",
    "CommandAttempt",
    "CommandService",
    "CommandState",
    "SignedIn",
    "audit_path",
]


class CommandState(str, Enum):
    REFUSED = "refused"
    PENDING = "pending"
    CONFIRMED = "confirmed"
    FAILED = "failed"


@dataclass
class SignedIn:
    name: str
    role: str


@dataclass
class CommandAttempt:
    """One command sent (or refused). Times are epoch seconds."""

    correlation: str
    command: str
    user: str
    role: str
    value: Any
    old: float | None
    unit: str
    reason: str
    state: CommandState
    message: str
    readback: float | None = None
    sent_at: float | None = None
    done_at: float | None = None
    target: str = ""
    # worker -> poll: delivered (acknowledged), or why not; not part of the API
    _future: Future[str] | None = field(default=None, repr=False)
    _delivered: str | None = field(default=None, repr=False)
    _readback_time: float = field(default=math.nan, repr=False)

    @property
    def finished(self) -> bool:
        return self.state is not CommandState.PENDING


def audit_path(project: Project, folder: Path, path: Path) -> Path:
    """``command_settings.audit`` (relative to the project), else ``audit.jsonl`` in the
    twin's history folder."""
    from twinviewer.session.twin import history_folder

    given = project.command_settings.audit
    if given:
        p = Path(given)
        return p if p.is_absolute() else folder / p
    return history_folder(project, folder, path) / "audit.jsonl"


def users_path(project: Project, folder: Path) -> Path:
    p = Path(project.command_settings.users)
    return p if p.is_absolute() else folder / p


class CommandService:
    """Commands of one open twin: who is signed in, what may be sent, what was."""

    def __init__(
        self,
        project: Project,
        folder: Path,
        path: Path,
        state: LatestState,
        sources: Sequence[Source] | Callable[[], Sequence[Source]],
        *,
        model: ModelData | None = None,
        drain: Callable[[], object] | None = None,
    ) -> None:
        self.project = project
        self.folder = Path(folder)
        self.path = Path(path)
        self.state = state
        self._sources = sources
        self.model = model
        self._drain = drain
        self.sensor_index = {s.id: i for i, s in enumerate(project.sensors)}
        self.signed_in: SignedIn | None = None
        self._secret: str | None = None  # the password, kept only for identity: user targets
        self.users = UserBook(users_path(project, self.folder))
        self.audit = AuditTrail(audit_path(project, self.folder, self.path))
        # why the last audit record could not be written (None: it was); the window shows it
        self.audit_error: str | None = None
        self.attempts: list[CommandAttempt] = []
        self._last_sent: dict[str, float] = {}
        self._by_id = {c.id: c for c in project.commands}
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    @classmethod
    def for_session(cls, session: TwinSession) -> CommandService:
        """The service of an open twin: its state, its running sources, its model."""
        return cls(
            session.project,
            session.folder,
            session.path,
            session.state,
            lambda: session.sources,
            model=session.model,
        )

    # -- users ---------------------------------------------------------------------------------
    def sign_in(self, name: str, password: str) -> SignedIn:
        """Sign in with the user file; raises :class:`AuthError` ("user or password wrong")."""
        try:
            role = self.users.verify(name, password)
        except UserFileError as exc:
            raise AuthError(str(exc)) from None
        self.signed_in = SignedIn(name, role)
        needs_secret = any(
            isinstance(c.target, OpcUaTarget) and c.target.identity == "user"
            for c in self.project.commands
        )
        self._secret = password if needs_secret else None
        log.info("commands: %s signed in as %s", name, role)
        return self.signed_in

    def sign_out(self) -> None:
        if self.signed_in is not None:
            log.info("commands: %s signed out", self.signed_in.name)
        self.signed_in = None
        self._secret = None

    # -- what may be sent ----------------------------------------------------------------------
    def command(self, command_id: str) -> Command:
        try:
            return self._by_id[command_id]
        except KeyError:
            have = ", ".join(self._by_id) or "none"
            raise KeyError(f"no command {command_id!r} in the project (it has: {have})") from None

    def commands_of(self, component: int) -> list[Command]:
        """The commands whose ``component`` reference selects model node ``component`` (or
        one of its ancestors)."""
        if self.model is None:
            return []
        from twinviewer.core.binding import match_reference

        ancestors = {component}
        comps = self.model.components
        i = component
        while 0 <= i < len(comps) and comps[i].parent >= 0 and comps[i].parent not in ancestors:
            i = comps[i].parent
            ancestors.add(i)
        out = []
        for c in self.project.commands:
            if c.component and ancestors & set(
                match_reference(self.project, self.model, c.component).nodes
            ):
                out.append(c)
        return out

    def sources(self) -> list[Source]:
        s = self._sources
        return list(s() if callable(s) else s)

    def _running(self, source_id: str) -> Source | None:
        return next((s for s in self.sources() if s.id == source_id), None)

    def simulator_for(self, command: Command) -> Source | None:
        """The running in-process simulator that takes this command instead of the network:
        when the command's own source is not running and a simulator feeds the twin."""
        if self._running(command.target.source) is not None:
            return None
        from twinviewer.sources.simulator import Simulator

        return next((s for s in self.sources() if isinstance(s, Simulator)), None)

    def target_text(self, command: Command) -> str:
        """Where the command goes, in words (the audit's ``target``)."""
        if self.simulator_for(command) is not None:
            return "simulator"
        t = command.target
        if t.type == "mqtt":
            return f"MQTT publish {t.topic} (source {t.source})"
        if t.type == "sparkplug":
            kind = "DCMD" if t.device else "NCMD"
            where = "/".join(p for p in (t.group, t.node, t.device) if p)
            return f"Sparkplug {kind} {where} metric {t.metric} (source {t.source})"
        if t.method is not None:
            return f"OPC UA call {t.method} on {t.object} (source {t.source})"
        return f"OPC UA write {t.node} ({t.variant}, source {t.source})"

    def current(self, command: Command) -> float | None:
        """The read-back sensor's live value (None: no read-back, or no value yet)."""
        i = self.sensor_index.get(command.readback or "")
        if i is None:
            return None
        v = float(self.state.value[i])
        return v if math.isfinite(v) else None

    def availability(self, command: Command, live: bool = True) -> str | None:
        """None when the command may be sent now; else why not."""
        who = self.signed_in
        if who is None:
            return "not signed in"
        if role_rank(who.role) < role_rank(command.role):
            return f"{who.name} is {who.role}; this command needs the role {command.role}"
        if not live:
            return "the timeline is not live (commands only go from the live twin)"
        problem = self._link(command)
        if problem is not None:
            return problem
        return rate_limited(command, self._last_sent.get(command.id), time.monotonic())

    def _link(self, command: Command) -> str | None:
        """Why the command's route to the asset cannot be used now."""
        sim = self.simulator_for(command)
        if sim is not None:
            if sim.status.state is not SourceState.LIVE:
                return f"the simulator is {sim.status.state.value}"
            return self._stale(command)
        sid = command.target.source
        src = self._running(sid)
        if src is None:
            return f"its source {sid} is not running"
        if src.status.state is not SourceState.LIVE:
            msg = f" ({src.status.message})" if src.status.message else ""
            return f"its source {sid} is {src.status.state.value}{msg}"
        cfg = next(c for c in self.project.sources if c.id == sid)
        user_identity = isinstance(command.target, OpcUaTarget) and (
            command.target.identity == "user"
        )
        insecure = link_problem(cfg, user_identity)
        if insecure and not self.project.command_settings.allow_insecure_commands:
            return f"{insecure}; set command_settings.allow_insecure_commands to send anyway"
        return self._stale(command)

    def _stale(self, command: Command) -> str | None:
        i = self.sensor_index.get(command.readback or "")
        if i is None:
            return None
        t = float(self.state.time[i])
        limit = self.project.sensors[i].stale_after
        if not math.isfinite(t):
            return f"its read-back sensor {command.readback} has no data yet"
        age = time.time() - t
        if age > limit:
            return f"its read-back sensor {command.readback} is stale ({age:.0f} s without data)"
        return None

    def insecure_warning(self, command: Command) -> str | None:
        """The warning a dialog shows when the link is insecure and the project allows it."""
        if self.simulator_for(command) is not None:
            return None
        cfg = next((c for c in self.project.sources if c.id == command.target.source), None)
        if cfg is None:
            return None
        user_identity = isinstance(command.target, OpcUaTarget) and (
            command.target.identity == "user"
        )
        problem = link_problem(cfg, user_identity)
        return f"insecure link: {problem}" if problem else None

    def check(self, command: Command, value: Any) -> str | None:
        """Why ``value`` is refused for ``command`` (limits, type, step), or None."""
        return check_value(command, value, self.current(command))

    # -- sending -------------------------------------------------------------------------------
    def send(
        self,
        command: Command,
        value: Any,
        reason: str,
        *,
        password: str | None = None,
        approver: tuple[str, str] | None = None,
        live: bool = True,
    ) -> CommandAttempt:
        """Check and send; never blocks. REFUSED (audited, nothing sent) or PENDING (handed to
        the sender; audited ``sent`` once the broker or server acknowledged it)."""
        who = self.signed_in
        now = time.time()
        attempt = CommandAttempt(
            correlation=uuid.uuid4().hex,
            command=command.id,
            user=who.name if who else "",
            role=who.role if who else "",
            value=value,
            old=self.current(command),
            unit=command.unit,
            reason=(reason or "").strip(),
            state=CommandState.PENDING,
            message="",
            target=self.target_text(command),
        )
        refusal = self._refusal(command, value, attempt, password, approver, live)
        if refusal is not None:
            attempt.state = CommandState.REFUSED
            attempt.message = refusal
            attempt.done_at = now
            self._audit(attempt, "refused", now)
            self.attempts.append(attempt)
            log.warning("command %s refused: %s", command.id, refusal)
            return attempt
        attempt.value = coerce(command, value)
        i = self.sensor_index.get(command.readback or "")
        attempt._readback_time = float(self.state.time[i]) if i is not None else math.nan
        attempt.sent_at = now
        self._last_sent[command.id] = time.monotonic()
        attempt._future = self._submit(command, attempt)
        self.attempts.append(attempt)
        return attempt

    def _refusal(
        self,
        command: Command,
        value: Any,
        attempt: CommandAttempt,
        password: str | None,
        approver: tuple[str, str] | None,
        live: bool,
    ) -> str | None:
        why = self.availability(command, live)
        if why is not None:
            return why
        if not attempt.reason:
            return "a reason is required"
        bad = self.check(command, value)
        if bad is not None:
            return bad
        who = self.signed_in
        assert who is not None
        if command.confirm == "password":
            try:
                self.users.verify(who.name, password or "")
            except AuthError:
                return "confirmation failed: the password is wrong"
        elif command.confirm == "two_person":
            if approver is None:
                return "a second person must approve this command"
            name, secret = approver
            if name == who.name:
                return "the approver must be another user"
            try:
                role = self.users.verify(name, secret)
            except AuthError as exc:
                return f"approval failed: {exc}"
            if role_rank(role) < role_rank(command.role):
                return f"the approver {name} is {role}; approving needs the role {command.role}"
            attempt.reason += f" (approved by {name})"
        return None

    def _submit(self, command: Command, attempt: CommandAttempt) -> Future[str]:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(2, thread_name_prefix="command-send")
            return self._pool.submit(self._deliver, command, attempt)

    def _deliver(self, command: Command, attempt: CommandAttempt) -> str:
        """Worker thread: send, and audit ``sent`` once acknowledged; returns what happened."""
        from twinviewer.sources import command_delivery as cd

        sim = self.simulator_for(command)
        if sim is not None:
            message = cd.to_simulator(sim, command, attempt.value)
        else:
            cfg = next(c for c in self.project.sources if c.id == command.target.source)
            identity = None
            if isinstance(command.target, OpcUaTarget) and command.target.identity == "user":
                identity = (attempt.user, self._secret or "")
            message = cd.deliver(
                cfg,
                self.folder,
                command,
                attempt.value,
                {
                    "command": command.id,
                    "correlation": attempt.correlation,
                    "user": attempt.user,
                    "time": attempt.sent_at or time.time(),
                },
                timeout=min(command.timeout, 10.0),
                identity=identity,
            )
        if attempt.state is CommandState.PENDING:  # not already given up on (timeout)
            self._audit(attempt, "sent", time.time(), message)
        attempt._delivered = message
        return message

    def poll(self, now: float | None = None) -> list[CommandAttempt]:
        """Finish the pending attempts that can be finished (call on the GUI thread): confirmed
        when the read-back shows the value, failed on a delivery error or the timeout. Each
        outcome is audited; returns the attempts that finished now."""
        now = time.time() if now is None else now
        done = []
        for a in self.attempts:
            if a.state is not CommandState.PENDING:
                continue
            command = self._by_id[a.command]
            fut = a._future
            if fut is not None and fut.done():
                exc = fut.exception()
                if exc is not None:
                    self._finish(a, CommandState.FAILED, _words(exc), now)
                    done.append(a)
                    continue
            if a._delivered is None:
                if now - (a.sent_at or now) > command.timeout:
                    msg = f"not acknowledged within {command.timeout:g} s"
                    self._finish(a, CommandState.FAILED, msg, now)
                    done.append(a)
                continue
            if self._confirmed(command, a):
                msg = f"read back {_shown(a.readback, command.unit)}"
                if command.readback is None:
                    msg = f"{a._delivered}; no read-back configured"
                self._finish(a, CommandState.CONFIRMED, msg, now)
                done.append(a)
            elif now - (a.sent_at or now) > command.timeout:
                seen = self.current(command)
                msg = (
                    f"no read-back of {_shown(a.value, command.unit)} within {command.timeout:g} s"
                )
                if seen is not None:
                    msg += f" (read back {_shown(seen, command.unit)})"
                a.readback = seen
                self._finish(a, CommandState.FAILED, msg, now)
                done.append(a)
        return done

    def _confirmed(self, command: Command, a: CommandAttempt) -> bool:
        i = self.sensor_index.get(command.readback or "")
        if i is None:
            return True  # nothing reads it back: the acknowledgement is all there is
        t = float(self.state.time[i])
        v = float(self.state.value[i])
        if not math.isfinite(t) or not math.isfinite(v):
            return False
        if math.isfinite(a._readback_time) and t <= a._readback_time:
            return False  # no sample since sending
        target = numeric(command, a.value)
        a.readback = v
        return abs(v - target) <= command.tolerance + 1e-9 * max(1.0, abs(target))

    def _finish(self, a: CommandAttempt, state: CommandState, message: str, now: float) -> None:
        a.state = state
        a.message = message
        a.done_at = now
        self._audit(a, state.value, now)
        log.info("command %s %s: %s", a.command, state.value, message)

    def wait(self, attempt: CommandAttempt, timeout: float | None = None) -> CommandAttempt:
        """Block until the attempt finishes (the command line), draining the twin's sources
        if this service was given a ``drain``."""
        command = self._by_id[attempt.command]
        limit = command.timeout + 1.0 if timeout is None else timeout
        deadline = time.monotonic() + limit
        while attempt.state is CommandState.PENDING:
            if self._drain is not None:
                self._drain()
            self.poll()
            if attempt.state is not CommandState.PENDING:
                break
            if time.monotonic() >= deadline:
                self._finish(
                    attempt, CommandState.FAILED, f"gave up after {limit:g} s", time.time()
                )
                break
            time.sleep(0.05)
        return attempt

    def _audit(self, a: CommandAttempt, result: str, now: float, message: str = "") -> None:
        try:
            self.audit.append(
                now,
                user=a.user,
                role=a.role,
                command=a.command,
                target=a.target,
                old=a.old,
                new=a.value if isinstance(a.value, (int, float, bool, str)) else str(a.value),
                unit=a.unit,
                reason=a.reason,
                result=result,
                message=message or a.message,
                readback=a.readback,
                correlation=a.correlation,
            )
        except OSError as exc:  # the audit must not take the app down: the log and the window
            log.error("audit: %s", exc)
            self.audit_error = (
                f"{a.command}: {result}, but the audit trail could not record it: {exc}"
            )
            return
        self.audit_error = None

    def close(self) -> None:
        """Let the sends in flight finish (a few seconds at most)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=False)


def _shown(value: Any, unit: str) -> str:
    """A value with its unit: 70 %, 1.5 bar, true."""
    if isinstance(value, float):
        value = f"{value:g}"
    elif isinstance(value, bool):
        value = str(value).lower()
    return f"{value} {unit}".strip()


def _words(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, ValueRefused):
        return text
    return text or type(exc).__name__
