"""The task that owns one Claude Agent SDK client for its whole life.

The SDK requires that one task connects, uses and disconnects a
``ClaudeSDKClient`` (its task group lives from ``connect()`` to
``disconnect()``). A :class:`ClientOwner` runs that task: it connects the
client, then waits on three things at once: calls from other tasks (through a
queue, answered through futures), the end of its reader (a child task that hands
each SDK message to the handler as it comes), and calls in flight.
Calls (``query``, ``interrupt``, ``set_model``, ...) run as children of the
owner while it keeps reading messages: the SDK buffers only 100 messages, so a
control call waiting for its reply while nobody reads would deadlock. The owner
disconnects the client in its ``finally``, on every path, so no CLI process is
left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
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


@dataclass(slots=True)
class _Call:
    operation: Operation | None
    """None asks the owner to stop."""
    future: asyncio.Future[Any] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


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
        self._calls: asyncio.Queue[_Call] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._connected: asyncio.Future[None] | None = None

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
        """Run ``operation(client)`` as a child of the owner task; return its result.

        Raises:
            ClientClosed: The owner stopped before or while running it.
            Exception: Whatever the operation raised (e.g. the CLI refused it).
        """
        if not self.running:
            raise ClientClosed
        call = _Call(operation)
        await self._calls.put(call)
        assert self._task is not None
        done, _ = await asyncio.wait({call.future, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if call.future not in done:
            raise ClientClosed
        return call.future.result()

    def kill(self, killer: Callable[[Any], bool]) -> bool:
        """Kill the client's process at once with ``killer(client)`` (it writes nothing more);
        :meth:`close` still disconnects. Returns what ``killer`` did."""
        return killer(self._client)

    async def close(self) -> None:
        """Ask the owner to stop, and wait until it has disconnected the client. Idempotent."""
        task = self._task
        if task is None or task.done():
            return
        await self._calls.put(_Call(None))
        done, _ = await asyncio.wait({task}, timeout=DISCONNECT_TIMEOUT + 5)
        if not done:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task

    async def _perform(self, call: _Call) -> None:
        assert call.operation is not None
        try:
            result = await call.operation(self._client)
        except asyncio.CancelledError:  # the owner is stopping under this call
            if not call.future.done():
                call.future.set_exception(ClientClosed())
            raise
        except Exception as exc:
            if not call.future.done():
                call.future.set_exception(exc)
        else:
            if not call.future.done():
                call.future.set_result(result)

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
        self._connected.set_result(None)
        reader = asyncio.create_task(self._read(self._client.receive_messages()), name="sdk-client-reader")
        next_call: asyncio.Task[_Call] | None = None
        in_flight: set[asyncio.Task[None]] = set()
        reason: str | None = "the owner task was cancelled"
        try:
            while True:
                next_call = next_call or asyncio.create_task(self._calls.get())
                done, _ = await asyncio.wait({reader, next_call, *in_flight}, return_when=asyncio.FIRST_COMPLETED)
                in_flight -= done
                if reader in done:
                    reason = reader.result()
                    break
                if next_call in done:
                    call, next_call = next_call.result(), None
                    if call.operation is None:
                        reason = None
                        break
                    in_flight.add(asyncio.create_task(self._perform(call)))
        finally:
            for task in (reader, next_call, *in_flight):
                if task is not None:
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
            while not self._calls.empty():
                queued = self._calls.get_nowait()
                if not queued.future.done():
                    queued.future.set_exception(ClientClosed())
