"""Large messages end to end (real server, real CLI, demo model): a reply larger than the
SDK's default 1 MiB line buffer arrives whole, and a prompt longer than Claude Code takes
is refused up front with 413 on every prompt route, in each one's error shape, leaving
every session able to take its next message."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from claude_agent_server.api.invocations import SESSION_HEADER
from claude_agent_server.demo.model import long_text
from claude_agent_server.sessions.prompt import MAX_PROMPT_CHARACTERS
from e2e_support import reply_text, status
from servers import ServerProcess

pytestmark = pytest.mark.e2e

LONG = 1_500_000
"""Bytes of the long reply: over the SDK's default line buffer (1 MiB), which ended such a turn."""
TOO_LONG = "x" * (MAX_PROMPT_CHARACTERS + 1)


@pytest.fixture
def openai_client(server: ServerProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", timeout=120, max_retries=0)


def test_a_reply_over_one_mib_arrives_whole_and_the_session_lives_on(http: httpx.Client, session: str) -> None:
    reply = http.post(f"/sessions/{session}/messages", json={"message": f"reply with {LONG} bytes"}, timeout=120).json()
    assert reply["is_error"] is False, reply.get("error")
    assert reply_text(reply) == long_text(LONG) and reply["result"] == long_text(LONG)
    streamed = []
    with http.stream("POST", f"/sessions/{session}/messages", json={"message": f"reply with {LONG} bytes", "stream": True}) as frames:
        for line in frames.iter_lines():
            if line.startswith("data:"):
                event = json.loads(line[5:])
                if event["type"] == "text_delta":
                    streamed.append(event["text"])
    assert "".join(streamed) == long_text(LONG)
    assert status(http, session)["status"] == "connected"  # not hibernated by a dead CLI
    after = http.post(f"/sessions/{session}/messages", json={"message": "which model"}).json()
    assert after["is_error"] is False and "demo model" in reply_text(after)


def test_a_gateway_reply_over_one_mib_arrives_whole(openai_client: openai.OpenAI) -> None:
    messages = [{"role": "user", "content": f"reply with {LONG} bytes"}]
    reply = openai_client.chat.completions.create(model="sonnet", messages=messages)  # type: ignore[arg-type]
    assert reply.choices[0].message.content == long_text(LONG)
    stream = openai_client.chat.completions.create(model="sonnet", messages=messages, stream=True)  # type: ignore[arg-type]
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == long_text(LONG)


def test_a_prompt_longer_than_claude_code_takes_is_413_on_every_route_and_harms_no_session(
    http: httpx.Client, session: str, openai_client: openai.OpenAI
) -> None:
    before = {s["session_id"] for s in http.get("/sessions", params={"limit": 500}).json()["sessions"]}
    limit = f"at most {MAX_PROMPT_CHARACTERS}"

    rest = http.post(f"/sessions/{session}/messages", json={"message": TOO_LONG})
    assert rest.status_code == 413 and limit in rest.json()["detail"]
    agentcore = http.post("/invocations", json={"prompt": TOO_LONG}, headers={SESSION_HEADER: "large-prompt-" + "a" * 30})
    assert agentcore.status_code == 413 and limit in agentcore.json()["detail"]
    opencode = http.post("/session", json={}).json()["id"]
    for route in ("message", "prompt_async"):
        refused = http.post(f"/session/{opencode}/{route}", json={"parts": [{"type": "text", "text": TOO_LONG}]})
        assert refused.status_code == 413 and set(refused.json()) == {"name", "data"}, (route, refused.text[:200])
        assert limit in refused.json()["data"]["message"]
    with pytest.raises(openai.APIStatusError) as gateway:
        openai_client.chat.completions.create(model="sonnet", messages=[{"role": "user", "content": TOO_LONG}])
    assert gateway.value.status_code == 413 and gateway.value.code == "context_length_exceeded"
    assert gateway.value.body["param"] == "messages" and limit in gateway.value.body["message"]  # type: ignore[index]
    assert "x-session-id" not in gateway.value.response.headers

    # Nothing was sent, no session was made for a refused prompt, and each one takes its next message.
    after = http.post(f"/sessions/{session}/messages", json={"message": "which model"}).json()
    assert after["is_error"] is False
    answered = http.post(f"/session/{opencode}/message", json={"parts": [{"type": "text", "text": "which model"}]})
    assert answered.status_code == 200 and "demo model" in json.dumps(answered.json()["parts"])
    now = {s["session_id"]: s for s in http.get("/sessions", params={"limit": 500}).json()["sessions"]}
    assert now[session]["turns"] == 1  # the refused prompt never made a turn
    assert {s["origin"] for sid, s in now.items() if sid not in before} == {"opencode"}
