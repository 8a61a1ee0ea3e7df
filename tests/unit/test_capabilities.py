"""Capabilities a request may ask for: MCP servers against the allow-list, names, extra directories."""

from __future__ import annotations

from pathlib import Path

import pytest

from claude_agent_server.sessions import InvalidSessionRequest, SessionRequest
from claude_agent_server.sessions.capabilities import check, mcp_configs

CONFIGURED = {"files": {"type": "stdio", "command": "/opt/files", "env": {"TOKEN": "secret"}}, "web": {"type": "http", "url": "https://x"}}


def test_mcp_servers_need_the_allow_list_or_the_config(tmp_path: Path) -> None:
    allowed = SessionRequest(mcp_servers={"a": {"type": "stdio", "command": "uvx", "args": ["tool"]}, "b": {"config": "web"}})
    assert check(allowed, tmp_path, ["uvx"], CONFIGURED) is allowed
    for servers in ({"a": {"command": "/bin/sh"}}, {"a": {"command": "uvx", "env": {"LD_PRELOAD": "x"}}},
                    {"a": {"type": "http", "url": "http://169.254.169.254"}}, {"a": {"config": "nope"}}, {"bad name": {"config": "web"}}):
        with pytest.raises(InvalidSessionRequest):
            check(SessionRequest(mcp_servers=servers), tmp_path, ["uvx"], CONFIGURED)


def test_references_resolve_when_the_cli_starts() -> None:
    resolved = mcp_configs({"a": {"command": "uvx", "args": ["t"]}, "f": {"config": "files"}}, ["uvx"], CONFIGURED)
    assert resolved == {"a": {"type": "stdio", "command": "uvx", "args": ["t"]}, "f": CONFIGURED["files"]}


def test_add_dirs_stay_inside_the_workspace(tmp_path: Path) -> None:
    (tmp_path / "extra").mkdir()
    assert check(SessionRequest(add_dirs=["extra"]), tmp_path, [], {}).add_dirs == (str(tmp_path / "extra"),)
    with pytest.raises(InvalidSessionRequest, match="add_dirs"):
        check(SessionRequest(add_dirs=["/etc"]), tmp_path, [], {})
