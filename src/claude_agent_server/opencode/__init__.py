"""The OpenCode adapter: OpenCode's server API (1.x) mapped onto this server's sessions.

OpenCode's clients (``opencode attach URL``, ``opencode run --attach URL``, the
OpenCode SDKs) drive Claude Code sessions here unmodified. Layout:

* :mod:`.protocol` (wire models), :mod:`.ids` (OpenCode's id format),
  :mod:`.mapping` (tool and permission tables), :mod:`.conversation` (events →
  messages, parts and bus events), :mod:`.catalog` (providers and models),
  :mod:`.revert` (revert and unrevert onto the session's rewind);
* :mod:`.hub` (id mapping in the registry, client ids, subscribers),
  :mod:`.views` (sessions, messages, the translated event stream);
* :mod:`.errors` (OpenCode's error shape, also for unknown paths under its prefixes, and
  auth), :mod:`.routes` (one router per resource).
"""

from __future__ import annotations

from fastapi import Depends, FastAPI

from .errors import install_not_found, require_key
from .routes import event, fork, mcp, meta, permission, revert, session

__all__ = ["install"]


def install(app: FastAPI) -> None:
    """Serve OpenCode's routes on ``app`` (singular paths: ``/session``, ``/event``, ...; no
    collision with the server's own ``/sessions``, ``/events``)."""
    protected = [Depends(require_key)]
    for module in (session, fork, revert, mcp, permission, event, meta):
        app.include_router(module.router, dependencies=protected)
    install_not_found(app)
