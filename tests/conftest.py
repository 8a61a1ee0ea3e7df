"""Hermetic tests: HOME and data dirs in a temp dir, API keys scrubbed, for every test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from servers import SCRUBBED_PREFIXES


@pytest.fixture(autouse=True)
def hermetic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point HOME at a temp dir and remove keys and settings inherited from the developer."""
    for name in list(os.environ):
        if name.startswith(SCRUBBED_PREFIXES):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local/share"))
    return home
