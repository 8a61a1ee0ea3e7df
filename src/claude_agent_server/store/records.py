"""What the registry stores: session records and event records (plain dataclasses, no SQL)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

SessionState = Literal["live", "hibernated", "closed"]
"""``live``: a CLI process serves the session; ``hibernated``: none does, the next
use resumes its transcript; ``closed``: closed for good (``DELETE``), revived only
by an explicit resume."""


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class SessionRecord:
    """One session the server knows, as the registry keeps it.

    ``spec`` is the JSON form of what the session was created with and last set:
    ``{model, cwd, permission_mode, system_prompt, append_system_prompt,
    allowed_tools, disallowed_tools, max_turns, enable_proxy, background_model}``.
    Times are timezone-aware UTC; ``cost_usd`` in USD; tokens summed over turns.
    """

    session_id: str
    spec: dict[str, Any]
    created_at: datetime = field(default_factory=utcnow)
    last_activity: datetime = field(default_factory=utcnow)
    title: str | None = None
    state: SessionState = "live"
    status: str = "connecting"
    """The last status the session reported (``connected``, ``running``, ``hibernated``, ...)."""
    turns: int = 0
    cost_usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    agentcore_session_id: str | None = None
    """The AWS AgentCore runtime-session header this session serves, if any."""
    origin: str = "rest"
    """The API that created the session: ``rest``, ``agentcore``, ``opencode``, ``gateway``, ``dashboard``."""
    owner: str | None = None
    """The user whose key or token created it (None: made without a user, e.g. with auth off)."""


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One persisted event.

    ``id`` is unique across the whole server and increases with time (the
    global stream's id, and also the id of a session's event in its own stream).
    ``server`` marks lifecycle events of the global stream only
    (``session_created``, ``session_status``, ``session_deleted``); a session's own
    stream never includes them. ``created_at`` is UTC ISO-8601.
    """

    id: int
    session_id: str | None
    type: str
    data: dict[str, Any]
    created_at: str
    server: bool = False
