"""The permission broker: pending requests, answers, timeouts, cancellation, suggestions."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from claude_agent_sdk import (
    PermissionResultAllow,
    PermissionResultDeny,
    PermissionUpdate,
    ToolPermissionContext,
)

from claude_agent_sdk.types import PermissionRuleValue

from claude_agent_server.sessions import PermissionDecision, PermissionNotFound
from claude_agent_server.sessions.permissions import PermissionBroker

ADD_RULE = PermissionUpdate(
    type="addRules", rules=[PermissionRuleValue("Bash", "echo x *")], behavior="allow", destination="localSettings"
)


class Sink:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, type: str, **data: Any) -> None:
        self.events.append((type, data))

    def of(self, type: str) -> list[dict[str, Any]]:
        return [d for t, d in self.events if t == type]


async def ask(broker: PermissionBroker, tool_use_id: str = "t1", suggestions: list[Any] | None = None) -> asyncio.Task[Any]:
    context = ToolPermissionContext(tool_use_id=tool_use_id, suggestions=suggestions or [])
    task = asyncio.create_task(broker.can_use_tool("Bash", {"command": "echo x"}, context))
    await asyncio.sleep(0)
    return task


async def test_request_is_published_and_allowed() -> None:
    sink = Sink()
    broker = PermissionBroker(sink, timeout=5)
    task = await ask(broker, suggestions=[ADD_RULE])
    [request] = sink.of("permission_request")
    assert request["tool_name"] == "Bash" and request["tool_use_id"] == "t1"
    assert request["suggestions"] == [ADD_RULE.to_dict()]
    assert [p.request_id for p in broker.pending()] == [request["request_id"]]
    broker.respond(request["request_id"], PermissionDecision(allowed=True))
    result = await task
    assert isinstance(result, PermissionResultAllow) and result.updated_permissions is None
    assert broker.pending() == []
    assert sink.of("permission_resolved")[0] | {"request_id": None} == {
        "request_id": None, "tool_use_id": "t1", "allowed": True, "applied_suggestions": False, "reason": "user",
        "message": None,
    }


async def test_apply_suggestions_sends_permission_updates_with_rules() -> None:
    sink = Sink()
    broker = PermissionBroker(sink, timeout=5)
    task = await ask(broker, suggestions=[ADD_RULE])
    broker.respond(sink.of("permission_request")[0]["request_id"], PermissionDecision(allowed=True, apply_suggestions=True))
    result = await task
    assert result.updated_permissions == [ADD_RULE]
    assert result.updated_permissions[0].to_dict()["rules"] == [{"toolName": "Bash", "ruleContent": "echo x *"}]
    assert sink.of("permission_resolved")[0]["applied_suggestions"] is True


async def test_deny_with_message_and_updated_input() -> None:
    sink = Sink()
    broker = PermissionBroker(sink, timeout=5)
    denied, edited = await ask(broker, "t1"), await ask(broker, "t2")
    first, second = sink.of("permission_request")
    broker.respond(second["request_id"], PermissionDecision(allowed=True, updated_input={"command": "echo safe"}))
    broker.respond(first["request_id"], PermissionDecision(allowed=False, message="no"))
    assert (await edited).updated_input == {"command": "echo safe"}
    result = await denied
    assert isinstance(result, PermissionResultDeny) and result.message == "no" and result.interrupt is False


async def test_unknown_or_answered_request_raises() -> None:
    sink = Sink()
    broker = PermissionBroker(sink, timeout=5)
    with pytest.raises(PermissionNotFound):
        broker.respond("nope", PermissionDecision(allowed=True))
    task = await ask(broker)
    request_id = sink.of("permission_request")[0]["request_id"]
    broker.respond(request_id, PermissionDecision(allowed=True))
    await task
    with pytest.raises(PermissionNotFound):
        broker.respond(request_id, PermissionDecision(allowed=False))


async def test_timeout_denies() -> None:
    sink = Sink()
    broker = PermissionBroker(sink, timeout=0.05)
    result = await (await ask(broker))
    assert isinstance(result, PermissionResultDeny) and "0.05 s" in result.message
    assert sink.of("permission_resolved")[0]["reason"] == "timeout"
    assert broker.pending() == []


async def test_deny_all_cancels_every_pending_request() -> None:
    sink = Sink()
    broker = PermissionBroker(sink, timeout=5)
    tasks = [await ask(broker, f"t{n}") for n in range(3)]
    assert broker.deny_all("interrupted", "stop") == 3
    results = await asyncio.gather(*tasks)
    assert all(isinstance(r, PermissionResultDeny) and r.interrupt for r in results)
    assert {d["reason"] for d in sink.of("permission_resolved")} == {"interrupted"}
