"""Request bodies of the session routes. The server refuses what they refuse (422)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .base import PermissionModeName, SendMode
from .capabilities import Capabilities
from .fields import ARGUMENT_BYTES, NO_NUL, Argument, Name, StrictBody, WHOLE, lone_surrogate  # noqa: F401  (importable from here too)


class ToolSandboxNetwork(StrictBody):
    """Network of Claude Code's own Bash sandbox (the SDK's ``SandboxNetworkConfig``)."""

    allowedDomains: list[Name] | None = Field(None, max_length=500, description="Domains sandboxed commands may reach.")
    allowUnixSockets: list[Argument] | None = Field(None, max_length=100, description="Unix sockets they may use.")
    allowAllUnixSockets: bool | None = None
    allowLocalBinding: bool | None = Field(None, description="Whether they may bind local ports.")


class ToolSandbox(StrictBody):
    """Claude Code's own sandbox for the Bash commands of a session (the SDK's ``SandboxSettings``),
    nested inside the server's per-session bubblewrap sandbox."""

    enabled: bool | None = Field(None, description="Run Bash commands in Claude Code's sandbox.")
    autoAllowBashIfSandboxed: bool | None = Field(None, description="Run sandboxed Bash commands without asking.")
    excludedCommands: list[Name] | None = Field(None, max_length=500, description="Commands run outside the sandbox.")
    allowUnsandboxedCommands: bool | None = Field(None, description="Whether a command may ask to run unsandboxed.")
    network: ToolSandboxNetwork | None = None
    enableWeakerNestedSandbox: bool | None = Field(
        None, description="Claude Code's weaker sandbox for nested use (needed inside the server's bubblewrap sandbox)."
    )


class CreateSession(Capabilities):
    """``POST /sessions``: every field optional; unknown fields are ignored (as other
    servers of this API accept, e.g. ``user_id``)."""

    model_config = ConfigDict(extra="ignore")

    resume_session_id: str | None = Field(None, max_length=100, description="Resume this transcript (same id, same history).")
    system_prompt: Argument | None = Field(None, description="Replaces Claude Code's system prompt.")
    append_system_prompt: Argument | None = Field(None, description="Appended to Claude Code's system prompt.")
    model: Name | None = Field(None, description="Model name (default: the server's default model).")
    cwd: Argument | None = Field(None, description="Working directory inside the workspace (default: the workspace).")
    permission_mode: PermissionModeName | None = None
    allowed_tools: list[Name] | None = Field(None, max_length=500, description="Tools that run without asking.")
    disallowed_tools: list[Name] | None = Field(None, max_length=500, description="Tools the model may not use.")
    max_turns: Annotated[int, Field(ge=1, le=1_000_000), WHOLE] | None = None
    enable_proxy: bool = Field(False, description="Route the CLI's model calls through this server's /v1/messages.")
    background_model: Name | None = Field(None, description="Proxied sessions: model for the CLI's background calls.")
    output_format: dict[str, Any] | None = Field(
        None,
        description='Structured output: a JSON schema (or {"type": "json_schema", "schema": {...}}); each turn\'s '
        "result and reply carry structured_output, valid against it. Kept when the session hibernates and wakes.",
    )
    sandbox: ToolSandbox | None = Field(
        None, description="Claude Code's own Bash sandbox (SandboxSettings); default: the server's --sandbox-settings."
    )


class SendMessage(StrictBody):
    """``POST /sessions/{id}/messages``."""

    message: str = Field(min_length=1, description="The prompt.")
    stream: bool = Field(False, description="Reply as Server-Sent Events instead of one JSON object.")
    mode: SendMode = Field(
        "reject",
        description="While a turn runs: reject (409), queue (run after it, in order; the reply is that turn's), "
        "steer (delivered into the running turn as new user input; the reply is that turn's).",
    )


class PermissionAnswer(StrictBody):
    """``POST /sessions/{id}/permissions/respond``."""

    request_id: str = Field(max_length=100)
    allowed: bool
    apply_suggestions: bool = Field(False, description="Also apply the CLI's suggested rules ('always allow').")
    message: str | None = Field(None, description="Why it was denied (shown to the model).")
    updated_input: dict[str, Any] | None = Field(None, description="Run the tool with this input instead.")


class SetModel(StrictBody):
    """``POST /sessions/{id}/model``."""

    model: Name | None = Field(description="Model name, or null for the default.")


class SetPermissionMode(StrictBody):
    """``POST /sessions/{id}/permission_mode``."""

    mode: PermissionModeName


class InvocationEnvelope(BaseModel):
    """``POST /invocations`` as a REST envelope: the app serves ``method path`` (placeholders such
    as ``{session_id}`` filled from ``path_params``) with ``payload`` as its JSON body (as its
    query for GET and DELETE); the reply is that route's, status and all."""

    path: str = Field(pattern="^/", description="A REST path such as /sessions or /sessions/{session_id}/messages.")
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    path_params: dict[str, Any] | None = None
    query_params: dict[str, Any] | None = None
    payload: Any = None

