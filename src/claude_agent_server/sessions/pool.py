"""The warm pool: pre-connected sessions for the default spec, so ``POST /sessions`` need not wait for a CLI.

A warm session is a :class:`~.session.Session` whose CLI is connected with a
pre-assigned session id and the server's default spec, but which the registry
does not know yet: nothing of it is persisted or listed, and a CLI that was
never sent a query writes no transcript, so an unused warm session leaves
nothing behind. Warm sessions hold live slots; they only fill free ones, and
are the first to go when the live cap needs room.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from .options import SessionSpec
from .session import Session

log = logging.getLogger(__name__)


class WarmPool:
    """Up to ``size`` warm sessions, refilled in the background.

    Args:
        size: Warm sessions to keep (0: none).
        start_one: Starts one warm session and returns it once connected (raises
            when it cannot, e.g. no free live slot).
        has_room: Whether a free live slot exists now (warm sessions never make room).
    """

    def __init__(self, size: int, start_one: Callable[[], Awaitable[Session]], has_room: Callable[[], bool]) -> None:
        self.size = size
        self._start_one = start_one
        self._has_room = has_room
        self._ready: deque[Session] = deque()
        self._starting = 0
        self._filling: asyncio.Task[None] | None = None
        self._closed = False

    def __len__(self) -> int:
        return len(self._ready)

    def take(self, accepts: Callable[[SessionSpec], bool]) -> Session | None:
        """A connected warm session whose spec ``accepts`` takes, removed from the pool; a
        refill follows. None when none is ready, or the next one's spec is not accepted
        (it stays)."""
        while self._ready:
            session = self._ready.popleft()
            if session.status == "connected":
                if not accepts(session.spec):
                    self._ready.appendleft(session)
                    return None
                self.refill()
                return session
            session.begin_close()  # its CLI died while it waited
        self.refill()
        return None

    def evict(self) -> Session | None:
        """Remove the newest warm session (to free its live slot); the caller closes it."""
        return self._ready.pop() if self._ready else None

    def discard(self, session: Session) -> None:
        """Drop ``session`` from the ready ones, if it is there (its CLI was stopped elsewhere)."""
        if session in self._ready:
            self._ready.remove(session)

    def refill(self) -> None:
        """Start warm sessions in the background until the pool is full or no slot is free."""
        if self._closed or self.size <= 0 or (self._filling is not None and not self._filling.done()):
            return
        self._filling = asyncio.create_task(self._fill(), name="warm-pool-refill")

    async def close(self) -> None:
        """Stop refilling and close every warm session (their CLIs exit; nothing is left behind)."""
        self._closed = True
        if self._filling is not None:
            self._filling.cancel()
            with contextlib.suppress(BaseException):
                await self._filling
        ready, self._ready = list(self._ready), deque()
        await asyncio.gather(*(session.close() for session in ready), return_exceptions=True)

    async def _fill(self) -> None:
        while not self._closed and len(self._ready) + self._starting < self.size and self._has_room():
            self._starting += 1
            try:
                session = await self._start_one()
            except Exception as exc:
                log.info("warm pool: could not start a warm session: %s", exc)
                return
            finally:
                self._starting -= 1
            if self._closed:
                await session.close()
                return
            self._ready.append(session)
