"""Request bodies of the server's API: the wire contract's (:mod:`claude_agent_protocol.requests`),
with the server's own bound on system prompts (they reach the CLI in a file, not as an argument)."""

from __future__ import annotations

from claude_agent_protocol import requests
from claude_agent_protocol.requests import PermissionAnswer, SendMessage, SetModel, SetPermissionMode
from typing import Any

from pydantic import Field, field_validator

from ..sessions.structured import output_format
from ..web.validation import SystemPrompt

__all__ = ["CreateSession", "PermissionAnswer", "SendMessage", "SetModel", "SetPermissionMode"]


class CreateSession(requests.CreateSession):
    """``POST /sessions``: every field optional; unknown fields are ignored (as other
    servers of this API accept, e.g. ``user_id``)."""

    resume_session_id: str | None = Field(
        None, max_length=100, description="Resume this transcript (same id, same history).", json_schema_extra={"format": "uuid"}
    )
    system_prompt: SystemPrompt | None = Field(None, description="Replaces Claude Code's system prompt.")
    append_system_prompt: SystemPrompt | None = Field(None, description="Appended to Claude Code's system prompt.")

    @field_validator("output_format")
    @classmethod
    def _output_format(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        """A valid JSON schema (422 naming ``output_format`` otherwise), in the SDK's form."""
        return None if value is None else output_format(value)
