"""Structured output over REST: a session created with ``output_format`` answers JSON valid
against its schema, in the blocking reply and the ``result`` event, and keeps it when woken."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import jsonschema
import pytest

pytestmark = pytest.mark.e2e

SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "population": {"type": "integer", "minimum": 1}, "tags": {"type": "array", "items": {"type": "string"}}},
    "required": ["city", "population", "tags"],
    "additionalProperties": False,
}


def test_output_format_gives_structured_output(http: httpx.Client, workdir: Path) -> None:
    created = http.post("/sessions", json={"cwd": str(workdir), "output_format": SCHEMA})
    assert created.status_code == 201, created.text
    session = created.json()["session_id"]
    try:
        streamed = http.post(f"/sessions/{session}/messages", json={"message": "describe Paris", "stream": True})
        assert streamed.status_code == 200, streamed.text
        events = [json.loads(line[5:]) for line in streamed.text.splitlines() if line.startswith("data:")]
        result = next(e for e in events if e.get("type") == "result")
        assert result["is_error"] is False, result
        jsonschema.validate(result["structured_output"], SCHEMA)
        reply = http.post(f"/sessions/{session}/messages", json={"message": "describe Lyon"})
        assert reply.status_code == 200, reply.text
        jsonschema.validate(reply.json()["structured_output"], SCHEMA)
        assert http.post(f"/sessions/{session}/hibernate").status_code == 200
        woken = http.post(f"/sessions/{session}/messages", json={"message": "describe Rome"}).json()
        jsonschema.validate(woken["structured_output"], SCHEMA)  # the woken session kept its output_format
        assert woken["structured_output"]["city"] == "describe Rome"
    finally:
        http.delete(f"/sessions/{session}")


@pytest.mark.parametrize("value", [{"type": "no-such-type"}, [1, 2], "a string"])
def test_bad_output_format_is_422_naming_the_field(http: httpx.Client, value: object) -> None:
    reply = http.post("/sessions", json={"output_format": value})
    assert reply.status_code == 422, reply.text
    assert "output_format" in reply.text
