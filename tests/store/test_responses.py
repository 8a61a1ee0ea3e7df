"""Stored Responses-API responses: round trip, unicode and NUL in the body, delete."""

from __future__ import annotations

from claude_agent_server.store import ResponseRecord, SqlRegistry, utcnow

A = "6f1c2a9e-0000-4000-8000-00000000000a"


async def test_response_round_trip_and_delete(registry: SqlRegistry) -> None:
    assert await registry.responses.get("resp_missing") is None
    record = ResponseRecord(
        "resp_1", A, 2, "uuid-1", None, utcnow(),
        {"id": "resp_1", "output": [{"text": "héllo \u0000 😀"}]}, [{"type": "message", "role": "user", "content": "hi"}],
    )
    await registry.responses.put(record)
    got = await registry.responses.get("resp_1")
    assert got is not None and got.body == record.body and got.input == record.input
    assert (got.session_id, got.turn, got.message_uuid) == (A, 2, "uuid-1")
    assert await registry.responses.delete("resp_1") is True
    assert await registry.responses.delete("resp_1") is False
    assert await registry.responses.get("resp_1") is None
