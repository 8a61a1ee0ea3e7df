"""Webhooks: a JSON POST to every ``--webhook-url`` for the events a person may want to hear
of, signed per the Standard Webhooks specification (``webhook-id``, ``webhook-timestamp``,
``webhook-signature``; the ``standardwebhooks`` package) with ``--webhook-secret``.

Deliveries never block a turn: the manager's observer only enqueues (a bounded queue; the
oldest waiting delivery is dropped when it is full), one task sends them, and a failed
delivery (a transport error or a 5xx / 429 answer) is retried with exponential backoff and
jitter (``stamina``). Each outcome is counted in ``/metrics``
(``claude_agent_server_webhook_deliveries_total{outcome}``: delivered, failed, dropped;
``..._webhook_attempts_total``: every POST).

Event types: ``turn_completed`` (a ``result``), ``turn_failed`` (a ``result`` with ``is_error``,
or a turn's ``error``), ``permission_requested``, ``session_error`` (the CLI process died).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
import stamina
from prometheus_client import CollectorRegistry, Counter
from standardwebhooks import Webhook

from ..observability.metrics import PREFIX
from ..sessions import Event

log = logging.getLogger(__name__)

QUEUE_SIZE = 1000
"""Deliveries waiting at most (the oldest is dropped beyond)."""
ATTEMPTS = 5
TIMEOUT = 10.0
"""Seconds one POST may take."""
RETRY_SECONDS = 120.0
"""Seconds one delivery may be retried for, at most."""
OUTCOMES = ("delivered", "failed", "dropped")


class RetryableStatus(Exception):
    """The receiver answered 5xx or 429: try again later."""


def webhook_type(event: Event) -> str | None:
    """The webhook type an event becomes, or None (not notified)."""
    if event.type == "result":
        return "turn_failed" if event.data.get("is_error") else "turn_completed"
    if event.type == "error":
        return "session_error" if event.data.get("reason") == "process_exited" else "turn_failed"
    if event.type == "permission_request":
        return "permission_requested"
    return None


def payload(kind: str, event: Event) -> dict[str, Any]:
    """The JSON body: ``{type, timestamp, data: {session_id, event_id, ...the event's data}}``."""
    return {"type": kind, "timestamp": event.created_at, "data": {"session_id": event.session_id, "event_id": event.id, **event.data}}


class WebhookSender:
    """Sends webhooks for the manager's events (:meth:`observe` is its observer).

    Args:
        urls: Where to POST (each gets every delivery).
        secret: The Standard Webhooks secret (``whsec_<base64>``, or any text: it is then
            base64-encoded); None sends unsigned deliveries.
        registry: Where the delivery counters go (the metrics' registry).
    """

    def __init__(self, urls: Sequence[str], secret: str | None, registry: CollectorRegistry | None = None) -> None:
        self.urls = list(urls)
        self._signer = _signer(secret) if secret else None
        self._queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue(QUEUE_SIZE)
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None
        self.deliveries = Counter(f"{PREFIX}webhook_deliveries", "Webhook deliveries, by outcome.", ["outcome"], registry=registry)
        self.attempts = Counter(f"{PREFIX}webhook_attempts", "Webhook POSTs made (retries included).", registry=registry)
        for outcome in OUTCOMES:
            self.deliveries.labels(outcome)

    def start(self) -> None:
        """Start sending (in the running loop)."""
        if self.urls and self._task is None:
            self._client = httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False)
            self._task = asyncio.create_task(self._run(), name="webhooks")

    async def close(self, grace: float = 5.0) -> None:
        """Send what waits for up to ``grace`` seconds, then stop."""
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), grace)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        if self._client is not None:
            await self._client.aclose()
        self._task = None

    def observe(self, event: Event) -> None:
        """Enqueue the deliveries ``event`` makes (never blocks)."""
        kind = webhook_type(event) if self._task is not None else None
        if kind is None or event.session_id is None:
            return
        body = payload(kind, event)
        for url in self.urls:
            if self._queue.full():
                self._queue.get_nowait()
                self._queue.task_done()
                self.deliveries.labels("dropped").inc()
            self._queue.put_nowait((url, body))

    async def _run(self) -> None:
        while True:
            url, body = await self._queue.get()
            try:
                await self._deliver(url, body)
                self.deliveries.labels("delivered").inc()
            except Exception as exc:  # every attempt failed, or the receiver refused it (4xx)
                self.deliveries.labels("failed").inc()
                log.warning("webhook %s to %s failed: %s", body["type"], url, exc)
            finally:
                self._queue.task_done()

    async def _deliver(self, url: str, body: dict[str, Any]) -> None:
        data = json.dumps(body, separators=(",", ":"))
        message_id = f"msg_{body['data']['event_id']}"
        async for attempt in stamina.retry_context(
            on=(httpx.TransportError, RetryableStatus), attempts=ATTEMPTS, timeout=RETRY_SECONDS, wait_initial=0.5, wait_max=30.0
        ):
            with attempt:
                self.attempts.inc()
                headers = {"content-type": "application/json", "webhook-id": message_id}
                now = datetime.now(UTC)
                headers["webhook-timestamp"] = str(int(now.timestamp()))
                if self._signer is not None:
                    headers["webhook-signature"] = self._signer.sign(message_id, now, data)
                assert self._client is not None
                reply = await self._client.post(url, content=data, headers=headers)
                if reply.status_code >= 500 or reply.status_code == 429:
                    raise RetryableStatus(f"{reply.status_code}")
                reply.raise_for_status()


def _signer(secret: str) -> Webhook:
    if secret.startswith("whsec_"):
        return Webhook(secret)
    return Webhook(secret.encode("utf-8"))
