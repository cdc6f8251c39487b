"""The local user file: argon2 hashes only, atomic 0600 writes, one message for every failure."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from twinviewer.core.users import WRONG, AuthError, UserBook, UserFileError

PASSWORD = "correct horse battery"


def test_add_verify_list_remove(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    book = UserBook(path)
    book.add("alice", "operator", PASSWORD)
    book.add("bob", "engineer", "another-long-one")
    assert [(u.name, u.role) for u in book.list()] == [("alice", "operator"), ("bob", "engineer")]
    assert UserBook(path).verify("alice", PASSWORD) == "operator"  # read back from the file
    book.remove("bob")
    assert [u.name for u in UserBook(path).list()] == ["alice"]
    with pytest.raises(UserFileError, match="no user 'bob'"):
        book.remove("bob")


def test_the_file_holds_no_clear_password_and_is_private(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    UserBook(path).add("alice", "operator", PASSWORD)
    text = path.read_text()
    assert PASSWORD not in text and "horse" not in text
    entry = json.loads(text)["users"]["alice"]
    assert entry["hash"].startswith("$argon2id$")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name != "users.json"]  # no temporary left


def test_wrong_password_and_unknown_user_say_the_same(tmp_path: Path) -> None:
    book = UserBook(tmp_path / "users.json")
    book.add("alice", "operator", PASSWORD)
    with pytest.raises(AuthError) as wrong:
        book.verify("alice", "not the password")
    with pytest.raises(AuthError) as unknown:
        book.verify("mallory", PASSWORD)
    assert str(wrong.value) == str(unknown.value) == WRONG


def test_bad_names_roles_passwords_and_files(tmp_path: Path) -> None:
    book = UserBook(tmp_path / "users.json")
    with pytest.raises(UserFileError, match="role 'admin'"):
        book.add("alice", "admin", PASSWORD)
    with pytest.raises(UserFileError, match="at least 8 characters"):
        book.add("alice", "operator", "short")
    with pytest.raises(UserFileError, match="user name"):
        book.add("al ice", "operator", PASSWORD)
    book.add("alice", "operator", PASSWORD)
    with pytest.raises(UserFileError, match="exists already"):
        book.add("alice", "engineer", PASSWORD)
    book.add("alice", "engineer", "a new password", replace=True)
    assert book.verify("alice", "a new password") == "engineer"
    broken = tmp_path / "broken.json"
    broken.write_text('{"users": {"x": {"role": "operator", "hash": "plain"}}}')
    with pytest.raises(UserFileError, match="not a TwinViewer user file"):
        UserBook(broken)
