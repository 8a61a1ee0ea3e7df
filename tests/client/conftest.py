"""Client fixtures: a real demo server per module and a client driven in a real pseudo-terminal."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from client.client_pty import Terminal
from servers import ServerProcess, running_server

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


@pytest.fixture
def terminal(tmp_path: Path, hermetic: Path) -> Iterator[Callable[..., Terminal]]:
    """Factory: ``terminal(*args)`` starts the client in a pty; all are closed afterwards."""
    started: list[Terminal] = []

    def start(*args: str) -> Terminal:
        term = Terminal(list(args), hermetic, tmp_path / f"pty-{len(started)}.log")
        started.append(term)
        return term

    yield start
    for term in started:
        term.close()
