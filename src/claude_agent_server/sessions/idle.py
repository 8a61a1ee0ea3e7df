"""Idle hibernation: the manager's sessions whose CLI sits unused are stopped (they wake on their
next use), and hibernated ones nothing uses leave its memory (they load again; see :mod:`.dormancy`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

from .config import ManagerConfig
from .errors import SessionError
from .session import Session
from .upkeep import hibernate_idle

log = logging.getLogger(__name__)


class IdleHibernation:
    """A part of :class:`~.manager.SessionManager` (the attributes below are the manager's)."""

    config: ManagerConfig
    _sessions: dict[str, Session]

    if TYPE_CHECKING:

        def live_sessions(self) -> list[Session]: ...
        def _spawn(self, work: Any) -> asyncio.Task[Any]: ...

    def hibernate_after_turn(self, session: Session) -> None:
        """Hibernate ``session`` as soon as its running turn ends (in the background)."""

        async def wait_then_hibernate() -> None:
            await session.wait_turn_end()
            with contextlib.suppress(SessionError):
                await session.hibernate()

        self._spawn(wait_then_hibernate())

    async def hibernate_idle(self, now: float | None = None) -> list[str]:
        """Hibernate live sessions idle for longer than ``idle_timeout``.

        Returns:
            The ids hibernated.
        """
        if self.config.idle_timeout <= 0:
            return []
        return await hibernate_idle(self.live_sessions(), self.config.idle_timeout, time.time() if now is None else now)

    def forget_dormant(self, now: float | None = None) -> list[str]:
        """Forget the loaded sessions that are dormant (see :mod:`.dormancy`) and were not handed out
        for ``dormant_after`` seconds (counted from when this first sees one never handed out).

        Args:
            now: ``time.monotonic()`` (tests pass their own).

        Returns:
            The ids forgotten (the next request loads each again from the registry).
        """
        now = time.monotonic() if now is None else now
        forgotten = []
        for session_id, session in list(self._sessions.items()):
            if not session.dormant:
                continue
            if not session.touched:
                session.touched = now
            elif now - session.touched > self.config.dormant_after:
                del self._sessions[session_id]
                forgotten.append(session_id)
        return forgotten

    async def run_idle_hibernation(self, interval: float = 30.0) -> None:
        """Every ``interval`` seconds (less with a short ``idle_timeout``), forever (a lifespan task):
        :meth:`hibernate_idle`, then :meth:`forget_dormant`."""
        if self.config.idle_timeout > 0:
            interval = min(interval, max(self.config.idle_timeout / 4, 0.5))
        while True:
            await asyncio.sleep(interval)
            try:
                await self.hibernate_idle()
                self.forget_dormant()
            except Exception:
                log.exception("hibernating idle sessions failed")
