"""The Python package as users get it: the sdist builds a wheel that carries exactly the demo
twins in git (and no third-party data), and that wheel, installed in a fresh virtual
environment outside the checkout, renders a demo from another folder without writing a byte
into the installation (issue 17's acceptance)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from twinviewer import __version__

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"


def _git_files(*paths: str) -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", *paths], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if out.returncode != 0 or not out.stdout:
        pytest.skip("not a git checkout: the files in git are unknown")
    return out.stdout.split()


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel built from it, as ``python -m build`` makes them."""
    out = tmp_path_factory.mktemp("dist")
    src = tmp_path_factory.mktemp("src") / "twinviewer"
    # from a copy of the files in git: what a clean checkout holds, nothing a run left behind
    for name in _git_files():
        if (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    build = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(src)],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    return out


def _wheel(dist: Path) -> Path:
    (wheel,) = dist.glob("twinviewer-*.whl")
    return wheel


def test_the_wheel_carries_exactly_the_demo_files_in_git(dist: Path) -> None:
    names = set(zipfile.ZipFile(_wheel(dist)).namelist())
    shipped = {n.removeprefix("twinviewer/demos/") for n in names if "/demos/" in n}
    in_git = {n.removeprefix("assets/") for n in _git_files("assets")}
    assert shipped == in_git, f"missing {in_git - shipped}, extra {shipped - in_git}"
    modules = {n for n in names if n.startswith("twinviewer/") and "/demos/" not in n}
    assert modules == set(_git_files("twinviewer")) - {"twinviewer/demos"}
    licences = {Path(n).name for n in names if ".dist-info/licenses/" in n}
    assert {"LICENSE", "DATA-LICENSES.md"} <= licences


def test_the_sdist_builds_the_wheel_and_ships_the_sources(dist: Path) -> None:
    (sdist,) = dist.glob("twinviewer-*.tar.gz")
    import tarfile

    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    assert {"pyproject.toml", "setup.py", "LICENSE", "assets/mine/mine.glb"} <= names
    assert _wheel(dist).name == f"twinviewer-{__version__}-py3-none-any.whl"


def test_no_third_party_test_data_ships(dist: Path) -> None:
    """The corpus (some of it GPL-3.0) is for tests only: no file of it is in the wheel."""
    if not CORPUS.is_dir():
        pytest.skip(f"test corpus not found at {CORPUS}")
    corpus = {
        hashlib.sha256(p.read_bytes()).hexdigest(): p for p in CORPUS.rglob("*") if p.is_file()
    }
    with zipfile.ZipFile(_wheel(dist)) as whl:
        for name in whl.namelist():
            digest = hashlib.sha256(whl.read(name)).hexdigest()
            assert digest not in corpus or whl.getinfo(name).file_size == 0, (
                f"{name} is the corpus file {corpus[digest]}"
            )


def _listing(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file() or p.is_symlink()
    }


def _not_blank(png: Path) -> None:
    from PIL import Image

    rgb = np.asarray(Image.open(png).convert("RGB")).reshape(-1, 3)
    colours = np.unique(rgb, axis=0)
    background = np.all(rgb == rgb[0], axis=1).mean()
    assert len(colours) > 200 and background < 0.9, (len(colours), background)


def test_installed_wheel_renders_a_demo_from_another_folder(dist: Path, tmp_path: Path) -> None:
    """``pip install twinviewer-*.whl`` into a fresh venv, then ``twinviewer demo mine --render``
    from an unrelated folder: a picture of the twin, the demo copied into the user's data
    folder, and nothing written into the installation (a recording lands in the copy)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(_wheel(dist))],
        capture_output=True,
        text=True,
    )
    assert pip.returncode == 0, pip.stdout[-3000:] + pip.stderr[-3000:]
    before = _listing(venv)
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}

    def twinviewer(*args: str) -> None:  # the installed program, from the unrelated folder
        run = subprocess.run(
            [str(venv / "bin" / "twinviewer"), *args],
            cwd=elsewhere,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert run.returncode == 0, f"twinviewer {' '.join(args)}: {run.stderr[-3000:]}"

    twinviewer("demo", "mine", "--render", "out.png", "--after", "2", "--size", "800x500")
    _not_blank(elsewhere / "out.png")
    demos = home / ".local" / "share" / "TwinViewer" / "demos"
    assert (demos / ".twinviewer-version").read_text() == __version__
    project = demos / "mine" / "mine.twin.yaml"
    twinviewer("record", str(project), "--duration", "2")
    assert any((demos / "mine" / "mine.history").iterdir())
    after = _listing(venv)
    changed = sorted(k for k in after.keys() | before.keys() if after.get(k) != before.get(k))
    assert not changed, f"written into the installation: {changed[:20]}"
    assert not any(venv.rglob("*.history"))
