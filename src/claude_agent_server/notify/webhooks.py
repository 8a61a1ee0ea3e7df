"""Webhooks: a JSON POST to every ``--webhook-url`` for the events a person may want to hear
of, signed per the Standard Webhooks specification (``webhook-id``, ``webhook-timestamp``,
``webhook-signature``; the ``standardwebhooks`` package) with ``--webhook-secret``.

Deliveries are durable and never block a turn: the manager's observer only queues rows for
the registry's outbox (``store/outbox.py``: inserted on the registry's write lane; at most
1000 wait, the oldest dropped beyond). Every node with a ``--webhook-url`` runs a sender that
claims due rows (in one statement: no two nodes claim one row), POSTs each, and deletes it
once delivered or given up; a failed attempt (a transport error or a 5xx / 429 answer) is
retried with exponential backoff and jitter (``stamina``). A claim outlasts the whole retry
schedule; a node that dies leaves its claims to expire, and another node (or its own next
run) delivers them; a node that stops gives its claims back. Each outcome is counted in
``/metrics`` (``claude_agent_server_webhook_deliveries_total{outcome}``: delivered, failed,
dropped; ``..._webhook_attempts_total``: every POST).

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
from ..store import Delivery, WebhookOutbox

log = logging.getLogger(__name__)

ATTEMPTS = 5
TIMEOUT = 10.0
"""Seconds one POST may take."""
RETRY_SECONDS = 120.0
"""Seconds one delivery may be retried for, at most."""
CLAIM_SECONDS = RETRY_SECONDS + TIMEOUT + 30.0
"""Seconds a node's claim of a delivery lasts (its whole retry schedule); then another node may take it."""
POLL = 1.0
"""Seconds between looks for deliveries other nodes queued or left (this node's own wake it at once)."""
BATCH = 16
"""Deliveries one node sends at once, at most."""
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
    """Sends webhooks for the manager's events (:meth:`observe` is its observer), through the outbox.

    Args:
        urls: Where to POST (each gets every delivery).
        secret: The Standard Webhooks secret (``whsec_<base64>``, or any text: it is then
            base64-encoded); None sends unsigned deliveries.
        outbox: The registry's outbox (``registry.webhooks``).
        node_id: This node's id (its claims are filed under it).
        registry: Where the delivery counters go (the metrics' registry).
        claim_seconds: Seconds a claim lasts (see :data:`CLAIM_SECONDS`).
        poll: Seconds between looks for other nodes' deliveries (see :data:`POLL`).
        transport: The HTTP transport (tests script one); None: the network.
    """

    def __init__(
        self, urls: Sequence[str], secret: str | None, outbox: WebhookOutbox, node_id: str,
        registry: CollectorRegistry | None = None, *, claim_seconds: float = CLAIM_SECONDS, poll: float = POLL,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.urls = list(urls)
        self._signer = _signer(secret) if secret else None
        self._outbox = outbox
        self.node_id = node_id
        self._claim_seconds = claim_seconds
        self._poll = poll
        self._transport = transport
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None
        self._wake = asyncio.Event()
        self._sending: set[asyncio.Task[None]] = set()
        self._dropped = 0
        self.deliveries = Counter(f"{PREFIX}webhook_deliveries", "Webhook deliveries, by outcome.", ["outcome"], registry=registry)
        self.attempts = Counter(f"{PREFIX}webhook_attempts", "Webhook POSTs made (retries included).", registry=registry)
        for outcome in OUTCOMES:
            self.deliveries.labels(outcome)

    def start(self) -> None:
        """Start sending (in the running loop)."""
        if self.urls and self._task is None:
            self._client = httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False, transport=self._transport)
            self._outbox.on_written = lambda inserted: self._wake.set()
            self._task = asyncio.create_task(self._run(), name="webhooks")

    async def close(self, grace: float = 5.0) -> None:
        """Send what waits for up to ``grace`` seconds, then stop; this node's claims left are
        given back (another node, or the next run, delivers them)."""
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError, Exception):
            async with asyncio.timeout(grace):
                await self._outbox.flush()
                self._wake.set()
                while self._sending or await self._outbox.due():
                    await asyncio.sleep(0.05)
        self._task.cancel()
        for task in list(self._sending):
            task.cancel()
        await asyncio.gather(self._task, *self._sending, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self._outbox.unclaim(self.node_id)
        if self._client is not None:
            await self._client.aclose()
        self._task = None

    def observe(self, event: Event) -> None:
        """Queue the deliveries ``event`` makes (never blocks)."""
        kind = webhook_type(event) if self._task is not None else None
        if kind is None or event.session_id is None:
            return
        data = json.dumps(payload(kind, event), separators=(",", ":"))
        for url in self.urls:
            self._outbox.add(url, f"msg_{event.id}", data)
        self._count_dropped()

    def _count_dropped(self) -> None:
        if (new := self._outbox.dropped - self._dropped) > 0:
            self._dropped += new
            self.deliveries.labels("dropped").inc(new)

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            self._count_dropped()
            room = BATCH - len(self._sending)
            claimed = []
            if room > 0:
                try:
                    claimed = await self._outbox.claim(self.node_id, room, self._claim_seconds)
                except Exception as exc:  # the registry is away: look again later
                    log.warning("webhooks: claiming deliveries failed: %s", exc)
            for delivery in claimed:
                task = asyncio.create_task(self._send(delivery), name=f"webhook-{delivery.id}")
                self._sending.add(task)
                task.add_done_callback(self._sent)
            if claimed and len(claimed) == room:
                continue  # more may wait
            with contextlib.suppress(TimeoutError):  # (not wait_for: on 3.11 it may swallow a cancellation)
                async with asyncio.timeout(self._poll):
                    await self._wake.wait()

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        self._wake.set()  # room for another

    async def _send(self, delivery: Delivery) -> None:
        try:
            await self._deliver(delivery)
            self.deliveries.labels("delivered").inc()
        except Exception as exc:  # every attempt failed, or the receiver refused it (4xx)
            self.deliveries.labels("failed").inc()
            log.warning("webhook %s to %s failed: %s", delivery.message_id, delivery.url, exc)
        try:
            await self._outbox.done(delivery.id, self.node_id)
        except Exception as exc:  # its claim expires: it is sent again then
            log.warning("webhook %s: could not be marked done: %s", delivery.message_id, exc)

    async def _deliver(self, delivery: Delivery) -> None:
        async for attempt in stamina.retry_context(
            on=(httpx.TransportError, RetryableStatus), attempts=ATTEMPTS, timeout=RETRY_SECONDS, wait_initial=0.5, wait_max=30.0
        ):
            with attempt:
                self.attempts.inc()
                headers = {"content-type": "application/json", "webhook-id": delivery.message_id}
                now = datetime.now(UTC)
                headers["webhook-timestamp"] = str(int(now.timestamp()))
                if self._signer is not None:
                    headers["webhook-signature"] = self._signer.sign(delivery.message_id, now, delivery.body)
                assert self._client is not None
                reply = await self._client.post(delivery.url, content=delivery.body, headers=headers)
                if reply.status_code >= 500 or reply.status_code == 429:
                    raise RetryableStatus(f"{reply.status_code}")
                reply.raise_for_status()


def _signer(secret: str) -> Webhook:
    if secret.startswith("whsec_"):
        return Webhook(secret)
    return Webhook(secret.encode("utf-8"))
