"""The server's state, built once by the lifespan: :class:`ServerState` on ``app.state.server``.

Everything a request needs that outlives it is here, typed: the settings, the session
manager, the metrics, the proxy, the adapters' own state (OpenCode's hub, the gateway's
pool) and the server's own address. Routes read it through :data:`~.deps.StateDep`;
middlewares through :func:`server_state`. Nothing is made on a first request.

The address (:class:`ServerAddress`) is where a session's CLI reaches this server (the demo
model, the proxy). With a fixed ``--port`` it is known from the settings; with ``--port 0``
only once uvicorn has bound its socket, which the lifespan cannot see (it runs before the
bind): the console script's server learns it from the bound socket right after start-up
(:meth:`ServerAddress.bind`, called from ``cli.DrainingServer.startup``), once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.applications import Starlette

from ..observability import ServerMetrics
from ..proxy import ProxyService
from ..sessions import ModelRoute, SessionManager, SessionSpec
from ..settings import Settings
from ..upstream import Upstream
from .forward import Forwarder

if TYPE_CHECKING:  # the adapters' state types; the shared layer imports no adapter at run time
    from ..gateway.pool import GatewayPool
    from ..gateway.responses.service import ResponsesService
    from ..opencode.hub import Hub
    from .identity import Identities

__all__ = ["ServerAddress", "ServerState", "base_url", "server_state", "started_state"]


def base_url(host: str, port: int) -> str:
    """``http://host:port`` for a bound address (a wildcard address becomes 127.0.0.1)."""
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


class ServerAddress:
    """This server's own base URL, for the model routes of the sessions' CLIs.

    Args:
        settings: ``host`` and ``port``; with ``port`` 0 the URL is unknown until :meth:`bind`.
        upstream: The server's model upstream, when sessions are sandboxed (their model calls go through it).
    """

    def __init__(self, settings: Settings, *, upstream: Upstream | None = None) -> None:
        self._settings = settings
        self._upstream = upstream
        self.url: str | None = None if settings.port == 0 else base_url(settings.host, settings.port)

    def bind(self, host: str, port: int) -> None:
        """Note the address the server's socket is bound to (called once, after the bind)."""
        self.url = base_url(host, port)

    def known(self) -> bool:
        """Whether a CLI started now can be told where this server is."""
        return self.url is not None

    def route_for(self, spec: SessionSpec, model_key: str) -> ModelRoute | None:
        """Where a session's CLI sends model requests: this server's proxy (``enable_proxy``),
        the demo model (``--demo``), the upstream pass-through (``upstream``: sandboxed sessions
        hold no credential of the server), or None (as Claude Code is configured), presenting the
        session's own model key, never the server's key."""
        base = self.url or base_url(self._settings.host, self._settings.port)
        if spec.enable_proxy:
            return ModelRoute(base, model_key, spec.background_model)
        if self._settings.demo:
            return ModelRoute(f"{base}/demo", model_key)
        if self._upstream is not None:  # sandboxed: the server's own credential stays outside, the server forwards
            return ModelRoute(f"{base}/upstream", model_key, env=self._upstream.route_env(base, model_key))
        return None


@dataclass(eq=False)
class ServerState:
    """What the lifespan builds, once per run of the app (see the module docstring)."""

    settings: Settings
    manager: SessionManager
    metrics: ServerMetrics
    proxy: ProxyService
    opencode: Hub
    gateway: GatewayPool
    address: ServerAddress
    responses: ResponsesService
    identities: Identities
    """Who a request's key or token belongs to (users, roles, keys; see :mod:`.identity`)."""
    forwarder: Forwarder | None = None
    """The HTTP client forwarding requests for sessions live on another node (see :mod:`.forward`)."""
    upstream: Upstream | None = None
    """The model pass-through of sandboxed sessions (``/upstream/...``); None without isolation."""


def started_state(app: Starlette) -> ServerState | None:
    """The app's state, or None before its lifespan has built it (a signal during start-up)."""
    state: ServerState | None = getattr(app.state, "server", None)
    return state


def server_state(app: Starlette) -> ServerState:
    """The app's state.

    Raises:
        RuntimeError: the app is served without its lifespan (nothing was built).
    """
    state = started_state(app)
    if state is None:
        raise RuntimeError("the server's state is built by its lifespan: serve the app with lifespan events on")
    return state


