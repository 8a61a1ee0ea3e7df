"""Domain layer: live sessions, their events and permission requests. No HTTP here."""

from .errors import (
    CommandRejected,
    InvalidSessionRequest,
    PermissionNotFound,
    SessionConflict,
    SessionError,
    SessionNotFound,
    SessionStartError,
    TooManySessions,
    TranscriptNotFound,
    TurnInProgress,
)
from .events import TURN_END, Event, EventLog
from .manager import ManagerConfig, SessionManager, parse_session_id
from .options import PERMISSION_MODES, ModelRoute
from .permissions import PermissionDecision, PermissionRequest
from .session import Session

__all__ = [
    "CommandRejected",
    "PERMISSION_MODES",
    "TURN_END",
    "Event",
    "EventLog",
    "InvalidSessionRequest",
    "ManagerConfig",
    "ModelRoute",
    "PermissionDecision",
    "PermissionNotFound",
    "PermissionRequest",
    "Session",
    "SessionConflict",
    "SessionError",
    "SessionManager",
    "SessionNotFound",
    "SessionStartError",
    "TooManySessions",
    "TranscriptNotFound",
    "TurnInProgress",
]
