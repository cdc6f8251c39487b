"""The local user file: who may send commands, with which role.

A JSON file beside the project (``command_settings.users``, default ``users.json``)::

    {"format": "twinviewer-users", "version": 1,
     "users": {"alice": {"role": "operator", "hash": "$argon2id$v=19$m=65536,t=3,p=4$..."}}}

Passwords are kept only as argon2id hashes (``argon2-cffi``); the file is written atomically
(a temporary file, fsync, rename) with mode 0600. A wrong password and an unknown user give
the same message, and take the same time, so that the file's names cannot be probed.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from twinviewer.core.project_commands import ROLES

FORMAT = "twinviewer-users"
WRONG = "user or password wrong"
MIN_PASSWORD = 8
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_hasher = PasswordHasher()
# verified against when the user is unknown, so that both cases cost one argon2 verification
_DUMMY = _hasher.hash("not a password of anyone")


class AuthError(Exception):
    """Signing in failed; the message is for the user (never says whether the name exists)."""


class UserFileError(ValueError):
    """The user file cannot be read or written, or a name, role or password is not acceptable."""


@dataclass(frozen=True)
class User:
    name: str
    role: str


class UserBook:
    """The users of one project. Every change is written to the file at once."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._users: dict[str, dict[str, str]] = {}
        self._mtime: float | None = None
        self._read()

    # -- the file ------------------------------------------------------------------------------
    def _read(self) -> None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._users, self._mtime = {}, None
            return
        if stat.st_mtime == self._mtime:
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise UserFileError(f"{self.path}: cannot read the user file: {exc}") from None
        users = data.get("users") if isinstance(data, dict) else None
        if data.get("format") != FORMAT or not isinstance(users, dict):
            raise UserFileError(f"{self.path}: not a TwinViewer user file (format {FORMAT!r})")
        for name, entry in users.items():
            if (
                not isinstance(entry, dict)
                or entry.get("role") not in ROLES
                or not str(entry.get("hash", "")).startswith("$argon2")
            ):
                raise UserFileError(
                    f"{self.path}: user {name!r}: expected a role ({', '.join(ROLES)}) and an "
                    "argon2 hash"
                )
        self._users = {n: {"role": e["role"], "hash": e["hash"]} for n, e in users.items()}
        self._mtime = stat.st_mtime

    def _write(self) -> None:
        data = {"format": FORMAT, "version": 1, "users": self._users}
        text = json.dumps(data, indent=2, sort_keys=True) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # mkstemp creates the file with mode 0600: no moment where others could read it
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        os.chmod(self.path, 0o600)
        self._mtime = self.path.stat().st_mtime

    # -- users ---------------------------------------------------------------------------------
    def list(self) -> list[User]:
        """Every user, by name."""
        self._read()
        return [User(n, e["role"]) for n, e in sorted(self._users.items())]

    def role_of(self, name: str) -> str | None:
        self._read()
        entry = self._users.get(name)
        return entry["role"] if entry else None

    def add(self, name: str, role: str, password: str, *, replace: bool = False) -> User:
        """Add a user (``replace``: or change an existing one's role and password)."""
        self._read()
        if not _NAME.fullmatch(name or ""):
            raise UserFileError(
                f"user name {name!r}: expected 1-64 letters, digits, '.', '_', '@' or '-', "
                "starting with a letter or digit"
            )
        if role not in ROLES:
            raise UserFileError(f"role {role!r}: expected one of {', '.join(ROLES)}")
        if len(password or "") < MIN_PASSWORD:
            raise UserFileError(f"the password must have at least {MIN_PASSWORD} characters")
        if name in self._users and not replace:
            raise UserFileError(f"user {name!r} exists already")
        self._users[name] = {"role": role, "hash": _hasher.hash(password)}
        self._write()
        return User(name, role)

    def remove(self, name: str) -> None:
        self._read()
        if name not in self._users:
            raise UserFileError(f"no user {name!r} in {self.path}")
        del self._users[name]
        self._write()

    def verify(self, name: str, password: str) -> str:
        """The user's role when the password is theirs; else :class:`AuthError` ("user or
        password wrong", whichever it was)."""
        self._read()
        entry = self._users.get(name)
        try:
            _hasher.verify(entry["hash"] if entry else _DUMMY, password or "")
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            raise AuthError(WRONG) from None
        if entry is None:
            raise AuthError(WRONG)
        if _hasher.check_needs_rehash(entry["hash"]):  # parameters raised since: re-hash
            entry["hash"] = _hasher.hash(password)
            self._write()
        return entry["role"]
