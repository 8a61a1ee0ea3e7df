"""Timing the proxy's model requests (``/v1/messages``, ``count_tokens``) for :class:`ServerMetrics`."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from .metrics import ServerMetrics

UNKNOWN_MODEL = "unknown"


class ProxyTimer:
    """Times one proxied model request and records it once, when it ends (a stream: when
    its last byte is sent), with the model it asked for and its final status.

    A 400 or 404 (a bad body, a model this server does not serve) is labelled
    ``unknown``, as is a request without a model, so that names nobody serves add no
    series. Without metrics (None) nothing is recorded.

    Args:
        metrics: Where to record.
        clock: Monotonic seconds.
    """

    def __init__(self, metrics: ServerMetrics | None, clock: Callable[[], float] = time.monotonic) -> None:
        self._metrics = metrics
        self._clock = clock
        self._started = clock()
        self._recorded = False
        self.model = UNKNOWN_MODEL

    def requested(self, body: Any) -> None:
        """Note the model a request body names."""
        model = body.get("model") if isinstance(body, dict) else None
        if isinstance(model, str) and model:
            self.model = model

    @contextmanager
    def failures(self) -> Iterator[None]:
        """Record an exception's ``status_code`` (500 when it has none), then let it go on."""
        try:
            yield
        except Exception as exc:
            status = getattr(exc, "status_code", None)
            status = status if isinstance(status, int) else 500
            if status in (400, 404):
                self.model = UNKNOWN_MODEL
            self.done(status)
            raise

    def done(self, status: int) -> None:
        """Record the request (once) with this final status."""
        if self._recorded or self._metrics is None:
            return
        self._recorded = True
        self._metrics.proxy_request(self.model, status, self._clock() - self._started)

    async def stream(self, chunks: AsyncIterator[bytes]) -> AsyncGenerator[bytes, None]:
        """Relay a streamed reply (status 200), recording it when it ends or the client leaves."""
        try:
            async for chunk in chunks:
                yield chunk
        finally:
            self.done(200)
            close = getattr(chunks, "aclose", None)
            if close is not None:
                await close()
