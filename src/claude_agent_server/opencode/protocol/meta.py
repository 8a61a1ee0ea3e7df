"""What OpenCode's clients read besides sessions: providers and models, agents, config, paths,
the project, MCP servers, pending permissions and health (shapes of OpenCode's ``Provider``,
``Model``, ``Agent``, ``Config``, ``Path``, ``Project``, ``McpStatus``, ``PermissionRequest``;
field order is the order on the wire).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .base import ReplyModel


class ModelApi(ReplyModel):
    id: str
    url: str
    npm: str


class Modalities(ReplyModel):
    text: bool
    audio: bool
    image: bool
    video: bool
    pdf: bool


class ModelCapabilities(ReplyModel):
    temperature: bool
    reasoning: bool
    attachment: bool
    toolcall: bool
    input: Modalities
    output: Modalities
    interleaved: bool


class CacheCost(ReplyModel):
    read: int | float
    write: int | float


class ModelCost(ReplyModel):
    """USD per million tokens (0: unknown)."""

    input: int | float
    output: int | float
    cache: CacheCost


class ModelLimit(ReplyModel):
    context: int
    output: int


class ProviderModel(ReplyModel):
    """OpenCode's ``Model``."""

    id: str
    provider_id: str = Field(alias="providerID")
    name: str
    api: ModelApi
    capabilities: ModelCapabilities
    cost: ModelCost
    limit: ModelLimit
    status: Literal["alpha", "beta", "deprecated", "active"]
    options: dict[str, Any]
    headers: dict[str, str]
    release_date: str
    variants: dict[str, dict[str, Any]]


class Provider(ReplyModel):
    """OpenCode's ``Provider``: its models by id."""

    id: str
    name: str
    source: Literal["env", "config", "custom", "api"]
    env: list[str]
    options: dict[str, Any]
    models: dict[str, ProviderModel]


class ConfigProviders(ReplyModel):
    """``GET /config/providers``: the providers and ``{providerID: modelID}`` of the default model."""

    providers: list[Provider]
    default: dict[str, str]


class ProviderList(ReplyModel):
    """``GET /provider``: every provider, the default model, the providers that can be used."""

    all: list[Provider]
    default: dict[str, str]
    connected: list[str]


class Config(ReplyModel):
    """``GET /config``: the part of OpenCode's ``Config`` this server has (the default model as
    ``provider/model``); OpenCode's other keys are absent."""

    model: str | None = None
    share: Literal["manual", "auto", "disabled"] | None = None
    autoupdate: bool | Literal["notify"] | None = None


class Agent(ReplyModel):
    """OpenCode's ``Agent`` (``permission``: OpenCode's rules, none here)."""

    name: str
    description: str | None = None
    mode: Literal["subagent", "primary", "all"]
    native: bool | None = None
    hidden: bool | None = None
    permission: list[dict[str, Any]]
    options: dict[str, Any]


class PathInfo(ReplyModel):
    """OpenCode's ``Path``."""

    home: str
    state: str
    config: str
    worktree: str
    directory: str


class ProjectTime(ReplyModel):
    created: int


class Project(ReplyModel):
    """OpenCode's ``Project``: here the one project, the workspace (``vcs`` is ``null``)."""

    id: str
    worktree: str
    vcs: Literal["git"] | None
    time: ProjectTime
    sandboxes: list[str]


class ProjectDirectory(ReplyModel):
    directory: str
    strategy: str | None = None


class ConsoleState(ReplyModel):
    """``GET /experimental/console``: OpenCode's console (none here: ``{}``)."""

    console_managed_providers: list[str] | None = Field(None, alias="consoleManagedProviders")
    active_org_name: str | None = Field(None, alias="activeOrgName")
    switchable_org_count: int | None = Field(None, alias="switchableOrgCount")


class ExperimentalCapabilities(ReplyModel):
    """``GET /experimental/capabilities`` (none here: ``{}``)."""

    background_subagents: bool | None = Field(None, alias="backgroundSubagents")


class OpenCodeHealth(ReplyModel):
    """``GET /global/health``."""

    healthy: Literal[True] = True
    version: str


class OpenCodeMcpStatus(ReplyModel):
    """OpenCode's ``McpStatus`` of one MCP server (``error`` with ``failed``)."""

    status: Literal["connected", "disabled", "failed", "needs_auth", "needs_client_registration"]
    error: str | None = None


class PermissionTool(ReplyModel):
    message_id: str = Field(alias="messageID")
    call_id: str = Field(alias="callID")


class PermissionRequest(ReplyModel):
    """OpenCode's ``PermissionRequest`` (as in ``permission.asked``): ``patterns`` and ``always``
    are arrays; ``metadata`` holds the tool's camelCase input (and ``diff``, ``filepath`` for edits)."""

    id: str
    session_id: str = Field(alias="sessionID")
    permission: str
    patterns: list[str]
    metadata: dict[str, Any]
    always: list[str]
    tool: PermissionTool | None = None
