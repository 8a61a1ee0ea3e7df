"""Adapter: the OpenAI Chat Completions API onto agent sessions.

Stateless callers send the whole conversation on every call; each is served by
a stateful Claude Code session found by a hash of the history (reused, woken or
seeded from a native transcript). Modules: :mod:`.protocol` (wire models),
:mod:`.history` (normalisation and hashing), :mod:`.seed` (transcripts),
:mod:`.pool` (lookup and filing), :mod:`.mapping` (events → completions),
:mod:`.models` (served models and profiles), :mod:`.errors` (OpenAI's error shape),
:mod:`.routes`; :mod:`.responses`: the Responses API. Nothing in ``sessions/`` knows these names.
"""

from __future__ import annotations

from fastapi import FastAPI

from . import errors, responses, routes
from .shape import OpenAIErrors


def install(app: FastAPI) -> None:
    """Add ``/v1/models``, ``/v1/models/{id}``, ``/v1/chat/completions`` and ``/v1/responses...``
    and their error shape to ``app``."""
    errors.install(app)
    app.include_router(routes.router)
    app.include_router(responses.routes.router)
    app.add_middleware(OpenAIErrors)  # the outermost: FastAPI's own 404/405/422 bodies under /v1 in OpenAI's shape


__all__ = ["install"]
