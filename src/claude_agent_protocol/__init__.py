"""claude-agent-protocol: the wire contract of claude-agent-server.

Pydantic models for every request body, reply and event of the server's own API (REST,
SSE, ``/invocations``), shared by the server (its routes declare them; its events are built
from them) and the terminal client (it parses with them). No dependency but pydantic.

Modules: :mod:`.base` (shared literals), :mod:`.content` (reply items),
:mod:`.sessions` (session replies), :mod:`.events` (events and stream snapshots),
:mod:`.requests` (request bodies), :mod:`.server` (health, ping, stats, errors).
"""

from .base import Origin, PermissionModeName, SendMode, SessionStateName, SessionStatusName, WireModel
from .conversation import (
    ForkedSession,
    ForkPointView,
    ForkSession,
    QueueCancelReply,
    QueuedMessage,
    RewindFiles,
    RewindReply,

)
from .capabilities import (
    AgentSpec,
    Capabilities,
    ConfiguredServer,
    McpAck,
    McpServerStatus,
    McpStatus,
    McpToggle,
    ServerFeatures,
    StdioServer,
)
from .content import ReplyItem, TextItem, ThinkingItem, ToolResultItem, ToolUseItem
from .events import (
    TURN_END,
    AssistantMessageEvent,
    ErrorEvent,
    Event,
    EventBase,
    EventType,
    PermissionRequestEvent,
    PermissionResolvedEvent,
    ResultEvent,
    ServerEvent,
    ServerSnapshot,
    SessionCreatedEvent,
    SessionDeletedEvent,
    SessionEvent,
    SessionStatusEvent,
    StatusEvent,
    StatusSnapshot,
    TextDeltaEvent,
    ToolResultEvent,
    TurnEvent,
    TurnStartedEvent,
    parse_event,
)
from .requests import (
    CreateSession,
    InvocationEnvelope,
    PermissionAnswer,
    SendMessage,
    SetModel,
    SetPermissionMode,
)
from .cluster import ClusterStats, NodeList, NodeView
from .tenancy import (
    AddUser,
    AuditEntryView,
    AuditPage,
    ChangeUser,
    CreateKey,
    CreatedKey,
    DaySpend,
    KeyList,
    KeyView,
    Me,
    RoleName,
    SessionSpend,
    SpendLimit,
    Usage,
    UserList,
    UserView,
)
from .server import Activity, ActivityPeriod, DatabaseHealth, ErrorBody, Health, Ping, Stats
from .sessions import (
    AvailableSession,
    AvailableSessions,
    CloseReply,
    CreatedSession,
    HibernateReply,
    HistoryMessage,
    InterruptReply,
    ModelReply,
    PermissionAck,
    PermissionModeReply,
    PermissionRequestView,
    SessionCounts,
    SessionEntry,
    SessionHistory,
    SessionList,
    SessionStatusView,
    TurnReply,
    InvocationCreated,
    InvocationReply,
)

__all__ = [
    "ClusterStats",
    "NodeList",
    "NodeView",
    "TURN_END", "AgentSpec", "Capabilities", "ConfiguredServer", "McpAck", "McpServerStatus", "McpStatus", "McpToggle", "ServerFeatures", "StdioServer",
    "ForkPointView", "ForkSession", "ForkedSession", "QueueCancelReply", "QueuedMessage", "RewindFiles", "RewindReply", "SendMode",
    "Activity", "ActivityPeriod", "AssistantMessageEvent", "AvailableSession", "AvailableSessions", "CloseReply", "CreateSession",
    "AddUser", "AuditEntryView", "AuditPage", "ChangeUser", "CreateKey", "CreatedKey", "DaySpend", "KeyList", "KeyView", "Me",
    "RoleName", "SessionSpend", "SpendLimit", "Usage", "UserList", "UserView",
    "CreatedSession", "DatabaseHealth", "ErrorBody", "ErrorEvent", "Event", "EventBase", "EventType", "Health", "HibernateReply",
    "HistoryMessage", "InterruptReply", "InvocationCreated", "InvocationEnvelope", "InvocationReply", "ModelReply", "Origin", "PermissionAck", "PermissionAnswer",
    "PermissionModeName", "PermissionModeReply", "PermissionRequestEvent", "PermissionRequestView",
    "PermissionResolvedEvent", "Ping", "ReplyItem", "ResultEvent", "SendMessage", "ServerEvent", "ServerSnapshot",
    "SessionCounts", "SessionCreatedEvent", "SessionDeletedEvent", "SessionEntry", "SessionEvent", "SessionHistory",
    "SessionList", "SessionStateName", "SessionStatusEvent", "SessionStatusName", "SessionStatusView", "SetModel",
    "SetPermissionMode", "Stats", "StatusEvent", "StatusSnapshot", "TextDeltaEvent", "TextItem", "ThinkingItem",
    "ToolResultEvent", "ToolResultItem", "ToolUseItem", "TurnEvent", "TurnReply", "TurnStartedEvent", "WireModel",
    "parse_event",
]
