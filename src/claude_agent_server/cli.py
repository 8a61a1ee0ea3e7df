"""``claude-agent-server``: run the server (flags and ``AGENT_SERVER_*`` variables)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
from types import FrameType

import uvicorn
from fastapi import FastAPI

from .web.state import server_state, started_state
from .admin_cli import management_command
from .admin_cli import main as manage
from .datadir import DataDirBusy, DataDirLock, readable_by_others
from .reexec import hide_secrets, inherited_secrets
from .http_protocol import guarded_http
from .observability.access_log import redact_access_log
from .sessions.options import SERVER_SETTINGS_PREFIX
from .settings import Settings
from .sessions.sandbox import resolve_isolation
from .startup import startup_summary
from .usage import SettingsError, parse_settings

DEMO_BANNER = """\
──────────────────────────────────────────────────────────────────────
 OFFLINE DEMO MODEL: replies come from a scripted model inside this
 server, not from Claude. No network and no API key are used.
 Try: "run `date > now.txt`", "create a file notes.txt",
 "remember that ...", "count slowly" (then Ctrl-C).
──────────────────────────────────────────────────────────────────────"""


def registry_problem(settings: Settings) -> str | None:
    """Why the registry cannot be opened (and migrated), in one line; None when it can."""
    from .store import SqlRegistry, default_database_url, redacted

    url = settings.database_url or default_database_url(settings.data_dir)

    async def check() -> None:
        registry = await SqlRegistry.open(url)
        await registry.close()

    try:
        asyncio.run(check())
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"{redacted(url)}: {reason}"
    return None


def has_user_keys(settings: Settings) -> bool:
    """Whether the registry holds at least one usable user key (then a non-loopback bind is signed in)."""
    from .store import SqlRegistry, default_database_url, utcnow

    async def check() -> bool:
        registry = await SqlRegistry.open(settings.database_url or default_database_url(settings.data_dir))
        try:
            now = utcnow()
            return any(k.revoked_at is None and (k.expires_at is None or k.expires_at > now) for k in await registry.users.list_keys())
        finally:
            await registry.close()

    try:
        return asyncio.run(check())
    except Exception:
        return False


def data_dir_lock(settings: Settings) -> DataDirLock | None:
    """Take the data dir's lock when the registry is SQLite (one server per SQLite file);
    None for another database.

    Raises:
        DataDirBusy: Another server holds it (its pid is in the message).
        OSError: The data dir cannot be created.
    """
    if not (settings.database_url or "sqlite").startswith("sqlite"):
        return None
    return DataDirLock.acquire(settings.data_dir)


class DrainingServer(uvicorn.Server):
    """uvicorn that, on SIGTERM or Ctrl-C, drains the sessions before it stops serving.

    The first signal starts the manager's drain (new turns and sessions get 503,
    pending permissions are denied with ``server_shutdown``, running turns get
    ``grace`` seconds, then are interrupted) while the server keeps answering — the
    demo model and the proxy included, which the draining turns still need. When the
    drain is done, uvicorn's own shutdown begins. A second signal stops at once.
    """

    def __init__(self, config: uvicorn.Config, app: FastAPI, grace: float) -> None:
        super().__init__(config)
        self._app = app
        self._grace = grace
        self._draining = False

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Start serving, then note the address actually bound (``--port 0``) for the CLIs'
        model routes — once, here: the lifespan runs before the bind and cannot see it — let
        the warm pool fill now that they can reach this server, and (in real use) print the
        start-up summary."""
        await super().startup(sockets)
        bound = [sock.getsockname() for server in self.servers for sock in server.sockets]
        if self.should_exit or not bound:
            return
        state = server_state(self._app)
        state.address.bind(bound[0][0], bound[0][1])
        state.manager.refill_pool()
        if not state.settings.demo:
            print(startup_summary(state.settings, state.address.url or ""), file=sys.stderr)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        state = started_state(self._app)
        manager = state.manager if state is not None else None
        loop = getattr(manager, "loop", None)
        if self._draining or manager is None or loop is None or sig not in (signal.SIGINT, signal.SIGTERM):
            super().handle_exit(sig, frame)
            return
        self._draining = True

        def drain() -> None:
            task = manager.begin_shutdown(self._grace)
            task.add_done_callback(lambda _: uvicorn.Server.handle_exit(self, sig, None))

        loop.call_soon_threadsafe(drain)


def main(argv: list[str] | None = None) -> int:
    """Parse flags, refuse unsafe binds, serve until stopped. Returns the exit code.

    ``argv`` None: this process's own arguments; then a key (or a database password) in the
    environment or on the command line makes the process re-execute itself once without
    them (:mod:`.reexec`), so they are not left in ``/proc/<pid>/environ`` or ``cmdline``.
    """
    if argv is None:
        hide_secrets()  # already done (cheaper) by the console script, __main__.py; a no-op then
    args = sys.argv[1:] if argv is None else argv
    if management_command(args):  # users ... / keys ...: manage the registry, serve nothing
        return manage(args)
    try:
        settings = parse_settings(args, inherited_secrets())
    except (SettingsError, ValueError) as exc:
        print(f"claude-agent-server: invalid settings:\n{exc}", file=sys.stderr)
        return 2
    for name in [name for name in os.environ if name.startswith(SERVER_SETTINGS_PREFIX)]:
        del os.environ[name]  # read once; never inherited by a CLI or the tools it runs
    if settings.api_key_file is not None and readable_by_others(settings.api_key_file):
        print(f"claude-agent-server: warning: the API key file {settings.api_key_file} is readable by other users; "
              f"chmod 600 it", file=sys.stderr)
    if not settings.is_loopback and settings.api_key is None and not settings.jwt_jwks_url and not has_user_keys(settings):
        print(
            f"claude-agent-server: refusing to bind {settings.host} without authentication: anyone who can reach it "
            "could run commands on this machine. Set AGENT_SERVER_API_KEY (or --api-key), create a user key "
            "(claude-agent-server keys create NAME), set --jwt-jwks-url, or bind 127.0.0.1.",
            file=sys.stderr,
        )
        return 2
    if not settings.workspace.is_dir():
        print(f"claude-agent-server: workspace {settings.workspace} is not a directory", file=sys.stderr)
        return 2
    if settings.litellm_config is not None:
        from .proxy import ProxyConfigError, load_config

        try:
            load_config(settings.litellm_config)
        except ProxyConfigError as exc:
            print(f"claude-agent-server: bad LiteLLM config: {exc}", file=sys.stderr)
            return 2
    try:
        _lock = data_dir_lock(settings)  # held until the process exits (the kernel drops it then)
    except DataDirBusy as exc:
        print(f"claude-agent-server: {exc}; stop it, or give this one another --data-dir", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"claude-agent-server: cannot use the data dir {settings.data_dir}: {exc}", file=sys.stderr)
        return 2
    if (problem := registry_problem(settings)) is not None:
        print(f"claude-agent-server: cannot open the session registry: {problem}", file=sys.stderr)
        return 2
    try:
        settings.isolation, unavailable = resolve_isolation(settings.isolation)  # type: ignore[assignment]
    except RuntimeError as exc:
        print(f"claude-agent-server: {exc}", file=sys.stderr)
        return 2
    if unavailable:
        print(f"claude-agent-server: sessions run without a sandbox (--isolation none): {unavailable}", file=sys.stderr)
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if settings.demo:
        print(DEMO_BANNER, file=sys.stderr)
    from .app import create_app

    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        timeout_graceful_shutdown=settings.shutdown_grace + 15,
        http=guarded_http(header_timeout=settings.header_timeout, body_timeout=settings.body_timeout),
    )
    redact_access_log()
    try:
        DrainingServer(config, app, settings.shutdown_grace).run()
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it drained for: exit as interrupted, without a traceback
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
