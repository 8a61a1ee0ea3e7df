"""The server's Prometheus metrics, fed by its session events.

:class:`ServerMetrics` owns one :class:`~prometheus_client.CollectorRegistry` (no
global registry, so several apps can share a process). The session layer knows
nothing of it: the manager calls :meth:`ServerMetrics.observe` with every event
(a cheap, synchronous call on the turn's path: no I/O, O(1) per event), the
``/metrics`` route awaits :meth:`ServerMetrics.refresh` for the values read from
the manager (it answers during a database outage too, so the registry's gauges
can be watched then), the SSE responses hold :meth:`ServerMetrics.sse_subscribed`, and the
proxy routes time each request with a :class:`~.proxy.ProxyTimer`.

Every name starts with ``claude_agent_server_``; times are seconds, measured with
``time.monotonic`` when the events are observed:

=========================================== ========== ====================================================
``sessions{state}``                          gauge      ``live``, ``hibernated``, ``warm`` (ready in the pool);
                                                        no ``hibernated`` sample while the registry's database
                                                        is unavailable (it is read there)
``cli_processes``                            gauge      Claude Code processes, warm ones included
``turns_total{outcome}``                     counter    ``completed``, ``error``, ``interrupted``
``turn_duration_seconds{outcome}``           histogram  ``turn_started`` → ``result``/``error``
``time_to_first_token_seconds``              histogram  ``turn_started`` → the turn's first ``text_delta`` (turns
                                                        that stream no text have none)
``permission_requests_total{outcome}``       counter    ``allowed``, ``denied`` (by the user) or the reason
                                                        (``timeout``, ``interrupted``, ``session_closed``,
                                                        ``server_shutdown``, ``cancelled``)
``permission_wait_seconds{outcome}``         histogram  ``permission_request`` → ``permission_resolved``
``cli_start_duration_seconds``               histogram  status ``connecting`` → ``connected``
``wake_duration_seconds``                    histogram  status ``waking`` → ``connected``
``wakes_total``, ``hibernations_total``      counter    status ``waking``; status ``hibernated`` of a session
                                                        whose process ran (a failed start is not counted)
``sse_subscribers``                          gauge      SSE responses being sent
``events_persisted_total``                   counter    events the registry's writer stored
``events_dropped_total``                     counter    events lost: neither written to the registry nor kept in
                                                        its spill file (should stay 0)
``events_spilled_total``                     counter    events moved to the spill file (memory over its bound,
                                                        or the database unreachable); written later
``registry_pending_events``                  gauge      accepted events not yet in the database (memory + spill)
``registry_spilled_bytes``                   gauge      bytes of the spill file not yet written
``registry_database_up``                     gauge      1 when the database answers and nothing spilled waits
                                                        (``/health`` ``database.status`` ``ok``), else 0
``proxy_requests_total{model,status}``       counter    ``/v1/messages`` and ``count_tokens``
``proxy_request_duration_seconds{model}``    histogram  until the reply (a stream: its end) is sent
=========================================== ========== ====================================================
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from ..sessions.events import Event
from ..store import RegistryUnavailable, WriterHealth
from . import logs

PREFIX = "claude_agent_server_"
TURN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
"""Seconds; also the proxy's (a streamed reply lasts as long as the model writes)."""
FIRST_TOKEN_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
PERMISSION_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
START_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30)
TURN_OUTCOMES = ("completed", "error", "interrupted")
PERMISSION_OUTCOMES = ("allowed", "denied", "timeout", "interrupted", "session_closed", "server_shutdown", "cancelled")
SESSION_STATES = ("live", "hibernated", "warm")
RUNNING = frozenset({"connected", "running", "waiting_permission"})
"""Statuses of a session whose CLI is up (the end of a start or a wake)."""
MAX_MODEL_LABEL = 100


def turn_outcome(event: Event) -> str:
    """``interrupted`` (a result whose ``terminal_reason`` starts with ``aborted``),
    ``error`` (a result with ``is_error``, or an ``error`` event) or ``completed``."""
    if event.type == "error":
        return "error"
    if str(event.data.get("terminal_reason") or "").startswith("aborted"):
        return "interrupted"
    return "error" if event.data.get("is_error") else "completed"


def permission_outcome(data: dict[str, Any]) -> str:
    """``allowed`` or ``denied`` for a user's answer, else the reason (``timeout``, ...)."""
    reason = data.get("reason")
    if reason in PERMISSION_OUTCOMES:
        return str(reason)
    return "allowed" if data.get("allowed") else "denied"


class _Writes(Protocol):
    def health(self) -> WriterHealth: ...


class MetricsSource(Protocol):
    """What :meth:`ServerMetrics.refresh` reads, the :class:`SessionManager`'s
    ``live_count`` (CLI processes, warm ones included), ``warm_count`` (warm sessions
    ready in the pool), ``registry`` (its ``health()``: the database's state and the
    persisted, dropped and spilled event totals) and ``counts()``."""

    @property
    def live_count(self) -> int: ...

    @property
    def warm_count(self) -> int: ...

    @property
    def registry(self) -> _Writes: ...

    async def counts(self) -> dict[str, int]: ...


@dataclass(slots=True)
class _Turn:
    started: float
    first_token: bool = False


@dataclass(slots=True)
class _Asked:
    at: float
    tool_name: str | None


class _ReadAtScrape:
    """A collector for values kept elsewhere: the last :meth:`ServerMetrics.refresh`'s reading."""

    def __init__(self) -> None:
        self.sessions: dict[str, int | None] = dict.fromkeys(SESSION_STATES, 0)
        self.cli_processes = 0
        self.persisted = 0
        self.dropped = 0
        self.spilled = 0
        self.pending = 0
        self.spilled_bytes = 0
        self.database_up = 1
        self.user_cost: dict[str, float] = {}

    def collect(self) -> Iterable[Metric]:
        sessions = GaugeMetricFamily(
            f"{PREFIX}sessions", "Sessions by state (warm: pre-started CLIs waiting in the pool).", labels=["state"]
        )
        for state, count in self.sessions.items():
            if count is not None:
                sessions.add_metric([state], count)
        yield sessions
        yield GaugeMetricFamily(
            f"{PREFIX}cli_processes", "Claude Code CLI processes held (warm ones included).", value=self.cli_processes
        )
        yield CounterMetricFamily(f"{PREFIX}events_persisted", "Events written to the registry.", value=self.persisted)
        yield CounterMetricFamily(
            f"{PREFIX}events_dropped", "Events lost: neither written to the registry nor spilled (should stay 0).", value=self.dropped
        )
        yield CounterMetricFamily(f"{PREFIX}events_spilled", "Events moved to the registry's spill file.", value=self.spilled)
        yield GaugeMetricFamily(
            f"{PREFIX}registry_pending_events", "Accepted events not yet in the registry's database.", value=self.pending
        )
        yield GaugeMetricFamily(
            f"{PREFIX}registry_spilled_bytes", "Bytes of the registry's spill file not yet written.", value=self.spilled_bytes
        )
        yield GaugeMetricFamily(
            f"{PREFIX}registry_database_up", "1 when the registry's database answers and nothing spilled waits.",
            value=self.database_up,
        )

        users = GaugeMetricFamily(
            f"{PREFIX}user_cost_usd", "USD each user's sessions spent this UTC month (turns ended).", labels=["user"]
        )
        for user, cost in sorted(self.user_cost.items()):
            users.add_metric([user], cost)
        yield users

    describe = collect


class ServerMetrics:
    """One server's metrics and the per-session timing state behind them.

    Args:
        clock: Monotonic seconds (tests pass a fake).

    Attributes:
        registry: The registry to render (``prometheus_client.generate_latest(registry)``).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.registry = CollectorRegistry()
        self._read = _ReadAtScrape()
        self.registry.register(self._read)
        counter, histogram = self._counter, self._histogram
        self._turns_total = counter("turns", "Turns ended, by outcome.", ["outcome"])
        self._turn_seconds = histogram(
            "turn_duration_seconds", "Seconds from turn_started to result or error.", TURN_BUCKETS, ["outcome"]
        )
        self._first_token = histogram(
            "time_to_first_token_seconds", "Seconds from turn_started to the turn's first text_delta.", FIRST_TOKEN_BUCKETS
        )
        self._permissions = counter("permission_requests", "Permission requests resolved, by outcome.", ["outcome"])
        self._permission_wait = histogram(
            "permission_wait_seconds", "Seconds a permission request waited for its answer.", PERMISSION_BUCKETS, ["outcome"]
        )
        self._start_seconds = histogram(
            "cli_start_duration_seconds", "Seconds from connecting to connected (a new CLI process).", START_BUCKETS
        )
        self._wake_seconds = histogram(
            "wake_duration_seconds", "Seconds from waking to connected (a hibernated session resumed).", START_BUCKETS
        )
        self._wakes = counter("wakes", "Wakes of hibernated sessions begun.")
        self._hibernations = counter("hibernations", "Sessions hibernated (their CLI process stopped or died).")
        self._sse = Gauge(f"{PREFIX}sse_subscribers", "SSE responses being sent (turns and subscriptions).", registry=self.registry)
        self._proxy_requests = counter("proxy_requests", "Proxied model requests, by model and status.", ["model", "status"])
        self._proxy_seconds = histogram(
            "proxy_request_duration_seconds", "Seconds to answer a proxied model request (a stream: until it ends).",
            TURN_BUCKETS, ["model"],
        )
        for outcome in TURN_OUTCOMES:
            self._turns_total.labels(outcome)
        for outcome in PERMISSION_OUTCOMES:
            self._permissions.labels(outcome)
        self._turns: dict[str | None, _Turn] = {}
        self._asked: dict[str | None, dict[str, _Asked]] = {}
        self._starts: dict[str | None, tuple[str, float]] = {}
        self._handlers: dict[str, Callable[[Event], None]] = {
            "turn_started": self._turn_started,
            "text_delta": self._text_delta,
            "result": self._turn_ended,
            "error": self._turn_ended,
            "permission_request": self._permission_request,
            "permission_resolved": self._permission_resolved,
            "status": self._status,
            "session_deleted": self._forget,
        }

    def _counter(self, name: str, doc: str, labels: Sequence[str] = ()) -> Counter:
        return Counter(PREFIX + name, doc, labels, registry=self.registry)

    def _histogram(self, name: str, doc: str, buckets: Sequence[float], labels: Sequence[str] = ()) -> Histogram:
        return Histogram(PREFIX + name, doc, labels, registry=self.registry, buckets=buckets)

    # -- feeds ----------------------------------------------------------------

    def observe(self, event: Event) -> None:
        """Update the metrics (and the audit log) from one session or lifecycle event."""
        handler = self._handlers.get(event.type)
        if handler is not None:
            handler(event)

    async def refresh(self, manager: MetricsSource) -> None:
        """Read the values kept by the manager for the next rendering: sessions by state
        (``live``: those holding a CLI process, ready warm ones excepted), CLI processes
        (warm ones included), the registry's event totals and its database's state.
        While the database is unavailable there is no ``hibernated`` reading."""
        hibernated: int | None
        try:
            hibernated = (await manager.counts()).get("hibernated", 0)
        except RegistryUnavailable:
            hibernated = None
        processes, warm = manager.live_count, manager.warm_count
        registry, read = manager.registry, self._read
        health = registry.health()
        read.sessions = {"live": max(processes - warm, 0), "hibernated": hibernated, "warm": warm}
        read.cli_processes = processes
        read.persisted, read.dropped, read.spilled = health.persisted, health.dropped, health.spilled
        read.pending = health.pending_events
        read.spilled_bytes = health.spilled_bytes
        read.database_up = int(health.status == "ok")
        audit = getattr(registry, "audit", None)
        if audit is not None:
            month = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            with contextlib.suppress(RegistryUnavailable):
                read.user_cost = await audit.spend_by_user(month)

    def sse_subscribed(self) -> AbstractContextManager[Any]:
        """Counts one SSE subscriber while entered."""
        return self._sse.track_inprogress()

    def proxy_request(self, model: str, status: int, seconds: float) -> None:
        """Record one proxied request: the model asked for, its final status and its latency (seconds)."""
        model = model[:MAX_MODEL_LABEL]
        self._proxy_requests.labels(model, str(status)).inc()
        self._proxy_seconds.labels(model).observe(seconds)

    # -- event handlers -------------------------------------------------------

    def _turn_started(self, event: Event) -> None:
        self._turns[event.session_id] = _Turn(self._clock())

    def _text_delta(self, event: Event) -> None:
        turn = self._turns.get(event.session_id)
        if turn is not None and not turn.first_token:
            turn.first_token = True
            self._first_token.observe(self._clock() - turn.started)

    def _turn_ended(self, event: Event) -> None:
        outcome = turn_outcome(event)
        turn = self._turns.pop(event.session_id, None)
        self._turns_total.labels(outcome).inc()
        seconds = None
        if turn is not None:
            seconds = self._clock() - turn.started
            self._turn_seconds.labels(outcome).observe(seconds)
        elif isinstance(event.data.get("duration_ms"), int | float):
            seconds = event.data["duration_ms"] / 1000
        logs.turn(event.session_id, outcome, seconds, event.data)

    def _permission_request(self, event: Event) -> None:
        asked = _Asked(self._clock(), event.data.get("tool_name"))
        self._asked.setdefault(event.session_id, {})[str(event.data.get("request_id"))] = asked

    def _permission_resolved(self, event: Event) -> None:
        outcome = permission_outcome(event.data)
        request_id = event.data.get("request_id")
        pending = self._asked.get(event.session_id)
        asked = pending.pop(str(request_id), None) if pending is not None else None
        if pending is not None and not pending:
            del self._asked[event.session_id]
        self._permissions.labels(outcome).inc()
        wait = None
        if asked is not None:
            wait = self._clock() - asked.at
            self._permission_wait.labels(outcome).observe(wait)
        tool_name = asked.tool_name if asked else None
        logs.permission(event.session_id, request_id, tool_name, bool(event.data.get("allowed")), event.data.get("reason"), wait)

    def _status(self, event: Event) -> None:
        status = event.data.get("status")
        session_id = event.session_id
        if status in ("connecting", "waking"):
            if status == "waking":
                self._wakes.inc()
            self._starts.setdefault(session_id, (status, self._clock()))
            return
        start = self._starts.pop(session_id, None)
        if status in RUNNING:
            if start is not None:
                phase, began = start
                (self._wake_seconds if phase == "waking" else self._start_seconds).observe(self._clock() - began)
        elif status == "hibernated" and start is None:
            self._hibernations.inc()

    def _forget(self, event: Event) -> None:
        """Drop what is kept for a deleted session."""
        self._turns.pop(event.session_id, None)
        self._asked.pop(event.session_id, None)
        self._starts.pop(event.session_id, None)
