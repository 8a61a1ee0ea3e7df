"""What a :class:`~.session.Session` needs from its manager: the live cap, SDK options, the registry."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from claude_agent_sdk import ClaudeAgentOptions

from ..store import Registry
from .config import ManagerConfig
from .options import PromptFiles
from .owner import SDKClient

if TYPE_CHECKING:
    from .session import Session
    from .transcripts import Transcripts


class SessionHost(Protocol):
    """What a session needs from its manager (the live cap, options, the registry)."""

    transcripts: Transcripts
    registry: Registry
    """The registry (parked permission requests: ``registry.parked``, see :mod:`.parking`)."""
    config: ManagerConfig
    """The session layer's settings (``parked_permission_timeout``)."""

    def options(
        self, session: Session, can_use_tool: Callable[..., Any], stderr: Callable[[str], None], files: PromptFiles | None = None
    ) -> ClaudeAgentOptions:
        """SDK options for the session's next process (its spec, route and launcher); large
        system prompts are written to ``files``, which the caller removes once the CLI started."""

    def make_client(self, options: ClaudeAgentOptions) -> SDKClient: ...

    def admit(self, session: Session) -> None:
        """Refuse new work while the server stops.

        Raises:
            ServerShuttingDown: It does.
        """

    def reserve(self, session: Session) -> asyncio.Task[None] | None:
        """Reserve a live slot for the session's process now, with no ``await`` between the
        check and the reservation (it may begin hibernating another session).

        Returns:
            The other session's stop, to await (shielded) before the process starts; None
            when a slot was free.

        Raises:
            TooManySessions: Every live session is busy (nothing reserved).
            ServerShuttingDown: The server is stopping.
        """

    async def lease(self, session: Session) -> None:
        """Take the session's cluster lease before its CLI starts (raises ``SessionElsewhere``)."""

    def lease_current(self, session: Session) -> bool:
        """Whether the session may write now: False once this node cannot vouch for the lease of
        a session it runs (it stalled), and then the session is fenced at once (see ``cluster.py``). No I/O."""

    def unlease(self, session: Session) -> None:
        """Give the lease back when the start is refused before a slot was reserved."""

    node_id: str
    """This server's node id."""
    async def check_spend(self, session: Session) -> None:
        """Refuse a turn once the session's owner reached a spending limit.

        Raises:
            SpendingLimitReached: They did.
        """

    def release(self, session: Session) -> None:
        """The session's process is gone; its slot is free. Idempotent."""

    async def has_transcript(self, session: Session) -> bool:
        """Whether Claude Code wrote a transcript for the session (then a wake resumes it)."""

    def changed(self, session: Session, status_changed: bool) -> None:
        """The session's record changed (persist it; announce a new status)."""
