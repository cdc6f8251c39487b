"""The self-contained bundle's recipe, checked fast (the real build takes minutes: run
``packaging/build-bundle.sh``): the PyInstaller spec and its entry script, the build scripts'
syntax and command lines, the smoke tests' blank-picture check, and the CI workflow for
Windows and macOS (which has never run, and says so)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from twinviewer import __version__

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"
SPEC = PACKAGING / "twinviewer.spec"
SCRIPTS = [PACKAGING / "build-bundle.sh", PACKAGING / "build-deb.sh"]


def _calls(tree: ast.AST, name: str) -> list[ast.Call]:
    return [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == name
    ]


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def test_spec_freezes_the_entry_script_with_the_package_data() -> None:
    tree = ast.parse(SPEC.read_text(), filename=str(SPEC))
    source = SPEC.read_text()
    # one Analysis of the entry script, which exists
    (analysis,) = _calls(tree, "Analysis")
    assert "twinviewer_entry.py" in ast.unparse(analysis.args[0])
    assert (PACKAGING / "twinviewer_entry.py").is_file()
    # the package data (demos, icons) is collected for the twinviewer package itself, so that
    # it lands at _internal/twinviewer/... where twinviewer.session.demos looks for it
    data = [
        c for c in _calls(tree, "collect_data_files") if ast.literal_eval(c.args[0]) == "twinviewer"
    ]
    assert data, "the spec does not collect twinviewer's package data"
    # every sub-module (the command line imports its work lazily) and the OPC UA stack
    assert any(
        ast.literal_eval(c.args[0]) == "twinviewer" for c in _calls(tree, "collect_submodules")
    )
    assert '"asyncua"' in source and '"cryptography"' in source
    # no UPX anywhere, one console executable named twinviewer, a macOS app
    for call in _calls(tree, "EXE") + _calls(tree, "COLLECT"):
        upx = _keyword(call, "upx")
        assert upx is None or ast.literal_eval(upx) is False
    assert "upx=False" in source
    names = [ast.literal_eval(_keyword(c, "name")) for c in _calls(tree, "EXE")]  # type: ignore[arg-type]
    assert names == ["twinviewer", "twinviewer-gui"]
    assert _calls(tree, "BUNDLE"), "no macOS .app step"
    # portable: no path of a build machine
    for fixed in ("/usr/", "/work/", "/root/", "C:\\\\", "site-packages"):
        assert fixed not in source, f"the spec hard-codes {fixed!r}"


def test_entry_script_runs_the_command_line() -> None:
    out = subprocess.run(
        [sys.executable, str(PACKAGING / "twinviewer_entry.py"), "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"twinviewer {__version__}"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_build_scripts_parse_and_explain_themselves(script: Path) -> None:
    assert subprocess.run(["bash", "-n", str(script)], check=False).returncode == 0
    helped = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=False)
    assert helped.returncode == 0 and "Usage:" in helped.stdout
    wrong = subprocess.run(
        [str(script), "--no-such-option"], capture_output=True, text=True, check=False
    )
    assert wrong.returncode != 0
    assert "unknown option '--no-such-option'" in wrong.stderr


def test_build_bundle_help_names_its_options() -> None:
    out = subprocess.run(
        [str(PACKAGING / "build-bundle.sh"), "--help"], capture_output=True, text=True, check=True
    )
    for option in ("--keep-venv", "--skip-smoke", "--deb", "--python"):
        assert option in out.stdout


def test_build_deb_refuses_a_folder_that_is_no_bundle(tmp_path: Path) -> None:
    out = subprocess.run(
        [str(PACKAGING / "build-deb.sh"), "--bundle", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode != 0
    assert f"{tmp_path} is not a TwinViewer bundle" in out.stderr
    assert "build-bundle.sh" in out.stderr


def test_smoke_check_tells_a_blank_picture_from_a_render(tmp_path: Path) -> None:
    blank = tmp_path / "blank.png"
    Image.new("RGB", (64, 48), (30, 30, 30)).save(blank)
    varied = tmp_path / "varied.png"
    ramp = np.linspace(0, 255, 64 * 48 * 3).astype(np.uint8).reshape(48, 64, 3)
    Image.fromarray(ramp).save(varied)
    smoke = [sys.executable, str(PACKAGING / "smoke_png.py"), "check"]
    bad = subprocess.run([*smoke, str(blank)], capture_output=True, text=True, check=False)
    assert bad.returncode == 1 and "looks blank (1 colours" in bad.stderr
    good = subprocess.run([*smoke, str(varied)], capture_output=True, text=True, check=False)
    assert good.returncode == 0, good.stderr
    missing = subprocess.run(
        [*smoke, str(tmp_path / "none.png")], capture_output=True, text=True, check=False
    )
    assert missing.returncode == 1 and "no such file" in missing.stderr


def test_ci_workflow_builds_on_three_systems_and_admits_it_never_ran() -> None:
    path = ROOT / ".github" / "workflows" / "bundle.yml"
    text = path.read_text()
    workflow = yaml.safe_load(text)
    job = workflow["jobs"]["bundle"]
    systems = {entry["os"] for entry in job["strategy"]["matrix"]["include"]}
    assert {"windows-latest", "ubuntu-22.04"} <= systems
    assert any(s.startswith("macos") for s in systems)
    runs = "\n".join(step.get("run", "") for step in job["steps"])
    assert "packaging/twinviewer.spec" in runs
    assert "demo mine --render" in runs and " check " in runs
    assert "THIS WORKFLOW HAS NEVER RUN" in text.split("\nname:")[0]
