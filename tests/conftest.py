"""Hermetic tests: HOME and data dirs in a temp dir, API keys scrubbed, for every test; and the
real demo server (one per module) with a fresh working directory per test, for the suites that
need them (a folder's own ``server`` fixture overrides this one)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any
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


@pytest.fixture(autouse=True)
def events_keep_the_contract(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every event a server publishes in this process must be one of claude_agent_protocol's
    event models, with no field the model does not declare (an undocumented field is drift)."""
    from claude_agent_protocol import parse_event
    from claude_agent_server.sessions.events import EventLog

    broken: list[str] = []
    publish = EventLog.publish

    def checked(self: EventLog, event: Any) -> Any:
        wire = event.to_dict()
        try:
            model = parse_event(wire)
        except ValueError as error:  # pydantic.ValidationError
            broken.append(f"{event.type}: {error}")
        else:
            undeclared = set(wire) - set(type(model).model_fields)
            if undeclared:
                broken.append(f"{event.type}: fields the protocol does not declare: {sorted(undeclared)}")
        return publish(self, event)

    monkeypatch.setattr(EventLog, "publish", checked)
    yield
    assert not broken, "events outside the wire contract:\n" + "\n".join(dict.fromkeys(broken))
