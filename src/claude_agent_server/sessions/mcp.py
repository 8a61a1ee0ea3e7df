"""A session's MCP servers at run time: status, reconnect, enable or disable (the SDK's
``get_mcp_status``, ``reconnect_mcp_server``, ``toggle_mcp_server``). A part of
:class:`~.session.Session`; each call wakes the session."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from .errors import CommandRejected

HIDDEN = ("env", "headers")
"""Configuration keys never shown (they may hold the operator's secrets)."""


class McpControl:
    """The MCP part of a session."""

    if TYPE_CHECKING:  # the session's own

        def _use(self) -> contextlib.AbstractAsyncContextManager[None]: ...
        async def _call(self, name: str, operation: Any) -> Any: ...

    async def mcp_status(self) -> list[dict[str, Any]]:
        """``[{name, status, error?, tools, config}]`` as the CLI reports them (secrets left out)."""
        async with self._use():
            found = await self._call("mcp_status", lambda client: client.get_mcp_status())
        servers = []
        for server in (found or {}).get("mcpServers", []):
            config = server.get("config")
            servers.append({
                "name": server.get("name", ""),
                "status": server.get("status", "unknown"),
                "error": server.get("error"),
                "tools": list(server.get("tools") or []),
                "config": {k: v for k, v in config.items() if k not in HIDDEN} if isinstance(config, dict) else None,
            })
        return servers

    async def mcp_reconnect(self, name: str) -> None:
        """Reconnect the server ``name``.

        Raises:
            CommandRejected: The CLI knows no such server or could not reconnect it.
        """
        await self._mcp_known(name)
        async with self._use():
            await self._call("mcp_reconnect", lambda client: client.reconnect_mcp_server(name))

    async def mcp_toggle(self, name: str, enabled: bool) -> None:
        """Enable or disable the server ``name`` (its tools come and go with it).

        Raises:
            CommandRejected: The CLI knows no such server.
        """
        await self._mcp_known(name)
        async with self._use():
            await self._call("mcp_toggle", lambda client: client.toggle_mcp_server(name, enabled))

    async def _mcp_known(self, name: str) -> None:
        if name not in {s["name"] for s in await self.mcp_status()}:
            raise CommandRejected("mcp", f"no MCP server {name[:100]!r} in this session")
