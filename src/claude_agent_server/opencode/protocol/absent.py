"""The replies of routes for OpenCode features this server does not have (commands, LSP,
formatters, VCS, provider auth, MCP resources, workspaces): always empty, typed as OpenCode
types their items so the document says what a client may meet there (``GET
/experimental/workspace/status`` answers ``{}``, which OpenCode's TUI takes)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from .base import ReplyModel


class Command(ReplyModel):
    name: str
    description: str | None = None
    template: str
    hints: list[str]


class LspStatus(ReplyModel):
    id: str
    name: str
    root: str
    status: Literal["connected", "error"]


class FormatterStatus(ReplyModel):
    name: str
    extensions: list[str]
    enabled: bool


class VcsInfo(ReplyModel):
    """``GET /vcs``: no VCS information here (``{}``)."""

    branch: str | None = None
    default_branch: str | None = None


class ProviderAuthMethod(ReplyModel):
    type: Literal["oauth", "api"]
    label: str


class McpResource(ReplyModel):
    name: str
    uri: str
    description: str | None = None
    mime_type: str | None = Field(None, alias="mimeType")
    client: str


class Workspace(ReplyModel):
    id: str
    type: str
    name: str
    project_id: str = Field(alias="projectID")
    extra: Any = None


class NoWorkspaceStatus(ReplyModel):
    """``GET /experimental/workspace/status``: ``{}`` (no workspaces here)."""

    model_config = ConfigDict(extra="forbid")
