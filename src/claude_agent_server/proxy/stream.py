"""Relaying LiteLLM's Anthropic SSE bytes to the client.

LiteLLM's ``anthropic.messages.acreate(stream=True)`` yields complete SSE events
as bytes (``event: message_start\\ndata: {...}\\n\\n`` ... ``message_stop``). Some
upstream failures only surface when the first event is awaited, so
:func:`open_stream` waits for it: a failure then is still an ordinary HTTP error.
After that, a failure is an ``event: error`` frame and the stream ends.

Events LiteLLM hands over back to back (it often makes several of one upstream chunk, and
a fast upstream's chunks arrive together) leave in one write: one send through the
middlewares, one segment for the client to wake up for, instead of one per event. None
waits for another: whatever is there when the upstream must be waited for again is sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from .errors import from_exception

log = logging.getLogger(__name__)

BATCH_BYTES = 64 * 1024
"""Bytes read ahead of the client at most (the upstream waits beyond)."""


def _as_bytes(chunk: Any) -> bytes:
    if isinstance(chunk, bytes):
        return chunk
    if isinstance(chunk, str):
        return chunk.encode()
    raise TypeError(f"unexpected stream chunk of type {type(chunk).__name__}")


async def _close(stream: Any) -> None:
    closer = getattr(stream, "aclose", None)
    if closer is not None:
        try:
            await closer()
        except Exception:  # closing a broken upstream stream must not hide the real outcome
            log.debug("closing the upstream stream failed", exc_info=True)


async def open_stream(stream: AsyncIterator[Any]) -> AsyncIterator[bytes]:
    """Wait for the first event of ``stream``, then return an iterator over all of its events.

    Raises:
        ProxyError: (mapped by :func:`from_exception`) when the stream fails before its
            first event; the upstream stream is closed first.
    """
    try:
        first = _as_bytes(await anext(stream))
    except StopAsyncIteration:
        first = b""
    except BaseException as exc:
        await _close(stream)
        if isinstance(exc, Exception):
            raise from_exception(exc) from exc
        raise
    return _relay(first, stream)


async def _relay(first: bytes, stream: AsyncIterator[Any]) -> AsyncIterator[bytes]:
    """The stream's events, those that arrived together joined (see the module docstring); a
    failure becomes an ``event: error`` frame. The upstream stream is closed at the end, or
    when the client leaves."""
    pending: list[bytes] = [first] if first else []
    ready, room = asyncio.Event(), asyncio.Event()
    room.set()
    finished = False

    async def pump() -> None:
        nonlocal finished
        try:
            async for chunk in stream:
                pending.append(_as_bytes(chunk))
                ready.set()
                if sum(map(len, pending)) >= BATCH_BYTES:
                    room.clear()
                    await room.wait()
        except Exception as exc:
            error = from_exception(exc)
            log.warning("proxied stream failed after it began: %s", error.message)
            pending.append(error.sse_frame())
        finally:
            finished = True
            ready.set()

    reader = asyncio.create_task(pump(), name="proxy-stream-reader")
    try:
        await asyncio.sleep(0)  # the reader takes what is there already, to go with the first event
        while pending or not finished:
            if not pending:
                ready.clear()
                await ready.wait()
                continue
            batch = b"".join(pending)
            pending.clear()
            room.set()
            yield batch
    finally:
        reader.cancel()
        await asyncio.wait({reader})  # out of the upstream stream before it is closed
        await _close(stream)
