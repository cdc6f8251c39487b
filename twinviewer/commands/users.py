"""``twinviewer users``: the project's command users (add, list, remove).

Passwords come from an environment variable (``--password-env``) or are asked for on the
terminal, twice; never from an argument, which other users could read in the process list.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from twinviewer.commands import Subparsers


def add_parser(sub: Subparsers) -> None:
    u = sub.add_parser("users", help="the project's command users and their roles")
    u.add_argument("project", type=Path)
    acts = u.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = acts.add_parser("add", help="add a user (or --replace one)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=("viewer", "operator", "engineer"))
    add.add_argument("--password-env", metavar="VAR", help="environment variable: the password")
    add.add_argument("--replace", action="store_true", help="change an existing user")
    ls = acts.add_parser("list", help="list the users and roles")
    ls.add_argument("--json", action="store_true")
    rm = acts.add_parser("remove", help="remove a user")
    rm.add_argument("name")
    u.set_defaults(run=run)


def _password(var: str | None) -> str | None:
    if var:
        value = os.environ.get(var)
        if value is None:
            sys.stderr.write(f"twinviewer users: environment variable {var} is not set\n")
        return value
    if not sys.stdin.isatty():
        sys.stderr.write("twinviewer users: no terminal to ask for the password; use "
                         "--password-env\n")  # fmt: skip
        return None
    first = getpass.getpass("New password: ")
    if getpass.getpass("Again: ") != first:
        sys.stderr.write("twinviewer users: the two passwords differ\n")
        return None
    return first


def run(args: argparse.Namespace) -> int:
    """Exit 0 done; 1 the file or the user could not be changed; 2 usage."""
    from twinviewer.core.project import ProjectError
    from twinviewer.core.users import UserBook, UserFileError
    from twinviewer.session import load_twin_project
    from twinviewer.session.commands import users_path

    try:
        project, folder = load_twin_project(args.project)
        book = UserBook(users_path(project, folder))
        if args.action == "list":
            users = book.list()
            if args.json:
                sys.stdout.write(json.dumps([{"name": u.name, "role": u.role} for u in users]))
                sys.stdout.write("\n")
            else:
                for u in users:
                    sys.stdout.write(f"{u.name}\t{u.role}\n")
            return 0
        if args.action == "remove":
            book.remove(args.name)
            sys.stdout.write(f"removed {args.name} from {book.path}\n")
            return 0
        password = _password(args.password_env)
        if password is None:
            return 2
        user = book.add(args.name, args.role, password, replace=args.replace)
        sys.stdout.write(f"{user.name} ({user.role}) saved in {book.path}\n")
        return 0
    except (ProjectError, UserFileError, OSError) as exc:
        sys.stderr.write(f"twinviewer users: {exc}\n")
        return 1
