"""Events: what a session does, as it does it. A discriminated union on ``type``.

Every event has ``id`` (an integer that only increases within a stream; not contiguous),
``type``, ``session_id`` and ``created_at`` (UTC ISO-8601). One ordered stream per session
feeds the blocking reply, SSE (``GET /sessions/{id}/events``), ``/status`` and permissions;
the server's stream (``GET /events``) carries every session's events except ``status``, plus
the lifecycle events ``session_created``, ``session_status`` and ``session_deleted``.

An SSE frame's ``id:`` is the event's id, its ``event:`` the type and its ``data:`` the
event's JSON. Each stream opens with a snapshot frame without an id: :class:`StatusSnapshot`
on a session's stream, :class:`ServerSnapshot` on the server's.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter

from .base import SessionStateName, SessionStatusName, WireModel
from .content import ReplyItem
from .sessions import PermissionRequestView, SessionCounts, SessionEntry, SessionStatusView


class EventBase(WireModel):
    """What every event carries."""

    id: int
    session_id: str | None = None
    created_at: str


class TurnStartedEvent(EventBase):
    """A turn began with this prompt."""

    type: Literal["turn_started"] = "turn_started"
    message: str
    user_message_uuid: str | None = None
    """The prompt's transcript uuid (what fork and rewind take as ``message_id``)."""


class TextDeltaEvent(EventBase):
    """A piece of text as the model streams it (not stored: replays skip it; the
    ``assistant_message`` that follows holds the whole text)."""

    type: Literal["text_delta"] = "text_delta"
    text: str
    parent_tool_use_id: str | None = None


class AssistantMessageEvent(EventBase):
    """One assistant message of the turn: text, thinking and tool calls (``parent_tool_use_id``
    set for a subagent's); ``error`` names an API error the CLI reported, if any."""

    type: Literal["assistant_message"] = "assistant_message"
    uuid: str | None = None
    """This message's transcript uuid (what fork takes as ``message_id``)."""
    model: str | None = None
    content: list[ReplyItem] = Field(default_factory=list)
    parent_tool_use_id: str | None = None
    error: str | None = None


class ToolResultEvent(EventBase):
    """A tool's result, as text."""

    type: Literal["tool_result"] = "tool_result"
    tool_use_id: str
    content: str = ""
    is_error: bool = False
    parent_tool_use_id: str | None = None


class PermissionRequestEvent(EventBase, PermissionRequestView):
    """A tool call waits for a human (answer with ``POST /sessions/{id}/permissions/respond``);
    ``created_at`` is the request's."""

    type: Literal["permission_request"] = "permission_request"


class PermissionResolvedEvent(EventBase):
    """A permission request ended. ``reason``: ``user`` (answered), ``timeout``,
    ``interrupted``, ``session_closed``, ``server_shutdown``, ``cancelled`` (by the CLI),
    ``policy`` (the session's permission policy denied it), ``lost`` (a parked call that could
    not be resumed: the CLI had not written it); ``applied_suggestions``: the
    suggested rules were applied ("always allow"); ``message``: why it was denied."""

    type: Literal["permission_resolved"] = "permission_resolved"
    request_id: str
    tool_use_id: str | None = None
    allowed: bool
    applied_suggestions: bool = False
    reason: str = "user"
    message: str | None = None


class ResultEvent(EventBase):
    """The turn ended with a result. ``cost_usd``: the CLI's running total for its process
    (USD); ``turn_cost_usd``: this turn's; ``session_cost_usd``: the session's total after it
    (every turn, across processes); ``duration_ms``: milliseconds; ``subtype``: the SDK's
    (``success``, ``error_max_turns``, ...)."""

    type: Literal["result"] = "result"
    result: str | None = None
    cost_usd: float | None = None
    turn_cost_usd: float | None = None
    session_cost_usd: float | None = None
    num_turns: int = 0
    duration_ms: int = 0
    usage: dict[str, Any] | None = None
    is_error: bool = False
    stop_reason: str | None = None
    terminal_reason: str | None = None
    subtype: str | None = None
    errors: list[str] | None = None
    structured_output: Any = None
    """A session with an ``output_format``: the JSON value the agent answered (valid against the schema)."""
    user_message_uuid: str | None = None
    """The transcript uuid of the prompt this turn answered (the ``turn_started`` event's)."""


class ErrorEvent(EventBase):
    """The turn ended without a result. ``reason``: ``process_exited`` (the CLI died),
    ``server_restart`` (the server stopped during the turn), ``session_closed``,
    ``send_failed``, ``permission_parked`` (the process stopped while a permission request
    waited: the request is parked and its answer continues the turn in a new one),
    ``wake_failed`` (that continuation could not wake the session)."""

    type: Literal["error"] = "error"
    message: str
    reason: str


class StatusEvent(EventBase):
    """The session's status changed (session streams only)."""

    type: Literal["status"] = "status"
    status: SessionStatusName


class SessionCreatedEvent(EventBase):
    """A session was created (server stream only)."""

    type: Literal["session_created"] = "session_created"
    session: SessionEntry


class SessionStatusEvent(EventBase):
    """A session's status changed (server stream only)."""

    type: Literal["session_status"] = "session_status"
    status: SessionStatusName
    state: SessionStateName


class SessionDeletedEvent(EventBase):
    """A session was closed for good (server stream only)."""

    type: Literal["session_deleted"] = "session_deleted"


TurnEvent = (
    TurnStartedEvent | TextDeltaEvent | AssistantMessageEvent | ToolResultEvent
    | PermissionRequestEvent | PermissionResolvedEvent | ResultEvent | ErrorEvent
)
"""The events of a turn (both streams)."""
SessionEvent = Annotated[TurnEvent | StatusEvent, Field(discriminator="type")]
"""An event of one session's stream (``GET /sessions/{id}/events``, turn streams)."""
ServerEvent = Annotated[
    TurnEvent | SessionCreatedEvent | SessionStatusEvent | SessionDeletedEvent, Field(discriminator="type")
]
"""An event of the server's stream (``GET /events``)."""
Event = Annotated[
    TurnEvent | StatusEvent | SessionCreatedEvent | SessionStatusEvent | SessionDeletedEvent,
    Field(discriminator="type"),
]
"""Any event."""
EventType = Literal[
    "turn_started", "text_delta", "assistant_message", "tool_result", "permission_request",
    "permission_resolved", "result", "error", "status", "session_created", "session_status", "session_deleted",
]
TURN_END: frozenset[str] = frozenset({"result", "error"})
"""Event types that end a turn."""


class StatusSnapshot(SessionStatusView):
    """The first frame of a session's stream (no ``id``): its status now."""

    type: Literal["status"] = "status"


class ServerSnapshot(WireModel):
    """The first frame of the server's stream (no ``id``): session counts and the newest event id."""

    type: Literal["snapshot"] = "snapshot"
    sessions: SessionCounts
    last_event_id: int


EVENT_ADAPTER: TypeAdapter[Any] = TypeAdapter(Event)


def parse_event(data: str | bytes | dict[str, Any]) -> Any:
    """An event from its JSON text or object.

    Raises:
        pydantic.ValidationError: Not an event this version knows (an unknown ``type``, a
            missing field).
    """
    if isinstance(data, dict):
        return EVENT_ADAPTER.validate_python(data)
    return EVENT_ADAPTER.validate_json(data)
