"""Typed views of the server's JSON replies.

Each dataclass keeps the documented fields as attributes and the whole JSON
object in ``raw``, so fields a newer server adds are not lost. Times are as the
server sends them: UTC ISO-8601 strings (:func:`parse_time` reads them).

A session the server knows is ``live`` (a Claude Code process serves it) or
``hibernated`` (no process; the next message wakes it); ``closed`` sessions are
gone from the server's list but their transcripts stay resumable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "AvailableSession",
    "CreatedSession",
    "Event",
    "Health",
    "HistoryMessage",
    "LiveSession",
    "PermissionRequest",
    "SessionChoice",
    "SessionStatus",
    "TurnReply",
    "TURN_END",
    "parse_time",
]

TURN_END = frozenset({"result", "error"})
"""Event types that end a turn."""


def parse_time(iso: str | None) -> datetime | None:
    """A server time (UTC ISO-8601, ``Z`` or offset; naive means UTC) as an aware datetime;
    None when missing or unparsable."""
    try:
        then = datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
    except ValueError:
        return None
    return then if then.tzinfo is not None else then.replace(tzinfo=UTC)


def _int(value: Any) -> int:
    return int(value or 0)


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
    """One entry of ``GET /sessions``: a session the server knows, live or hibernated.

    Older servers list only live sessions and send neither ``state``, ``title`` nor
    the usage totals; those then default to ``live``, None and 0.

    Attributes:
        status: connecting, waking, connected, running, waiting_permission or hibernated.
        state: ``live`` (a Claude Code process serves it) or ``hibernated``.
        title: The first user message, trimmed (None before the first one).
        turns: Turns run so far. cost_usd: Their cost in USD.
        input_tokens, output_tokens: Tokens summed over those turns.
    """

    session_id: str
    status: str
    created_at: str
    last_activity: str
    message_count: int
    cwd: str
    model: str | None
    permission_mode: str | None
    state: str = "live"
    title: str | None = None
    turns: int = 0
    cost_usd: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LiveSession:
        status = data.get("status") or ""
        state = data.get("state") or ("hibernated" if status == "hibernated" else "live")
        cost = data.get("cost_usd")
        return cls(
            data["session_id"], status, data.get("created_at") or "", data.get("last_activity") or "",
            _int(data.get("message_count")), data.get("cwd") or "", data.get("model"), data.get("permission_mode"),
            state, data.get("title") or None, _int(data.get("turns")), float(cost) if cost is not None else None,
            _int(data.get("input_tokens")), _int(data.get("output_tokens")),
        )


@dataclass(frozen=True, slots=True)
class AvailableSession:
    """One entry of ``GET /sessions/available``: a transcript on disk that can be resumed.

    ``live`` is True while a Claude Code process serves the session; ``state`` is the
    server's registry state (``live``, ``hibernated``, ``closed``), or None for a
    transcript the registry does not know (and on older servers).
    """

    session_id: str
    modified: str
    preview: str
    project: str
    cwd: str
    live: bool
    created_at: str | None = None
    git_branch: str | None = None
    file_size: int | None = None
    state: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AvailableSession:
        return cls(
            data["session_id"], data.get("modified", ""), data.get("preview") or "", data.get("project") or "",
            data.get("cwd") or "", bool(data.get("live")), data.get("created_at"), data.get("git_branch"),
            data.get("file_size"), data.get("state"),
        )


@dataclass(frozen=True, slots=True)
class SessionChoice:
    """One row of the session picker: a session the server knows, a transcript on disk, or both.

    Attributes:
        session_id: The session.
        when: Its newest activity (UTC ISO-8601): the later of the registry's
            ``last_activity`` and the transcript's ``modified``.
        preview: The transcript's preview, else the registry's ``title``, else "".
        project: The project directory's name.
        cwd: The session's working directory.
        state: ``live`` or ``hibernated`` for a session the server holds (choosing it
            attaches); None for a transcript only, or a closed session (choosing it
            resumes the transcript).
    """

    session_id: str
    when: str
    preview: str
    project: str
    cwd: str
    state: str | None

    @property
    def moment(self) -> datetime:
        """``when`` as an aware datetime (the epoch when it is unparsable), for sorting."""
        return parse_time(self.when) or datetime(1970, 1, 1, tzinfo=UTC)

    @classmethod
    def from_registry(cls, session: LiveSession) -> SessionChoice:
        return cls(session.session_id, session.last_activity or session.created_at, session.title or "",
                   _basename(session.cwd), session.cwd, session.state)

    @classmethod
    def from_transcript(cls, transcript: AvailableSession) -> SessionChoice:
        state = transcript.state if transcript.state in ("live", "hibernated") else None
        if state is None and transcript.state is None and transcript.live:
            state = "live"  # an older server: no registry state, only the live flag
        return cls(transcript.session_id, transcript.modified, transcript.preview,
                   transcript.project or _basename(transcript.cwd), transcript.cwd, state)

    def merged(self, transcript: SessionChoice) -> SessionChoice:
        """This registry row completed by the same session's transcript row."""
        newest = max(self, transcript, key=lambda row: row.moment).when
        return SessionChoice(self.session_id, newest, transcript.preview or self.preview,
                             transcript.project or self.project, self.cwd or transcript.cwd, self.state)


def _basename(path: str) -> str:
    return path.rstrip("/").rpartition("/")[2]


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

    ``status`` is one of connecting, waking (a hibernated session is starting its
    Claude Code process again), connected, running, waiting_permission, hibernated
    (no process; the next message wakes it) or closed.
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

    @property
    def hibernated(self) -> bool:
        """True when no Claude Code process serves the session (the next message wakes it)."""
        return self.status == "hibernated"

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
        id: The event id: increasing within a stream but not contiguous (gaps are
            normal); ``None`` for the ``status`` snapshot that opens every ``/events`` stream.
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
