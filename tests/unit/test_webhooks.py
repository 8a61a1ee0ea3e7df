"""Which events become webhooks, and their body."""

from __future__ import annotations

from claude_agent_server.notify.webhooks import payload, webhook_type
from claude_agent_server.sessions import Event


def event(type: str, **data: object) -> Event:
    return Event(7, type, "s1", dict(data), "2026-12-06T00:00:00+00:00")  # type: ignore[arg-type]


def test_event_types() -> None:
    assert webhook_type(event("result", is_error=False)) == "turn_completed"
    assert webhook_type(event("result", is_error=True)) == "turn_failed"
    assert webhook_type(event("error", reason="server_restart")) == "turn_failed"
    assert webhook_type(event("error", reason="process_exited")) == "session_error"
    assert webhook_type(event("permission_request", tool_name="Bash")) == "permission_requested"
    assert webhook_type(event("text_delta", text="x")) is None


def test_payload() -> None:
    assert payload("turn_completed", event("result", result="ok")) == {
        "type": "turn_completed", "timestamp": "2026-12-06T00:00:00+00:00", "data": {"session_id": "s1", "event_id": 7, "result": "ok"},
    }
