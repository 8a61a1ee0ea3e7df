"""The adapter's state on ``app.state.opencode``: session id mapping, the ids clients chose,
recent turns (for late subscribers) and how far each event subscriber has got.

* :class:`SessionIds`: Claude session id ↔ ``ses_`` id. The ``ses_`` id is derived
  from the Claude id and the session's creation time (descending, :mod:`.ids`) and
  filed in the registry's alias table (namespace ``opencode``) the first time it is
  handed out, so it survives restarts.
* :class:`Hub`: an observer of every session event (synchronous, at publish time):
  it ties a ``turn_started`` to the ``messageID`` its OpenCode client sent, and
  remembers which turns run or just ended. Event subscribers report the last event
  they have sent, so ``POST /session/{id}/message`` can answer only once they have
  sent the whole turn (OpenCode's ``run`` exits on the reply).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import OrderedDict
from datetime import datetime
from typing import Any

from ..sessions import Event, SessionManager
from ..sessions.workspace import parse_session_id
from ..store import Registry
from . import ids
from .errors import NotFound
from .mapping import ms

NAMESPACE = "opencode"
RECENT_SECONDS = 10.0
"""A subscriber that connects without ``Last-Event-ID`` gets the turns that ended this recently (or still run)."""
CLIENT_IDS_KEPT = 10_000


def derive_session_id(claude_id: str, created_ms: int) -> str:
    """The ``ses_`` id of a session (newest first)."""
    return ids.derive("ses", ids.value_of_ms(created_ms), claude_id, descending=True)


class SessionIds:
    """Claude session ids ↔ ``ses_`` ids, cached, backed by the registry's aliases."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._to_ses: dict[str, str] = {}
        self._to_claude: dict[str, str] = {}

    def _remember(self, claude_id: str, ses_id: str) -> str:
        self._to_ses[claude_id] = ses_id
        self._to_claude[ses_id] = claude_id
        return ses_id

    async def ses_of(self, claude_id: str, created_at: datetime | str | None = None) -> str:
        """The ``ses_`` id of a session, filed in the registry if it is new.

        Raises:
            NotFound: The registry has no such session.
        """
        if (known := self._to_ses.get(claude_id)) is not None:
            return known
        filed = await self._registry.aliases_of(NAMESPACE, claude_id)
        if filed:
            return self._remember(claude_id, filed[0])
        if created_at is None:
            record = await self._registry.get(claude_id)
            if record is None:
                raise NotFound(f"session {claude_id} not found")
            created_at = record.created_at
        created = int(created_at.timestamp() * 1000) if isinstance(created_at, datetime) else ms(created_at)
        ses_id = derive_session_id(claude_id, created)
        await self._registry.put_alias(NAMESPACE, ses_id, claude_id)
        return self._remember(claude_id, ses_id)

    async def claude_of(self, ses_id: str) -> str:
        """The Claude session id behind a ``ses_`` id.

        Raises:
            NotFound: Not an id this server handed out.
        """
        if (known := self._to_claude.get(ses_id)) is not None:
            return known
        if not ids.is_valid(ses_id, "ses"):
            raise NotFound(f"session {ses_id[:100]!r} not found (not an OpenCode session id)")
        claude_id = await self._registry.find_alias(NAMESPACE, ses_id)
        if claude_id is None:
            raise NotFound(f"session {ses_id} not found")
        claude_id = parse_session_id(claude_id)
        self._remember(claude_id, ses_id)
        return claude_id


class Hub:
    """See the module docstring. Made on the first OpenCode request (:func:`hub_of`)."""

    def __init__(self, manager: SessionManager) -> None:
        self.manager = manager
        self.ids = SessionIds(manager.registry)
        self._expected: dict[str, tuple[str | None, str | None]] = {}
        self._client_ids: OrderedDict[int, tuple[str | None, str | None]] = OrderedDict()
        self._turns: dict[str, tuple[int, float | None]] = {}
        self._delivered: dict[int, int] = {}
        self._tokens = itertools.count()
        self._changed = asyncio.Event()
        manager.observers.append(self.observe)

    # -- client ids ------------------------------------------------------------

    def expect(self, claude_id: str, message_id: str | None, part_id: str | None) -> None:
        """The next ``turn_started`` of this session carries these client ids."""
        self._expected[claude_id] = (message_id, part_id)

    def forget(self, claude_id: str) -> None:
        self._expected.pop(claude_id, None)

    def client_ids(self, event_id: int) -> tuple[str | None, str | None]:
        """``(messageID, part id)`` the client sent for the turn started by this event, if known."""
        return self._client_ids.get(event_id, (None, None))

    def observe(self, event: Event) -> None:
        """Session-event observer (called synchronously for every event)."""
        if event.session_id is None:
            return
        if event.type == "turn_started":
            expected = self._expected.pop(event.session_id, None)
            if expected is not None:
                self._client_ids[event.id] = expected
                while len(self._client_ids) > CLIENT_IDS_KEPT:
                    self._client_ids.popitem(last=False)
            self._turns[event.session_id] = (event.id, None)
        elif event.type in ("result", "error") and event.session_id in self._turns:
            self._turns[event.session_id] = (self._turns[event.session_id][0], time.monotonic())

    def replay_from(self) -> int | None:
        """Where a new subscriber without ``Last-Event-ID`` starts: just before the oldest
        turn that runs or ended within :data:`RECENT_SECONDS`; None: at the newest event."""
        now = time.monotonic()
        for sid, (_, ended) in list(self._turns.items()):
            if ended is not None and now - ended > RECENT_SECONDS:
                del self._turns[sid]
        starts = [start for start, _ in self._turns.values()]
        return min(starts) - 1 if starts else None

    # -- delivery ----------------------------------------------------------------

    @contextlib.contextmanager
    def subscriber(self, cursor: int) -> Any:
        """Register an event subscriber; yields a ``delivered(event_id)`` callback."""
        token = next(self._tokens)
        self._delivered[token] = cursor

        def delivered(event_id: int) -> None:
            self._delivered[token] = event_id
            self._wake()

        try:
            yield delivered
        finally:
            del self._delivered[token]
            self._wake()

    def _wake(self) -> None:
        waiter, self._changed = self._changed, asyncio.Event()
        waiter.set()

    async def wait_delivered(self, event_id: int, timeout: float) -> bool:
        """Wait until every subscriber has sent the events up to ``event_id`` (at most
        ``timeout`` seconds). Returns whether they all have."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            waiter = self._changed
            if all(last >= event_id for last in self._delivered.values()):
                return True
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await waiter.wait()


def hub_of(app: Any) -> Hub:
    """The app's hub, made on first use (no await: one per app)."""
    hub = getattr(app.state, "opencode", None)
    if hub is None or hub.manager is not app.state.manager:
        hub = app.state.opencode = Hub(app.state.manager)
    return hub
