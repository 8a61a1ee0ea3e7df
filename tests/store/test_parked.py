"""Parked permission requests in the registry: record, list by session, answer once, delete."""

from __future__ import annotations

from claude_agent_server.store import ParkedRecord, SqlRegistry, utcnow

A = "6f1c2a9e-0000-4000-8000-00000000000a"
B = "6f1c2a9e-0000-4000-8000-00000000000b"


def _record(request_id: str, session_id: str = A) -> ParkedRecord:
    request = {"request_id": request_id, "tool_name": "Bash", "tool_input": {"command": "echo héllo > x"}, "suggestions": []}
    return ParkedRecord(request_id, session_id, f"toolu_{request_id}", utcnow(), request)


async def test_parked_requests_round_trip_answer_once_and_delete(registry: SqlRegistry) -> None:
    await registry.parked.put(_record("r1"))
    await registry.parked.put(_record("r2"))
    await registry.parked.put(_record("r3", B))
    [first, second] = await registry.parked.of_session(A)
    assert (first.request_id, second.request_id) == ("r1", "r2")
    assert first.request["tool_input"] == {"command": "echo héllo > x"} and first.decision is None
    assert await registry.parked.of_session(A, parked_only=True) == [] and await registry.parked.sessions() == []
    assert await registry.parked.park(["r1", "r2", "r3"], utcnow()) == 3
    assert [r.request_id for r in await registry.parked.of_session(A, parked_only=True)] == ["r1", "r2"]
    assert sorted(await registry.parked.sessions()) == [A, B]

    assert await registry.parked.sessions(answered=True) == []
    assert await registry.parked.answer("r1", {"allowed": True}) is True
    assert await registry.parked.answer("r1", {"allowed": False}) is False  # answered once only
    assert sorted(await registry.parked.sessions()) == [A, B] and await registry.parked.sessions(answered=True) == []  # r2 waits
    assert await registry.parked.answer("r2", {"allowed": False}) is True
    assert await registry.parked.sessions() == [B] and await registry.parked.sessions(answered=True) == [A]
    assert await registry.parked.answer("missing", {"allowed": True}) is False
    assert (await registry.parked.of_session(A))[0].decision == {"allowed": True}

    assert await registry.parked.delete(["r1", "r2"]) == 2
    assert await registry.parked.of_session(A) == []
    assert await registry.parked.sessions() == [B] and await registry.parked.sessions(answered=True) == []
    assert await registry.parked.delete_session(B) == 1
    assert await registry.parked.sessions() == []
