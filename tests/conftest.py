"""Shared test fixtures: where the real test material lives, and an isolated settings folder."""

from __future__ import annotations

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
    """Qt settings (recent projects) go to a temporary folder, never the user's."""
    home = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
