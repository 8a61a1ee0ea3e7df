"""The task that owns one Claude Agent SDK client for its whole life.

The SDK requires that one task connects, uses and disconnects a
``ClaudeSDKClient`` (its task group lives from ``connect()`` to
``disconnect()``). A :class:`ClientOwner` runs that task: it connects the
client, then waits for one of two things: a request to stop, or the end of its
reader (a child task that hands each SDK message to the handler as it comes).
Calls (``query``, ``interrupt``, ``set_model``, ...) run as tasks of their own, in
the owner's context, while the owner keeps reading messages: the SDK buffers only
100 messages, so a control call waiting for its reply while nobody reads would
deadlock. A caller starts its call's task itself (no hop through the owner task: a
turn's prompt reaches the CLI one event-loop cycle sooner), and the owner cancels the
calls still in flight when it stops. The owner disconnects the client in its
``finally``, on every path, so no CLI process is left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

from claude_agent_sdk import ClaudeAgentOptions, ProcessError

log = logging.getLogger(__name__)

DISCONNECT_TIMEOUT = 10.0
"""Seconds the owner waits for the CLI to exit."""


class SDKClient(Protocol):
    """What the server uses of ``claude_agent_sdk.ClaudeSDKClient`` (fakes implement this)."""

    async def connect(self, prompt: Any = None) -> None: ...
    async def disconnect(self) -> None: ...
    async def query(self, prompt: str, session_id: str = "default") -> None: ...
    def receive_messages(self) -> AsyncIterator[Any]: ...
    async def interrupt(self) -> None: ...
    async def set_model(self, model: str | None = None) -> None: ...
    async def set_permission_mode(self, mode: Any) -> None: ...
    async def get_server_info(self) -> dict[str, Any] | None: ...


ClientFactory = Callable[[ClaudeAgentOptions], SDKClient]
Operation = Callable[[SDKClient], Awaitable[Any]]
"""What a caller wants done with the client, e.g. ``lambda client: client.interrupt()``."""


class ClientClosed(Exception):
    """The owner task has ended (or is ending); the client takes no more calls."""


class ClientOwner:
    """Runs one SDK client in one task; other tasks reach it only through :meth:`call`.

    Args:
        client: The unconnected SDK client.
        on_message: Called in the owner task with every message the client yields.
        on_stop: Called once when the owner stops serving, before it disconnects,
            with why: None when asked to stop (:meth:`close`), else what ended it
            (the CLI exited, or its stream failed).
    """

    def __init__(self, client: SDKClient, *, on_message: Callable[[Any], None], on_stop: Callable[[str | None], None]) -> None:
        self._client = client
        self._on_message = on_message
        self._on_stop = on_stop
        self._task: asyncio.Task[None] | None = None
        self._connected: asyncio.Future[None] | None = None
        self._stop: asyncio.Event = asyncio.Event()
        self._context: contextvars.Context | None = None
        """The owner task's context while it serves calls (None before it connected and once it stops)."""
        self._in_flight: set[asyncio.Task[Any]] = set()

    @property
    def connected(self) -> bool:
        """True once ``connect()`` succeeded (and still after the owner stopped)."""
        ready = self._connected
        return ready is not None and ready.done() and not ready.cancelled() and ready.exception() is None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Start the owner task and wait until the client is connected.

        Raises:
            Exception: Whatever ``connect()`` raised (the owner has then ended).
        """
        self._connected = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._run(), name="sdk-client-owner")
        await asyncio.shield(self._connected)

    async def call(self, operation: Operation) -> Any:
        """Run ``operation(client)`` in a task of the owner's (it goes on if this caller is
        cancelled; the owner cancels it when it stops); return its result.

        Raises:
            ClientClosed: The owner stopped before or while running it.
            Exception: Whatever the operation raised (e.g. the CLI refused it).
        """
        if self._context is None or self._task is None or self._task.done():
            raise ClientClosed
        call = asyncio.create_task(operation(self._client), context=self._context.copy())  # type: ignore[arg-type]
        self._in_flight.add(call)
        call.add_done_callback(self._finished)
        done, _ = await asyncio.wait({call, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if call not in done or call.cancelled():
            raise ClientClosed
        return call.result()

    def _finished(self, call: asyncio.Task[Any]) -> None:
        self._in_flight.discard(call)
        if not call.cancelled():
            call.exception()  # retrieved: a caller gone with ClientClosed does not read it

    def kill(self, killer: Callable[[Any], bool]) -> bool:
        """Kill the client's process at once with ``killer(client)`` (it writes nothing more);
        :meth:`close` still disconnects. Returns what ``killer`` did."""
        return killer(self._client)

    async def close(self) -> None:
        """Ask the owner to stop, and wait until it has disconnected the client. Idempotent."""
        task = self._task
        if task is None or task.done():
            return
        self._stop.set()
        done, _ = await asyncio.wait({task}, timeout=DISCONNECT_TIMEOUT + 5)
        if not done:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task

    async def _read(self, messages: AsyncIterator[Any]) -> str:
        """Hand every message of the client to ``on_message``, in order, as it comes (one
        task for the client's whole life: no task per message); why the stream ended."""
        try:
            async for message in messages:
                self._on_message(message)
        except ProcessError as exc:
            return f"Claude Code failed: {exc}"
        except Exception as exc:
            log.exception("bad message from the CLI, or a failing message handler")
            return f"Claude Code stream failed: {exc}"
        return "Claude Code exited"

    async def _run(self) -> None:
        assert self._connected is not None
        try:
            await self._client.connect()
        except Exception as exc:
            self._connected.set_exception(exc)
            return
        except asyncio.CancelledError:
            self._connected.cancel()
            raise
        self._context = contextvars.copy_context()
        self._connected.set_result(None)
        reader = asyncio.create_task(self._read(self._client.receive_messages()), name="sdk-client-reader")
        stop = asyncio.create_task(self._stop.wait())
        reason: str | None = "the owner task was cancelled"
        try:
            await asyncio.wait({reader, stop}, return_when=asyncio.FIRST_COMPLETED)
            reason = reader.result() if reader.done() else None
        finally:
            self._context = None  # no call starts any more
            for task in (reader, stop, *self._in_flight):
                task.cancel()
            try:
                self._on_stop(reason)
            except Exception:
                log.exception("the stop handler failed")
            try:
                async with asyncio.timeout(DISCONNECT_TIMEOUT):
                    await self._client.disconnect()
            except BaseException:
                log.warning("disconnecting the SDK client failed", exc_info=True)
