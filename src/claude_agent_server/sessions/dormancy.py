"""When a loaded session may leave the manager's memory.

Every session a request reads is loaded into the manager (``SessionManager.get``) and, without
this, stayed there until closed: a long-running server that had served many sessions held an
object for each. A session that is *dormant* — hibernated, and nothing of it in use: no caller,
task, registry write, queued-message waiter, queued message, parked request or event
subscriber — holds nothing the registry does not, so the manager forgets it once it has also
gone untouched for a while (see :meth:`~.idle.IdleHibernation.forget_dormant`); the next request
loads it again.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from .lifecycle import Phase

if TYPE_CHECKING:
    from .events import EventLog
    from .lifecycle import Transitions
    from .options import SessionSpec
    from .permissions import PermissionBroker


class Dormancy:
    """A part of :class:`~.session.Session`."""

    touched: float = 0.0
    """``time.monotonic()`` when the manager last handed the session out (0: never)."""

    if TYPE_CHECKING:
        spec: SessionSpec
        events: EventLog
        permissions: PermissionBroker
        _phase: Phase
        _uses: int
        _turn_running: bool
        _writes: set[asyncio.Task[Any]]
        _waiters: dict[str, asyncio.Future[Any]]
        _continuing: asyncio.Task[None] | None
        _next_task: asyncio.Task[None] | None
        _transitions: Transitions

    @property
    def dormant(self) -> bool:
        """True when the session is hibernated and nothing of it is in use (see the module docstring)."""
        busy = (self._uses, self._turn_running, self._writes, self._waiters, self.spec.queued, self.permissions.parked,
                self.events.subscribers)
        tasks = (self._continuing, self._next_task, self._transitions.current)
        return self._phase is Phase.HIBERNATED and not any(busy) and all(t is None or t.done() for t in tasks)
