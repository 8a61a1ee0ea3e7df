"""Messages sent while a turn runs: queued (run after it, in order) or steering it.

A part of :class:`~.session.Session`. The queue is kept in the session's spec
(``SessionSpec.queued``), so the registry stores it with the record: it survives
hibernation and restarts (after a restart the manager runs what was left).
A caller waiting for its queued message gets that turn's ``turn_started`` event
once it starts; a cancelled one gets :class:`QueuedMessageCancelled`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from .errors import (
    QueuedMessageCancelled,
    QueuedMessageNotFound,
    ServerShuttingDown,
    SessionError,
    TooManySessions,
    TurnInProgress,
)
from .events import Event

if TYPE_CHECKING:
    from .host import SessionHost
    from .options import SessionSpec

log = logging.getLogger(__name__)

SendMode = Literal["reject", "queue", "steer"]
MAX_QUEUED = 100
"""Messages a session queues at most (one more is 409)."""
KEPT = (ServerShuttingDown, TooManySessions)
"""Errors that leave a queued message queued (it runs on a later wake or after a restart)."""


class QueueFull(TurnInProgress):
    def __init__(self, session_id: str) -> None:
        super().__init__(session_id)
        self.detail = f"session {session_id} already has {MAX_QUEUED} queued messages"


class MessageQueue:
    """The queueing and steering part of a session."""

    id: str
    spec: SessionSpec
    _host: SessionHost
    _turn_running: bool
    turn_event_id: int | None
    turn_started: Event | None

    if TYPE_CHECKING:  # the session's own

        async def send(self, message: str, content: list[dict[str, Any]] | None = None) -> Event: ...
        async def _call(self, name: str, operation: Any) -> Any: ...
        def _ensure_open(self) -> None: ...
        def _spec_changed(self) -> None: ...

    steering: list[str]
    """Messages steered into the running turn that the CLI has not echoed yet: a ``result``
    while one waits is not the turn's end (the CLI runs it right after, as its own turn)."""
    _waiters: dict[str, asyncio.Future[Event]]
    _next_task: asyncio.Task[None] | None

    @property
    def queued(self) -> list[dict[str, str]]:
        """``[{queue_id, message, created_at}]``, oldest first."""
        return list(self.spec.queued)

    async def submit(self, message: str, mode: SendMode = "reject") -> Event:
        """Send ``message`` as ``mode`` says while a turn runs; returns the ``turn_started``
        event of the turn it belongs to (a steered message: the running turn's).

        Raises:
            TurnInProgress: ``reject`` while a turn runs or messages wait; the queue is full.
            QueuedMessageCancelled: Its queued message was cancelled before it ran.
            As :meth:`send`.
        """
        self._ensure_open()
        if mode == "steer" and self._turn_running and self.turn_event_id is not None:
            started = self.turn_started
            self.steering.append(message.strip())  # before the CLI can echo it
            try:
                await self._call("query", lambda client: client.query(message))
            except BaseException:
                self.steering.remove(message.strip())
                raise
            assert started is not None
            return started
        if not self._turn_running and not self.spec.queued:
            try:
                return await self.send(message)
            except TurnInProgress:
                if mode == "reject":
                    raise  # another request started a turn first
        if mode == "reject":
            raise TurnInProgress(self.id)
        return await self._enqueue(message)

    async def _enqueue(self, message: str) -> Event:
        if len(self.spec.queued) >= MAX_QUEUED:
            raise QueueFull(self.id)
        queue_id = f"q_{uuid.uuid4().hex[:16]}"
        item = {"queue_id": queue_id, "message": message, "created_at": datetime.now(UTC).isoformat()}
        self.spec.queued = [*self.spec.queued, item]
        waiter = self._waiters[queue_id] = asyncio.get_running_loop().create_future()
        self._spec_changed()
        self.run_queue()  # a turn that ended meanwhile does not hold it
        try:
            return await asyncio.shield(waiter)
        finally:
            self._waiters.pop(queue_id, None)

    def cancel_queued(self, queue_id: str) -> None:
        """Drop a queued message; its caller gets :class:`QueuedMessageCancelled`.

        Raises:
            QueuedMessageNotFound: No queued message has that id (it may be running already).
        """
        kept = [item for item in self.spec.queued if item["queue_id"] != queue_id]
        if len(kept) == len(self.spec.queued):
            raise QueuedMessageNotFound(queue_id)
        self.spec.queued = kept
        self._spec_changed()
        waiter = self._waiters.pop(queue_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_exception(QueuedMessageCancelled(queue_id))

    def run_queue(self) -> None:
        """Start the next queued message unless a turn runs or one is starting (no await)."""
        if self.spec.queued and not self._turn_running and (self._next_task is None or self._next_task.done()):
            self._next_task = asyncio.create_task(self._run_next(), name=f"queue-{self.id[:8]}")

    async def _run_next(self) -> None:
        while self.spec.queued and not self._turn_running:
            item = self.spec.queued[0]
            try:
                started = await self.send(item["message"])
            except TurnInProgress:
                return  # a turn started meanwhile: its end runs the queue again
            except KEPT as exc:  # it stays queued; its caller is told why it does not run now
                log.info("session %s: queued message %s waits (%s)", self.id, item["queue_id"], exc.detail)
                waiter = self._waiters.pop(item["queue_id"], None)
                if waiter is not None and not waiter.done():
                    waiter.set_exception(exc)
                return
            except SessionError as exc:
                self._drop(item, exc)
                continue
            except Exception as exc:  # never lose the error of a background task
                log.exception("session %s: a queued message failed", self.id)
                self._drop(item, exc)
                continue
            self._drop(item, None, started)
            return

    def _drop(self, item: dict[str, str], error: BaseException | None, started: Event | None = None) -> None:
        self.spec.queued = [i for i in self.spec.queued if i["queue_id"] != item["queue_id"]]
        self._spec_changed()
        waiter = self._waiters.get(item["queue_id"])
        if waiter is not None and not waiter.done():
            if error is not None:
                waiter.set_exception(error)
            else:
                assert started is not None
                waiter.set_result(started)

    def stop_queue(self, error: SessionError | None = None) -> None:
        """Stop starting queued messages (the session closes); waiting callers are told
        (``error``, default :class:`QueuedMessageCancelled`)."""
        if self._next_task is not None:
            self._next_task.cancel()
        for queue_id, waiter in list(self._waiters.items()):
            if not waiter.done():
                waiter.set_exception(error or QueuedMessageCancelled(queue_id))
        self._waiters.clear()
