"""ServerMetrics driven by hand-made session events, with a fake clock."""

from __future__ import annotations

import itertools
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from claude_agent_server.observability import ProxyTimer, ServerMetrics
from claude_agent_server.sessions.events import Event
from claude_agent_server.store import WriterHealth

P = "claude_agent_server_"
SID = "11111111-1111-4111-8111-111111111111"


class Clock:
    """Monotonic seconds that move only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Feed:
    """Events for one session, observed at the fake clock's times."""

    def __init__(self, metrics: ServerMetrics, clock: Clock, session_id: str = SID) -> None:
        self.metrics, self.clock, self.session_id = metrics, clock, session_id
        self._ids = itertools.count(1)

    def __call__(self, type: str, at: float, /, **data: Any) -> None:
        self.clock.now = 1000.0 + at
        self.metrics.observe(Event(next(self._ids), type, self.session_id, data))  # type: ignore[arg-type]

    def status(self, status: str, at: float) -> None:
        self("status", at, status=status)


class FakeRegistry:
    def health(self) -> WriterHealth:
        return WriterHealth("ok", None, None, 0, 0, persisted=42, spilled=0, dropped=3, batches=5)


class FakeManager:
    """The manager's read-only face that ``refresh`` reads."""

    live_count = 3  # warm ones included
    warm_count = 1
    registry = FakeRegistry()

    async def counts(self) -> dict[str, int]:
        return {"live": 3, "hibernated": 5}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def metrics(clock: Clock) -> ServerMetrics:
    return ServerMetrics(clock=clock)


@pytest.fixture
def feed(metrics: ServerMetrics, clock: Clock) -> Feed:
    return Feed(metrics, clock)


def value(metrics: ServerMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(P + name, labels)


def test_completed_turn_counts_duration_and_first_token(metrics: ServerMetrics, feed: Feed) -> None:
    feed("turn_started", 0, message="hi")
    feed("text_delta", 0.3, text="h", parent_tool_use_id=None)
    feed("text_delta", 0.5, text="i", parent_tool_use_id=None)
    feed("result", 2.0, is_error=False, terminal_reason="completed", cost_usd=0.01, num_turns=1)
    assert value(metrics, "turns_total", outcome="completed") == 1
    assert value(metrics, "turns_total", outcome="error") == 0 and value(metrics, "turns_total", outcome="interrupted") == 0
    assert value(metrics, "turn_duration_seconds_count", outcome="completed") == 1
    assert value(metrics, "turn_duration_seconds_sum", outcome="completed") == pytest.approx(2.0)
    assert value(metrics, "turn_duration_seconds_bucket", outcome="completed", le="2.5") == 1
    assert value(metrics, "turn_duration_seconds_bucket", outcome="completed", le="1.0") == 0
    assert value(metrics, "time_to_first_token_seconds_count") == 1
    assert value(metrics, "time_to_first_token_seconds_sum") == pytest.approx(0.3)
    feed("text_delta", 3.0, text="late", parent_tool_use_id=None)  # after the turn: no first token
    assert value(metrics, "time_to_first_token_seconds_count") == 1


def test_missing_terminal_reason_is_completed(metrics: ServerMetrics, feed: Feed) -> None:
    feed("turn_started", 0, message="/cost")
    feed("result", 0.1, is_error=False, terminal_reason=None)
    assert value(metrics, "turns_total", outcome="completed") == 1
    assert value(metrics, "time_to_first_token_seconds_count") == 0


def test_interrupted_and_error_turns(metrics: ServerMetrics, feed: Feed) -> None:
    feed("turn_started", 0, message="a")
    feed("result", 1, is_error=True, terminal_reason="aborted_tools")
    feed("turn_started", 2, message="b")
    feed("result", 4, is_error=True, terminal_reason="api_error")
    feed("turn_started", 5, message="c")
    feed("error", 8, message="the CLI exited", reason="process_exited")
    assert value(metrics, "turns_total", outcome="interrupted") == 1
    assert value(metrics, "turns_total", outcome="error") == 2
    assert value(metrics, "turns_total", outcome="completed") == 0
    assert value(metrics, "turn_duration_seconds_sum", outcome="interrupted") == pytest.approx(1)
    assert value(metrics, "turn_duration_seconds_sum", outcome="error") == pytest.approx(2 + 3)


def test_permission_outcomes_and_wait(metrics: ServerMetrics, feed: Feed) -> None:
    resolved = [
        ("r1", True, "user", "allowed"),
        ("r2", False, "user", "denied"),
        ("r3", False, "timeout", "timeout"),
        ("r4", False, "interrupted", "interrupted"),
        ("r5", False, "session_closed", "session_closed"),
        ("r6", False, "server_shutdown", "server_shutdown"),
        ("r7", False, "cancelled", "cancelled"),
    ]
    for request_id, _, _, _ in resolved:
        feed("permission_request", 0, request_id=request_id, tool_name="Bash")
    for wait, (request_id, allowed, reason, outcome) in enumerate(resolved, start=1):
        feed("permission_resolved", wait, request_id=request_id, allowed=allowed, reason=reason)
        assert value(metrics, "permission_requests_total", outcome=outcome) == 1
        assert value(metrics, "permission_wait_seconds_sum", outcome=outcome) == pytest.approx(wait)
    feed("permission_resolved", 9, request_id="never-asked", allowed=True, reason="user")
    assert value(metrics, "permission_requests_total", outcome="allowed") == 2
    assert value(metrics, "permission_wait_seconds_count", outcome="allowed") == 1  # no wait without its request


def test_cli_start_wake_and_hibernation(metrics: ServerMetrics, feed: Feed) -> None:
    feed.status("connecting", 0)
    feed.status("connected", 1.5)
    feed.status("running", 2)
    feed.status("connected", 3)
    assert value(metrics, "cli_start_duration_seconds_count") == 1
    assert value(metrics, "cli_start_duration_seconds_sum") == pytest.approx(1.5)
    feed.status("hibernated", 10)
    feed.status("waking", 20)
    feed.status("connected", 20.25)
    assert value(metrics, "hibernations_total") == 1 and value(metrics, "wakes_total") == 1
    assert value(metrics, "wake_duration_seconds_count") == 1
    assert value(metrics, "wake_duration_seconds_sum") == pytest.approx(0.25)
    assert value(metrics, "cli_start_duration_seconds_count") == 1


def test_failed_start_is_no_hibernation(metrics: ServerMetrics, feed: Feed) -> None:
    feed.status("waking", 0)
    feed.status("hibernated", 1)  # the CLI could not start
    feed.status("connected", 2)  # not the end of that wake
    assert value(metrics, "wakes_total") == 1 and value(metrics, "hibernations_total") == 0
    assert value(metrics, "wake_duration_seconds_count") == 0


def test_session_deleted_forgets_its_state(metrics: ServerMetrics, feed: Feed) -> None:
    feed.status("connecting", 0)
    feed("turn_started", 1, message="x")
    feed("permission_request", 1, request_id="r1", tool_name="Bash")
    feed("session_deleted", 2)
    feed.status("connected", 3)
    feed("text_delta", 3, text="x", parent_tool_use_id=None)
    feed("permission_resolved", 3, request_id="r1", allowed=False, reason="session_closed")
    feed("error", 3, message="closed", reason="session_closed")
    assert value(metrics, "cli_start_duration_seconds_count") == 0
    assert value(metrics, "time_to_first_token_seconds_count") == 0
    assert value(metrics, "permission_wait_seconds_count", outcome="session_closed") is None
    assert value(metrics, "turn_duration_seconds_count", outcome="error") is None
    assert value(metrics, "turns_total", outcome="error") == 1  # still counted


def test_sessions_are_timed_apart(metrics: ServerMetrics, clock: Clock) -> None:
    one, two = Feed(metrics, clock, "a"), Feed(metrics, clock, "b")
    one("turn_started", 0, message="1")
    two("turn_started", 5, message="2")
    one("result", 6, is_error=False, terminal_reason="completed")
    two("result", 6, is_error=False, terminal_reason="completed")
    assert value(metrics, "turn_duration_seconds_sum", outcome="completed") == pytest.approx(6 + 1)


def test_audit_lines(feed: Feed, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="claude_agent_server.audit")
    feed("turn_started", 0, message="hi")
    feed("result", 2.5, is_error=False, terminal_reason="completed", cost_usd=0.05, turn_cost_usd=0.0123,
         session_cost_usd=0.0456, num_turns=2)
    feed("permission_request", 3, request_id="r1", tool_name="Bash")
    feed("permission_resolved", 4.25, request_id="r1", allowed=False, reason="timeout")
    feed("error", 5, message="no turn seen", reason="process_exited")
    turn, permission, error = [r for r in caplog.records if r.name == "claude_agent_server.audit"]
    assert turn.getMessage() == (
        f"turn session_id={SID} outcome=completed duration_s=2.5 turn_cost_usd=0.0123 session_cost_usd=0.0456 num_turns=2 "
        "reason=completed"
    )
    assert permission.getMessage() == (
        f"permission session_id={SID} request_id=r1 tool_name=Bash allowed=false reason=timeout wait_s=1.25"
    )
    assert error.getMessage() == (
        f"turn session_id={SID} outcome=error duration_s=- turn_cost_usd=- session_cost_usd=- num_turns=- reason=process_exited"
    )
    assert turn.levelno == logging.INFO and turn.outcome == "completed" and turn.turn_cost_usd == 0.0123  # type: ignore[attr-defined]
    assert turn.session_cost_usd == 0.0456  # type: ignore[attr-defined]
    assert permission.audit == "permission" and permission.wait_s == 1.25  # type: ignore[attr-defined]


def test_audit_line_quotes_odd_values(metrics: ServerMetrics, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="claude_agent_server.audit")
    metrics.observe(Event(1, "assistant_message", SID, {}))  # types without metrics are passed over
    metrics.observe(Event(2, "permission_resolved", SID, {"request_id": 'a b="c"', "allowed": True, "reason": "user"}))
    (record,) = caplog.records
    assert record.getMessage().splitlines() == [
        f'permission session_id={SID} request_id="a b=\\"c\\"" tool_name=- allowed=true reason=user wait_s=-'
    ]


async def test_refresh_reads_the_manager(metrics: ServerMetrics) -> None:
    await metrics.refresh(FakeManager())
    assert value(metrics, "sessions", state="live") == 2
    assert value(metrics, "sessions", state="hibernated") == 5
    assert value(metrics, "sessions", state="warm") == 1
    assert value(metrics, "cli_processes") == 3
    assert value(metrics, "events_persisted_total") == 42
    assert value(metrics, "events_dropped_total") == 3


def test_instances_do_not_share_a_registry(clock: Clock) -> None:
    first, second = ServerMetrics(clock=clock), ServerMetrics(clock=clock)
    Feed(first, clock)("result", 0, is_error=False, terminal_reason="completed")
    with first.sse_subscribed():
        assert value(first, "sse_subscribers") == 1 and value(second, "sse_subscribers") == 0
    assert value(first, "sse_subscribers") == 0
    assert value(first, "turns_total", outcome="completed") == 1
    assert value(second, "turns_total", outcome="completed") == 0


def test_proxy_timer_records_once(metrics: ServerMetrics, clock: Clock) -> None:
    timer = ProxyTimer(metrics, clock=clock)
    timer.requested({"model": "claude-x"})
    clock.now += 0.5
    timer.done(200)
    timer.done(500)
    assert value(metrics, "proxy_requests_total", model="claude-x", status="200") == 1
    assert value(metrics, "proxy_requests_total", model="claude-x", status="500") is None
    assert value(metrics, "proxy_request_duration_seconds_sum", model="claude-x") == pytest.approx(0.5)


class Failed(Exception):
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code


@pytest.mark.parametrize(("error", "model", "status"), [
    (Failed(404), "unknown", "404"),  # a model nobody serves adds no series
    (Failed(400), "unknown", "400"),
    (Failed(429), "claude-x", "429"),
    (RuntimeError("boom"), "claude-x", "500"),
])
def test_proxy_timer_failures(metrics: ServerMetrics, error: Exception, model: str, status: str) -> None:
    timer = ProxyTimer(metrics)
    timer.requested({"model": "claude-x"})
    with pytest.raises(type(error)), timer.failures():
        raise error
    assert value(metrics, "proxy_requests_total", model=model, status=status) == 1


async def test_proxy_timer_stream_ends_the_request(metrics: ServerMetrics, clock: Clock) -> None:
    closed = []

    async def chunks() -> AsyncIterator[bytes]:
        try:
            yield b"a"
            yield b"b"
        finally:
            closed.append(True)

    timer = ProxyTimer(metrics, clock=clock)
    timer.requested({"model": "m"})
    stream = timer.stream(chunks())
    assert await anext(stream) == b"a"
    clock.now += 3
    assert value(metrics, "proxy_requests_total", model="m", status="200") is None
    await stream.aclose()  # the client left early
    assert closed == [True]
    assert value(metrics, "proxy_requests_total", model="m", status="200") == 1
    assert value(metrics, "proxy_request_duration_seconds_sum", model="m") == pytest.approx(3)


def test_proxy_timer_without_metrics() -> None:
    timer = ProxyTimer(None)
    timer.requested({"model": "m"})
    timer.done(200)
