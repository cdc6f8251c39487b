"""Shared test fixtures: where the real test material lives, and an isolated settings folder."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
ASSETS = ROOT / "assets"

needs_corpus = pytest.mark.skipif(
    not CORPUS.is_dir(), reason=f"test corpus not found at {CORPUS} (clone beside ../shared)"
)


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"test corpus not found at {CORPUS}")
    return CORPUS


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Qt settings (recent projects) and the user's data (copies of installed demos) go to
    temporary folders, never the user's."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data")))


# -- the workbench window with a small real model (GUI tests) ------------------------------

BUILDING_PROJECT = """\
name: Three-storey building
models: [{model}]
components:
  floors: {{glob: "floor_*"}}
sensors:
  - {{id: F0_T, quantity: temperature, unit: degC, component: floor_0, range: [0, 100],
      warning: {{high: 60}}, alarm: {{high: 80}}, stale_after: 3600}}
  - {{id: F1_T, quantity: temperature, unit: degC, component: floor_1, range: [0, 100],
      warning: {{high: 60}}, alarm: {{high: 80}}, stale_after: 0.5}}
  - {{id: F2_CO, quantity: co, unit: ppm, component: floor_2, range: [0, 50],
      alarm: {{high: 35}}}}
views:
  - {{name: Front, position: [5, -150, 5], focal_point: [5, -30, 5], up: [0, 0, 1]}}
"""


@pytest.fixture
def building(corpus: Path, tmp_path: Path) -> Path:
    model = corpus / "meshes" / "gltf" / "no_indices_3storybuilding.glb"
    path = tmp_path / "building.twin.yaml"
    path.write_text(BUILDING_PROJECT.format(model=model))
    return path


@pytest.fixture
def window(qtbot):
    from twinviewer.ui.application import create_app
    from twinviewer.ui.main_window import QtMainWindow

    create_app()
    w = QtMainWindow()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()


# -- a real PostgreSQL server (history backend tests) ----------------------------------------


def _need_pg_binaries() -> None:
    """Skip where PostgreSQL is not installed, except on CI (``CI`` set), where `.ci/run`
    installs it: there fail."""
    from twinviewer.history import pg_local

    if pg_local.find_bindir() is None:
        msg = "no PostgreSQL server binaries (apt-get install postgresql)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)


@pytest.fixture(scope="session")
def pg_server():
    """A throw-away PostgreSQL server for the whole session; its URL. Skipped where PostgreSQL
    is not installed, except on CI (``CI`` set), where `.ci/run` installs it: there it fails."""
    from twinviewer.history import pg_local

    _need_pg_binaries()
    server = pg_local.LocalPostgres().start()
    try:
        yield server.url
    finally:
        server.stop()


def pg_schema_url(base: str) -> str:
    """The server's URL with a fresh schema of its own."""
    return f"{base}?schema=t_{uuid.uuid4().hex[:12]}"


def drop_pg_schema(url: str) -> None:
    import psycopg
    from psycopg import sql

    from twinviewer.history.postgres import split_url

    conninfo, schema = split_url(url)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def pg_url(pg_server: str):
    """A fresh schema of its own for each test."""
    pytest.importorskip("psycopg", reason="psycopg 3 is not installed (the postgres extra)")
    url = pg_schema_url(pg_server)
    yield url
    drop_pg_schema(url)


@pytest.fixture(scope="module")
def own_pg():
    """A PostgreSQL server of the test module's own, that its tests may stop and start again
    (tests/pg_restartable.py); never the session-wide ``pg_server``."""
    from tests.pg_restartable import RestartablePostgres

    _need_pg_binaries()
    server = RestartablePostgres().start()
    yield server
    server.close()
