"""The upstream pass-through's parts: which credential, how Bedrock requests are signed and framed,
which Vertex calls pass, what a sandboxed CLI is told; the fake providers served over real HTTP."""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.eventstream import EventStreamBuffer

from claude_agent_server.sessions.options import ModelRoute, session_env
from claude_agent_server.sessions.sandbox import FORWARDED
from claude_agent_server.upstream import (
    OAUTH_BETA, AnthropicUpstream, BedrockUpstream, NoCredentials, Upstream, VertexUpstream, credential_paths,
)
from fake_upstreams import bedrock_app, sigv4_valid
from servers import free_port, serving

SECRET = "unit-secret-0123456789abcdefghijklmnop"


def login(path: Path, token: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"claudeAiOauth": {"accessToken": token, "refreshToken": "r", "expiresAt": 0}}))


def test_credentials_as_claude_code_reads_them(tmp_path: Path) -> None:
    both = AnthropicUpstream.from_environment({"ANTHROPIC_API_KEY": "k", "ANTHROPIC_AUTH_TOKEN": "t", "CLAUDE_CODE_OAUTH_TOKEN": "o"})
    assert both.credential("b1") == {"x-api-key": "k", "authorization": "Bearer t"}  # both sent, as the CLI does; no OAuth
    oauth = AnthropicUpstream.from_environment({"CLAUDE_CODE_OAUTH_TOKEN": "o", "HOME": str(tmp_path)})
    assert oauth.credential("claude-code-20250219,effort-2025-11-24") == {
        "authorization": "Bearer o", "anthropic-beta": f"claude-code-20250219,effort-2025-11-24,{OAUTH_BETA}",
    }
    assert oauth.credential(f"{OAUTH_BETA},x")["anthropic-beta"] == f"{OAUTH_BETA},x"  # not twice
    assert oauth.credential(None)["anthropic-beta"] == OAUTH_BETA
    nothing = AnthropicUpstream.from_environment({"HOME": str(tmp_path)})
    assert nothing.credential("b") == {} and nothing.kind == "no credential" and nothing.base_url == "https://api.anthropic.com"


def test_a_login_file_is_read_again_when_it_changes(tmp_path: Path) -> None:
    upstream = AnthropicUpstream.from_environment({"HOME": str(tmp_path)})
    assert upstream.credential(None) == {}  # not logged in (yet)
    path = tmp_path / ".claude" / ".credentials.json"
    login(path, "sk-ant-oat01-first")
    assert upstream.credential(None)["authorization"] == "Bearer sk-ant-oat01-first" and upstream.kind == "Claude Code OAuth login"
    login(path, "sk-ant-oat01-second-refreshed")  # Claude Code refreshed the login
    os.utime(path, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    assert upstream.credential(None)["authorization"] == "Bearer sk-ant-oat01-second-refreshed"
    path.write_text("{not json")
    os.utime(path, ns=(time.time_ns() + 2 * 10**9, time.time_ns() + 2 * 10**9))
    assert upstream.credential(None) == {}
    elsewhere = tmp_path / "config"
    login(elsewhere / ".credentials.json", "sk-ant-oat01-config-dir")
    moved = AnthropicUpstream.from_environment({"HOME": str(tmp_path), "CLAUDE_CONFIG_DIR": str(elsewhere)})
    assert moved.credential(None)["authorization"] == "Bearer sk-ant-oat01-config-dir"


def test_which_upstream_and_what_a_sandboxed_cli_is_told() -> None:
    bedrock = Upstream.from_environment({"CLAUDE_CODE_USE_BEDROCK": "1", "AWS_REGION": "ap-south-1", "AWS_SECRET_ACCESS_KEY": "s"})
    assert bedrock.bedrock is not None and bedrock.anthropic is None and bedrock.vertex is None
    assert bedrock.bedrock.base_url == "https://bedrock-runtime.ap-south-1.amazonaws.com"
    route = ModelRoute("http://srv/upstream", "mk", env=bedrock.route_env("http://srv", "mk"))
    env = session_env(route, None)
    assert env["CLAUDE_CODE_USE_BEDROCK"] == "1" and env["CLAUDE_CODE_SKIP_BEDROCK_AUTH"] == "1"
    assert env["ANTHROPIC_BEDROCK_BASE_URL"] == "http://srv/upstream/bedrock" and env["AWS_REGION"] == "ap-south-1"
    assert env["ANTHROPIC_AUTH_TOKEN"] == "mk" and env["ANTHROPIC_API_KEY"] == "" and "s" not in env.values()
    vertex = Upstream.from_environment({"CLAUDE_CODE_USE_VERTEX": "true", "ANTHROPIC_VERTEX_PROJECT_ID": "p", "CLOUD_ML_REGION": "global"})
    assert vertex.vertex is not None and vertex.vertex.base_url == "https://aiplatform.googleapis.com/v1"
    told = session_env(ModelRoute("http://srv/upstream", "mk", env=vertex.route_env("http://srv", "mk")), None)
    assert told["CLAUDE_CODE_USE_VERTEX"] == "1" and told["CLAUDE_CODE_USE_BEDROCK"] == "0"
    assert told["ANTHROPIC_VERTEX_BASE_URL"] == "http://srv/upstream/vertex" and told["ANTHROPIC_VERTEX_PROJECT_ID"] == "p"
    plain = session_env(ModelRoute("http://srv/upstream", "mk", env=Upstream.from_environment({}).route_env("http://srv", "mk")), None)
    assert plain["ANTHROPIC_API_KEY"] == "mk" and plain["CLAUDE_CODE_USE_BEDROCK"] == "0"
    assert plain["ANTHROPIC_BEDROCK_BASE_URL"] == plain["ANTHROPIC_VERTEX_BASE_URL"] == ""  # never the server's own


def test_no_credential_is_copied_into_a_sandbox() -> None:
    credentials = {
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_BEARER_TOKEN_BEDROCK", "AWS_PROFILE",
        "GOOGLE_APPLICATION_CREDENTIALS", "CLAUDE_CODE_OAUTH_TOKEN", "AGENT_SERVER_API_KEY",
    }
    assert not credentials & set(FORWARDED)
    env = {"GOOGLE_APPLICATION_CREDENTIALS": "/srv/adc.json", "AWS_SHARED_CREDENTIALS_FILE": "~/aws/creds", "AWS_REGION": "x"}
    assert credential_paths(env) == [Path("/srv/adc.json"), Path("~/aws/creds").expanduser()]


def test_bedrock_calls_have_fixed_shapes() -> None:
    bedrock = BedrockUpstream.from_environment({"AWS_REGION": "us-west-2"})
    arn = "arn:aws:bedrock:us-west-2:123456789012:application-inference-profile/abc123"
    assert bedrock.url(arn, "invoke") == (
        "https://bedrock-runtime.us-west-2.amazonaws.com/model/arn%3Aaws%3Abedrock%3Aus-west-2%3A123456789012%3Aapplication-inference-profile%2Fabc123/invoke"
    )
    for model, action in [("m", "converse"), ("../../x", "invoke"), ("a b", "invoke"), ("m\n", "invoke"), ("", "invoke"), ("x" * 300, "invoke")]:
        with pytest.raises(ValueError):
            bedrock.url(model, action)


def test_vertex_calls_go_to_the_servers_project_and_region_only() -> None:
    vertex = VertexUpstream.from_environment({"ANTHROPIC_VERTEX_PROJECT_ID": "p1", "CLOUD_ML_REGION": "europe-west1"})
    assert vertex.url("p1", "europe-west1", "claude-sonnet-4@20250514", "streamRawPredict") == (
        "https://europe-west1-aiplatform.googleapis.com/v1/projects/p1/locations/europe-west1/publishers/anthropic/models/claude-sonnet-4@20250514:streamRawPredict"
    )
    for args in [("p2", "europe-west1", "m", "rawPredict"), ("p1", "us-east5", "m", "rawPredict"), ("p1", "europe-west1", "m", "predict"),
                 ("p1", "europe-west1", "../m", "rawPredict")]:
        with pytest.raises(ValueError):
            vertex.url(*args)


def test_bedrock_without_aws_credentials_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    with pytest.raises(NoCredentials, match="no AWS credentials"):
        BedrockUpstream.from_environment({}).authenticate("https://h/model/m/invoke", {}, b"{}")
    unsigned = BedrockUpstream.from_environment({"CLAUDE_CODE_SKIP_BEDROCK_AUTH": "1", "ANTHROPIC_AUTH_TOKEN": "gw"})
    assert unsigned.authenticate("https://h/model/m/invoke", {"accept": "a"}, b"") == {"accept": "a", "authorization": "Bearer gw"}
    keyed = BedrockUpstream.from_environment({"AWS_BEARER_TOKEN_BEDROCK": "bk"})
    assert keyed.authenticate("https://h/model/m/invoke", {}, b"") == {"authorization": "Bearer bk"}


async def test_a_signed_streaming_call_over_http_comes_back_frame_for_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server's signature verifies at the provider, and Bedrock's event stream comes back byte for byte."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAUNITTEST00000001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    seen: list[dict[str, Any]] = []
    port = free_port()
    upstream = Upstream.from_environment({"CLAUDE_CODE_USE_BEDROCK": "1", "AWS_REGION": "us-east-1",
                                          "ANTHROPIC_BEDROCK_BASE_URL": f"http://127.0.0.1:{port}"})
    assert upstream.bedrock is not None
    body = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10, "messages": [{"role": "user", "content": "say hello"}]}).encode()
    url = upstream.bedrock.url("us.anthropic.claude-x-v1:0", "invoke-with-response-stream")
    try:
        with serving(bedrock_app(seen), port, "fake-bedrock"):
            headers = upstream.bedrock.authenticate(url, {"content-type": "application/json", "accept": "application/json"}, body)
            answer = await upstream.send(url, headers, body)
            relayed = b"".join([chunk async for chunk in answer.aiter_raw()])
            await answer.aclose()
            direct = httpx.post(f"http://127.0.0.1:{port}/model/m/invoke-with-response-stream", content=body).content
    finally:
        await upstream.aclose()
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/vnd.amazon.eventstream"
    assert seen[0]["raw_path"] == "/model/us.anthropic.claude-x-v1%3A0/invoke-with-response-stream" and seen[0]["body"] == body
    assert sigv4_valid(seen[0], SECRET) and not sigv4_valid(seen[0], SECRET[::-1])
    assert "AKIAUNITTEST00000001/" in seen[0]["headers"]["authorization"] and seen[0]["headers"]["accept-encoding"] == "identity"
    def frames(data: bytes) -> list[Any]:
        buffer = EventStreamBuffer()  # botocore's own parser: prelude and message CRCs checked
        buffer.add_data(data)
        return list(buffer)

    messages = frames(relayed)
    assert all(m.headers[":event-type"] == "chunk" and m.headers[":message-type"] == "event" for m in messages)
    events = [json.loads(base64.b64decode(json.loads(m.payload)["bytes"])) for m in messages]
    assert events[0]["type"] == "message_start" and events[-1]["type"] == "message_stop"
    assert "hello" in json.dumps(events)
    assert len(messages) == len(frames(direct))  # framed as the provider frames its own answer


def test_a_missing_server_credential_is_a_502_not_to_be_retried() -> None:
    """Claude Code retries a 502 for minutes unless told not to (measured: with ``x-should-retry: false``
    a turn on a server without Google credentials ended after one request, in 0.45 s)."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from claude_agent_server.api import proxy
    from claude_agent_server.upstream import UpstreamCredentialsMissing, UpstreamUnreachable

    app = FastAPI()
    proxy.install(app)

    @app.post("/missing")
    async def missing() -> None:
        raise UpstreamCredentialsMissing("the server has no AWS credentials")

    @app.post("/unreachable")
    async def unreachable() -> None:
        raise UpstreamUnreachable("the model upstream could not be reached: ConnectError")

    with TestClient(app) as client:
        answer = client.post("/missing")
        assert answer.status_code == 502 and answer.headers["x-should-retry"] == "false"
        assert answer.json() == {"type": "error", "error": {"type": "api_error", "message": "the server has no AWS credentials"}}
        transient = client.post("/unreachable")
        assert transient.status_code == 502 and "x-should-retry" not in transient.headers  # worth retrying
