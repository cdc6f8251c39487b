"""The Linux desktop integration (packaging/linux/share, packaging/install-desktop.sh).

The desktop entry and the AppStream metainfo pass the freedesktop tools' validators; the MIME
package, the entry's MimeType and the Open dialog's filters name the same types as
:mod:`twinviewer.session.file_types`, which covers every suffix the readers claim; the install
script puts the files in a user's data folder, points the entry at the program, registers the
types with the MIME database and removes exactly what it installed.
"""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from twinviewer.formats.registry import supported_suffixes
from twinviewer.session.file_types import (
    APP_ID,
    FILE_TYPES,
    PROJECT_MIME_TYPE,
    file_type_of,
    mime_types,
    open_dialog_filters,
    opened_suffixes,
)
from twinviewer.sim import result_suffixes

ROOT = Path(__file__).resolve().parents[1]
SHARE = ROOT / "packaging" / "linux" / "share"
SCRIPT = ROOT / "packaging" / "install-desktop.sh"
DESKTOP = SHARE / "applications" / f"{APP_ID}.desktop"
MIME_XML = SHARE / "mime" / "packages" / f"{APP_ID}.xml"
METAINFO = SHARE / "metainfo" / f"{APP_ID}.metainfo.xml"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
INSTALLED = [
    f"applications/{APP_ID}.desktop",
    f"mime/packages/{APP_ID}.xml",
    f"metainfo/{APP_ID}.metainfo.xml",
    f"icons/hicolor/scalable/apps/{APP_ID}.svg",
    *(f"icons/hicolor/{s}x{s}/apps/{APP_ID}.png" for s in SIZES),
]
MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"
FREEDESKTOP_XML = Path("/usr/share/mime/packages/freedesktop.org.xml")


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (packaging/install-debian.sh installs it)")
    return path


def desktop_entry(path: Path = DESKTOP) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def desktop_mime_types(path: Path = DESKTOP) -> list[str]:
    return [m for m in desktop_entry(path)["MimeType"].split(";") if m]


def our_mime_package() -> dict[str, list[str]]:
    """The MIME types our package defines, with their globs."""
    root = ET.parse(MIME_XML).getroot()
    return {
        t.get("type", ""): [g.get("pattern", "") for g in t.findall(f"{MIME_NS}glob")]
        for t in root.findall(f"{MIME_NS}mime-type")
    }


# -- the table covers the app, and the files declare the table --------------------------------


def test_every_opened_suffix_has_one_file_type() -> None:
    claimed = [*supported_suffixes(), *result_suffixes()]
    assert claimed, "no readers registered"
    for suffix in [".twin.yaml", *claimed]:
        assert file_type_of(suffix) is not None, f"{suffix} has no MIME type in file_types"
    all_suffixes = [s for t in FILE_TYPES for s in t.suffixes]
    assert len(all_suffixes) == len(set(all_suffixes)), "a suffix in two types"
    # and no type claims a suffix the app does not open
    assert set(all_suffixes) == set(opened_suffixes())


def test_desktop_entry_lists_every_type_the_app_opens() -> None:
    assert desktop_mime_types() == mime_types()
    assert desktop_mime_types()[0] == PROJECT_MIME_TYPE


def test_mime_package_defines_our_types_with_the_table_globs() -> None:
    package = our_mime_package()
    ours = {t.mime_type: list(t.globs) for t in FILE_TYPES if not t.standard}
    assert package == ours


@pytest.mark.skipif(not FREEDESKTOP_XML.exists(), reason="shared-mime-info is not installed")
def test_standard_types_are_freedesktop_types_with_our_globs() -> None:
    root = ET.parse(FREEDESKTOP_XML).getroot()
    standard = {
        t.get("type"): {g.get("pattern") for g in t.findall(f"{MIME_NS}glob")}
        for t in root.findall(f"{MIME_NS}mime-type")
    }
    for t in FILE_TYPES:
        if t.standard:
            assert t.mime_type in standard, f"{t.mime_type} is not in freedesktop.org.xml"
            assert set(t.globs) <= standard[t.mime_type], t.mime_type
        else:
            assert t.mime_type not in standard, f"{t.mime_type}: reuse the standard type"


def test_open_dialog_filters_by_the_same_globs() -> None:
    everything, models, results, all_files = open_dialog_filters()
    assert all_files == "All files (*)"

    def globs(name_filter: str) -> set[str]:
        return set(name_filter[name_filter.index("(") + 1 : name_filter.rindex(")")].split())

    assert globs(everything) == globs(models) | globs(results)
    assert "*.twin.yaml" in globs(models)
    for t in FILE_TYPES:
        for suffix in t.suffixes:
            if suffix == ".series":  # a series is NAME.vtu.series
                assert "*.*.series" in globs(results)
            elif suffix in supported_suffixes() or suffix == ".twin.yaml":
                assert f"*{suffix}" in globs(models), suffix
            else:
                assert f"*{suffix}" in globs(results), suffix
    assert "controlDict" in globs(results)  # an OpenFOAM case by its controlDict


def test_icons_are_rendered_from_the_package_master() -> None:
    master = ROOT / "twinviewer" / "ui" / "icons" / "twinviewer.svg"
    scalable = SHARE / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"
    assert scalable.read_bytes() == master.read_bytes(), "run packaging/linux/make_icons.py"
    for size in SIZES:
        png = SHARE / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        header = png.read_bytes()[:24]
        assert header[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")
        assert (width, height) == (size, size), png


def test_share_tree_holds_exactly_the_installed_files() -> None:
    """The bundle copies packaging/linux/share as its share/: nothing more, nothing less."""
    files = sorted(str(p.relative_to(SHARE)) for p in SHARE.rglob("*") if p.is_file())
    assert files == sorted(INSTALLED)


# -- the freedesktop validators ----------------------------------------------------------------


def test_desktop_entry_validates() -> None:
    validate = tool("desktop-file-validate")
    done = subprocess.run([validate, str(DESKTOP)], capture_output=True, text=True)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr
    entry = desktop_entry()
    assert entry["Exec"] == "twinviewer open %f"  # `twinviewer open` with no file: start page
    assert entry["Icon"] == APP_ID
    assert entry["StartupWMClass"] == "TwinViewer"  # QApplication.applicationName on X11


def test_metainfo_validates() -> None:
    # --no-net: the homepage and the screenshots' URLs are not fetched (no network in CI)
    appstreamcli = tool("appstreamcli")
    done = subprocess.run(
        [appstreamcli, "validate", "--no-net", "--pedantic", str(METAINFO)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # no errors and no warnings; infos and pedantic hints are allowed (e.g. the upper-case
    # letters of the reverse-DNS id, a tag only newer AppStream versions know)
    issues = [line for line in done.stdout.splitlines() if line.startswith(("E:", "W:"))]
    assert not issues, done.stdout
    root = ET.parse(METAINFO).getroot()
    assert root.findtext("id") == APP_ID
    assert root.findtext("launchable") == f"{APP_ID}.desktop"
    assert [m.text for m in root.iter("mediatype")] == mime_types()


def test_metainfo_screenshots_exist_in_the_repository() -> None:
    root = ET.parse(METAINFO).getroot()
    images = [i.text or "" for i in root.iter("image")]
    assert images
    for url in images:
        assert url.startswith("https://raw.githubusercontent.com/twinviewer/twinviewer/main/")
        local = ROOT / url.split("/main/", 1)[1]
        assert local.is_file(), f"{url}: no {local.relative_to(ROOT)} in the repository"


# -- install-desktop.sh -----------------------------------------------------------------------


def run_script(home: Path, *args: str, data: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env["HOME"] = str(home)
    if data is not None:
        env["XDG_DATA_HOME"] = str(data)
    return subprocess.run(
        ["bash", str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=60
    )


def fake_program(tmp_path: Path, folder: str = "bin") -> Path:
    program = tmp_path / folder / "twinviewer"
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\nexit 0\n")
    program.chmod(0o755)
    return program


def glob_types(mime_dir: Path) -> dict[str, set[str]]:
    """globs2 of a MIME database: pattern -> the types it names."""
    found: dict[str, set[str]] = {}
    for line in (mime_dir / "globs2").read_text().splitlines():
        if line and not line.startswith("#"):
            _weight, mime_type, pattern = line.split(":")[:3]
            found.setdefault(pattern, set()).add(mime_type)
    return found


def test_install_then_uninstall(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    program = fake_program(tmp_path, "my tools")  # a space: the Exec value is quoted
    done = run_script(home, "--exec", str(program))
    assert done.returncode == 0, done.stderr
    data = home / ".local" / "share"
    for name in INSTALLED:
        assert (data / name).is_file(), name
        if not name.startswith("applications/"):
            assert (data / name).read_bytes() == (SHARE / name).read_bytes(), name

    entry = desktop_entry(data / "applications" / f"{APP_ID}.desktop")
    assert entry["Exec"] == f'"{program}" open %f'
    assert entry["TryExec"] == str(program)
    assert desktop_mime_types(data / "applications" / f"{APP_ID}.desktop") == mime_types()
    if shutil.which("desktop-file-validate"):
        done = subprocess.run(
            ["desktop-file-validate", str(data / "applications" / f"{APP_ID}.desktop")],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0 and not done.stdout.strip(), done.stdout

    if shutil.which("update-mime-database"):
        globs = glob_types(data / "mime")
        assert globs["*.twin.yaml"] == {PROJECT_MIME_TYPE}
        weights = (data / "mime" / "globs2").read_text()
        assert f"80:{PROJECT_MIME_TYPE}:*.twin.yaml" in weights  # above YAML's *.yaml (50)
        for t in FILE_TYPES:
            if not t.standard:
                for g in t.globs:
                    assert t.mime_type in globs[g], g
    if shutil.which("update-desktop-database"):
        cache = (data / "applications" / "mimeinfo.cache").read_text()
        assert f"{PROJECT_MIME_TYPE}={APP_ID}.desktop;" in cache

    again = run_script(home, "--exec", str(program))  # idempotent
    assert again.returncode == 0, again.stderr
    assert desktop_entry(data / "applications" / f"{APP_ID}.desktop")["Exec"] == (
        f'"{program}" open %f'
    )

    # something of the user's own stays where it was
    (data / "applications" / "mine.desktop").write_text("[Desktop Entry]\nType=Application\n")
    done = run_script(home, "--uninstall")
    assert done.returncode == 0, done.stderr
    left = sorted(str(p.relative_to(data)) for p in data.rglob("*"))
    assert not [p for p in left if APP_ID in p or "twinviewer" in p], left
    assert (data / "applications" / "mine.desktop").is_file()
    left_cache = data / "applications" / "mimeinfo.cache"
    assert not left_cache.exists() or APP_ID not in left_cache.read_text()
    assert not (data / "mime").exists()  # the MIME database held only our package
    assert not (data / "icons").exists() and not (data / "metainfo").exists()
    again = run_script(home, "--uninstall")  # nothing left to remove: still fine
    assert again.returncode == 0, again.stderr


def test_install_from_the_bundle_layout(tmp_path: Path) -> None:
    """In the unpacked bundle the script finds twinviewer and share/ beside itself, and
    XDG_DATA_HOME is where it installs."""
    bundle = tmp_path / "TwinViewer-0.1.0-linux-x86_64"
    program = fake_program(tmp_path, bundle.name)
    shutil.copy(SCRIPT, bundle / "install-desktop.sh")
    shutil.copytree(SHARE, bundle / "share")
    data = tmp_path / "xdg-data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env.update(HOME=str(tmp_path / "home"), XDG_DATA_HOME=str(data))
    done = subprocess.run(
        ["bash", str(bundle / "install-desktop.sh")], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    entry = desktop_entry(data / "applications" / f"{APP_ID}.desktop")
    assert entry["Exec"] == f"{program} open %f"
    assert not (tmp_path / "home").exists()  # XDG_DATA_HOME, not ~/.local/share


def test_install_errors(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    done = run_script(home, "--exec", str(tmp_path / "missing" / "twinviewer"))
    assert done.returncode != 0
    assert "is not an executable file" in done.stderr
    done = run_script(home, "--bogus")
    assert done.returncode != 0 and "unknown option" in done.stderr
    assert not (home / ".local").exists()
    # with no bundle program beside it and none on PATH, it says what to do
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin"}
    if shutil.which("twinviewer", path=env["PATH"]) is None:
        done = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, env=env)
        assert done.returncode != 0 and "--exec PATH" in done.stderr
    done = run_script(home, "--help")
    assert done.returncode == 0 and "--uninstall" in done.stdout


# -- the window ---------------------------------------------------------------------------------


@pytest.mark.gui
def test_open_dialog_and_window_identity(window, monkeypatch) -> None:
    """The Open dialog offers the file types' filters; the app names its desktop entry (the
    Wayland app id) and has the icon the desktop shows."""
    from PySide6.QtWidgets import QApplication, QFileDialog

    asked: list[str] = []

    def answer(_parent, _title, _folder, filters, *_rest, **_kw):
        asked.append(filters)
        return "", ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", answer)
    window.action("file.open").trigger()
    assert asked == [";;".join(open_dialog_filters())]

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    assert app.desktopFileName() == APP_ID
    assert app.applicationName() == desktop_entry()["StartupWMClass"]
    assert not app.windowIcon().isNull()
    assert not app.windowIcon().pixmap(64, 64).isNull()  # the SVG renders (Qt's SVG plugin)


# -- the command the entry runs -----------------------------------------------------------------


def test_open_without_a_file_shows_the_start_page(monkeypatch) -> None:
    """The entry runs ``twinviewer open %f``: from the menu %f is empty, and ``twinviewer open``
    alone opens the start page, as ``twinviewer`` does."""
    import twinviewer.app
    from twinviewer.cli import main

    calls: list[dict] = []

    def run_app(**kw: object) -> int:
        calls.append(kw)
        return 0

    monkeypatch.setattr(twinviewer.app, "run_app", run_app)
    assert main(["open"]) == 0
    assert main([]) == 0
    assert calls == [{}, {}]
