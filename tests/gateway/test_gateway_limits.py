"""The gateway at the live-session cap, end to end (real server, real CLI, demo model): one
live slot (``--max-live-sessions 1``, no warm sessions), held by a slow turn whose caller
went away mid-stream."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from claude_agent_server.demo.model import SLOW_WORDS
from e2e_support import wait_until
from servers import ServerProcess, running_server

pytestmark = pytest.mark.e2e

KEY = "gateway-limits-key"
SLOW_REPLY = f"Counting slowly: {' '.join(str(n) for n in range(1, SLOW_WORDS + 1))}. Done."


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("gateway-limits")
    with running_server(root, "--demo", "--warm-sessions", "0", "--max-live-sessions", "1", api_key=KEY) as live:
        yield live


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEY, timeout=120, max_retries=0) as sdk:
        yield sdk


def status(http: httpx.Client, session_id: str) -> str:
    return {s["session_id"]: s["status"] for s in http.get("/sessions").json()["sessions"]}[session_id]


def sse_data(response: httpx.Response) -> Iterator[str]:
    for line in response.iter_lines():
        if line.startswith("data:"):
            yield line[5:].strip()


def test_a_caller_gone_mid_stream_holds_the_only_slot_then_its_session_is_reused(client: openai.OpenAI, server: ServerProcess) -> None:
    asked: list[dict[str, Any]] = [{"role": "user", "content": "count slowly"}]
    body = {"model": "sonnet", "messages": asked, "stream": True}
    with httpx.Client(base_url=server.url, headers=server.headers, timeout=120) as http:
        with http.stream("POST", "/v1/chat/completions", json=body) as stream:
            assert stream.status_code == 200
            session_id = stream.headers["x-session-id"]
            for data in sse_data(stream):
                if json.loads(data)["choices"][0]["delta"].get("content"):
                    break  # the first words: the caller goes away
        assert status(http, session_id) == "running"
        # Another conversation while the only live slot runs that turn: 429, not a wait or a 500.
        with pytest.raises(openai.RateLimitError) as limited:
            client.chat.completions.create(model="sonnet", messages=[{"role": "user", "content": "say other"}])
        assert int(limited.value.response.headers["retry-after"]) > 0
        assert limited.value.code == "rate_limit_exceeded" and "x-session-id" not in limited.value.response.headers
        with pytest.raises(openai.RateLimitError):
            client.chat.completions.create(model="sonnet", messages=[{"role": "user", "content": "say other"}], stream=True)
        # The abandoned turn still finishes, and its session is filed under the reply it streamed.
        wait_until(lambda: status(http, session_id) == "connected", timeout=120, what="the slow turn to end")
    asked += [{"role": "assistant", "content": SLOW_REPLY}, {"role": "user", "content": "say continued"}]
    raw = client.chat.completions.with_raw_response.create(model="sonnet", messages=asked)  # type: ignore[arg-type]
    assert raw.headers["x-session-id"] == session_id and raw.parse().choices[0].message.content == "continued"
    assert len(server.cli_processes()) == 1


def test_without_include_usage_a_stream_has_no_usage_chunk(server: ServerProcess) -> None:
    body = {"model": "sonnet", "messages": [{"role": "user", "content": "say plain"}], "stream": True, "stream_options": {"include_usage": False}}
    with httpx.Client(base_url=server.url, headers=server.headers, timeout=120) as http:
        with http.stream("POST", "/v1/chat/completions", json=body) as stream:
            frames = list(sse_data(stream))
    assert frames[-1] == "[DONE]"
    chunks = [json.loads(f) for f in frames[:-1]]
    assert all(c["choices"] and c.get("usage") is None for c in chunks)
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks) == "plain"
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"][0].get("finish_reason")] == ["stop"]
