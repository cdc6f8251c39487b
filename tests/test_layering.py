"""The layering of docs/ARCHITECTURE.md, checked mechanically.

The import rules are import-linter contracts in ``pyproject.toml`` (``[tool.importlinter]``);
this runs ``lint-imports`` so that a broken contract fails the suite. What import-linter cannot
express is checked here: no ``print`` in the library, the package root holds only the entry
points, and no module grows past the size where it asks to be split.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "twinviewer"
MAX_LINES = 900


def modules() -> list[Path]:
    found = sorted(PKG.rglob("*.py"))
    assert len(found) > 20
    return found


def test_import_contracts_hold() -> None:
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    done = subprocess.run(
        [exe, "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_package_root_holds_only_entry_points() -> None:
    loose = {p.name for p in PKG.glob("*.py")} - {"__init__.py", "__main__.py", "cli.py", "app.py"}
    assert not loose, f"put these in a sub-package: {sorted(loose)}"


def test_no_module_is_too_long_to_read() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in modules()
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"split these (> {MAX_LINES} lines): {long}"


def test_no_print_in_the_library() -> None:
    bad = []
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not bad, "print() in library code (use logging): " + ", ".join(bad)
