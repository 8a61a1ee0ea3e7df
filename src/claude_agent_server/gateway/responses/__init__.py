"""Adapter: OpenAI's Responses API (``/v1/responses``) onto agent sessions.

Stateful like the sessions themselves: a ``resp_…`` id names the session and turn that
produced it (stored in the registry), and ``previous_response_id`` continues that session
(or a fork of it). Modules: :mod:`.protocol` (wire models), :mod:`.items` (input items →
conversation), :mod:`.events` (pieces → response object and stream events),
:mod:`.service` (new / continued / forked sessions, storage), :mod:`.routes`.
"""

from __future__ import annotations

from . import routes

__all__ = ["routes"]
