"""SDK-free client for claude-agent-server: a typed HTTP/SSE library and a terminal app.

Library use::

    from claude_agent_client import AgentClient, EventFollower

Replies and events are the models of :mod:`claude_agent_protocol` (the server's wire
contract); :mod:`claude_agent_client.wire` reads them so that a newer server's statuses,
fields, items and event types do not break this client. The interactive client
(``claude-agent-client``) lives in :mod:`claude_agent_client.app`.
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
from .stream import EventFollower
from .wire import (
    AvailableSession,
    CreatedSession,
    SessionEntry,
    SessionStatusView,
    StatusEvent,
    StatusSnapshot,
)

__all__ = [
    "APIError",
    "AgentClient",
    "AuthenticationError",
    "AvailableSession",
    "ClientError",
    "Conflict",
    "CreatedSession",
    "EventFollower",
    "InvalidRequest",
    "NotFound",
    "ServerError",
    "ServerUnavailable",
    "SessionEntry",
    "SessionStatusView",
    "StatusEvent",
    "StatusSnapshot",
]
