"""Sandboxed sessions reach Bedrock, Vertex and an OAuth-logged-in Anthropic through the server (real CLI).

Each test runs a fake provider (``fake_upstreams``) as the server's own upstream, with fake
credentials in the server's environment, and a sandboxed session whose turn (an approved Bash
tool running ``printenv``) goes to the fake: the fake sees the server's credential (a SigV4
signature that botocore verifies, a Google access token, an OAuth bearer), the session's
environment holds none of it, and the turn completes with the demo model's reply.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from claude_agent_server.upstream import OAUTH_BETA
from e2e_support import bypass_session as new_session, reply_text, run_bash as run
from fake_upstreams import anthropic_app, bedrock_app, service_account, sigv4_valid, vertex_app
from servers import free_port, running_server, serving

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")]

AWS_KEY_ID = "AKIAFAKESERVERKEY0001"
AWS_SECRET = "fake-aws-secret-Kq7-0123456789abcdefghij"
AWS_TOKEN = "fake-aws-session-token-Pz2-0123456789"
SERVER_KEY = "srv-key-Up7-0123456789abcdef"
OAUTH = "sk-ant-oat01-fake-Vb8-0123456789abcdef"


def model_key(env: str) -> str:
    """The session's model key, from its ``printenv`` (the only credential it holds)."""
    match = re.search(r"^ANTHROPIC_AUTH_TOKEN=(\S+)$", env, re.MULTILINE) or re.search(r"^ANTHROPIC_API_KEY=(\S+)$", env, re.MULTILINE)
    assert match, env
    return match.group(1)


def recalls(http: httpx.Client, session_id: str) -> None:
    """A second and third turn work through the pass-through, the earlier turn's text reaching the model."""
    assert http.post(f"/sessions/{session_id}/messages", json={"message": "remember that my colour is teal"}).status_code == 200
    again = http.post(f"/sessions/{session_id}/messages", json={"message": "what did I ask you to remember?"})
    assert again.status_code == 200 and "teal" in reply_text(again.json())


def test_bedrock_requests_are_signed_by_the_server(tmp_path: Path) -> None:
    seen: list[dict[str, Any]] = []
    port = free_port()
    env = {
        "CLAUDE_CODE_USE_BEDROCK": "1", "AWS_REGION": "eu-central-1", "AWS_ACCESS_KEY_ID": AWS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": AWS_SECRET, "AWS_SESSION_TOKEN": AWS_TOKEN, "ANTHROPIC_BEDROCK_BASE_URL": f"http://127.0.0.1:{port}",
    }
    with serving(bedrock_app(seen), port, "fake-bedrock"), \
            running_server(tmp_path, "--warm-sessions", "0", api_key=SERVER_KEY, env=env) as server, \
            server.client() as http:
        (server.workspace / "a").mkdir()
        a = new_session(http, "a")
        printed = run(http, a, "printenv")
        assert "rc=0" in printed
        for secret in (AWS_KEY_ID, AWS_SECRET, AWS_TOKEN, SERVER_KEY, f"127.0.0.1:{port}"):
            assert secret not in printed
        assert "AWS_ACCESS_KEY_ID" not in printed and "AWS_SECRET_ACCESS_KEY" not in printed
        assert f"ANTHROPIC_BEDROCK_BASE_URL={server.url}/upstream/bedrock" in printed
        assert "CLAUDE_CODE_USE_BEDROCK=1" in printed and "AWS_REGION=eu-central-1" in printed
        key = model_key(printed)
        recalls(http, a)

        assert len(seen) >= 4  # the tool call, its result, and the two turns of recalls
        for request in seen:
            assert re.fullmatch(r"/model/[A-Za-z0-9._:-]+/invoke-with-response-stream", request["path"]), request["path"]
            authorization = request["headers"]["authorization"]
            assert authorization.startswith(f"AWS4-HMAC-SHA256 Credential={AWS_KEY_ID}/"), authorization
            assert "/eu-central-1/bedrock/aws4_request" in authorization
            assert request["headers"]["x-amz-security-token"] == AWS_TOKEN
            assert sigv4_valid(request, AWS_SECRET)  # botocore recomputes the signature over what arrived
            assert not sigv4_valid(request, AWS_SECRET + "x")
            assert key not in json.dumps(request["headers"])  # the session's key stays at the server
            assert json.loads(request["body"])["anthropic_version"] == "bedrock-2023-05-31"  # the CLI's body, as it was

        forwarded = len(seen)
        auth = {"Authorization": f"Bearer {key}"}
        assert http.post("/upstream/bedrock/model/a%20b/invoke", json={}, headers=auth).status_code == 400
        assert http.post("/upstream/bedrock/model/m/converse", json={}, headers=auth).status_code == 422
        assert http.get("/upstream/bedrock/inference-profiles", headers=auth).status_code in (404, 405)
        assert httpx.post(f"{server.url}/upstream/bedrock/model/m/invoke", json={}).status_code == 401  # no key, nothing sent
        assert len(seen) == forwarded  # none of these reached the provider


def test_a_claude_code_oauth_token_is_sent_by_the_server(tmp_path: Path) -> None:
    seen: list[dict[str, Any]] = []
    port = free_port()
    env = {"CLAUDE_CODE_OAUTH_TOKEN": OAUTH, "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{port}"}
    with serving(anthropic_app(seen), port, "fake-anthropic"), running_server(tmp_path, "--warm-sessions", "0", env=env) as server, \
            server.client() as http:
        (server.workspace / "a").mkdir()
        a = new_session(http, "a")
        printed = run(http, a, "printenv")
        assert OAUTH not in printed and "CLAUDE_CODE_OAUTH_TOKEN" not in printed and f"127.0.0.1:{port}" not in printed
        assert f"ANTHROPIC_BASE_URL={server.url}/upstream" in printed
        key = model_key(printed)
        recalls(http, a)
        assert len(seen) >= 4
        for headers in seen:
            assert headers["authorization"] == f"Bearer {OAUTH}" and "x-api-key" not in headers
            betas = headers["anthropic-beta"].split(",")
            assert OAUTH_BETA in betas and "claude-code-20250219" in betas  # the CLI's betas kept, OAuth's added
            assert key not in json.dumps(headers)


def test_vertex_requests_carry_the_servers_google_token(tmp_path: Path) -> None:
    seen: list[dict[str, Any]] = []
    tokens: list[str] = []
    port = free_port()
    adc = tmp_path / "adc.json"  # outside the server's HOME: the sandbox hides it because the environment names it
    account = service_account(f"http://127.0.0.1:{port}/token")
    adc.write_text(json.dumps(account))
    adc.chmod(0o600)
    private = account["private_key"].splitlines()[1]
    env = {
        "CLAUDE_CODE_USE_VERTEX": "1", "ANTHROPIC_VERTEX_PROJECT_ID": "proj-fake", "CLOUD_ML_REGION": "us-east5",
        "ANTHROPIC_VERTEX_BASE_URL": f"http://127.0.0.1:{port}/v1", "GOOGLE_APPLICATION_CREDENTIALS": str(adc),
    }
    with serving(vertex_app(seen, tokens), port, "fake-vertex"), running_server(tmp_path, "--warm-sessions", "0", env=env) as server, \
            server.client() as http:
        (server.workspace / "a").mkdir()
        a = new_session(http, "a")
        printed = run(http, a, "printenv")
        assert private not in printed and "GOOGLE_APPLICATION_CREDENTIALS" not in printed and f"127.0.0.1:{port}" not in printed
        assert f"ANTHROPIC_VERTEX_BASE_URL={server.url}/upstream/vertex" in printed and "CLAUDE_CODE_USE_VERTEX=1" in printed
        key = model_key(printed)
        assert private not in run(http, a, f"cat {adc}")  # the credentials file reads empty inside
        recalls(http, a)

        assert tokens == ["ya29.fake-1"]  # one refresh, the token reused until it nears expiry
        assert len(seen) >= 4
        for request in seen:
            assert request["path"].startswith("/v1/projects/proj-fake/locations/us-east5/publishers/anthropic/models/")
            assert request["path"].endswith(":streamRawPredict")
            assert request["headers"]["authorization"] == "Bearer ya29.fake-1"
            assert key not in json.dumps(request["headers"])
            assert json.loads(request["body"])["anthropic_version"] == "vertex-2023-10-16"
        other = http.post(
            "/upstream/vertex/projects/another/locations/us-east5/publishers/anthropic/models/m:rawPredict",
            json={"messages": []}, headers={"Authorization": f"Bearer {key}"},
        )
        assert other.status_code == 400 and "proj-fake" in other.json()["error"]["message"]
