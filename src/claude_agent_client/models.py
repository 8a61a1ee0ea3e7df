"""Typed views of the server's JSON replies.

Each dataclass keeps the documented fields as attributes and the whole JSON
object in ``raw``, so fields a newer server adds are not lost. Times are as the
server sends them: UTC ISO-8601 strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "AvailableSession",
    "CreatedSession",
    "Event",
    "Health",
    "HistoryMessage",
    "LiveSession",
    "PermissionRequest",
    "SessionStatus",
    "TurnReply",
    "TURN_END",
]

TURN_END = frozenset({"result", "error"})
"""Event types that end a turn."""


@dataclass(frozen=True, slots=True)
class Health:
    """``GET /health``."""

    status: str
    active_sessions: int
    timestamp: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Health:
        return cls(data.get("status", ""), int(data.get("active_sessions", 0)), data.get("timestamp", ""))


@dataclass(frozen=True, slots=True)
class CreatedSession:
    """``POST /sessions`` (201)."""

    session_id: str
    created_at: str
    status: str
    model: str | None
    cwd: str
    permission_mode: str
    resumed: bool

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CreatedSession:
        return cls(
            data["session_id"], data.get("created_at", ""), data.get("status", ""), data.get("model"),
            data.get("cwd", ""), data.get("permission_mode", "default"), bool(data.get("resumed")),
        )


@dataclass(frozen=True, slots=True)
class LiveSession:
    """One entry of ``GET /sessions``."""

    session_id: str
    status: str
    created_at: str
    last_activity: str
    message_count: int
    cwd: str
    model: str | None
    permission_mode: str | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LiveSession:
        return cls(
            data["session_id"], data.get("status", ""), data.get("created_at", ""), data.get("last_activity", ""),
            int(data.get("message_count") or 0), data.get("cwd", ""), data.get("model"), data.get("permission_mode"),
        )


@dataclass(frozen=True, slots=True)
class AvailableSession:
    """One entry of ``GET /sessions/available``: a transcript on disk that can be resumed."""

    session_id: str
    modified: str
    preview: str
    project: str
    cwd: str
    live: bool
    created_at: str | None = None
    git_branch: str | None = None
    file_size: int | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AvailableSession:
        return cls(
            data["session_id"], data.get("modified", ""), data.get("preview") or "", data.get("project") or "",
            data.get("cwd") or "", bool(data.get("live")), data.get("created_at"), data.get("git_branch"),
            data.get("file_size"),
        )


@dataclass(frozen=True, slots=True)
class PermissionRequest:
    """A tool call waiting for a human (``permission_request`` event or ``/status`` entry)."""

    request_id: str
    tool_name: str
    tool_input: dict[str, Any]
    suggestions: list[dict[str, Any]] = field(default_factory=list)
    tool_use_id: str | None = None
    title: str | None = None
    description: str | None = None
    blocked_path: str | None = None
    decision_reason: str | None = None
    agent_id: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PermissionRequest:
        return cls(
            data["request_id"], data.get("tool_name", "?"), dict(data.get("tool_input") or {}),
            list(data.get("suggestions") or []), data.get("tool_use_id"), data.get("title"), data.get("description"),
            data.get("blocked_path"), data.get("decision_reason"), data.get("agent_id"),
        )


@dataclass(frozen=True, slots=True)
class SessionStatus:
    """``GET /sessions/{id}/status`` (also the first frame of ``/events``).

    ``status`` is one of connecting, connected, running, waiting_permission, closed.
    """

    session_id: str
    status: str
    pending_permissions: list[PermissionRequest]
    current_model: str | None
    permission_mode: str | None
    last_event_id: int
    cwd: str

    @property
    def busy(self) -> bool:
        """True while a turn runs or waits for a permission."""
        return self.status in ("running", "waiting_permission")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SessionStatus:
        return cls(
            data.get("session_id", ""), data.get("status", ""),
            [PermissionRequest.from_json(p) for p in data.get("pending_permissions") or []],
            data.get("current_model"), data.get("permission_mode"), int(data.get("last_event_id") or 0),
            data.get("cwd", ""),
        )


@dataclass(frozen=True, slots=True)
class HistoryMessage:
    """One transcript message of ``GET /sessions/{id}/history``.

    ``content`` is a string or a list of Anthropic content blocks
    (``{type: text|tool_use|tool_result|thinking, ...}``).
    """

    type: str
    uuid: str
    role: str
    content: Any

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HistoryMessage:
        message = data.get("message") or {}
        return cls(data.get("type", ""), data.get("uuid", ""), message.get("role", data.get("type", "")), message.get("content"))

    @property
    def text(self) -> str:
        """The message's plain text (text blocks joined), without tool blocks."""
        if isinstance(self.content, str):
            return self.content
        return "\n\n".join(b.get("text", "") for b in self.content or [] if isinstance(b, dict) and b.get("type") == "text")


@dataclass(frozen=True, slots=True)
class TurnReply:
    """The blocking reply of ``POST /sessions/{id}/messages``.

    ``messages`` items: ``{type:"text",content}``, ``{type:"tool_use",tool_use_id,tool_name,tool_input}``,
    ``{type:"thinking",content}``, ``{type:"tool_result",tool_use_id,content,is_error}``.
    """

    session_id: str
    messages: list[dict[str, Any]]
    result: str | None
    cost_usd: float | None
    num_turns: int
    duration_ms: int
    is_error: bool
    stop_reason: str | None
    terminal_reason: str | None
    raw: dict[str, Any]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TurnReply:
        return cls(
            data.get("session_id", ""), list(data.get("messages") or []), data.get("result"), data.get("cost_usd"),
            int(data.get("num_turns") or 0), int(data.get("duration_ms") or 0), bool(data.get("is_error")),
            data.get("stop_reason"), data.get("terminal_reason"), data,
        )


@dataclass(frozen=True, slots=True)
class Event:
    """One Server-Sent Event of a session.

    Attributes:
        type: ``turn_started``, ``text_delta``, ``assistant_message``, ``tool_result``,
            ``permission_request``, ``permission_resolved``, ``result``, ``error`` or ``status``.
        id: The per-session event id; ``None`` for the ``status`` snapshot that opens
            every ``/events`` stream.
        data: The whole JSON payload (``{id, type, session_id, created_at, ...}``).
    """

    type: str
    id: int | None
    data: dict[str, Any]

    @property
    def is_snapshot(self) -> bool:
        """True for the id-less ``status`` frame sent first on every ``/events`` connection."""
        return self.id is None and self.type == "status"

    @property
    def ends_turn(self) -> bool:
        return self.type in TURN_END

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    @classmethod
    def from_json(cls, event_type: str | None, data: dict[str, Any]) -> Event:
        raw_id = data.get("id")
        return cls(event_type or data.get("type", "message"), int(raw_id) if raw_id is not None else None, data)
