"""The live cap: which sessions hold one of the ``cap`` Claude Code process slots, and who makes room.

A session takes a slot before its CLI starts and gives it back once the CLI is
gone. At the cap the newest warm session is closed first, else the least
recently used idle session is hibernated; the newcomer's CLI starts only after
that one has exited, so processes never exceed the cap. Each check and the
reservation it guards happen in one step, with no ``await`` between them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Iterator

from .errors import TooManySessions
from .pool import WarmPool
from .session import Session

log = logging.getLogger(__name__)


class LiveSlots:
    """Process slots of one server.

    Args:
        cap: Claude Code processes at most.
        retry_after: Seconds a refused caller is told to wait.
        pool: The warm pool, whose sessions go first.
        loaded_live: The loaded sessions holding slots (candidates for hibernation).
    """

    def __init__(self, cap: int, retry_after: int, pool: WarmPool, loaded_live: Callable[[], Iterable[Session]]) -> None:
        self.cap = cap
        self._retry_after = retry_after
        self._pool = pool
        self._loaded_live = loaded_live
        self._held: set[str] = set()
        self._warm: set[str] = set()
        """Warm sessions (started for the pool, not yet taken): they never make room."""

    def __len__(self) -> int:
        return len(self._held)

    def __contains__(self, session_id: object) -> bool:
        return session_id in self._held

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._held))

    def has_room(self) -> bool:
        return len(self._held) < self.cap

    def warm(self, session_id: str, warm: bool = True) -> None:
        """Mark a session as warm (or as taken from the pool)."""
        (self._warm.add if warm else self._warm.discard)(session_id)

    def reserve(self, session: Session) -> asyncio.Task[None] | None:
        """Take a slot for ``session`` now, making room if the cap is reached; the check and
        the reservation happen in this call, with no ``await`` between them.

        Returns:
            The stop of the session whose slot it took, to await (shielded) before the
            session's CLI starts; None when a slot was free.

        Raises:
            TooManySessions: Every slot is held by a busy session (or ``session`` is warm);
                nothing is reserved.
        """
        if session.id in self._held:
            return None
        stopping: asyncio.Task[None] | None = None
        if len(self._held) >= self.cap:
            if session.id in self._warm:
                raise TooManySessions(self.cap, self._retry_after)
            if (warm := self._pool.evict()) is not None:
                stopping = warm.begin_close()
            else:
                victim = min((s for s in self._loaded_live() if s.idle), key=lambda s: s.last_activity, default=None)
                if victim is None:
                    raise TooManySessions(self.cap, self._retry_after)
                log.info("hibernating session %s (least recently used) to make room for %s", victim.id, session.id)
                stopping = victim.begin_hibernate()  # claimed now: nobody else picks or uses it
        self._held.add(session.id)
        return stopping

    def release(self, session_id: str) -> None:
        """The session's CLI is gone. Idempotent."""
        self._held.discard(session_id)
        self._warm.discard(session_id)

