"""Request bodies of the HTTP API (pydantic models; FastAPI answers 422 on bad input)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

PermissionModeName = Literal["default", "acceptEdits", "plan", "bypassPermissions", "dontAsk", "auto"]
SessionStatusName = Literal["connecting", "waking", "connected", "running", "waiting_permission", "hibernated"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateSession(_Body):
    """``POST /sessions``: every field optional."""

    resume_session_id: str | None = Field(None, description="Resume this transcript (same id, same history).")
    system_prompt: str | None = Field(None, description="Replaces Claude Code's system prompt.")
    append_system_prompt: str | None = Field(None, description="Appended to Claude Code's system prompt.")
    model: str | None = Field(None, description="Model name (default: the server's default model).")
    cwd: str | None = Field(None, description="Working directory inside the workspace (default: the workspace).")
    permission_mode: PermissionModeName | None = None
    allowed_tools: list[str] | None = Field(None, description="Tools that run without asking.")
    disallowed_tools: list[str] | None = Field(None, description="Tools the model may not use.")
    max_turns: int | None = Field(None, ge=1)
    enable_proxy: bool = Field(False, description="Route the CLI's model calls through this server's /v1/messages.")
    background_model: str | None = Field(None, description="Proxied sessions: model for the CLI's background calls.")


class SendMessage(_Body):
    """``POST /sessions/{id}/messages``."""

    message: str = Field(min_length=1, description="The prompt.")
    stream: bool = Field(False, description="Reply as Server-Sent Events instead of one JSON object.")


class PermissionAnswer(_Body):
    """``POST /sessions/{id}/permissions/respond``."""

    request_id: str
    allowed: bool
    apply_suggestions: bool = Field(False, description="Also apply the CLI's suggested rules ('always allow').")
    message: str | None = Field(None, description="Why it was denied (shown to the model).")
    updated_input: dict[str, Any] | None = Field(None, description="Run the tool with this input instead.")


class SetModel(_Body):
    model: str | None = Field(description="Model name, or null for the default.")


class SetPermissionMode(_Body):
    mode: PermissionModeName
