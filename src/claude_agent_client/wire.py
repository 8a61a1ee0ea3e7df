"""The server's replies and events as this client reads them: claude_agent_protocol's models,
read so that a newer server cannot break an older client.

- Fields a newer server adds are ignored (every protocol model ignores unknown fields).
- A status, state or origin a newer server adds is kept as it is: the few models below
  re-declare those fields as ``str``; every other field is the protocol's.
- A list item of a kind this client does not know (a reply item, a content item) is
  dropped, and logged.
- An event of a type this client does not know is skipped (:func:`read_event` returns None),
  and logged.

Anything else that does not match the contract raises :class:`pydantic.ValidationError`.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import claude_agent_protocol as protocol
from claude_agent_protocol import TURN_END
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

__all__ = [
    "BUSY",
    "TURN_END",
    "AvailableSession",
    "AvailableSessions",
    "CreatedSession",
    "SessionEntry",
    "SessionEvent",
    "SessionList",
    "SessionStatusView",
    "StatusEvent",
    "StatusSnapshot",
    "StreamItem",
    "history_content",
    "history_text",
    "parse_time",
    "read",
    "read_event",
]

log = logging.getLogger(__name__)

BUSY = frozenset({"running", "waiting_permission"})
"""Statuses of a session whose turn is running (or waiting for a permission answer)."""

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class SessionEntry(protocol.SessionEntry):
    """A session of the server's registry (``GET /sessions``); see the protocol's model."""

    status: str  # type: ignore[assignment]
    state: str  # type: ignore[assignment]
    origin: str = "rest"  # type: ignore[assignment]


class SessionList(protocol.SessionList):
    """``GET /sessions``."""

    sessions: list[SessionEntry]  # type: ignore[assignment]


class AvailableSession(protocol.AvailableSession):
    """A resumable transcript (``GET /sessions/available``); see the protocol's model."""

    state: str | None = None  # type: ignore[assignment]


class AvailableSessions(protocol.AvailableSessions):
    """``GET /sessions/available``."""

    sessions: list[AvailableSession]  # type: ignore[assignment]


class CreatedSession(protocol.CreatedSession):
    """``POST /sessions`` (201); see the protocol's model."""

    status: str = "connected"  # type: ignore[assignment]
    origin: str = "rest"  # type: ignore[assignment]


class SessionStatusView(protocol.SessionStatusView):
    """``GET /sessions/{id}/status``; see the protocol's model."""

    status: str  # type: ignore[assignment]

    @property
    def busy(self) -> bool:
        """True while a turn runs or waits for a permission answer."""
        return self.status in BUSY

    @property
    def hibernated(self) -> bool:
        """True when no Claude Code process serves the session (the next message wakes it)."""
        return self.status == "hibernated"


class StatusSnapshot(SessionStatusView, protocol.StatusSnapshot):
    """The first frame of a session's event stream (no ``id``): its status then."""


class StatusEvent(protocol.StatusEvent):
    """The session's status changed."""

    status: str  # type: ignore[assignment]


SessionEvent = Annotated[protocol.TurnEvent | StatusEvent, Field(discriminator="type")]
"""An event of one session's stream, as this client reads it."""
StreamItem = protocol.TurnEvent | StatusEvent | StatusSnapshot
"""What a session's stream yields: its events, and the snapshot that opens each connection."""
_EVENTS: TypeAdapter[Any] = TypeAdapter(SessionEvent)


def read(model: type[M], data: Any) -> M:
    """``data`` (a reply's JSON) as ``model``; list items of a kind this client does not
    know are dropped.

    Raises:
        pydantic.ValidationError: ``data`` does not match the contract otherwise.
    """
    return _tolerant(model.model_validate, data)


def read_event(data: dict[str, Any]) -> StreamItem | None:
    """One SSE frame's JSON as an event (a protocol event model, or :class:`StatusEvent`),
    or a :class:`StatusSnapshot` for the id-less ``status`` frame that opens a stream.

    Returns None (and logs it) for an event of a type this client does not know.

    Raises:
        pydantic.ValidationError: A known event that does not match the contract.
    """
    if data.get("id") is None and data.get("type") == "status":
        return _tolerant(StatusSnapshot.model_validate, data)
    try:
        return _tolerant(_EVENTS.validate_python, data)
    except ValidationError as exc:
        if any(error["type"] == "union_tag_invalid" and not error["loc"] for error in exc.errors()):
            log.info("skipped an event of a type this client does not know: %r", data.get("type"))
            return None
        raise


def _tolerant(validate: Callable[[Any], T], data: Any) -> T:
    """``validate(data)``, again without the list items whose kind (``type``) is unknown."""
    try:
        return validate(data)
    except ValidationError as exc:
        unknown = [
            (e["loc"][:-1], e["loc"][-1]) for e in exc.errors()
            if e["type"] == "union_tag_invalid" and e["loc"] and isinstance(e["loc"][-1], int)
        ]
        if not unknown:
            raise
        pruned = copy.deepcopy(data)
        for path, index in sorted(unknown, key=lambda item: int(item[1]), reverse=True):  # later items first: indices stay valid
            container = _container(pruned, path)
            if isinstance(container, list) and isinstance(index, int) and 0 <= index < len(container):
                log.info("dropped an item of a kind this client does not know: %r", container[index])
                del container[index]
        return validate(pruned)


def _container(data: Any, loc: tuple[Any, ...]) -> Any:
    """The value at an error's ``loc`` inside ``data`` (a discriminated union's tag, which
    pydantic puts in ``loc``, is stepped over)."""
    for part in loc:
        if isinstance(data, dict) and data.get("type") == part:
            continue  # the tag of a discriminated union
        if isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        elif isinstance(data, dict) and part in data:
            data = data[part]
        else:
            return None
    return data


def parse_time(iso: str | None) -> datetime | None:
    """A server time (UTC ISO-8601, ``Z`` or offset; naive means UTC) as an aware datetime;
    None when missing or unparsable."""
    try:
        then = datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
    except ValueError:
        return None
    return then if then.tzinfo is not None else then.replace(tzinfo=UTC)


def history_content(message: protocol.HistoryMessage) -> tuple[str, Any]:
    """A transcript message's role (``user``, ``assistant``; else its ``type``) and content:
    a string, or a list of Anthropic content blocks (``{type: text|tool_use|tool_result|thinking, ...}``)."""
    body = message.message if isinstance(message.message, dict) else {}
    return str(body.get("role") or message.type), body.get("content")


def history_text(message: protocol.HistoryMessage) -> str:
    """A transcript message's plain text (its text blocks joined), without tool blocks."""
    content = history_content(message)[1]
    if isinstance(content, str):
        return content
    blocks = content if isinstance(content, list) else []
    return "\n\n".join(str(b.get("text", "")) for b in blocks if isinstance(b, dict) and b.get("type") == "text")
