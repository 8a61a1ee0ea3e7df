"""Validation helpers every adapter's request models use: the bounds of integers that reach
the database, and the string types that become CLI arguments (the wire contract's own, from
:mod:`claude_agent_protocol.requests`, so server and client refuse the same input)."""

from __future__ import annotations

from typing import Annotated, Literal

from claude_agent_protocol.base import PermissionModeName
from claude_agent_protocol.requests import ARGUMENT_BYTES, NO_NUL, Argument, Name, StrictBody, lone_surrogate
from pydantic import AfterValidator, Field

from ..sessions.prompt import MAX_PROMPT_CHARACTERS

__all__ = [
    "ARGUMENT_BYTES", "MAX_EVENT_ID", "MAX_OFFSET", "Argument", "Name", "ListedStatusName", "PermissionModeName",
    "StrictBody", "SystemPrompt", "lone_surrogate",
]

ListedStatusName = Literal["connecting", "waking", "connected", "running", "waiting_permission", "hibernated"]
"""The statuses a session in ``GET /sessions`` can have (closed sessions are not listed)."""
MAX_EVENT_ID = 2**63 - 1
"""The largest event id (``Last-Event-ID``, ``after``): the databases' signed 64-bit integer."""
MAX_OFFSET = 2**31 - 1
"""The largest ``offset`` of a listing (a larger integer is 422, never an overflow at the database)."""


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


SystemPrompt = Annotated[str, AfterValidator(_no_nul), Field(max_length=MAX_PROMPT_CHARACTERS, json_schema_extra=NO_NUL)]
"""A system prompt: a large one reaches the CLI in a file, so it is bounded by what
Claude Code takes in one prompt (see :mod:`claude_agent_server.sessions.prompt`), in characters."""
