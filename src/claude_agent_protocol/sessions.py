"""Replies of the session routes (``/sessions...``): list entries, status, history, turns."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, RootModel

from .base import Origin, SessionStateName, SessionStatusName, WireModel
from .content import ReplyItem
from .conversation import ForkPointView, QueuedMessage


class SessionEntry(WireModel):
    """A session of the registry, live or hibernated (``GET /sessions``, ``session_created`` events).

    Times are UTC ISO-8601; ``cost_usd`` is USD over every turn; tokens are summed over
    every turn (prompt tokens include cache reads and writes); ``model`` None means the
    server's default model.
    """

    session_id: str
    created_at: str
    last_activity: str
    title: str | None = None
    status: SessionStatusName
    state: SessionStateName
    turns: int = 0
    cost_usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cwd: str | None = None
    model: str | None = None
    permission_mode: str | None = None
    origin: Origin = "rest"
    node: str | None = None
    """The node whose CLI runs the session (a live one; None when hibernated)."""
    forked_from: ForkPointView | None = None
    """The session and message this one was forked from (None: not a fork)."""
    owner: str | None = None
    """The user whose key or token created it (None: made without sign-in)."""


class SessionCounts(WireModel):
    """Sessions with a CLI process (``live``, warm ones excluded), registry sessions without one
    (``hibernated``), and pre-connected clients waiting in the warm pool (``warm``)."""

    live: int
    hibernated: int
    warm: int


class SessionList(WireModel):
    """``GET /sessions``: newest activity first."""

    sessions: list[SessionEntry]
    counts: SessionCounts


class AvailableSession(WireModel):
    """A transcript inside the workspace that can be resumed (``GET /sessions/available``).

    ``live``: a CLI serves it now; ``state``: the registry's (live, hibernated, closed), or
    None for a transcript the registry does not know; ``file_size``: null (transcripts are
    kept in the registry's database, not in files; the field stays for older clients).
    """

    session_id: str
    modified: str | None = None
    created_at: str | None = None
    preview: str = ""
    project: str | None = None
    cwd: str | None = None
    git_branch: str | None = None
    file_size: int | None = None
    live: bool = False
    state: SessionStateName | None = None


class AvailableSessions(WireModel):
    """``GET /sessions/available``: newest first."""

    sessions: list[AvailableSession]


class CreatedSession(WireModel):
    """``POST /sessions`` (201): the session, connected."""

    session_id: str
    created_at: str
    status: Literal["connected"] = "connected"
    model: str | None = None
    cwd: str
    permission_mode: str
    origin: Origin = "rest"
    resumed: bool = False


class PermissionRequestView(WireModel):
    """A tool call waiting for a human: in ``/status`` and as a ``permission_request`` event.

    ``suggestions`` are the CLI's suggested permission updates in wire form (e.g.
    ``{"type": "addRules", "rules": [...], "behavior": "allow", "destination": "localSettings"}``),
    applied when the answer says ``apply_suggestions``. ``created_at``: UTC ISO-8601.
    """

    request_id: str
    tool_name: str
    tool_input: dict[str, Any] = Field(default_factory=dict)
    suggestions: list[dict[str, Any]] = Field(default_factory=list)
    tool_use_id: str | None = None
    created_at: str | None = None
    title: str | None = None
    description: str | None = None
    blocked_path: str | None = None
    decision_reason: str | None = None
    agent_id: str | None = None


class SessionStatusView(WireModel):
    """``GET /sessions/{id}/status``: what the session does now. Asking does not wake it.

    ``pending_permissions`` oldest first (``pending_permission``: the oldest, or None);
    ``last_event_id``: the newest event's id (a cursor for ``/events``); ``turn_event_id``:
    the id of the running turn's ``turn_started`` event (None while no turn runs), so
    ``/events?after=<turn_event_id - 1>`` replays the whole turn so far, then goes on live.
    """

    session_id: str
    status: SessionStatusName
    pending_permission: PermissionRequestView | None = None
    pending_permissions: list[PermissionRequestView] = Field(default_factory=list)
    current_model: str | None = None
    permission_mode: str | None = None
    last_event_id: int = 0
    turn_event_id: int | None = None
    cwd: str | None = None
    node: str | None = None
    """The node whose CLI runs the session (None while hibernated)."""
    queued: list[QueuedMessage] = Field(default_factory=list)
    """Messages waiting for the running turn to end (``mode: "queue"``), oldest first."""
    forked_from: ForkPointView | None = None
    """The session and message this one was forked from (None: not a fork)."""


class HistoryMessage(WireModel):
    """One transcript message (the SDK's ``SessionMessage``): ``type`` user or assistant,
    ``message`` the Anthropic message (``{role, content}``; content a string or blocks)."""

    type: str
    uuid: str
    session_id: str | None = None
    message: Any = None
    parent_tool_use_id: str | None = None
    parent_agent_id: str | None = None


class SessionHistory(WireModel):
    """``GET /sessions/{id}/history``: the transcript's messages, oldest first."""

    session_id: str
    messages: list[HistoryMessage]


class TurnReply(WireModel):
    """The blocking reply of one turn (``POST /sessions/{id}/messages``, AgentCore prompts).

    ``messages``: what the agent said and did (subagents' items left out); ``cost_usd`` is
    the CLI's running total for its process (USD), ``turn_cost_usd`` this turn's,
    ``session_cost_usd`` the session's total after it; ``duration_ms`` milliseconds; ``usage`` the model's token usage; ``error`` set (and
    ``is_error``) when the turn ended without a result (its process died, ...).
    """

    session_id: str
    messages: list[ReplyItem] = Field(default_factory=list)
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
    error: str | None = None
    session_cost_usd: float | None = None
    """The session's total (USD) after this turn, over every process it has had."""
    structured_output: Any = None
    """A session with an ``output_format``: the JSON value the agent answered (valid against the schema)."""


ForwardedReply = Annotated[
    Any,
    Field(
        title="ForwardedReply",
        description="An envelope's reply: the body of the route it names, exactly as that route answers and documents it "
        "(any JSON; a route with another media type, e.g. GET /metrics, keeps its own)",
    ),
]
"""What ``POST /invocations`` answers for a REST envelope (the named route's own body)."""


class InvocationReply(RootModel[Annotated[TurnReply | ForwardedReply, Field(union_mode="left_to_right")]]):
    """``POST /invocations``: an AgentCore prompt's :class:`TurnReply` (200), or an envelope's
    forwarded reply, whose status and body are those of the route it names."""


class InvocationCreated(RootModel[Annotated[CreatedSession | ForwardedReply, Field(union_mode="left_to_right")]]):
    """``POST /invocations`` answered 201: an envelope's ``POST /sessions`` (a :class:`CreatedSession`),
    or another route's 201 (a fork, a user, a key) forwarded as is."""


class InterruptReply(WireModel):
    """``POST /sessions/{id}/interrupt``."""

    status: Literal["interrupted"] = "interrupted"
    was_running: bool


class HibernateReply(WireModel):
    """``POST /sessions/{id}/hibernate``: ``was_live`` False when it was already hibernated."""

    status: Literal["hibernated"] = "hibernated"
    session_id: str
    was_live: bool


class CloseReply(WireModel):
    """``DELETE /sessions/{id}``."""

    status: Literal["closed"] = "closed"
    session_id: str


class ModelReply(WireModel):
    """``POST /sessions/{id}/model``: the model now in use (None: the default)."""

    status: Literal["ok"] = "ok"
    model: str | None = None


class PermissionModeReply(WireModel):
    """``POST /sessions/{id}/permission_mode``."""

    status: Literal["ok"] = "ok"
    mode: str


class PermissionAck(WireModel):
    """``POST /sessions/{id}/permissions/respond``: the answer was delivered."""

    status: Literal["ok"] = "ok"
    request_id: str
    allowed: bool
