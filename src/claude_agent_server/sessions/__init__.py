"""Domain layer: sessions (durable records whose CLI processes come and go), their
events and permission requests. No HTTP here."""

from .errors import (
    CommandRejected,
    InvalidSessionRequest,
    PermissionNotFound,
    PromptTooLarge,
    ServerShuttingDown,
    SessionConflict,
    SessionError,
    SessionNotFound,
    SessionStartError,
    TooManySessions,
    TranscriptNotFound,
    TurnInProgress,
)
from .events import TURN_END, Event, EventClock, EventLog
from .manager import ManagerConfig, SessionManager
from .options import PERMISSION_MODES, ModelRoute, SessionSpec
from .permissions import PermissionDecision, PermissionRequest
from .request import SessionRequest
from .session import Session
from .workspace import parse_session_id

__all__ = [
    "CommandRejected",
    "PERMISSION_MODES",
    "TURN_END",
    "Event",
    "EventClock",
    "EventLog",
    "InvalidSessionRequest",
    "ManagerConfig",
    "ModelRoute",
    "PermissionDecision",
    "PermissionNotFound",
    "PermissionRequest",
    "PromptTooLarge",
    "ServerShuttingDown",
    "Session",
    "SessionConflict",
    "SessionError",
    "SessionManager",
    "SessionNotFound",
    "SessionRequest",
    "SessionSpec",
    "SessionStartError",
    "TooManySessions",
    "TranscriptNotFound",
    "TurnInProgress",
    "parse_session_id",
]
