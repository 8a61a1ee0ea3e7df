"""SDK-free client for claude-agent-server: a typed HTTP/SSE library and a terminal app.

Library use::

    from claude_agent_client import AgentClient, EventFollower

The interactive client (``claude-agent-client``) lives in :mod:`claude_agent_client.app`.
"""

from .api import AgentClient
from .errors import (
    APIError,
    AuthenticationError,
    ClientError,
    Conflict,
    InvalidRequest,
    NotFound,
    ServerError,
    ServerUnavailable,
)
from .models import (
    AvailableSession,
    CreatedSession,
    Event,
    Health,
    HistoryMessage,
    LiveSession,
    PermissionRequest,
    SessionStatus,
    TurnReply,
)
from .stream import EventFollower

__all__ = [
    "APIError",
    "AgentClient",
    "AuthenticationError",
    "AvailableSession",
    "ClientError",
    "Conflict",
    "CreatedSession",
    "Event",
    "EventFollower",
    "Health",
    "HistoryMessage",
    "InvalidRequest",
    "LiveSession",
    "NotFound",
    "PermissionRequest",
    "ServerError",
    "ServerUnavailable",
    "SessionStatus",
    "TurnReply",
]
