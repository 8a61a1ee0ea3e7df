"""Relaying LiteLLM's Anthropic SSE bytes to the client.

LiteLLM's ``anthropic.messages.acreate(stream=True)`` yields complete SSE events
as bytes (``event: message_start\\ndata: {...}\\n\\n`` ... ``message_stop``). Some
upstream failures only surface when the first event is awaited, so
:func:`open_stream` waits for it: a failure then is still an ordinary HTTP error.
After that, a failure is an ``event: error`` frame and the stream ends.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from .errors import from_exception

log = logging.getLogger(__name__)


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
    try:
        if first:
            yield first
        async for chunk in stream:
            yield _as_bytes(chunk)
    except Exception as exc:
        error = from_exception(exc)
        log.warning("proxied stream failed after it began: %s", error.message)
        yield error.sse_frame()
    finally:
        await _close(stream)
