"""What the session layer needs of the server's settings (:class:`ManagerConfig`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .options import ModelRoute, SessionSpec
from .sandbox import Sandbox


@dataclass(slots=True)
class ManagerConfig:
    """The parts of the server settings the session layer needs."""

    workspace: Path
    permission_timeout: float = 300.0
    """Seconds a live permission request waits; 0: until answered."""
    parked_permission_timeout: float = 0.0
    """Seconds a parked permission request (its CLI stopped) waits; 0: until answered."""
    max_live_sessions: int = 32
    idle_timeout: float = 0.0
    """Seconds a session may sit idle (no turn, no pending permission) before it is hibernated; 0: never."""
    dormant_after: float = 300.0
    """Seconds a hibernated session nothing uses stays loaded after its last use (see :mod:`.dormancy`)."""
    event_buffer_size: int = 2000
    event_buffer_bytes: int = 8 * 1024 * 1024
    """Bytes of events kept in memory per session (older ones replay from the registry)."""
    default_model: str | None = None
    default_permission_mode: str = "default"
    cli_path: Path | None = None
    route_for: Callable[[SessionSpec, str], ModelRoute | None] = field(default=lambda spec, model_key: None)
    """``route_for(spec, model_key)``: where a session's CLI sends model requests (the demo
    model, the proxy, or None: as configured), and with which key."""
    retry_after: int = 5
    """Seconds a client is told to wait when every live session is busy."""
    warm_sessions: int = 0
    """Pre-connected sessions kept for the default spec (they fill free live slots only)."""
    routes_known: Callable[[], bool] = field(default=lambda: True)
    """Whether ``route_for`` can give a CLI started now its final address (warm sessions wait for it)."""
    mcp_allow: tuple[str, ...] = ()
    """Commands a session's stdio MCP server may run (``--mcp-allow``)."""
    mcp_servers: dict[str, dict[str, Any]] = field(default_factory=dict)
    """MCP servers sessions may name (``--mcp-config``), by name."""
    file_checkpointing: bool = False
    """Sessions' CLIs checkpoint the files their agents change (``POST /sessions/{id}/rewind``)."""
    default_sandbox: dict[str, Any] | None = None
    """Claude Code's own Bash sandbox settings of sessions that name none (``--sandbox-settings``)."""
    sandbox: Sandbox | None = None
    """Each CLI runs in its own bubblewrap sandbox made by this (``--isolation bwrap``); None: unsandboxed."""
    scratch_root: Path | None = None
    node_id: str = "local"
    """This node's id in the cluster (its leases are filed under it)."""
    node_url: Callable[[], str | None] = field(default=lambda: None)
    """Where other nodes reach this one (None while unknown: no heartbeat is written yet)."""
    node_heartbeat: float = 2.0
    """Seconds between heartbeats (each renews this node's leases and looks for dead nodes)."""
    workspace_per_user: bool = False
    """Confine each member's sessions to ``<workspace>/<user>/``."""
    """Where sessions created with ``scratch_cwd`` get their own empty working directory (None: not offered)."""
