"""``twinviewer command``: send one command to the asset headless, and wait for its read-back.

Opens the project, starts the command's source (as ``twinviewer record`` does), signs in
from the project's user file, sends with the same checks and audit as the window, and waits
until the read-back sensor confirms the value or the timeout passes. Exit 0 only when
confirmed; 1 when refused or failed; 2 for a usage error (unknown command, no password, no
answer to the question).
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
import time
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from twinviewer.commands import Subparsers
    from twinviewer.session.commands import CommandAttempt

log = logging.getLogger(__name__)

READY_S = 10.0  # seconds the source gets to connect and the read-back to arrive


def add_parser(sub: Subparsers) -> None:
    c = sub.add_parser(
        "command",
        help="send a command to the asset (signed in, checked, audited) and wait for read-back",
    )
    c.add_argument("project", type=Path)
    c.add_argument("command", help="the command's id in the project")
    c.add_argument("value", help="the value to send, in the command's unit")
    c.add_argument("--user", required=True, help="a user of the project's user file")
    c.add_argument(
        "--password-env", metavar="VAR", help="environment variable holding the password"
    )
    c.add_argument("--reason", required=True, help="why (recorded in the audit trail)")
    c.add_argument("--approver", metavar="NAME", help="second person (confirm: two_person)")
    c.add_argument(
        "--approver-password-env", metavar="VAR", help="environment variable: approver's password"
    )
    c.add_argument("--yes", action="store_true", help="do not ask before sending")
    c.add_argument("--json", action="store_true", help="the outcome as one JSON object")
    c.add_argument("--timeout", type=float, default=None, help="seconds to wait for the read-back")
    c.set_defaults(run=run)


def _secret(var: str | None, prompt: str) -> str | None:
    if var:
        value = os.environ.get(var)
        if value is None:
            sys.stderr.write(f"twinviewer command: environment variable {var} is not set\n")
        return value
    if not sys.stdin.isatty():
        sys.stderr.write(
            f"twinviewer command: no terminal to ask for the password ({prompt}); use "
            "--password-env\n"
        )
        return None
    return getpass.getpass(f"{prompt}: ")


def outcome(a: CommandAttempt) -> dict[str, Any]:
    """The attempt as JSON-ready data (no internals)."""
    d = {f.name: getattr(a, f.name) for f in fields(a) if not f.name.startswith("_")}
    d["state"] = a.state.value
    return d


def run(args: argparse.Namespace) -> int:
    from twinviewer.core.audit import utc_text
    from twinviewer.core.gaps import GapLog
    from twinviewer.core.project import ProjectError
    from twinviewer.core.samples import BatchQueue, LatestState
    from twinviewer.core.users import AuthError, UserFileError
    from twinviewer.session import create_sources, load_twin_project
    from twinviewer.session.commands import CommandService, CommandState

    def fail(msg: str, code: int) -> int:
        sys.stderr.write(f"twinviewer command: {msg}\n")
        return code

    try:
        project, folder = load_twin_project(args.project)
    except (ProjectError, OSError) as exc:
        return fail(str(exc), 2)
    cmd = next((c for c in project.commands if c.id == args.command), None)
    if cmd is None:
        have = ", ".join(c.id for c in project.commands) or "none"
        return fail(f"no command {args.command!r} in {args.project} (it has: {have})", 2)
    password = _secret(args.password_env, f"password of {args.user}")
    if password is None:
        return 2
    approver = None
    if args.approver:
        secret = _secret(args.approver_password_env, f"password of {args.approver}")
        if secret is None:
            return 2
        approver = (args.approver, secret)
    try:
        sources = create_sources(project, folder, only=[cmd.target.source])
    except (ValueError, ImportError) as exc:
        return fail(str(exc), 1)
    queue, gaps = BatchQueue(), GapLog()
    state = LatestState(len(project.sensors))

    def drain() -> None:
        gaps.drain()
        batch = queue.drain()
        if batch is not None:
            state.apply(batch)

    try:
        service = CommandService(project, folder, Path(args.project), state, sources, drain=drain)
    except UserFileError as exc:
        return fail(str(exc), 1)
    try:
        service.sign_in(args.user, password)
    except AuthError as exc:
        return fail(str(exc), 1)
    for s in sources:
        s.start(queue.put, gaps.add)
    try:
        deadline = time.monotonic() + READY_S
        while time.monotonic() < deadline and service.availability(cmd) is not None:
            time.sleep(0.1)
            drain()
        if not args.yes:
            now = service.current(cmd)
            shown = "unknown" if now is None else f"{now:g} {cmd.unit}".strip()
            question = (
                f"Send {cmd.label or cmd.id} = {args.value} {cmd.unit} (now {shown}) to "
                f"{service.target_text(cmd)}? [y/N] "
            ).replace("  ", " ")
            if not sys.stdin.isatty():
                return fail("not sending without --yes: no terminal to ask", 2)
            sys.stderr.write(question)
            sys.stderr.flush()
            if sys.stdin.readline().strip().lower() not in ("y", "yes"):
                return fail("not sent (answered no)", 1)
        attempt = service.send(
            cmd, args.value, args.reason, password=password, approver=approver, live=True
        )
        if attempt.state is CommandState.PENDING:
            service.wait(attempt, args.timeout)
    finally:
        service.close()
        for s in sources:
            s.stop()
    if args.json:
        sys.stdout.write(json.dumps(outcome(attempt)) + "\n")
    else:
        when = utc_text(attempt.done_at or time.time())
        sys.stdout.write(
            f"{attempt.command} = {attempt.value} {attempt.unit}: {attempt.state.value} at "
            f"{when} ({attempt.message}); correlation {attempt.correlation}\n"
        )
    return 0 if attempt.state is CommandState.CONFIRMED else 1
