"""What the session layer needs of the server's settings (:class:`ManagerConfig`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .options import ModelRoute, SessionSpec


@dataclass(slots=True)
class ManagerConfig:
    """The parts of the server settings the session layer needs."""

    workspace: Path
    permission_timeout: float = 300.0
    max_live_sessions: int = 32
    idle_timeout: float = 0.0
    """Seconds a session may sit idle (no turn, no pending permission) before it is hibernated; 0: never."""
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
    scratch_root: Path | None = None
    workspace_per_user: bool = False
    """Confine each member's sessions to ``<workspace>/<user>/``."""
    """Where sessions created with ``scratch_cwd`` get their own empty working directory (None: not offered)."""
