"""Idle hibernation: the manager's sessions whose CLI sits unused are stopped (they wake on their next use)."""

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

    async def run_idle_hibernation(self, interval: float = 30.0) -> None:
        """Call :meth:`hibernate_idle` every ``interval`` seconds, forever (a lifespan task)."""
        while True:
            await asyncio.sleep(min(interval, max(self.config.idle_timeout / 4, 0.5)))
            try:
                await self.hibernate_idle()
            except Exception:
                log.exception("hibernating idle sessions failed")
