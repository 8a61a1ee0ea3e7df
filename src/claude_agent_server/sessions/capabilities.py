"""Checking and resolving a session's capabilities: its MCP servers against the server's
allow-list and configured servers, its extra directories against the workspace.

A stdio MCP server runs a command on this host, and an SSE or HTTP one is a network
destination: a request may name only a command on the allow-list (``--mcp-allow``), without
an environment, or a server of the operator's ``--mcp-config`` file by its name. The spec
keeps what the request named (``{config: NAME}`` stays a reference, so no secret of the
configuration file is stored); :func:`mcp_configs` resolves it each time a CLI starts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import InvalidSessionRequest
from .request import SessionRequest
from .workspace import resolve_cwd

NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""An agent's or MCP server's name."""


def load_mcp_config(path: Path | None) -> dict[str, dict[str, Any]]:
    """The servers of an ``--mcp-config`` file: ``{"mcpServers": {name: config}}`` (Claude Code's
    ``.mcp.json`` shape) or ``{name: config}``; none without a file.

    Raises:
        ValueError: The file is not such JSON.
    """
    if path is None:
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    servers = data.get("mcpServers", data) if isinstance(data, dict) else None
    if not isinstance(servers, dict) or not all(isinstance(v, dict) for v in servers.values()):
        raise ValueError(f"{path}: expected {{\"mcpServers\": {{name: config}}}}")
    return {str(name): dict(config) for name, config in servers.items()}


def _allowed(command: str, allow: Sequence[str]) -> bool:
    return command in allow


def check_mcp(servers: Mapping[str, Mapping[str, Any]], allow: Sequence[str], configured: Mapping[str, Any]) -> None:
    """Refuse a server the operator has not allowed.

    Raises:
        InvalidSessionRequest: A stdio command off the allow-list, a stdio server with an
            environment, an inline SSE or HTTP server, or an unknown configured name.
    """
    for name, server in servers.items():
        if "config" in server:
            if server["config"] not in configured:
                raise InvalidSessionRequest(f"mcp_servers.{name}: no server {server['config']!r} in the server's --mcp-config")
            continue
        if server.get("type", "stdio") != "stdio":
            raise InvalidSessionRequest(f"mcp_servers.{name}: name a server of the server's --mcp-config for {server.get('type')} servers")
        if "env" in server:
            raise InvalidSessionRequest(f"mcp_servers.{name}: an environment comes only from the server's --mcp-config")
        command = str(server.get("command", ""))
        if not command or (not _allowed(command, allow) and command not in configured):
            raise InvalidSessionRequest(f"mcp_servers.{name}: command {command[:200]!r} is not on the server's --mcp-allow list")


def mcp_configs(servers: Mapping[str, Mapping[str, Any]] | None, allow: Sequence[str], configured: Mapping[str, Any]) -> dict[str, Any]:
    """The SDK's ``mcp_servers`` for a spec's servers (references replaced by their configuration).

    Raises:
        InvalidSessionRequest: A server is no longer allowed (the configuration changed).
    """
    if not servers:
        return {}
    check_mcp(servers, allow, configured)
    resolved: dict[str, Any] = {}
    for name, server in servers.items():
        if "config" in server:
            resolved[name] = dict(configured[server["config"]])
        else:
            resolved[name] = {"type": "stdio", "command": server["command"], "args": list(server.get("args") or [])}
    return resolved


def check(request: SessionRequest, workspace: Path, allow: Sequence[str], configured: Mapping[str, Any]) -> SessionRequest:
    """``request`` with its capabilities checked and its ``add_dirs`` resolved (absolute, inside the workspace).

    Raises:
        InvalidSessionRequest: A server is not allowed, or a directory lies outside the workspace.
    """
    for field, named in (("agents", request.agents), ("mcp_servers", request.mcp_servers)):
        for name in named or {}:
            if not NAME.fullmatch(name):
                raise InvalidSessionRequest(f"{field}: the name {name[:100]!r} must be 1 to 64 letters, digits, '_' or '-'")
    if request.mcp_servers:
        check_mcp(request.mcp_servers, allow, configured)
    if not request.add_dirs:
        return request
    dirs = []
    for directory in request.add_dirs:
        try:
            dirs.append(str(resolve_cwd(workspace, directory)))
        except InvalidSessionRequest as exc:
            raise InvalidSessionRequest(f"add_dirs: {exc.detail.removeprefix('cwd ')}") from None
    return request.model_copy(update={"add_dirs": tuple(dirs)})
