"""The application factory. Nothing is built at import time; the lifespan owns the state.

``create_app(settings)`` returns a FastAPI app whose lifespan opens the registry,
recovers what a previous server left, creates the :class:`SessionManager` and the rest of
the :class:`~.web.state.ServerState` (on ``app.state.server``, built once) and, on shutdown, drains turns and hibernates every
session, so no Claude Code CLI process outlives the server and nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from . import __version__, gateway, opencode, ui
from .api import admin, conversation, events, health, invocations, me, messages, metrics, nodes, permissions, proxy, sessions, stats, upstream
from .datadir import private_directory
from .demo import router as demo_router
from .notify import WebhookSender
from .sessions.capabilities import load_mcp_config
from .gateway.pool import GatewayPool
from .gateway.responses.service import ResponsesService
from .observability import ServerMetrics
from .opencode.hub import Hub
from .sessions import ManagerConfig, SessionManager
from .sessions.launcher import bundled_cli, launch_prefix, write_launcher
from .sessions.sandbox import Sandbox, resolve_isolation
from .sessions.owner import ClientFactory
from .settings import Settings
from .store import SqlRegistry, default_database_url, spill_path
from .upstream import Upstream, credential_paths
from .web import errors, forward
from .web.allow import AllowHeader
from .web.auth import AuthGate, public_paths, require_api_key, require_model_key
from .web.identity import Identities
from .web.guards import BrowserGuard, JsonBodies
from .web.limits import BodyLimit
from .web.state import ServerAddress, ServerState

log = logging.getLogger(__name__)


def make_sandbox(settings: Settings) -> Sandbox | None:
    """The sessions' sandbox maker when isolation is on (``--isolation``; resolved here when the
    app is built without the console script), else None."""
    if settings.isolation is None:
        settings.isolation, unavailable = resolve_isolation(None)  # type: ignore[assignment]
        if unavailable:
            log.warning("sessions run without a sandbox (--isolation none): %s", unavailable)
    bwrap = shutil.which("bwrap")
    if settings.isolation != "bwrap" or bwrap is None:
        return None
    hidden = [settings.workspace, Path.home()]
    if os.environ.get("CLAUDE_CONFIG_DIR"):
        hidden.append(Path(os.environ["CLAUDE_CONFIG_DIR"]))
    hidden += [p for p in (settings.api_key_file, settings.litellm_config) if p is not None]
    hidden += credential_paths()  # the server's cloud credentials, wherever its environment keeps them
    cli = (settings.cli_path or bundled_cli()).expanduser().resolve()
    return Sandbox(bwrap, settings.data_dir, cli, tuple(hidden), launch_prefix(settings.cli_nice) or [])


def manager_config(settings: Settings, address: ServerAddress, cli_path: Path | None, sandbox: Sandbox | None = None) -> ManagerConfig:
    """The session layer's view of the settings."""
    return ManagerConfig(
        workspace=settings.workspace,
        permission_timeout=settings.permission_timeout,
        parked_permission_timeout=settings.parked_permission_timeout,
        max_live_sessions=settings.max_live_sessions,
        idle_timeout=settings.idle_timeout,
        event_buffer_size=settings.event_buffer_size,
        event_buffer_bytes=settings.event_buffer_bytes,
        default_model=settings.default_model,
        default_permission_mode=settings.default_permission_mode,
        cli_path=cli_path,
        route_for=address.route_for,
        warm_sessions=settings.warm_sessions,
        routes_known=address.known,
        scratch_root=settings.data_dir / "scratch",
        node_id=node_id(settings),
        node_url=lambda: settings.advertise_url or address.url,
        node_heartbeat=settings.node_heartbeat,
        file_checkpointing=settings.file_checkpointing,
        mcp_allow=tuple(settings.mcp_allow),
        mcp_servers=load_mcp_config(settings.mcp_config),
        sandbox=sandbox,
        default_sandbox=settings.sandbox_settings,
        workspace_per_user=settings.workspace_per_user,
    )


def node_id(settings: Settings) -> str:
    """This server's node id: ``--node-id``, else ``hostname:port``."""
    return settings.node_id or f"{socket.gethostname()}:{settings.port}"


def create_app(settings: Settings | None = None, client_factory: ClientFactory | None = None) -> FastAPI:
    """Build the server app.

    Args:
        settings: Configuration (default: read from the environment).
        client_factory: Makes SDK clients; tests inject scripted fakes here.
            Default: ``claude_agent_sdk.ClaudeSDKClient``.
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        private_directory(settings.data_dir)  # 0700: the registry, launcher and scratch dirs are the user's alone
        url = settings.database_url or default_database_url(settings.data_dir)
        registry = await SqlRegistry.open(
            url, buffer_bytes=settings.registry_buffer_bytes, spill_path=spill_path(settings.data_dir, url),
            node_id=node_id(settings),
        )
        registry.cluster.lease = settings.node_lease
        launcher = None if client_factory else write_launcher(settings.data_dir / "bin", settings.cli_path, settings.cli_nice)
        sandbox = None if client_factory else make_sandbox(settings)
        log.info("isolation: %s", "bwrap (each session's CLI in its own sandbox)" if sandbox else "none")
        passthrough = Upstream.from_environment() if sandbox is not None else None
        if passthrough is not None and not settings.demo:
            log.info("sandboxed sessions reach the model through /upstream: %s", passthrough.describe())
        address = ServerAddress(settings, upstream=passthrough)
        manager = SessionManager(
            manager_config(settings, address, launcher or settings.cli_path, sandbox),
            registry,
            **({"client_factory": client_factory} if client_factory else {}),
        )
        pool = GatewayPool(manager, settings)
        state = ServerState(
            settings=settings,
            manager=manager,
            metrics=ServerMetrics(),
            proxy=proxy.make_service(settings),
            opencode=Hub(manager, settings.data_dir),
            gateway=pool,
            address=address,
            responses=ResponsesService(pool, settings),
            forwarder=forward.Forwarder(node_id(settings), owners=manager.lease_owners),
            upstream=passthrough,
            identities=Identities(settings, registry),
        )
        manager.observers.append(state.metrics.observe)
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        webhooks = WebhookSender(settings.webhook_url, secret, registry.webhooks, node_id(settings), state.metrics.registry)
        manager.observers.append(webhooks.observe)
        webhooks.start()
        app.state.server = state
        hibernator = None
        try:
            await manager.start()
            hibernator = asyncio.create_task(manager.run_idle_hibernation())
            yield
        finally:
            if hibernator is not None:
                hibernator.cancel()
            await manager.shutdown(settings.shutdown_grace)
            await webhooks.close()
            await registry.close()
            await proxy.close_service(state.proxy)
            await state.forwarder.close()
            if state.upstream is not None:
                await state.upstream.aclose()

    app = FastAPI(
        title="claude-agent-server",
        version=__version__,
        summary="Claude Agent SDK sessions over REST, SSE and /invocations",
        lifespan=lifespan,
    )
    errors.install(app)
    forward.install(app, lambda app: app.state.server.forwarder)  # a session live on another node: the request goes there
    # Middlewares, innermost first; each refuses from the headers alone, before the body is read.
    app.add_middleware(forward.CaptureBody)
    app.add_middleware(AllowHeader, openapi=app.openapi)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes, model_limit=settings.max_model_body_bytes)
    app.add_middleware(JsonBodies)
    public, public_prefixes = public_paths(app, settings)
    app.add_middleware(AuthGate, settings=settings, public=public, public_prefixes=public_prefixes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials="*" not in settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
        )
    app.add_middleware(
        BrowserGuard,
        check_host=settings.api_key is None or settings.allowed_hosts is not None,
        check_origin=settings.api_key is None,
        bound_host=settings.host,
        allowed_hosts=settings.allowed_hosts,
        cors_origins=settings.cors_origins,
    )
    app.include_router(health.router)
    protected = [Depends(require_api_key)]
    for module in (sessions, messages, conversation, events, permissions, invocations, stats, nodes, admin, me):
        app.include_router(module.router, dependencies=protected)
    proxy.install(app)  # /v1/messages*: its own Anthropic-shaped auth and errors
    app.include_router(upstream.router)  # /upstream/v1/messages*: sandboxed sessions' model calls, forwarded
    metrics.install(app, public=settings.metrics_public)
    # Adapters: each maps an outside vocabulary (its routes, models, auth and error shapes) onto sessions.
    opencode.install(app)  # /session, /event, /permission, ...: OpenCode's API, Basic or Bearer with the server key
    ui.install(app)  # the dashboard: GET / and /ui, its static files, POST /ui/sessions
    gateway.install(app)  # /v1/models, /v1/chat/completions, /v1/responses: OpenAI's shapes, the server key as Bearer
    if settings.demo:
        app.include_router(demo_router, dependencies=[Depends(require_model_key)])
    return app
