"""Per-session capabilities asked for in ``POST /sessions``: subagents, MCP servers, budget,
effort and thinking, extra directories (request parts and the MCP status replies)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from .base import WireModel
from .fields import Argument, Name, StrictBody, WHOLE

EffortName = Literal["low", "medium", "high", "xhigh", "max"]
"""The SDK's ``EffortLevel``."""
NAME_PATTERN = "^[A-Za-z0-9_-]{1,64}$"
"""An agent's or MCP server's name (its tools are ``mcp__<name>__<tool>``); a dict key, checked by
the server (400): a key pattern would only become ``patternProperties`` in the schema."""
ServerName = Annotated[str, Field(pattern=NAME_PATTERN)]


class AgentSpec(StrictBody):
    """A subagent (the SDK's ``AgentDefinition``)."""

    description: Argument = Field(max_length=10_000)
    prompt: Argument
    tools: list[Name] | None = Field(None, max_length=500)
    disallowedTools: list[Name] | None = Field(None, max_length=500)  # noqa: N815  (the SDK's name)
    model: Name | None = None
    maxTurns: Annotated[int, Field(ge=1, le=10_000), WHOLE] | None = None  # noqa: N815
    effort: EffortName | None = None


class StdioServer(StrictBody):
    """An MCP server the CLI starts on this host: ``command`` must be on the server's
    allow-list (``--mcp-allow``); its environment comes only from ``--mcp-config``."""

    type: Literal["stdio"] = "stdio"
    command: Argument = Field(max_length=4096)
    args: list[Argument] = Field(default_factory=list, max_length=100)


class ConfiguredServer(StrictBody):
    """An MCP server of the server's ``--mcp-config`` file, by its name there (any transport)."""

    config: ServerName


class ThinkingAdaptive(StrictBody):
    type: Literal["adaptive"]


class ThinkingEnabled(StrictBody):
    type: Literal["enabled"]
    budget_tokens: Annotated[int, Field(ge=1024, le=1_000_000), WHOLE]


class ThinkingDisabled(StrictBody):
    type: Literal["disabled"]


Thinking = Annotated[ThinkingAdaptive | ThinkingEnabled | ThinkingDisabled, Field(discriminator="type")]


class Capabilities(StrictBody):
    """The capability fields of ``POST /sessions`` (each stored with the session's spec)."""

    agents: dict[str, AgentSpec] | None = Field(None, max_length=50, description="Subagents by name.")
    mcp_servers: dict[str, StdioServer | ConfiguredServer] | None = Field(
        None, max_length=20, description="MCP servers by name: an allowed stdio command, or a server of --mcp-config."
    )
    max_budget_usd: float | None = Field(None, gt=0, le=100_000, description="Stop a turn once the session has spent this much (USD).")
    effort: EffortName | None = Field(None, description="How much effort the model puts in.")
    thinking: Thinking | None = Field(None, description="Extended thinking: adaptive, enabled (budget_tokens) or disabled.")
    add_dirs: list[Argument] | None = Field(None, max_length=20, description="More directories the agent may use (inside the workspace).")
    setting_sources: list[Literal["user", "project", "local"]] | None = Field(None, description="Settings files the CLI loads.")


class ServerFeatures(WireModel):
    """What the server offers every session (``GET /me``'s ``features``), so a client can say why
    a control is unavailable before trying it."""

    file_checkpointing: bool = False
    """Claude Code checkpoints the files each agent changes (``--file-checkpointing``): without it
    ``POST /sessions/{id}/rewind`` has nothing to restore (409)."""


class McpServerStatus(WireModel):
    """One MCP server as the CLI reports it (``GET /sessions/{id}/mcp``)."""

    name: str
    status: str
    error: str | None = None
    tools: list[dict[str, Any]] = Field(default_factory=list)
    config: dict[str, Any] | None = None


class McpStatus(WireModel):
    """``GET /sessions/{id}/mcp``."""

    servers: list[McpServerStatus]


class McpToggle(StrictBody):
    """``POST /sessions/{id}/mcp/{name}/toggle``."""

    enabled: bool


class McpAck(WireModel):
    """``POST /sessions/{id}/mcp/{name}/reconnect`` and ``/toggle``."""

    status: Literal["ok"] = "ok"
    name: str
    enabled: bool | None = None
