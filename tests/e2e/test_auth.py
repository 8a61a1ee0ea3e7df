"""API-key authentication and the loopback rule."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from servers import ServerProcess, clean_env, running_server

pytestmark = pytest.mark.e2e
KEY = "test-key-0123456789"


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory.mktemp("keyed"), "--demo", api_key=KEY) as server:
        yield server


def test_health_ping_and_docs_need_no_key(keyed: ServerProcess) -> None:
    for path in ("/health", "/ping", "/docs", "/openapi.json"):
        assert httpx.get(keyed.url + path).status_code == 200, path


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"x-api-key": "wrong"}, {"Authorization": KEY}, {"Authorization": "Basic " + KEY}],
)
def test_protected_routes_need_the_key(keyed: ServerProcess, headers: dict[str, str]) -> None:
    for method, path in (("GET", "/sessions"), ("POST", "/sessions"), ("POST", "/invocations"), ("GET", "/sessions/available")):
        reply = httpx.request(method, keyed.url + path, headers=headers, json={})
        assert reply.status_code == 401, (method, path)
        assert "API key" in reply.json()["detail"]


def test_bearer_and_x_api_key_both_work(keyed: ServerProcess) -> None:
    assert httpx.get(keyed.url + "/sessions", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
    assert httpx.get(keyed.url + "/sessions", headers={"x-api-key": KEY}).status_code == 200


def test_sessions_work_with_a_key(keyed: ServerProcess) -> None:
    # The demo sessions' CLI must present the server's key to the demo model route too.
    with keyed.client() as http:
        session_id = http.post("/sessions", json={}).json()["session_id"]
        reply = http.post(f"/sessions/{session_id}/messages", json={"message": "hello"}).json()
        assert reply["is_error"] is False and "demo model" in reply["result"]
        http.delete(f"/sessions/{session_id}")


def test_non_loopback_bind_without_key_is_refused(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "claude_agent_server.cli", "--host", "0.0.0.0", "--port", "0", "--workspace", str(tmp_path)],
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert "refusing to bind 0.0.0.0 without authentication" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_session_cli_holds_its_own_model_key_never_the_server_key(keyed: ServerProcess) -> None:
    from e2e_support import answer, send_in_background, wait_for_permissions

    with keyed.client() as http:
        session_id = http.post("/sessions", json={}).json()["session_id"]
        out = keyed.workspace / f"env-{session_id}.txt"
        turn = send_in_background(keyed, session_id, f"run `printenv ANTHROPIC_API_KEY AGENT_SERVER_API_KEY > {out.name}; echo done`")
        [request] = wait_for_permissions(http, session_id)
        answer(http, session_id, request["request_id"], True)
        assert turn.result().status_code == 200
        seen = out.read_text()
        assert KEY not in seen and "AGENT_SERVER" not in seen
        [model_key] = seen.split()  # ANTHROPIC_API_KEY only: the server's settings are blank
        history = http.get(f"/sessions/{session_id}/history").text
        assert KEY not in history

        as_tool = {"x-api-key": model_key}
        count = {"model": "demo", "messages": [{"role": "user", "content": "hi"}]}
        assert httpx.post(f"{keyed.url}/demo/v1/messages/count_tokens", json=count, headers=as_tool).status_code == 200
        for method, path in (("GET", "/sessions"), ("POST", "/sessions"), ("GET", f"/sessions/{session_id}/status"),
                             ("POST", f"/sessions/{session_id}/permissions/respond"), ("POST", "/invocations"), ("GET", "/events")):
            assert httpx.request(method, keyed.url + path, headers=as_tool, json={}).status_code == 401, (method, path)
        http.delete(f"/sessions/{session_id}")
        assert httpx.post(f"{keyed.url}/demo/v1/messages/count_tokens", json=count, headers=as_tool).status_code == 401
