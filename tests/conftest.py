"""Hermetic tests: HOME and data dirs in a temp dir, API keys scrubbed, for every test; and the
real demo server (one per module) with a fresh working directory per test, for the suites that
need them (a folder's own ``server`` fixture overrides this one)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from servers import SCRUBBED_PREFIXES, ServerProcess, running_server


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


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One demo server (real CLI, scripted model) per test module."""
    with running_server(tmp_path_factory.mktemp("server"), "--demo") as live:
        yield live


@pytest.fixture
def workdir(server: ServerProcess, request: pytest.FixtureRequest) -> Path:
    """A fresh directory inside the server's workspace for one test."""
    path = server.workspace / re.sub(r"\W", "_", request.node.name)
    path.mkdir()
    return path
