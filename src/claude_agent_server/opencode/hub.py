"""The adapter's state (``ServerState.opencode``): session id mapping, the ids clients chose,
the turns a new event subscriber still gets, and how far each subscriber has got.

* :class:`SessionIds`: Claude session id ↔ ``ses_`` id. The ``ses_`` id is derived
  from the Claude id and the session's creation time (descending, :mod:`.ids`) and
  filed in the registry's alias table (namespace ``opencode``) the first time it is
  handed out, so it survives restarts.
* :class:`Hub`: an observer of every session event (synchronous, at publish time):
  it ties a ``turn_started`` to the ``messageID`` its OpenCode client sent and keeps
  each session's *open* turn: the one that runs, or that ended while a ``POST
  /session/{id}/message`` still holds its reply. A new subscriber without
  ``Last-Event-ID`` (:meth:`Hub.subscribe`) gets the open turns from their start and
  then live events, never a turn that is over: OpenCode's ``run`` posts its prompt
  and opens ``/event`` at about the same time, and stops at the first ``session.idle``
  of its session. Subscribers report the last event they have sent, so the prompt
  route answers only once they have sent the whole turn (``run`` exits on the reply).
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..sessions import Event, SessionManager
from ..sessions.workspace import parse_session_id
from ..store import Registry
from . import ids
from .errors import NotFound
from .mapping import ms
from .revert import Reverts

NAMESPACE = "opencode"
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


@dataclass
class Expectation:
    """What the next ``turn_started`` of a session carries (:meth:`Hub.expect`)."""

    message_id: str | None
    part_id: str | None
    held: bool
    started: int | None = None
    """Id of the ``turn_started`` event that took it, once one has."""


@dataclass
class OpenTurn:
    """A session's turn that a new subscriber still gets."""

    start: int
    """Id of its ``turn_started`` event."""
    held: bool
    """A ``POST /session/{id}/message`` holds its reply until the turn has been delivered."""
    ended: bool = False


@dataclass(eq=False)
class Subscription:
    """One ``/event`` or ``/global/event`` subscriber (see :meth:`Hub.subscribe`)."""

    start: int
    """It reads the global stream after this event id."""
    now: int
    """The newest event when it subscribed: every later event is for it."""
    turns: dict[str, int] = field(default_factory=dict)
    """Session id → ``turn_started`` id of the open turns it gets from before ``now``."""
    delivered: int = 0
    """The last event it has sent (or skipped)."""
    notices: asyncio.Queue[tuple[str, dict[str, Any]]] = field(default_factory=asyncio.Queue)
    """``(session id, OpenCode event)`` the adapter itself announces (:meth:`Hub.announce`)."""

    def wants(self, event_id: int, session_id: str | None) -> bool:
        """Whether an event of the global stream is for this subscriber."""
        return event_id > self.now or (session_id is not None and self.turns.get(session_id, event_id + 1) <= event_id)


class Hub:
    """See the module docstring. Built once by the lifespan (``ServerState.opencode``)."""

    def __init__(self, manager: SessionManager, data_dir: Path | None = None) -> None:
        self.manager = manager
        self.ids = SessionIds(manager.registry)
        self.reverts = Reverts(manager.registry, (data_dir or Path(tempfile.gettempdir())) / "opencode-revert")
        """Pending reverts and removed turns (:mod:`.revert`)."""
        self._expected: dict[str, Expectation] = {}
        self._client_ids: OrderedDict[int, tuple[str | None, str | None]] = OrderedDict()
        self._open: dict[str, OpenTurn] = {}
        self._subscriptions: set[Subscription] = set()
        self._changed = asyncio.Event()
        manager.observers.append(self.observe)

    # -- client ids and open turns ------------------------------------------------

    def expect(self, claude_id: str, message_id: str | None, part_id: str | None, *, held: bool = False) -> Expectation:
        """The next ``turn_started`` of this session carries these client ids; ``held``: the
        caller holds its reply until the turn is delivered, then calls :meth:`answered`
        (with :attr:`Expectation.started`)."""
        expectation = self._expected[claude_id] = Expectation(message_id, part_id, held)
        return expectation

    def forget(self, claude_id: str) -> None:
        self._expected.pop(claude_id, None)

    def client_ids(self, event_id: int) -> tuple[str | None, str | None]:
        """``(messageID, part id)`` the client sent for the turn started by this event, if known."""
        return self._client_ids.get(event_id, (None, None))

    def observe(self, event: Event) -> None:
        """Session-event observer (called synchronously for every event)."""
        sid = event.session_id
        if sid is None:
            return
        if event.type == "turn_started":
            expected = self._expected.pop(sid, None)
            if expected is not None:
                expected.started = event.id
                if expected.message_id is not None or expected.part_id is not None:
                    self._client_ids[event.id] = (expected.message_id, expected.part_id)
                    while len(self._client_ids) > CLIENT_IDS_KEPT:
                        self._client_ids.popitem(last=False)
            self._open[sid] = OpenTurn(event.id, expected is not None and expected.held)
        elif event.type in ("result", "error") and (turn := self._open.get(sid)) is not None:
            if turn.held:
                turn.ended = True
            else:
                del self._open[sid]
        elif event.type == "session_deleted":
            self._open.pop(sid, None)

    def answered(self, claude_id: str, start: int) -> None:
        """The reply holding the turn that ``start`` began is sent (or abandoned): once the turn
        has ended, new subscribers no longer get it."""
        turn = self._open.get(claude_id)
        if turn is None or turn.start != start:
            return
        if turn.ended:
            del self._open[claude_id]
        else:
            turn.held = False

    def announce(self, claude_id: str, events: list[dict[str, Any]]) -> None:
        """Send OpenCode events that no session event makes (a revert's ``session.updated``,
        ``message.removed``) to every current subscriber."""
        for subscription in self._subscriptions:
            for event in events:
                subscription.notices.put_nowait((claude_id, event))

    # -- subscribers -----------------------------------------------------------------

    def subscribe(self, after: int | None) -> Subscription:
        """Register a subscriber of the global stream (no await: the open turns and the newest
        event are read at one instant). ``after``: its ``Last-Event-ID`` (it gets what followed
        exactly that); None: the open turns (:class:`OpenTurn`) from their start, then live
        events. Call :meth:`unsubscribe` when it ends."""
        now = self.manager.events.last_id
        if after is not None:
            found = Subscription(start=after, now=after)
        else:
            turns = {sid: turn.start for sid, turn in self._open.items() if turn.start <= now}
            found = Subscription(start=min([now, *(start - 1 for start in turns.values())]), now=now, turns=turns)
        found.delivered = found.start
        self._subscriptions.add(found)
        self._wake()
        return found

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)
        self._wake()

    def delivered(self, subscription: Subscription, event_id: int) -> None:
        """The subscriber has sent (or skipped) the events up to ``event_id``."""
        subscription.delivered = event_id
        self._wake()

    def _wake(self) -> None:
        waiter, self._changed = self._changed, asyncio.Event()
        waiter.set()

    async def wait_delivered(self, event_id: int, timeout: float, *, reader: bool = False) -> bool:
        """Wait until every subscriber has sent the events up to ``event_id`` (at most
        ``timeout`` seconds). ``reader``: also until there is at least one (a client whose
        event stream connects after its prompt). Returns whether that happened in time."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            waiter = self._changed
            if all(s.delivered >= event_id for s in self._subscriptions) and (self._subscriptions or not reader):
                return True
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await waiter.wait()
