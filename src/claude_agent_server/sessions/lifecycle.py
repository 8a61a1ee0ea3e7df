"""A session's lifecycle: its phase, the moves between phases, and the status clients see.

::

    HIBERNATED ──start──▶ STARTING ─┐
        ▲  │                        ├─connected─▶ LIVE ──hibernate──▶ STOPPING ──exited──▶ HIBERNATED
        │  └───wake────▶ WAKING ────┘              └──────crash─────────────────────────────▶ HIBERNATED
        └──── the start failed ◀──── STARTING / WAKING

    any phase ──close──▶ CLOSING ──its process gone──▶ CLOSED

A session starts HIBERNATED (no process yet). While CLOSING, a start or stop under
way finishes, but the phase moves on only to CLOSED. The turn state (a turn runs or
not) and pending permission requests are kept beside the phase; :func:`status_of`
combines them into the status clients see.

:class:`Transitions` runs a session's transitions (start, wake, stop) one at a time
as tasks its callers share, so concurrent requests wait on one wake.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from enum import StrEnum
from typing import Any, Literal

from claude_agent_protocol import SessionStatusName as SessionStatus


class Phase(StrEnum):
    """Where a session is in its life (see the module's diagram)."""

    STARTING = "starting"
    """A new or revived session's CLI is connecting (status ``connecting``)."""
    WAKING = "waking"
    """A hibernated session's CLI is resuming its transcript (status ``waking``)."""
    LIVE = "live"
    """Its CLI is connected."""
    STOPPING = "stopping"
    """Its CLI is being stopped (hibernation, server shutdown); then HIBERNATED."""
    HIBERNATED = "hibernated"
    """No CLI runs; the next use wakes it."""
    CLOSING = "closing"
    """Closed to callers; a transition under way and its CLI end, then CLOSED."""
    CLOSED = "closed"
    """For good (its transcript stays)."""


MOVES: dict[Phase, frozenset[Phase]] = {
    Phase.HIBERNATED: frozenset({Phase.STARTING, Phase.WAKING, Phase.CLOSING}),
    Phase.STARTING: frozenset({Phase.LIVE, Phase.HIBERNATED, Phase.CLOSING}),
    Phase.WAKING: frozenset({Phase.LIVE, Phase.HIBERNATED, Phase.CLOSING}),
    Phase.LIVE: frozenset({Phase.STOPPING, Phase.HIBERNATED, Phase.CLOSING}),
    Phase.STOPPING: frozenset({Phase.HIBERNATED, Phase.CLOSING}),
    Phase.CLOSING: frozenset({Phase.CLOSED}),
    Phase.CLOSED: frozenset(),
}
"""The phases each phase may move to."""

_FIXED: dict[Phase, SessionStatus] = {
    Phase.STARTING: "connecting",
    Phase.WAKING: "waking",
    Phase.HIBERNATED: "hibernated",
    Phase.CLOSED: "closed",
}


def status_of(phase: Phase, *, process: Literal["none", "connecting", "connected"], waiting: bool, turn_running: bool) -> SessionStatus:
    """The status clients see.

    Args:
        phase: The session's phase.
        process: Its CLI: none, connecting or connected (read in LIVE, STOPPING and
            CLOSING, where the process shows what the session does).
        waiting: A permission request waits.
        turn_running: A turn runs.
    """
    if phase in _FIXED:
        return _FIXED[phase]
    if process == "none":
        return "hibernated"
    if process == "connecting":
        return "connecting"
    if waiting:
        return "waiting_permission"
    return "running" if turn_running else "connected"


class Transitions:
    """A session's transitions, one at a time: each runs as a task that callers share.

    Args:
        name: The tasks' name.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.current: asyncio.Task[None] | None = None
        """The transition under way, if any."""

    def begin(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Start ``work`` as the current transition now (no ``await`` before it is claimed)."""
        task = asyncio.create_task(work, name=self.name)
        self.current = task

        def done(finished: asyncio.Task[None]) -> None:
            if self.current is finished:
                self.current = None
            if not finished.cancelled():
                finished.exception()  # retrieved: the waiters get it; no "never retrieved" warning

        task.add_done_callback(done)
        return task

    async def run(self, work: Coroutine[Any, Any, None]) -> None:
        """Begin ``work`` and wait for it (a cancelled caller does not cancel it).

        Raises:
            Exception: Whatever ``work`` raised.
        """
        await asyncio.shield(self.begin(work))

    async def settle(self) -> None:
        """Return once no transition is under way (their failures are their callers' to report;
        a cancel of the waiting caller propagates)."""
        while self.current is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self.current)
