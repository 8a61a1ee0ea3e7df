"""OpenCode's wire models (1.x, camelCase JSON): request bodies and every reply the adapter's
routes declare.

The contract is OpenCode's ``packages/sdk/openapi.json`` and what its clients were measured
to send and read (``OPENCODE.md``). Replies are dumped ``by_alias`` without ``None`` fields
(:func:`dump`; the routes: ``response_model_exclude_none``).
"""

from .absent import Command, FormatterStatus, LspStatus, McpResource, NoWorkspaceStatus, ProviderAuthMethod, VcsInfo, Workspace
from .base import Reply, Wire, dump
from .meta import (
    Agent,
    CacheCost,
    Modalities,
    ModelApi,
    ModelCapabilities,
    ModelCost,
    ModelLimit,
    Config,
    ConfigProviders,
    ConsoleState,
    ExperimentalCapabilities,
    OpenCodeHealth,
    OpenCodeMcpStatus,
    PathInfo,
    PermissionRequest,
    PermissionTool,
    Project,
    ProjectDirectory,
    ProjectTime,
    Provider,
    ProviderList,
    ProviderModel,
)
from .requests import (
    Body,
    ForkBody,
    InputPart,
    LegacyPermissionReply,
    ModelRef,
    PermissionReply,
    PromptBody,
    Reply,
    RevertBody,
    SessionCreate,
    SessionUpdate,
)
from .sessions import (
    Cache,
    ErrorData,
    ErrorInfo,
    MessagePath,
    MessageTime,
    MessageWithParts,
    ModelName,
    NamedError,
    OpenCodeAssistantMessage,
    Part,
    PartTime,
    PromptReply,
    RevertInfo,
    SessionInfo,
    SessionStatus,
    SessionTime,
    SnapshotFileDiff,
    TextPart,
    Todo,
    Tokens,
    ToolPart,
    ToolStateCompleted,
    ToolStateError,
    ToolStateRunning,
    ToolTime,
    ToolTimeEnded,
    UserMessage,
)

__all__ = [name for name in dir() if not name.startswith("_")]
