"""End-to-end fixtures: a real server in demo mode; sessions drive the real Claude Code CLI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from servers import ServerProcess, running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One demo server per test module (a short permission timeout for the timeout test)."""
    with running_server(tmp_path_factory.mktemp("server"), "--demo", env={"AGENT_SERVER_PERMISSION_TIMEOUT": "3"}) as live:
        yield live


@pytest.fixture
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client



@pytest.fixture
def session(http: httpx.Client, workdir: Path) -> Iterator[str]:
    """A new session in ``workdir``; closed afterwards if still live."""
    reply = http.post("/sessions", json={"cwd": str(workdir)})
    assert reply.status_code == 201, reply.text
    session_id = reply.json()["session_id"]
    yield session_id
    http.delete(f"/sessions/{session_id}")
