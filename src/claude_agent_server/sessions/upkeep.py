"""The manager's upkeep: recovering what a previous server left live, hibernating idle
sessions, and draining turns when the server stops."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable

from ..store import Registry
from .errors import SessionError
from .journal import EventJournal
from .session import Session
from .takeover import end_lost_turn

log = logging.getLogger(__name__)

QUEUE_SCAN = 10_000
"""Sessions looked at, at most, by each start-up scan: hibernated ones (most recent first) whose
queues are resumed, and ones whose answered parked requests are continued."""


async def recover(registry: Registry, journal: EventJournal, node_id: str | None = None, permission_timeout: float = 0.0) -> list[str]:
    """Hibernate the sessions a previous server left live; end a turn that was running with
    an ``error`` event (reason ``server_restart``), the permission requests its CLI waited on
    denied with that reason and forgotten (parked ones stay: see :func:`.takeover.end_lost_turn`).
    The session's stream gets those and ``status`` hibernated, the global one the same but
    ``session_status`` hibernated. With ``node_id``, only this node's own sessions and those no
    node holds a lease of (another node's expired ones are claimed: see :mod:`.cluster`).

    Args:
        permission_timeout: Seconds a permission request may wait (bounds the search of the event log).

    Returns:
        The recovered ids.
    """
    recovered = await registry.recover(node_id)
    for record in recovered:
        sid = record.session_id
        await end_lost_turn(registry, journal.record, record, "server_restart", "the server stopped during the turn", permission_timeout)
        journal.record(sid, "status", status="hibernated")
        journal.announce("session_status", sid, status="hibernated", state="hibernated")
    if recovered:
        log.info("recovered %d session(s) left live by the previous server; they are hibernated", len(recovered))
    await registry.flush()
    return [r.session_id for r in recovered]


async def hibernate_idle(live: Iterable[Session], timeout: float, now: float) -> list[str]:
    """Hibernate the ``live`` sessions idle (see :attr:`Session.idle`), or only waiting for a
    person (:attr:`Session.waiting_only`: their requests are parked), for more than ``timeout``
    seconds at Unix time ``now``; returns their ids."""
    idle = [s for s in live if (s.idle or s.waiting_only) and now - s.last_activity > timeout]
    for session in idle:
        log.info("hibernating session %s: idle for more than %g s", session.id, timeout)
    await asyncio.gather(*(session.begin_hibernate() for session in idle), return_exceptions=True)
    return [s.id for s in idle]


async def drain(live: Callable[[], list[Session]], grace: float) -> None:
    """Park pending permission requests, and those asked meanwhile (their sessions stop: see
    :mod:`.parking`); let running turns finish for up to ``grace`` seconds, then interrupt
    them and wait up to 10 s for their ends. ``live()`` gives the sessions holding a CLI now."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    while True:
        await _park_waiting(live())
        if not any(s.busy for s in live()) or loop.time() >= deadline:
            break
        await asyncio.sleep(0.1)
    running = [s for s in live() if s.busy]
    for session in running:
        log.warning("interrupting the turn of session %s: the server is shutting down", session.id)
        with contextlib.suppress(SessionError):
            await session.interrupt()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(10):
            await asyncio.gather(*(s.wait_turn_end() for s in running))



async def _park_waiting(sessions: list[Session]) -> None:
    """Stop the sessions whose permission requests wait, parking them."""
    waiting = [s for s in sessions if s.permissions.unanswered()]
    for result in await asyncio.gather(*(s.park() for s in waiting), return_exceptions=True):
        if isinstance(result, BaseException):
            log.warning("parking a permission request failed: %s", result)


async def resume_queues(get: Callable[[str], Awaitable[Session]], registry: Registry, ready: Callable[[], bool]) -> None:
    """Run what hibernated sessions had queued when the previous server stopped, once this
    server is ``ready`` (its own address known: a woken CLI may need it)."""
    while not ready():
        await asyncio.sleep(0.1)
    for record in await registry.list(states=("hibernated",), limit=QUEUE_SCAN):
        if not record.spec.get("queued"):
            continue
        try:
            (await get(record.session_id)).run_queue()
        except SessionError as exc:
            log.warning("session %s: its queued messages could not be resumed: %s", record.session_id, exc.detail)


async def resume_parked(get: Callable[[str], Awaitable[Session]], registry: Registry, ready: Callable[[], bool]) -> None:
    """Continue the turns whose parked permission requests were all answered while the previous
    server ran but whose continuation had not started (or not been recorded) when it stopped:
    loading such a session reads the answers and continues its turn (see :mod:`.parking`).
    Waits until this server is ``ready``, as :func:`resume_queues` does."""
    while not ready():
        await asyncio.sleep(0.1)
    for session_id in await registry.parked.sessions(answered=True, limit=QUEUE_SCAN):
        try:
            await get(session_id)
        except SessionError as exc:  # another node runs it (it continues there), or it is gone
            log.info("session %s: its answered permission requests were not continued here: %s", session_id, exc.detail)
